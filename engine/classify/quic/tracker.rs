//! The per-flow tracker: every datagram of a flow in, the client's
//! ClientHello (or CHLO) out, following Retry and Version Negotiation.

use super::*;

/// What a flow's datagrams have shown so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuicProgress {
    /// Not QUIC as far as this module can tell.
    NotQuic,
    /// QUIC, ClientHello (or CHLO) not complete yet.
    NeedMore,
    /// The TLS ClientHello is complete: [`QuicInitialTracker::client_hello`].
    ClientHello,
    /// Google QUIC: the CHLO is complete: [`QuicInitialTracker::chlo`].
    Chlo,
    /// The server sent a Version Negotiation packet; the client's next
    /// Initials are read as a new attempt.
    VersionNegotiation,
    /// The server sent a Retry; the client's next Initials are keyed on the
    /// connection ID it chose.
    Retry,
    /// The flow is QUIC but the ClientHello cannot be had.
    Failed(QuicError),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// No client Initial seen.
    Idle,
    Collecting,
    ClientHello,
    Chlo,
    Failed(QuicError),
    NotQuic,
}

/// Per-flow state that recovers the client's ClientHello from its Initial
/// packets. Feed every UDP payload of the flow, in capture order, to
/// [`on_datagram`](Self::on_datagram). Once a verdict is in (ClientHello,
/// Chlo, Failed, or NotQuic for the client's first datagram), later
/// datagrams are not read and the verdict is returned again.
#[derive(Debug)]
pub struct QuicInitialTracker {
    pub(super) phase: Phase,
    pub(super) version: Option<QuicVersion>,
    /// The DCID the Initial keys derive from: the client's first one, or
    /// the one a Retry handed out.
    pub(super) key_dcid: Option<Cid>,
    pub(super) keys: Option<Box<InitialKeys>>,
    pub(super) assembler: CryptoAssembler,
    pub(super) largest_pn: Option<u64>,
    pub(super) client_datagrams: u32,
    pub(super) auth_failures: u32,
    pub(super) undersized: bool,
    pub(super) retries: u32,
    pub(super) negotiations: u32,
    /// gQUIC: the CHLO, copied out of its packet.
    pub(super) chlo: Vec<u8>,
    pub(super) scratch: Vec<u8>,
}

impl Default for QuicInitialTracker {
    fn default() -> Self {
        Self::new()
    }
}

impl QuicInitialTracker {
    pub fn new() -> Self {
        QuicInitialTracker {
            phase: Phase::Idle,
            version: None,
            key_dcid: None,
            keys: None,
            assembler: CryptoAssembler::new(),
            largest_pn: None,
            client_datagrams: 0,
            auth_failures: 0,
            undersized: false,
            retries: 0,
            negotiations: 0,
            chlo: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// The complete ClientHello, 4-byte handshake header included.
    pub fn client_hello(&self) -> Option<&[u8]> {
        match self.phase {
            Phase::ClientHello => self.assembler.client_hello().ok().flatten(),
            _ => None,
        }
    }

    /// Google QUIC: the complete CHLO.
    pub fn chlo(&self) -> Option<GquicChlo<'_>> {
        match self.phase {
            Phase::Chlo => GquicChlo::parse(&self.chlo).ok().map(|(c, _)| c),
            _ => None,
        }
    }

    /// Google QUIC: the CHLO's server name.
    pub fn gquic_sni(&self) -> Option<&[u8]> {
        self.chlo().and_then(|c| c.sni())
    }

    /// The version of the client's latest Initial.
    pub fn version(&self) -> Option<QuicVersion> {
        self.version
    }

    /// The connection ID the Initial keys derive from.
    pub fn key_dcid(&self) -> Option<&[u8]> {
        self.key_dcid.as_ref().map(Cid::as_slice)
    }

    /// A client Initial came in a datagram under 1200 bytes.
    pub fn undersized_initial(&self) -> bool {
        self.undersized
    }

    /// Retries seen from the server.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// Version Negotiation packets seen from the server.
    pub fn version_negotiations(&self) -> u32 {
        self.negotiations
    }

    /// Reads one UDP payload of the flow.
    pub fn on_datagram(&mut self, payload: &[u8], from_client: bool) -> QuicProgress {
        match &self.phase {
            Phase::ClientHello => return QuicProgress::ClientHello,
            Phase::Chlo => return QuicProgress::Chlo,
            Phase::Failed(e) => return QuicProgress::Failed(e.clone()),
            Phase::NotQuic => return QuicProgress::NotQuic,
            Phase::Idle | Phase::Collecting => {}
        }
        let progress = if from_client {
            self.on_client(payload)
        } else {
            self.on_server(payload)
        };
        match &progress {
            QuicProgress::ClientHello => self.settle(Phase::ClientHello),
            QuicProgress::Chlo => self.settle(Phase::Chlo),
            QuicProgress::Failed(e) => self.settle(Phase::Failed(e.clone())),
            QuicProgress::NotQuic if from_client && self.phase == Phase::Idle => {
                self.settle(Phase::NotQuic)
            }
            _ => {}
        }
        progress
    }

    /// Enters a final phase and frees what is no longer needed.
    pub(super) fn settle(&mut self, phase: Phase) {
        if phase != Phase::ClientHello {
            self.assembler = CryptoAssembler::with_cap(0);
        }
        self.phase = phase;
        self.keys = None;
        self.scratch = Vec::new();
    }

    /// NotQuic before anything QUIC was seen, NeedMore after.
    pub(super) fn nothing(&self) -> QuicProgress {
        if self.phase == Phase::Idle {
            QuicProgress::NotQuic
        } else {
            QuicProgress::NeedMore
        }
    }

    pub(super) fn on_server(&mut self, payload: &[u8]) -> QuicProgress {
        match payload.first() {
            Some(b) if b & 0x80 != 0 => {}
            _ => return self.nothing(),
        }
        let Some(v) = payload.get(1..5) else {
            return self.nothing();
        };
        let version = QuicVersion(u32::from_be_bytes([v[0], v[1], v[2], v[3]]));
        if version == QuicVersion::NEGOTIATION {
            return match parse_long_packet(payload) {
                Ok(p) if p.offered_versions().next().is_some() => {
                    self.negotiations += 1;
                    self.new_attempt(None);
                    QuicProgress::VersionNegotiation
                }
                _ => self.nothing(),
            };
        }
        if !version.is_recognised() {
            return self.nothing();
        }
        if version.google().is_some() && !version.has_initial_protection() {
            return QuicProgress::NeedMore; // Q046 and older: nothing to learn
        }
        for item in CoalescedPackets::new(payload) {
            let Ok((_, p)) = item else { break };
            if p.packet_type == LongPacketType::Retry {
                let Some(cid) = Cid::new(p.scid) else { break };
                self.retries += 1;
                self.new_attempt(Some(cid));
                return QuicProgress::Retry;
            }
        }
        QuicProgress::NeedMore
    }

    /// Starts over with the client's next Initials: after a Retry they are
    /// keyed on `cid`, after a Version Negotiation on their own DCID.
    pub(super) fn new_attempt(&mut self, cid: Option<Cid>) {
        self.key_dcid = cid;
        self.keys = None;
        self.assembler.clear();
        self.largest_pn = None;
        if cid.is_none() {
            self.version = None;
        }
    }

    pub(super) fn on_client(&mut self, payload: &[u8]) -> QuicProgress {
        let Some(&first) = payload.first() else {
            return self.nothing();
        };
        self.client_datagrams += 1;
        if self.client_datagrams > MAX_CLIENT_DATAGRAMS {
            return QuicProgress::Failed(QuicError::GaveUp(MAX_CLIENT_DATAGRAMS));
        }
        if first & 0x80 == 0 {
            if self.phase == Phase::Idle && looks_like_gquic_public(payload) {
                return self.on_gquic_plain(payload);
            }
            return self.nothing(); // short header, or not QUIC
        }
        let Some(v) = payload.get(1..5) else {
            return self.nothing();
        };
        let version = QuicVersion(u32::from_be_bytes([v[0], v[1], v[2], v[3]]));
        if first & 0x40 == 0 || version == QuicVersion::NEGOTIATION || !version.is_recognised() {
            return self.nothing();
        }
        if version == QuicVersion::GQUIC_Q046 {
            return self.on_gquic_plain(payload);
        }
        if candidates(version).next().is_none() {
            return QuicProgress::Failed(QuicError::UnsupportedVersion(version));
        }
        self.on_ietf(payload)
    }

    pub(super) fn on_gquic_plain(&mut self, payload: &[u8]) -> QuicProgress {
        let packet = match parse_gquic_plain(payload) {
            Ok(p) => p,
            Err(e @ QuicError::UnsupportedVersion(_)) => return QuicProgress::Failed(e),
            Err(_) => return self.nothing(),
        };
        self.phase = Phase::Collecting;
        self.version = Some(packet.version);
        match packet.chlo_bytes() {
            Ok(Some(data)) => self.take_chlo(data),
            Ok(None) | Err(_) => QuicProgress::NeedMore,
        }
    }

    /// Keeps a CHLO found in a frame.
    pub(super) fn take_chlo(&mut self, data: &[u8]) -> QuicProgress {
        match GquicChlo::parse(data) {
            Ok((_, n)) => {
                self.chlo.clear();
                self.chlo.extend_from_slice(data.get(..n).unwrap_or(data));
                QuicProgress::Chlo
            }
            // A CHLO spanning packets is not reassembled: wait for one
            // that fits.
            Err(QuicError::Truncated { .. }) => QuicProgress::NeedMore,
            Err(e) => QuicProgress::Failed(e),
        }
    }

    pub(super) fn on_ietf(&mut self, payload: &[u8]) -> QuicProgress {
        let mut saw_initial = false;
        for item in CoalescedPackets::new(payload) {
            let Ok((_, packet)) = item else { break };
            if packet.packet_type != LongPacketType::Initial {
                continue; // 0-RTT, Handshake: skipped by their Length
            }
            let Some(dcid) = Cid::new(packet.dcid) else {
                continue;
            };
            saw_initial = true;
            if self.phase == Phase::Idle {
                self.phase = Phase::Collecting;
            }
            if self.key_dcid.is_none() {
                self.key_dcid = Some(dcid);
            }
            if payload.len() < MIN_INITIAL_DATAGRAM {
                self.undersized = true;
            }
            self.version = Some(packet.version);
            let (pn, header_len) = match self.open_client_initial(&packet, dcid) {
                Ok(o) => o,
                Err(QuicError::Authentication) => {
                    self.auth_failures += 1;
                    if self.auth_failures > MAX_AUTH_FAILURES {
                        return QuicProgress::Failed(QuicError::Undecryptable(self.auth_failures));
                    }
                    continue;
                }
                Err(_) => continue, // cut short: nothing to open
            };
            self.largest_pn = Some(self.largest_pn.map_or(pn, |l| l.max(pn)));
            let end = self.scratch.len().saturating_sub(TAG_LEN);
            let plain = self.scratch.get(header_len..end).unwrap_or(&[]);
            let google = packet.version.google().is_some();
            let frames = if google {
                Frames::google(plain)
            } else {
                Frames::new(plain)
            };
            let chlo_mode = packet.version == QuicVersion::GQUIC_Q050;
            for frame in frames {
                let Ok(Frame::Crypto { offset, data }) = frame else {
                    if frame.is_err() {
                        break; // unknown or malformed: keep what came before
                    }
                    continue;
                };
                if chlo_mode {
                    if data.starts_with(b"CHLO") {
                        let data = data.to_vec();
                        return self.take_chlo(&data);
                    }
                } else if let Err(e) = self.assembler.insert(offset, data) {
                    return QuicProgress::Failed(e);
                }
            }
        }
        if !saw_initial {
            return QuicProgress::NeedMore;
        }
        match self.assembler.client_hello() {
            Ok(Some(_)) => QuicProgress::ClientHello,
            Ok(None) => QuicProgress::NeedMore,
            Err(e) => QuicProgress::Failed(e),
        }
    }

    /// Opens a client Initial into `self.scratch`: with the keys held, else
    /// keys derived from the key DCID, else (a Retry or Version Negotiation
    /// not seen) from the packet's own DCID, which then becomes the key
    /// DCID of a new attempt.
    pub(super) fn open_client_initial(
        &mut self,
        packet: &LongPacket<'_>,
        dcid: Cid,
    ) -> Result<(u64, usize), QuicError> {
        let key_dcid = self.key_dcid.unwrap_or(dcid);
        if let Some(keys) = self.keys.as_deref() {
            if keys.version == packet.version && keys.dcid == key_dcid {
                return match keys.open_into(packet, self.largest_pn, &mut self.scratch) {
                    Err(QuicError::Authentication) if dcid != key_dcid => {
                        self.open_with_new_keys(packet, dcid, true)
                    }
                    other => other,
                };
            }
        }
        match self.open_with_new_keys(packet, key_dcid, false) {
            Err(QuicError::Authentication) if dcid != key_dcid => {
                self.open_with_new_keys(packet, dcid, true)
            }
            other => other,
        }
    }

    pub(super) fn open_with_new_keys(
        &mut self,
        packet: &LongPacket<'_>,
        dcid: Cid,
        new_attempt: bool,
    ) -> Result<(u64, usize), QuicError> {
        let mut result = Err(QuicError::Authentication);
        for p in candidates(packet.version) {
            let keys = InitialKeys::with(packet.version, p, dcid, Side::Client);
            result = keys.open_into(packet, self.largest_pn, &mut self.scratch);
            match result {
                Ok(_) => {
                    if new_attempt {
                        self.assembler.clear();
                    }
                    self.key_dcid = Some(dcid);
                    self.keys = Some(Box::new(keys));
                    break;
                }
                Err(QuicError::Authentication) => continue,
                Err(_) => break,
            }
        }
        result
    }
}
