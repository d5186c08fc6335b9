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
/// SYN data held until the SYN-ACK tells whether the server took it.
pub const MAX_SYN_DATA: usize = 4096;

/// Data a SYN carried, waiting for the server's verdict on it.
#[derive(Debug)]
pub struct SynData {
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
    /// The client stream's first bytes, for the TLS record check.
    head: Vec<u8>,
    pub syn_data: Option<SynData>,
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
    /// the ClientHello spans TLS records.
    pub fn client_bytes(&mut self, bytes: &[u8]) {
        if self.head.len() >= 9 {
            return;
        }
        let take = (9 - self.head.len()).min(bytes.len());
        self.head.extend_from_slice(&bytes[..take]);
        if self.head.len() < 9 {
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
    /// allowed segments of `mss` bytes (if its SYN-ACK was seen).
    pub fn close(&mut self, end: u32, mss: Option<u16>) {
        if self.closed {
            return;
        }
        self.closed = true;
        let limit = mss.map_or_else(
            || self.pieces.iter().map(|p| p.1).max().unwrap_or(0),
            u32::from,
        );
        let small: Vec<u64> = self
            .pieces
            .iter()
            .filter(|(at, len, _)| at + len < end && len + SMALL_BY < limit)
            .map(|p| p.2)
            .collect();
        let split = self.crowded || !small.is_empty();
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
        w.close(517, Some(88));
        assert!(w.found.is_empty());
        // A lost full-size segment retransmitted after the last one.
        let mut w = Watch::default();
        w.piece(1448, 512, 1, true);
        w.piece(0, 1448, 2, false);
        w.close(1960, Some(1460));
        assert!(w.found.is_empty());
    }

    #[test]
    fn small_pieces_out_of_order() {
        let mut w = Watch::default();
        w.piece(110, 407, 4, true);
        w.piece(0, 110, 5, false);
        w.close(517, Some(1460));
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
