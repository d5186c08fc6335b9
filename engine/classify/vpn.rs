//! What the VPN fingerprinters (OpenVPN, WireGuard, IPsec) have in common:
//! how sure a verdict is, and what it rests on.
//!
//! Each fingerprinter is a per-flow state machine fed the flow's datagrams
//! (or, over TCP, its in-order stream bytes) with their direction and input
//! position. It answers [`Progress::NotThis`] as soon as the packets break
//! its protocol's rules, [`Progress::Candidate`] while the evidence is
//! consistent but not yet enough, and [`Progress::Verdict`] once it is —
//! evidence gathered over several packets and both directions where the
//! protocol allows, never one byte or a port.

/// How sure a verdict is.
///
/// - `Low`: one direction only, or a pattern that could occur by chance in
///   a few packets (e.g. a data channel picked up mid-flow).
/// - `Medium`: a consistent pattern over several packets, without the
///   handshake.
/// - `High`: a handshake whose fields tie both directions together
///   (session ids echoed, indices paired, SPIs in a valid exchange).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// One fact a verdict rests on: the input position of the packet that
/// showed it, and what it showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fact {
    pub packet: u64,
    pub what: String,
}

/// A VPN verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VpnVerdict {
    /// "openvpn", "wireguard", "ike" or "esp".
    pub protocol: &'static str,
    pub confidence: Confidence,
    /// Mode details found, as (name, value): e.g. ("hmac_bytes", "32"),
    /// ("mode", "tls-crypt"), ("sender_index", "0x1a2b3c4d").
    pub details: Vec<(&'static str, String)>,
    pub evidence: Vec<Fact>,
}

/// Where a fingerprinter stands after a packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    /// The flow is not this protocol; do not feed it again.
    NotThis,
    /// Consistent so far; more packets needed.
    Candidate,
    /// Decided.
    Verdict(VpnVerdict),
}
