//! IPsec as dissectors of the registry: IKE over TCP, IKE and ESP-in-UDP
//! on UDP, ESP and AH on their IP protocols.

use super::*;

/// Cheap first looks: can these bytes start this protocol at all? (The
/// trackers check the same and much more; these only spare setting one up
/// for flows that are plainly something else.)
pub(super) mod first_look {
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
            || (b.len() >= 16 && crate::bytes::be32(b, 0).is_some_and(|spi| spi >= 256))
    }
}

pub(super) fn answer(yes: bool) -> Probe {
    if yes {
        Probe::Maybe
    } else {
        Probe::No
    }
}

/// IKE over TCP (RFC 8229).
#[derive(Debug)]
pub struct IkeTcp(IkeTracker);

impl Dissector for IkeTcp {
    const CARRIER: Feeds = Feeds::Stream;
    const PROBING: Probing = Probing::FlowOpening;

    fn probe(b: &[u8], _side: usize) -> Probe {
        answer(first_look::ike_tcp(b))
    }

    fn start() -> Self {
        IkeTcp(IkeTracker::new())
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        self.0
            .on_stream(input.bytes, input.from_client(), input.packet)
            .step()
    }

    fn settle(&self) -> Option<Verdict> {
        self.0.verdict().map(VpnVerdict::into_verdict)
    }
}

/// One tracker of [`IpsecUdp`]: not yet tried, running, or refused.
#[derive(Debug)]
pub(super) enum Slot<T> {
    Untried,
    Live(Box<T>),
    Refused,
}

impl<T> Slot<T> {
    /// Feeds the tracker, setting it up first if `looks` lets these bytes
    /// start its protocol.
    pub(super) fn feed(
        &mut self,
        looks: fn(&[u8]) -> bool,
        make: impl FnOnce() -> T,
        run: impl FnOnce(&mut T) -> Progress,
        bytes: &[u8],
    ) -> Option<VpnVerdict> {
        if matches!(self, Slot::Untried) {
            *self = if looks(bytes) {
                Slot::Live(Box::new(make()))
            } else {
                Slot::Refused
            };
        }
        let Slot::Live(t) = self else {
            return None;
        };
        match run(t) {
            Progress::NotThis => {
                *self = Slot::Refused;
                None
            }
            Progress::Candidate => None,
            Progress::Verdict(v) => Some(v),
        }
    }

    pub(super) fn is_open(&self) -> bool {
        !matches!(self, Slot::Refused)
    }
}

/// IKE on UDP 500 and 4500 and the ESP-in-UDP (RFC 3948) it sets up. An
/// IKE verdict that came behind the non-ESP marker is held while ESP may
/// follow in the same flow, which is then reported as ESP with the IKE
/// details.
#[derive(Debug)]
pub struct IpsecUdp {
    pub(super) ike: Slot<IkeTracker>,
    pub(super) encap: Slot<UdpEncapTracker>,
    pub(super) held_ike: Option<VpnVerdict>,
}

impl Dissector for IpsecUdp {
    const CARRIER: Feeds = Feeds::Datagram;
    const PROBING: Probing = Probing::EachSide;
    const DEFERRED: bool = true;

    fn probe(b: &[u8], _side: usize) -> Probe {
        answer(first_look::ike(b) || first_look::encap(b))
    }

    fn start() -> Self {
        IpsecUdp {
            ike: Slot::Untried,
            encap: Slot::Untried,
            held_ike: None,
        }
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        let (b, c, p) = (input.bytes, input.from_client(), input.packet);
        let ike = self.ike.feed(
            first_look::ike,
            IkeTracker::new,
            |t| t.on_datagram(b, c, p),
            b,
        );
        let encap = self.encap.feed(
            first_look::encap,
            UdpEncapTracker::new,
            |t| t.on_datagram(b, c, p),
            b,
        );
        let mut found = encap.filter(|v| v.protocol == VpnProtocol::Esp);
        if let Some(v) = ike {
            let behind_marker = v
                .details
                .iter()
                .any(|(k, val)| *k == "carrier" && *val == "udp-non-esp-marker");
            if behind_marker && self.encap.is_open() {
                self.held_ike = Some(v);
            } else {
                found = found.or(Some(v));
            }
        }
        if let Some(v) = found {
            return Step::Verdict(v.into_verdict());
        }
        let ike_open = self.ike.is_open() && self.held_ike.is_none();
        match (ike_open || self.encap.is_open(), self.held_ike.take()) {
            (true, held) => {
                self.held_ike = held;
                Step::NeedMore
            }
            // No ESP can follow: the held IKE verdict stands.
            (false, Some(v)) => Step::Verdict(v.into_verdict()),
            (false, None) => Step::Refuse,
        }
    }

    fn settle(&self) -> Option<Verdict> {
        let encap = match &self.encap {
            Slot::Live(t) => t.verdict(),
            _ => None,
        };
        let ike = match &self.ike {
            Slot::Live(t) => t.verdict(),
            _ => None,
        };
        // The strongest; of equals, the later.
        [encap, self.held_ike.clone(), ike]
            .into_iter()
            .flatten()
            .max_by_key(|v| v.confidence)
            .map(VpnVerdict::into_verdict)
    }
}

/// ESP (IP protocol 50).
#[derive(Debug)]
pub struct Esp(EspTracker);

impl Dissector for Esp {
    const CARRIER: Feeds = Feeds::Ip(crate::decode::ip::proto::ESP);
    const PROBING: Probing = Probing::EachSide;
    const DEFERRED: bool = true;

    fn probe(b: &[u8], _side: usize) -> Probe {
        answer(b.len() >= 8)
    }

    fn start() -> Self {
        Esp(EspTracker::new())
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        self.0
            .on_packet(input.bytes, input.from_client(), input.packet)
            .step()
    }

    fn settle(&self) -> Option<Verdict> {
        self.0.verdict().map(VpnVerdict::into_verdict)
    }
}

/// AH (IP protocol 51).
#[derive(Debug)]
pub struct Ah(AhTracker);

impl Dissector for Ah {
    const CARRIER: Feeds = Feeds::Ip(crate::decode::ip::proto::AH);
    const PROBING: Probing = Probing::EachSide;
    const DEFERRED: bool = true;

    fn probe(b: &[u8], _side: usize) -> Probe {
        answer(b.len() >= 12)
    }

    fn start() -> Self {
        Ah(AhTracker::new())
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        self.0
            .on_packet(input.bytes, input.from_client(), input.packet)
            .step()
    }

    fn settle(&self) -> Option<Verdict> {
        self.0.verdict().map(VpnVerdict::into_verdict)
    }
}
