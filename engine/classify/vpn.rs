//! What the VPN fingerprinters (OpenVPN, WireGuard, IPsec) have in common:
//! the verdict they reach, its typed details, and the bookkeeping of a
//! fingerprinter that reads at most so many packets.
//!
//! Each fingerprinter is a per-flow state machine fed the flow's datagrams
//! (or, over TCP, its in-order stream bytes) with their direction and input
//! position. It answers [`Progress::NotThis`] as soon as the packets break
//! its protocol's rules, [`Progress::Candidate`] while the evidence is
//! consistent but not yet enough, and [`Progress::Verdict`] once it is —
//! evidence gathered over several packets and both directions where the
//! protocol allows, never one byte or a port. Each is a dissector of the
//! [registry](super::registry); this module imports none of them.

use std::fmt;

use super::dissector::{Confidence, Findings, Step, Verdict};
use super::facts::{Evidence, Fact};
use super::AppProto;

/// Which side sent a packet: 0 the client (the flow's originator), 1 the
/// server.
pub fn side_of(from_client: bool) -> usize {
    usize::from(!from_client)
}

/// "client" or "server", for facts.
pub fn side_name(side: usize) -> &'static str {
    if side == 0 {
        "client"
    } else {
        "server"
    }
}

/// An index or SPI as facts and details print it: `0x1a2b3c4d`.
pub struct Hex32(pub u32);

impl fmt::Display for Hex32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010x}", self.0)
    }
}

/// An IKE SPI: `0x0011223344556677`.
pub struct Hex64(pub u64);

impl fmt::Display for Hex64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#018x}", self.0)
    }
}

/// The value of one VPN detail, put into words when written out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Text(&'static str),
    /// A decimal count or number.
    Number(u64),
    /// An index or SPI, `0x1a2b3c4d`.
    Hex32(u32),
    /// An IKE SPI, `0x0011223344556677`.
    Hex64(u64),
    /// A side: "client" or "server".
    Side(usize),
    /// Bytes in hex, no separator (an OpenVPN session id).
    Bytes8([u8; 8]),
    /// Bytes in hex, no separator, any length (a scramble mask).
    Bytes(Vec<u8>),
    /// Bytes in hex with unknown ones as `??` (a partly recovered mask).
    PartialBytes(Vec<Option<u8>>),
    /// Names joined by commas (IKE exchanges).
    List(Vec<&'static str>),
    /// A number in hundredths, written with two decimals (`3.98`).
    Hundredths(u32),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Text(t) => f.write_str(t),
            Value::Number(n) => write!(f, "{n}"),
            Value::Hex32(v) => Hex32(*v).fmt(f),
            Value::Hex64(v) => Hex64(*v).fmt(f),
            Value::Side(s) => f.write_str(side_name(*s)),
            Value::Bytes8(b) => b.iter().try_for_each(|b| write!(f, "{b:02x}")),
            Value::Hundredths(v) => write!(f, "{}.{:02}", v / 100, v % 100),
            Value::Bytes(b) => b.iter().try_for_each(|b| write!(f, "{b:02x}")),
            Value::PartialBytes(b) => b.iter().try_for_each(|b| match b {
                Some(b) => write!(f, "{b:02x}"),
                None => f.write_str("??"),
            }),
            Value::List(names) => {
                for (i, n) in names.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    f.write_str(n)?;
                }
                Ok(())
            }
        }
    }
}

impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        matches!(self, Value::Text(t) if t == other)
    }
}

/// A VPN's mode details, as (name, value): e.g. ("hmac_bytes", 32),
/// ("mode", "tls-crypt"), ("sender_index", 0x1a2b3c4d).
pub type VpnDetails = Vec<(&'static str, Value)>;

/// Which VPN a flow carries (EVE `vpn.protocol`). For some it is also the
/// flow's application protocol; others ride inside one (OpenConnect and
/// SSTP inside TLS, a DNS tunnel inside DNS).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VpnProtocol {
    OpenVpn,
    WireGuard,
    Ike,
    Esp,
    Ah,
    /// AmneziaWG: WireGuard with junk, prefixes and renumbered types
    /// (its application protocol is `wireguard`).
    AmneziaWg,
    Pptp,
    Gre,
    L2tp,
    /// OpenConnect / Cisco AnyConnect (inside DTLS or TLS).
    OpenConnect,
    /// Tor's link protocol (inside TLS).
    Tor,
    /// SSTP (inside TLS, by record shapes).
    Sstp,
    SoftEther,
    Tinc,
    N2n,
    /// iodine (inside DNS).
    Iodine,
}

impl VpnProtocol {
    pub fn as_str(self) -> &'static str {
        match self {
            VpnProtocol::OpenVpn => "openvpn",
            VpnProtocol::WireGuard => "wireguard",
            VpnProtocol::Ike => "ike",
            VpnProtocol::Esp => "esp",
            VpnProtocol::Ah => "ah",
            VpnProtocol::AmneziaWg => "amneziawg",
            VpnProtocol::Pptp => "pptp",
            VpnProtocol::Gre => "gre",
            VpnProtocol::L2tp => "l2tp",
            VpnProtocol::OpenConnect => "openconnect",
            VpnProtocol::Tor => "tor",
            VpnProtocol::Sstp => "sstp",
            VpnProtocol::SoftEther => "softether",
            VpnProtocol::Tinc => "tinc",
            VpnProtocol::N2n => "n2n",
            VpnProtocol::Iodine => "iodine",
        }
    }

    /// The flow's application protocol when the VPN is one.
    pub fn app_proto(self) -> Option<AppProto> {
        Some(match self {
            VpnProtocol::OpenVpn => AppProto::OpenVpn,
            VpnProtocol::WireGuard => AppProto::WireGuard,
            VpnProtocol::Ike => AppProto::Ike,
            VpnProtocol::Esp => AppProto::Esp,
            VpnProtocol::Ah => AppProto::Ah,
            VpnProtocol::AmneziaWg => AppProto::WireGuard,
            VpnProtocol::Pptp => AppProto::Pptp,
            VpnProtocol::Gre => AppProto::Gre,
            VpnProtocol::L2tp => AppProto::L2tp,
            VpnProtocol::OpenConnect
            | VpnProtocol::Tor
            | VpnProtocol::Sstp
            | VpnProtocol::Iodine => return None,
            VpnProtocol::SoftEther => AppProto::SoftEther,
            VpnProtocol::Tinc => AppProto::Tinc,
            VpnProtocol::N2n => AppProto::N2n,
        })
    }
}

/// A VPN a flow carries: which, how sure, and its mode details.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VpnFacts {
    pub protocol: VpnProtocol,
    pub confidence: Confidence,
    pub details: VpnDetails,
}

/// A VPN verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VpnVerdict {
    pub protocol: VpnProtocol,
    pub confidence: Confidence,
    pub details: VpnDetails,
    pub evidence: Vec<Evidence>,
}

impl VpnVerdict {
    /// The value of detail `name`, in words.
    pub fn detail(&self, name: &str) -> Option<String> {
        self.details
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }

    /// As the registry's verdict: the VPN's application protocol (or, for
    /// a VPN inside another protocol, `inside`) and the VPN facts.
    pub fn into_verdict(self) -> Verdict {
        let proto = self.protocol.app_proto().unwrap_or_default();
        Verdict {
            proto,
            confidence: self.confidence,
            found: self.into_findings(),
            more: false,
        }
    }

    /// The VPN facts and evidence alone (a VPN found inside a flow whose
    /// protocol is decided otherwise).
    pub fn into_findings(self) -> Findings {
        Findings {
            facts: vec![Fact::Vpn(VpnFacts {
                protocol: self.protocol,
                confidence: self.confidence,
                details: self.details,
            })],
            evidence: self.evidence,
            links: Vec::new(),
        }
    }
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

impl Progress {
    /// As a registry step.
    pub fn step(self) -> Step {
        match self {
            Progress::NotThis => Step::Refuse,
            Progress::Candidate => Step::NeedMore,
            Progress::Verdict(v) => Step::Verdict(v.into_verdict()),
        }
    }
}

/// The bookkeeping every fingerprinter shares: packets examined, why the
/// flow was refused (`R`, the fingerprinter's own reasons), the verdict
/// reached. A fingerprinter reads at most `max` packets.
#[derive(Clone, Debug)]
pub struct Gate<R> {
    examined: u32,
    refused: Option<R>,
    decided: Option<VpnVerdict>,
}

impl<R> Default for Gate<R> {
    fn default() -> Self {
        Gate {
            examined: 0,
            refused: None,
            decided: None,
        }
    }
}

impl<R> Gate<R> {
    pub fn examined(&self) -> u32 {
        self.examined
    }

    pub fn refusal(&self) -> Option<&R> {
        self.refused.as_ref()
    }

    pub fn is_refused(&self) -> bool {
        self.refused.is_some()
    }

    /// Before reading a packet: `Some(answer)` when there is nothing more
    /// to read (refused, or `max` packets read — the verdict reached by
    /// then stands, else `undecided` says why not).
    pub fn enter(&mut self, max: u32, undecided: impl FnOnce(u32) -> R) -> Option<Progress> {
        if self.refused.is_some() {
            return Some(Progress::NotThis);
        }
        if self.examined >= max {
            return Some(match &self.decided {
                Some(v) => Progress::Verdict(v.clone()),
                None => {
                    self.refused = Some(undecided(self.examined));
                    Progress::NotThis
                }
            });
        }
        self.examined += 1;
        None
    }

    /// The packet broke the pattern: refused for good.
    pub fn refuse(&mut self, why: R) -> Progress {
        self.refused = Some(why);
        self.decided = None;
        Progress::NotThis
    }

    /// After a packet was read: the verdict the evidence supports now, or
    /// a candidate, or — `max` packets read without one — refused.
    pub fn conclude(
        &mut self,
        max: u32,
        verdict: Option<VpnVerdict>,
        undecided: impl FnOnce(u32) -> R,
    ) -> Progress {
        match verdict {
            Some(v) => {
                self.decided = Some(v.clone());
                Progress::Verdict(v)
            }
            None if self.examined >= max => {
                self.refused = Some(undecided(self.examined));
                Progress::NotThis
            }
            None => Progress::Candidate,
        }
    }
}
