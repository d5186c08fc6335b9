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
pub fn hex32(v: u32) -> String {
    format!("{v:#010x}")
}

/// An IKE SPI: `0x0011223344556677`.
pub fn hex64(v: u64) -> String {
    format!("{v:#018x}")
}

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

use super::{ipsec, openvpn, wireguard};

/// A fingerprinter of a flow's datagrams or stream bytes.
trait Fingerprinter {
    fn feed(&mut self, bytes: &[u8], from_client: bool, packet: u64) -> Progress;
    /// The verdict its evidence supports now, for a flow that ends (or is
    /// given up) before it decided on its own.
    fn settle(&self) -> Option<VpnVerdict>;
}

/// OpenVPN over UDP.
struct OpenVpnUdp(openvpn::OpenVpnTracker);
/// OpenVPN over TCP (stream bytes).
struct OpenVpnTcp(openvpn::OpenVpnTracker);
/// IKE over TCP, RFC 8229 (stream bytes).
struct IkeTcp(ipsec::IkeTracker);

impl Fingerprinter for OpenVpnUdp {
    fn feed(&mut self, b: &[u8], c: bool, p: u64) -> Progress {
        self.0.on_datagram(b, c, p)
    }
    fn settle(&self) -> Option<VpnVerdict> {
        None
    }
}

impl Fingerprinter for OpenVpnTcp {
    fn feed(&mut self, b: &[u8], c: bool, p: u64) -> Progress {
        self.0.on_stream(b, c, p)
    }
    fn settle(&self) -> Option<VpnVerdict> {
        None
    }
}

impl Fingerprinter for IkeTcp {
    fn feed(&mut self, b: &[u8], c: bool, p: u64) -> Progress {
        self.0.on_stream(b, c, p)
    }
    fn settle(&self) -> Option<VpnVerdict> {
        self.0.verdict()
    }
}

impl Fingerprinter for wireguard::WireGuardTracker {
    fn feed(&mut self, b: &[u8], c: bool, p: u64) -> Progress {
        self.on_datagram(b, c, p)
    }
    fn settle(&self) -> Option<VpnVerdict> {
        self.verdict()
    }
}

impl Fingerprinter for ipsec::IkeTracker {
    fn feed(&mut self, b: &[u8], c: bool, p: u64) -> Progress {
        self.on_datagram(b, c, p)
    }
    fn settle(&self) -> Option<VpnVerdict> {
        self.verdict()
    }
}

impl Fingerprinter for ipsec::UdpEncapTracker {
    fn feed(&mut self, b: &[u8], c: bool, p: u64) -> Progress {
        self.on_datagram(b, c, p)
    }
    fn settle(&self) -> Option<VpnVerdict> {
        self.verdict()
    }
}

impl Fingerprinter for ipsec::EspTracker {
    fn feed(&mut self, b: &[u8], c: bool, p: u64) -> Progress {
        self.on_packet(b, c, p)
    }
    fn settle(&self) -> Option<VpnVerdict> {
        self.verdict()
    }
}

impl Fingerprinter for ipsec::AhTracker {
    fn feed(&mut self, b: &[u8], c: bool, p: u64) -> Progress {
        self.on_packet(b, c, p)
    }
    fn settle(&self) -> Option<VpnVerdict> {
        self.verdict()
    }
}

/// One fingerprinter of a flow: not yet tried, running (boxed only once it
/// has accepted a packet, so flows it refuses at once cost no allocation),
/// or refused.
enum Slot<T> {
    Untried,
    Live(Box<T>),
    Refused,
}

/// Cheap first looks, before a fingerprinter is set up for a flow: can
/// these bytes start this protocol at all? (Each fingerprinter checks the
/// same and much more itself; these only spare setting one up for flows
/// that are plainly something else.)
mod first_look {
    /// An OpenVPN packet: opcode 1 to 11 in the top five bits; or, for
    /// static-key mode (no opcode), an HMAC (16, 20, 32 or 64 bytes) and an
    /// IV before whole cipher blocks: a length of 0 or 4 modulo 16.
    pub fn openvpn_udp(b: &[u8]) -> bool {
        b.len() >= 5
            && ((1..=11).contains(&(b[0] >> 3)) || (b.len() >= 48 && matches!(b.len() % 16, 0 | 4)))
    }

    /// An OpenVPN TCP stream: a 2-byte length, then an opcode byte.
    pub fn openvpn_tcp(b: &[u8]) -> bool {
        match b {
            [hi, lo, op, ..] => {
                u16::from_be_bytes([*hi, *lo]) >= 3 && (1..=11).contains(&(op >> 3))
            }
            [_, _] | [_] => true,
            [] => false,
        }
    }

    /// A WireGuard message: type 1 to 4, three zero bytes.
    pub fn wireguard(b: &[u8]) -> bool {
        b.len() >= 32 && (1..=4).contains(&b[0]) && b[1..4] == [0, 0, 0]
    }

    /// An IKE header (version byte 0x10 or 0x20 at offset 17), bare or
    /// behind the 4-byte non-ESP marker.
    pub fn ike(b: &[u8]) -> bool {
        let v = |at: usize| matches!(b.get(at), Some(0x10 | 0x20));
        (b.len() >= 28 && v(17)) || (b.len() >= 32 && b[..4] == [0; 4] && v(21))
    }

    /// RFC 8229: IKE over TCP starts with "IKETCP".
    pub fn ike_tcp(b: &[u8]) -> bool {
        let n = b.len().min(6);
        n > 0 && b[..n] == b"IKETCP"[..n]
    }

    /// UDP encapsulation: IKE behind the marker, a NAT-T keepalive, or ESP
    /// (an SPI of at least 256, a sequence number, some payload).
    pub fn encap(b: &[u8]) -> bool {
        b == [0xff]
            || ike(b)
            || (b.len() >= 16 && u32::from_be_bytes([b[0], b[1], b[2], b[3]]) >= 256)
    }
}

impl<T: Fingerprinter> Slot<T> {
    /// Feeds the fingerprinter, setting it up first if `looks` lets these
    /// bytes start its protocol.
    fn feed(
        &mut self,
        looks: fn(&[u8]) -> bool,
        make: impl FnOnce() -> T,
        bytes: &[u8],
        from_client: bool,
        packet: u64,
    ) -> Option<VpnVerdict> {
        if matches!(self, Slot::Untried) && !looks(bytes) {
            *self = Slot::Refused;
            return None;
        }
        let progress = match self {
            Slot::Refused => return None,
            Slot::Live(t) => t.feed(bytes, from_client, packet),
            Slot::Untried => {
                let mut t = make();
                let p = t.feed(bytes, from_client, packet);
                if p == Progress::Candidate {
                    *self = Slot::Live(Box::new(t));
                }
                p
            }
        };
        match progress {
            Progress::NotThis => {
                *self = Slot::Refused;
                None
            }
            Progress::Candidate => None,
            Progress::Verdict(v) => Some(v),
        }
    }

    fn settle(&self) -> Option<VpnVerdict> {
        match self {
            Slot::Live(t) => t.settle(),
            _ => None,
        }
    }

    fn is_open(&self) -> bool {
        !matches!(self, Slot::Refused)
    }
}

/// The VPN fingerprinters running on one flow.
pub struct VpnProbes {
    openvpn_udp: Slot<OpenVpnUdp>,
    openvpn_tcp: Slot<OpenVpnTcp>,
    wireguard: Slot<wireguard::WireGuardTracker>,
    ike: Slot<ipsec::IkeTracker>,
    ike_tcp: Slot<IkeTcp>,
    encap: Slot<ipsec::UdpEncapTracker>,
    esp: Slot<ipsec::EspTracker>,
    ah: Slot<ipsec::AhTracker>,
    /// IKE decided on a flow that also carries ESP-in-UDP (it came behind
    /// the non-ESP marker): held while the ESP is awaited, since the flow
    /// is then reported as ESP with the IKE details.
    held_ike: Option<VpnVerdict>,
}

impl std::fmt::Debug for VpnProbes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VpnProbes")
    }
}

impl Default for VpnProbes {
    fn default() -> Self {
        VpnProbes {
            openvpn_udp: Slot::Untried,
            openvpn_tcp: Slot::Untried,
            wireguard: Slot::Untried,
            ike: Slot::Untried,
            ike_tcp: Slot::Untried,
            encap: Slot::Untried,
            esp: Slot::Untried,
            ah: Slot::Untried,
            held_ike: None,
        }
    }
}

impl VpnProbes {
    /// A UDP datagram's payload.
    pub fn datagram(
        &mut self,
        payload: &[u8],
        from_client: bool,
        packet: u64,
    ) -> Option<VpnVerdict> {
        let mut found = None;
        let ike = self.ike.feed(
            first_look::ike,
            ipsec::IkeTracker::new,
            payload,
            from_client,
            packet,
        );
        let encap = self.encap.feed(
            first_look::encap,
            ipsec::UdpEncapTracker::new,
            payload,
            from_client,
            packet,
        );
        for v in [
            self.openvpn_udp.feed(
                first_look::openvpn_udp,
                || OpenVpnUdp(openvpn::OpenVpnTracker::udp()),
                payload,
                from_client,
                packet,
            ),
            self.wireguard.feed(
                first_look::wireguard,
                wireguard::WireGuardTracker::new,
                payload,
                from_client,
                packet,
            ),
            encap.filter(|v| v.protocol == "esp"),
        ] {
            found = found.or(v);
        }
        if let Some(v) = ike {
            let behind_marker = v
                .details
                .iter()
                .any(|(k, val)| *k == "carrier" && val == "udp-non-esp-marker");
            if behind_marker && self.encap.is_open() {
                self.held_ike = Some(v);
            } else {
                found = found.or(Some(v));
            }
        }
        found
    }

    /// In-order TCP stream bytes of one side.
    pub fn stream(&mut self, bytes: &[u8], from_client: bool, packet: u64) -> Option<VpnVerdict> {
        let a = self.openvpn_tcp.feed(
            first_look::openvpn_tcp,
            || OpenVpnTcp(openvpn::OpenVpnTracker::tcp()),
            bytes,
            from_client,
            packet,
        );
        let b = self.ike_tcp.feed(
            first_look::ike_tcp,
            || IkeTcp(ipsec::IkeTracker::new()),
            bytes,
            from_client,
            packet,
        );
        a.or(b)
    }

    /// An ESP packet (IP protocol 50), SPI first.
    pub fn esp(&mut self, bytes: &[u8], from_client: bool, packet: u64) -> Option<VpnVerdict> {
        self.esp.feed(
            |b| b.len() >= 8,
            ipsec::EspTracker::new,
            bytes,
            from_client,
            packet,
        )
    }

    /// An AH packet (IP protocol 51), header first.
    pub fn ah(&mut self, bytes: &[u8], from_client: bool, packet: u64) -> Option<VpnVerdict> {
        self.ah.feed(
            |b| b.len() >= 12,
            ipsec::AhTracker::new,
            bytes,
            from_client,
            packet,
        )
    }

    /// True when no fingerprinter could start on these UDP bytes: a flow
    /// needs no probes for them.
    pub fn unlikely_udp(payload: &[u8]) -> bool {
        !(first_look::openvpn_udp(payload)
            || first_look::wireguard(payload)
            || first_look::ike(payload)
            || first_look::encap(payload))
    }

    /// True while a UDP fingerprinter is still running.
    pub fn udp_open(&self) -> bool {
        self.openvpn_udp.is_open()
            || self.wireguard.is_open()
            || self.ike.is_open() && self.held_ike.is_none()
            || self.encap.is_open()
    }

    /// True while a TCP fingerprinter is still running.
    pub fn tcp_open(&self) -> bool {
        self.openvpn_tcp.is_open() || self.ike_tcp.is_open()
    }

    /// The best verdict the evidence so far supports (the flow ends, or is
    /// given up, before a fingerprinter decided on its own).
    pub fn settle(&self) -> Option<VpnVerdict> {
        [
            self.wireguard.settle(),
            self.encap.settle(),
            self.held_ike.clone(),
            self.ike.settle(),
            self.ike_tcp.settle(),
            self.esp.settle(),
            self.ah.settle(),
        ]
        .into_iter()
        .flatten()
        .max_by_key(|v| v.confidence)
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
