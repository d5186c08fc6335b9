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
    // What rules alone read decides the same, with the same target and Host.
    match (&full, http::read_request_names(data)) {
        (http::Head::Request(a), http::Head::Request(b)) => {
            assert_eq!((&a.url, &a.hostname), (&b.url, &b.hostname));
        }
        (a, b) => assert_eq!(std::mem::discriminant(a), std::mem::discriminant(&b)),
    }
    let _ = http::is_response(data);
    if let Some(q) = dns::parse(data) {
        assert!(q.rrname.len() <= 4 * 255);
        assert!(!q.rrname.ends_with('.'));
    }
});
