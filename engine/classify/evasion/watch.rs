//! What a flow's packets showed of evasion, gathered while it is
//! classified: decoys the judge threw out, and the shape of the client's
//! first message — cut into small pieces, sent out of order, split across
//! TLS records, in small IP fragments.
//!
//! The shape is judged when the first message is complete (the verdict),
//! over the client's pieces up to that point: a piece that ends before the
//! message does and is well under the segment size the server allowed
//! ([`SMALL_BY`] bytes less than its MSS, or than the largest piece when no
//! SYN was seen) is a **split**; a piece that arrived ahead of a gap while
//! the message was split is **disorder**. Full-size pieces (a small MSS) and
//! a lost segment retransmitted are neither.

use super::fooling::{BADSUM, TTL};
use super::{decoy_name, Evasion, Technique};
use crate::decode::ip::ext;
use crate::decode::IpFacts;

/// A piece shorter than the segment size by more than this (room for
/// options and a rounding sender) is small.
pub const SMALL_BY: u32 = 64;
/// Client pieces remembered per flow; beyond it the message is taken as
/// split (no honest sender cuts a hello into so many pieces).
const MAX_PIECES: usize = 64;
/// A first IP fragment carrying fewer bytes than this is not the path MTU
/// at work (IPv4's minimum MTU is 576, IPv6's 1280).
pub const SMALL_FRAGMENT: u32 = 512;
/// Client bytes kept until the first message is complete, to find the
/// server name's place in it.
const MAX_HEAD: usize = 4096;
/// SYN data held until the SYN-ACK tells whether the server took it.
pub const MAX_SYN_DATA: usize = 4096;

/// Data a SYN carried, waiting for the server's verdict on it.
#[derive(Debug)]
pub struct SynData {
    pub seq: u32,
    pub bytes: Vec<u8>,
    pub packet: u64,
}

/// Bytes of suspect copies (wrong checksum) held per flow, and how many.
pub const MAX_SUSPECT_BYTES: usize = 8192;
const MAX_SUSPECTS: usize = 8;

/// A client copy with a wrong checksum, waiting for a ruling.
#[derive(Debug)]
pub struct Suspect {
    /// [`super::fooling`] bits: BADSUM, TTL.
    pub fooling: u16,
    pub seq: u32,
    pub bytes: Vec<u8>,
    pub packet: u64,
}

/// A flow's evasion evidence while it is classified.
#[derive(Debug, Default)]
pub struct Watch {
    pub found: Evasion,
    /// The client's valid data pieces: (stream offset, length, packet).
    pieces: Vec<(u32, u32, u64)>,
    crowded: bool,
    /// Stream offset and packet of the first client piece held out of order.
    held: Option<(u32, u64)>,
    /// The first message was judged.
    closed: bool,
    /// The client stream's first bytes, for the TLS record check, the
    /// name's place and the Host header; not kept when they start neither
    /// a TLS record nor an HTTP request (`closed_head`).
    head: Vec<u8>,
    closed_head: bool,
    pub syn_data: Option<SynData>,
    /// Client copies with a wrong checksum, in arrival order.
    pub suspects: Vec<Suspect>,
    /// QUIC: the client's connections, until the server answers one.
    pub quic: super::quic::QuicWatch,
}

impl Watch {
    /// A copy the receiver drops: a fake with `fooling`; its bytes may name
    /// a decoy.
    pub fn fake(&mut self, fooling: u16, bytes: &[u8], packet: u64) {
        self.found.note(Technique::Fake, fooling, Some(packet));
        if let Some(name) = decoy_name(bytes) {
            self.found.decoy(Technique::Fake, name);
        }
    }

    /// Holds a suspect copy at `seq`. Returns the suspects held before that
    /// it shows were real (they end at or before it: the sender went on),
    /// and false when there is no room (the copy is then taken at once).
    pub fn suspect(
        &mut self,
        fooling: u16,
        seq: u32,
        bytes: &[u8],
        packet: u64,
    ) -> (Vec<Suspect>, bool) {
        let (real, wait): (Vec<Suspect>, Vec<Suspect>) = std::mem::take(&mut self.suspects)
            .into_iter()
            .partition(|s| s.fooling == BADSUM && ends_by(s, seq));
        self.suspects = wait;
        let held: usize = self.suspects.iter().map(|s| s.bytes.len()).sum();
        if self.suspects.len() >= MAX_SUSPECTS || held + bytes.len() > MAX_SUSPECT_BYTES {
            return (real, false);
        }
        self.suspects.push(Suspect {
            fooling,
            seq,
            bytes: bytes.to_vec(),
            packet,
        });
        (real, true)
    }

    /// A valid client copy of `bytes` at `seq` arrived: suspects it
    /// overlaps with other bytes were fakes (with the same bytes, plain
    /// retransmissions, dropped); suspects wholly before it were real (the
    /// sender went on without sending them again) and are returned, to be
    /// taken.
    pub fn rule_suspects(&mut self, seq: u32, bytes: &[u8]) -> Vec<Suspect> {
        let mut real = Vec::new();
        let end = seq.wrapping_add(bytes.len() as u32);
        for s in std::mem::take(&mut self.suspects) {
            let s_end = s.seq.wrapping_add(s.bytes.len() as u32);
            let overlap_from = if (seq.wrapping_sub(s.seq) as i32) > 0 {
                seq
            } else {
                s.seq
            };
            let overlap_to = if (end.wrapping_sub(s_end) as i32) < 0 {
                end
            } else {
                s_end
            };
            if (overlap_to.wrapping_sub(overlap_from) as i32) > 0 {
                let a = &s.bytes[overlap_from.wrapping_sub(s.seq) as usize..];
                let b = &bytes[overlap_from.wrapping_sub(seq) as usize..];
                let n = overlap_to.wrapping_sub(overlap_from) as usize;
                if a[..n] != b[..n] {
                    self.fake(s.fooling, &s.bytes, s.packet);
                } else if overlap_to != s_end {
                    // The same bytes so far: what follows decides.
                    self.suspects.push(s);
                } else if s.fooling & TTL != 0 {
                    // The same bytes again at full TTL: the first copy was
                    // sent to die on the way (ByeDPI's disorder).
                    self.found.note(Technique::Disorder, TTL, Some(s.packet));
                }
            } else if s.fooling == BADSUM && ends_by(&s, seq) {
                real.push(s);
            } else {
                self.suspects.push(s);
            }
        }
        real
    }

    /// The server acknowledged up to `ack`: suspects it covers were taken.
    pub fn acked_suspects(&mut self, ack: u32) -> Vec<Suspect> {
        let (taken, wait): (Vec<Suspect>, Vec<Suspect>) = std::mem::take(&mut self.suspects)
            .into_iter()
            .partition(|s| {
                let s_end = s.seq.wrapping_add(s.bytes.len() as u32);
                (ack.wrapping_sub(s_end) as i32) >= 0
            });
        self.suspects = wait;
        taken
    }

    /// The flow ends before its first message was judged (no verdict):
    /// what the bytes show alone (an HTTP head with Host tricks the HTTP
    /// reader refused).
    pub fn unjudged(&mut self) {
        if !self.closed {
            let head = std::mem::take(&mut self.head);
            self.host_check(&head);
        }
    }

    fn host_check(&mut self, head: &[u8]) {
        let plausible = head
            .first()
            .is_some_and(|b| b.is_ascii_uppercase() || *b == b'\r' || *b == b'\n');
        if plausible && super::host::host_tricks(head) {
            let packet = self.pieces.first().map(|p| p.2);
            self.found.note(Technique::HostHeader, 0, packet);
        }
    }

    /// SYN data the server did not take.
    pub fn syn_refused(&mut self, d: &SynData) {
        self.found.note(Technique::SynData, 0, Some(d.packet));
        if let Some(name) = decoy_name(&d.bytes) {
            self.found.decoy(Technique::SynData, name);
        }
    }

    /// What the IP layer of a valid data packet showed, while classified.
    pub fn ip(&mut self, ip: &IpFacts<'_>, packet: u64) {
        if ip.fragments > 1 && ip.first_fragment < SMALL_FRAGMENT {
            self.found.note(Technique::IpFragments, 0, Some(packet));
            if ip.fragments_reordered {
                self.found.note(Technique::Disorder, 0, Some(packet));
            }
        }
        if ip.ext & ext::ATOMIC_FRAGMENT != 0 {
            self.found.note(Technique::IpFragments, 0, Some(packet));
        }
        if ip.ext & (ext::HOP_BY_HOP | ext::DEST_OPTS) != 0 {
            self.found.note(Technique::Ipv6Ext, 0, Some(packet));
        }
    }

    /// A valid client piece at stream offset `at`, `held` when it arrived
    /// ahead of a gap.
    pub fn piece(&mut self, at: u32, len: u32, packet: u64, held: bool) {
        if self.closed || len == 0 {
            return;
        }
        if self.pieces.len() < MAX_PIECES {
            self.pieces.push((at, len, packet));
        } else {
            self.crowded = true;
        }
        if held && self.held.is_none() {
            self.held = Some((at, packet));
        }
    }

    /// The client stream's bytes, in order: the first nine tell whether
    /// the ClientHello spans TLS records; the first `MAX_HEAD` where the
    /// server name lies (see [`close`](Self::close)).
    pub fn client_bytes(&mut self, bytes: &[u8]) {
        if self.closed || self.head.len() >= MAX_HEAD {
            return;
        }
        // Only a TLS record or an HTTP request is kept (the checks read
        // nothing else).
        let keep = |b: u8| b == 0x16 || b.is_ascii_uppercase() || b == b'\r' || b == b'\n';
        if self.head.is_empty() && !bytes.first().is_some_and(|&b| keep(b)) {
            self.head = Vec::new();
            self.closed_head = true;
        }
        if self.closed_head {
            return;
        }
        let had = self.head.len();
        let take = (MAX_HEAD - had).min(bytes.len());
        self.head.extend_from_slice(&bytes[..take]);
        if had >= 9 || self.head.len() < 9 {
            return;
        }
        let h = &self.head;
        // A handshake record (0x16 0x03 x) holding a ClientHello (type 1)
        // longer than the record, although the record is not full.
        let record = usize::from(u16::from_be_bytes([h[3], h[4]]));
        let hello = (usize::from(h[6]) << 16) | usize::from(u16::from_be_bytes([h[7], h[8]]));
        if h[0] == 0x16 && h[1] == 3 && h[5] == 1 && hello + 4 > record && record < 16_384 {
            self.found.note(Technique::TlsRec, 0, None);
        }
    }

    /// The client's first message ends at stream offset `end`; the server
    /// allowed segments of `mss` bytes (if its SYN-ACK was seen); the
    /// message named `name` (SNI, Host).
    pub fn close(&mut self, end: u32, mss: Option<u16>, name: Option<&str>) {
        if self.closed {
            return;
        }
        self.closed = true;
        let head = std::mem::take(&mut self.head);
        self.host_check(&head);
        // Without the handshake there is no segment size to judge by.
        let Some(limit) = mss.map(u32::from) else {
            self.pieces = Vec::new();
            return;
        };
        // Pieces shorter than the segment size allowed, before the end.
        let short = |&&(at, len, _): &&(u32, u32, u64)| at + len < end && len + SMALL_BY < limit;
        // Where the name lies in the message: desync tools cut at the first
        // bytes, inside the name or around it; honest writers cut where
        // their buffers end. Searched for only when a cut may need it (most
        // first messages come whole).
        let needs_place = self.crowded || self.pieces.iter().filter(short).any(|p| p.0 + p.1 > 3);
        let find = |n: &[u8]| {
            head.windows(n.len())
                .position(|w| w.eq_ignore_ascii_case(n))
                .map(|p| (p as u32, p as u32))
        };
        // A name cut by an inserted TLS record header: its first bytes.
        let place = name.filter(|n| needs_place && n.len() >= 4).and_then(|n| {
            let n = n.as_bytes();
            let len = n.len() as u32;
            find(n).or_else(|| find(&n[..4])).map(|(s, _)| (s, s + len))
        });
        let telling =
            |cut: u32| cut <= 3 || place.is_some_and(|(s, e)| cut + 4 >= s && cut <= e + 4);
        let small: Vec<u64> = self
            .pieces
            .iter()
            .filter(short)
            .filter(|(at, len, _)| telling(at + len))
            .map(|p| p.2)
            .collect();
        let crowded = self.crowded && place.is_some();
        let split = crowded || !small.is_empty();
        if split {
            for p in small {
                self.found.note(Technique::Split, 0, Some(p));
            }
            self.found.note(Technique::Split, 0, None);
            if let Some((at, packet)) = self.held.filter(|(at, _)| *at < end) {
                let _ = at;
                self.found.note(Technique::Disorder, 0, Some(packet));
            }
        }
        self.pieces = Vec::new();
    }
}

/// True when suspect `s` ends at or before sequence number `seq`.
fn ends_by(s: &Suspect, seq: u32) -> bool {
    let s_end = s.seq.wrapping_add(s.bytes.len() as u32);
    (seq.wrapping_sub(s_end) as i32) >= 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_size_pieces_are_not_split() {
        // The tiny-MSS recording: MSS 88, 76-byte pieces.
        let mut w = Watch::default();
        for i in 0..6 {
            w.piece(i * 76, 76, i as u64, false);
        }
        w.piece(456, 61, 6, false);
        w.close(517, Some(88), None);
        assert!(w.found.is_empty());
        // A lost full-size segment retransmitted after the last one.
        let mut w = Watch::default();
        w.piece(1448, 512, 1, true);
        w.piece(0, 1448, 2, false);
        w.close(1960, Some(1460), None);
        assert!(w.found.is_empty());
    }

    #[test]
    fn small_pieces_out_of_order() {
        let mut w = Watch::default();
        let mut hello = vec![0u8; 517];
        hello[..6].copy_from_slice(&[0x16, 3, 1, 2, 0, 1]);
        hello[100..120].copy_from_slice(b"blocked.example.test");
        w.client_bytes(&hello);
        w.piece(110, 407, 4, true);
        w.piece(0, 110, 5, false);
        w.close(517, Some(1460), Some("blocked.example.test"));
        assert!(w.found.has(Technique::Split) && w.found.has(Technique::Disorder));
    }

    #[test]
    fn tls_records() {
        let mut w = Watch::default();
        // A 512-byte hello in a 100-byte record, fed a byte at a time.
        let head = [0x16, 3, 1, 0, 100, 1, 0, 1, 252];
        for b in head {
            w.client_bytes(&[b]);
        }
        assert!(w.found.has(Technique::TlsRec));
        let mut w = Watch::default();
        w.client_bytes(&[0x16, 3, 1, 2, 0, 1, 0, 1, 252, 3, 3]);
        assert!(w.found.is_empty());
    }
}
