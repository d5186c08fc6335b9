//! Decode: from a captured frame to the flow-keyed view the rest of sift
//! reads — addresses, transport ports, TCP header, payload.
//!
//! Layers, outermost first: [`link`] (frame to network bytes), [`ip`]
//! (IPv4/IPv6 and extension headers), [`defrag`] (fragments to datagrams),
//! [`tunnel`] (IP-in-IP, GRE), [`udp_tunnel`] (VXLAN, Geneve, GTP-U,
//! Teredo, CAPWAP, TZSP) and [`transport`] (TCP, UDP, SCTP, ICMP, ESP,
//! AH). Every failure is a typed [`DecodeError`] the caller counts; nothing a
//! packet contains can panic a decoder.

pub mod defrag;
pub mod ip;
pub mod link;
pub mod transport;
pub mod tunnel;
pub mod udp_tunnel;

use std::net::IpAddr;

use ip::{proto, IpError, IpPacket};
use link::LinkError;
use transport::{Transport, TransportError};

/// How many tunnel layers are opened before the inner packet is taken as is.
const MAX_TUNNEL_DEPTH: u8 = 4;

/// A packet ready for flow tracking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoded<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IP protocol of the innermost datagram.
    pub proto: u8,
    pub transport: Transport<'a>,
    /// Tunnel layers opened to reach this packet.
    pub tunnels: u8,
    /// The kinds of those tunnels ([`udp_tunnel::Kind::bit`]).
    pub tunnel_kinds: u16,
    /// Some layer announced more bytes than the capture kept.
    pub truncated: bool,
    /// What the innermost IP layer said, for the evasion judge.
    pub ip: IpFacts<'a>,
}

/// The innermost IP layer's facts a receiver judges a packet by, and the
/// transport bytes (header and payload) for checksums and TCP options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IpFacts<'a> {
    /// TTL or hop limit (0: unknown).
    pub ttl: u8,
    /// IPv6 extension headers ([`ip::ext`] bits).
    pub ext: u8,
    /// The datagram came in this many IP fragments (0: not fragmented).
    pub fragments: u16,
    /// Bytes of the fragment at offset 0, and whether fragments arrived out
    /// of order.
    pub first_fragment: u32,
    pub fragments_reordered: bool,
    /// The transport header and payload as captured.
    pub segment: &'a [u8],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(transparent)]
    Ip(#[from] IpError),
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A fragment inside a tunnel: not reassembled (rare; counted).
    #[error("fragment inside a tunnel")]
    InnerFragment,
}

/// Decodes the upper layers of an unfragmented (or reassembled) datagram,
/// opening tunnels. `truncated` carries truncation seen in outer layers.
pub fn upper<'a>(
    src: IpAddr,
    dst: IpAddr,
    ip_proto: u8,
    payload: &'a [u8],
    truncated: bool,
) -> Result<Decoded<'a>, DecodeError> {
    upper_with(src, dst, ip_proto, payload, truncated, IpFacts::default())
}

/// [`upper`], with what the outer IP layer said (`facts`, its `segment`
/// ignored); an opened tunnel's inner header replaces it.
#[inline]
pub fn upper_with<'a>(
    src: IpAddr,
    dst: IpAddr,
    ip_proto: u8,
    payload: &'a [u8],
    truncated: bool,
    facts: IpFacts<'_>,
) -> Result<Decoded<'a>, DecodeError> {
    let (mut src, mut dst, mut ip_proto, mut payload, mut truncated) =
        (src, dst, ip_proto, payload, truncated);
    let mut facts = IpFacts {
        segment: &[],
        ..facts
    };
    let mut tunnels = 0;
    let mut tunnel_kinds = 0;
    loop {
        use udp_tunnel::Kind;
        let inner = if tunnels >= MAX_TUNNEL_DEPTH {
            None
        } else {
            match ip_proto {
                proto::IPIP | proto::IPV6 => Some((Kind::IpInIp, payload)),
                proto::GRE => tunnel::gre(payload).map(|i| (Kind::Gre, i)),
                proto::UDP => udp_tunnel::open(payload),
                _ => None,
            }
        };
        match inner.map(|(kind, bytes)| (kind, ip::parse(bytes))) {
            Some((kind, Ok(ip))) => {
                if ip.fragment.is_some() {
                    return Err(DecodeError::InnerFragment);
                }
                tunnels += 1;
                tunnel_kinds |= kind.bit();
                (src, dst, ip_proto, payload) = (ip.src, ip.dst, ip.proto, ip.payload);
                truncated |= ip.truncated;
                facts = IpFacts {
                    ttl: ip.ttl,
                    ext: ip.ext,
                    ..IpFacts::default()
                };
            }
            // Not a tunnel, or an inner packet too broken to open: the outer
            // datagram is the flow.
            None | Some((_, Err(_))) => {
                let transport = transport::parse(ip_proto, payload)?;
                return Ok(Decoded {
                    src,
                    dst,
                    proto: ip_proto,
                    transport,
                    tunnels,
                    tunnel_kinds,
                    truncated,
                    ip: IpFacts {
                        segment: payload,
                        ..facts
                    },
                });
            }
        }
    }
}

/// A tunnel packet as the flow of its outer endpoints, not opened (the
/// GRE tunnel's own record); `None` if its header is unreadable.
pub fn outer<'a>(
    src: IpAddr,
    dst: IpAddr,
    ip_proto: u8,
    payload: &'a [u8],
    truncated: bool,
) -> Option<Decoded<'a>> {
    Some(Decoded {
        src,
        dst,
        proto: ip_proto,
        transport: transport::parse(ip_proto, payload).ok()?,
        tunnels: 0,
        tunnel_kinds: 0,
        truncated,
        ip: IpFacts::default(),
    })
}

/// Decodes an unfragmented IP packet's upper layers.
#[inline]
pub fn datagram<'a>(ip: &IpPacket<'a>) -> Result<Decoded<'a>, DecodeError> {
    let facts = IpFacts {
        ttl: ip.ttl,
        ext: ip.ext,
        ..IpFacts::default()
    };
    upper_with(
        by_family(&ip.src),
        by_family(&ip.dst),
        ip.proto,
        ip.payload,
        ip.truncated,
        facts,
    )
}

/// A copy of `a` read by its family: an IPv4 address as its four bytes.
/// The header's parse has just written it as a tag and four bytes, and a
/// copy of the whole enum (one 16-byte load over those two stores) waits
/// for both to retire instead of taking their values as they stand.
#[inline(always)]
fn by_family(a: &IpAddr) -> IpAddr {
    match a {
        IpAddr::V4(v4) => IpAddr::V4(std::net::Ipv4Addr::from_bits(v4.to_bits())),
        IpAddr::V6(v6) => IpAddr::V6(*v6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_in_four_opens_to_inner_icmpv6() {
        // IPv4 (proto 41) carrying IPv6 (next header 58, ICMPv6 echo request
        // id 1 seq 1), checksum valid.
        let v6 = |last: u8| {
            let mut a = [0u8; 16];
            a[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
            a[15] = last;
            a
        };
        let mut inner = Vec::new();
        etherparse::PacketBuilder::ipv6(v6(1), v6(2), 64)
            .icmpv6_echo_request(1, 1)
            .write(&mut inner, &[])
            .unwrap();
        let d = upper(
            "192.0.2.1".parse().unwrap(),
            "192.0.2.2".parse().unwrap(),
            41,
            &inner,
            false,
        )
        .unwrap();
        assert_eq!(d.src, "2001:db8::1".parse::<IpAddr>().unwrap());
        assert_eq!((d.proto, d.tunnels), (58, 1));
    }

    #[test]
    fn broken_inner_leaves_outer_flow() {
        let d = upper(
            "192.0.2.1".parse().unwrap(),
            "192.0.2.2".parse().unwrap(),
            4,
            &[0x45, 0, 0],
            false,
        )
        .unwrap();
        assert_eq!((d.proto, d.tunnels), (4, 0));
    }

    /// Frame 1 of gre.pcapng, first 110 bytes: Ethernet, 802.1Q, IPv4
    /// 109.105.228.253 -> 10.177.98.84 carrying PPTP's enhanced GRE (v1, with
    /// sequence and acknowledgement numbers), PPP, then IPv4/UDP SIP
    /// 192.168.10.210:5060 -> 192.168.103.40:5060.
    const GRE_PPTP_SIP: &[u8] = &[
        0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x9c, 0x37, 0xf4, 0x7c, 0x6e, 0x91, 0x81, 0x00, 0x00,
        0x8e, 0x08, 0x00, 0x45, 0x00, 0x01, 0x6e, 0xaf, 0xa5, 0x00, 0x00, 0xf2, 0x2f, 0x58, 0x4f,
        0x6d, 0x69, 0xe4, 0xfd, 0x0a, 0xb1, 0x62, 0x54, 0x30, 0x81, 0x88, 0x0b, 0x01, 0x4a, 0x98,
        0x50, 0x00, 0x00, 0x00, 0x6a, 0x00, 0x00, 0x00, 0x8c, 0xff, 0x03, 0x00, 0x21, 0x45, 0xa0,
        0x01, 0x46, 0x38, 0xc1, 0x00, 0x00, 0x3f, 0x11, 0x4d, 0xfb, 0xc0, 0xa8, 0x0a, 0xd2, 0xc0,
        0xa8, 0x67, 0x28, 0x13, 0xc4, 0x13, 0xc4, 0x01, 0x32, 0x57, 0xd5, 0x53, 0x49, 0x50, 0x2f,
        0x32, 0x2e, 0x30, 0x20, 0x31, 0x30, 0x30, 0x20, 0x54, 0x72, 0x79, 0x69, 0x6e, 0x67, 0x0d,
        0x0a, 0x56, 0x69, 0x61, 0x3a,
    ];

    /// Frame 1 of 6in4tunnel.pcap, first 100 bytes: Ethernet, IPv4 (protocol
    /// 41) carrying an IPv6 ICMPv6 echo request
    /// 2001:470:1f17:13f:3e97:eff:fe73:4dec -> 2604:a880:1:20::224:b001.
    const SIX_IN_FOUR: &[u8] = &[
        0x00, 0x22, 0x90, 0xde, 0x3b, 0xd9, 0x00, 0x00, 0x24, 0xce, 0x81, 0x34, 0x08, 0x00, 0x45,
        0x00, 0x00, 0x7c, 0xb5, 0x81, 0x40, 0x00, 0xff, 0x29, 0x17, 0x37, 0xae, 0x03, 0x49, 0x18,
        0xb8, 0x69, 0xff, 0x1a, 0x60, 0x00, 0x00, 0x00, 0x00, 0x40, 0x3a, 0x3f, 0x20, 0x01, 0x04,
        0x70, 0x1f, 0x17, 0x01, 0x3f, 0x3e, 0x97, 0x0e, 0xff, 0xfe, 0x73, 0x4d, 0xec, 0x26, 0x04,
        0xa8, 0x80, 0x00, 0x01, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x02, 0x24, 0xb0, 0x01, 0x80,
        0x00, 0xe0, 0xbd, 0x5d, 0x8f, 0x01, 0x5a, 0x5d, 0x4e, 0x15, 0x56, 0x00, 0x00, 0x00, 0x00,
        0xa8, 0xdd, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11,
    ];

    fn from_frame(frame: &[u8]) -> Decoded<'_> {
        let net = link::decode(crate::capture::LinkType::ETHERNET, frame).unwrap();
        datagram(&ip::parse(net.bytes).unwrap()).unwrap()
    }

    #[test]
    fn real_pptp_gre_opens_to_sip() {
        let d = from_frame(GRE_PPTP_SIP);
        assert_eq!(
            (d.src, d.dst),
            (
                "192.168.10.210".parse().unwrap(),
                "192.168.103.40".parse().unwrap()
            )
        );
        assert_eq!(
            (
                d.proto,
                d.transport.src_port,
                d.transport.dst_port,
                d.tunnels
            ),
            (17, 5060, 5060, 1)
        );
        assert!(d.truncated, "the fixture is cut short of the IP length");
        assert!(d.transport.payload.starts_with(b"SIP/2.0 100 Trying"));
    }

    #[test]
    fn real_six_in_four() {
        let d = from_frame(SIX_IN_FOUR);
        assert_eq!(d.dst, "2604:a880:1:20::224:b001".parse::<IpAddr>().unwrap());
        assert_eq!((d.proto, d.tunnels), (ip::proto::ICMPV6, 1));
        assert_eq!(
            d.transport.header,
            transport::Header::Icmp { kind: 128, code: 0 }
        );
    }
}
