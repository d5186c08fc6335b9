//! What the tracker remembers of a flow: per layout and direction the ids
//! seen, the data channel, the static-key reading, the packets kept to
//! word the evidence, and the TCP framer.

use super::*;

/// What one layout has seen from one direction.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct LayoutState {
    /// Highest replay packet id (0: none yet; OpenVPN starts at 1).
    pub(super) replay: u32,
    /// The first replay time.
    pub(super) time: u32,
    /// Highest message id, and the key id it belongs to.
    pub(super) message: Option<u32>,
    pub(super) message_key: u8,
    /// The peer session this direction's acks name.
    pub(super) remote: Option<SessionId>,
    /// This direction's acks named the other direction's session.
    pub(super) echoed: bool,
}

/// What the other direction shows, for checking a packet against it.
#[derive(Clone, Copy, Debug)]
pub(super) struct PeerView {
    pub(super) session: Option<SessionId>,
    pub(super) message: Option<u32>,
    pub(super) message_key: u8,
}

impl LayoutState {
    const FRESH: LayoutState = LayoutState {
        replay: 0,
        time: 0,
        message: None,
        message_key: 0,
        remote: None,
        echoed: false,
    };

    /// Checks a control packet read under this layout and takes it in;
    /// false when it does not fit what came before.
    pub(super) fn accept(&mut self, v: &ControlView<'_>, peer: PeerView) -> bool {
        let hard = v.opcode.is_hard_reset();
        let reset = hard || v.opcode == Opcode::SOFT_RESET_V1;
        if let Some(r) = v.replay {
            let id = r.id.0;
            if id == 0 || r.time < MIN_TIME {
                return false;
            }
            if self.replay == 0 {
                if hard && id & 0xffff > RESET_MAX_REPLAY {
                    return false;
                }
                self.time = r.time;
            } else if id == self.replay
                || !near(self.replay, id)
                || r.time.abs_diff(self.time) > TIME_SPREAD
            {
                // OpenVPN never sends a replay id twice (a retransmission
                // gets a new one; a duplicated frame is dropped before).
                return false;
            }
            self.replay = self.replay.max(id);
        }
        if let Some(rel) = v.reliable {
            for a in rel.acks() {
                if a.0 >= MAX_MESSAGE {
                    return false;
                }
                if let Some(m) = peer.message {
                    if peer.message_key == v.key.0 && a.0 > m.saturating_add(BACK) {
                        return false;
                    }
                }
            }
            if let Some(remote) = rel.remote {
                if self.remote.is_some_and(|r| r != remote) {
                    return false;
                }
                if let Some(ps) = peer.session {
                    if ps != remote {
                        return false;
                    }
                    self.echoed = true;
                }
                self.remote = Some(remote);
            }
            if let Some(PacketId(m)) = rel.message {
                if m >= MAX_MESSAGE || (reset && m > RESET_MAX_MESSAGE) {
                    return false;
                }
                match self.message {
                    Some(max) if self.message_key == v.key.0 => {
                        if m > max.saturating_add(BACK) || m.saturating_add(BACK) < max {
                            return false;
                        }
                        self.message = Some(max.max(m));
                    }
                    _ => {
                        self.message = Some(m);
                        self.message_key = v.key.0;
                    }
                }
            }
        }
        true
    }
}

/// `id` is within reach of the highest id so far: at most [`BACK`] behind,
/// at most [`STEP`] ahead.
pub(super) fn near(highest: u32, id: u32) -> bool {
    id <= highest.saturating_add(STEP) && id.saturating_add(BACK) >= highest
}

/// Control packets of one key class (key id 0, or key ids 1–7) under every
/// candidate layout.
#[derive(Clone, Debug)]
pub(super) struct Channel {
    /// Layouts still consistent (bit i: `Protection::CANDIDATES[i]`).
    pub(super) mask: u8,
    pub(super) state: [[LayoutState; 2]; 8],
    pub(super) packets: [u16; 2],
    /// Opcodes sent, per side (bit n: opcode n).
    pub(super) opcodes: [u16; 2],
    /// The resets of both sides were seen.
    pub(super) handshake: bool,
}

impl Default for Channel {
    fn default() -> Self {
        Channel::FRESH
    }
}

/// Both channels before any control packet fitted: what a tracker reads
/// until it makes its own (most flows it sees never get that far).
pub(super) static UNSEEN: [Channel; 2] = [Channel::FRESH, Channel::FRESH];

impl Channel {
    pub(super) const FRESH: Channel = Channel {
        mask: ALL_LAYOUTS,
        state: [[LayoutState::FRESH; 2]; 8],
        packets: [0; 2],
        opcodes: [0; 2],
        handshake: false,
    };

    /// A tracker's own pair, made when a control packet first fits.
    pub(super) fn fresh_pair() -> Box<[Channel; 2]> {
        Box::new(UNSEEN.clone())
    }

    /// The one layout left, if only one is.
    pub(super) fn layout(&self) -> Option<usize> {
        (self.mask.count_ones() == 1).then(|| self.mask.trailing_zeros() as usize)
    }

    /// Both sides' replay times, under layout `i`, within a day.
    pub(super) fn times_close(&self, i: usize) -> bool {
        let [a, b] = self.state.get(i).copied().unwrap_or_default();
        a.replay != 0 && b.replay != 0 && a.time.abs_diff(b.time) <= TIME_SPREAD
    }
}

/// The data channel of one direction.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct DataSide {
    pub(super) packets: u16,
    pub(super) v2: u16,
    pub(super) key: Option<u8>,
    /// Key ids used by data packets.
    pub(super) keys: u8,
    pub(super) peer: Option<PeerId>,
    /// Highest leading id (AEAD packet id) for `key`.
    pub(super) leading: u32,
    pub(super) rises: u16,
    pub(super) aead_broken: bool,
    pub(super) cbc_broken: bool,
    /// The first packet's 8 bytes after the header, and which of them
    /// differed in a later packet.
    pub(super) first: Option<[u8; 8]>,
    pub(super) varied: u8,
}

/// Per direction.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Side {
    pub(super) packets: u16,
    pub(super) session: Option<SessionId>,
    /// Key ids of soft resets sent.
    pub(super) soft_resets: u8,
    pub(super) client_reset: bool,
    pub(super) server_reset: bool,
    pub(super) data: DataSide,
    pub(super) static_packets: u16,
    /// Hash of the last packet (with its length), to drop duplicated frames.
    pub(super) last: Option<u64>,
}

/// The static-key reading of a flow.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct StaticKey {
    pub(super) residue: Option<u8>,
    pub(super) sizes: [usize; 2],
    pub(super) first: Option<[u8; 16]>,
    pub(super) varied: u16,
    pub(super) values: [u64; 4],
    pub(super) first_packet: u64,
    pub(super) last_packet: u64,
    /// The smallest length seen, and per side whether it sent one.
    pub(super) smallest: usize,
    pub(super) smallest_from: [bool; 2],
}

impl StaticKey {
    /// Takes in a packet; false when it cannot be static-key.
    pub(super) fn accept(&mut self, head: &[u8], len: usize, side: usize, packet: u64) -> bool {
        let r = (len % 16) as u8;
        let min = MIN_STATIC + usize::from(r);
        if len < min || !matches!(r, 0 | 4 | 12) || *self.residue.get_or_insert(r) != r {
            return false;
        }
        let Some(lead) = head.get(..16).and_then(|s| <[u8; 16]>::try_from(s).ok()) else {
            return false;
        };
        match self.first {
            None => {
                self.first = Some(lead);
                self.first_packet = packet;
            }
            Some(f) => {
                for (i, (a, b)) in f.iter().zip(lead.iter()).enumerate() {
                    if a != b {
                        self.varied |= 1 << i;
                    }
                }
            }
        }
        for b in lead {
            if let Some(w) = self.values.get_mut(usize::from(b >> 6)) {
                *w |= 1 << (b & 63);
            }
        }
        if self.sizes[0] == 0 {
            self.sizes[0] = len;
        } else if self.sizes[0] != len && self.sizes[1] == 0 {
            self.sizes[1] = len;
        }
        if self.smallest == 0 || len < self.smallest {
            self.smallest = len;
            self.smallest_from = [false; 2];
        }
        if len == self.smallest {
            if let Some(f) = self.smallest_from.get_mut(side) {
                *f = true;
            }
        }
        self.last_packet = packet;
        true
    }

    /// The smallest packets, from both sides, have the length of OpenVPN's
    /// ping and OCC messages (16 or 17 bytes after packet id and time: two
    /// blocks) for one of the HMAC sizes; no tunnelled IP packet is that short.
    pub(super) fn pings_both_ways(&self) -> Option<u8> {
        let hmac = self.smallest.checked_sub(MIN_STATIC - 16)?;
        let fits = matches!(hmac, 16 | 20 | 28 | 32 | 48 | 64);
        (fits && self.smallest_from == [true, true]).then_some(hmac as u8)
    }

    pub(super) fn byte_values(&self) -> u32 {
        self.values.iter().map(|w| w.count_ones()).sum()
    }
}

/// A control packet's header, kept to word the evidence.
#[derive(Clone, Copy, Debug)]
pub(super) struct Notable {
    pub(super) packet: u64,
    pub(super) side: usize,
    pub(super) len: usize,
    pub(super) head_len: usize,
    pub(super) head: [u8; NOTE_HEAD],
    pub(super) wkc: Option<u16>,
}

/// A data packet, kept to word the evidence.
#[derive(Clone, Copy, Debug)]
pub(super) struct DataNote {
    pub(super) packet: u64,
    pub(super) side: usize,
    pub(super) view: DataView,
}

/// Undoes the 2-byte length framing of one TCP direction.
#[derive(Clone, Debug, Default)]
pub(super) struct Framer {
    pub(super) prefix: [u8; 2],
    pub(super) prefix_len: usize,
    /// The current packet's length, and bytes of it seen.
    pub(super) want: usize,
    pub(super) got: usize,
    /// Its first [`TCP_BUFFER_CAP`] bytes.
    pub(super) buf: Vec<u8>,
}

/// Outcome of a reading of the flow, before it is worded.
#[derive(Clone, Copy, Debug)]
pub(super) enum Reading {
    /// Control packets of key class `channel` under layout `layout`.
    Control {
        channel: usize,
        layout: usize,
    },
    DataOnly,
    StaticKey,
}

/// Where the tracker stands.
#[derive(Clone, Debug)]
pub(super) enum State {
    Open,
    Refused,
    Decided(VpnVerdict),
}
