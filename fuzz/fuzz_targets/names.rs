//! The name parsers (HTTP request heads, DNS messages) over arbitrary
//! bytes: they never panic, and what they return is consistent.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sift::classify::{dns, http};

fuzz_target!(|data: &[u8]| {
    if let http::Head::Request(r) = http::read_request(data) {
        assert!(!r.method.is_empty() && r.version.starts_with("HTTP/1."));
    }
    let _ = http::is_response(data);
    if let Some(q) = dns::parse(data) {
        assert!(q.rrname.len() <= 4 * 255);
        assert!(!q.rrname.ends_with('.'));
    }
});
