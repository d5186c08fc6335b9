//! The name parsers (HTTP request heads, DNS messages) over arbitrary
//! bytes: they never panic, and what they return is consistent.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sift::classify::{dns, http};

fuzz_target!(|data: &[u8]| {
    let full = http::read_request(data);
    if let http::Head::Request(r) = &full {
        assert!(!r.method.is_empty() && r.version.starts_with("HTTP/1."));
    }
    // A complete head read in one pass decides as the reading of the head
    // alone, ends where `head_extent` says, with the same body; what rules
    // alone read has the same target and Host.
    if let Some((end, body)) = http::head_extent(data) {
        let alone = http::read_request(&data[..end]);
        for keep in [http::Keep::All, http::Keep::Names, http::Keep::Nothing] {
            let (head, at, b) = http::read_complete(data, keep).expect("a complete head");
            assert_eq!(at, end);
            assert_eq!(
                std::mem::discriminant(&head),
                std::mem::discriminant(&alone)
            );
            if let (http::Head::Request(a), http::Head::Request(r)) = (&alone, &head) {
                assert_eq!(b, body);
                match keep {
                    http::Keep::All => assert_eq!(a, r),
                    http::Keep::Names => assert_eq!((&a.url, &a.hostname), (&r.url, &r.hostname)),
                    http::Keep::Nothing => {}
                }
            }
        }
    } else {
        assert!(http::read_complete(data, http::Keep::All).is_none());
    }
    let _ = http::is_response(data);
    // A message names exactly the name it is read with, found in place too.
    let read = dns::parse(data).or_else(|| dns::parse_announcement(data));
    if let Some(q) = read {
        assert!(q.rrname.len() <= 4 * 255);
        assert!(!q.rrname.ends_with('.'));
        assert!(dns::question_is(data, &q.rrname));
        assert!(!dns::question_is(data, &format!("{}x", q.rrname)));
        if let Some(shorter) = q.rrname.get(..q.rrname.len().saturating_sub(1)) {
            assert!(shorter == q.rrname || !dns::question_is(data, shorter));
        }
    }
});
