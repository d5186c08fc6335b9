//! The IKE fingerprinter of a flow: messages on UDP 500, behind the
//! non-ESP marker on 4500, or in RFC 8229 TCP frames; requests paired with
//! their responses.

use super::*;

/// How a message reached the tracker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carrier {
    /// UDP, the message first (port 500).
    Udp,
    /// UDP behind the non-ESP marker (port 4500).
    UdpMarker,
    /// TCP, RFC 8229 framing.
    Tcp,
}

impl Carrier {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Carrier::Udp => "udp",
            Carrier::UdpMarker => "udp-non-esp-marker",
            Carrier::Tcp => "tcp-rfc8229",
        }
    }
}

/// One message as remembered for pairing and evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    pub(super) packet: u64,
    pub(super) side: usize,
    pub(super) header: IkeHeader,
    pub(super) payloads: PayloadList,
    pub(super) encrypted: bool,
    pub(super) carrier: Carrier,
}

impl Seen {
    /// Words the message as a `role` (request, response, ...).
    pub(super) fn describe(&self, role: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = &self.header;
        write!(
            f,
            "IKEv{} {} {role} from the {}: {} bytes = its length field, initiator SPI {}, responder SPI {}, message id {}, flags {:#04x}, ",
            h.version.major(),
            h.exchange_name(),
            side_name(self.side),
            h.length,
            Hex64(h.initiator_spi),
            Hex64(h.responder_spi),
            h.message_id,
            h.flags
        )?;
        if self.encrypted && h.version == IkeVersion::V1 {
            write!(
                f,
                "encrypted body of {} bytes in whole cipher blocks",
                h.length as usize - IKE_HEADER_LEN
            )
        } else {
            write!(
                f,
                "payload chain {} ending at the last byte",
                self.payloads.describe(h.version)
            )
        }
    }
}

/// An IKE SA seen in the flow.
#[derive(Clone, Copy, Debug)]
pub(super) struct KnownSa {
    pub(super) initiator_spi: u64,
    pub(super) responder_spi: u64,
    /// IKEv2: the side sending with the I flag.
    pub(super) initiator_side: Option<usize>,
    pub(super) last_packet: u64,
}

/// RFC 8229 reader state of one direction.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct StreamSide {
    /// Bytes of `IKETCP` matched (client side).
    pub(super) prefix: usize,
    pub(super) frame_header: [u8; 6],
    pub(super) frame_have: usize,
    /// Bytes of the current frame's body still to come.
    pub(super) frame_left: usize,
    pub(super) walk: Option<MessageWalk>,
    pub(super) esp_frames: u32,
}

/// Per-flow IKE fingerprinter; see the module documentation.
#[derive(Clone, Debug, Default)]
pub struct IkeTracker {
    pub(super) examined: u32,
    pub(super) refused: Option<Refusal>,
    pub(super) valid: u32,
    pub(super) sas: [Option<KnownSa>; MAX_IKE_SAS],
    pub(super) pending: [Option<Seen>; MAX_PENDING],
    /// The first request/response pair.
    pub(super) matched: Option<(Seen, Seen)>,
    /// The latest valid message.
    pub(super) latest: Option<Seen>,
    /// Exchanges seen, in order of first appearance.
    pub(super) exchanges: [Option<(IkeVersion, ExchangeType)>; 8],
    pub(super) streams: [StreamSide; 2],
    pub(super) decided: Option<VpnVerdict>,
}

impl IkeTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Why the flow was refused, once it was.
    pub fn refusal(&self) -> Option<&Refusal> {
        self.refused.as_ref()
    }

    /// True once a request and its response were seen.
    pub fn is_paired(&self) -> bool {
        self.matched.is_some()
    }

    /// Reads one UDP payload: an IKE message, the same behind the non-ESP
    /// marker (port 4500), or a NAT-keepalive (ignored). ESP packets are
    /// not IKE: feed a port-4500 flow to [`UdpEncapTracker`] instead.
    pub fn on_datagram(&mut self, payload: &[u8], from_client: bool, packet: u64) -> Progress {
        if let Some(p) = self.gate() {
            return p;
        }
        self.examined += 1;
        if payload == [NAT_KEEPALIVE] {
            return self.progress();
        }
        let side = side_of(from_client);
        let result = match payload.strip_prefix(&NON_ESP_MARKER) {
            Some(inner) => match parse_message(inner) {
                Ok(m) => Ok((m, Carrier::UdpMarker)),
                // An initiator SPI starting with four zero bytes, unmarked.
                Err(e) => parse_message(payload)
                    .map(|m| (m, Carrier::Udp))
                    .map_err(|_| e),
            },
            None => parse_message(payload).map(|m| (m, Carrier::Udp)),
        };
        match result.and_then(|(m, carrier)| self.accept(m, side, packet, carrier)) {
            Ok(()) => self.progress(),
            Err(e) => self.refuse(e),
        }
    }

    /// Reads in-order TCP stream bytes of one direction (RFC 8229).
    pub fn on_stream(&mut self, bytes: &[u8], from_client: bool, packet: u64) -> Progress {
        if let Some(p) = self.gate() {
            return p;
        }
        let side = side_of(from_client);
        match self.stream(bytes, side, packet) {
            Ok(()) => self.progress(),
            Err(e) => self.refuse(e),
        }
    }

    /// What the evidence so far supports, for a caller that stops feeding:
    /// also a single valid message (`Medium`).
    pub fn verdict(&self) -> Option<VpnVerdict> {
        if self.refused.is_some() {
            return None;
        }
        self.level(true).map(|l| self.build(l))
    }

    /// Stops a refused or exhausted tracker; `None` to go on.
    pub(super) fn gate(&mut self) -> Option<Progress> {
        if self.refused.is_some() {
            return Some(Progress::NotThis);
        }
        if self.examined >= MAX_MESSAGES {
            return Some(match &self.decided {
                Some(v) => Progress::Verdict(v.clone()),
                None => {
                    self.refused = Some(Refusal::Undecided(self.examined));
                    Progress::NotThis
                }
            });
        }
        None
    }

    pub(super) fn refuse(&mut self, why: Refusal) -> Progress {
        self.refused = Some(why);
        self.decided = None;
        Progress::NotThis
    }

    pub(super) fn progress(&mut self) -> Progress {
        match self.level(false) {
            Some(l) => {
                let v = self.build(l);
                self.decided = Some(v.clone());
                Progress::Verdict(v)
            }
            None if self.examined >= MAX_MESSAGES => self.refuse(Refusal::Undecided(self.examined)),
            None => Progress::Candidate,
        }
    }

    pub(super) fn level(&self, at_end: bool) -> Option<Confidence> {
        if self.matched.is_some() {
            Some(Confidence::High)
        } else if self.valid >= UNPAIRED_MEDIUM || (at_end && self.valid > 0) {
            Some(Confidence::Medium)
        } else {
            None
        }
    }

    pub(super) fn stream(
        &mut self,
        mut bytes: &[u8],
        side: usize,
        packet: u64,
    ) -> Result<(), Refusal> {
        while !bytes.is_empty() {
            let s = &mut self.streams[side];
            if side == 0 && s.prefix < TCP_PREFIX.len() {
                let want = TCP_PREFIX.get(s.prefix..).unwrap_or_default();
                let n = want.len().min(bytes.len());
                if bytes.get(..n) != want.get(..n) {
                    return Err(Refusal::Prefix);
                }
                s.prefix += n;
                bytes = bytes.get(n..).unwrap_or_default();
                continue;
            }
            if s.frame_left > 0 {
                let n = s.frame_left.min(bytes.len());
                let (now, rest) = bytes.split_at(n);
                bytes = rest;
                s.frame_left -= n;
                if let Some(walk) = s.walk.as_mut() {
                    walk.feed(now)?;
                }
                if s.frame_left == 0 {
                    self.examined += 1;
                    if let Some(walk) = self.streams[side].walk.take() {
                        let m = walk.finish()?;
                        self.accept(m, side, packet, Carrier::Tcp)?;
                    }
                }
                continue;
            }
            let need = s.frame_header.len() - s.frame_have;
            let n = need.min(bytes.len());
            let (now, rest) = bytes.split_at(n);
            if let Some(dst) = s.frame_header.get_mut(s.frame_have..s.frame_have + n) {
                dst.copy_from_slice(now);
            }
            s.frame_have += n;
            bytes = rest;
            if s.frame_have < s.frame_header.len() {
                continue;
            }
            s.frame_have = 0;
            let [l0, l1, m0, m1, m2, m3] = s.frame_header;
            let len = u16::from_be_bytes([l0, l1]);
            let marker = [m0, m1, m2, m3];
            if marker == NON_ESP_MARKER {
                let msg_len = usize::from(len).saturating_sub(6);
                if usize::from(len) < 6 + IKE_HEADER_LEN {
                    return Err(Refusal::FrameLength { len });
                }
                s.walk = Some(MessageWalk::new(msg_len)?);
                s.frame_left = msg_len;
            } else {
                let spi = u32::from_be_bytes(marker);
                if spi < MIN_SPI {
                    return Err(Refusal::ReservedSpi(spi));
                }
                if usize::from(len) < 2 + MIN_ESP_LEN {
                    return Err(Refusal::FrameLength { len });
                }
                s.walk = None;
                s.esp_frames += 1;
                s.frame_left = usize::from(len) - 6;
                self.examined += 1;
            }
            if self.examined >= MAX_MESSAGES {
                break;
            }
        }
        Ok(())
    }

    pub(super) fn accept(
        &mut self,
        m: IkeMessage,
        side: usize,
        packet: u64,
        carrier: Carrier,
    ) -> Result<(), Refusal> {
        let h = m.header;
        let seen = Seen {
            packet,
            side,
            header: h,
            payloads: m.payloads,
            encrypted: m.encrypted,
            carrier,
        };
        self.track_sa(&h, side, packet)?;
        self.pair(seen);
        if !self
            .exchanges
            .iter()
            .flatten()
            .any(|&(v, e)| v == h.version && e == h.exchange)
        {
            if let Some(slot) = self.exchanges.iter_mut().find(|s| s.is_none()) {
                *slot = Some((h.version, h.exchange));
            }
        }
        self.valid += 1;
        self.latest = Some(seen);
        Ok(())
    }

    /// Keeps each IKE SA's SPIs and (IKEv2) initiator side consistent.
    pub(super) fn track_sa(
        &mut self,
        h: &IkeHeader,
        side: usize,
        packet: u64,
    ) -> Result<(), Refusal> {
        let v2_initiator = (h.version == IkeVersion::V2).then(|| {
            if h.from_original_initiator() {
                side
            } else {
                1 - side
            }
        });
        if let Some(sa) = self
            .sas
            .iter_mut()
            .flatten()
            .find(|sa| sa.initiator_spi == h.initiator_spi)
        {
            if h.responder_spi != 0 {
                if sa.responder_spi != 0 && sa.responder_spi != h.responder_spi {
                    return Err(Refusal::SpiChanged {
                        initiator: h.initiator_spi,
                        was: sa.responder_spi,
                        now: h.responder_spi,
                    });
                }
                sa.responder_spi = h.responder_spi;
            }
            if let (Some(known), Some(now)) = (sa.initiator_side, v2_initiator) {
                if known != now {
                    return Err(Refusal::InitiatorFlag(h.initiator_spi));
                }
            }
            sa.initiator_side = sa.initiator_side.or(v2_initiator);
            sa.last_packet = packet;
            return Ok(());
        }
        let new = Some(KnownSa {
            initiator_spi: h.initiator_spi,
            responder_spi: h.responder_spi,
            initiator_side: v2_initiator,
            last_packet: packet,
        });
        let slot = match self.sas.iter().position(Option::is_none) {
            Some(free) => free,
            None => self
                .sas
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| s.map_or(0, |s| s.last_packet))
                .map_or(0, |(i, _)| i),
        };
        if let Some(s) = self.sas.get_mut(slot) {
            *s = new;
        }
        Ok(())
    }

    /// Pairs a message with an earlier one from the other side: same SA,
    /// exchange and message id, the responder SPI kept or newly set, and in
    /// IKEv2 a request answered by a response with the I flag flipped.
    pub(super) fn pair(&mut self, seen: Seen) {
        let h = seen.header;
        let answers = |p: &Seen| {
            let q = &p.header;
            p.side != seen.side
                && q.version == h.version
                && q.initiator_spi == h.initiator_spi
                && q.exchange == h.exchange
                && q.message_id == h.message_id
                && (q.responder_spi == h.responder_spi
                    || (q.responder_spi == 0
                        && h.version == IkeVersion::V1
                        && h.responder_spi != 0)
                    || (q.responder_spi == 0 && h.version == IkeVersion::V2))
                && match h.version {
                    IkeVersion::V2 => {
                        h.is_response()
                            && !q.is_response()
                            && h.from_original_initiator() != q.from_original_initiator()
                    }
                    IkeVersion::V1 => h.exchange != ExchangeType::V1_INFORMATIONAL,
                }
        };
        let found = self
            .pending
            .iter()
            .position(|p| p.as_ref().is_some_and(answers));
        if let Some(i) = found {
            if let Some(request) = self.pending.get_mut(i).and_then(Option::take) {
                if self.matched.is_none() {
                    self.matched = Some((request, seen));
                }
            }
            return;
        }
        if h.is_response() {
            return;
        }
        match self.pending.iter().position(Option::is_none) {
            Some(free) => self.pending[free] = Some(seen),
            None => {
                self.pending.rotate_left(1);
                self.pending[MAX_PENDING - 1] = Some(seen);
            }
        }
    }

    /// The verdict's details: version, exchanges, SPIs, carrier.
    pub(super) fn details(&self) -> VpnDetails {
        let mut d = Vec::new();
        let Some(basis) = self.matched.map(|(_, r)| r).or(self.latest) else {
            return d;
        };
        let h = basis.header;
        d.push(("ike_version", Value::Number(h.version.major().into())));
        let names: Vec<&'static str> = self
            .exchanges
            .iter()
            .flatten()
            .filter_map(|&(v, e)| e.name(v))
            .collect();
        d.push(("exchanges", Value::List(names)));
        d.push(("initiator_spi", Value::Hex64(h.initiator_spi)));
        d.push(("responder_spi", Value::Hex64(h.responder_spi)));
        d.push(("carrier", Value::Text(basis.carrier.as_str())));
        d
    }

    pub(super) fn evidence(&self) -> Vec<Evidence> {
        let note = |packet: u64, clue: Clue| Evidence {
            packet,
            what: facts::Clue::Ipsec(clue),
        };
        match (self.matched, self.latest) {
            (Some((req, resp)), _) => vec![
                note(req.packet, Clue::IkeRequest(req)),
                note(
                    resp.packet,
                    Clue::IkeAnswer {
                        request: req,
                        answer: resp,
                    },
                ),
            ],
            (None, Some(m)) => vec![note(m.packet, Clue::IkeAlone(m))],
            (None, None) => Vec::new(),
        }
    }

    pub(super) fn build(&self, confidence: Confidence) -> VpnVerdict {
        VpnVerdict {
            protocol: VpnProtocol::Ike,
            confidence,
            details: self.details(),
            evidence: self.evidence(),
        }
    }
}
