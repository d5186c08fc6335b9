//! Facts one flow leaves for another between the same two hosts: a PPTP
//! control connection's call ids for its GRE flow, a VPN's TLS channel for
//! its DTLS channel.
//!
//! Traffic is sharded by the pair of addresses (ports aside), so every flow
//! between two hosts is handled by one worker, in input order: each worker
//! keeps its own [`Links`] and no lock is taken. (Live capture with AF_PACKET
//! fanout hashes on ports too, so there two flows of a pair may land on
//! different workers and miss each other's links; the dispatcher mode keeps
//! them together.) The table is bounded: at most [`MAX_PAIRS`] host pairs
//! and [`MAX_PER_PAIR`] links each, the oldest dropped first.
//!
//! GRE is routed by its outer address pair (not by the packet it carries),
//! so a PPTP control connection and its enhanced-GRE flow meet on one
//! worker. Links left today: the PPTP control connection's call ids
//! ([`super::pptp`], read by [`super::gre`]), every TLS ClientHello
//! (value 0, read by [`super::dtls`]: an OpenConnect DTLS channel after the
//! TLS channel to the same server), and a tinc meta connection (read by
//! [`super::tinc::TincUdp`], its data channel). A link only reaches flows that come
//! after it in input order: the earlier flow's record is not changed by
//! what a later one finds (the DTLS verdict does not reach back to the TLS
//! flow).

use std::collections::VecDeque;
use std::net::IpAddr;

use hashbrown::HashMap;

use super::registry::Kind;

/// Host pairs remembered per worker.
pub const MAX_PAIRS: usize = 4096;
/// Links remembered per host pair.
pub const MAX_PER_PAIR: usize = 8;

/// One fact a flow left: which dissector left it, a value whose meaning
/// that dissector defines (a call id, a port), and the packet that showed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    pub kind: Kind,
    pub value: u64,
    pub packet: u64,
}

/// The links of one worker, by unordered host pair.
#[derive(Debug, Default)]
pub struct Links {
    pairs: HashMap<Pair, Vec<Link>>,
    /// Host pairs in the order they were first linked, for eviction.
    order: VecDeque<Pair>,
    /// Links dropped to stay within the bounds.
    pub dropped: u64,
}

/// An unordered host pair as the table keys it: both addresses as 128-bit
/// integers (IPv4 in IPv6's mapped space), the smaller first, and whether
/// they are IPv4 (an IPv4 host and its mapped IPv6 form stay apart).
/// Every datagram a flow inspects looks its pair up: integers compare and
/// hash in a few words where the address enums went byte by byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Pair {
    lo: u128,
    hi: u128,
    v4: bool,
}

#[inline]
fn pair(a: IpAddr, b: IpAddr) -> Pair {
    let wide = |a: IpAddr| match a {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    };
    let (x, y) = (wide(a), wide(b));
    Pair {
        lo: x.min(y),
        hi: x.max(y),
        v4: a.is_ipv4(),
    }
}

impl Links {
    /// The links left between `a` and `b`, oldest first.
    pub fn between(&self, a: IpAddr, b: IpAddr) -> &[Link] {
        self.pairs.get(&pair(a, b)).map_or(&[], Vec::as_slice)
    }

    /// Forgets every link (an input file ended: its flows leave nothing
    /// for the next file's, as when the files are analyzed at once).
    pub fn clear(&mut self) {
        self.pairs.clear();
        self.order.clear();
    }

    /// Leaves `link` between `a` and `b`.
    pub fn add(&mut self, a: IpAddr, b: IpAddr, link: Link) {
        let key = pair(a, b);
        if !self.pairs.contains_key(&key) {
            if self.order.len() >= MAX_PAIRS {
                if let Some(old) = self.order.pop_front() {
                    self.dropped += self.pairs.remove(&old).map_or(0, |v| v.len() as u64);
                }
            }
            self.order.push_back(key);
        }
        let links = self.pairs.entry(key).or_default();
        if links.len() >= MAX_PER_PAIR {
            links.remove(0);
            self.dropped += 1;
        }
        links.push(link);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_symmetric() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let mut links = Links::default();
        for i in 0..10 {
            links.add(
                a,
                b,
                Link {
                    kind: Kind::Tls,
                    value: i,
                    packet: i,
                },
            );
        }
        assert_eq!(links.between(b, a).len(), MAX_PER_PAIR);
        assert_eq!(links.between(a, b)[0].value, 2, "the oldest went first");
        assert_eq!(links.dropped, 2);
        for i in 0..MAX_PAIRS as u32 + 1 {
            let c = IpAddr::from(std::net::Ipv4Addr::from(0x0b00_0000 + i));
            links.add(
                a,
                c,
                Link {
                    kind: Kind::Tls,
                    value: 0,
                    packet: 0,
                },
            );
        }
        assert!(links.between(a, b).is_empty(), "the oldest pair evicted");
        assert!(links.pairs.len() <= MAX_PAIRS);
    }
}
