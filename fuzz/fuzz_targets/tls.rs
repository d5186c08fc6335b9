//! TLS: the handshake reader over a stream cut at input-chosen points,
//! and the ClientHello/ServerHello parsers (with their fingerprints) over
//! whatever messages come out.
//! Input: [cut byte][stream bytes]; the stream is fed in chunks of
//! `cut % 64 + 1` bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sift::classify::tls::{parse_client_hello, parse_server_hello, HandshakeReader};

fuzz_target!(|data: &[u8]| {
    let Some((&cut, stream)) = data.split_first() else { return };
    let mut r = HandshakeReader::new();
    for chunk in stream.chunks(usize::from(cut % 64) + 1) {
        let feed = r.push(chunk);
        while let Some(msg) = r.next_message() {
            if let Ok(ch) = parse_client_hello(msg.body) {
                let _ = (ch.ja3_string(), ch.ja3_hash(), ch.ja4(false), ch.ja4_r(true));
                if let Some(sni) = &ch.sni {
                    assert!(!sni.ends_with('.'));
                }
            }
            let _ = parse_server_hello(msg.body);
        }
        if feed.is_final() {
            break;
        }
    }
    // The parsers straight on the input, too.
    let _ = parse_client_hello(stream).map(|ch| ch.ja4(true));
    let _ = parse_server_hello(stream);
});
