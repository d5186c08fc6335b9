//! The capture file readers (pcap, pcapng) over arbitrary bytes: every
//! packet they yield lies inside the input, and they stop.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sift::capture::file::Reader;

fuzz_target!(|data: &[u8]| {
    let Ok(mut r) = Reader::new(data) else { return };
    let range = data.as_ptr_range();
    let mut n = 0usize;
    while let Some(item) = r.next_packet() {
        if let Ok(p) = item {
            let pr = p.data.as_ptr_range();
            assert!(pr.start >= range.start && pr.end <= range.end);
        }
        n += 1;
        assert!(n <= data.len(), "a reader must consume input to yield packets");
    }
});
