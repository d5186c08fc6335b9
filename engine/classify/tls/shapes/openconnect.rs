//! OpenConnect / AnyConnect's TLS channel (CSTP), by record sizes: the
//! client logs in with XML `config-auth` POSTs — three requests of about a
//! kilobyte ([`POST`]), each answered by one server record ([`ANSWER`]) —
//! then sends `CONNECT /CSCOSSLC/tunnel` with its `X-CSTP-`/`X-DTLS-`
//! headers (beyond the records logged after the hellos, so not read). The
//! headers are encrypted; only the login's shape is visible, so the
//! finding is `vpn.protocol: "openconnect"` at `low`,
//! its evidence saying it is record sizes. The sizes are those of
//! openconnect 9 against ocserv 1.1 (captures/vpn/userspace); other
//! clients and servers (Cisco ASA) differ and are not claimed.

use std::fmt;
use std::ops::RangeInclusive;

use super::super::super::dissector::{Confidence, Findings};
use super::super::super::facts::{Clue as FactClue, Evidence, Fact};
use super::super::super::vpn::{Value, VpnFacts, VpnProtocol};
use super::view::{application_data, overheads};
use super::Log;

/// Plaintext sizes of the three auth POSTs and their answers.
pub const POST: RangeInclusive<usize> = 900..=1200;
pub const ANSWER: RangeInclusive<usize> = 400..=760;

/// What the records showed: the plaintext sizes, client and server in turn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clue {
    pub sizes: [usize; 6],
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.sizes;
        write!(
            f,
            "record sizes only (payload encrypted), no ALPN: three client requests of {}, {}, {} bytes each answered once ({}, {}, {} bytes), the shape of OpenConnect's XML auth POSTs (openconnect/ocserv)",
            s[0], s[2], s[4], s[1], s[3], s[5]
        )
    }
}

/// The analyzer.
pub fn analyze(log: &Log) -> Option<Findings> {
    if log.hello.alpn {
        return None;
    }
    let data = application_data(log);
    for &o in overheads(log) {
        // TLS 1.3: the client's Finished first; the server's session
        // tickets come before its first answer.
        let mut seq: Vec<(usize, usize)> = Vec::new();
        let mut skipped_finished = o != 17;
        for r in &data {
            if r.side == 0 && !skipped_finished {
                skipped_finished = true;
                continue;
            }
            if !skipped_finished {
                continue;
            }
            seq.push((r.side, r.len.saturating_sub(o)));
        }
        // Server records before the first client request (tickets) go.
        let start = seq.iter().position(|(side, _)| *side == 0)?;
        let seq = &seq[start..];
        let Some(turns) = seq.get(..6) else {
            continue;
        };
        let want = [
            (0, &POST),
            (1, &ANSWER),
            (0, &POST),
            (1, &ANSWER),
            (0, &POST),
            (1, &ANSWER),
        ];
        let fits = turns
            .iter()
            .zip(want.iter())
            .all(|((side, len), (ws, range))| side == ws && range.contains(len));
        if !fits {
            continue;
        }
        let mut sizes = [0usize; 6];
        for (s, (_, len)) in sizes.iter_mut().zip(turns) {
            *s = *len;
        }
        let packet = log.records.first().map_or(0, |r| r.packet);
        return Some(Findings {
            facts: vec![Fact::Vpn(VpnFacts {
                protocol: VpnProtocol::OpenConnect,
                confidence: Confidence::Low,
                details: vec![
                    ("channel", Value::Text("cstp")),
                    ("evidence", Value::Text("record-sizes")),
                ],
            })],
            evidence: vec![Evidence {
                packet,
                what: FactClue::OpenConnectTls(Clue { sizes }),
            }],
            links: Vec::new(),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::sstp::tests::log_with_sni;
    use super::*;

    #[test]
    fn auth_exchange_sizes() {
        // openconnect-tcp4443-tls-only.pcap (TLS 1.3): the client Finished,
        // tickets, then the three POSTs and answers.
        let recs = [
            (0, 69),
            (1, 74),
            (1, 74),
            (0, 987),
            (1, 504),
            (0, 991),
            (1, 518),
            (0, 1059),
            (1, 684),
        ];
        let l = log_with_sni(None, 0x0304, 0x1302, &recs);
        assert!(analyze(&l).is_some());
        // Two exchanges only, or an answer out of range: nothing.
        let l = log_with_sni(None, 0x0304, 0x1302, &recs[..7]);
        assert!(analyze(&l).is_none());
        let mut big = recs;
        big[6] = (1, 1400);
        assert!(analyze(&log_with_sni(None, 0x0304, 0x1302, &big)).is_none());
    }
}
