//! Decode: from a captured frame to the flow-keyed view the rest of sift
//! reads — addresses, transport ports, TCP header, payload.
//!
//! Layers, outermost first: [`link`] (frame to network bytes), [`ip`]
//! (IPv4/IPv6 and extension headers), [`defrag`] (fragments to datagrams),
//! [`tunnel`] (IP-in-IP, GRE) and [`transport`] (TCP, UDP, SCTP, ICMP, ESP,
//! AH). Every failure is a typed [`DecodeError`] the caller counts; nothing a
//! packet contains can panic a decoder.

pub mod defrag;
pub mod ip;
pub mod link;
pub mod transport;
pub mod tunnel;

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
    /// Some layer announced more bytes than the capture kept.
    pub truncated: bool,
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
    let (mut src, mut dst, mut ip_proto, mut payload, mut truncated) =
        (src, dst, ip_proto, payload, truncated);
    let mut tunnels = 0;
    loop {
        let inner = if tunnels >= MAX_TUNNEL_DEPTH {
            None
        } else {
            match ip_proto {
                proto::IPIP | proto::IPV6 => Some(payload),
                proto::GRE => tunnel::gre(payload),
                _ => None,
            }
        };
        match inner.map(ip::parse) {
            Some(Ok(ip)) => {
                if ip.fragment.is_some() {
                    return Err(DecodeError::InnerFragment);
                }
                tunnels += 1;
                (src, dst, ip_proto, payload) = (ip.src, ip.dst, ip.proto, ip.payload);
                truncated |= ip.truncated;
            }
            // Not a tunnel, or an inner packet too broken to open: the outer
            // datagram is the flow.
            None | Some(Err(_)) => {
                let transport = transport::parse(ip_proto, payload)?;
                return Ok(Decoded {
                    src,
                    dst,
                    proto: ip_proto,
                    transport,
                    tunnels,
                    truncated,
                });
            }
        }
    }
}

/// Decodes an unfragmented IP packet's upper layers.
pub fn datagram<'a>(ip: &IpPacket<'a>) -> Result<Decoded<'a>, DecodeError> {
    upper(ip.src, ip.dst, ip.proto, ip.payload, ip.truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_in_four_opens_to_inner_icmpv6() {
        // IPv4 (proto 41) carrying IPv6 (next header 58, ICMPv6 echo request).
        let mut inner = vec![0x60, 0, 0, 0, 0, 8, 58, 64];
        inner.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        inner.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        inner.extend_from_slice(&[128, 0, 0, 0, 0, 1, 0, 1]);
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
}
