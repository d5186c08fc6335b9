//! QUIC: the Initial tracker over a few datagrams cut from the input, in
//! both directions. Input: [dir+len hi][len lo][datagram]... repeated.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sift::classify::quic::{QuicInitialTracker, QuicProgress};
use sift::classify::tls::parse_client_hello;

fuzz_target!(|data: &[u8]| {
    let mut t = QuicInitialTracker::new();
    let mut rest = data;
    while rest.len() >= 2 {
        let from_client = rest[0] & 0x80 == 0;
        let len = (usize::from(rest[0] & 0x07) << 8 | usize::from(rest[1])).min(rest.len() - 2);
        let dgram = &rest[2..2 + len];
        rest = &rest[2 + len..];
        if let QuicProgress::ClientHello = t.on_datagram(dgram, from_client) {
            if let Some(m) = t.client_hello() {
                assert!(m.len() >= 4 && m[0] == 1);
                let _ = parse_client_hello(&m[4..]);
            }
        }
    }
});
