//! HTTP Host header tricks (tpws `--hostcase --hostnospace --domcase
//! --methodeol --hosttab --methodspace`, GoodbyeDPI `-r -s -m -a`, ByeDPI
//! `--mod-http`): a request head written so that a matcher looking for
//! `Host: name` misses it, while a server still reads it.
//!
//! What counts: an empty line before the request line, more than one space
//! (or a tab) after the method, a Host header name in mixed case (`hOsT`;
//! `Host`, `host` and `HOST` are what clients write), no space or more than
//! one (or a tab) after its colon, whitespace after the value, and a value
//! whose case alternates inside a label (`bLoCkEd.ExAmPlE.tEsT`).

use crate::bytes::find;

/// True when the request head `head` shows a Host header trick.
pub fn host_tricks(head: &[u8]) -> bool {
    let end = find(head, b"\r\n\r\n")
        .map(|e| e + 2)
        .or_else(|| find(head, b"\n\n").map(|e| e + 1))
        .unwrap_or(head.len());
    let head = &head[..end];
    let start = head
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(head.len());
    let mut lines = head[start..].split(|&b| b == b'\n');
    let Some(request) = lines.next() else {
        return false;
    };
    // Only an HTTP/1.x request line is judged.
    if find(request, b" HTTP/1.").is_none() {
        return false;
    }
    if start > 0 {
        return true;
    }
    let Some(sp) = request.iter().position(|&b| b == b' ' || b == b'\t') else {
        return false;
    };
    if !request[..sp].iter().all(u8::is_ascii_uppercase) {
        return false;
    }
    if matches!(
        request.get(sp..sp + 2),
        Some([_, b' ' | b'\t']) | Some([b'\t', _])
    ) {
        return true;
    }
    for line in lines {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if !name.eq_ignore_ascii_case(b"host") {
            continue;
        }
        let usual_name = matches!(name, b"Host" | b"host" | b"HOST");
        let spacing = !value.starts_with(b" ")
            || value.starts_with(b"  ")
            || value.contains(&b'\t')
            || value.ends_with(b" ");
        // domcase: a capital right after a small letter (`bLoCkEd`); a
        // capital first letter or a capitalised label (`Example.ORG`) is
        // how people type names.
        let domcase = value
            .windows(2)
            .any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase());
        return !usual_name || spacing || domcase;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tricks_and_honest_heads() {
        let honest: [&[u8]; 5] = [
            b"GET /x HTTP/1.1\r\nHost: Example.ORG\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nhost: www.example.com:8080\r\n\r\n",
            b"POST /a HTTP/1.0\r\nHOST: 10.0.0.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nUser-Agent: A B\r\n\r\n",
        ];
        for h in honest {
            assert!(!host_tricks(h), "{}", String::from_utf8_lossy(h));
        }
        let tricks: [&[u8]; 7] = [
            b"GET / HTTP/1.1\r\nhOsT: blocked.example.test\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost:blocked.example.test\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: bLoCkEd.ExAmPlE.tEsT\r\n\r\n",
            b"GET  / HTTP/1.1\r\nHost:   blocked.example.test  \r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: blocked.example.test\t\r\n\r\n",
            b"\nGET / HTTP/1.1\r\nHOST:blocked.example.test\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: blocked.example.test \r\n\r\n",
        ];
        for h in tricks {
            assert!(host_tricks(h), "{}", String::from_utf8_lossy(h));
        }
        assert!(!host_tricks(&[0x16, 3, 1]));
    }
}
