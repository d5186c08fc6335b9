//! The bidirectional flow key and the symmetric hashes built on it.
//!
//! A key stores its two endpoints in a canonical order (the smaller
//! (address, port) first), so both directions of a flow find the same entry;
//! [`Direction`] remembers which way a packet went. The shard hash
//! ([`Shards`](crate::pipeline::shards::Shards)) uses the two addresses only — not the ports — so that IP fragments, which carry no
//! ports after the first, reach the worker that owns their flow without a
//! shared reassembly stage in front of the workers.

use std::net::{IpAddr, Ipv4Addr};

/// One side of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    pub addr: IpAddr,
    pub port: u16,
}

/// A flow's identity: IP protocol and both endpoints in canonical order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowKey {
    pub lo: Endpoint,
    pub hi: Endpoint,
    pub proto: u8,
}

/// The flow table hashes every packet's key: two words for IPv4 (the
/// derived hash fed the hasher field by field, enum tags included, at
/// several times the cost). Equal keys write equal words.
impl std::hash::Hash for FlowKey {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match (self.lo.addr, self.hi.addr) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                state.write_u64(u64::from(u32::from(a)) << 32 | u64::from(u32::from(b)));
            }
            (a, b) => {
                state.write_u128(wide(a));
                state.write_u128(wide(b));
            }
        }
        state.write_u64(
            u64::from(self.lo.port) << 32 | u64::from(self.hi.port) << 8 | u64::from(self.proto),
        );
    }
}

/// An address as one 128-bit integer (IPv4 mapped into IPv6's space).
#[inline]
fn wide(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
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
        if in_order(&src, &dst) {
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

    /// [`FlowKey::new`] of a packet whose addresses a decoder has just
    /// written. IPv4 addresses are read as the 32-bit numbers they are:
    /// copied whole, an `IpAddr` is loaded 8 bytes at a time, and a load
    /// wider than the 4-byte store that had just written the address
    /// cannot take its bytes from that store — it waits for the store to
    /// reach the cache (a failed store forward for each packet). Through
    /// `to_bits`: a match that rebuilds the same variant is recognised as
    /// a copy and compiled as one.
    #[inline(always)]
    pub fn of_packet(
        proto: u8,
        src: &IpAddr,
        src_port: u16,
        dst: &IpAddr,
        dst_port: u16,
    ) -> (FlowKey, Direction) {
        let (src, dst) = match (src, dst) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (
                IpAddr::V4(Ipv4Addr::from_bits(a.to_bits())),
                IpAddr::V4(Ipv4Addr::from_bits(b.to_bits())),
            ),
            _ => (*src, *dst),
        };
        let src = Endpoint {
            addr: src,
            port: src_port,
        };
        let dst = Endpoint {
            addr: dst,
            port: dst_port,
        };
        FlowKey::new(proto, src, dst)
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

/// `a <= b` in [`Endpoint`]'s order, with the address compared as one
/// integer (the derived order compares it byte by byte, behind the enum's
/// discriminant: the same order, at several times the cost per packet).
#[inline]
fn in_order(a: &Endpoint, b: &Endpoint) -> bool {
    match (a.addr, b.addr) {
        (IpAddr::V4(x), IpAddr::V4(y)) => (u32::from(x), a.port) <= (u32::from(y), b.port),
        (IpAddr::V6(x), IpAddr::V6(y)) => (u128::from(x), a.port) <= (u128::from(y), b.port),
        _ => a <= b,
    }
}

/// A small fixed-seed mixer (splitmix64-style finalizer per word), for
/// hashes that must be the same on every run (flow ids, sharding).
#[derive(Default)]
pub struct Mix(u64);

impl Mix {
    #[inline]
    pub fn word(&mut self, w: u64) {
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

    pub fn finish(&self) -> u64 {
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

    /// The integer comparison orders endpoints exactly as the derived
    /// order does, for both families, mixed families and equal addresses.
    #[test]
    fn fast_order_is_the_derived_order() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut endpoint = |v6: bool| {
            let r = next();
            // Few distinct values, so that equal addresses and ports occur.
            let addr = if v6 {
                IpAddr::from(std::net::Ipv6Addr::from(
                    u128::from(r % 5) << 120 | u128::from(r >> 60),
                ))
            } else {
                IpAddr::from(std::net::Ipv4Addr::from((r % 7) as u32 * 0x0101_0101))
            };
            Endpoint {
                addr,
                port: (r >> 40) as u16 % 3,
            }
        };
        for i in 0..20_000 {
            let a = endpoint(i % 3 == 0);
            let b = endpoint(i % 5 == 0);
            assert_eq!(in_order(&a, &b), a <= b, "{a:?} {b:?}");
        }
    }

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

    /// A packet's key read from its decoded addresses is the key of its
    /// endpoints, for IPv4, IPv6 and mixed pairs, either way round.
    #[test]
    fn packet_keys_are_the_endpoints_keys() {
        let pairs = [
            ("10.0.0.2", 443, "10.0.0.1", 50000),
            ("10.0.0.1", 50000, "10.0.0.2", 443),
            ("192.0.2.7", 53, "192.0.2.7", 53),
            ("2001:db8::1", 443, "2001:db8::2", 1),
            ("2001:db8::2", 1, "2001:db8::1", 443),
            ("::ffff:10.0.0.1", 80, "10.0.0.1", 80),
            ("10.0.0.1", 80, "::ffff:10.0.0.1", 80),
        ];
        for (a, pa, b, pb) in pairs {
            let (src, dst) = (ep(a, pa), ep(b, pb));
            assert_eq!(
                FlowKey::of_packet(17, &src.addr, pa, &dst.addr, pb),
                FlowKey::new(17, src, dst),
                "{a}:{pa} -> {b}:{pb}"
            );
        }
    }
}
