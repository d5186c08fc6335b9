//! The per-flow fingerprinter: packets in, a reading of the flow's mode
//! and a verdict out.

use super::*;

/// Per-flow OpenVPN fingerprinter; see the module documentation.
#[derive(Clone, Debug)]
pub struct OpenVpnTracker {
    pub(super) tcp: bool,
    pub(super) state: State,
    pub(super) examined: u16,
    /// The opcode-based reading still holds.
    pub(super) control: bool,
    /// The static-key reading still holds.
    pub(super) static_ok: bool,
    /// Packets the opcode reading took in.
    pub(super) control_packets: u16,
    /// Input position of the packet being read.
    pub(super) last_packet: u64,
    /// `[client, server]` as the caller orients the flow.
    pub(super) sides: [Side; 2],
    /// Key id 0, key ids 1–7.
    pub(super) channels: Option<Box<[Channel; 2]>>,
    /// The side that sent a client reset (or the peer of a server reset).
    pub(super) client_side: Option<usize>,
    /// Key ids seen in control packets.
    pub(super) control_keys: u8,
    pub(super) max_key: u8,
    pub(super) wkc: Option<u16>,
    pub(super) v3: bool,
    pub(super) static_key: StaticKey,
    /// The first [`NOTABLE`] control packets that fit, kept to word the
    /// evidence (made on the first: most flows tried never get one).
    pub(super) notes: Vec<Notable>,
    pub(super) data_notes: [Option<DataNote>; 4],
    pub(super) framers: [Framer; 2],
}

pub(super) const CLIENT: usize = 0;
pub(super) const SERVER: usize = 1;

impl OpenVpnTracker {
    /// The control channels: made when a control packet first fits, fresh
    /// until then.
    pub(super) fn channels(&self) -> &[Channel; 2] {
        self.channels.as_deref().unwrap_or(&UNSEEN)
    }

    /// A tracker fed with [`OpenVpnTracker::on_datagram`].
    pub fn udp() -> Self {
        Self::new(false)
    }

    /// A tracker fed with [`OpenVpnTracker::on_stream`].
    pub fn tcp() -> Self {
        Self::new(true)
    }

    pub(super) fn new(tcp: bool) -> Self {
        OpenVpnTracker {
            tcp,
            state: State::Open,
            examined: 0,
            control: true,
            static_ok: true,
            control_packets: 0,
            last_packet: 0,
            sides: [Side::default(); 2],
            channels: None,
            client_side: None,
            control_keys: 0,
            max_key: 0,
            wkc: None,
            v3: false,
            static_key: StaticKey::default(),
            notes: Vec::new(),
            data_notes: [None; 4],
            framers: [Framer::default(), Framer::default()],
        }
    }

    /// The answer once decided or refused.
    pub(super) fn settled(&self) -> Option<Progress> {
        match &self.state {
            State::Open => None,
            State::Refused => Some(Progress::NotThis),
            State::Decided(v) => Some(Progress::Verdict(v.clone())),
        }
    }

    pub(super) fn refuse(&mut self) -> Progress {
        self.state = State::Refused;
        self.framers = [Framer::default(), Framer::default()];
        Progress::NotThis
    }

    /// One UDP datagram's payload, its direction, its input position. An
    /// empty datagram tells nothing. On a tracker made with
    /// [`OpenVpnTracker::tcp`] it refuses.
    pub fn on_datagram(&mut self, payload: &[u8], from_client: bool, packet: u64) -> Progress {
        if let Some(p) = self.settled() {
            return p;
        }
        if self.tcp {
            return self.refuse();
        }
        if payload.is_empty() {
            return Progress::Candidate;
        }
        self.on_packet(payload, payload.len(), side_of(from_client), packet)
    }

    /// TCP: the next in-order bytes of one direction's stream, in any
    /// chunking. Packets are framed by their 2-byte length, several per
    /// chunk or one across several chunks; a packet is read when its last
    /// byte arrives, with `packet` as its position. On a tracker made with
    /// [`OpenVpnTracker::udp`] it refuses.
    pub fn on_stream(&mut self, bytes: &[u8], from_client: bool, packet: u64) -> Progress {
        if let Some(p) = self.settled() {
            return p;
        }
        if !self.tcp {
            return self.refuse();
        }
        let side = side_of(from_client);
        let mut fr = std::mem::take(&mut self.framers[side]);
        let progress = self.frame(&mut fr, bytes, side, packet);
        if matches!(self.state, State::Open) {
            self.framers[side] = fr;
        }
        progress
    }

    pub(super) fn frame(
        &mut self,
        fr: &mut Framer,
        mut rest: &[u8],
        side: usize,
        packet: u64,
    ) -> Progress {
        while !rest.is_empty() {
            if fr.prefix_len < 2 {
                let take = (2 - fr.prefix_len).min(rest.len());
                let (p, r) = rest.split_at(take);
                for &b in p {
                    if let Some(slot) = fr.prefix.get_mut(fr.prefix_len) {
                        *slot = b;
                    }
                    fr.prefix_len += 1;
                }
                rest = r;
                if fr.prefix_len == 2 {
                    fr.want = usize::from(u16::from_be_bytes(fr.prefix));
                    fr.got = 0;
                    fr.buf.clear();
                    if fr.want == 0 {
                        return self.refuse();
                    }
                    // The buffer grows to the largest packet's kept bytes,
                    // never past the cap.
                    fr.buf.reserve_exact(fr.want.min(TCP_BUFFER_CAP));
                }
                continue;
            }
            let take = fr.want.saturating_sub(fr.got).min(rest.len());
            let (body, r) = rest.split_at(take);
            rest = r;
            let room = TCP_BUFFER_CAP.saturating_sub(fr.buf.len());
            let first_byte = fr.got == 0;
            fr.buf.extend_from_slice(&body[..room.min(body.len())]);
            fr.got += take;
            if first_byte {
                if let Some(&b) = fr.buf.first() {
                    if !self.may_start(b, fr.want) {
                        return self.refuse();
                    }
                }
            }
            if fr.got >= fr.want {
                fr.prefix_len = 0;
                let progress = self.on_packet(&fr.buf, fr.want, side, packet);
                if !matches!(progress, Progress::Candidate) {
                    return progress;
                }
            }
        }
        Progress::Candidate
    }

    /// Cheap test of a TCP packet's first byte and length, so that a stream
    /// that is not OpenVPN (a TLS record, an HTTP request) is refused before
    /// its announced length has arrived. Drops the readings it rules out.
    pub(super) fn may_start(&mut self, first: u8, len: usize) -> bool {
        let (op, key) = split_first(first);
        let control = if op.is_control() {
            len >= MIN_CONTROL && key_fits(op, key)
        } else {
            op.is_data() && len >= MIN_DATA_V1
        };
        self.control &= control;
        self.static_ok &= len >= MIN_STATIC && matches!(len % 16, 0 | 4 | 12);
        self.control || self.static_ok
    }

    /// One whole packet (`head` is all of it, or its first
    /// [`TCP_BUFFER_CAP`] bytes of `len`).
    pub(super) fn on_packet(
        &mut self,
        head: &[u8],
        len: usize,
        side: usize,
        packet: u64,
    ) -> Progress {
        self.examined = self.examined.saturating_add(1);
        self.last_packet = packet;
        let digest = digest(head, len);
        if let Some(s) = self.sides.get_mut(side) {
            if s.last == Some(digest) {
                // A duplicated frame (or a byte-identical retransmission of
                // a plain control packet): no new evidence.
                return if self.examined >= MAX_PACKETS {
                    self.refuse()
                } else {
                    Progress::Candidate
                };
            }
            s.last = Some(digest);
            s.packets = s.packets.saturating_add(1);
        }
        if self.static_ok {
            self.static_ok = self.static_key.accept(head, len, side, packet);
            if self.static_ok {
                if let Some(s) = self.sides.get_mut(side) {
                    s.static_packets = s.static_packets.saturating_add(1);
                }
            }
        }
        if self.control {
            self.control = self.control_packet(head, len, side, packet);
            if self.control {
                self.control_packets = self.control_packets.saturating_add(1);
            } else if self.control_packets >= 2 {
                // It looked like OpenVPN for several packets, then broke
                // the pattern: random static-key bytes would not have.
                self.static_ok = false;
            }
        }
        if let Some(verdict) = self.decide() {
            self.state = State::Decided(verdict.clone());
            self.framers = [Framer::default(), Framer::default()];
            return Progress::Verdict(verdict);
        }
        if !self.control && !self.static_ok || self.examined >= MAX_PACKETS {
            return self.refuse();
        }
        Progress::Candidate
    }

    /// Takes in a packet under the opcode reading; false when it breaks it.
    pub(super) fn control_packet(
        &mut self,
        head: &[u8],
        len: usize,
        side: usize,
        packet: u64,
    ) -> bool {
        let Some(&first) = head.first() else {
            return false;
        };
        let (op, key) = split_first(first);
        self.max_key = self.max_key.max(key.0);
        if op.is_data() {
            return self.data_packet(head, len, side, packet);
        }
        if !op.is_control() || !key_fits(op, key) {
            return false;
        }
        let other = 1 - side;
        let Some(session) = session_at(head, field::SESSION.start) else {
            return false;
        };
        if !looks_random(&session) || self.sides[other].session == Some(session) {
            return false;
        }
        let learned = match self.sides[side].session {
            Some(s) if s != session => return false,
            Some(_) => false,
            None => {
                self.sides[side].session = Some(session);
                true
            }
        };
        if op.is_client_reset() {
            if self.client_side == Some(other) {
                return false;
            }
            self.client_side = Some(side);
            self.sides[side].client_reset = true;
        } else if op.is_server_reset() {
            if self.client_side == Some(side) {
                return false;
            }
            self.client_side.get_or_insert(other);
            self.sides[side].server_reset = true;
        } else if op == Opcode::SOFT_RESET_V1 {
            self.sides[side].soft_resets |= 1 << key.0;
        }
        let mut wkc = None;
        if op.carries_wkc() {
            if len > head.len() {
                return false;
            }
            match wkc_len(head) {
                Ok(w) if self.wkc.is_none_or(|prev| prev == w) => wkc = Some(w),
                _ => return false,
            }
            self.wkc = wkc;
            self.v3 |= op == Opcode::HARD_RESET_CLIENT_V3;
        }
        if learned {
            // The other side may have named this session in its acks
            // before it was seen here.
            for ch in self.channels.iter_mut().flat_map(|b| b.iter_mut()) {
                for (i, st) in ch.state.iter_mut().enumerate() {
                    let theirs = &mut st[other];
                    match theirs.remote {
                        Some(r) if r != session => ch.mask &= !(1 << i),
                        Some(_) => theirs.echoed = true,
                        None => {}
                    }
                }
            }
        }
        let c = usize::from(key.0 != 0);
        let ch = &mut self.channels.get_or_insert_with(Channel::fresh_pair)[c];
        if op.carries_wkc() {
            ch.mask &= CRYPT_BIT;
        }
        for (i, protection) in Protection::CANDIDATES.iter().enumerate() {
            if ch.mask & (1 << i) == 0 {
                continue;
            }
            let [a, b] = ch.state[i];
            let theirs = if side == CLIENT { b } else { a };
            let peer = PeerView {
                session: self.sides[other].session,
                message: theirs.message,
                message_key: theirs.message_key,
            };
            let fits = match read_control(head, len, *protection) {
                Ok(v) => ch.state[i][side].accept(&v, peer),
                Err(_) => false,
            };
            if !fits {
                ch.mask &= !(1 << i);
            }
        }
        let channels = self.channels.get_or_insert_with(Channel::fresh_pair);
        if channels.iter().any(|c| c.mask == 0) {
            return false;
        }
        let ch = &mut channels[c];
        ch.packets[side] = ch.packets[side].saturating_add(1);
        ch.opcodes[side] |= 1 << op.0;
        ch.handshake |= if c == 0 {
            self.client_side
                .is_some_and(|cs| self.sides[cs].client_reset && self.sides[1 - cs].server_reset)
        } else {
            self.sides[0].soft_resets & self.sides[1].soft_resets != 0
        };
        self.control_keys |= 1 << key.0;
        if self.notes.len() < NOTABLE {
            let mut note = Notable {
                packet,
                side,
                len,
                head_len: head.len().min(NOTE_HEAD),
                head: [0; NOTE_HEAD],
                wkc,
            };
            if let Some(src) = head.get(..note.head_len) {
                if let Some(dst) = note.head.get_mut(..note.head_len) {
                    dst.copy_from_slice(src);
                }
            }
            self.notes.push(note);
        }
        true
    }

    /// Takes in a data packet; false when it breaks the pattern.
    pub(super) fn data_packet(
        &mut self,
        head: &[u8],
        len: usize,
        side: usize,
        packet: u64,
    ) -> bool {
        let Some(v) = read_data(head, len) else {
            return false;
        };
        let other_peer = self.sides[1 - side].data.peer;
        let control_keys = self.control_keys;
        let d = &mut self.sides[side].data;
        let k = v.key.0;
        match d.key {
            Some(cur) if cur != k => {
                let known = (d.keys | control_keys) & (1 << k) != 0;
                let next = k == cur % 7 + 1;
                if !known && !next {
                    return false;
                }
                d.leading = 0;
            }
            _ => {}
        }
        d.key = Some(k);
        d.keys |= 1 << k;
        if d.keys.count_ones() > 3 {
            return false;
        }
        if let Some(p) = v.peer {
            if d.peer.is_some_and(|mine| mine != p) || other_peer.is_some_and(|o| o != p) {
                return false;
            }
            d.peer = Some(p);
            d.v2 = d.v2.saturating_add(1);
        }
        if v.leading == 0 {
            d.aead_broken = true;
        } else if d.leading != 0 {
            if v.leading > d.leading && near(d.leading, v.leading) {
                d.rises = d.rises.saturating_add(1);
            } else if !near(d.leading, v.leading) {
                d.aead_broken = true;
            }
        }
        d.leading = d.leading.max(v.leading);
        // CBC: HMAC (16, 20, 28, 32, 48 or 64), 16-byte IV, n ≥ 2 blocks.
        let r = v.body_len % 16;
        if !matches!(r, 0 | 4 | 12) || v.body_len < MIN_STATIC + r {
            d.cbc_broken = true;
        }
        let lead = head
            .get(v.header..v.header + 8)
            .and_then(|s| <[u8; 8]>::try_from(s).ok());
        match (d.first, lead) {
            (None, Some(l)) => d.first = Some(l),
            (Some(f), Some(l)) => {
                for (i, (a, b)) in f.iter().zip(l.iter()).enumerate() {
                    if a != b {
                        d.varied |= 1 << i;
                    }
                }
            }
            _ => {}
        }
        d.packets = d.packets.saturating_add(1);
        let keep = self
            .data_notes
            .iter()
            .filter(|n| n.is_some_and(|n| n.side == side))
            .count()
            < 2;
        if keep {
            if let Some(slot) = self.data_notes.iter_mut().find(|n| n.is_none()) {
                *slot = Some(DataNote {
                    packet,
                    side,
                    view: v,
                });
            }
        }
        true
    }

    /// The strongest reading the packets so far support, worded.
    pub(super) fn decide(&self) -> Option<VpnVerdict> {
        let (confidence, reading) = self.reading()?;
        Some(self.verdict(confidence, reading))
    }

    pub(super) fn reading(&self) -> Option<(Confidence, Reading)> {
        if self.control {
            let mut best: Option<(Confidence, Reading)> = None;
            for (c, ch) in self.channels().iter().enumerate() {
                let Some(i) = ch.layout() else { continue };
                let crypt = Protection::CANDIDATES.get(i) == Some(&Protection::TlsCrypt);
                let st = ch.state.get(i).copied().unwrap_or_default();
                let echoed = st[CLIENT].echoed || st[SERVER].echoed;
                let total = u32::from(ch.packets[0]) + u32::from(ch.packets[1]);
                let found = if ch.handshake
                    && if crypt {
                        total >= 3 && ch.times_close(i)
                    } else if c == 0 {
                        // The server's acks name the client's session.
                        self.client_side
                            .and_then(|cs| st.get(1 - cs))
                            .is_some_and(|s| s.echoed)
                    } else {
                        echoed
                    } {
                    Some(Confidence::High)
                } else if ch.packets[0] >= 2
                    && ch.packets[1] >= 2
                    && (ch.opcodes[0] | ch.opcodes[1]).count_ones() >= 2
                    && if crypt { ch.times_close(i) } else { echoed }
                {
                    Some(Confidence::Medium)
                } else if (0..2).any(|s| {
                    let reset = self.sides[s].client_reset || self.sides[s].server_reset;
                    ch.packets[s] >= ONE_WAY_PACKETS
                        && self.sides[1 - s].packets == 0
                        && reset
                        && ch.opcodes[s].count_ones() >= 2
                }) {
                    Some(Confidence::Low)
                } else {
                    None
                };
                if let Some(conf) = found {
                    if best.is_none_or(|(b, _)| conf > b) {
                        best = Some((
                            conf,
                            Reading::Control {
                                channel: c,
                                layout: i,
                            },
                        ));
                    }
                }
            }
            if best.is_some() {
                return best;
            }
            if self.data_only() {
                return Some((Confidence::Low, Reading::DataOnly));
            }
        } else if self.static_ok && self.static_enough() {
            return Some((Confidence::Low, Reading::StaticKey));
        }
        None
    }

    /// A data channel without control packets: see the module documentation.
    pub(super) fn data_only(&self) -> bool {
        if self.channels().iter().any(|c| c.packets != [0, 0]) {
            return false;
        }
        let [a, b] = [self.sides[0].data, self.sides[1].data];
        let enough = a.packets >= DATA_ONLY_PACKETS && b.packets >= DATA_ONLY_PACKETS;
        // Servers number their peers from 0 (`0xffffff`: none assigned).
        let peer_ok = [a, b]
            .iter()
            .all(|d| d.peer.is_none_or(|p| p.0 < 0x1_0000 || p.0 == 0xff_ffff));
        let v2 = (a.v2 > 0 || b.v2 > 0) && peer_ok;
        let aead = [a, b]
            .iter()
            .all(|d| !d.aead_broken && d.rises + 1 >= DATA_ONLY_PACKETS);
        let cbc = [a, b]
            .iter()
            .all(|d| !d.cbc_broken && d.varied == 0xff && d.packets > DATA_ONLY_PACKETS);
        enough && v2 && (aead || cbc)
    }

    pub(super) fn static_enough(&self) -> bool {
        let s = &self.static_key;
        u32::from(self.sides[0].static_packets) + u32::from(self.sides[1].static_packets)
            >= u32::from(STATIC_PACKETS)
            && self.sides.iter().all(|d| d.static_packets >= 3)
            && s.varied == 0xffff
            && s.sizes[1] != 0
            && s.byte_values() >= STATIC_BYTE_VALUES
            && s.pings_both_ways().is_some()
    }

    /// The protection that names the mode: the key-0 layout when known.
    pub(super) fn mode_layout(&self, channel: usize, layout: usize) -> Protection {
        let base = if channel != 0 {
            self.channels()[0].layout().unwrap_or(layout)
        } else {
            layout
        };
        Protection::CANDIDATES
            .get(base)
            .copied()
            .unwrap_or(Protection::TlsCrypt)
    }

    pub(super) fn verdict(&self, confidence: Confidence, reading: Reading) -> VpnVerdict {
        let mut details: VpnDetails = Vec::with_capacity(8);
        details.push((
            "transport",
            Value::Text(if self.tcp { "tcp" } else { "udp" }),
        ));
        let mut evidence = Vec::new();
        let mut note = |packet: u64, clue: Clue| {
            evidence.push(Evidence {
                packet,
                what: facts::Clue::OpenVpn(clue),
            })
        };
        match reading {
            Reading::Control { channel, layout } => {
                let protection = self.mode_layout(channel, layout);
                let mode = match protection {
                    Protection::Plain => "plain",
                    Protection::TlsAuth { .. } => "tls-auth",
                    Protection::TlsCrypt if self.v3 => "tls-crypt-v2",
                    Protection::TlsCrypt => "tls-crypt",
                };
                details.push(("mode", Value::Text(mode)));
                if let Protection::TlsAuth { hmac } = protection {
                    details.push(("hmac_bytes", Value::Number(hmac.into())));
                }
                if let Some(w) = self.wkc {
                    details.push(("wkc_bytes", Value::Number(w.into())));
                }
                for n in &self.notes {
                    note(n.packet, Clue::Control(self.control_note(n)));
                }
                if channel != 0 && self.channels()[0].layout().is_none() {
                    let first = self
                        .notes
                        .iter()
                        .find(|n| n.head.first().is_some_and(|&b| split_first(b).1 .0 != 0));
                    note(first.map_or(0, |n| n.packet), Clue::RenegotiationOnly);
                }
            }
            Reading::DataOnly => {
                details.push(("mode", Value::Text("data-only")));
                let [c, v] = [self.sides[CLIENT].data, self.sides[SERVER].data];
                note(
                    self.last_packet,
                    Clue::DataOnly {
                        client: c.packets,
                        server: v.packets,
                        aead: [c, v].iter().all(|d| !d.aead_broken),
                    },
                );
            }
            Reading::StaticKey => {
                details.push(("mode", Value::Text("static-key")));
                let s = &self.static_key;
                note(
                    s.last_packet,
                    Clue::StaticKey {
                        packets: u32::from(self.sides[0].static_packets)
                            + u32::from(self.sides[1].static_packets),
                        first: s.first_packet,
                        residue: s.residue.unwrap_or(0),
                        sizes: s.sizes,
                        smallest: s.smallest,
                        hmac: s.pings_both_ways().unwrap_or(0),
                        values: s.byte_values(),
                    },
                );
            }
        }
        if !matches!(reading, Reading::StaticKey) {
            details.push(("key_id", Value::Number(self.max_key.into())));
            if let Some(p) = self.sides.iter().find_map(|s| s.data.peer) {
                details.push(("peer_id", Value::Number(p.0.into())));
            }
        }
        let client = self.client_side.unwrap_or(CLIENT);
        if let Some(s) = self.sides[client].session {
            details.push(("client_session", Value::Bytes8(s.0)));
        }
        if let Some(s) = self.sides[1 - client].session {
            details.push(("server_session", Value::Bytes8(s.0)));
        }
        for n in self.data_notes.iter().flatten() {
            let d = &self.sides[n.side].data;
            note(
                n.packet,
                Clue::Data {
                    view: n.view,
                    side: n.side,
                    rising: !d.aead_broken && d.rises > 0,
                },
            );
        }
        evidence.sort_by_key(|f| f.packet);
        VpnVerdict {
            protocol: VpnProtocol::OpenVpn,
            confidence,
            details,
            evidence,
        }
    }

    /// A kept control packet, read under the layout its key class settled on.
    pub(super) fn control_note(&self, n: &Notable) -> ControlNote {
        let head = n.head.get(..n.head_len).unwrap_or(&[]);
        let (op, key) = split_first(head.first().copied().unwrap_or(0));
        let channel = usize::from(key.0 != 0);
        let layout = self.channels()[channel].layout();
        let view = layout
            .and_then(|i| Protection::CANDIDATES.get(i))
            .and_then(|p| read_control(head, n.len, *p).ok());
        let client = self.client_side.unwrap_or(CLIENT);
        ControlNote {
            op,
            key,
            side: n.side,
            len: n.len,
            wkc: n.wkc,
            view: view.map(|v| ControlFacts {
                session: v.session,
                protection: v.protection,
                replay: v.replay,
                acks: v.reliable.and_then(|rel| {
                    rel.remote.map(|remote| Acks {
                        ids: rel.acks().take(MAX_ACKS).map(|a| a.0).collect(),
                        remote,
                        peer_is_server: n.side == client,
                    })
                }),
                message: v.reliable.and_then(|rel| rel.message),
            }),
        }
    }
}
