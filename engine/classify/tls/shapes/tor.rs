//! Tor's link handshake inside TLS (a shape analyzer): Tor clients name a
//! random host in their ClientHello — `www.` + a random base32 label +
//! `.com` or `.net` — offer no ALPN, and once the handshake is done both
//! sides send fixed-size 514-byte cells, so the TLS records after the
//! hellos carry whole numbers of cells.
//!
//! A record carries cells when its length is 514·k plus the record
//! overhead of TLS 1.3 (17: type byte and tag), of TLS 1.2 AES-GCM (24:
//! explicit nonce and tag), or, for TLS 1.0 CBC with the 1/n-1 split, the
//! n-1 part (514·k − 1 bytes, a 20-byte MAC, padded to 16), for k = 1..=8.
//!
//! The finding is a VPN fact (`vpn.protocol: "tor"`) on a flow that stays
//! `tls`, at `medium` confidence: the random host name, no ALPN, and cell
//! records both ways ([`CELLS_EACH_WAY`] from each side at least,
//! [`CELLS`] in all). The certificates, which would say more, are
//! encrypted in TLS 1.3 and not read. Without the cells nothing is said
//! (a random-looking `www` host alone is not enough).

use std::fmt;

use super::super::super::dissector::{Confidence, Findings};
use super::super::super::facts::{Clue as FactClue, Evidence, Fact};
use super::super::super::vpn::{Value, VpnFacts, VpnProtocol};
use super::super::ContentType;
use super::Log;

/// Tor's fixed cell size (link protocol 4 and later).
pub const CELL: usize = 514;
/// Cell records needed from each side.
pub const CELLS_EACH_WAY: u32 = 1;
/// Cell records needed in all.
pub const CELLS: u32 = 3;

/// What a Tor-shaped TLS flow showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clue {
    /// The ClientHello names a random `www.<base32>.com|net` host and offers
    /// no ALPN.
    RandomHost,
    /// Records carrying whole 514-byte cells, per side.
    Cells { client: u32, server: u32 },
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clue::RandomHost => f.write_str(
                "ClientHello names a random www.<base32>.com|net host (Tor's fake link hostname) and offers no ALPN",
            ),
            Clue::Cells { client, server } => write!(
                f,
                "TLS records of whole 514-byte Tor cells after the handshake: {client} from the client, {server} from the server"
            ),
        }
    }
}

/// `www.` + 4..=32 characters of base32 (`a-z`, `2-7`) + `.com` or `.net`,
/// the label not all letters unless it has no vowel run a word would have
/// (Tor draws 8 to 20 random bytes' worth and encodes them in base32).
pub fn random_host(sni: &str) -> bool {
    let Some(rest) = sni.strip_prefix("www.") else {
        return false;
    };
    let Some(label) = rest
        .strip_suffix(".com")
        .or_else(|| rest.strip_suffix(".net"))
    else {
        return false;
    };
    let base32 = |c: char| c.is_ascii_lowercase() || ('2'..='7').contains(&c);
    if !(4..=32).contains(&label.len()) || !label.chars().all(base32) {
        return false;
    }
    // A word-like label (an ordinary site) has vowels between its
    // consonants; random base32 has a digit most of the time, and long
    // consonant runs otherwise.
    let digit = label.chars().any(|c| c.is_ascii_digit());
    let mut run = 0;
    let mut longest = 0;
    for c in label.chars() {
        if "aeiouy".contains(c) {
            run = 0;
        } else {
            run += 1;
            longest = longest.max(run);
        }
    }
    digit || longest >= 4
}

/// A record length that is whole cells plus one TLS record overhead.
pub fn carries_cells(len: usize) -> bool {
    (1..=8).any(|k| {
        let cells = CELL * k;
        len == cells + 17 || len == cells + 24 || len == (cells - 1 + 20) / 16 * 16 + 16
    })
}

/// The analyzer.
pub fn analyze(log: &Log) -> Option<Findings> {
    let sni = log.hello.sni.as_deref()?;
    if log.hello.alpn || !random_host(sni) {
        return None;
    }
    let mut cells = [0u32; 2];
    let mut first = None;
    for r in &log.records {
        if r.content_type == ContentType::APPLICATION_DATA && carries_cells(r.len) {
            cells[r.side.min(1)] += 1;
            first.get_or_insert(r.packet);
        }
    }
    if cells.iter().any(|&c| c < CELLS_EACH_WAY) || cells[0] + cells[1] < CELLS {
        return None;
    }
    let packet = first?;
    Some(Findings {
        facts: vec![Fact::Vpn(VpnFacts {
            protocol: VpnProtocol::Tor,
            confidence: Confidence::Medium,
            details: vec![
                ("channel", Value::Text("link")),
                (
                    "cell_records",
                    Value::Number(u64::from(cells[0] + cells[1])),
                ),
            ],
        })],
        evidence: vec![
            Evidence {
                packet,
                what: FactClue::Tor(Clue::RandomHost),
            },
            Evidence {
                packet,
                what: FactClue::Tor(Clue::Cells {
                    client: cells[0],
                    server: cells[1],
                }),
            },
        ],
        links: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tor_hosts_and_ordinary_ones() {
        for h in [
            "www.gxgx5f2t2hvt.com",
            "www.trcpr.com",
            "www.cmbxnnu.com",
            "www.m3phi3gvukrbkee4re6lwuy.com",
            "www.ct7ctrgb6cr7.net",
        ] {
            assert!(random_host(h), "{h}");
        }
        for h in [
            "www.google.com",
            "www.facebook.com",
            "www.example.net",
            "www.wikipedia.com",
            "google.com",
            "www.abc.com",
            "www.gxgx5f2t2hvt.org",
            "www.gx-x5f2t2hvt.com",
        ] {
            assert!(!random_host(h), "{h}");
        }
    }

    #[test]
    fn cell_records() {
        for len in [531, 1045, 1559, 2073, 538, 544, 1056, 3104] {
            assert!(carries_cells(len), "{len}");
        }
        for len in [69, 28, 2035, 530, 1044, 32, 600] {
            assert!(!carries_cells(len), "{len}");
        }
    }
}
