//! The bidirectional flow key and the symmetric hashes built on it.
//!
//! A key stores its two endpoints in a canonical order (the smaller
//! (address, port) first), so both directions of a flow find the same entry;
//! [`Direction`] remembers which way a packet went. The shard hash
//! ([`Shards`]) uses the two addresses only — not the ports — so that IP fragments, which carry no
//! ports after the first, reach the worker that owns their flow without a
//! shared reassembly stage in front of the workers.

use std::net::IpAddr;

/// One side of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    pub addr: IpAddr,
    pub port: u16,
}

/// A flow's identity: IP protocol and both endpoints in canonical order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    pub lo: Endpoint,
    pub hi: Endpoint,
    pub proto: u8,
}

/// Which way a packet travels relative to the key's canonical order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// From `lo` to `hi`.
    LoToHi,
    /// From `hi` to `lo`.
    HiToLo,
}

impl FlowKey {
    /// The key of a packet from `src` to `dst`, and the packet's direction.
    #[inline]
    pub fn new(proto: u8, src: Endpoint, dst: Endpoint) -> (FlowKey, Direction) {
        if src <= dst {
            (
                FlowKey {
                    lo: src,
                    hi: dst,
                    proto,
                },
                Direction::LoToHi,
            )
        } else {
            (
                FlowKey {
                    lo: dst,
                    hi: src,
                    proto,
                },
                Direction::HiToLo,
            )
        }
    }

    /// A stable 64-bit hash of the key (not seeded: the same on every run).
    pub fn stable_hash(&self) -> u64 {
        let mut h = Mix::default();
        h.addr(self.lo.addr);
        h.addr(self.hi.addr);
        h.word(
            u64::from(self.lo.port) << 32 | u64::from(self.hi.port) << 8 | u64::from(self.proto),
        );
        h.finish()
    }
}

/// How traffic is split between workers: by a symmetric hash of the two
/// addresses, cut into ranges of chosen sizes (worker 0, which also reads
/// and routes the input, takes a smaller range).
#[derive(Clone, Debug)]
pub struct Shards {
    /// Upper bounds of each worker's hash range but the last's.
    bounds: Vec<u64>,
}

impl Shards {
    /// Shares per worker (summing to about 1).
    pub fn new(shares: &[f64]) -> Self {
        let mut acc = 0.0;
        let bounds = shares[..shares.len().saturating_sub(1)]
            .iter()
            .map(|s| {
                acc += s;
                (acc.clamp(0.0, 1.0) * u64::MAX as f64) as u64
            })
            .collect();
        Shards { bounds }
    }

    pub fn workers(&self) -> usize {
        self.bounds.len() + 1
    }

    /// The worker that owns traffic between `a` and `b`, either way.
    #[inline]
    pub fn owner(&self, a: IpAddr, b: IpAddr) -> usize {
        if self.bounds.is_empty() {
            return 0;
        }
        let h = pair_hash(a, b);
        self.bounds
            .iter()
            .position(|&b| h < b)
            .unwrap_or(self.bounds.len())
    }
}

/// A symmetric, unseeded hash of an address pair: each address folded to
/// 64 bits, the pair ordered, one mixing round (the lead computes this for
/// every packet).
#[inline]
pub fn pair_hash(a: IpAddr, b: IpAddr) -> u64 {
    let (x, y) = (fold(a), fold(b));
    let (lo, hi) = if x <= y { (x, y) } else { (y, x) };
    let mut h = Mix::default();
    h.word(lo ^ hi.rotate_left(32));
    h.finish()
}

/// An address in 64 bits (IPv6 halves mixed so that neither dominates).
#[inline]
fn fold(a: IpAddr) -> u64 {
    match a {
        IpAddr::V4(v4) => u64::from(u32::from(v4)),
        IpAddr::V6(v6) => {
            let x = u128::from(v6);
            (x as u64) ^ ((x >> 64) as u64).rotate_left(17) ^ 0x6
        }
    }
}

/// A small fixed-seed mixer (splitmix64-style finalizer per word).
#[derive(Default)]
struct Mix(u64);

impl Mix {
    #[inline]
    fn word(&mut self, w: u64) {
        let mut z = (self.0 ^ w).wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        self.0 = z ^ (z >> 31);
    }

    #[inline]
    fn addr(&mut self, a: IpAddr) {
        match a {
            IpAddr::V4(v4) => self.word(u64::from(u32::from(v4))),
            IpAddr::V6(v6) => {
                let x = u128::from(v6);
                self.word(x as u64);
                self.word((x >> 64) as u64 ^ 0x6);
            }
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Mixes a packet index into a flow hash to make a flow id.
pub fn flow_id(key_hash: u64, first_packet: u64) -> u64 {
    let mut h = Mix(key_hash);
    h.word(first_packet);
    // 53 bits: exact in every JSON reader, including JavaScript's.
    h.finish() & ((1 << 53) - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(s: &str, port: u16) -> Endpoint {
        Endpoint {
            addr: s.parse().unwrap(),
            port,
        }
    }

    #[test]
    fn both_directions_share_a_key() {
        let (k1, d1) = FlowKey::new(6, ep("10.0.0.2", 443), ep("10.0.0.1", 50000));
        let (k2, d2) = FlowKey::new(6, ep("10.0.0.1", 50000), ep("10.0.0.2", 443));
        assert_eq!(k1, k2);
        assert_ne!(d1, d2);
        assert_eq!(k1.stable_hash(), k2.stable_hash());
    }

    #[test]
    fn shards_are_symmetric_and_follow_shares() {
        let shards = Shards::new(&[0.1, 0.3, 0.3, 0.3]);
        let mut counts = [0usize; 4];
        for i in 0..10_000u32 {
            let a: IpAddr = std::net::Ipv4Addr::from(0x0a00_0000 + i).into();
            let b: IpAddr = "192.0.2.1".parse().unwrap();
            assert_eq!(shards.owner(a, b), shards.owner(b, a));
            counts[shards.owner(a, b)] += 1;
        }
        assert!((800..1200).contains(&counts[0]), "{counts:?}");
        assert!(
            counts[1..].iter().all(|&c| (2700..3300).contains(&c)),
            "{counts:?}"
        );
        assert_eq!(
            Shards::new(&[1.0]).owner("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap()),
            0
        );
    }
}
