//! OpenVPN with the XOR ("scramble") patch, over UDP and TCP, in its four
//! modes, recognised without knowing the mask.
//!
//! The patch (Tunnelblick's `openvpn_xorpatch`, `socket.c`/`socket.h`)
//! scrambles every packet just before it is written, and over TCP before
//! the 2-byte length is put in front (so the framing stays plain):
//!
//! | mode | wire = f(plain) |
//! |---|---|
//! | `xormask` | `b[i] ^= mask[i % len]` |
//! | `xorptrpos` | `b[i] ^= i + 1` |
//! | `reverse` | `b[0]` kept, `b[1..]` reversed |
//! | `obfuscate` | xorptrpos, reverse, xorptrpos, then xormask |
//!
//! What is read ([`XorTracker`]):
//! - `xorptrpos` and `reverse` need no parameter: each packet is
//!   unscrambled and read by a full [`OpenVpnTracker`] (opcodes, session
//!   ids, acks naming the peer's session, packet ids, HMAC layouts), whose
//!   verdict is taken when it rests on the opcode reading (not static-key).
//! - `xormask`: the first byte of every packet is its opcode byte XOR one
//!   constant (the mask's first byte, never 0: the mask is a C string);
//!   the constant is fixed by the client's first packet being a hard reset
//!   (`P_CONTROL_HARD_RESET_CLIENT_V2`/`_V3`) and must turn the server's
//!   first packet into `P_CONTROL_HARD_RESET_SERVER_V2`; every later packet
//!   must read as an opcode the sending side may send ([`Grammar`]); and
//!   since every packet is masked from its own byte 0, a side's session id
//!   (bytes 1..9 of each control packet) shows as the same 8 wire bytes in
//!   every control packet of that side (64 bits of evidence per repeat),
//!   different from the other side's.
//! - `obfuscate`: the opcode constant and grammar as for `xormask`; the
//!   session id sits at the packet's end, each byte under the position
//!   terms (known from the length) and one mask byte, whose index depends
//!   on the length. For every mask length 1..=32 a union-find with XOR
//!   weights ([`Solver`]) relates mask bytes, the two session ids and the
//!   data channel's peer id; the mask's first byte is known from the
//!   opcode. A mask length whose equations hold with [`REDUNDANT`] checks
//!   to spare (each an 8-bit test) decides, and the mask bytes tied to the
//!   first one are recovered: the `scramble_mask` detail.
//!
//! Verdict: `openvpn`, with the details of the unscrambled reading (or,
//! for the masked modes, `transport`), `scramble` (the mode), and
//! `scramble_mask` (hex; for `xormask` its first byte only, which is all
//! a parameter-free reading proves; for `obfuscate` the whole mask, `??`
//! standing for bytes the equations did not reach), `scramble_mask_len`
//! (`obfuscate`).
//! Confidence: that of the unscrambled reading for `xorptrpos` and
//! `reverse` (high for a handshake); `medium` for the masked modes, where
//! the HMAC, acks and packet ids stay under unknown mask bytes.
//!
//! Not recognised: static-key mode (`--secret`) has no opcode and no
//! session id, so scrambled it is random bytes of the same lengths; the
//! plain OpenVPN dissector reports it from its lengths as it would without
//! the patch (`static-key`, low), without the scramble mode. Plain OpenVPN
//! is the plain dissector's (a mode whose constant is 0 and whose session
//! id is in front is not taken here).
//!
//! Limits: [`MAX_PACKETS`] packets; over TCP a record's first
//! [`TCP_BUFFER_CAP`] bytes are kept (a longer record is passed over by
//! the tail-reading modes). State is fixed size apart from the two
//! unscrambling trackers (boxed, made only when the first byte allows
//! their mode) and the TCP buffers.

use super::*;

/// The scramble mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    XorMask,
    XorPtrPos,
    Reverse,
    Obfuscate,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::XorMask => "xormask",
            Mode::XorPtrPos => "xorptrpos",
            Mode::Reverse => "reverse",
            Mode::Obfuscate => "obfuscate",
        }
    }
}

/// Equations to spare before an `obfuscate` mask length is believed.
pub const REDUNDANT: u16 = 8;
/// Longest mask tried.
pub const MAX_MASK: usize = 32;
/// Control packets per side, the resets included, before a masked verdict.
const MASKED_CONTROL: u16 = 2;

/// The position term of xorptrpos at `i`.
#[inline]
fn pos(i: usize) -> u8 {
    (i + 1) as u8
}

/// Undoes xorptrpos.
fn unptrpos(w: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend(w.iter().enumerate().map(|(i, b)| b ^ pos(i)));
}

/// Undoes reverse (its own inverse).
fn unreverse(w: &[u8], out: &mut Vec<u8>) {
    out.clear();
    if let Some((&first, rest)) = w.split_first() {
        out.push(first);
        out.extend(rest.iter().rev());
    }
}

/// Which opcodes each side may send, from the opening on.
#[derive(Clone, Copy, Debug, Default)]
pub struct Grammar {
    packets: [u16; 2],
    control: [u16; 2],
}

impl Grammar {
    /// Takes in one packet's unscrambled first byte; false when it breaks
    /// the grammar.
    fn accept(&mut self, first: u8, side: usize) -> bool {
        let (op, key) = split_first(first);
        let fits = match (side, self.packets[side]) {
            (CLIENT, 0) => op.is_client_reset() && key.0 == 0,
            (_, 0) => op == Opcode::HARD_RESET_SERVER_V2 && key.0 == 0,
            _ => {
                (op.is_data() || matches!(op.0, 3..=5 | 7 | 8 | 10 | 11))
                    && key_fits(op, key)
                    && (side == CLIENT || !op.is_client_reset() && op != Opcode::CONTROL_WKC_V1)
                    && (side == SERVER || !op.is_server_reset())
            }
        };
        self.packets[side] = self.packets[side].saturating_add(1);
        if op.is_control() {
            self.control[side] = self.control[side].saturating_add(1);
        }
        fits
    }

    fn both_ways(&self, control: u16) -> bool {
        self.control.iter().all(|&c| c >= control)
    }
}

/// Node numbers of the obfuscate solver.
const ZERO: usize = 0;
const fn mask_node(r: usize) -> usize {
    1 + r
}
const fn sid_node(side: usize, i: usize) -> usize {
    1 + MAX_MASK + 8 * side + i
}
const fn peer_node(i: usize) -> usize {
    1 + MAX_MASK + 16 + i
}
const NODES: usize = 1 + MAX_MASK + 16 + 3;

/// A union-find with XOR weights over the obfuscate unknowns, for one
/// mask length.
#[derive(Clone, Debug)]
pub struct Solver {
    len: usize,
    alive: bool,
    parent: [u8; NODES],
    /// Value of the node XOR the value of its parent.
    diff: [u8; NODES],
    redundant: u16,
}

impl Solver {
    fn new(len: usize) -> Self {
        let mut parent = [0u8; NODES];
        for (i, p) in parent.iter_mut().enumerate() {
            *p = i as u8;
        }
        Solver {
            len,
            alive: true,
            parent,
            diff: [0; NODES],
            redundant: 0,
        }
    }

    /// Root of `x` and `x`'s value XOR the root's.
    fn find(&self, mut x: usize) -> (usize, u8) {
        let mut acc = 0;
        for _ in 0..NODES {
            let p = usize::from(self.parent[x]);
            if p == x {
                break;
            }
            acc ^= self.diff[x];
            x = p;
        }
        (x, acc)
    }

    /// States `value(a) ^ value(b) = w`.
    fn relate(&mut self, a: usize, b: usize, w: u8) {
        if !self.alive {
            return;
        }
        let (ra, da) = self.find(a);
        let (rb, db) = self.find(b);
        if ra == rb {
            if da ^ db == w {
                self.redundant = self.redundant.saturating_add(1);
            } else {
                self.alive = false;
            }
        } else {
            // Keep ZERO a root, so that values tied to it are absolute.
            let (child, root) = if rb == ZERO { (ra, rb) } else { (rb, ra) };
            self.parent[child] = root as u8;
            self.diff[child] = da ^ db ^ w;
        }
    }

    /// The mask: the bytes tied to the known first one.
    fn mask(&self) -> Vec<Option<u8>> {
        (0..self.len)
            .map(|r| match self.find(mask_node(r)) {
                (ZERO, v) => Some(v),
                _ => None,
            })
            .collect()
    }
}

/// The masked readings: the opcode constant, the grammar, and per mode its
/// own evidence.
#[derive(Clone, Debug)]
struct Masked {
    /// The mask's first byte.
    c: u8,
    grammar: Grammar,
    /// xormask: each side's session id as it shows on the wire, and how
    /// many control packets repeated it.
    wire_sid: [Option<[u8; 8]>; 2],
    repeats: [u16; 2],
    /// xormask: the data channel's peer id on the wire.
    wire_peer: Option<[u8; 3]>,
    xormask: bool,
    /// obfuscate: still possible; one solver per mask length, made once
    /// the server's first packet fits the grammar (random flows rarely
    /// get there), and until then the client's packet ends.
    obfuscate: bool,
    solvers: Option<Vec<Solver>>,
    pending: Vec<Tail>,
    /// The packets solved, by kind (side, or 2 for data packets) and
    /// length ([`length_key`]).
    lengths: Vec<u32>,
    first_packet: u64,
    first_byte: u8,
    server_packet: Option<u64>,
}

impl Masked {
    fn new(c: u8, w0: u8, packet: u64) -> Self {
        Masked {
            c,
            grammar: Grammar::default(),
            wire_sid: [None; 2],
            repeats: [0; 2],
            wire_peer: None,
            xormask: true,
            obfuscate: true,
            solvers: None,
            pending: Vec::new(),
            lengths: Vec::new(),
            first_packet: packet,
            first_byte: w0 ^ c,
            server_packet: None,
        }
    }

    fn alive(&self) -> bool {
        self.xormask || self.obfuscate
    }

    /// One packet (or its first bytes, `len` long). False when no masked
    /// reading is left.
    fn on_packet(&mut self, head: &[u8], len: usize, side: usize, packet: u64) -> bool {
        let Some(&w0) = head.first() else {
            return false;
        };
        let first = w0 ^ self.c;
        if !self.grammar.accept(first, side) {
            return false;
        }
        if side == SERVER {
            self.server_packet.get_or_insert(packet);
        }
        let (op, _) = split_first(first);
        let whole = head.len() == len;
        if self.xormask {
            self.xormask = self.xormask_packet(head, op, side);
        }
        // A packet as long as an earlier one of its kind gives equations
        // that hold under every mask length: it is left out, so that the
        // checks a length passes tell it from the others.
        let kind = if op.is_control() { side } else { 2 };
        let key = length_key(kind, len);
        let fresh = whole && !self.lengths.contains(&key);
        if fresh && self.lengths.len() < MAX_PACKETS.into() {
            if self.lengths.capacity() == 0 {
                // Room for a short handshake at once (growing from four
                // cost a reallocation in most flows that got here).
                self.lengths.reserve_exact(LENGTHS_ROOM);
            }
            self.lengths.push(key);
        }
        let tail = Tail::of(head, op, side).filter(|_| fresh);
        if self.obfuscate {
            if self.solvers.is_none() && side == SERVER {
                let c = self.c;
                let mut solvers: Vec<Solver> = (1..=MAX_MASK)
                    .map(|len| {
                        let mut s = Solver::new(len);
                        s.relate(ZERO, mask_node(0), c);
                        s
                    })
                    .collect();
                for t in self.pending.drain(..) {
                    solvers.iter_mut().for_each(|s| t.relate(s));
                }
                self.solvers = Some(solvers);
            }
            match (self.solvers.as_mut(), tail) {
                (Some(solvers), Some(t)) => {
                    solvers.iter_mut().for_each(|s| t.relate(s));
                    solvers.retain(|s| s.alive);
                    self.obfuscate = !solvers.is_empty();
                }
                (None, Some(t)) if self.pending.len() < PENDING => self.pending.push(t),
                _ => {}
            }
            if !self.obfuscate {
                self.solvers = None;
            }
        }
        self.alive()
    }

    fn xormask_packet(&mut self, head: &[u8], op: Opcode, side: usize) -> bool {
        if op.is_control() {
            let Some(sid) = crate::bytes::array::<8>(head, 1) else {
                return false;
            };
            match self.wire_sid[side] {
                None => {
                    if self.wire_sid[1 - side] == Some(sid) {
                        return false;
                    }
                    self.wire_sid[side] = Some(sid);
                }
                Some(s) if s == sid => self.repeats[side] = self.repeats[side].saturating_add(1),
                Some(_) => return false,
            }
        } else if op == Opcode::DATA_V2 {
            let Some(peer) = crate::bytes::array::<3>(head, 1) else {
                return false;
            };
            match self.wire_peer {
                None => self.wire_peer = Some(peer),
                Some(p) if p == peer => {}
                Some(_) => return false,
            }
        }
        true
    }

    /// The mode proven, if any: the mode, for obfuscate the solver of
    /// the mask length, and whether the reading is final. An obfuscate
    /// reading is final when the mask lengths still consistent are exactly
    /// the multiples of the shortest one; until then a shorter length may
    /// hold only because the packets so far had lengths alike modulo the
    /// true one, and no length is claimed (nor when every length holds).
    fn decided(&self) -> Option<(Mode, Option<&Solver>, bool)> {
        if !self.grammar.both_ways(MASKED_CONTROL) {
            return None;
        }
        // c = 0 is no mask at all (plain OpenVPN); c = 1 is also
        // xorptrpos's, which the caller tries first.
        if self.xormask && self.c != 0 && self.repeats.iter().all(|&r| r >= 1) {
            return Some((Mode::XorMask, None, true));
        }
        let solvers = self.solvers.as_ref()?;
        let shortest = solvers.iter().find(|s| s.redundant >= REDUNDANT)?;
        let multiples = (shortest.len..MAX_MASK + 1).step_by(shortest.len);
        // Every length alive (as for a one-byte mask) tells none apart.
        let clean = solvers.len() < MAX_MASK
            && solvers.len() == multiples.len()
            && solvers.iter().zip(multiples).all(|(s, l)| s.len == l);
        Some((Mode::Obfuscate, clean.then_some(shortest), clean))
    }
}

/// A solved packet's kind (side, or 2 for data packets) and length as one
/// word; lengths past 2^24 (none on the wire) share one.
fn length_key(kind: usize, len: usize) -> u32 {
    (kind as u32) << 24 | len.min(0xff_ffff) as u32
}

/// Solved packets a masked reading first makes room for.
const LENGTHS_ROOM: usize = 12;

/// The last bytes of a packet, where obfuscate puts the first ones.
#[derive(Clone, Copy, Debug)]
struct Tail {
    side: usize,
    op: Opcode,
    len: usize,
    end: [u8; 8],
}

/// Client packets kept for the solvers until the server speaks.
const PENDING: usize = 4;

impl Tail {
    /// For a whole control packet (session id) or `P_DATA_V2` (peer id).
    fn of(w: &[u8], op: Opcode, side: usize) -> Option<Tail> {
        let len = w.len();
        let carries = op.is_control() && len > 9 || op == Opcode::DATA_V2 && len > 4;
        if !carries || len < 8 {
            return None;
        }
        Some(Tail {
            side,
            op,
            len,
            end: crate::bytes::array::<8>(w, len - 8)?,
        })
    }

    /// Its equations, for one mask length: plain byte `k` (1..=8) is
    /// `w[n-k] ^ (n-k+1) ^ (k+1) ^ mask[(n-k) % l]`.
    fn relate(&self, s: &mut Solver) {
        let n = self.len;
        let l = s.len;
        let (count, node): (usize, fn(usize, usize) -> usize) = if self.op.is_control() {
            (8, |side, i| sid_node(side, i))
        } else {
            (3, |_, i| peer_node(i))
        };
        for k in 1..=count {
            let j = n - k;
            let b = self.end[8 - k];
            s.relate(
                node(self.side, k - 1),
                mask_node(j % l),
                b ^ pos(j) ^ pos(k),
            );
        }
    }
}

/// One direction's TCP framing.
#[derive(Clone, Debug, Default)]
struct Frames {
    prefix: [u8; 2],
    prefix_len: usize,
    want: usize,
    got: usize,
    buf: Vec<u8>,
}

/// The per-flow reader of scrambled OpenVPN; see the module documentation.
#[derive(Debug)]
pub struct XorTracker {
    tcp: bool,
    examined: u16,
    done: bool,
    ptrpos: Option<Box<OpenVpnTracker>>,
    reverse: Option<Box<OpenVpnTracker>>,
    /// The masked readings, one per client reset the first packet may be
    /// (V2, V3).
    masked: Vec<Masked>,
    frames: [Frames; 2],
    scratch: Vec<u8>,
}

impl XorTracker {
    pub fn new(tcp: bool) -> Self {
        XorTracker {
            tcp,
            examined: 0,
            done: false,
            ptrpos: None,
            reverse: None,
            masked: Vec::new(),
            frames: [Frames::default(), Frames::default()],
            scratch: Vec::new(),
        }
    }

    /// One UDP datagram.
    pub fn on_datagram(&mut self, b: &[u8], from_client: bool, packet: u64) -> Step {
        if self.done {
            return Step::Refuse;
        }
        self.on_packet(b, b.len(), side_of(from_client), packet)
    }

    /// TCP: the next in-order bytes of one side.
    pub fn on_stream(&mut self, mut rest: &[u8], from_client: bool, packet: u64) -> Step {
        let side = side_of(from_client);
        while !rest.is_empty() && !self.done {
            let fr = &mut self.frames[side];
            if fr.prefix_len < 2 {
                fr.prefix[fr.prefix_len] = rest[0];
                fr.prefix_len += 1;
                rest = &rest[1..];
                if fr.prefix_len == 2 {
                    fr.want = usize::from(u16::from_be_bytes(fr.prefix));
                    fr.got = 0;
                    fr.buf.clear();
                    if fr.want < MIN_CONTROL.min(MIN_DATA_V1) {
                        return self.refuse();
                    }
                }
                continue;
            }
            let take = fr.want.saturating_sub(fr.got).min(rest.len());
            let (body, r) = rest.split_at(take);
            rest = r;
            let room = TCP_BUFFER_CAP.saturating_sub(fr.buf.len());
            fr.buf.extend_from_slice(&body[..room.min(body.len())]);
            fr.got += take;
            if fr.got >= fr.want {
                fr.prefix_len = 0;
                let buf = std::mem::take(&mut fr.buf);
                let want = fr.want;
                let step = self.on_packet(&buf, want, side, packet);
                if !self.done {
                    self.frames[side].buf = buf;
                }
                if !matches!(step, Step::NeedMore) {
                    return step;
                }
            }
        }
        if self.done {
            Step::Refuse
        } else {
            Step::NeedMore
        }
    }

    fn refuse(&mut self) -> Step {
        self.done = true;
        self.ptrpos = None;
        self.reverse = None;
        self.masked = Vec::new();
        self.frames = [Frames::default(), Frames::default()];
        Step::Refuse
    }

    /// One whole packet (`head`: all of it, or its first bytes of `len`).
    fn on_packet(&mut self, head: &[u8], len: usize, side: usize, packet: u64) -> Step {
        let Some(&w0) = head.first() else {
            return Step::NeedMore;
        };
        self.examined = self.examined.saturating_add(1);
        if self.examined == 1 {
            if side != CLIENT {
                return self.refuse();
            }
            self.open(w0, len, packet);
        }
        let whole = head.len() == len;
        let mut verdict = None;
        if let Some(t) = self.ptrpos.as_mut() {
            unptrpos(head, &mut self.scratch);
            match t.on_packet(&self.scratch, len, side, packet) {
                Progress::NotThis => self.ptrpos = None,
                Progress::Candidate => {}
                Progress::Verdict(v) => verdict = Some((Mode::XorPtrPos, v)),
            }
        }
        if let Some(t) = self.reverse.as_mut().filter(|_| verdict.is_none() && whole) {
            unreverse(head, &mut self.scratch);
            match t.on_packet(&self.scratch, len, side, packet) {
                Progress::NotThis => self.reverse = None,
                Progress::Candidate => {}
                Progress::Verdict(v) => verdict = Some((Mode::Reverse, v)),
            }
        }
        if let Some((mode, v)) = verdict {
            if v.detail("mode").as_deref() != Some("static-key")
                && v.confidence >= Confidence::Medium
            {
                return self.decide(mode, v, self.examined);
            }
            // The scramble mode must rest on the opcode reading.
            match mode {
                Mode::XorPtrPos => self.ptrpos = None,
                _ => self.reverse = None,
            }
        }
        self.masked
            .retain_mut(|m| m.on_packet(head, len, side, packet));
        if let Some((mode, v, true)) = self.masked_reading() {
            return self.decide(mode, v, self.examined);
        }
        if self.examined >= MAX_PACKETS {
            if let Some((mode, v, _)) = self.masked_reading() {
                return self.decide(mode, v, self.examined);
            }
        }
        if self.ptrpos.is_none() && self.reverse.is_none() && self.masked.is_empty()
            || self.examined >= MAX_PACKETS
        {
            return self.refuse();
        }
        Step::NeedMore
    }

    /// The first masked reading that decided: mode, verdict, final.
    fn masked_reading(&self) -> Option<(Mode, VpnVerdict, bool)> {
        self.masked.iter().find_map(|m| {
            let (mode, solver, fin) = m.decided()?;
            // A first byte XOR 1 is also xorptrpos's: that reading, if
            // still open, is the better one.
            if m.c == 1 && self.ptrpos.is_some() {
                return None;
            }
            Some((mode, masked_verdict(m, solver, self.tcp), fin))
        })
    }

    /// The verdict the evidence supports at the flow's end.
    pub fn verdict(&self) -> Option<VpnVerdict> {
        if self.done {
            return None;
        }
        let (mode, mut v, _) = self.masked_reading()?;
        v.details.push(("scramble", Value::Text(mode.as_str())));
        Some(v)
    }

    /// The readings the client's first byte allows.
    fn open(&mut self, w0: u8, len: usize, packet: u64) {
        let reset = |b: u8| {
            let (op, key) = split_first(b);
            op.is_client_reset() && key.0 == 0
        };
        if reset(w0 ^ 1) {
            self.ptrpos = Some(Box::new(OpenVpnTracker::new(self.tcp)));
        }
        if reset(w0) {
            self.reverse = Some(Box::new(OpenVpnTracker::new(self.tcp)));
        }
        // A V3 reset (tls-crypt-v2) carries the wrapped client key.
        let v3 = len >= MIN_CONTROL + usize::from(MIN_WKC);
        let resets: &[Opcode] = if v3 {
            &[Opcode::HARD_RESET_CLIENT_V2, Opcode::HARD_RESET_CLIENT_V3]
        } else {
            &[Opcode::HARD_RESET_CLIENT_V2]
        };
        for &op in resets {
            let c = w0 ^ (op.0 << 3);
            if c != 0 {
                self.masked.push(Masked::new(c, w0, packet));
            }
        }
    }

    fn decide(&mut self, mode: Mode, mut v: VpnVerdict, packets: u16) -> Step {
        v.details.push(("scramble", Value::Text(mode.as_str())));
        if matches!(mode, Mode::XorPtrPos | Mode::Reverse) {
            v.evidence.push(Evidence {
                packet: v.evidence.first().map_or(0, |e| e.packet),
                what: facts::Clue::OpenVpnXor(XorClue::Unscrambled { mode, packets }),
            });
        }
        self.refuse();
        Step::Verdict(v.into_verdict())
    }
}

/// The verdict of a masked reading.
fn masked_verdict(m: &Masked, solver: Option<&Solver>, tcp: bool) -> VpnVerdict {
    let mut details: VpnDetails = vec![("transport", Value::Text(if tcp { "tcp" } else { "udp" }))];
    let mut evidence = vec![Evidence {
        packet: m.first_packet,
        what: facts::Clue::OpenVpnXor(XorClue::Constant {
            c: m.c,
            client_reset: split_first(m.first_byte).0,
        }),
    }];
    let mut mask = Value::Bytes(vec![m.c]);
    match solver {
        None if m.xormask => {
            if let (Some(c), Some(s)) = (m.wire_sid[CLIENT], m.wire_sid[SERVER]) {
                evidence.push(Evidence {
                    packet: m.server_packet.unwrap_or(m.first_packet),
                    what: facts::Clue::OpenVpnXor(XorClue::WireSessions {
                        client: c,
                        server: s,
                        repeats: m.repeats,
                    }),
                });
            }
        }
        None => {}
        Some(s) => {
            let bytes = s.mask();
            mask = match bytes.iter().copied().collect::<Option<Vec<u8>>>() {
                Some(full) => Value::Bytes(full),
                None => Value::PartialBytes(bytes),
            };
            details.push(("scramble_mask_len", Value::Number(s.len as u64)));
            evidence.push(Evidence {
                packet: m.server_packet.unwrap_or(m.first_packet),
                what: facts::Clue::OpenVpnXor(XorClue::Solved {
                    len: s.len,
                    checks: s.redundant,
                }),
            });
        }
    }
    details.push(("scramble_mask", mask));
    VpnVerdict {
        protocol: VpnProtocol::OpenVpn,
        confidence: Confidence::Medium,
        details,
        evidence,
    }
}

/// What a scrambled packet showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum XorClue {
    /// The packets, unscrambled, read as OpenVPN (the other clues).
    Unscrambled { mode: Mode, packets: u16 },
    /// The first byte is the opcode XOR one constant.
    Constant { c: u8, client_reset: Opcode },
    /// Each side's session id, masked, repeated in its control packets.
    WireSessions {
        client: [u8; 8],
        server: [u8; 8],
        repeats: [u16; 2],
    },
    /// The obfuscate equations held for this mask length.
    Solved { len: usize, checks: u16 },
}

impl fmt::Display for XorClue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XorClue::Unscrambled { mode, packets } => write!(
                f,
                "scramble {}: the first {packets} packets, unscrambled, read as OpenVPN",
                mode.as_str()
            ),
            XorClue::Constant { c, client_reset } => write!(
                f,
                "first byte = opcode byte XOR 0x{c:02x} in every packet of both sides; the client's first is {}",
                client_reset.name().unwrap_or("?")
            ),
            XorClue::WireSessions {
                client,
                server,
                repeats,
            } => write!(
                f,
                "masked session ids constant per side: client {} repeated {}x, server {} repeated {}x",
                Value::Bytes8(*client),
                repeats[0],
                Value::Bytes8(*server),
                repeats[1]
            ),
            XorClue::Solved { len, checks } => write!(
                f,
                "obfuscate: session ids at the packets' ends consistent under a {len}-byte mask ({checks} byte checks to spare)"
            ),
        }
    }
}

/// Scrambled OpenVPN over UDP.
#[derive(Debug)]
pub struct OpenVpnXorUdp(XorTracker);

impl Dissector for OpenVpnXorUdp {
    const CARRIER: Carrier = Carrier::Datagram;
    const PROBING: Probing = Probing::FlowOpening;
    const DEFERRED: bool = true;

    /// The smallest packet a client opens with.
    fn probe(b: &[u8], _side: usize) -> Probe {
        answer(b.len() >= MIN_CONTROL)
    }

    fn start() -> Self {
        OpenVpnXorUdp(XorTracker::new(false))
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        self.0
            .on_datagram(input.bytes, input.from_client(), input.packet)
    }

    fn settle(&self) -> Option<crate::classify::dissector::Verdict> {
        self.0.verdict().map(VpnVerdict::into_verdict)
    }
}

/// Scrambled OpenVPN over TCP (the 2-byte framing stays plain).
#[derive(Debug)]
pub struct OpenVpnXorTcp(XorTracker);

impl Dissector for OpenVpnXorTcp {
    const CARRIER: Carrier = Carrier::Stream;
    const PROBING: Probing = Probing::FlowOpening;

    /// A plausible first length: a client reset, at most a packet's size.
    fn probe(b: &[u8], _side: usize) -> Probe {
        match b {
            [hi, lo, ..] => answer(
                (MIN_CONTROL..=MAX_TCP_RECORD)
                    .contains(&usize::from(u16::from_be_bytes([*hi, *lo]))),
            ),
            _ => Probe::Maybe,
        }
    }

    fn start() -> Self {
        OpenVpnXorTcp(XorTracker::new(true))
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        self.0
            .on_stream(input.bytes, input.from_client(), input.packet)
    }

    fn settle(&self) -> Option<crate::classify::dissector::Verdict> {
        self.0.verdict().map(VpnVerdict::into_verdict)
    }
}

/// Largest first record taken for a client reset (a tls-crypt-v2 reset with
/// its wrapped key is under 1 KiB).
const MAX_TCP_RECORD: usize = 2048;

#[cfg(test)]
mod tests {
    use super::*;

    /// The patch's write side, as its source describes it.
    fn scramble(mode: Mode, mask: &[u8], plain: &[u8]) -> Vec<u8> {
        let xmask = |b: &[u8]| -> Vec<u8> {
            b.iter()
                .enumerate()
                .map(|(i, x)| x ^ mask[i % mask.len()])
                .collect()
        };
        let ptr = |b: &[u8]| -> Vec<u8> { b.iter().enumerate().map(|(i, x)| x ^ pos(i)).collect() };
        let rev = |b: &[u8]| -> Vec<u8> {
            let mut v = b[..1].to_vec();
            v.extend(b[1..].iter().rev());
            v
        };
        match mode {
            Mode::XorMask => xmask(plain),
            Mode::XorPtrPos => ptr(plain),
            Mode::Reverse => rev(plain),
            Mode::Obfuscate => xmask(&ptr(&rev(&ptr(plain)))),
        }
    }

    /// A plain (no tls-auth) OpenVPN 2.x opening: resets, acks, control
    /// packets of varied lengths, as `(from client, bytes)`.
    fn plain_opening() -> Vec<(bool, Vec<u8>)> {
        let c = [0x37, 0xf8, 0x1e, 0x9d, 0xff, 0x78, 0x95, 0xc6];
        let s = [0xa4, 0x66, 0x05, 0x6a, 0x4e, 0xcb, 0x5d, 0x9d];
        let mut v = Vec::new();
        let control =
            |op: u8, me: &[u8; 8], peer: &[u8; 8], ack: Option<u32>, msg: u32, body: usize| {
                let mut p = vec![op];
                p.extend(me);
                match ack {
                    Some(a) => {
                        p.push(1);
                        p.extend(a.to_be_bytes());
                        p.extend(peer);
                    }
                    None => p.push(0),
                }
                if op != 0x28 {
                    p.extend(msg.to_be_bytes());
                }
                p.extend((0..body).map(|i| (i * 7 + 3) as u8));
                p
            };
        v.push((true, control(0x38, &c, &s, None, 0, 0)));
        v.push((false, control(0x40, &s, &c, Some(0), 0, 0)));
        v.push((true, control(0x20, &c, &s, Some(0), 1, 289)));
        v.push((false, control(0x20, &s, &c, Some(1), 1, 1100)));
        v.push((false, control(0x20, &s, &c, None, 2, 95)));
        v.push((true, control(0x28, &c, &s, Some(1), 0, 0)));
        v.push((true, control(0x20, &c, &s, Some(2), 2, 341)));
        v.push((false, control(0x20, &s, &c, Some(2), 3, 182)));
        v.push((true, control(0x28, &c, &s, Some(3), 0, 0)));
        v.push((true, control(0x20, &c, &s, None, 3, 77)));
        v.push((false, control(0x28, &s, &c, Some(3), 0, 0)));
        v
    }

    fn run(mode: Mode, mask: &[u8], tcp: bool) -> Option<VpnVerdict> {
        let mut t = XorTracker::new(tcp);
        for (i, (client, p)) in plain_opening().iter().enumerate() {
            let w = scramble(mode, mask, p);
            let step = if tcp {
                let mut framed = (w.len() as u16).to_be_bytes().to_vec();
                framed.extend(&w);
                // Split the record across two feeds.
                let (a, b) = framed.split_at(framed.len() / 2);
                match t.on_stream(a, *client, i as u64) {
                    Step::NeedMore => t.on_stream(b, *client, i as u64),
                    other => other,
                }
            } else {
                t.on_datagram(&w, *client, i as u64)
            };
            match step {
                Step::Verdict(v) => {
                    let Some(Fact::Vpn(f)) = v.found.facts.into_iter().next() else {
                        panic!("no VPN fact");
                    };
                    return Some(VpnVerdict {
                        protocol: f.protocol,
                        confidence: f.confidence,
                        details: f.details,
                        evidence: v.found.evidence,
                    });
                }
                Step::Refuse => return None,
                _ => {}
            }
        }
        t.verdict()
    }

    use crate::classify::facts::Fact;

    #[test]
    fn every_mode_over_udp_and_tcp() {
        for tcp in [false, true] {
            for (mode, mask) in [
                (Mode::XorPtrPos, &b""[..]),
                (Mode::Reverse, b""),
                (Mode::XorMask, b"s3cr3t-Mask"),
                (Mode::XorMask, &[0x9c, 0x01, 0xfe][..]),
                (Mode::XorMask, &[0x01, 0x7f, 0x33][..]),
                (Mode::Obfuscate, b"abc"),
                (Mode::Obfuscate, b"k"),
            ] {
                let v =
                    run(mode, mask, tcp).unwrap_or_else(|| panic!("{mode:?} {mask:?} tcp={tcp}"));
                assert_eq!(v.protocol, VpnProtocol::OpenVpn);
                assert_eq!(v.detail("scramble").as_deref(), Some(mode.as_str()));
                match mode {
                    Mode::XorPtrPos | Mode::Reverse => {
                        assert_eq!(v.confidence, Confidence::High, "{mode:?}");
                        assert_eq!(v.detail("mode").as_deref(), Some("plain"));
                    }
                    Mode::XorMask => {
                        assert_eq!(v.detail("scramble_mask"), Some(format!("{:02x}", mask[0])));
                    }
                    Mode::Obfuscate => {
                        let hex: String = mask.iter().map(|b| format!("{b:02x}")).collect();
                        let got = v.detail("scramble_mask").unwrap();
                        if let Some(len) = v.detail("scramble_mask_len") {
                            assert_eq!(len, mask.len().to_string());
                            assert_eq!(got, hex);
                        } else {
                            assert_eq!(got, hex[..2]);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn plain_openvpn_is_not_taken() {
        let mut t = XorTracker::new(false);
        let mut verdict = false;
        for (i, (client, p)) in plain_opening().iter().enumerate() {
            verdict |= matches!(t.on_datagram(p, *client, i as u64), Step::Verdict(_));
        }
        assert!(!verdict && t.verdict().is_none());
    }

    #[test]
    fn random_packets_get_nothing() {
        let mut x: u64 = 0x1234_5678_9abc_def1;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for flow in 0..2000 {
            let mut t = XorTracker::new(false);
            for i in 0..16u64 {
                let len = 14 + (next() % 1200) as usize;
                let mut b: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                if flow % 2 == 0 && i < 2 {
                    // The opening bytes of a reset under some constant.
                    b[0] = if i == 0 { 0x38 ^ 0x5a } else { 0x40 ^ 0x5a };
                }
                if let Step::Verdict(v) = t.on_datagram(&b, i % 3 != 1, i) {
                    panic!("random flow {flow} taken: {v:?}");
                }
            }
            assert!(t.verdict().is_none());
        }
    }

    #[test]
    fn solver_finds_contradictions() {
        let mut s = Solver::new(4);
        s.relate(ZERO, mask_node(0), 0x11);
        s.relate(mask_node(0), sid_node(0, 0), 0x22);
        s.relate(sid_node(0, 0), mask_node(1), 0x44);
        assert_eq!(s.find(mask_node(1)), (ZERO, 0x11 ^ 0x22 ^ 0x44));
        s.relate(ZERO, mask_node(1), 0x11 ^ 0x22 ^ 0x44);
        assert_eq!(s.redundant, 1);
        s.relate(ZERO, mask_node(1), 0);
        assert!(!s.alive);
    }
}
