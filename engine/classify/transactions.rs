//! Every transaction of a flow, not only the first: the DNS messages that
//! follow a UDP flow's first one (a resolver's many queries on one tuple, a
//! DNS tunnel), read after the flow is decided; and every request of an
//! HTTP/1.x client stream (keep-alive), read by [`HttpFollower`] in the
//! stream's first 64 KiB (the reassembly depth), bodies skipped by their
//! `Content-Length` (a chunked body ends the reading); and every message
//! of a DNS-over-TCP client stream ([`DnsTcpFollower`]).
//!
//! Read only when asked for (per-transaction events, or rules, which check
//! each new message's name): the flow's classification ends where it would
//! without them and its state is freed as before, but for a TCP flow's
//! client stream and its follower, which read on (the server's bytes are
//! no longer looked at); each later datagram of a DNS-family flow costs one
//! parse.
//! A flow keeps at most [`MAX_TRANSACTIONS`] messages for its events; past
//! that they are counted ([`Names::dns_transactions_dropped`]), and rules
//! still see each one's name ([`Names::dns_latest`]).

use super::dns::{self, Dialect, DnsQuestion};
use super::http::{self, Body, HttpRequest};
use super::{nbns, AppProto, Names};
use crate::capture::Timestamp;

/// DNS messages a flow keeps for its events.
pub const MAX_TRANSACTIONS: usize = 64;

/// One DNS message of a flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsTransaction {
    pub ts: Timestamp,
    /// `TO_SERVER` (sent by the client) or `TO_CLIENT`.
    pub side: usize,
    /// Input position of its packet.
    pub packet: u64,
    pub question: DnsQuestion,
}

/// Is `proto` one whose later datagrams are read as transactions?
pub fn follows(proto: AppProto) -> bool {
    matches!(
        proto,
        AppProto::Dns | AppProto::Mdns | AppProto::Llmnr | AppProto::Nbns
    )
}

/// The message of a datagram of a flow decided as `proto`.
pub fn read(proto: AppProto, payload: &[u8]) -> Option<DnsQuestion> {
    let (q, dialect) = match proto {
        AppProto::Nbns => return nbns::parse(payload),
        AppProto::Dns => (dns::parse(payload)?, Dialect::Dns),
        AppProto::Mdns => (
            dns::parse(payload).or_else(|| dns::parse_announcement(payload))?,
            Dialect::Mdns,
        ),
        AppProto::Llmnr => (dns::parse(payload)?, Dialect::Llmnr),
        _ => return None,
    };
    Some(DnsQuestion { dialect, ..q })
}

/// Whether a datagram of a flow decided as `proto` asks `name`, decided
/// in place without reading it. True means that reading it cannot change
/// what rules see once `name` is the one they saw last: it is such a
/// message, or (its first name matching by chance) no message at all.
pub fn repeats(proto: AppProto, payload: &[u8], name: &str) -> bool {
    match proto {
        AppProto::Dns | AppProto::Mdns | AppProto::Llmnr => dns::question_is(payload, name),
        _ => false,
    }
}

/// Keeps a message: in the list while there is room (else counted), and
/// as the latest for the rules when it is not the flow's first. True when
/// what rules read (the queried name) changed: a message that repeats the
/// name (a response, a retry) cannot change a rule's outcome, and the rules
/// need not look again.
///
/// With `keep` false (rules read the messages, no event will) only the
/// latest is kept.
pub fn record(names: &mut Names, tx: DnsTransaction, first: bool, keep: bool) -> bool {
    let shown = names.dns_latest.as_deref().or(names.dns.as_deref());
    let changed = shown.is_none_or(|q| q.rrname != tx.question.rrname);
    if !keep {
        if !first && changed {
            set_latest(&mut names.dns_latest, tx.question);
        }
        return changed;
    }
    names.transactions_read = true;
    if !first && changed {
        names.dns_latest = Some(Box::new(tx.question.clone()));
    }
    if names.dns_transactions.len() < MAX_TRANSACTIONS {
        names.dns_transactions.push(tx);
    } else {
        names.dns_transactions_dropped = names.dns_transactions_dropped.saturating_add(1);
    }
    changed
}

/// Makes `value` the latest, in the box the one before had if any.
fn set_latest<T>(latest: &mut Option<Box<T>>, value: T) {
    match latest {
        Some(b) => **b = value,
        None => *latest = Some(Box::new(value)),
    }
}

/// One HTTP request of a flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpTransaction {
    pub ts: Timestamp,
    /// Input position of the packet that completed its head.
    pub packet: u64,
    pub request: HttpRequest,
}

/// Keeps a request: in the list while there is room (else counted), and as
/// the latest for the rules when it is not the flow's first. True when what
/// rules read of the latest request (its Host and its URL) changed (see
/// [`record`]).
pub fn record_http(names: &mut Names, tx: HttpTransaction, first: bool, keep: bool) -> bool {
    let shown = names.http_latest.as_deref().or(names.http.as_deref());
    let changed =
        shown.is_none_or(|r| r.hostname != tx.request.hostname || r.url != tx.request.url);
    if !keep {
        if !first && changed {
            set_latest(&mut names.http_latest, tx.request);
        }
        return changed;
    }
    names.transactions_read = true;
    if !first && changed {
        names.http_latest = Some(Box::new(tx.request.clone()));
    }
    if names.http_transactions.len() < MAX_TRANSACTIONS {
        names.http_transactions.push(tx);
    } else {
        names.http_transactions_dropped = names.http_transactions_dropped.saturating_add(1);
    }
    changed
}

/// Where the follower is in the client stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum At {
    /// At a request head (buffered until its blank line).
    Head,
    /// Inside a body: this many bytes to skip.
    Body(u64),
    /// Lost the thread (a chunked body, a head too long, bytes that do not
    /// start a request): reads nothing more.
    Off,
}

/// Reads every request of an HTTP/1.x client stream from its first byte:
/// each head in turn, the bodies between skipped by their
/// `Content-Length`. A chunked body ends the reading (the requests after
/// it are not found); so does anything that does not start a request
/// where one must start.
#[derive(Debug)]
pub struct HttpFollower {
    /// Every field of each request kept (for its event), else only what
    /// rules read ([`http::Keep::Names`]), and nothing of the first.
    all: bool,
    at: At,
    head: Vec<u8>,
    /// Requests read, in order, not yet taken.
    pending: Vec<HttpRequest>,
    /// Requests read in all.
    count: usize,
}

impl HttpFollower {
    /// For a client stream whose first bytes are `first` (`None` if they
    /// cannot start a request); `all`: keep every field of each request.
    pub fn start(first: &[u8], all: bool) -> Option<Self> {
        http::could_start_request(&first[..first.len().min(12)]).then(|| HttpFollower {
            all,
            at: At::Head,
            head: Vec::new(),
            pending: Vec::new(),
            count: 0,
        })
    }

    /// Still reading.
    pub fn active(&self) -> bool {
        self.at != At::Off
    }

    /// Requests read since the last call, and whether the first of them is
    /// the stream's first request (drained: the list keeps its room). For
    /// the rules alone the stream's first request is not among them.
    pub fn take(&mut self) -> (std::vec::Drain<'_, HttpRequest>, bool) {
        let first = self.count == self.pending.len();
        (self.pending.drain(..), first)
    }

    /// The next in-order bytes of the client stream.
    pub fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            match self.at {
                At::Off => return,
                At::Body(n) => {
                    let skip = usize::try_from(n).unwrap_or(usize::MAX).min(bytes.len());
                    bytes = &bytes[skip..];
                    self.at = match n - skip as u64 {
                        0 => At::Head,
                        left => At::Body(left),
                    };
                }
                At::Head => {
                    let room = http::MAX_HEAD - self.head.len();
                    let take = bytes.len().min(room);
                    let before = self.head.len();
                    // A head that arrives whole is read where it lies;
                    // only one cut across inputs is gathered.
                    if before > 0 {
                        self.head.extend_from_slice(&bytes[..take]);
                    }
                    let view: &[u8] = if before > 0 {
                        &self.head
                    } else {
                        &bytes[..take]
                    };
                    // Rules alone: the stream's first request is the
                    // flow's own, read by its dissector; it is only
                    // stepped over.
                    let keep = match (self.all, self.count) {
                        (true, _) => http::Keep::All,
                        (false, 0) => http::Keep::Nothing,
                        (false, _) => http::Keep::Names,
                    };
                    match http::read_complete(view, keep) {
                        Some((head, end, body)) => {
                            match head {
                                http::Head::Request(r) => {
                                    if keep != http::Keep::Nothing {
                                        self.pending.push(r);
                                    }
                                    self.count += 1;
                                }
                                _ => {
                                    self.at = At::Off;
                                    return;
                                }
                            }
                            // Bytes of this input past the head.
                            bytes = &bytes[end - before..];
                            self.head.clear();
                            self.at = match body {
                                Body::Length(0) => At::Head,
                                Body::Length(n) => At::Body(n),
                                Body::Unknown => At::Off,
                            };
                        }
                        None => {
                            let could = http::read_request(view) != http::Head::No;
                            if !could || view.len() >= http::MAX_HEAD {
                                self.at = At::Off;
                            } else if before == 0 {
                                self.head.extend_from_slice(&bytes[..take]);
                            }
                            return;
                        }
                    }
                }
            }
        }
    }
}

/// DNS over TCP: every message of the client stream, each behind its
/// 2-byte length; one longer than [`TCP_MESSAGE`] or one that does not
/// parse ends the reading.
#[derive(Debug, Default)]
pub struct DnsTcpFollower {
    buf: Vec<u8>,
    pending: Vec<DnsQuestion>,
    count: usize,
    off: bool,
}

/// Largest DNS-over-TCP message followed (length prefix included).
pub const TCP_MESSAGE: usize = 4096;

impl DnsTcpFollower {
    fn feed(&mut self, bytes: &[u8]) {
        if self.off {
            return;
        }
        self.buf.extend_from_slice(bytes);
        loop {
            let Some(len) = crate::bytes::be16(&self.buf, 0).map(usize::from) else {
                return;
            };
            if !(17..=TCP_MESSAGE - 2).contains(&len) {
                self.off = true;
                self.buf = Vec::new();
                return;
            }
            let Some(msg) = self.buf.get(2..2 + len) else {
                return;
            };
            match dns::parse(msg) {
                Some(q) => {
                    self.pending.push(q);
                    self.count += 1;
                    self.buf.drain(..2 + len);
                }
                None => {
                    self.off = true;
                    self.buf = Vec::new();
                    return;
                }
            }
        }
    }
}

/// What reads a decided TCP flow's client stream on: its HTTP requests or
/// its DNS messages.
#[derive(Debug)]
pub enum StreamFollower {
    Http(HttpFollower),
    Dns(DnsTcpFollower),
}

impl StreamFollower {
    /// For a client stream whose first bytes are `first`: an HTTP request
    /// or a DNS message's length can start there. `all`: keep every field
    /// of each HTTP request (for its event), not only what rules read.
    pub fn start(first: &[u8], all: bool) -> Option<Self> {
        if let Some(h) = HttpFollower::start(first, all) {
            return Some(StreamFollower::Http(h));
        }
        let fits = crate::bytes::be16(first, 0)
            .is_none_or(|len| (17..=TCP_MESSAGE as u16 - 2).contains(&len));
        fits.then(|| StreamFollower::Dns(DnsTcpFollower::default()))
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        match self {
            StreamFollower::Http(f) => f.feed(bytes),
            StreamFollower::Dns(f) => f.feed(bytes),
        }
    }

    /// Still reading, for a flow decided as `proto`.
    pub fn reads(&self, proto: AppProto) -> bool {
        match self {
            StreamFollower::Http(f) => proto == AppProto::Http && f.active(),
            StreamFollower::Dns(f) => proto == AppProto::Dns && !f.off,
        }
    }

    /// Something was read and not yet moved.
    pub fn has_pending(&self) -> bool {
        match self {
            StreamFollower::Http(f) => !f.pending.is_empty(),
            StreamFollower::Dns(f) => !f.pending.is_empty(),
        }
    }

    /// Moves what was read into `names` (the packet at `packet`, time
    /// `ts`, brought it; kept for events if `keep`); true if what rules
    /// read changed.
    pub fn drain_into(
        &mut self,
        names: &mut Names,
        ts: Timestamp,
        packet: u64,
        keep: bool,
    ) -> bool {
        match self {
            StreamFollower::Http(f) => {
                let (requests, mut first) = f.take();
                let mut changed = false;
                for request in requests {
                    changed |= record_http(
                        names,
                        HttpTransaction {
                            ts,
                            packet,
                            request,
                        },
                        first,
                        keep,
                    );
                    first = false;
                }
                changed
            }
            StreamFollower::Dns(f) => {
                let mut first = f.count == f.pending.len();
                let mut changed = false;
                for question in std::mem::take(&mut f.pending) {
                    let tx = DnsTransaction {
                        ts,
                        side: crate::flow::TO_SERVER,
                        packet,
                        question,
                    };
                    changed |= record(names, tx, first, keep);
                    first = false;
                }
                changed
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(id: u16, name: &str) -> Vec<u8> {
        let mut m = vec![(id >> 8) as u8, id as u8, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        for l in name.split('.') {
            m.push(l.len() as u8);
            m.extend_from_slice(l.as_bytes());
        }
        m.extend_from_slice(&[0, 0, 1, 0, 1]);
        m
    }

    #[test]
    fn keep_alive_requests_with_bodies_split_anywhere() {
        let stream: &[u8] = b"GET /1 HTTP/1.1\r\nHost: a.example\r\n\r\n\
POST /2 HTTP/1.1\r\nHost: b.example\r\nContent-Length: 11\r\n\r\nGET / HTTP/\
GET /3 HTTP/1.1\r\nHost: c.example\r\n\r\n";
        for cut in 0..stream.len() {
            let mut f = HttpFollower::start(stream, true).unwrap();
            f.feed(&stream[..cut]);
            f.feed(&stream[cut..]);
            let (reqs, first) = f.take();
            let reqs: Vec<_> = reqs.collect();
            let hosts: Vec<_> = reqs.iter().map(|r| r.hostname.clone().unwrap()).collect();
            assert_eq!(
                hosts,
                ["a.example", "b.example", "c.example"],
                "cut at {cut}"
            );
            assert!(first && f.active());
            // Read for the rules alone: the requests after the first (the
            // flow's own, read by its dissector), target and Host only.
            let mut lean = HttpFollower::start(stream, false).unwrap();
            lean.feed(&stream[..cut]);
            lean.feed(&stream[cut..]);
            let (lean_reqs, lean_first) = lean.take();
            let lean_reqs: Vec<_> = lean_reqs.collect();
            assert!(!lean_first && lean.active());
            assert_eq!(lean_reqs.len(), reqs.len() - 1);
            for (l, r) in lean_reqs.iter().zip(&reqs[1..]) {
                assert_eq!((&l.url, &l.hostname), (&r.url, &r.hostname));
                assert!(l.method.is_empty() && l.version.is_empty() && l.user_agent.is_none());
            }
        }
        // Stepped over or read, a first head that is no request ends the
        // reading all the same.
        for all in [true, false] {
            let mut f = HttpFollower::start(b"GET", all).unwrap();
            f.feed(b"GET /x\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: b\r\n\r\n");
            assert!(!f.active() && f.take().0.count() == 0, "all: {all}");
        }
        // A chunked body ends the reading; garbage where a head must start too.
        let mut f = HttpFollower::start(b"GET", true).unwrap();
        f.feed(b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello");
        assert_eq!(f.take().0.count(), 1);
        assert!(!f.active());
        let mut f = HttpFollower::start(b"GET", true).unwrap();
        f.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n\x16\x03\x01");
        assert!(!f.active());
        assert!(HttpFollower::start(b"\x16\x03\x01", true).is_none());
    }

    #[test]
    fn dns_over_tcp_messages_split_anywhere() {
        let mut stream = Vec::new();
        for (i, n) in ["a.example", "b.example", "c.example"].iter().enumerate() {
            let m = query(i as u16, n);
            stream.extend_from_slice(&(m.len() as u16).to_be_bytes());
            stream.extend_from_slice(&m);
        }
        for cut in 0..stream.len() {
            let mut f = StreamFollower::start(&stream, true).unwrap();
            assert!(matches!(f, StreamFollower::Dns(_)));
            f.feed(&stream[..cut]);
            f.feed(&stream[cut..]);
            let mut names = Names::default();
            assert!(f.drain_into(&mut names, 0, 0, true));
            let got: Vec<_> = names
                .dns_transactions
                .iter()
                .map(|t| t.question.rrname.as_str())
                .collect();
            assert_eq!(got, ["a.example", "b.example", "c.example"], "cut at {cut}");
            assert!(f.reads(AppProto::Dns) && !f.reads(AppProto::Http));
            assert_eq!(names.dns_latest.unwrap().rrname, "c.example");
        }
        assert!(StreamFollower::start(&[0x16, 0x03, 0x01], true).is_none());
    }

    #[test]
    fn bounded_and_counted() {
        let mut names = Names::default();
        let mut rules_only = Names::default();
        for i in 0..(MAX_TRANSACTIONS as u16 + 10) {
            let q = read(AppProto::Dns, &query(i, &format!("n{i}.example"))).unwrap();
            let tx = DnsTransaction {
                ts: 0,
                side: 0,
                packet: u64::from(i),
                question: q,
            };
            record(&mut names, tx.clone(), i == 0, true);
            // Rules alone: the latest only, nothing kept or counted.
            let changed = record(&mut rules_only, tx, i == 0, false);
            assert!(changed, "{i}");
        }
        assert_eq!(names.dns_transactions.len(), MAX_TRANSACTIONS);
        assert_eq!(names.dns_transactions_dropped, 10);
        assert_eq!(names.dns_latest.unwrap().rrname, "n73.example");
        assert!(rules_only.dns_transactions.is_empty() && !rules_only.transactions_read);
        assert_eq!(rules_only.dns_transactions_dropped, 0);
        assert_eq!(
            rules_only.dns_latest.as_ref().unwrap().rrname,
            "n73.example"
        );
        // A message that repeats the latest name changes nothing.
        let again = DnsTransaction {
            ts: 0,
            side: 1,
            packet: 99,
            question: read(AppProto::Dns, &query(7, "n73.example")).unwrap(),
        };
        assert!(!record(&mut rules_only, again, false, false));
        assert_eq!(read(AppProto::Tls, &query(1, "x.example")), None);
        assert_eq!(
            read(AppProto::Mdns, &query(1, "x.local")).unwrap().dialect,
            Dialect::Mdns
        );
    }
}
