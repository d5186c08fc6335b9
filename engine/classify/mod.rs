//! Classifiers: what a flow carries, decided from its payload on any port.
//!
//! Every protocol is a dissector ([`dissector::Dissector`]: a cheap probe
//! on a side's first bytes, then per-flow state fed bytes until it gives a
//! verdict or refuses), listed once in the [`registry`]. Each flow has an
//! [`AppState`] ([`state`]): while the flow is undecided it runs the
//! registry's dissectors over the payload — TCP streams reassembled
//! ([`reassembly`]), datagrams as they come — and keeps the first verdict,
//! the names and facts it brought and the evidence ([`facts`]). Then the
//! state is freed: later packets of the flow cost one branch.
//!
//! Protocol parsers live one per module ([`dns`], [`http`], [`tls`],
//! [`quic`], and the VPN fingerprinters [`openvpn`], [`wireguard`],
//! [`ipsec`] with what they share in [`vpn`]); they are pure functions or
//! small state machines over bytes, with no knowledge of flows, so they are
//! tested and fuzzed alone. How to add one: `engine/classify/README.md`.

pub mod dissector;
pub mod dns;
pub mod dtls;
pub mod facts;
pub mod gre;
pub mod http;
pub mod iodine;
pub mod ipsec;
pub mod l2tp;
pub mod links;
pub mod n2n;
pub mod obfuscation;
pub mod openvpn;
pub mod pptp;
pub mod proxy;
pub mod quic;
pub mod reassembly;
pub mod registry;
pub mod softether;
pub mod ssh;
pub mod state;
pub mod summary;
pub mod tinc;
pub mod tls;
pub mod vpn;
pub mod wireguard;

pub use dissector::Confidence;
pub use facts::{Clue, Evidence, Fact, Names};
pub use state::{AppState, Packet, MAX_DATA_PACKETS};

/// The application protocol of a flow (EVE `app_proto`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AppProto {
    #[default]
    Unknown,
    Http,
    Tls,
    Quic,
    Dns,
    OpenVpn,
    WireGuard,
    Ike,
    Esp,
    Ah,
    Pptp,
    Gre,
    L2tp,
    Dtls,
    Socks,
    Ssh,
    SoftEther,
    Tinc,
    N2n,
}

impl AppProto {
    pub fn as_str(self) -> &'static str {
        match self {
            AppProto::Unknown => "unknown",
            AppProto::Http => "http",
            AppProto::Tls => "tls",
            AppProto::Quic => "quic",
            AppProto::Dns => "dns",
            AppProto::OpenVpn => "openvpn",
            AppProto::WireGuard => "wireguard",
            AppProto::Ike => "ike",
            AppProto::Esp => "esp",
            AppProto::Ah => "ah",
            AppProto::Pptp => "pptp",
            AppProto::Gre => "gre",
            AppProto::L2tp => "l2tp",
            AppProto::Dtls => "dtls",
            AppProto::Socks => "socks",
            AppProto::Ssh => "ssh",
            AppProto::SoftEther => "softether",
            AppProto::Tinc => "tinc",
            AppProto::N2n => "n2n",
        }
    }
}

impl std::fmt::Display for AppProto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
