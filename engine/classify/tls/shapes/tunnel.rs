//! TLS inside TLS: a proxy that carries a TLS connection (Trojan, VLESS,
//! VMess, Shadowsocks over WebSocket, AnyTLS, an HTTPS CONNECT proxy)
//! shows the tunnelled handshake as record sizes and directions right
//! after the outer handshake (Xue et al., "Fingerprinting Obfuscated Proxy
//! Traffic with Encapsulated TLS Handshakes", USENIX Security 2024): a
//! client burst big enough to carry a ClientHello, a server burst big
//! enough to carry a server's flight with its certificate, then a small
//! client burst — the client's Finished — before anything else.
//!
//! Browsers fetching over HTTP/2 make the same first two bursts (request
//! headers, then the response); what tells them apart is the third: a
//! browser's next client record is a 9-byte SETTINGS acknowledgement or
//! a request, a tunnelled handshake's is the Finished flight, whose sizes
//! are fixed by TLS. The thresholds below were set on
//! captures/camouflage (41 tunnel flows, 15 direct) and the 733 TLS flows
//! of the nDPI corpus that have a ServerHello; the rate they give is kept
//! by tests/camouflage.rs.
//!
//! Three shapes are recognised:
//! - **clean**: the Finished flight is its own record (Trojan, VLESS, VMess,
//!   Shadowsocks over WebSocket, ShadowTLS, HTTPS proxies);
//! - **glued**: the proxy read the Finished and the first request together
//!   (one record of up to [`GLUED_MAX`] bytes), after a proxy request
//!   record of its own;
//! - **padded**: VLESS with XTLS Vision and AnyTLS pad the tunnelled
//!   handshake: a proxy request, then the ClientHello padded to about a
//!   kilobyte, the Finished likewise.
//!
//! And one tunnelled protocol by its first messages: OpenVPN over TCP
//! inside TLS (stunnel), whose hard-reset pair has fixed sizes.

use super::super::super::dissector::Confidence;
use super::super::super::dissector::Findings;
use super::super::super::obfuscation::{Class, Suspect};
use super::super::super::vpn::Value;
use super::view::{overhead, AppRecord, Burst, View};
use super::{suspicion, Clue, Log};
use crate::flow::TO_SERVER;

/// Bursts after the outer handshake in which the tunnelled handshake must
/// start and end (a proxy's own request and reply, a WebSocket upgrade,
/// may come first).
pub const MAX_BURSTS: usize = 8;
/// Smallest record that carries a tunnelled ClientHello: real hellos are
/// 200 bytes and more (OpenSSL pads to 512; Go sends 250-300 without
/// key shares for post-quantum, 1,500 with; Chrome about 1,900).
pub const HELLO_MIN: usize = 200;
/// Largest: a browser's hello with post-quantum key shares (about 1,950)
/// and a proxy's framing. Bigger first messages are an application's own
/// (AnyDesk: 4,093).
pub const HELLO_MAX: usize = 2600;
/// Smallest server burst that carries a server's flight: ServerHello
/// (about 90-130 bytes) and a certificate (a small ECDSA chain is 500; the
/// captures' test CA gives 870, public sites 2,000-6,000).
pub const SERVER_FLIGHT_MIN: usize = 600;
/// The client's Finished flight, as the first record of the third burst:
/// TLS 1.3 Finished 58 (SHA-256) or 74 (SHA-384) bytes, 6 more with the
/// compatibility ChangeCipherSpec; TLS 1.2 key exchange, ChangeCipherSpec
/// and Finished 90-150; plus up to a few dozen bytes of proxy framing
/// (VMess chunks, Shadowsocks AEAD, WebSocket headers). Measured: 80-128
/// in the tunnels; a browser's next record is 9 (HTTP/2 SETTINGS ack).
pub const FINISHED_MIN: usize = 58;
pub const FINISHED_MAX: usize = 160;
/// A Finished read together with the first request (curl's HTTP/2
/// preface, settings and headers after an 80-byte Finished: 266).
pub const GLUED_MAX: usize = 300;
/// Padded hellos and Finished flights of Vision and AnyTLS (measured: 900
/// to 1,400 for the hello, 500 to 1,350 for the Finished), and the proxy
/// request before the hello (130 to 470).
pub const PADDED_HELLO_MIN: usize = 850;
pub const PADDED_FINISHED_MIN: usize = 500;
pub const PROXY_REQUEST_MIN: usize = 100;
/// OpenVPN over TCP, no tls-auth: P_CONTROL_HARD_RESET_CLIENT_V2 is 16
/// bytes with its length prefix (opcode, session id, empty ack array,
/// packet id), the server's answer 28 (with the acknowledged packet id and
/// the client's session id).
pub const OPENVPN_CLIENT_RESET: usize = 16;
pub const OPENVPN_SERVER_RESET: usize = 28;

/// How the tunnelled handshake looked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Clean,
    Glued,
    Padded,
}

impl Shape {
    fn as_str(self) -> &'static str {
        match self {
            Shape::Clean => "clean",
            Shape::Glued => "glued",
            Shape::Padded => "padded",
        }
    }
}

/// A tunnelled handshake found in the bursts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inner {
    /// Bursts before the tunnelled ClientHello.
    pub at: usize,
    pub shape: Shape,
    pub hello: Burst,
    pub server: Burst,
    pub finished: Burst,
}

/// The first tunnelled handshake in `bursts` (client, server, client).
pub fn find(bursts: &[Burst]) -> Option<Inner> {
    bursts.windows(3).enumerate().find_map(|(at, w)| {
        let (hello, server, finished) = (w[0], w[1], w[2]);
        if hello.side != TO_SERVER || server.plain < SERVER_FLIGHT_MIN {
            return None;
        }
        // The hello is the last record the client sends before it waits
        // for the server's flight, and no bigger than a real one.
        if hello.last != hello.largest || hello.largest > HELLO_MAX {
            return None;
        }
        // A client that opens its next burst with a record the size of the
        // one it opened the last with is repeating a request (a header
        // record, then a body), not finishing a handshake.
        if hello.records >= 2 && finished.first == hello.first {
            return None;
        }
        let shape = if hello.largest >= HELLO_MIN
            && (FINISHED_MIN..=FINISHED_MAX).contains(&finished.first)
        {
            Shape::Clean
        } else if at == 0
            && hello.records >= 2
            && hello.largest >= HELLO_MIN
            && finished.first > FINISHED_MAX
            && finished.first <= GLUED_MAX
        {
            // A proxy request record, then the hello, as the first client
            // data: the Finished came with the first request.
            Shape::Glued
        } else if hello.records >= 2
            && hello.largest >= PADDED_HELLO_MIN
            && hello.first >= PROXY_REQUEST_MIN
            && finished.largest >= PADDED_FINISHED_MIN
        {
            Shape::Padded
        } else {
            return None;
        };
        Some(Inner {
            at,
            shape,
            hello,
            server,
            finished,
        })
    })
}

impl Inner {
    /// The feature values, named for EVE.
    pub fn features(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("inner_handshake", Value::Text(self.shape.as_str())),
            ("bursts_before", Value::Number(self.at as u64)),
            (
                "inner_hello_bytes",
                Value::Number(self.hello.largest as u64),
            ),
            (
                "inner_server_flight_bytes",
                Value::Number(self.server.plain as u64),
            ),
            (
                "inner_finished_bytes",
                Value::Number(self.finished.first as u64),
            ),
        ]
    }

    /// The three bursts, as evidence.
    pub fn evidence(&self) -> Vec<(u64, Clue)> {
        let clue = |b: &Burst, role| Clue::Burst {
            side: b.side,
            records: b.records,
            plain: b.plain,
            largest: b.largest,
            role,
        };
        vec![
            (
                self.hello.packet,
                clue(&self.hello, "a tunnelled ClientHello"),
            ),
            (
                self.server.packet,
                clue(&self.server, "a tunnelled server flight"),
            ),
            (
                self.finished.packet,
                clue(&self.finished, "a tunnelled client Finished"),
            ),
        ]
    }

    pub fn confidence(&self) -> Confidence {
        match self.shape {
            Shape::Clean => Confidence::Medium,
            Shape::Glued | Shape::Padded => Confidence::Low,
        }
    }
}

/// The analyzer: a tunnelled TLS handshake, or OpenVPN's first messages,
/// right after the outer handshake.
pub fn tls_in_tls(log: &Log) -> Option<Findings> {
    let view = View::of(log)?;
    let bursts = view.bursts(MAX_BURSTS);
    let outer = Value::Number(overhead(view.version, view.cipher).0 as u64);
    if let Some(inner) = find(&bursts) {
        let mut features = inner.features();
        features.push(("outer_record_overhead", outer));
        let suspects = match inner.shape {
            Shape::Padded => vec![Suspect::VlessVision, Suspect::AnyTls],
            _ => Vec::new(),
        };
        return Some(suspicion(
            Class::TlsTunnel,
            suspects,
            inner.confidence(),
            features,
            inner.evidence(),
        ));
    }
    let (client, server) = openvpn_reset(&view.records)?;
    let record = |r: &AppRecord, role| {
        (
            r.packet,
            Clue::Burst {
                side: r.side,
                records: 1,
                plain: r.plain,
                largest: r.plain,
                role,
            },
        )
    };
    Some(suspicion(
        Class::TlsTunnel,
        vec![Suspect::OpenVpn],
        Confidence::Medium,
        vec![
            (
                "inner_client_reset_bytes",
                Value::Number(client.plain as u64),
            ),
            (
                "inner_server_reset_bytes",
                Value::Number(server.plain as u64),
            ),
            ("outer_record_overhead", outer),
        ],
        vec![
            record(client, "an OpenVPN-over-TCP client hard reset"),
            record(server, "an OpenVPN-over-TCP server hard reset"),
        ],
    ))
}

/// Records the server may send before its answer to the client's first
/// (TLS 1.3 session tickets).
const TICKETS_MAX: usize = 3;

/// The client's first application record is an OpenVPN client hard reset
/// and one of the server's next records (after session tickets) its
/// answer, before the client sends again.
fn openvpn_reset(records: &[AppRecord]) -> Option<(&AppRecord, &AppRecord)> {
    let first = records.iter().position(|r| r.side == TO_SERVER)?;
    let client = records.get(first)?;
    if client.plain != OPENVPN_CLIENT_RESET {
        return None;
    }
    let server = records
        .iter()
        .skip(first + 1)
        .take(TICKETS_MAX + 1)
        .take_while(|r| r.side != TO_SERVER)
        .find(|r| r.plain == OPENVPN_SERVER_RESET)?;
    Some((client, server))
}
