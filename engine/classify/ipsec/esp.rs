//! ESP and AH security associations: a stable SPI per direction and
//! sequence numbers rising by one, on IP protocols 50 and 51 or in UDP.

use super::*;

/// What carries ESP packets: the IP protocol number says ESP, or UDP
/// (RFC 3948) where only the pattern does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EspCarrier {
    Ip,
    Udp,
}

/// One SPI's sequence in one direction.
#[derive(Clone, Copy, Debug)]
pub(super) struct SpiSeq {
    pub(super) spi: u32,
    pub(super) highest: u32,
    pub(super) last_packet: u64,
}

/// What one direction of an SA pair has sent.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct SaDirection {
    pub(super) spis: [Option<SpiSeq>; MAX_SPIS],
    pub(super) packets: u32,
    /// Packets that raised their SPI's sequence.
    pub(super) steps: u32,
    pub(super) repeats: u32,
    /// First and latest packets: (input position, SPI, sequence).
    pub(super) first: Option<(u64, u32, u32)>,
    pub(super) latest: Option<(u64, u32, u32)>,
}

impl SaDirection {
    pub(super) fn first_spi(&self) -> Option<u32> {
        self.first.map(|f| f.1)
    }

    pub(super) fn fresh(&self) -> bool {
        self.first.is_some_and(|f| f.2 <= 4)
    }
}

/// Sequence-number tracking shared by ESP and AH.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct SaPair {
    pub(super) dirs: [SaDirection; 2],
}

impl SaPair {
    pub(super) fn accept(
        &mut self,
        side: usize,
        spi: u32,
        seq: u32,
        packet: u64,
    ) -> Result<(), Refusal> {
        if spi < MIN_SPI {
            return Err(Refusal::ReservedSpi(spi));
        }
        if seq == 0 {
            return Err(Refusal::ZeroSequence(spi));
        }
        let other = &self.dirs[1 - side];
        if other.spis.iter().flatten().any(|s| s.spi == spi) {
            return Err(Refusal::SameSpi(spi));
        }
        let dir = &mut self.dirs[side];
        let known = dir.spis.iter_mut().flatten().find(|s| s.spi == spi);
        let mut stepped = false;
        match known {
            Some(s) => {
                if seq > s.highest {
                    if seq - s.highest > MAX_SEQ_STEP {
                        return Err(Refusal::Sequence {
                            spi,
                            highest: s.highest,
                            seq,
                        });
                    }
                    s.highest = seq;
                    stepped = true;
                } else if seq == s.highest {
                    dir.repeats += 1;
                    if dir.repeats > MAX_REPEATS {
                        return Err(Refusal::RepeatedSequence { spi, seq });
                    }
                } else if s.highest - seq > REPLAY_WINDOW {
                    return Err(Refusal::Sequence {
                        spi,
                        highest: s.highest,
                        seq,
                    });
                }
                s.last_packet = packet;
            }
            None => {
                // Mid-flow, the first SPI may be anywhere in its sequence;
                // a later one is a new SA and starts afresh.
                if dir.packets > 0 && seq > FRESH_SEQ {
                    return Err(Refusal::NewSpiMidSequence { spi, seq });
                }
                let slot = dir
                    .spis
                    .iter_mut()
                    .find(|s| s.is_none())
                    .ok_or(Refusal::TooManySpis)?;
                *slot = Some(SpiSeq {
                    spi,
                    highest: seq,
                    last_packet: packet,
                });
            }
        }
        dir.packets += 1;
        dir.steps += u32::from(stepped);
        dir.first.get_or_insert((packet, spi, seq));
        dir.latest = Some((packet, spi, seq));
        Ok(())
    }

    /// A direction is in sequence: enough ordered packets for the carrier,
    /// or (`lenient`) one fresh SA start.
    pub(super) fn confirmed(d: &SaDirection, needed: u32, lenient: bool) -> bool {
        (d.packets >= needed && d.steps + 1 >= needed) || (lenient && d.fresh())
    }

    /// Confidence for the carrier; `ike_paired` says a paired IKE exchange
    /// in the same flow vouches for it; `at_end` that no more packets come.
    ///
    /// Both directions in sequence make `High`. One direction in sequence
    /// counts once the other has stayed silent for [`ONE_WAY_PACKETS`]
    /// (or the flow ended): `High` behind paired IKE, else `Medium` from
    /// two packets on. A single IP-50/51 packet at the end is `Low`.
    pub(super) fn level(
        &self,
        carrier: EspCarrier,
        ike_paired: bool,
        at_end: bool,
    ) -> Option<Confidence> {
        let (needed, lenient) = match (carrier, ike_paired) {
            (EspCarrier::Ip, _) | (EspCarrier::Udp, true) => (2, true),
            (EspCarrier::Udp, false) => (3, false),
        };
        let [c, s] = &self.dirs;
        let (cc, sc) = (
            Self::confirmed(c, needed, lenient),
            Self::confirmed(s, needed, lenient),
        );
        if cc && sc {
            return Some(Confidence::High);
        }
        let lone = match (cc, sc) {
            (true, _) => Some((c, s)),
            (_, true) => Some((s, c)),
            _ => None,
        };
        if let Some((d, other)) = lone {
            if at_end || (other.packets == 0 && d.packets >= ONE_WAY_PACKETS) {
                if ike_paired {
                    return Some(Confidence::High);
                }
                if d.packets >= 2 {
                    return Some(Confidence::Medium);
                }
            }
        }
        if at_end && carrier == EspCarrier::Ip && c.packets + s.packets > 0 {
            return Some(Confidence::Low);
        }
        None
    }

    pub(super) fn details(&self, prefix: &'static str, d: &mut VpnDetails) {
        let keys = match prefix {
            "ah" => ["ah_spi_to_server", "ah_spi_to_client"],
            _ => ["esp_spi_to_server", "esp_spi_to_client"],
        };
        for (dir, key) in self.dirs.iter().zip(keys) {
            if let Some(spi) = dir.first_spi() {
                d.push((key, Value::Hex32(spi)));
            }
        }
    }

    pub(super) fn evidence(&self, what: &'static str, carrier: &'static str) -> Vec<Evidence> {
        let mut facts = Vec::new();
        for (side, dir) in self.dirs.iter().enumerate() {
            let (Some(first), Some(latest)) = (dir.first, dir.latest) else {
                continue;
            };
            facts.push(Evidence {
                packet: first.0,
                what: facts::Clue::Ipsec(Clue::SaFirst {
                    what,
                    carrier,
                    side,
                    spi: first.1,
                    seq: first.2,
                }),
            });
            if latest.0 != first.0 {
                facts.push(Evidence {
                    packet: latest.0,
                    what: facts::Clue::Ipsec(Clue::SaRun {
                        count: dir.packets,
                        what,
                        side,
                        from: first.2,
                        to: latest.2,
                        spi: latest.1,
                    }),
                });
            }
        }
        facts
    }
}

/// Per-flow ESP fingerprinter; see the module documentation.
#[derive(Clone, Debug)]
pub struct EspTracker {
    pub(super) carrier: EspCarrier,
    pub(super) gate: Gate<Refusal>,
    pub(super) sas: SaPair,
    /// IKE paired in the same flow (set by [`UdpEncapTracker`]).
    pub(super) ike_paired: bool,
}

impl Default for EspTracker {
    fn default() -> Self {
        Self::new()
    }
}

impl EspTracker {
    /// ESP over IP protocol 50.
    pub fn new() -> Self {
        Self::with_carrier(EspCarrier::Ip)
    }

    /// ESP inside UDP (RFC 3948): a stricter bar, since nothing but the
    /// pattern says ESP.
    pub fn in_udp() -> Self {
        Self::with_carrier(EspCarrier::Udp)
    }

    pub(super) fn with_carrier(carrier: EspCarrier) -> Self {
        EspTracker {
            carrier,
            gate: Gate::default(),
            sas: SaPair::default(),
            ike_paired: false,
        }
    }

    pub fn refusal(&self) -> Option<&Refusal> {
        self.gate.refusal()
    }

    /// Reads one ESP packet, SPI first (the IP payload of protocol 50, or
    /// the UDP payload of an ESP-in-UDP packet).
    pub fn on_packet(&mut self, payload: &[u8], from_client: bool, packet: u64) -> Progress {
        if let Some(done) = self.gate.enter(MAX_MESSAGES, Refusal::Undecided) {
            return done;
        }
        if let Err(e) = self.read(payload, side_of(from_client), packet) {
            return self.gate.refuse(e);
        }
        let v = self
            .sas
            .level(self.carrier, self.ike_paired, false)
            .map(|l| self.build(l));
        self.gate.conclude(MAX_MESSAGES, v, Refusal::Undecided)
    }

    /// What the evidence so far supports, for a caller that stops feeding.
    pub fn verdict(&self) -> Option<VpnVerdict> {
        if self.gate.is_refused() {
            return None;
        }
        self.sas
            .level(self.carrier, self.ike_paired, true)
            .map(|l| self.build(l))
    }

    pub(super) fn read(&mut self, b: &[u8], side: usize, packet: u64) -> Result<(), Refusal> {
        if b.len() < MIN_ESP_LEN || b.len() % 4 != 0 {
            return Err(Refusal::EspLength { len: b.len() });
        }
        let spi = be32(b, 0).ok_or(Refusal::EspLength { len: b.len() })?;
        let seq = be32(b, 4).ok_or(Refusal::EspLength { len: b.len() })?;
        self.sas.accept(side, spi, seq, packet)
    }

    pub(super) fn packets(&self) -> u32 {
        self.sas.dirs.iter().map(|d| d.packets).sum()
    }

    pub(super) fn build(&self, confidence: Confidence) -> VpnVerdict {
        let mut details = Vec::new();
        self.sas.details("esp", &mut details);
        let carrier = match self.carrier {
            EspCarrier::Ip => "IP protocol 50",
            EspCarrier::Udp => "in UDP",
        };
        VpnVerdict {
            protocol: VpnProtocol::Esp,
            confidence,
            details,
            evidence: self.sas.evidence("ESP", carrier),
        }
    }
}

/// Per-flow AH fingerprinter (IP protocol 51): the header's own rules,
/// then the SPI and sequence pattern of ESP.
#[derive(Clone, Debug, Default)]
pub struct AhTracker {
    pub(super) gate: Gate<Refusal>,
    pub(super) sas: SaPair,
    pub(super) icv_len: Option<usize>,
}

impl AhTracker {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn refusal(&self) -> Option<&Refusal> {
        self.gate.refusal()
    }

    /// Reads one AH packet: the IP payload of protocol 51, AH header first.
    pub fn on_packet(&mut self, payload: &[u8], from_client: bool, packet: u64) -> Progress {
        if let Some(done) = self.gate.enter(MAX_MESSAGES, Refusal::Undecided) {
            return done;
        }
        if let Err(e) = self.read(payload, side_of(from_client), packet) {
            return self.gate.refuse(e);
        }
        let v = self
            .sas
            .level(EspCarrier::Ip, false, false)
            .map(|l| self.build(l));
        self.gate.conclude(MAX_MESSAGES, v, Refusal::Undecided)
    }

    /// What the evidence so far supports, for a caller that stops feeding.
    pub fn verdict(&self) -> Option<VpnVerdict> {
        if self.gate.is_refused() {
            return None;
        }
        self.sas
            .level(EspCarrier::Ip, false, true)
            .map(|l| self.build(l))
    }

    /// AH header (RFC 4302 §2): next header, payload length in 32-bit
    /// words minus 2, 16 reserved bits (zero), SPI, sequence, ICV.
    pub(super) fn read(&mut self, b: &[u8], side: usize, packet: u64) -> Result<(), Refusal> {
        let (Some(&next), Some(&words), Some(reserved)) = (b.first(), b.get(1), be16(b, 2)) else {
            return Err(Refusal::AhHeader("shorter than 12 bytes"));
        };
        if reserved != 0 {
            return Err(Refusal::AhHeader("reserved bits set"));
        }
        let ah_len = (usize::from(words) + 2) * 4;
        // An ICV of at least 8 bytes: AH always authenticates.
        if ah_len < 20 || ah_len > b.len() {
            return Err(Refusal::AhHeader(
                "length leaves no ICV or runs past the packet",
            ));
        }
        // What AH protects is in clear: an inner IP header must say so.
        let inner_version = b.get(ah_len).map(|v| v >> 4);
        match (next, inner_version) {
            (0 | 51, _) => return Err(Refusal::AhHeader("next header cannot follow AH")),
            (4, Some(v)) if v != 4 => return Err(Refusal::AhHeader("inner IPv4 header is not v4")),
            (41, Some(v)) if v != 6 => {
                return Err(Refusal::AhHeader("inner IPv6 header is not v6"))
            }
            _ => {}
        }
        let icv = ah_len - 12;
        if self.icv_len.is_some_and(|l| l != icv) {
            return Err(Refusal::AhHeader("ICV length changed"));
        }
        self.icv_len = Some(icv);
        let spi = be32(b, 4).ok_or(Refusal::AhHeader("shorter than 12 bytes"))?;
        let seq = be32(b, 8).ok_or(Refusal::AhHeader("shorter than 12 bytes"))?;
        self.sas.accept(side, spi, seq, packet)
    }

    pub(super) fn build(&self, confidence: Confidence) -> VpnVerdict {
        let mut details = Vec::new();
        self.sas.details("ah", &mut details);
        if let Some(icv) = self.icv_len {
            details.push(("icv_bytes", Value::Number(icv as u64)));
        }
        VpnVerdict {
            protocol: VpnProtocol::Ah,
            confidence,
            details,
            evidence: self.sas.evidence("AH", "IP protocol 51"),
        }
    }
}
