//! Tunnels whose inner packets are the real flows: IP-in-IP (4, 41) and GRE
//! (v0 carrying IPv4, IPv6, Ethernet or ERSPAN II; v1/PPTP carrying PPP).
//!
//! Decapsulation is decided by the outer header's protocol fields, never by
//! port. A GRE packet whose payload is not IP (PPTP's LCP, keepalives) stays
//! a GRE flow.

use super::link::{self, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_TEB};
use crate::bytes::be16;

const GRE_C: u16 = 0x8000;
const GRE_R: u16 = 0x4000;
const GRE_K: u16 = 0x2000;
const GRE_S: u16 = 0x1000;
const GRE_A: u16 = 0x0080;
const GRE_PPP: u16 = 0x880B;
const GRE_ERSPAN2: u16 = 0x88BE;

/// The IP packet inside a GRE payload, if there is one.
pub fn gre(b: &[u8]) -> Option<&[u8]> {
    let (flags, proto) = (be16(b, 0)?, be16(b, 2)?);
    let version = flags & 7;
    let len = match version {
        0 => {
            4 + if flags & (GRE_C | GRE_R) != 0 { 4 } else { 0 }
                + if flags & GRE_K != 0 { 4 } else { 0 }
                + if flags & GRE_S != 0 { 4 } else { 0 }
        }
        // Enhanced GRE (PPTP): key always present.
        1 => 8 + if flags & GRE_S != 0 { 4 } else { 0 } + if flags & GRE_A != 0 { 4 } else { 0 },
        _ => return None,
    };
    let inner = b.get(len..)?;
    let net = match proto {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => return Some(inner),
        ETHERTYPE_TEB => link::ethernet(inner).ok()?,
        GRE_ERSPAN2 => link::ethernet(inner.get(8..)?).ok()?,
        GRE_PPP => {
            let mut p = inner;
            if p.len() >= 2 && p[0] == 0xff && p[1] == 0x03 {
                p = &p[2..];
            }
            match p {
                [0x21, rest @ ..] | [0x00, 0x21, rest @ ..] => return Some(rest),
                [0x57, rest @ ..] | [0x00, 0x57, rest @ ..] => return Some(rest),
                _ => return None,
            }
        }
        _ => return None,
    };
    matches!(net.ethertype, ETHERTYPE_IPV4 | ETHERTYPE_IPV6).then_some(net.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gre_v0_with_key_carrying_ipv4() {
        let mut b = vec![0x20, 0x00, 0x08, 0x00, 0, 0, 0, 42];
        b.extend_from_slice(&[0x45, 0, 0, 20]);
        assert_eq!(gre(&b), Some(&[0x45, 0, 0, 20][..]));
    }

    #[test]
    fn pptp_gre_carrying_lcp_is_not_ip() {
        // GREv1, key + seq, PPP protocol 0xc021 (LCP)
        let b = [
            0x30, 0x01, 0x88, 0x0b, 0, 20, 0, 1, 0, 0, 0, 1, 0xff, 0x03, 0xc0, 0x21, 1, 1,
        ];
        assert_eq!(gre(&b), None);
        let b = [
            0x30, 0x01, 0x88, 0x0b, 0, 20, 0, 1, 0, 0, 0, 1, 0x21, 0x45, 0, 0,
        ];
        assert_eq!(gre(&b), Some(&[0x45, 0, 0][..]));
    }
}
