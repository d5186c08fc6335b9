//! How traffic is split between workers: a symmetric hash of a packet's
//! two addresses, cut into ranges of chosen sizes, so both directions of a
//! flow (and its fragments, which carry no ports) reach one worker.

use std::net::IpAddr;

use crate::flow::key::Mix;

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

#[cfg(test)]
mod tests {
    use super::*;

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
