//! OpenVPN: a per-flow state machine that tells an OpenVPN flow from
//! anything else, over UDP datagrams or the TCP stream, on any port.
//!
//! What it does. Every OpenVPN packet in TLS mode starts with one byte,
//! opcode (high 5 bits) and key id (low 3 bits); over TCP each packet is
//! preceded by a 2-byte length, which [`OpenVpnTracker::on_stream`] undoes
//! whatever the chunking. Control packets (`P_CONTROL_*`, `P_ACK_V1`) then
//! carry the sender's 8-byte session id and, depending on how the control
//! channel is protected ([`Protection`]):
//!
//! ```text
//! plain:     op | session | ack n | n × ack id | peer session (n > 0) | message id | TLS
//! tls-auth:  op | session | HMAC (16/20/28/32/48/64) | packet id | time | ack n | … as plain
//! tls-crypt: op | session | packet id | time | tag (32) | encrypted (ack n … TLS)
//! ```
//!
//! The HMAC size of tls-auth is not announced, so every candidate layout
//! (plain, six HMAC sizes, tls-crypt) is tried on every control packet and
//! kept only while the packets read consistently under it ([`read_control`]):
//! at most 8 acks, a `P_ACK_V1` exactly as long as its acks, the peer session
//! named in the acks equal to the session the peer sends under (checked
//! later if the peer has not been seen yet), message ids and replay packet
//! ids moving by small steps per direction (a replay id never twice), replay
//! times plausible (after 2001-09-09) and within a day of each other, a
//! tls-crypt `P_ACK_V1` whose sealed part has the length of 1–8 acks, and
//! for tls-crypt-v2 (`P_CONTROL_HARD_RESET_CLIENT_V3`, `P_CONTROL_WKC_V1`) a
//! trailing wrapped-client-key length that fits the packet ([`wkc_len`]).
//! Session ids must look random (at most 2 zero bytes, at least 5 distinct
//! values), stay the same per direction and differ between the two. Key id
//! 0 and key ids 1–7 (renegotiations) are judged apart, because OpenVPN 2.6
//! wraps renegotiation control packets tls-crypt style whatever protected
//! the first handshake. Data packets (`P_DATA_V1`, `P_DATA_V2`) must keep
//! their key id (or move to the next one, or to one a control packet used)
//! and, for `P_DATA_V2`, one 24-bit peer id in both directions. A packet
//! identical to the previous one of its direction (a duplicated frame) is
//! passed over.
//!
//! Verdicts and their confidence ([`Confidence`]):
//! - High: a handshake. A client reset from one side and a server reset from
//!   the other (or soft resets with the same key id from both), under one
//!   layout, where the server's acks name the client's session (plain,
//!   tls-auth) or, under tls-crypt where the acks are encrypted, a third
//!   consistent control packet follows and both sides' times are within a
//!   day.
//! - Medium: control packets from both sides, two or more each, of two
//!   opcodes or more, under one layout, without the resets (a capture that
//!   starts mid-handshake), tied by an echoed session id (or close times
//!   under tls-crypt).
//! - Low: four or more consistent control packets of two opcodes or more,
//!   a hard reset among them, from one side while the other is silent (a
//!   one-way capture, or a client calling a dead server); a data channel
//!   seen mid-flow (`mode` "data-only": three or more data packets each way,
//!   `P_DATA_V2` with one peer id below 65536 (or `0xffffff`), one key id,
//!   and either the AEAD packet id in the clear rising each way, or CBC-shaped
//!   lengths and no fixed byte after the header); static-key mode (below).
//!
//! Static-key mode (`--secret`) has no opcode: every packet is HMAC, IV and
//! CBC ciphertext, with the packet id and time encrypted, so nothing in it
//! is plaintext. It is reported (Low, "static-key") only when the opcode
//! reading has failed and [`STATIC_PACKETS`] packets, three or more each
//! way, all have one length class, HMAC + 16-byte IV + 16·n with n ≥ 2
//! (length ≡ 0, 4 or 12 mod 16), at least two distinct lengths, no fixed
//! byte among their first 16 bytes and about the byte variety of random
//! data there, and the smallest of them, sent both ways, are exactly a
//! ping/OCC message long (16 or 17 bytes after packet id and time: two
//! blocks) for one of the HMAC sizes; no tunnelled IP packet is that short.
//! A block-cipher protocol with random-looking packets of such lengths would
//! look the same; that is the limit of what static-key traffic shows.
//!
//! Evidence: one [`Clue`] per kept control packet (opcode, key id, session,
//! HMAC size or tls-crypt, replay id and time, acks and the session they
//! name, message id, wrapped key length), worded under the layout the flow
//! settled on, and per data packet kept (peer id, AEAD packet id). "From the
//! client" means the direction the caller called `from_client`; the
//! `client_session` detail is the side that sent the client reset.
//!
//! What it refuses. A packet that breaks the pattern after the flow looked
//! like OpenVPN makes it [`Progress::NotThis`]: an unknown opcode, a reset
//! with a non-zero key id (or a soft reset with key id 0), a session id that
//! changes, client resets from both sides, no layout left that reads all
//! control packets, a data key id or peer id that jumps. Once two packets
//! or more read as OpenVPN, such a break also rules out static-key. Not
//! recognised: static-key traffic with an 8-byte block cipher (BF-CBC,
//! 3DES) or `--cipher none`, data-only flows of `P_DATA_V1` only, a TCP
//! stream picked up mid-packet, clocks before 2001 (replay times), and a
//! renegotiation seen without the first handshake tells the renegotiation's
//! wrapping as the mode. Over TCP a zero-length packet refuses the flow, and
//! a packet whose first byte and length fit no reading is refused before
//! the rest of it arrives. Ports are never looked at.
//!
//! Limits. [`MAX_PACKETS`] OpenVPN packets (datagrams, or framed packets over
//! TCP) are examined; a flow still undecided then is `NotThis`. Over TCP a
//! packet's first [`TCP_BUFFER_CAP`] bytes are kept (the rest is counted
//! and skipped), in one buffer per direction that grows to the largest
//! packet's kept bytes. Everything else is fixed size (about 2.5 KB per
//! tracker): per layout and direction a few counters, and the first
//! [`NOTABLE`] control packets' first 128 bytes, kept to word the evidence.
//! After a verdict (or a refusal) the tracker answers the same without
//! reading input, and its TCP buffers are freed.

use std::fmt;

use super::dissector::{Carrier, Confidence, Dissector, Input, Probe, Probing, Step};
use super::facts::{self, Evidence};
use super::vpn::side_of;
use super::vpn::{Progress, Value, VpnDetails, VpnProtocol, VpnVerdict};
use crate::bytes::{be16, be32};

mod dissector;
mod evidence;
mod packet;
mod state;
#[cfg(test)]
mod tests;
mod tracker;
pub mod xor;

pub use dissector::*;
pub use evidence::*;
pub use packet::*;
use state::*;
pub use tracker::*;
pub use xor::{OpenVpnXorTcp, OpenVpnXorUdp, XorClue};

/// OpenVPN packets examined before an undecided flow is refused.
pub const MAX_PACKETS: u16 = 32;
/// Bytes of one TCP-framed packet kept for reading (per direction).
pub const TCP_BUFFER_CAP: usize = 4096;
/// Control packets whose headers are kept to word the evidence.
pub const NOTABLE: usize = 6;
/// Packets a static-key verdict needs.
pub const STATIC_PACKETS: u16 = 12;

/// Most packet ids one control packet acknowledges.
const MAX_ACKS: usize = 8;
/// Replay times before this (2001-09-09) are not plausible.
const MIN_TIME: u32 = 1_000_000_000;
/// Spread allowed between replay times (one day).
const TIME_SPREAD: u32 = 86_400;
/// How far a packet id may fall behind the highest one seen (reordering,
/// retransmission).
const BACK: u32 = 32;
/// How far a packet id may jump ahead (lost packets).
const STEP: u32 = 256;
/// A hard reset's replay packet id is at most this (retransmissions), in
/// its low 16 bits: the high ones may carry a marker (OpenVPN 2.6 starts at
/// `0x0f000000` to announce early negotiation (HMAC cookies); a 2022
/// tls-crypt-v2 client in the nDPI corpus, `openvpn-tlscrypt.pcap`, starts
/// at `0x0a010001`).
const RESET_MAX_REPLAY: u32 = 64;
/// A reset's message id is at most this.
const RESET_MAX_MESSAGE: u32 = 16;
/// Message and acknowledged ids stay below this.
const MAX_MESSAGE: u32 = 1 << 20;
/// Control packets from one side, the other silent, for a one-way verdict.
const ONE_WAY_PACKETS: u16 = 4;
/// Data packets per direction for a data-only verdict.
const DATA_ONLY_PACKETS: u16 = 3;
/// Wrapped client key: 32-byte tag + 256-byte key + 2-byte length at least.
const MIN_WKC: u16 = 32 + 256 + 2;
const MAX_WKC: u16 = 1024;
/// Bytes of a kept control packet header: enough for the widest reliable
/// header (64-byte HMAC, 8 acks).
const NOTE_HEAD: usize = 128;
/// Smallest data packets: opcode, peer id (V2), a 4-byte id and a 16-byte tag.
const MIN_DATA_V1: usize = 1 + 4 + 16;
const MIN_DATA_V2: usize = 4 + 4 + 16;
/// Smallest control packet (a plain client reset).
const MIN_CONTROL: usize = 14;
/// Smallest static-key packet: 16-byte HMAC, 16-byte IV, two blocks.
const MIN_STATIC: usize = 64;
/// Distinct byte values among the first 16 bytes of [`STATIC_PACKETS`]
/// random packets: about 135 expected, this many required.
const STATIC_BYTE_VALUES: u32 = 100;

/// OpenVPN draws session ids at random: at most 2 zero bytes and at least 5
/// distinct values among 8 (random bytes fail this about once in a million;
/// counters, flags and length fields of look-alike protocols often do).
fn looks_random(s: &SessionId) -> bool {
    let zeros = s.0.iter().filter(|&&b| b == 0).count();
    let distinct =
        s.0.iter()
            .enumerate()
            .filter(|(i, b)| !s.0.get(..*i).is_some_and(|before| before.contains(b)))
            .count();
    zeros <= 2 && distinct >= 5
}

/// A digest of a packet's kept bytes and its length, to tell a duplicated
/// frame from a new packet: eight bytes a step (a UDP tracker digests
/// whole datagrams; byte by byte it cost more than the rest of the
/// tracker), multiply-rotate mixing, a final avalanche.
fn digest(head: &[u8], len: usize) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let step = |h: u64, w: u64| (h ^ w).wrapping_mul(K).rotate_left(29);
    let mut words = head.chunks_exact(8);
    let mut h = step(0xcbf2_9ce4_8422_2325, len as u64);
    for w in &mut words {
        h = step(h, u64::from_le_bytes(w.try_into().unwrap_or([0; 8])));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        h = step(h, u64::from_le_bytes(last) ^ (rest.len() as u64) << 59);
    }
    h ^= h >> 32;
    h = h.wrapping_mul(K);
    h ^ h >> 29
}

/// Resets have fixed key ids: 0 for hard resets, not 0 for soft resets.
fn key_fits(op: Opcode, key: KeyId) -> bool {
    if op.is_hard_reset() {
        key.0 == 0
    } else if op == Opcode::SOFT_RESET_V1 {
        key.0 != 0
    } else {
        true
    }
}

fn role(side: usize) -> &'static str {
    if side == CLIENT {
        "client"
    } else {
        "server"
    }
}
