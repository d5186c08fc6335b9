//! Transport headers: TCP, UDP, SCTP, ICMP/ICMPv6, ESP and AH.
//!
//! Each yields the ports (or SPI) that key a flow and the payload that the
//! classifiers read. A header cut short by the snaplen is
//! [`TransportError::Truncated`]; a TCP data offset below 20 bytes, or
//! options running past the packet, keep the ports but flag the header
//! `malformed`. A payload cut short is returned
//! as far as it goes.

use super::ip::proto;

/// TCP header flags.
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
}

mod field {
    use std::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const TCP_SEQ: Range<usize> = 4..8;
    pub const TCP_ACK: Range<usize> = 8..12;
    pub const TCP_OFFSET: usize = 12;
    pub const TCP_FLAGS: usize = 13;
    pub const TCP_WINDOW: Range<usize> = 14..16;
    pub const UDP_LEN: Range<usize> = 4..6;
    pub const ESP_SPI: Range<usize> = 0..4;
    pub const ESP_SEQ: Range<usize> = 4..8;
}

/// The TCP header fields that flow tracking and reassembly read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpHeader {
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
}

impl TcpHeader {
    #[inline]
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// What the transport header says, protocol by protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Header {
    Tcp(TcpHeader),
    Udp,
    Sctp,
    Icmp {
        kind: u8,
        code: u8,
    },
    /// ESP or AH: the Security Parameters Index and sequence number.
    Ipsec {
        spi: u32,
        seq: u32,
    },
    Other,
}

/// A parsed transport layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transport<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub header: Header,
    /// Bytes after the header; for ESP and AH the whole header and payload
    /// (SPI first), which the IPsec fingerprinters read.
    pub payload: &'a [u8],
    /// The header has readable ports but is otherwise wrong (a TCP data
    /// offset below 20, or options past the end of the packet): the packet
    /// counts for its flow, its payload is not trusted (empty).
    pub malformed: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("{what} header truncated: {needed} bytes needed, {available} captured")]
    Truncated {
        what: &'static str,
        needed: usize,
        available: usize,
    },
}

use crate::bytes::{field16 as be16, field32 as be32};

fn need(what: &'static str, b: &[u8], n: usize) -> Result<(), TransportError> {
    if b.len() < n {
        Err(TransportError::Truncated {
            what,
            needed: n,
            available: b.len(),
        })
    } else {
        Ok(())
    }
}

/// Parses the transport header of protocol `ip_proto` at the start of `b`.
#[inline(always)]
pub fn parse(ip_proto: u8, b: &[u8]) -> Result<Transport<'_>, TransportError> {
    match ip_proto {
        proto::TCP => {
            need("TCP", b, 20)?;
            let off = usize::from(b[field::TCP_OFFSET] >> 4) * 4;
            let malformed = off < 20 || off > b.len();
            Ok(Transport {
                src_port: be16(b, field::SRC_PORT),
                dst_port: be16(b, field::DST_PORT),
                header: Header::Tcp(TcpHeader {
                    seq: be32(b, field::TCP_SEQ),
                    ack: be32(b, field::TCP_ACK),
                    flags: b[field::TCP_FLAGS],
                    window: be16(b, field::TCP_WINDOW),
                }),
                payload: if malformed { &[] } else { &b[off..] },
                malformed,
            })
        }
        proto::UDP => {
            need("UDP", b, 8)?;
            // Trust the UDP length only when it fits what was captured.
            let len = usize::from(be16(b, field::UDP_LEN));
            let end = if (8..=b.len()).contains(&len) {
                len
            } else {
                b.len()
            };
            Ok(Transport {
                src_port: be16(b, field::SRC_PORT),
                dst_port: be16(b, field::DST_PORT),
                header: Header::Udp,
                payload: &b[8..end],
                malformed: false,
            })
        }
        proto::SCTP => {
            need("SCTP", b, 12)?;
            Ok(Transport {
                src_port: be16(b, field::SRC_PORT),
                dst_port: be16(b, field::DST_PORT),
                header: Header::Sctp,
                payload: &b[12..],
                malformed: false,
            })
        }
        proto::ICMP | proto::ICMPV6 => {
            need("ICMP", b, 4)?;
            Ok(Transport {
                src_port: 0,
                dst_port: 0,
                header: Header::Icmp {
                    kind: b[0],
                    code: b[1],
                },
                payload: &b[4..],
                malformed: false,
            })
        }
        proto::ESP => {
            need("ESP", b, 8)?;
            Ok(Transport {
                src_port: 0,
                dst_port: 0,
                header: Header::Ipsec {
                    spi: be32(b, field::ESP_SPI),
                    seq: be32(b, field::ESP_SEQ),
                },
                payload: b,
                malformed: false,
            })
        }
        proto::AH => {
            need("AH", b, 12)?;
            Ok(Transport {
                src_port: 0,
                dst_port: 0,
                header: Header::Ipsec {
                    spi: be32(b, 4..8),
                    seq: be32(b, 8..12),
                },
                payload: b,
                malformed: false,
            })
        }
        _ => Ok(Transport {
            src_port: 0,
            dst_port: 0,
            header: Header::Other,
            payload: b,
            malformed: false,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The TCP header of frame 1 of the nDPI corpus' 443-curl.pcap: a SYN
    /// from port 55523 to 443 with MSS, window scale, SACK-permitted and
    /// timestamp options (44 bytes).
    const TCP_SYN: [u8; 44] = [
        0xd8, 0xe3, 0x01, 0xbb, 0xcc, 0x77, 0x76, 0x95, 0x00, 0x00, 0x00, 0x00, 0xb0, 0x02, 0xff,
        0xff, 0x7b, 0xc1, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x05, 0x01, 0x01,
        0x08, 0x0a, 0x1e, 0x62, 0x45, 0xb7, 0x00, 0x00, 0x00, 0x00, 0x04, 0x02, 0x00, 0x00,
    ];

    #[test]
    fn tcp_syn_with_options() {
        let t = parse(proto::TCP, &TCP_SYN).unwrap();
        assert_eq!((t.src_port, t.dst_port, t.payload.len()), (55523, 443, 0));
        let Header::Tcp(h) = t.header else { panic!() };
        assert!(h.has(tcp_flags::SYN) && !h.has(tcp_flags::ACK));
        assert_eq!((h.seq, h.window), (0xcc777695, 65535));
    }

    #[test]
    fn tcp_truncated_options_and_bad_offset() {
        assert!(matches!(
            parse(proto::TCP, &TCP_SYN[..19]),
            Err(TransportError::Truncated { needed: 20, .. })
        ));
        // Options cut by the snaplen: ports kept, payload not trusted.
        let cut = parse(proto::TCP, &TCP_SYN[..30]).unwrap();
        assert!(cut.malformed && cut.payload.is_empty());
        // A data offset of 8 bytes (kerberos_fuzz.pcapng): ports kept, payload not trusted.
        let mut bad = TCP_SYN;
        bad[12] = 0x20;
        let t = parse(proto::TCP, &bad).unwrap();
        assert!(t.malformed && t.payload.is_empty());
        assert_eq!(t.src_port, 55523);
    }

    #[test]
    fn udp_length_bounds_payload() {
        // The UDP header of frame 1 of dns_ambiguous_names.pcap (48375 -> 53),
        // its length cut to 12 to leave 4 payload bytes and 2 of padding.
        let b = [
            0xbc, 0xf7, 0x00, 0x35, 0x00, 0x0c, 0x1d, 0x32, 1, 2, 3, 4, 0xee, 0xee,
        ];
        let t = parse(proto::UDP, &b).unwrap();
        assert_eq!(
            (t.src_port, t.dst_port, t.payload),
            (48375, 53, &[1u8, 2, 3, 4][..])
        );
        // A UDP length larger than the capture: use what is there.
        let mut b2 = b;
        b2[5] = 200;
        assert_eq!(parse(proto::UDP, &b2).unwrap().payload.len(), 6);
    }

    #[test]
    fn esp_spi_and_sequence() {
        let b = [0x00, 0x00, 0x10, 0x01, 0x00, 0x00, 0x00, 0x07, 0xab, 0xcd];
        let t = parse(proto::ESP, &b).unwrap();
        assert_eq!(
            t.header,
            Header::Ipsec {
                spi: 0x1001,
                seq: 7
            }
        );
        assert_eq!(t.payload, &b[..]);
    }

    #[test]
    fn icmp_type_code() {
        let t = parse(proto::ICMP, &[8, 0, 0xf7, 0xff, 0, 1, 0, 1]).unwrap();
        assert_eq!(t.header, Header::Icmp { kind: 8, code: 0 });
    }
}
