//! SoftEther VPN's TLS sessions, by what they show: the client names the
//! server's IPv4 address as its SNI (which RFC 6066 forbids and browsers
//! never do) and offers no ALPN, and its first requests have SoftEther's
//! sizes — the first connection of a session sends `GET /` (a head of
//! [`GET`] bytes), gets a 403 page ([`FORBIDDEN`]), then POSTs the GIF89a
//! watermark to `/vpnsvc/connect.cgi` ([`WATERMARK`] bytes with its random
//! padding); an additional connection of the session starts with the
//! watermark POST.
//!
//! A VPN fact `softether` on the `tls` flow, from record sizes only (said so
//! in the evidence): `medium` for GET, 403 and watermark in that order,
//! `low` for a watermark-sized first request alone.

use std::fmt;
use std::ops::RangeInclusive;

use super::super::super::dissector::{Confidence, Findings};
use super::super::super::facts::{Clue as FactClue, Evidence, Fact};
use super::super::super::vpn::{Value, VpnFacts, VpnProtocol};
use super::view::{application_data, client_records, overheads};
use super::{Log, Record};

/// Plaintext sizes: SoftEther's `GET /` head, the server's 403 page, the
/// watermark POST.
pub const GET: RangeInclusive<usize> = 200..=360;
pub const FORBIDDEN: RangeInclusive<usize> = 380..=600;
pub const WATERMARK: RangeInclusive<usize> = 1400..=4800;

/// What the records showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clue {
    /// Plaintext sizes of the GET and the 403 (0 when the connection
    /// starts with the watermark) and of the watermark POST.
    pub get: usize,
    pub forbidden: usize,
    pub watermark: usize,
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("record sizes only (payload encrypted), SNI an IPv4 address, no ALPN: ")?;
        if self.get > 0 {
            write!(
                f,
                "the client sends {} bytes (SoftEther's GET /), the server {} (its 403 page), then ",
                self.get, self.forbidden
            )?;
        } else {
            f.write_str("the client's first request is ")?;
        }
        write!(
            f,
            "{} bytes (the size of SoftEther's watermark POST)",
            self.watermark
        )
    }
}

/// The analyzer.
pub fn analyze(log: &Log) -> Option<Findings> {
    let sni = log.hello.sni.as_deref()?;
    if sni.parse::<std::net::Ipv4Addr>().is_err() || log.hello.alpn {
        return None;
    }
    let data = application_data(log);
    for &o in overheads(log) {
        let plain = |r: &Record| r.len.saturating_sub(o);
        let client = client_records(&data, o);
        let Some(&(first_i, first)) = client.first() else {
            continue;
        };
        let (clue, confidence) = if WATERMARK.contains(&plain(first)) {
            let clue = Clue {
                get: 0,
                forbidden: 0,
                watermark: plain(first),
            };
            (clue, Confidence::Low)
        } else if GET.contains(&plain(first)) {
            let Some(&(second_i, second)) = client.get(1) else {
                continue;
            };
            let forbidden = data[first_i + 1..second_i]
                .iter()
                .filter(|r| r.side == 1)
                .map(|r| plain(r))
                .find(|l| FORBIDDEN.contains(l));
            let (Some(forbidden), true) = (forbidden, WATERMARK.contains(&plain(second))) else {
                continue;
            };
            let clue = Clue {
                get: plain(first),
                forbidden,
                watermark: plain(second),
            };
            (clue, Confidence::Medium)
        } else {
            continue;
        };
        return Some(Findings {
            facts: vec![Fact::Vpn(VpnFacts {
                protocol: VpnProtocol::SoftEther,
                confidence,
                details: vec![("evidence", Value::Text("record-sizes"))],
            })],
            evidence: vec![Evidence {
                packet: first.packet,
                what: FactClue::SoftEtherTls(clue),
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

    fn confidence(l: &Log) -> Option<Confidence> {
        match &analyze(l)?.facts[0] {
            Fact::Vpn(v) => Some(v.confidence),
            _ => None,
        }
    }

    #[test]
    fn softether_sessions() {
        // softether-tcp443-udpaccel.pcap, first connection (TLS 1.3).
        let recs = [
            (0, 69),
            (1, 74),
            (1, 74),
            (0, 269),
            (1, 469),
            (0, 1698),
            (1, 540),
        ];
        let first = log_with_sni(Some("10.213.0.2"), 0x0304, 0x1302, &recs);
        assert_eq!(confidence(&first), Some(Confidence::Medium));
        // The additional connection: the watermark POST first.
        let second = log_with_sni(Some("10.213.0.2"), 0x0304, 0x1302, &[(0, 69), (0, 2094)]);
        assert_eq!(confidence(&second), Some(Confidence::Low));
        // A host name as SNI, or none: nothing.
        let named = log_with_sni(Some("vpn.example.org"), 0x0304, 0x1302, &recs);
        assert_eq!(confidence(&named), None);
        let none = log_with_sni(None, 0x0304, 0x1302, &recs);
        assert_eq!(confidence(&none), None);
    }
}
