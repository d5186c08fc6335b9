//! TCP stream reassembly for the first bytes of each direction.
//!
//! Classifiers read a TCP direction as one ordered byte stream; this turns
//! segments — out of order, retransmitted, overlapping, across a sequence
//! wrap — into that stream, and hands each newly contiguous run of bytes to
//! the caller. In-order data is passed through without a copy; only
//! segments that arrive ahead of a gap are buffered.
//!
//! - **Start.** After a SYN the stream starts at its sequence number + 1.
//!   Without one (a capture that starts mid-connection) it starts at the
//!   first data segment seen; data before that point is ignored.
//! - **Overlap: validity first, then the first copy wins.** Copies the
//!   receiver would drop (bad checksum, TTL, MD5, PAWS, ...) never get here:
//!   the evasion judge ([`crate::classify::evasion`]) throws them out
//!   before. Of valid copies, bytes already delivered or buffered are never
//!   replaced by a later one — the receiving stack's order too: in-order
//!   data is taken at once, and a buffered segment's bytes that in-order
//!   data already covered are trimmed when it is drained. A classifier may
//!   already have acted on the first copy; retransmissions in honest
//!   traffic are identical anyway.
//! - **Before the start, beyond the window.** Bytes before the initial
//!   sequence number + 1 are cut off (a segment partly before it is a
//!   sequence overlap); a segment wholly before it, or more than
//!   [`WINDOW`] ahead, is reported as off-sequence ([`Placed`]).
//! - **Urgent data.** The byte an urgent pointer marks is removed, as a
//!   receiving socket without `SO_OOBINLINE` does; it keeps its sequence
//!   number.
//! - **Depth.** Only the first [`DEPTH`] bytes of a direction are
//!   reassembled (enough for any ClientHello, post-quantum ones included,
//!   and for VPN handshakes); later data is ignored.
//! - **Memory.** At most [`MAX_PENDING`] bytes wait out of order per
//!   direction, and a worker-wide [`Budget`] caps them over all flows; a
//!   segment past either is refused and counted (per stream, for the flow's
//!   record, and per worker, for the summary), leaving a gap the stream
//!   stops at. What classifiers read comes first: bytes beyond a
//!   direction's first [`PRIORITY_BYTES`] may take at most half of the
//!   budget, so flows buffering deep into their streams cannot starve the
//!   hellos of flows that come after them.

/// Bytes of each direction reassembled.
pub const DEPTH: u32 = 64 * 1024;
/// Out-of-order bytes buffered per direction.
pub const MAX_PENDING: usize = 32 * 1024;
/// Out-of-order segments buffered per direction. Adjacent ones are joined,
/// so a message in N pieces in any order holds at most N/2 runs: a hello in
/// 300 pieces fits (the bytes stay under [`MAX_PENDING`] and the budget).
const MAX_SEGMENTS: usize = 256;
/// A segment further ahead than this is outside any window a receiver
/// offers at a connection's start.
pub const WINDOW: u32 = 1 << 20;
/// Urgent bytes removed per direction.
const MAX_URGENT: usize = 4;

/// Where a segment fell in its stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Placed {
    /// Stream offset of its first byte inside the stream, and how many of
    /// its bytes lie inside.
    pub at: u32,
    pub len: u32,
    /// Wholly before the stream's start (its SYN known), or beyond the
    /// window: off-sequence.
    pub off_sequence: bool,
    /// It began before the stream's start and reached into it.
    pub overlapped_start: bool,
    /// Held ahead of a gap.
    pub held: bool,
    /// It reached the next byte to deliver (in order).
    pub in_order: bool,
    /// A held copy of some of its bytes said otherwise (trimmed: the copy
    /// that came in order wins, as the receiving stack's does).
    pub rewrote: bool,
}
/// A direction's first bytes, where the hellos and handshakes classifiers
/// read are (a post-quantum ClientHello is about 2 KB, a certificate chain
/// can be 10 KB): out-of-order bytes below this offset may take the whole
/// budget, those above only half of it.
pub const PRIORITY_BYTES: u32 = 16 * 1024;

/// A worker-wide cap on bytes buffered out of order, over all flows.
#[derive(Debug)]
pub struct Budget {
    pub used: usize,
    /// Of `used`, bytes beyond their direction's [`PRIORITY_BYTES`].
    pub used_deep: usize,
    pub cap: usize,
    /// Segments (or parts of them) refused because a cap was reached, and
    /// their bytes.
    pub refused_segments: u64,
    pub refused_bytes: u64,
}

impl Budget {
    pub fn new(cap: usize) -> Self {
        Budget {
            used: 0,
            used_deep: 0,
            cap,
            refused_segments: 0,
            refused_bytes: 0,
        }
    }

    /// Can `len` more bytes at stream offset `at` be held?
    fn admits(&self, at: u32, len: usize) -> bool {
        let fits = self.used + len <= self.cap;
        fits && (at < PRIORITY_BYTES || self.used_deep + len <= self.cap / 2)
    }

    fn take(&mut self, at: u32, len: usize) {
        self.used += len;
        if at >= PRIORITY_BYTES {
            self.used_deep += len;
        }
    }

    fn give(&mut self, at: u32, len: usize) {
        self.used -= len;
        if at >= PRIORITY_BYTES {
            self.used_deep -= len;
        }
    }
}

/// What a stream could not buffer: segments (or parts) and bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lost {
    pub segments: u32,
    pub bytes: u32,
}

impl Lost {
    pub fn add(&mut self, o: Lost) {
        self.segments = self.segments.saturating_add(o.segments);
        self.bytes = self.bytes.saturating_add(o.bytes);
    }
}

/// One direction of a TCP connection.
#[derive(Debug, Default)]
pub struct Stream {
    /// Sequence number of stream offset 0, once known.
    base: Option<u32>,
    /// Stream offset of the next byte to deliver.
    next: u32,
    /// Segments ahead of `next`: (stream offset, bytes), sorted, disjoint.
    pending: Vec<(u32, Vec<u8>)>,
    pending_bytes: usize,
    /// What was refused.
    lost: Lost,
    /// The start came from a SYN.
    from_syn: bool,
    /// Stream offsets of urgent bytes to remove.
    urgent: Vec<u32>,
}

impl Stream {
    /// Bytes delivered so far.
    pub fn delivered(&self) -> u32 {
        self.next
    }

    /// True once the stream's depth has been delivered.
    pub fn is_full(&self) -> bool {
        self.next >= DEPTH
    }

    /// Bytes held out of order.
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Segments and bytes refused by the caps so far.
    pub fn lost(&self) -> Lost {
        self.lost
    }

    /// A SYN with sequence number `seq` was seen: the stream starts after it.
    pub fn syn(&mut self, seq: u32) {
        if self.base.is_none() {
            self.base = Some(seq.wrapping_add(1));
            self.from_syn = true;
        }
    }

    /// The SYN the peer acknowledged (of several) has sequence number
    /// `seq`: the stream starts after it. A start taken from data, or from
    /// another SYN, moves while nothing was delivered (what was held is
    /// dropped).
    pub fn rebase(&mut self, seq: u32, budget: &mut Budget) {
        let base = seq.wrapping_add(1);
        if self.base == Some(base) {
            self.from_syn = true;
            return;
        }
        if self.base.is_none() || self.next == 0 {
            for (at, bytes) in self.pending.drain(..) {
                budget.give(at, bytes.len());
            }
            self.pending_bytes = 0;
            self.base = Some(base);
            self.from_syn = true;
        }
    }

    /// The byte at sequence number `seq` is urgent data: it is removed from
    /// the stream (its sequence number stays).
    pub fn urgent(&mut self, seq: u32) {
        let Some(base) = self.base else { return };
        let at = seq.wrapping_sub(base);
        if at < DEPTH
            && at >= self.next
            && self.urgent.len() < MAX_URGENT
            && !self.urgent.contains(&at)
        {
            self.urgent.push(at);
        }
    }

    /// Adds a segment carrying `data` at sequence number `seq`; `deliver` is
    /// called with each newly contiguous run of bytes, in stream order.
    /// Says where the segment fell.
    pub fn segment(
        &mut self,
        seq: u32,
        data: &[u8],
        budget: &mut Budget,
        deliver: &mut dyn FnMut(&[u8]),
    ) -> Placed {
        let mut placed = Placed::default();
        if data.is_empty() || self.is_full() {
            return placed;
        }
        let base = *self.base.get_or_insert(seq);
        let rel = seq.wrapping_sub(base);
        // Offsets in the upper half of the sequence space lie before the
        // stream's start (old data, or junk): drop the part before it.
        let (start, data) = if rel > u32::MAX / 2 {
            let skip = (base.wrapping_sub(seq)) as usize;
            if skip >= data.len() {
                placed.off_sequence = self.from_syn;
                return placed;
            }
            placed.overlapped_start = self.from_syn;
            (0u32, &data[skip..])
        } else {
            placed.off_sequence = self.from_syn && rel > self.next.saturating_add(WINDOW);
            (rel, data)
        };
        placed.at = start;
        placed.len = data.len() as u32;
        // Never look past the depth.
        let room = DEPTH.saturating_sub(start) as usize;
        let data = &data[..data.len().min(room)];
        if data.is_empty() {
            return placed;
        }
        let end = start + data.len() as u32;
        if end <= self.next {
            return placed; // all delivered already: a retransmission
        }
        if start <= self.next {
            // Contiguous: pass through the new part without copying.
            placed.in_order = true;
            let from = self.next;
            emit(
                &self.urgent,
                from,
                &data[(from - start) as usize..],
                deliver,
            );
            self.next = end;
            placed.rewrote = self.drain(budget, deliver, (start, data));
        } else {
            placed.held = true;
            self.hold(start, data, budget);
        }
        placed
    }

    /// Buffers the parts of a segment at `start` not already held.
    fn hold(&mut self, start: u32, data: &[u8], budget: &mut Budget) {
        let end = start + data.len() as u32;
        // Collect the gaps of [start, end) between held segments.
        let mut gaps: Vec<(u32, u32)> = Vec::new();
        let mut cursor = start;
        for (s, bytes) in &self.pending {
            let e = s + bytes.len() as u32;
            if e <= cursor {
                continue;
            }
            if *s >= end {
                break;
            }
            if *s > cursor {
                gaps.push((cursor, *s));
            }
            cursor = cursor.max(e);
        }
        if cursor < end {
            gaps.push((cursor, end));
        }
        for (s, e) in gaps {
            let len = (e - s) as usize;
            let at = self.pending.partition_point(|(o, _)| *o < s);
            // A held segment that ends where this one starts, or starts
            // where it ends, is joined (on the same side of
            // PRIORITY_BYTES, which the budget counts by segment start).
            let deep = |o: u32| o >= PRIORITY_BYTES;
            let joins_prev = at > 0 && {
                let (ps, pb) = &self.pending[at - 1];
                ps + pb.len() as u32 == s && deep(*ps) == deep(s)
            };
            let first = if joins_prev {
                self.pending[at - 1].0
            } else {
                s
            };
            let joins_next = self
                .pending
                .get(at)
                .is_some_and(|(ns, _)| *ns == e && deep(*ns) == deep(first));
            if (self.pending.len() >= MAX_SEGMENTS && !joins_prev && !joins_next)
                || self.pending_bytes + len > MAX_PENDING
                || !budget.admits(s, len)
            {
                budget.refused_segments += 1;
                budget.refused_bytes += len as u64;
                self.lost.add(Lost {
                    segments: 1,
                    bytes: len as u32,
                });
                continue;
            }
            let bytes = &data[(s - start) as usize..(e - start) as usize];
            let at = if joins_prev {
                self.pending[at - 1].1.extend_from_slice(bytes);
                at - 1
            } else {
                self.pending.insert(at, (s, bytes.to_vec()));
                at
            };
            if joins_next {
                let (_, next) = self.pending.remove(at + 1);
                self.pending[at].1.extend_from_slice(&next);
            }
            self.pending_bytes += len;
            budget.take(s, len);
        }
    }

    /// Delivers held segments that have become contiguous.
    /// `recent`: the in-order segment just delivered (stream offset,
    /// bytes); returns true when a held segment disagreed with it where
    /// they overlap (it is trimmed: the in-order copy wins).
    fn drain(
        &mut self,
        budget: &mut Budget,
        deliver: &mut dyn FnMut(&[u8]),
        recent: (u32, &[u8]),
    ) -> bool {
        let mut taken = 0;
        let mut rewrote = false;
        let (r_start, r) = recent;
        let r_end = r_start + r.len() as u32;
        for (s, bytes) in &self.pending {
            if *s > self.next {
                break;
            }
            let e = s + bytes.len() as u32;
            // Where the held copy overlaps what just came in order.
            let (from, to) = ((*s).max(r_start), e.min(r_end));
            if from < to {
                let held = &bytes[(from - s) as usize..(to - s) as usize];
                rewrote |= held != &r[(from - r_start) as usize..(to - r_start) as usize];
            }
            if e > self.next {
                emit(
                    &self.urgent,
                    self.next,
                    &bytes[(self.next - s) as usize..],
                    deliver,
                );
                self.next = e;
            }
            taken += 1;
        }
        for (at, bytes) in self.pending.drain(..taken) {
            self.pending_bytes -= bytes.len();
            budget.give(at, bytes.len());
        }
        rewrote
    }

    /// Frees what is held (the flow is done with reassembly).
    pub fn release(&mut self, budget: &mut Budget) {
        for (at, bytes) in self.pending.drain(..) {
            budget.give(at, bytes.len());
        }
        self.pending_bytes = 0;
        self.pending = Vec::new();
        self.next = DEPTH;
    }
}

/// Delivers `bytes`, which start at stream offset `at`, less the urgent
/// bytes among them.
fn emit(urgent: &[u32], at: u32, bytes: &[u8], deliver: &mut dyn FnMut(&[u8])) {
    let end = at + bytes.len() as u32;
    let mut cuts: Vec<u32> = urgent
        .iter()
        .copied()
        .filter(|&u| u >= at && u < end)
        .collect();
    if cuts.is_empty() {
        deliver(bytes);
        return;
    }
    cuts.sort_unstable();
    let mut from = 0usize;
    for u in cuts {
        let cut = (u - at) as usize;
        if cut > from {
            deliver(&bytes[from..cut]);
        }
        from = cut + 1;
    }
    if from < bytes.len() {
        deliver(&bytes[from..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream_of(segments: &[(u32, &[u8])], syn: Option<u32>) -> (Vec<u8>, Budget) {
        let mut s = Stream::default();
        let mut b = Budget::new(1 << 20);
        if let Some(isn) = syn {
            s.syn(isn);
        }
        let mut out = Vec::new();
        for (seq, d) in segments {
            s.segment(*seq, d, &mut b, &mut |bytes| out.extend_from_slice(bytes));
        }
        (out, b)
    }

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    /// Every permutation of 5 segments of the same bytes gives the same stream.
    #[test]
    fn any_order_gives_the_same_stream() {
        let d = data(500);
        let cuts = [0usize, 90, 200, 260, 401, 500];
        let segs: Vec<(u32, &[u8])> = cuts
            .windows(2)
            .map(|w| (1001 + w[0] as u32, &d[w[0]..w[1]]))
            .collect();
        let mut idx = [0usize, 1, 2, 3, 4];
        let mut count = 0;
        // Heap's algorithm over the 120 orders.
        let mut c = [0usize; 5];
        let check = |idx: &[usize; 5]| {
            let order: Vec<_> = idx.iter().map(|&i| segs[i]).collect();
            let (out, b) = stream_of(&order, Some(1000));
            assert_eq!(out, d, "order {idx:?}");
            assert_eq!(b.used, 0);
        };
        check(&idx);
        count += 1;
        let mut i = 0;
        while i < 5 {
            if c[i] < i {
                if i % 2 == 0 {
                    idx.swap(0, i);
                } else {
                    idx.swap(c[i], i);
                }
                check(&idx);
                count += 1;
                c[i] += 1;
                i = 0;
            } else {
                c[i] = 0;
                i += 1;
            }
        }
        assert_eq!(count, 120);
    }

    #[test]
    fn split_at_every_offset() {
        let d = data(300);
        for cut in 1..d.len() {
            let (a, b) = (&d[..cut], &d[cut..]);
            assert_eq!(stream_of(&[(11, a), (11 + cut as u32, b)], Some(10)).0, d);
            assert_eq!(stream_of(&[(11 + cut as u32, b), (11, a)], Some(10)).0, d);
        }
    }

    #[test]
    fn retransmissions_and_overlaps_first_copy_wins() {
        let d = data(100);
        let mut evil = d[40..80].to_vec();
        evil.iter_mut().for_each(|b| *b ^= 0xff);
        // In order, then an overlapping copy: its bytes over delivered ones
        // (40..60) are ignored, its new ones (60..80) are the first copy.
        let (out, _) = stream_of(&[(1, &d[..60]), (41, &evil), (61, &d[60..])], Some(0));
        let mut want = d.clone();
        want[60..80].copy_from_slice(&evil[20..]);
        assert_eq!(out, want);
        // Out of order: the held copy of 60..80 wins over a later evil one.
        let (out, _) = stream_of(
            &[(61, &d[60..80]), (41, &evil), (1, &d[..40]), (81, &d[80..])],
            Some(0),
        );
        let mut want = d.clone();
        want[40..60].copy_from_slice(&evil[..20]);
        assert_eq!(
            out, want,
            "bytes 40..60 came first from the evil copy, 60..80 from the honest one"
        );
        // Plain duplicate segments.
        let (out, _) = stream_of(
            &[(1, &d[..50]), (1, &d[..50]), (51, &d[50..]), (51, &d[50..])],
            Some(0),
        );
        assert_eq!(out, d);
    }

    /// A message in 300 pieces of 1 to 8 bytes, in a shuffled order: held
    /// runs are joined, so it fits and comes out whole.
    #[test]
    fn three_hundred_pieces_any_order() {
        let d = data(1500);
        let mut cuts = vec![0usize];
        let mut x = 7u32;
        while *cuts.last().unwrap() < d.len() {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let step = 1 + (x >> 16) as usize % 8;
            cuts.push((cuts.last().unwrap() + step).min(d.len()));
        }
        let mut pieces: Vec<(u32, &[u8])> = cuts
            .windows(2)
            .map(|w| (1 + w[0] as u32, &d[w[0]..w[1]]))
            .collect();
        assert!(pieces.len() >= 300);
        for i in (1..pieces.len()).rev() {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            pieces.swap(i, (x >> 8) as usize % (i + 1));
        }
        let (out, b) = stream_of(&pieces, Some(0));
        assert_eq!(out, d);
        assert_eq!((b.used, b.refused_segments), (0, 0));
    }

    /// The urgent byte is removed wherever it falls, in order or not; the
    /// stream offsets after it are unchanged.
    #[test]
    fn urgent_byte_removed() {
        let d = data(100);
        for order in [[0usize, 1], [1, 0]] {
            let mut s = Stream::default();
            let mut b = Budget::new(1 << 20);
            s.syn(0);
            s.urgent(1 + 40);
            let segs = [(1u32, &d[..50]), (51, &d[50..])];
            let mut out = Vec::new();
            for i in order {
                let (seq, bytes) = segs[i];
                s.segment(seq, bytes, &mut b, &mut |x| out.extend_from_slice(x));
            }
            let mut want = d.clone();
            want.remove(40);
            assert_eq!(out, want, "{order:?}");
        }
    }

    /// Of several SYNs, the one acknowledged starts the stream; where data
    /// lay against another start tells what the placement says.
    #[test]
    fn rebase_and_placement() {
        let d = data(80);
        let mut s = Stream::default();
        let mut b = Budget::new(1 << 20);
        s.syn(5000);
        // Data of the acknowledged SYN (ISN 9000) arrives before the
        // rebase: held far ahead of the first start, then dropped by it.
        let p = s.segment(9001 + 40, &d[40..], &mut b, &mut |_| {});
        assert!(p.held);
        s.rebase(9000, &mut b);
        assert_eq!(b.used, 0);
        let mut out = Vec::new();
        let p = s.segment(9001, &d, &mut b, &mut |x| out.extend_from_slice(x));
        assert!(p.in_order && !p.off_sequence);
        assert_eq!(out, d);
        // Wholly before the start: off-sequence; partly: an overlap.
        let mut s = Stream::default();
        s.syn(1000);
        let p = s.segment(1001 - 500, &d, &mut b, &mut |_| {});
        assert!(p.off_sequence);
        let mut out = Vec::new();
        let p = s.segment(1001 - 30, &d, &mut b, &mut |x| out.extend_from_slice(x));
        assert!(p.overlapped_start && p.in_order);
        assert_eq!(out, &d[30..]);
        let p = s.segment(1001 + WINDOW + 100_000, &d, &mut b, &mut |_| {});
        assert!(p.off_sequence);
    }

    /// A held segment whose first bytes disagree with the in-order copy
    /// that then covers them (seqovl with disorder): the in-order copy
    /// wins, and the placement says so; honest overlaps do not.
    #[test]
    fn rewrite_by_the_in_order_copy() {
        let d = data(200);
        let mut decoyed = d[80..].to_vec();
        decoyed[..20].iter_mut().for_each(|b| *b ^= 0x55);
        let mut s = Stream::default();
        let mut b = Budget::new(1 << 20);
        s.syn(0);
        let mut out = Vec::new();
        let p = s.segment(81, &decoyed, &mut b, &mut |x| out.extend_from_slice(x));
        assert!(p.held && !p.rewrote);
        let p = s.segment(1, &d[..100], &mut b, &mut |x| out.extend_from_slice(x));
        assert!(p.in_order && p.rewrote);
        assert_eq!(out, d);
        let (mut s, mut out) = (Stream::default(), Vec::new());
        s.syn(0);
        s.segment(81, &d[80..], &mut b, &mut |x| out.extend_from_slice(x));
        let p = s.segment(1, &d[..100], &mut b, &mut |x| out.extend_from_slice(x));
        assert!(!p.rewrote);
        assert_eq!(out, d);
    }

    #[test]
    fn sequence_wrap() {
        let d = data(200);
        let isn = u32::MAX - 50;
        let (out, _) = stream_of(
            &[
                (isn.wrapping_add(101), &d[100..]),
                (isn.wrapping_add(1), &d[..100]),
            ],
            Some(isn),
        );
        assert_eq!(out, d);
    }

    #[test]
    fn midstream_pickup_starts_at_first_data() {
        let d = data(120);
        let (out, _) = stream_of(
            &[(5000, &d[..60]), (5060, &d[60..]), (4990, &d[..20])],
            None,
        );
        assert_eq!(out, d);
    }

    #[test]
    fn depth_and_caps_bound_memory() {
        let big = vec![0u8; 4000];
        let mut s = Stream::default();
        let mut b = Budget::new(1 << 20);
        s.syn(0);
        let mut n = 0usize;
        // Everything after a 1-byte hole: held up to MAX_PENDING.
        for i in 0..100u32 {
            s.segment(2 + i * 4000, &big, &mut b, &mut |x| n += x.len());
        }
        assert_eq!(n, 0);
        assert!(s.pending_bytes() <= MAX_PENDING);
        assert!(b.refused_segments > 0);
        // Filling the hole delivers what was held, then stops at the gap.
        s.segment(1, &[7], &mut b, &mut |x| n += x.len());
        assert_eq!(n, 1 + s.delivered() as usize - 1);
        assert_eq!(b.used, s.pending_bytes());
        s.release(&mut b);
        assert_eq!(b.used, 0);
        // The depth: nothing past DEPTH is delivered.
        let mut s = Stream::default();
        let mut total = 0usize;
        s.syn(0);
        for i in 0..40u32 {
            s.segment(1 + i * 4000, &big, &mut b, &mut |x| total += x.len());
        }
        assert_eq!(total, DEPTH as usize);
        assert!(s.is_full());
    }

    #[test]
    fn global_budget_is_shared() {
        let mut b = Budget::new(1000);
        let mut s1 = Stream::default();
        let mut s2 = Stream::default();
        s1.syn(0);
        s2.syn(0);
        s1.segment(100, &[1; 800], &mut b, &mut |_| {});
        s2.segment(100, &[1; 800], &mut b, &mut |_| {});
        assert_eq!((b.used, b.refused_segments), (800, 1));
        s1.release(&mut b);
        assert_eq!(b.used, 0);
    }

    /// Flows buffering deep into their streams take at most half of the
    /// budget: a later flow's out-of-order hello still fits, and what was
    /// refused is counted per stream and per worker.
    #[test]
    fn deep_bytes_cannot_starve_a_later_hello() {
        let mut b = Budget::new(64 * 1024);
        let mut deep: Vec<Stream> = (0..3).map(|_| Stream::default()).collect();
        for s in deep.iter_mut() {
            s.syn(0);
            // A hole at the start, then 24 KB far into the stream.
            for i in 0..24u32 {
                s.segment(20_001 + i * 1000, &[1; 1000], &mut b, &mut |_| {});
            }
        }
        assert!(b.used_deep <= b.cap / 2, "{} deep bytes held", b.used_deep);
        let refused: u32 = deep.iter().map(|s| s.lost().segments).sum();
        assert!(refused > 0);
        assert_eq!(u64::from(refused), b.refused_segments);
        let mut hello = Stream::default();
        hello.syn(0);
        let mut got = Vec::new();
        // The second half of a ClientHello first, then the first half.
        hello.segment(1001, &[2; 1000], &mut b, &mut |x| got.extend_from_slice(x));
        assert_eq!(hello.lost(), Lost::default(), "the hello's bytes were held");
        hello.segment(1, &[3; 1000], &mut b, &mut |x| got.extend_from_slice(x));
        assert_eq!(got.len(), 2000);
        for s in deep.iter_mut().chain([&mut hello]) {
            s.release(&mut b);
        }
        assert_eq!((b.used, b.used_deep), (0, 0));
    }
}
