//! IPv4 and IPv6 headers, IPv6 extension headers, and what a fragment says.
//!
//! Lenient where capture makes packets short: a datagram cut by the snaplen
//! yields the bytes that are there, flagged `truncated`. Strict where the
//! header itself is wrong (version, header length, a length smaller than the
//! header): that is [`IpError`], for the caller to count as malformed.
//! Ethernet padding after the datagram is trimmed by the IP length.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IP protocol numbers sift names.
pub mod proto {
    pub const HOPOPT: u8 = 0;
    pub const ICMP: u8 = 1;
    pub const IGMP: u8 = 2;
    pub const IPIP: u8 = 4;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const IPV6: u8 = 41;
    pub const ROUTING: u8 = 43;
    pub const FRAGMENT: u8 = 44;
    pub const GRE: u8 = 47;
    pub const ESP: u8 = 50;
    pub const AH: u8 = 51;
    pub const ICMPV6: u8 = 58;
    pub const NO_NEXT: u8 = 59;
    pub const DSTOPTS: u8 = 60;
    pub const SCTP: u8 = 132;
    pub const MOBILITY: u8 = 135;
    pub const HIP: u8 = 139;
    pub const SHIM6: u8 = 140;

    /// The name EVE uses for an IP protocol (`"TCP"`, `"IPv6-ICMP"`, ...).
    pub fn name(p: u8) -> Option<&'static str> {
        Some(match p {
            ICMP => "ICMP",
            IGMP => "IGMP",
            IPIP => "IPIP",
            TCP => "TCP",
            UDP => "UDP",
            IPV6 => "IPv6",
            GRE => "GRE",
            ESP => "ESP",
            AH => "AH",
            ICMPV6 => "IPv6-ICMP",
            SCTP => "SCTP",
            103 => "PIM",
            112 => "VRRP",
            89 => "OSPF",
            _ => return None,
        })
    }

    /// The EVE name of IP protocol `p`, or its number when it has none.
    pub fn label(p: u8) -> std::borrow::Cow<'static, str> {
        name(p).map_or_else(|| p.to_string().into(), Into::into)
    }

    /// True for protocols whose flows have ports.
    pub fn has_ports(p: u8) -> bool {
        matches!(p, TCP | UDP | SCTP)
    }
}

mod field {
    use std::ops::Range;
    pub const V4_TOTAL_LEN: Range<usize> = 2..4;
    pub const V4_IDENT: Range<usize> = 4..6;
    pub const V4_FLAGS_FRAG: Range<usize> = 6..8;
    pub const V4_TTL: usize = 8;
    pub const V4_PROTO: usize = 9;
    pub const V4_SRC: Range<usize> = 12..16;
    pub const V4_DST: Range<usize> = 16..20;
    pub const V6_PAYLOAD_LEN: Range<usize> = 4..6;
    pub const V6_NEXT: usize = 6;
    pub const V6_HOP_LIMIT: usize = 7;
    pub const V6_SRC: Range<usize> = 8..24;
    pub const V6_DST: Range<usize> = 24..40;
}

/// Where a fragment sits in its datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragment {
    /// IPv4 identification (16 bits) or IPv6 fragment identification.
    pub id: u32,
    /// Offset of this fragment's data in the datagram's payload, in bytes.
    pub offset: u32,
    pub more: bool,
}

/// A parsed IP datagram (or fragment) borrowed from the packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpPacket<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The upper-layer protocol: after IPv6 extension headers, and for a
    /// fragment, the protocol of the whole datagram.
    pub proto: u8,
    /// Upper-layer bytes as captured (for a fragment: this fragment's data).
    pub payload: &'a [u8],
    pub fragment: Option<Fragment>,
    /// The capture holds fewer bytes than the IP header announces.
    pub truncated: bool,
    pub ttl: u8,
    /// IPv6 extension headers seen ([`ext`] bits; 0 for IPv4).
    pub ext: u8,
}

/// What the IPv6 extension header chain held, as bits: evidence for the
/// evasion judge (a receiver drops a packet whose Hop-by-Hop header is not
/// first; desync tools add headers a DPI may not walk).
pub mod ext {
    /// A Hop-by-Hop Options header (first, as RFC 8200 allows).
    pub const HOP_BY_HOP: u8 = 0x01;
    /// A Destination Options header.
    pub const DEST_OPTS: u8 = 0x02;
    /// A Hop-by-Hop header that is not the first header, or a second one:
    /// every receiver discards the packet.
    pub const MISPLACED_HBH: u8 = 0x04;
    /// An atomic Fragment header (offset 0, no more fragments).
    pub const ATOMIC_FRAGMENT: u8 = 0x08;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IpError {
    #[error("IP header truncated: {needed} bytes needed, {available} captured")]
    Truncated { needed: usize, available: usize },
    #[error("IP version {0} where {1} was announced")]
    Version(u8, u8),
    #[error("IPv4 header length {0} below 20")]
    HeaderLength(usize),
    #[error("IPv4 total length {0} shorter than its header")]
    TotalLength(usize),
    #[error("IPv6 extension header chain runs past the packet")]
    ExtensionChain,
}

use crate::bytes::field16 as be16;

/// Parses an IPv4 or IPv6 packet by its version nibble.
pub fn parse(bytes: &[u8]) -> Result<IpPacket<'_>, IpError> {
    match bytes.first().map(|b| b >> 4) {
        Some(6) => parse_v6(bytes),
        Some(_) => parse_v4(bytes),
        None => Err(IpError::Truncated {
            needed: 1,
            available: 0,
        }),
    }
}

pub fn parse_v4(b: &[u8]) -> Result<IpPacket<'_>, IpError> {
    if b.len() < 20 {
        return Err(IpError::Truncated {
            needed: 20,
            available: b.len(),
        });
    }
    let version = b[0] >> 4;
    if version != 4 {
        return Err(IpError::Version(version, 4));
    }
    let ihl = usize::from(b[0] & 0x0f) * 4;
    if ihl < 20 {
        return Err(IpError::HeaderLength(ihl));
    }
    if b.len() < ihl {
        return Err(IpError::Truncated {
            needed: ihl,
            available: b.len(),
        });
    }
    let total = usize::from(be16(b, field::V4_TOTAL_LEN));
    // A zero total length is what TCP segmentation offload leaves behind:
    // take the captured length.
    let (end, truncated) = if total == 0 {
        (b.len(), false)
    } else if total < ihl {
        return Err(IpError::TotalLength(total));
    } else if total > b.len() {
        (b.len(), true)
    } else {
        (total, false)
    };
    let flags_frag = be16(b, field::V4_FLAGS_FRAG);
    let more = flags_frag & 0x2000 != 0;
    let offset = u32::from(flags_frag & 0x1fff) * 8;
    let fragment = (more || offset != 0).then(|| Fragment {
        id: u32::from(be16(b, field::V4_IDENT)),
        offset,
        more,
    });
    let a = |r: std::ops::Range<usize>| {
        Ipv4Addr::new(b[r.start], b[r.start + 1], b[r.start + 2], b[r.start + 3])
    };
    Ok(IpPacket {
        src: IpAddr::V4(a(field::V4_SRC)),
        dst: IpAddr::V4(a(field::V4_DST)),
        proto: b[field::V4_PROTO],
        payload: &b[ihl..end],
        fragment,
        truncated,
        ttl: b[field::V4_TTL],
        ext: 0,
    })
}

pub fn parse_v6(b: &[u8]) -> Result<IpPacket<'_>, IpError> {
    if b.len() < 40 {
        return Err(IpError::Truncated {
            needed: 40,
            available: b.len(),
        });
    }
    let version = b[0] >> 4;
    if version != 6 {
        return Err(IpError::Version(version, 6));
    }
    let payload_len = usize::from(be16(b, field::V6_PAYLOAD_LEN));
    // Payload length 0 means a jumbogram (or offload): use what was captured.
    let (end, truncated) = if payload_len == 0 {
        (b.len(), false)
    } else if 40 + payload_len > b.len() {
        (b.len(), true)
    } else {
        (40 + payload_len, false)
    };
    let addr = |r: std::ops::Range<usize>| {
        let mut o = [0u8; 16];
        o.copy_from_slice(&b[r]);
        Ipv6Addr::from(o)
    };
    let ext = walk_extensions(b[field::V6_NEXT], &b[40..end])?;
    Ok(IpPacket {
        src: IpAddr::V6(addr(field::V6_SRC)),
        dst: IpAddr::V6(addr(field::V6_DST)),
        proto: ext.proto,
        payload: ext.payload,
        fragment: ext.fragment,
        truncated,
        ttl: b[field::V6_HOP_LIMIT],
        ext: ext.ext,
    })
}

/// The upper layer found after IPv6 extension headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpperLayer<'a> {
    pub proto: u8,
    pub payload: &'a [u8],
    pub fragment: Option<Fragment>,
    /// [`ext`] bits of the headers walked.
    pub ext: u8,
}

/// Walks IPv6 extension headers starting with `next`, stopping at the first
/// upper-layer protocol or at a fragment header (whose data is the rest).
/// Also used on a reassembled IPv6 payload, which may begin with headers.
pub fn walk_extensions(mut next: u8, mut b: &[u8]) -> Result<UpperLayer<'_>, IpError> {
    let mut seen = 0u8;
    // More than this many extension headers is an attack, not a packet.
    for i in 0..16 {
        match next {
            proto::HOPOPT if i > 0 || seen & ext::HOP_BY_HOP != 0 => {
                seen |= ext::MISPLACED_HBH;
            }
            proto::HOPOPT => seen |= ext::HOP_BY_HOP,
            proto::DSTOPTS => seen |= ext::DEST_OPTS,
            _ => {}
        }
        match next {
            proto::HOPOPT
            | proto::ROUTING
            | proto::DSTOPTS
            | proto::MOBILITY
            | proto::HIP
            | proto::SHIM6 => {
                if b.len() < 8 {
                    return Err(IpError::ExtensionChain);
                }
                let len = (usize::from(b[1]) + 1) * 8;
                if b.len() < len {
                    return Err(IpError::ExtensionChain);
                }
                next = b[0];
                b = &b[len..];
            }
            proto::FRAGMENT => {
                if b.len() < 8 {
                    return Err(IpError::ExtensionChain);
                }
                let off_flags = u16::from_be_bytes([b[2], b[3]]);
                let fragment = Fragment {
                    id: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
                    offset: u32::from(off_flags >> 3) * 8,
                    more: off_flags & 1 == 1,
                };
                // An atomic fragment (offset 0, no more) is a whole datagram.
                let atomic = fragment.offset == 0 && !fragment.more;
                if atomic {
                    seen |= ext::ATOMIC_FRAGMENT;
                    next = b[0];
                    b = &b[8..];
                    continue;
                }
                return Ok(UpperLayer {
                    proto: b[0],
                    payload: &b[8..],
                    fragment: Some(fragment),
                    ext: seen,
                });
            }
            _ => {
                return Ok(UpperLayer {
                    proto: next,
                    payload: b,
                    fragment: None,
                    ext: seen,
                })
            }
        }
    }
    Err(IpError::ExtensionChain)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The IPv4 header of frame 1 of the nDPI corpus' dns_ambiguous_names.pcap:
    /// a DNS query 10.200.2.11 -> 8.8.8.8, total length 82, TTL 64.
    const V4_UDP: [u8; 20] = [
        0x45, 0x00, 0x00, 0x52, 0xde, 0xc2, 0x00, 0x00, 0x40, 0x11, 0x7e, 0xf6, 0x0a, 0xc8, 0x02,
        0x0b, 8, 8, 8, 8,
    ];

    fn with_payload(h: &[u8], n: usize) -> Vec<u8> {
        let mut v = h.to_vec();
        v.extend((0..n).map(|i| i as u8));
        v
    }

    #[test]
    fn ipv4_trims_padding_and_flags_truncation() {
        let p = with_payload(&V4_UDP, 68); // 88 bytes, IP says 82: 6 bytes padding
        let ip = parse(&p).unwrap();
        assert_eq!(ip.src, "10.200.2.11".parse::<IpAddr>().unwrap());
        assert_eq!(ip.dst, "8.8.8.8".parse::<IpAddr>().unwrap());
        assert_eq!(
            (ip.proto, ip.payload.len(), ip.truncated, ip.fragment),
            (17, 62, false, None)
        );
        let cut = &p[..30];
        let ip = parse(cut).unwrap();
        assert_eq!((ip.payload.len(), ip.truncated), (10, true));
    }

    #[test]
    fn ipv4_fragment_fields() {
        let mut h = V4_UDP;
        h[6] = 0x20; // MF
        h[7] = 0x00;
        let p = with_payload(&h, 62);
        let ip = parse(&p).unwrap();
        assert_eq!(
            ip.fragment,
            Some(Fragment {
                id: 0xdec2,
                offset: 0,
                more: true
            })
        );
        h[6] = 0x00;
        h[7] = 185; // offset 185*8 = 1480
        let p = with_payload(&h, 62);
        let ip = parse(&p).unwrap();
        assert_eq!(
            ip.fragment,
            Some(Fragment {
                id: 0xdec2,
                offset: 1480,
                more: false
            })
        );
    }

    #[test]
    fn ipv4_bad_headers() {
        let mut h = V4_UDP;
        h[0] = 0x44;
        assert_eq!(parse(&with_payload(&h, 62)), Err(IpError::HeaderLength(16)));
        let mut h = V4_UDP;
        h[2] = 0;
        h[3] = 10;
        h[6] = 0;
        assert_eq!(parse(&with_payload(&h, 62)), Err(IpError::TotalLength(10)));
        assert!(matches!(
            parse(&V4_UDP[..12]),
            Err(IpError::Truncated { .. })
        ));
    }

    /// An IPv6 header 2001:db8::1 -> 2001:db8::2 (etherparse's) followed by
    /// `payload`, the extension headers under test written by hand.
    fn v6(next: u8, payload: &[u8]) -> Vec<u8> {
        let addr = |last: u8| {
            let mut a = [0u8; 16];
            a[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
            a[15] = last;
            a
        };
        let h = etherparse::Ipv6Header {
            payload_length: payload.len() as u16,
            next_header: etherparse::IpNumber(next),
            hop_limit: 64,
            source: addr(1),
            destination: addr(2),
            ..Default::default()
        };
        let mut v = h.to_bytes().to_vec();
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn ipv6_extension_chain_to_tcp() {
        // Hop-by-hop (8 bytes) -> Destination options (16 bytes) -> TCP
        let mut ext = vec![60, 0, 1, 4, 0, 0, 0, 0];
        ext.extend_from_slice(&[6, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        ext.extend_from_slice(&[0xaa; 20]);
        let p = v6(0, &ext);
        let ip = parse(&p).unwrap();
        assert_eq!((ip.proto, ip.payload.len()), (6, 20));
        assert_eq!(ip.dst, "2001:db8::2".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn ipv6_fragment_header() {
        let mut ext = vec![17, 0, 0x05, 0x01, 0xde, 0xad, 0xbe, 0xef];
        ext.extend_from_slice(&[0; 16]);
        let p = v6(44, &ext);
        let ip = parse(&p).unwrap();
        assert_eq!(ip.proto, 17);
        assert_eq!(
            ip.fragment,
            Some(Fragment {
                id: 0xdeadbeef,
                offset: (0x0501 >> 3) * 8,
                more: true
            })
        );
        // Atomic fragment: offset 0 and M clear is a whole datagram.
        let mut ext = vec![17, 0, 0, 0, 0, 0, 0, 1];
        ext.extend_from_slice(&[0; 8]);
        let p = v6(44, &ext);
        let ip = parse(&p).unwrap();
        assert_eq!((ip.fragment, ip.payload.len()), (None, 8));
    }

    #[test]
    fn ipv6_chain_past_the_end() {
        let ext = vec![6, 4, 0, 0, 0, 0, 0, 0];
        assert_eq!(parse(&v6(0, &ext)), Err(IpError::ExtensionChain));
    }
}
