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
    // A complete head read in one pass ends after the stream's first
    // `CRLF CRLF` (else its first `LF LF`), decides as the reading of the
    // head alone, and delimits the body alike whatever it keeps; what rules
    // alone read has the same target and Host.
    let blank = |pat: &[u8]| data.windows(pat.len()).position(|w| w == pat);
    let end = blank(b"\r\n\r\n")
        .map(|e| e + 4)
        .or_else(|| blank(b"\n\n").map(|e| e + 2));
    match http::read_complete(data, http::Keep::All) {
        None => assert!(end.is_none()),
        Some((all, at, body)) => {
            assert_eq!(Some(at), end);
            assert_eq!(all, http::read_request(&data[..at]));
            for keep in [http::Keep::Names, http::Keep::Nothing] {
                let (head, e, b) = http::read_complete(data, keep).expect("a complete head");
                assert_eq!((e, std::mem::discriminant(&head)), (at, std::mem::discriminant(&all)));
                if let (http::Head::Request(a), http::Head::Request(r)) = (&all, &head) {
                    assert_eq!(b, body);
                    if keep == http::Keep::Names {
                        assert_eq!((&a.url, &a.hostname), (&r.url, &r.hostname));
                    }
                }
            }
        }
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
