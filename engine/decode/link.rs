//! Link layers: from a captured frame to the network-layer bytes inside it.
//!
//! Every link type of the nDPI regression corpus and the usual others are
//! read: Ethernet (802.1Q/802.1ad/QinQ tags, MPLS label stacks, PPPoE
//! sessions), Linux cooked v1 and v2, raw IPv4/IPv6 under each DLT number,
//! BSD null/loopback (either byte order), PPP (with or without HDLC framing),
//! PPPoE-framed PPP, Cisco HDLC, PPI and ERF (Ethernet, IPv4, IPv6, PoS records).
//! Anything else is [`LinkError::Unsupported`], for the caller to count.

use crate::capture::LinkType;

pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_IPV6: u16 = 0x86DD;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88A8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
const ETHERTYPE_MPLS: u16 = 0x8847;
const ETHERTYPE_MPLS_MULTI: u16 = 0x8848;
const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;
/// Ethernet frames nested behind some encapsulations (GRE, VXLAN) use this.
pub const ETHERTYPE_TEB: u16 = 0x6558;

/// Network-layer bytes found inside a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network<'a> {
    /// The EtherType saying what `bytes` holds (IPv4 or IPv6 once it is IP).
    pub ethertype: u16,
    pub bytes: &'a [u8],
    /// The outermost 802.1Q VLAN id, when the frame had a tag.
    pub vlan: Option<u16>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("unsupported link type {0}")]
    Unsupported(LinkType),
    #[error("frame too short for its {0} header")]
    Truncated(&'static str),
    #[error("not IP (EtherType {0:#06x})")]
    NotIp(u16),
}

/// A big-endian `u16` at `at` of a frame whose length was checked.
fn be16(b: &[u8], at: usize) -> u16 {
    crate::bytes::be16(b, at).unwrap_or(0)
}

/// Finds the network layer of a frame of link type `link`.
pub fn decode(link: LinkType, frame: &[u8]) -> Result<Network<'_>, LinkError> {
    decode_depth(link, frame, 0)
}

fn decode_depth(link: LinkType, frame: &[u8], depth: u8) -> Result<Network<'_>, LinkError> {
    let net = match link {
        LinkType::ETHERNET => return ethernet(frame),
        LinkType::RAW | LinkType::RAW_BSD | LinkType::RAW_OPENBSD => by_version(frame)?,
        LinkType::IPV4 => ip(ETHERTYPE_IPV4, frame),
        LinkType::IPV6 => ip(ETHERTYPE_IPV6, frame),
        LinkType::NULL | LinkType::LOOP => null(frame)?,
        LinkType::PPP | LinkType::PPP_HDLC => ppp(frame)?,
        LinkType::PPP_ETHER => pppoe(frame)?,
        LinkType::C_HDLC => cisco_hdlc(frame)?,
        LinkType::LINUX_SLL => {
            if frame.len() < 16 {
                return Err(LinkError::Truncated("Linux cooked"));
            }
            after_ethertype(be16(frame, 14), &frame[16..], None)?
        }
        LinkType::LINUX_SLL2 => {
            if frame.len() < 20 {
                return Err(LinkError::Truncated("Linux cooked v2"));
            }
            after_ethertype(be16(frame, 0), &frame[20..], None)?
        }
        LinkType::PPI if depth == 0 => {
            if frame.len() < 8 {
                return Err(LinkError::Truncated("PPI"));
            }
            let len = usize::from(u16::from_le_bytes([frame[2], frame[3]]));
            let dlt = u32::from_le_bytes([frame[4], frame[5], frame[6], frame[7]]);
            if len < 8 || len > frame.len() || dlt > 0xffff {
                return Err(LinkError::Truncated("PPI"));
            }
            return decode_depth(LinkType(dlt as u16), &frame[len..], depth + 1);
        }
        LinkType::ERF => return erf(frame),
        other => return Err(LinkError::Unsupported(other)),
    };
    require_ip(net)
}

fn ip(ethertype: u16, bytes: &[u8]) -> Network<'_> {
    Network {
        ethertype,
        bytes,
        vlan: None,
    }
}

fn require_ip(net: Network<'_>) -> Result<Network<'_>, LinkError> {
    match net.ethertype {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => Ok(net),
        other => Err(LinkError::NotIp(other)),
    }
}

/// Raw IP with the version taken from the first nibble.
fn by_version(bytes: &[u8]) -> Result<Network<'_>, LinkError> {
    match bytes.first().map(|b| b >> 4) {
        Some(4) => Ok(ip(ETHERTYPE_IPV4, bytes)),
        Some(6) => Ok(ip(ETHERTYPE_IPV6, bytes)),
        Some(_) => Err(LinkError::NotIp(0)),
        None => Err(LinkError::Truncated("raw IP")),
    }
}

/// BSD loopback: a 4-byte address family, in the writer's byte order for
/// DLT_NULL and big-endian for DLT_LOOP; both orders are accepted.
fn null(frame: &[u8]) -> Result<Network<'_>, LinkError> {
    if frame.len() < 4 {
        return Err(LinkError::Truncated("null/loopback"));
    }
    let le = u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]);
    let be = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
    let family = if le < 256 { le } else { be };
    let rest = &frame[4..];
    match family {
        2 => Ok(ip(ETHERTYPE_IPV4, rest)),
        // AF_INET6 is 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS).
        24 | 28 | 30 => Ok(ip(ETHERTYPE_IPV6, rest)),
        _ => Err(LinkError::NotIp(family as u16)),
    }
}

/// Cisco HDLC: address (0x0f unicast, 0x8f broadcast), control, EtherType.
fn cisco_hdlc(frame: &[u8]) -> Result<Network<'_>, LinkError> {
    if frame.len() < 4 {
        return Err(LinkError::Truncated("Cisco HDLC"));
    }
    after_ethertype(be16(frame, 2), &frame[4..], None)
}

/// PPP with optional HDLC address/control bytes and a 1- or 2-byte protocol.
/// Some systems (BSD/OS, Cisco captures) write Cisco HDLC frames under the
/// PPP link type; those start with a Cisco address byte and are read as such.
fn ppp(frame: &[u8]) -> Result<Network<'_>, LinkError> {
    if let [0x0f | 0x8f, 0x00, ..] = frame {
        return cisco_hdlc(frame);
    }
    let mut b = frame;
    if b.len() >= 2 && b[0] == 0xff && b[1] == 0x03 {
        b = &b[2..];
    }
    ppp_protocol(b)
}

fn ppp_protocol(b: &[u8]) -> Result<Network<'_>, LinkError> {
    let (proto, rest) = match b {
        [p, rest @ ..] if p & 1 == 1 => (u16::from(*p), rest),
        [hi, lo, rest @ ..] => (u16::from_be_bytes([*hi, *lo]), rest),
        _ => return Err(LinkError::Truncated("PPP")),
    };
    match proto {
        0x0021 => Ok(ip(ETHERTYPE_IPV4, rest)),
        0x0057 => Ok(ip(ETHERTYPE_IPV6, rest)),
        other => Err(LinkError::NotIp(other)),
    }
}

fn pppoe(b: &[u8]) -> Result<Network<'_>, LinkError> {
    if b.len() < 6 {
        return Err(LinkError::Truncated("PPPoE"));
    }
    ppp_protocol(&b[6..])
}

/// Ethernet II (or 802.3 with a length, which carries no IP here).
pub fn ethernet(frame: &[u8]) -> Result<Network<'_>, LinkError> {
    if frame.len() < 14 {
        return Err(LinkError::Truncated("Ethernet"));
    }
    let ethertype = be16(frame, 12);
    if ethertype <= 1500 {
        return Err(LinkError::NotIp(ethertype));
    }
    after_ethertype(ethertype, &frame[14..], None).and_then(require_ip)
}

/// Follows VLAN tags, MPLS labels and PPPoE sessions to the payload.
fn after_ethertype(
    mut ethertype: u16,
    mut b: &[u8],
    mut vlan: Option<u16>,
) -> Result<Network<'_>, LinkError> {
    // Tag stacks deeper than this are not real traffic.
    for _ in 0..8 {
        match ethertype {
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD => {
                if b.len() < 4 {
                    return Err(LinkError::Truncated("802.1Q tag"));
                }
                vlan.get_or_insert(be16(b, 0) & 0x0fff);
                ethertype = be16(b, 2);
                b = &b[4..];
            }
            ETHERTYPE_MPLS | ETHERTYPE_MPLS_MULTI => {
                // Pop labels to the bottom of the stack, then guess by version.
                loop {
                    if b.len() < 4 {
                        return Err(LinkError::Truncated("MPLS label"));
                    }
                    let bottom = b[2] & 1 == 1;
                    b = &b[4..];
                    if bottom {
                        break;
                    }
                }
                return by_version(b).map(|n| Network { vlan, ..n });
            }
            ETHERTYPE_PPPOE_SESSION => {
                return pppoe(b).map(|n| Network { vlan, ..n });
            }
            _ => {
                return Ok(Network {
                    ethertype,
                    bytes: b,
                    vlan,
                })
            }
        }
    }
    Err(LinkError::NotIp(ethertype))
}

/// Endace ERF: a 16-byte record header, optional 8-byte extension headers,
/// then (for Ethernet) 2 bytes of padding.
fn erf(frame: &[u8]) -> Result<Network<'_>, LinkError> {
    if frame.len() < 16 {
        return Err(LinkError::Truncated("ERF"));
    }
    let kind = frame[8];
    let mut at = 16;
    let mut more = kind & 0x80 != 0;
    while more {
        let Some(ext) = frame.get(at) else {
            return Err(LinkError::Truncated("ERF extension"));
        };
        more = ext & 0x80 != 0;
        at += 8;
    }
    let rest = frame
        .get(at..)
        .ok_or(LinkError::Truncated("ERF extension"))?;
    match kind & 0x7f {
        // ETH, COLOR_ETH, DSM_COLOR_ETH, COLOR_HASH_ETH
        2 | 5 | 16 | 20 => ethernet(rest.get(2..).ok_or(LinkError::Truncated("ERF Ethernet"))?),
        // IPV4, IPV6
        22 => Ok(ip(ETHERTYPE_IPV4, rest)),
        23 => Ok(ip(ETHERTYPE_IPV6, rest)),
        // HDLC_POS, COLOR_HDLC_POS, ...: PPP or Cisco HDLC framing
        1 | 4 | 15 | 19 if rest.len() >= 4 => match (rest[0], rest[1]) {
            (0xff, 0x03) => ppp(rest),
            _ => cisco_hdlc(rest).and_then(require_ip),
        },
        _ => Err(LinkError::Unsupported(LinkType::ERF)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frame 1 of KakaoTalk_chat.pcap (Linux cooked v1): a DNS query 10.24.82.188 -> 10.188.1.1, first 72 bytes.
    const SLL_KAKAOTALK: &[u8] = &[
        0x00, 0x04, 0x02, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08,
        0x00, 0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xd2, 0x20, 0x0a, 0x18,
        0x52, 0xbc, 0x0a, 0xbc, 0x01, 0x01, 0x96, 0x30, 0x00, 0x35, 0x00, 0x28, 0x80, 0xa6, 0x86,
        0xed, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x61, 0x75, 0x74,
        0x68, 0x05, 0x6b, 0x61, 0x6b, 0x61, 0x6f, 0x03, 0x63, 0x6f, 0x6d, 0x00,
    ];

    /// Frame 1 of someip_sd_sample.pcap (a 16-byte PPI header around Ethernet): UDP 192.168.88.73 -> 235.2.3.5, first 72 bytes.
    const PPI_SOMEIP: &[u8] = &[
        0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x5e, 0x02, 0x03, 0x05, 0x00, 0x54, 0xaf, 0xe7, 0x03, 0x40, 0x08, 0x00,
        0x45, 0x00, 0x00, 0x54, 0x00, 0x00, 0x40, 0x00, 0xff, 0x11, 0x74, 0x9f, 0xc0, 0xa8, 0x58,
        0x49, 0xeb, 0x02, 0x03, 0x05, 0x77, 0x1a, 0x77, 0x1a, 0x00, 0x40, 0xe2, 0x78, 0xff, 0xff,
        0x81, 0x00, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x03, 0x01, 0x01,
    ];

    /// Frame 1 of BGP_redist.pcap (Cisco HDLC, one MPLS label): BGP 2.2.2.2 -> 4.4.4.4, first 72 bytes.
    const CHDLC_MPLS_BGP: &[u8] = &[
        0x0f, 0x00, 0x88, 0x47, 0x00, 0x01, 0x2d, 0xfe, 0x45, 0xc0, 0x00, 0x9b, 0x93, 0xcc, 0x40,
        0x00, 0xff, 0x06, 0xda, 0xc4, 0x02, 0x02, 0x02, 0x02, 0x04, 0x04, 0x04, 0x04, 0x00, 0xb3,
        0xf8, 0x2f, 0xd5, 0xa8, 0x6c, 0x49, 0x3c, 0x92, 0xf6, 0x50, 0x50, 0x18, 0x3f, 0xb4, 0x0e,
        0xa1, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0x00, 0x73, 0x02, 0x00, 0x00, 0x00, 0x5c, 0x40,
    ];

    /// Frame 1 of BGP_Cisco_hdlc_slarp.pcap (link type PPP, Cisco HDLC framing): a SYN 100.16.1.2 -> 100.16.1.1:179.
    const PPP_AS_CHDLC_BGP: &[u8] = &[
        0x0f, 0x00, 0x08, 0x00, 0x45, 0xc0, 0x00, 0x2c, 0xf8, 0x92, 0x40, 0x00, 0x01, 0x06, 0xb6,
        0x56, 0x64, 0x10, 0x01, 0x02, 0x64, 0x10, 0x01, 0x01, 0x47, 0x94, 0x00, 0xb3, 0xbc, 0xea,
        0x75, 0xd1, 0x00, 0x00, 0x00, 0x00, 0x60, 0x02, 0x40, 0x00, 0x13, 0x00, 0x00, 0x00, 0x02,
        0x04, 0x05, 0xb4,
    ];

    /// Frame 1 of bets.pcapng (raw IP, DLT 101): a SYN 192.168.10.2 -> 13.224.103.22:443.
    const RAW_BETS: &[u8] = &[
        0x45, 0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0xfb, 0x17, 0xc0, 0xa8, 0x0a,
        0x02, 0x0d, 0xe0, 0x67, 0x16, 0xea, 0xc3, 0x01, 0xbb, 0x03, 0xee, 0xf1, 0x16, 0x00, 0x00,
        0x00, 0x00, 0xb0, 0x02, 0xff, 0xff, 0x94, 0x7c, 0x00, 0x00, 0x02, 0x04, 0x05, 0x64, 0x01,
        0x03, 0x03, 0x06, 0x01, 0x01, 0x08, 0x0a, 0x31, 0x33, 0x50, 0x78, 0x00, 0x00, 0x00, 0x00,
        0x04, 0x02, 0x00, 0x00,
    ];

    /// Frame 1 of openwire.pcapng (BSD null, AF_INET6 = 24, little endian): IPv6 ::1 -> ::1, first 60 bytes.
    const NULL_OPENWIRE: &[u8] = &[
        0x18, 0x00, 0x00, 0x00, 0x60, 0x0b, 0x55, 0xd6, 0x00, 0x20, 0x06, 0x80, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xc7,
        0xd5, 0xf0, 0xb0, 0xce, 0xac, 0x80, 0xca, 0x00, 0x00, 0x00, 0x00, 0x80, 0x02, 0xff, 0xff,
    ];

    /// IPv4/UDP 10.0.0.1:5000 -> 10.0.0.2:53, empty, lengths and checksums
    /// valid (etherparse's builder).
    fn ipv4() -> Vec<u8> {
        let mut v = Vec::new();
        etherparse::PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(5000, 53)
            .write(&mut v, &[])
            .unwrap();
        v
    }

    /// An Ethernet II header of type `ethertype` (etherparse's), then
    /// `rest`: the layers etherparse does not build (MPLS, PPPoE, ARP) are
    /// written by hand.
    fn eth(ethertype: u16, rest: &[u8]) -> Vec<u8> {
        let h = etherparse::Ethernet2Header {
            source: [0; 6],
            destination: [0; 6],
            ether_type: etherparse::EtherType(ethertype),
        };
        let mut f = h.to_bytes().to_vec();
        f.extend_from_slice(rest);
        f
    }

    #[test]
    fn ethernet_plain_and_qinq() {
        let ip = ipv4();
        let f = eth(0x0800, &ip);
        assert_eq!(decode(LinkType::ETHERNET, &f).unwrap().bytes, ip);
        // 802.1ad outer tag 100, 802.1Q inner tag 200, then IPv4.
        let vlan = |id| etherparse::VlanId::try_new(id).unwrap();
        let mut f = Vec::new();
        etherparse::PacketBuilder::ethernet2([0; 6], [0; 6])
            .double_vlan(vlan(100), vlan(200))
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(5000, 53)
            .write(&mut f, &[])
            .unwrap();
        assert_eq!(f[12..14], [0x88, 0xa8]);
        let n = decode(LinkType::ETHERNET, &f).unwrap();
        assert_eq!(
            (n.vlan, n.ethertype, n.bytes),
            (Some(100), ETHERTYPE_IPV4, &ip[..])
        );
    }

    #[test]
    fn ethernet_arp_is_not_ip() {
        let f = eth(0x0806, &[0; 28]);
        assert_eq!(
            decode(LinkType::ETHERNET, &f),
            Err(LinkError::NotIp(0x0806))
        );
    }

    #[test]
    fn mpls_and_pppoe() {
        let ip = ipv4();
        // Two labels, the second with bottom-of-stack set.
        let mut mpls = vec![0, 0x10, 0x00, 64, 0, 0x20, 0x01, 64];
        mpls.extend_from_slice(&ip);
        let f = eth(0x8847, &mpls);
        assert_eq!(decode(LinkType::ETHERNET, &f).unwrap().bytes, ip);
        // PPPoE session 1, its length counting the PPP protocol field.
        let mut pppoe = vec![0x11, 0, 0, 1];
        pppoe.extend_from_slice(&(ip.len() as u16 + 2).to_be_bytes());
        pppoe.extend_from_slice(&[0x00, 0x21]);
        pppoe.extend_from_slice(&ip);
        let f = eth(0x8864, &pppoe);
        assert_eq!(decode(LinkType::ETHERNET, &f).unwrap().bytes, ip);
    }

    #[test]
    fn cooked_null_ppp_hdlc() {
        let ip = ipv4();
        let mut sll = Vec::new();
        etherparse::PacketBuilder::linux_sll(etherparse::LinuxSllPacketType::HOST, 6, [0; 8])
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(5000, 53)
            .write(&mut sll, &[])
            .unwrap();
        assert_eq!(decode(LinkType::LINUX_SLL, &sll).unwrap().bytes, ip);
        let mut sll2 = vec![0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6];
        sll2.extend_from_slice(&[0; 8]);
        sll2.extend_from_slice(&ip);
        assert_eq!(decode(LinkType::LINUX_SLL2, &sll2).unwrap().bytes, ip);
        let mut null = vec![2, 0, 0, 0];
        null.extend_from_slice(&ip);
        assert_eq!(decode(LinkType::NULL, &null).unwrap().bytes, ip);
        let mut lo = vec![0, 0, 0, 30];
        lo.extend_from_slice(&[0x60; 40]);
        assert_eq!(
            decode(LinkType::LOOP, &lo).unwrap().ethertype,
            ETHERTYPE_IPV6
        );
        let mut ppp = vec![0xff, 0x03, 0x00, 0x21];
        ppp.extend_from_slice(&ip);
        assert_eq!(decode(LinkType::PPP, &ppp).unwrap().bytes, ip);
        let mut hdlc = vec![0x0f, 0x00, 0x08, 0x00];
        hdlc.extend_from_slice(&ip);
        assert_eq!(decode(LinkType::C_HDLC, &hdlc).unwrap().bytes, ip);
        // Cisco HDLC frames written under DLT_PPP (BGP_Cisco_hdlc_slarp.pcap).
        assert_eq!(decode(LinkType::PPP, &hdlc).unwrap().bytes, ip);
        // Cisco HDLC carrying one MPLS label (BGP_redist.pcap, frame 1).
        let mut mpls = vec![0x0f, 0x00, 0x88, 0x47, 0x00, 0x01, 0x2d, 0xfe];
        mpls.extend_from_slice(&ip);
        assert_eq!(decode(LinkType::C_HDLC, &mpls).unwrap().bytes, ip);
    }

    #[test]
    fn ppi_and_erf_wrap_ethernet() {
        let ip = ipv4();
        let inner = eth(0x0800, &ip);
        let mut ppi = vec![0, 0, 8, 0, 1, 0, 0, 0];
        ppi.extend_from_slice(&inner);
        assert_eq!(decode(LinkType::PPI, &ppi).unwrap().bytes, ip);
        let mut erf = vec![0u8; 16];
        erf[8] = 2;
        erf.extend_from_slice(&[0, 0]);
        erf.extend_from_slice(&inner);
        assert_eq!(decode(LinkType::ERF, &erf).unwrap().bytes, ip);
    }

    #[test]
    fn unknown_link_type_and_short_frames() {
        assert_eq!(
            decode(LinkType(147), &ipv4()),
            Err(LinkError::Unsupported(LinkType(147)))
        );
        assert_eq!(
            decode(LinkType::ETHERNET, &[0; 10]),
            Err(LinkError::Truncated("Ethernet"))
        );
        assert!(decode(LinkType::PPI, &[0, 0, 200, 0, 1, 0, 0, 0]).is_err());
    }

    #[test]
    fn real_frames_of_each_corpus_link_type() {
        let n = decode(LinkType::LINUX_SLL, SLL_KAKAOTALK).unwrap();
        assert_eq!(
            (n.ethertype, &n.bytes[12..16]),
            (ETHERTYPE_IPV4, &[10, 24, 82, 188][..])
        );
        let n = decode(LinkType::PPI, PPI_SOMEIP).unwrap();
        assert_eq!((n.vlan, &n.bytes[16..20]), (None, &[235, 2, 3, 5][..]));
        let n = decode(LinkType::C_HDLC, CHDLC_MPLS_BGP).unwrap();
        assert_eq!(&n.bytes[12..20], &[2, 2, 2, 2, 4, 4, 4, 4]);
        let n = decode(LinkType::PPP, PPP_AS_CHDLC_BGP).unwrap();
        assert_eq!(&n.bytes[16..20], &[100, 16, 1, 1]);
        let n = decode(LinkType::RAW, RAW_BETS).unwrap();
        assert_eq!((n.ethertype, n.bytes.len()), (ETHERTYPE_IPV4, 64));
        let n = decode(LinkType::NULL, NULL_OPENWIRE).unwrap();
        assert_eq!((n.ethertype, n.bytes[0] >> 4), (ETHERTYPE_IPV6, 6));
    }
}
