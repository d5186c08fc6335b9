//! One worker's flow table: a hash index over a slab of flows, with one
//! least-recently-active list per timeout class.
//!
//! The index holds only each flow's slot number (4 bytes): a lookup's key
//! is compared with the key in the flow's slot, which the packet reads
//! next anyway. Keyed by the whole flow key, the index had been 48 bytes
//! an entry, megabytes for a busy worker: a cache miss of its own on
//! every packet.
//!
//! Every packet moves its flow to the tail of its class's list, so each list
//! is ordered by last activity and expiry only ever looks at list heads:
//! O(expired) per sweep, never a scan of the table. When the table is full,
//! the least recently active flow of all lists is evicted to make room; the
//! caller reports it (`forced`). Memory is therefore bounded by the capacity
//! whatever the traffic (a SYN flood fills the `new` list and recycles it).

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

use super::key::FlowKey;
use super::{Flow, FlowConfig, FlowState};
use crate::capture::Timestamp;
use crate::decode::ip::proto;
use crate::prefetch;

const NIL: u32 = u32::MAX;

/// Timeout classes, one list each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Class {
    New = 0,
    TcpEstablished = 1,
    OtherEstablished = 2,
    Closed = 3,
}
const CLASSES: usize = 4;

impl Class {
    fn of<T>(flow: &Flow<T>) -> Class {
        match flow.state {
            FlowState::New => Class::New,
            FlowState::Closed => Class::Closed,
            FlowState::Established if flow.key.proto == proto::TCP => Class::TcpEstablished,
            FlowState::Established => Class::OtherEstablished,
        }
    }
}

/// A slot's place in its class's list. Kept apart from the (large) flows,
/// in one dense array: moving a flow to its list's tail on every packet
/// touches its neighbours' links, not their flows' cache lines.
#[derive(Clone, Copy)]
struct Node {
    prev: u32,
    next: u32,
    class: Class,
}

const UNLINKED: Node = Node {
    prev: NIL,
    next: NIL,
    class: Class::New,
};

#[derive(Clone, Copy)]
struct List {
    head: u32,
    tail: u32,
}

/// A handle to a flow in the table, valid until the flow is removed.
pub type FlowRef = u32;

pub struct FlowTable<T = ()> {
    cfg: FlowConfig,
    capacity: usize,
    /// The live flows' slots, by the hash of their keys.
    index: HashTable<FlowRef>,
    hasher: DefaultHashBuilder,
    slots: Vec<Option<Flow<T>>>,
    /// Each slot's links, by the same index.
    nodes: Vec<Node>,
    free: Vec<FlowRef>,
    lists: [List; CLASSES],
}

impl<T> FlowTable<T> {
    /// A table holding at most `capacity` flows (at least 1).
    pub fn new(cfg: FlowConfig, capacity: usize) -> Self {
        FlowTable {
            cfg,
            capacity: capacity.max(1),
            index: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            slots: Vec::new(),
            nodes: Vec::new(),
            free: Vec::new(),
            lists: [List {
                head: NIL,
                tail: NIL,
            }; CLASSES],
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub fn config(&self) -> &FlowConfig {
        &self.cfg
    }

    #[inline]
    pub fn find(&self, key: &FlowKey) -> Option<FlowRef> {
        let slots = &self.slots;
        self.index
            .find(self.hasher.hash_one(key), |&r| {
                slots[r as usize].as_ref().is_some_and(|f| f.key == *key)
            })
            .copied()
    }

    /// Adds live slot `r`, holding the flow keyed `key`, to the index.
    fn index_insert(&mut self, key: &FlowKey, r: FlowRef) {
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.index.insert_unique(hasher.hash_one(key), r, |&x| {
            slots[x as usize]
                .as_ref()
                .map_or(0, |f| hasher.hash_one(f.key))
        });
    }

    /// Takes slot `r`, which held the flow keyed `key`, out of the index.
    fn index_remove(&mut self, key: &FlowKey, r: FlowRef) {
        if let Ok(entry) = self
            .index
            .find_entry(self.hasher.hash_one(key), |&x| x == r)
        {
            entry.remove();
        }
    }

    #[inline]
    pub fn get_mut(&mut self, r: FlowRef) -> &mut Flow<T> {
        self.slots[r as usize].as_mut().expect("live flow ref")
    }

    pub fn get(&self, r: FlowRef) -> &Flow<T> {
        self.slots[r as usize].as_ref().expect("live flow ref")
    }

    /// Inserts a new flow (its key must be absent). If the table is full, the
    /// least recently active flow is evicted first and returned.
    #[cfg(test)]
    pub fn insert(&mut self, flow: Flow<T>) -> (FlowRef, Option<Flow<T>>) {
        let evicted = if self.index.len() >= self.capacity {
            self.oldest().map(|r| self.remove(r))
        } else {
            None
        };
        (self.insert_with(|| flow, |_| {}), evicted)
    }

    /// Inserts the flow `make` builds (its key must be absent), built in
    /// its slot; if the table is full, the least recently active flow is
    /// first handed to `evicted` in its slot, then removed. A flow built
    /// first and then moved in was copied whole (its fields just written
    /// narrow, read back wide: a failed store forward), and the evicted
    /// flow handed back by value was copied on every insert, evicted or
    /// not.
    #[inline(always)]
    pub fn insert_with(
        &mut self,
        make: impl FnOnce() -> Flow<T>,
        evicted: impl FnOnce(&mut Flow<T>),
    ) -> FlowRef {
        if self.index.len() >= self.capacity {
            self.evict_oldest(evicted);
        }
        let r = match self.free.pop() {
            Some(r) => {
                // Freed slots hold no flow: nothing to drop before the
                // new one is written (assigning would drop it first).
                let slot = &mut self.slots[r as usize];
                debug_assert!(slot.is_none(), "a freed slot holds no flow");
                slot.get_or_insert_with(make);
                self.nodes[r as usize] = UNLINKED;
                r
            }
            None => {
                // The same in a new slot: pushed empty, then filled.
                self.slots.push(None);
                if let Some(slot) = self.slots.last_mut() {
                    slot.get_or_insert_with(make);
                }
                self.nodes.push(UNLINKED);
                (self.slots.len() - 1) as FlowRef
            }
        };
        let flow = self.get(r);
        let (class, key) = (Class::of(flow), flow.key);
        self.push_tail(r, class);
        self.index_insert(&key, r);
        self.warm_next_slot();
        r
    }

    /// Hands the least recently active flow to `end` in its slot, then
    /// removes it.
    #[cold]
    fn evict_oldest(&mut self, end: impl FnOnce(&mut Flow<T>)) {
        if let Some(r) = self.oldest() {
            end(self.get_mut(r));
            drop(self.remove(r));
        }
    }

    /// Prefetches, for writing, the slot the next insert fills (the last
    /// freed, or the first past the end): a slot freed when its flow ended
    /// long ago is cold, and the new flow is written into it whole.
    #[inline(always)]
    fn warm_next_slot(&mut self) {
        match self.free.last() {
            Some(&r) => prefetch::place_for_writing(&self.slots[r as usize]),
            None => {
                if let Some(next) = self.slots.spare_capacity_mut().first() {
                    prefetch::place_for_writing(next.as_ptr());
                }
            }
        }
    }

    /// Marks the flow as just active: to the tail of the list of its
    /// (possibly changed) class.
    #[inline]
    pub fn touch(&mut self, r: FlowRef) {
        let class = Class::of(self.get(r));
        if self.nodes[r as usize].class == class && self.lists[class as usize].tail == r {
            return; // already the most recent of its class
        }
        self.unlink(r);
        self.push_tail(r, class);
    }

    /// Takes a flow out of the table.
    pub fn remove(&mut self, r: FlowRef) -> Flow<T> {
        self.unlink(r);
        let flow = self.slots[r as usize].take().expect("live flow ref");
        self.index_remove(&flow.key, r);
        self.free.push(r);
        flow
    }

    /// Hands `end` every flow, in [`pop`](Self::pop)'s order, in place, and
    /// gives the table's memory back.
    pub fn drain_each(&mut self, end: impl FnMut(&mut Flow<T>)) {
        self.end_heads(|_, _| false, end);
        self.release();
    }

    /// Hands `end` every flow idle past its class's timeout at packet time
    /// `now`, in place, then drops it (a flow is not moved out of its slot
    /// to be ended).
    pub fn expire_each(&mut self, now: Timestamp, end: impl FnMut(&mut Flow<T>)) {
        self.end_heads(
            |flow, cfg| flow.active_at.saturating_add(flow.idle_timeout(cfg)) >= now,
            end,
        );
    }

    /// Class by class, hands `end` the least recently active flow, in its
    /// slot, and drops it, until `keep` holds for the next one.
    fn end_heads(
        &mut self,
        mut keep: impl FnMut(&Flow<T>, &FlowConfig) -> bool,
        mut end: impl FnMut(&mut Flow<T>),
    ) {
        for class in 0..CLASSES {
            loop {
                let head = self.lists[class].head;
                if head == NIL {
                    break;
                }
                let flow = self.slots[head as usize].as_mut().expect("live flow ref");
                if keep(flow, &self.cfg) {
                    break;
                }
                end(flow);
                let key = flow.key;
                self.unlink(head);
                self.index_remove(&key, head);
                self.slots[head as usize] = None;
                self.free.push(head);
            }
        }
    }

    /// Gives an empty table's memory back.
    fn release(&mut self) {
        debug_assert!(self.index.is_empty());
        self.slots = Vec::new();
        self.nodes = Vec::new();
        self.free = Vec::new();
        self.index = HashTable::new();
    }

    /// Removes one flow, in the order of the timeout classes and, within
    /// one, of last activity; `None` once the table is empty (its memory is
    /// then given back).
    pub fn pop(&mut self) -> Option<Flow<T>> {
        let head = self.lists.iter().map(|l| l.head).find(|&h| h != NIL);
        match head {
            Some(r) => Some(self.remove(r)),
            None => {
                self.release();
                None
            }
        }
    }

    /// The least recently active flow over all classes.
    fn oldest(&self) -> Option<FlowRef> {
        self.lists
            .iter()
            .filter(|l| l.head != NIL)
            .map(|l| l.head)
            .min_by_key(|&r| self.get(r).active_at)
    }

    fn push_tail(&mut self, r: FlowRef, class: Class) {
        let list = &mut self.lists[class as usize];
        let old_tail = list.tail;
        list.tail = r;
        if old_tail == NIL {
            list.head = r;
        }
        self.nodes[r as usize] = Node {
            prev: old_tail,
            next: NIL,
            class,
        };
        if old_tail != NIL {
            self.nodes[old_tail as usize].next = r;
        }
    }

    fn unlink(&mut self, r: FlowRef) {
        let Node { prev, next, class } = self.nodes[r as usize];
        let list = &mut self.lists[class as usize];
        if prev == NIL {
            list.head = next;
        } else {
            self.nodes[prev as usize].next = next;
        }
        if next == NIL {
            list.tail = prev;
        } else {
            self.nodes[next as usize].prev = prev;
        }
        let node = &mut self.nodes[r as usize];
        node.prev = NIL;
        node.next = NIL;
    }
}

#[cfg(test)]
mod tests {
    use super::super::key::{Endpoint, FlowKey};
    use super::*;
    use crate::capture::NANOS_PER_SEC as SEC;
    use crate::decode::transport::{Header, Transport};
    use crate::decode::Decoded;

    fn udp(port: u16) -> (FlowKey, Flow) {
        udp_from("10.0.0.1".parse().unwrap(), port)
    }

    /// A UDP flow from `src`:`port` to 10.0.0.2:53.
    fn udp_from(src: std::net::IpAddr, port: u16) -> (FlowKey, Flow) {
        let d = Decoded {
            src,
            dst: "10.0.0.2".parse().unwrap(),
            proto: 17,
            transport: Transport {
                src_port: port,
                dst_port: 53,
                header: Header::Udp,
                payload: &[],
                malformed: false,
            },
            tunnels: 0,
            tunnel_kinds: 0,
            truncated: false,
            ip: Default::default(),
        };
        let (k, dir) = FlowKey::new(
            17,
            Endpoint { addr: d.src, port },
            Endpoint {
                addr: d.dst,
                port: 53,
            },
        );
        (k, Flow::<()>::new(k, dir, &d, 0, u64::from(port), 0))
    }

    /// The index agrees with a map of the live flows through growth,
    /// removals, expiry and evictions, IPv4 and IPv6 keys alike: every
    /// live key is found at its slot, every ended one is gone.
    #[test]
    fn index_agrees_with_a_map_of_live_flows() {
        use std::collections::HashMap;
        let mut rng = crate::classify::wireguard::controls::XorShift(0x5eed_f10e);
        let mut t: FlowTable = FlowTable::new(FlowConfig::default(), 1_500);
        let mut live: HashMap<FlowKey, FlowRef> = HashMap::new();
        let mut gone: Vec<FlowKey> = Vec::new();
        let (mut evictions, mut expiries) = (0, 0);
        for step in 0..40_000u64 {
            // The clock jumps 40 s every 5,000 steps: the flows not seen
            // since expire.
            let now = step * SEC / 500 + step / 5_000 * 40 * SEC;
            let src: std::net::IpAddr = if rng.below(2) == 0 {
                std::net::Ipv4Addr::from(0x0a00_0000 | rng.below(64) as u32).into()
            } else {
                std::net::Ipv6Addr::from(0x2001_0db8_u128 << 96 | u128::from(rng.below(64))).into()
            };
            let (k, f) = udp_from(src, 1024 + rng.below(128) as u16);
            match rng.below(50) {
                0..=29 => {
                    if t.find(&k).is_none() {
                        let mut evicted = None;
                        let r = t.insert_with(|| f, |e| evicted = Some(e.key));
                        if let Some(e) = evicted {
                            live.remove(&e);
                            gone.push(e);
                            evictions += 1;
                        }
                        t.get_mut(r).active_at = now;
                        t.touch(r);
                        live.insert(k, r);
                    }
                }
                30..=39 => {
                    if let Some(r) = live.remove(&k) {
                        assert_eq!(t.remove(r).key, k);
                        gone.push(k);
                    }
                }
                40..=48 => {
                    if let Some(&r) = live.get(&k) {
                        t.get_mut(r).active_at = now;
                        t.touch(r);
                    }
                }
                _ => t.expire_each(now, |f| {
                    live.remove(&f.key);
                    gone.push(f.key);
                    expiries += 1;
                }),
            }
            if step % 997 == 0 || step == 39_999 {
                assert_eq!(t.len(), live.len(), "step {step}");
                for (k, &r) in &live {
                    assert_eq!(t.find(k), Some(r), "step {step}: {k:?}");
                }
                for k in gone.drain(..) {
                    if !live.contains_key(&k) {
                        assert_eq!(t.find(&k), None, "step {step}: ended {k:?}");
                    }
                }
            }
        }
        assert!(evictions > 100 && expiries > 100, "{evictions} {expiries}");
    }

    #[test]
    fn expiry_follows_last_activity() {
        let mut t: FlowTable = FlowTable::new(FlowConfig::default(), 100);
        let (k1, f1) = udp(1000);
        let (_, f2) = udp(1001);
        let (r1, _) = t.insert(f1);
        let (_r2, _) = t.insert(f2);
        t.get_mut(r1).active_at = 20 * SEC;
        t.touch(r1);
        let mut out = Vec::new();
        t.expire_each(31 * SEC, |f| out.push(f.key));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].lo.port.min(out[0].hi.port), 53);
        assert!(t.find(&k1).is_some());
        t.expire_each(51 * SEC, |f| out.push(f.key));
        assert_eq!((out.len(), t.len()), (2, 0));
        assert_eq!(out[1], k1);
        // The slots are reused.
        let (k3, f3) = udp(1002);
        let (r3, _) = t.insert(f3);
        assert_eq!(t.find(&k3), Some(r3));
        assert!(r3 <= 1);
    }

    #[test]
    fn drain_ends_every_flow_in_pop_order() {
        let mut a: FlowTable = FlowTable::new(FlowConfig::default(), 100);
        let mut b: FlowTable = FlowTable::new(FlowConfig::default(), 100);
        for i in 0..5 {
            let (r, _) = a.insert(udp(2000 + i).1);
            let (s, _) = b.insert(udp(2000 + i).1);
            if i % 2 == 0 {
                a.get_mut(r).state = FlowState::Established;
                b.get_mut(s).state = FlowState::Established;
                a.touch(r);
                b.touch(s);
            }
        }
        let mut popped = Vec::new();
        while let Some(f) = a.pop() {
            popped.push(f.key);
        }
        let mut drained = Vec::new();
        b.drain_each(|f| drained.push(f.key));
        assert_eq!(drained, popped);
        assert_eq!(drained.len(), 5);
        assert!(b.is_empty());
        let (k, f) = udp(3000);
        let (r, _) = b.insert(f);
        assert_eq!(b.find(&k), Some(r));
    }

    /// A full table hands its least recent flow to the caller in its
    /// slot, frees the slot and builds the new flow there; the slots
    /// reused and the ones grown agree with the index.
    #[test]
    fn insert_with_ends_the_evicted_flow_in_place() {
        let mut t: FlowTable = FlowTable::new(FlowConfig::default(), 3);
        let mut ended = Vec::new();
        for (i, port) in (1000u16..1010).enumerate() {
            let (k, mut f) = udp(port);
            f.active_at = i as u64;
            let r = t.insert_with(|| f, |old| ended.push((old.key, old.active_at)));
            assert_eq!(t.find(&k), Some(r));
            assert_eq!(t.get(r).key, k);
            assert!(t.len() <= 3);
        }
        let ports: Vec<u16> = ended
            .iter()
            .map(|(k, _)| k.lo.port.max(k.hi.port))
            .collect();
        assert_eq!(ports, (1000u16..1007).collect::<Vec<_>>());
        assert!(ended.iter().enumerate().all(|(i, &(_, at))| at == i as u64));
        for (k, _) in &ended {
            assert_eq!(t.find(k), None, "an evicted flow left the index");
        }
        let mut left = Vec::new();
        t.drain_each(|f| left.push(f.active_at));
        left.sort_unstable();
        assert_eq!(left, [7, 8, 9]);
    }

    #[test]
    fn capacity_evicts_least_recent() {
        let mut t: FlowTable = FlowTable::new(FlowConfig::default(), 2);
        for (i, port) in [1000u16, 1001, 1002].into_iter().enumerate() {
            let (_, mut f) = udp(port);
            f.active_at = i as u64;
            let (_, ev) = t.insert(f);
            if port == 1002 {
                assert_eq!(ev.unwrap().first_packet, 1000);
            }
        }
        assert_eq!(t.len(), 2);
        let mut n = 0;
        while t.pop().is_some() {
            n += 1;
        }
        assert_eq!((n, t.len()), (2, 0));
    }
}
