//! IPv4 and IPv6 fragment reassembly, bounded.
//!
//! Datagrams are keyed by (source, destination, protocol, identification) —
//! RFC 791 — or (source, destination, identification) for IPv6 (RFC 8200).
//! Limits, all counted when they bite:
//! - a datagram is dropped if it is not complete [`DefragConfig::timeout`]
//!   after its first fragment, in packet time;
//! - at most [`DefragConfig::max_datagrams`] are in progress and at most
//!   [`DefragConfig::max_bytes`] buffered; past either, the oldest goes;
//! - a datagram may have at most [`DefragConfig::max_fragments`] fragments and
//!   may not end past 65,535 bytes.
//!
//! Overlap policy: for IPv4 the **first copy wins** — bytes already held are
//! never overwritten, a later fragment only fills gaps. That is what Linux and
//! the BSDs do for the common retransmission case, and it stops a later
//! fragment from rewriting a header the classifiers have already trusted.
//! For IPv6, overlapping fragments make the whole datagram invalid (RFC 5722):
//! it is dropped, and so are its later fragments until it times out.

use std::collections::VecDeque;
use std::net::IpAddr;

use hashbrown::HashMap;

use super::ip::IpPacket;
use crate::capture::{Timestamp, NANOS_PER_SEC};

/// Limits of the reassembler.
#[derive(Clone, Copy, Debug)]
pub struct DefragConfig {
    pub timeout: Timestamp,
    pub max_datagrams: usize,
    pub max_bytes: usize,
    pub max_fragments: u16,
}

impl Default for DefragConfig {
    fn default() -> Self {
        DefragConfig {
            timeout: 30 * NANOS_PER_SEC,
            max_datagrams: 8192,
            max_bytes: 32 << 20,
            max_fragments: 128,
        }
    }
}

/// What the reassembler counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DefragStats {
    pub fragments: u64,
    pub reassembled: u64,
    /// Datagrams given up: timed out, evicted, malformed or overlapping.
    pub dropped: u64,
    pub timed_out: u64,
    pub evicted: u64,
    pub overlaps: u64,
    pub malformed: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    proto: u8,
}

struct Pending {
    first_seen: Timestamp,
    buf: Vec<u8>,
    /// Sorted, disjoint, non-adjacent byte ranges already filled.
    filled: Vec<(u32, u32)>,
    total: Option<u32>,
    fragments: u16,
    wire_bytes: u64,
    /// IPv6 overlap seen: drop everything until the timeout.
    poisoned: bool,
}

/// A complete datagram's upper-layer bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct Reassembled {
    /// IPv4: the datagram's protocol. IPv6: the fragment header's next header
    /// (the payload may begin with further extension headers).
    pub proto: u8,
    pub payload: Vec<u8>,
    /// Sum of the wire lengths given with each fragment.
    pub wire_bytes: u64,
}

/// Maximum size of an IP payload.
const MAX_DATAGRAM: u32 = 65_535;

pub struct Defragmenter {
    config: DefragConfig,
    pending: HashMap<Key, Pending>,
    /// (first_seen, key) in arrival order, for timeouts and eviction.
    order: VecDeque<(Timestamp, Key)>,
    bytes: usize,
    stats: DefragStats,
}

impl Defragmenter {
    pub fn new(config: DefragConfig) -> Self {
        Defragmenter {
            config,
            pending: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            stats: DefragStats::default(),
        }
    }

    pub fn stats(&self) -> DefragStats {
        self.stats
    }

    /// Bytes held in buffers now.
    pub fn buffered_bytes(&self) -> usize {
        self.bytes
    }

    pub fn in_progress(&self) -> usize {
        self.pending.len()
    }

    fn remove(&mut self, key: &Key) -> Option<Pending> {
        let p = self.pending.remove(key)?;
        self.bytes -= p.buf.capacity();
        Some(p)
    }

    /// Drops datagrams older than the timeout at packet time `now`.
    pub fn expire(&mut self, now: Timestamp) {
        while let Some(&(seen, key)) = self.order.front() {
            if seen.saturating_add(self.config.timeout) > now {
                break;
            }
            self.order.pop_front();
            if self.pending.get(&key).is_some_and(|p| p.first_seen == seen) {
                let p = self.remove(&key).expect("present");
                if !p.poisoned {
                    self.stats.timed_out += 1;
                    self.stats.dropped += 1;
                }
            }
        }
        // Completed datagrams leave stale entries; keep the queue bounded.
        if self.order.len() > 4 * self.config.max_datagrams {
            let pending = &self.pending;
            self.order
                .retain(|(seen, key)| pending.get(key).is_some_and(|p| p.first_seen == *seen));
        }
    }

    /// Evicts the oldest datagram in progress. Returns false if none.
    fn evict_oldest(&mut self) -> bool {
        while let Some((seen, key)) = self.order.pop_front() {
            if self.pending.get(&key).is_some_and(|p| p.first_seen == seen) {
                self.remove(&key);
                self.stats.evicted += 1;
                self.stats.dropped += 1;
                return true;
            }
        }
        false
    }

    /// Adds a fragment (`ip.fragment` must be set; other packets are
    /// ignored) of `wire_len` bytes on the wire; returns the datagram when
    /// it is complete.
    pub fn add(&mut self, now: Timestamp, ip: &IpPacket<'_>, wire_len: u32) -> Option<Reassembled> {
        let frag = ip.fragment?;
        let (src, dst, proto, data) = (ip.src, ip.dst, ip.proto, ip.payload);
        self.stats.fragments += 1;
        self.expire(now);
        let v6 = src.is_ipv6();
        let key = Key {
            src,
            dst,
            id: frag.id,
            proto: if v6 { 0 } else { proto },
        };
        let start = frag.offset;
        let end = start + data.len() as u32;
        if end > MAX_DATAGRAM || (frag.more && data.len() % 8 != 0) {
            // Too long, or a non-final fragment not a multiple of 8 bytes.
            self.remove(&key);
            self.stats.malformed += 1;
            self.stats.dropped += 1;
            return None;
        }
        if !self.pending.contains_key(&key) {
            while self.pending.len() >= self.config.max_datagrams
                || self.bytes + end as usize > self.config.max_bytes
            {
                if !self.evict_oldest() {
                    break;
                }
            }
            self.pending.insert(
                key,
                Pending {
                    first_seen: now,
                    buf: Vec::new(),
                    filled: Vec::new(),
                    total: None,
                    fragments: 0,
                    wire_bytes: 0,
                    poisoned: false,
                },
            );
            self.order.push_back((now, key));
        }
        let max_fragments = self.config.max_fragments;
        let p = self.pending.get_mut(&key).expect("inserted above");
        if p.poisoned {
            return None;
        }
        p.fragments += 1;
        p.wire_bytes += u64::from(wire_len);
        let mut bad = p.fragments > max_fragments;
        if !frag.more {
            match p.total {
                Some(t) if t != end => bad = true,
                _ => p.total = Some(end),
            }
        }
        if p.total.is_some_and(|t| end > t) {
            bad = true;
        }
        let overlaps = p.filled.iter().any(|&(s, e)| s < end && start < e);
        if overlaps {
            self.stats.overlaps += 1;
        }
        if bad || (overlaps && v6) {
            if overlaps && v6 && !bad {
                // RFC 5722: keep the key poisoned until the timeout.
                p.poisoned = true;
                self.bytes -= p.buf.capacity();
                p.buf = Vec::new();
                p.filled.clear();
            } else {
                self.remove(&key);
                self.stats.malformed += 1;
            }
            self.stats.dropped += 1;
            return None;
        }
        if p.buf.len() < end as usize {
            let before = p.buf.capacity();
            p.buf.resize(end as usize, 0);
            self.bytes += p.buf.capacity() - before;
        }
        fill_gaps(&mut p.buf, &mut p.filled, start, data);
        let complete = p.total.is_some_and(|t| p.filled.as_slice() == [(0, t)]);
        if !complete {
            return None;
        }
        let p = self.remove(&key).expect("present");
        self.stats.reassembled += 1;
        let mut payload = p.buf;
        payload.truncate(p.total.unwrap_or(0) as usize);
        Some(Reassembled {
            proto,
            payload,
            wire_bytes: p.wire_bytes,
        })
    }
}

/// Copies `data` (at `start`) into the parts of `buf` not yet filled, and
/// records the new coverage. First copy wins.
fn fill_gaps(buf: &mut [u8], filled: &mut Vec<(u32, u32)>, start: u32, data: &[u8]) {
    let end = start + data.len() as u32;
    let mut cursor = start;
    for &(s, e) in filled.iter() {
        if e <= cursor {
            continue;
        }
        if s >= end {
            break;
        }
        if s > cursor {
            let (a, b) = (cursor as usize, s as usize);
            buf[a..b].copy_from_slice(&data[a - start as usize..b - start as usize]);
        }
        cursor = cursor.max(e);
        if cursor >= end {
            break;
        }
    }
    if cursor < end {
        let (a, b) = (cursor as usize, end as usize);
        buf[a..b].copy_from_slice(&data[a - start as usize..b - start as usize]);
    }
    // Merge [start, end) into the range list.
    filled.push((start, end));
    filled.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::with_capacity(filled.len());
    for &(s, e) in filled.iter() {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    *filled = merged;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::ip::Fragment;

    const SEC: u64 = NANOS_PER_SEC;

    fn a(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn frag(offset: u32, more: bool) -> Fragment {
        Fragment {
            id: 7,
            offset,
            more,
        }
    }

    fn packet<'a>(src: &str, dst: &str, f: Fragment, data: &'a [u8]) -> IpPacket<'a> {
        IpPacket {
            src: a(src),
            dst: a(dst),
            proto: 17,
            payload: data,
            fragment: Some(f),
            truncated: false,
            ttl: 64,
        }
    }

    fn add(d: &mut Defragmenter, t: u64, f: Fragment, data: &[u8]) -> Option<Reassembled> {
        d.add(
            t,
            &packet("10.0.0.1", "10.0.0.2", f, data),
            data.len() as u32 + 34,
        )
    }

    #[test]
    fn in_order_and_out_of_order() {
        let whole: Vec<u8> = (0..40u8).collect();
        let mut d = Defragmenter::new(DefragConfig::default());
        assert!(add(&mut d, SEC, frag(16, true), &whole[16..32]).is_none());
        assert!(add(&mut d, SEC, frag(32, false), &whole[32..]).is_none());
        let r = add(&mut d, SEC, frag(0, true), &whole[..16]).unwrap();
        assert_eq!(r.payload, whole);
        assert_eq!((r.proto, r.wire_bytes), (17, 40 + 3 * 34));
        assert_eq!(d.in_progress(), 0);
        assert_eq!(d.buffered_bytes(), 0);
    }

    #[test]
    fn ipv4_overlap_first_copy_wins() {
        let mut d = Defragmenter::new(DefragConfig::default());
        assert!(add(&mut d, SEC, frag(0, true), &[1; 16]).is_none());
        // Overlaps bytes 8..16 with 2s; only 16..24 is new.
        assert!(add(&mut d, SEC, frag(8, true), &[2; 16]).is_none());
        let r = add(&mut d, SEC, frag(24, false), &[3; 4]).unwrap();
        let mut want = vec![1; 16];
        want.extend([2; 8]);
        want.extend([3; 4]);
        assert_eq!(r.payload, want);
        assert_eq!(d.stats().overlaps, 1);
    }

    #[test]
    fn ipv6_overlap_drops_datagram() {
        let mut d = Defragmenter::new(DefragConfig::default());
        let v6 = |f, data| packet("2001:db8::1", "2001:db8::2", f, data);
        assert!(d.add(SEC, &v6(frag(0, true), &[1; 16]), 70).is_none());
        assert!(d.add(SEC, &v6(frag(8, true), &[2; 16]), 70).is_none());
        assert!(d.add(SEC, &v6(frag(24, false), &[3; 8]), 70).is_none());
        assert!(d.add(SEC, &v6(frag(16, true), &[3; 8]), 70).is_none());
        assert_eq!(d.stats().dropped, 1);
        assert_eq!(d.stats().reassembled, 0);
    }

    #[test]
    fn timeout_on_packet_time() {
        let mut d = Defragmenter::new(DefragConfig::default());
        assert!(add(&mut d, SEC, frag(0, true), &[1; 16]).is_none());
        d.expire(40 * SEC);
        assert_eq!(d.in_progress(), 0);
        assert_eq!(d.stats().timed_out, 1);
        // The late tail starts a new datagram that never completes.
        assert!(add(&mut d, 41 * SEC, frag(16, false), &[1; 4]).is_none());
        assert_eq!(d.in_progress(), 1);
    }

    #[test]
    fn caps_evict_oldest_and_refuse_oversize() {
        let cfg = DefragConfig {
            max_datagrams: 2,
            ..DefragConfig::default()
        };
        let mut d = Defragmenter::new(cfg);
        for id in 0..5 {
            let f = Fragment {
                id,
                offset: 0,
                more: true,
            };
            d.add(SEC, &packet("10.0.0.1", "10.0.0.2", f, &[0; 8]), 50);
        }
        assert_eq!(d.in_progress(), 2);
        assert_eq!(d.stats().evicted, 3);
        assert!(add(&mut d, SEC, frag(65_528, false), &[0; 16]).is_none());
        assert_eq!(d.stats().malformed, 1);
    }

    #[test]
    fn flood_of_fragments_stays_within_byte_cap() {
        let cfg = DefragConfig {
            max_bytes: 1 << 20,
            ..DefragConfig::default()
        };
        let mut d = Defragmenter::new(cfg);
        for id in 0..10_000u32 {
            let f = Fragment {
                id,
                offset: 60_000,
                more: true,
            };
            d.add(SEC, &packet("10.0.0.1", "10.0.0.2", f, &[0; 1480]), 1514);
            assert!(d.buffered_bytes() <= (1 << 20) + 65_536);
        }
    }
}
