//! Findings that are not protocols: traffic built to look like nothing, or
//! like something else. A dissector that suspects it reports an
//! [`Obfuscation`] — a class, the suspects its structure allows, how sure,
//! the feature values it measured and the packets it measured them on —
//! never an application protocol.
//!
//! A `fully_encrypted` finding holds only while no dissector proves a
//! protocol: a flow that later parses as one loses it. The other classes
//! are found inside a protocol already decided (a tunnel inside TLS) and
//! stay.

use std::fmt;

use super::dissector::Confidence;
use super::facts::Evidence;
use super::vpn::Value;

/// What kind of hiding a flow shows (EVE `obfuscation.class`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// Every byte from the first looks random: no protocol's framing.
    FullyEncrypted,
    /// Another TLS handshake runs inside the TLS flow.
    TlsTunnel,
    /// The TLS handshake was done with a real server the flow then leaves.
    BorrowedHandshake,
    /// A WebSocket whose frames carry encrypted or TLS-looking payloads.
    WebsocketTunnel,
}

impl Class {
    /// Every class, for rules that name one.
    pub const ALL: [Class; 4] = [
        Class::FullyEncrypted,
        Class::TlsTunnel,
        Class::BorrowedHandshake,
        Class::WebsocketTunnel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Class::FullyEncrypted => "fully_encrypted",
            Class::TlsTunnel => "tls_tunnel",
            Class::BorrowedHandshake => "borrowed_handshake",
            Class::WebsocketTunnel => "websocket_tunnel",
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A protocol whose structure the flow fits (EVE `obfuscation.suspects`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Suspect {
    ShadowsocksAead,
    Shadowsocks2022,
    Vmess,
    Obfs4,
    Hysteria2Salamander,
    Mtproxy,
    ShadowTls,
    OpenVpn,
    VlessVision,
    AnyTls,
    /// A Reality-like switch: a server that claims a name's handshake.
    Reality,
}

impl Suspect {
    /// Every suspect, for rules that name one.
    pub const ALL: [Suspect; 6] = [
        Suspect::ShadowsocksAead,
        Suspect::Shadowsocks2022,
        Suspect::Vmess,
        Suspect::Obfs4,
        Suspect::Hysteria2Salamander,
        Suspect::Mtproxy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Suspect::ShadowsocksAead => "shadowsocks",
            Suspect::Shadowsocks2022 => "shadowsocks-2022",
            Suspect::Vmess => "vmess",
            Suspect::Obfs4 => "obfs4",
            Suspect::Hysteria2Salamander => "hysteria2-salamander",
            Suspect::Mtproxy => "mtproxy",
            Suspect::ShadowTls => "shadowtls-v3",
            Suspect::OpenVpn => "openvpn",
            Suspect::VlessVision => "vless-vision",
            Suspect::AnyTls => "anytls",
            Suspect::Reality => "reality",
        }
    }
}

/// A suspicion about a flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Obfuscation {
    pub class: Class,
    pub suspects: Vec<Suspect>,
    pub confidence: Confidence,
    /// The measured values the finding rests on, as (name, value).
    pub features: Vec<(&'static str, Value)>,
    /// The packets measured, and what each showed.
    pub evidence: Vec<Evidence>,
}

impl Obfuscation {
    /// Holds only while the flow has no protocol.
    pub fn needs_unknown(&self) -> bool {
        self.class == Class::FullyEncrypted
    }
}
