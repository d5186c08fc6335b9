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
//! Protocol parsers live one per module ([`dns`], [`nbns`], [`http`],
//! [`tls`], [`quic`], [`starttls`] (plaintext openings that upgrade to
//! TLS), and the VPN fingerprinters [`openvpn`], [`wireguard`], [`ipsec`]
//! with what they share in [`vpn`]); they are pure functions or small
//! state machines over bytes, with no knowledge of flows, so they are
//! tested and fuzzed alone. How to add one: `engine/classify/README.md`.
//! A decided DNS flow's later messages are read by [`transactions`] when
//! per-transaction events or rules want them.

pub mod amneziawg;
pub mod dissector;
pub mod dns;
pub mod dtls;
pub mod evasion;
pub mod facts;
pub mod fully_encrypted;
pub mod gre;
pub mod http;
pub mod iodine;
pub mod ipsec;
pub mod l2tp;
pub mod links;
pub mod mtproto;
pub mod n2n;
pub mod nbns;
pub mod obfuscation;
pub mod openvpn;
pub mod plain_proxy;
pub mod pptp;
pub mod proxy;
pub mod quic;
pub mod reassembly;
pub mod registry;
pub mod server_names;
pub mod softether;
pub mod ssh;
pub mod starttls;
pub mod state;
pub mod summary;
pub mod tinc;
pub mod tls;
pub mod transactions;
pub mod vpn;
pub mod websocket;
pub mod wireguard;

pub use dissector::Confidence;
pub use evasion::Evasion;
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
    /// Telegram's MTProto transports.
    Mtproto,
    /// VLESS and Trojan request headers without TLS.
    Vless,
    Trojan,
    /// Multicast DNS (RFC 6762).
    Mdns,
    /// Link-Local Multicast Name Resolution (RFC 4795).
    Llmnr,
    /// NetBIOS Name Service (RFC 1002).
    Nbns,
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
            AppProto::Mtproto => "mtproto",
            AppProto::Vless => "vless",
            AppProto::Trojan => "trojan",
            AppProto::Mdns => "mdns",
            AppProto::Llmnr => "llmnr",
            AppProto::Nbns => "nbns",
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
