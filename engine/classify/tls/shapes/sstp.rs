//! SSTP (Microsoft's Secure Socket Tunneling Protocol) inside TLS, by the
//! shapes of the first application-data records: only their lengths are
//! visible, so the finding is a VPN fact at `low` or `medium` confidence,
//! and its evidence says it comes from record sizes.
//!
//! An SSTP client opens with the HTTP request `SSTP_DUPLEX_POST
//! /sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/ HTTP/1.1` (a head of
//! [`REQUEST`] bytes), the server answers with an HTTP 200 head
//! ([`REPLY`] bytes), then the client sends the 14-byte
//! Call-Connect-Request (SSTP header, message type, one Encapsulated
//! Protocol attribute) and the server the 48-byte Call-Connect-Ack (in one
//! record, or as the 4-byte header and the 44-byte rest, as sstp-server
//! writes it). Record lengths are these plus the record overhead, known
//! from the ServerHello (17 for TLS 1.3, 24 for TLS 1.2 AES-GCM, 16 for
//! ChaCha20-Poly1305).
//!
//! - `medium`: request, reply, the 14-byte request and the 48-byte ack, in
//!   that order.
//! - `low`: request, reply and the 14-byte request, the ack not seen.

use std::fmt;
use std::ops::RangeInclusive;

use super::super::super::dissector::{Confidence, Findings};
use super::super::super::facts::{Clue as FactClue, Evidence, Fact};
use super::super::super::vpn::{Value, VpnFacts, VpnProtocol};
use super::view::{application_data, client_records, overheads};
use super::{Log, Record};

/// Plaintext length of the SSTP_DUPLEX_POST request head.
pub const REQUEST: RangeInclusive<usize> = 120..=600;
/// Plaintext length of the server's HTTP reply head.
pub const REPLY: RangeInclusive<usize> = 40..=600;
/// SSTP Call-Connect-Request and Call-Connect-Ack lengths.
pub const CALL_CONNECT_REQUEST: usize = 14;
pub const CALL_CONNECT_ACK: usize = 48;

/// What the records showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clue {
    /// Plaintext lengths: request, reply, call connect request, ack (0 if
    /// not seen).
    pub lengths: [usize; 4],
    pub overhead: usize,
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [req, reply, ccr, ack] = self.lengths;
        write!(
            f,
            "record sizes only (payload encrypted): after the handshake the client sends {req} bytes (an SSTP_DUPLEX_POST head), the server {reply}, the client {ccr} (SSTP Call-Connect-Request)"
        )?;
        if ack > 0 {
            write!(f, ", the server {ack} (Call-Connect-Ack)")?;
        }
        write!(f, "; record overhead {} bytes", self.overhead)
    }
}

/// The analyzer.
pub fn analyze(log: &Log) -> Option<Findings> {
    let data = application_data(log);
    for &o in overheads(log) {
        let plain = |r: &Record| r.len.checked_sub(o);
        let client = client_records(&data, o);
        let [(ri, req), (ci, ccr), ..] = client.as_slice() else {
            continue;
        };
        let (Some(req_len), Some(ccr_len)) = (plain(req), plain(ccr)) else {
            continue;
        };
        if !REQUEST.contains(&req_len) || ccr_len != CALL_CONNECT_REQUEST {
            continue;
        }
        // The server's reply between the two, and nothing else from it.
        let between: Vec<&Record> = data[*ri + 1..*ci]
            .iter()
            .copied()
            .filter(|r| r.side == 1)
            .collect();
        let [reply] = between.as_slice() else {
            continue;
        };
        let Some(reply_len) = plain(reply).filter(|l| REPLY.contains(l)) else {
            continue;
        };
        let after: Vec<usize> = data[*ci + 1..]
            .iter()
            .filter(|r| r.side == 1)
            .take(2)
            .filter_map(|r| plain(r))
            .collect();
        let ack = match after.as_slice() {
            [CALL_CONNECT_ACK, ..] => CALL_CONNECT_ACK,
            [4, 44, ..] => CALL_CONNECT_ACK,
            _ => 0,
        };
        let confidence = if ack > 0 {
            Confidence::Medium
        } else {
            Confidence::Low
        };
        return Some(Findings {
            facts: vec![Fact::Vpn(VpnFacts {
                protocol: VpnProtocol::Sstp,
                confidence,
                details: vec![("evidence", Value::Text("record-sizes"))],
            })],
            evidence: vec![Evidence {
                packet: ccr.packet,
                what: FactClue::Sstp(Clue {
                    lengths: [req_len, reply_len, ccr_len, ack],
                    overhead: o,
                }),
            }],
            links: Vec::new(),
        });
    }
    None
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::classify::summary::{HelloSummary, ServerSummary};
    use crate::classify::tls::parse_client_hello;
    use crate::classify::tls::ContentType;

    fn log(version: u16, cipher: u16, recs: &[(usize, usize)]) -> Log {
        log_with_sni(None, version, cipher, recs)
    }

    /// A log after a minimal ClientHello (TLS 1.2, one suite, null
    /// compression, `sni` if any, no ALPN) and a ServerHello choosing
    /// `version` and `cipher`, then application-data records (side, length).
    pub(in super::super) fn log_with_sni(
        sni: Option<&str>,
        version: u16,
        cipher: u16,
        recs: &[(usize, usize)],
    ) -> Log {
        let mut body = vec![3, 3];
        body.extend([0u8; 32]);
        body.extend([0, 0, 2, 0xc0, 0x2f, 1, 0]);
        if let Some(name) = sni {
            let n = name.len() as u16;
            let mut ext = vec![0, 0];
            ext.extend((n + 5).to_be_bytes());
            ext.extend((n + 3).to_be_bytes());
            ext.push(0);
            ext.extend(n.to_be_bytes());
            ext.extend(name.as_bytes());
            body.extend((ext.len() as u16).to_be_bytes());
            body.extend(ext);
        }
        let hello = HelloSummary::new(&parse_client_hello(&body).unwrap(), false, true);
        let mut l = Log::new(&hello);
        l.server = Some(ServerSummary {
            version,
            cipher,
            alpn: None,
            hello_retry_request: false,
        });
        for (i, &(side, len)) in recs.iter().enumerate() {
            l.push(Record {
                side,
                content_type: ContentType::APPLICATION_DATA,
                len,
                packet: i as u64,
                ts: 0,
            });
        }
        l
    }

    fn confidence(l: &Log) -> Option<Confidence> {
        let f = analyze(l)?;
        match &f.facts[0] {
            Fact::Vpn(v) => Some(v.confidence),
            _ => None,
        }
    }

    #[test]
    fn sstp_record_shapes() {
        // sstp-tcp8443-tls12.pcap: 204 / 108 / 38 / 28 68.
        let tls12 = log(
            0x0303,
            0xc030,
            &[(0, 204), (1, 108), (0, 38), (1, 28), (1, 68)],
        );
        assert_eq!(confidence(&tls12), Some(Confidence::Medium));
        // sstp-tcp443.pcap (TLS 1.3): client Finished 69 first.
        let tls13 = log(
            0x0304,
            0x1302,
            &[
                (1, 250),
                (0, 69),
                (1, 250),
                (0, 197),
                (1, 101),
                (0, 31),
                (1, 21),
                (1, 61),
            ],
        );
        assert_eq!(confidence(&tls13), Some(Confidence::Medium));
        // No ack: low.
        let no_ack = log(0x0303, 0xc030, &[(0, 204), (1, 108), (0, 38)]);
        assert_eq!(confidence(&no_ack), Some(Confidence::Low));
        // An ordinary HTTPS exchange: nothing.
        let web = log(0x0303, 0xc030, &[(0, 420), (1, 1400), (1, 1400), (0, 60)]);
        assert_eq!(confidence(&web), None);
    }
}
