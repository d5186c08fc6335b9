//! SSH on any TCP port: the identification string that starts each side's
//! stream (RFC 4253 §4.2), `SSH-protoversion-softwareversion [comments]`
//! and CR LF (a bare LF accepted), at most [`MAX_LINE`] bytes, printable
//! ASCII, protocol version 2.0, 1.99 or 1.5. The server may send other
//! lines first; they are skipped (up to [`MAX_LINE`] bytes in all).
//!
//! `ssh` at `High` on the first whole identification line of either side
//! (the client's when both come in one read). Its software version is
//! kept in the evidence.

use std::fmt;

use super::dissector::Verdict;
use super::dissector::{Carrier, Confidence, Dissector, Findings, Input, Probe, Probing, Step};
use super::facts::{Clue as FactClue, Evidence};
use super::vpn::side_name;
use super::AppProto;

/// Longest identification line (CR LF included), and the most bytes read
/// per side.
pub const MAX_LINE: usize = 255;

/// What an SSH stream showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clue {
    pub side: usize,
    /// The line without CR LF, cut at [`MAX_LINE`].
    pub line: String,
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SSH identification string from the {}: {}",
            side_name(self.side),
            self.line
        )
    }
}

/// The identification line at the start of `b`: `Ok(Some(line))` when
/// whole, `Ok(None)` when more bytes may complete it, `Err` when it is not
/// one.
fn ident(b: &[u8]) -> Result<Option<&[u8]>, ()> {
    const PREFIX: &[u8] = b"SSH-";
    let n = b.len().min(PREFIX.len());
    if b[..n] != PREFIX[..n] {
        return Err(());
    }
    let Some(end) = b.iter().take(MAX_LINE).position(|&c| c == b'\n') else {
        return if b.len() >= MAX_LINE {
            Err(())
        } else {
            Ok(None)
        };
    };
    let line = &b[..end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if !line.iter().all(|c| (0x20..0x7f).contains(c)) {
        return Err(());
    }
    let rest = &line[4..];
    let version_ok = [&b"2.0-"[..], b"1.99-", b"1.5-"]
        .iter()
        .any(|v| rest.starts_with(v) && rest.len() > v.len());
    if version_ok {
        Ok(Some(line))
    } else {
        Err(())
    }
}

/// The SSH dissector.
#[derive(Debug, Default)]
pub struct Ssh {
    buf: [Vec<u8>; 2],
    off: [bool; 2],
}

impl Dissector for Ssh {
    const CARRIER: Carrier = Carrier::Stream;
    const PROBING: Probing = Probing::EachSide;

    fn probe(bytes: &[u8], side: usize) -> Probe {
        match ident(bytes) {
            Ok(_) => Probe::Maybe,
            // The server may greet with other lines first.
            Err(()) if side != crate::flow::TO_SERVER && bytes.is_ascii() => Probe::Maybe,
            Err(()) => Probe::No,
        }
    }

    fn start() -> Self {
        Ssh::default()
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        let side = input.side.min(1);
        if self.off[side] {
            return if self.off.iter().all(|&o| o) {
                Step::Refuse
            } else {
                Step::NeedMore
            };
        }
        let buf = &mut self.buf[side];
        let room = MAX_LINE.saturating_sub(buf.len());
        buf.extend_from_slice(&input.bytes[..input.bytes.len().min(room)]);
        // The server's lines before its identification string.
        if !input.from_client() {
            while !buf.starts_with(b"SSH-") && buf.len() >= 4 {
                match buf.iter().position(|&c| c == b'\n') {
                    Some(nl) if buf[..nl].is_ascii() => {
                        buf.drain(..=nl);
                    }
                    _ => break,
                }
            }
        }
        match ident(buf) {
            Ok(Some(line)) => {
                let line = String::from_utf8_lossy(line).into_owned();
                Step::Verdict(Verdict {
                    proto: AppProto::Ssh,
                    confidence: Confidence::High,
                    found: Findings {
                        facts: Vec::new(),
                        evidence: vec![Evidence {
                            packet: input.packet,
                            what: FactClue::Ssh(Clue { side, line }),
                        }],
                        links: Vec::new(),
                    },
                    more: false,
                })
            }
            Ok(None) => Step::NeedMore,
            Err(()) => {
                self.off[side] = true;
                self.buf[side] = Vec::new();
                if self.off.iter().all(|&o| o) {
                    Step::Refuse
                } else {
                    Step::NeedMore
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(bytes: &[u8], side: usize) -> Input<'_> {
        Input {
            ports: [0, 0],
            fingerprints: true,
            bytes,
            side,
            packet: 4,
            first: true,
            client_from: None,
            ts: 0,
            links: &[],
        }
    }

    #[test]
    fn banners() {
        let mut s = Ssh::start();
        assert_eq!(s.feed(&input(b"SSH-2.0-Open", 0)), Step::NeedMore);
        let Step::Verdict(v) = s.feed(&input(b"SSH_9.2p1 Debian-2\r\n", 0)) else {
            panic!()
        };
        assert_eq!(v.proto, AppProto::Ssh);
        assert!(v.found.evidence[0]
            .what
            .to_string()
            .ends_with("SSH-2.0-OpenSSH_9.2p1 Debian-2"));
        let mut s = Ssh::start();
        let Step::Verdict(_) = s.feed(&input(b"hello there\r\nSSH-1.99-x\r\n", 1)) else {
            panic!()
        };
        assert_eq!(Ssh::probe(b"SSH-3.0-x\r\n", 0), Probe::No);
        assert_eq!(Ssh::probe(b"GET / HTTP/1.1", 0), Probe::No);
        let mut s = Ssh::start();
        assert_eq!(s.feed(&input(b"SSH-2.0-\r\n", 0)), Step::NeedMore);
    }
}
