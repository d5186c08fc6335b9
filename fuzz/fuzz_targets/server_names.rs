//! The server-name profiles behind Reality-like suspicions: input-chosen
//! handshakes (a name from a small alphabet, flight, first record after
//! the handshake, tickets and compression offered, server address) held
//! against them one after another. Nothing panics, the table stays within
//! its bound, and every suspicion is of the borrowed-handshake class.
//! Input: 12-byte records [name][flight: 4][first: 4][flags][address: 2].

#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use sift::classify::facts::Fact;
use sift::classify::obfuscation::Class;
use sift::classify::server_names::{ServerNames, MAX_NAMES};
use sift::classify::tls::shapes::handshake::Handshake;

fuzz_target!(|data: &[u8]| {
    let mut t = ServerNames::default();
    for r in data.chunks_exact(12) {
        let word = |i: usize| u32::from_le_bytes([r[i], r[i + 1], r[i + 2], r[i + 3]]);
        let flags = r[9];
        let h = Handshake {
            name: format!("n{}.example", r[0] % 8),
            flight: word(1) as usize,
            flight_packet: 1,
            first_after: (flags & 1 != 0).then(|| (word(5) as usize, 2)),
            tickets: flags & 2 != 0,
            compressed: flags & 4 != 0,
        };
        let server = IpAddr::from([192, 0, r[10], r[11]]);
        if let Some(found) = t.judge(&h, server, flags & 8 == 0) {
            for f in &found.facts {
                if let Fact::Obfuscation(o) = f {
                    assert_eq!(o.class, Class::BorrowedHandshake);
                    assert!(!o.evidence.is_empty());
                }
            }
        }
        assert!(t.len() <= MAX_NAMES);
    }
});
