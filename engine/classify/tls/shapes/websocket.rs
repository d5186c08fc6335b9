//! WebSocket tunnels inside TLS, by shape: V2Ray-style transports (VMess,
//! VLESS, Trojan or Shadowsocks over WebSocket over TLS) open with an
//! HTTP Upgrade whose answer comes from a Go WebSocket library — the bare
//! `101 Switching Protocols` with Upgrade, Connection and
//! Sec-WebSocket-Accept and nothing else, 129 bytes — and the client
//! sends its tunnelled payload at once. A web server's 101 carries more
//! (nginx: Server and Date, 288 bytes; Python websockets: 303).
//!
//! A tunnelled TLS handshake after the upgrade makes it medium
//! confidence; the upgrade shape alone, low.

use super::super::super::dissector::{Confidence, Findings};
use super::super::super::obfuscation::Class;
use super::super::super::vpn::Value;
use super::tunnel::{self, MAX_BURSTS};
use super::view::{Burst, View};
use super::{suspicion, Clue, Log};
use crate::flow::TO_SERVER;

/// The client's upgrade request: a GET with Host, Upgrade, Connection,
/// Sec-WebSocket-Key and -Version is 150 bytes at the least; proxies
/// send 180-250, browsers with cookies up to a few kilobytes (not
/// tunnels).
pub const UPGRADE_MIN: usize = 150;
pub const UPGRADE_MAX: usize = 1024;
/// The bare 101 answer: status line (34), `Upgrade: websocket` (20),
/// `Connection: Upgrade` (21), `Sec-WebSocket-Accept: ` and 28 base64
/// characters (52), and the empty line (2) = 129; up to one short header
/// more.
pub const SWITCHING_MIN: usize = 129;
pub const SWITCHING_MAX: usize = 140;
/// The client's first frames after it: a proxy request (VMess: 129 and
/// more) or a tunnelled ClientHello.
pub const PAYLOAD_MIN: usize = 100;

/// The analyzer.
pub fn websocket_in_tls(log: &Log) -> Option<Findings> {
    let view = View::of(log)?;
    let bursts = view.bursts(MAX_BURSTS + 2);
    let (upgrade, switching, payload) = (*bursts.first()?, *bursts.get(1)?, *bursts.get(2)?);
    let fits = upgrade.side == TO_SERVER
        && upgrade.records == 1
        && (UPGRADE_MIN..=UPGRADE_MAX).contains(&upgrade.plain)
        && switching.records == 1
        && (SWITCHING_MIN..=SWITCHING_MAX).contains(&switching.plain)
        && payload.plain >= PAYLOAD_MIN;
    if !fits {
        return None;
    }
    let clue = |b: &Burst, role| {
        (
            b.packet,
            Clue::Burst {
                side: b.side,
                records: b.records,
                plain: b.plain,
                largest: b.largest,
                role,
            },
        )
    };
    let mut features = vec![
        ("upgrade_request_bytes", Value::Number(upgrade.plain as u64)),
        (
            "upgrade_response_bytes",
            Value::Number(switching.plain as u64),
        ),
        ("first_payload_bytes", Value::Number(payload.plain as u64)),
    ];
    let mut evidence = vec![
        clue(&upgrade, "an HTTP WebSocket upgrade request"),
        clue(&switching, "a bare 101 Switching Protocols answer"),
        clue(&payload, "tunnelled payload sent at once"),
    ];
    let inner = bursts.get(2..).and_then(tunnel::find);
    let confidence = match inner {
        Some(inner) => {
            features.extend(inner.features());
            evidence.extend(inner.evidence());
            inner.confidence()
        }
        None => Confidence::Low,
    };
    Some(suspicion(
        Class::WebsocketTunnel,
        Vec::new(),
        confidence,
        features,
        evidence,
    ))
}
