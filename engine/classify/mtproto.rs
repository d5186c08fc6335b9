//! Telegram's MTProto over TCP (core.telegram.org, "MTProto transports"
//! and "Transport obfuscation"): the transport framings and the
//! obfuscated2 opening.
//!
//! - **Plain transports**: the client's first bytes name the framing —
//!   `ef` abridged (a length in 4-byte words, 1 byte or `7f` + 3), `ee ee
//!   ee ee` intermediate (a 4-byte little-endian length), `dd dd dd dd`
//!   padded intermediate (the same, with 0–15 random bytes after the
//!   message). A verdict needs the client's first packet framed exactly
//!   (its frames end where the bytes end, or the last runs on) *and* either
//!   an unencrypted message inside it (auth_key_id 0 and a message_length
//!   that fills the frame: high) or the server's first bytes framed the
//!   same way (medium). A one-byte tag alone decides nothing.
//! - **obfuscated2**: the client's random 64-byte opening carries its own
//!   AES-256-CTR key (bytes 8..40) and IV (40..56); decrypting bytes
//!   56..64 must give a transport tag (`ef ef ef ef`, `ee ee ee ee` or `dd
//!   dd dd dd`) — a 2^-32 chance for random bytes — then a DC number. The
//!   framed packet after it is decrypted and checked too: high when its
//!   length fits, medium on the opening alone. The key is in the packet,
//!   so the verdict is definite; an opening keyed with an MTProxy secret
//!   does not decrypt and is left to the fully-encrypted finding (suspect
//!   `mtproxy`).
//!
//! Only the client's opening and the server's first bytes are read; the
//! obfuscated2 check costs one AES key schedule and two blocks per TCP
//! flow whose first bytes obfuscated2 allows.

use std::fmt;

use aes::cipher::{generic_array::GenericArray, BlockEncrypt, KeyInit};
use aes::Aes256;

use super::dissector::{
    Carrier, Confidence, Dissector, Findings, Input, Probe, Probing, Step, Verdict,
};
use super::facts::{self, Evidence};
use super::fully_encrypted::suspects::obfuscated2_allowed;
use super::AppProto;
use crate::bytes::{array, le32};
use crate::flow::TO_SERVER;

/// A transport framing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Abridged,
    Intermediate,
    Padded,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Abridged => "abridged",
            Transport::Intermediate => "intermediate",
            Transport::Padded => "padded intermediate",
        }
    }

    /// The 4-byte tag obfuscated2 carries for it.
    fn from_tag(tag: [u8; 4]) -> Option<Self> {
        match tag {
            [0xef, 0xef, 0xef, 0xef] => Some(Transport::Abridged),
            [0xee, 0xee, 0xee, 0xee] => Some(Transport::Intermediate),
            [0xdd, 0xdd, 0xdd, 0xdd] => Some(Transport::Padded),
            _ => None,
        }
    }
}

/// What a packet showed (EVE `sift.evidence[].what`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clue {
    /// obfuscated2: the tag decrypted with the key and IV of the opening.
    /// The DC number follows the tag when it is one (some clients leave
    /// random bytes there).
    Obfuscated2 {
        transport: Transport,
        dc: Option<i16>,
        framed: bool,
    },
    /// A plain transport's first client packet, framed exactly; with an
    /// unencrypted message of `message` bytes inside, if one.
    ClientFrames {
        transport: Transport,
        frames: u32,
        message: Option<u32>,
    },
    /// The server's first bytes framed the same way.
    ServerFrames { transport: Transport, frames: u32 },
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clue::Obfuscated2 {
                transport,
                dc,
                framed,
            } => {
                write!(
                    f,
                    "MTProto obfuscated2 opening: bytes 56..64 decrypt, with the AES-256-CTR key and IV the opening carries, to the {} transport tag",
                    transport.as_str()
                )?;
                if let Some(dc) = dc {
                    write!(f, " and DC {dc}")?;
                }
                if *framed {
                    f.write_str("; the first framed packet after it has a fitting length")?;
                }
                Ok(())
            }
            Clue::ClientFrames {
                transport,
                frames,
                message,
            } => {
                write!(
                    f,
                    "MTProto {} transport: client's first packet is {frames} exact frame(s)",
                    transport.as_str()
                )?;
                match message {
                    Some(n) => write!(
                        f,
                        ", an unencrypted message (auth_key_id 0, message_length {n})"
                    ),
                    None => Ok(()),
                }
            }
            Clue::ServerFrames { transport, frames } => write!(
                f,
                "MTProto {} transport: server's first bytes are {frames} frame(s) of it",
                transport.as_str()
            ),
        }
    }
}

/// The largest frame believed (MTProto messages are far smaller).
const MAX_FRAME: usize = 1 << 20;

/// One frame's header: (header length, declared length) at the start of
/// `b`, or None if `b` is too short to hold the header.
fn frame_header(t: Transport, b: &[u8]) -> Option<(usize, usize)> {
    match t {
        Transport::Abridged => match *b.first()? {
            0x7f => {
                let [x, y, z] = array::<3>(b, 1)?;
                Some((4, usize::from_le_bytes([x, y, z, 0, 0, 0, 0, 0]) * 4))
            }
            // The high bit asks for a quick ack (client) ; the length is below it.
            l => Some((1, usize::from(l & 0x7f) * 4)),
        },
        Transport::Intermediate | Transport::Padded => {
            let v = le32(b, 0)?;
            // The top bit asks for a quick ack.
            Some((4, (v & 0x7fff_ffff) as usize))
        }
    }
}

/// How `b` splits into frames, if the frames are possible: the count, the
/// first frame's body, and whether the last ends exactly where `b` does
/// (rather than running past it).
fn frames(t: Transport, b: &[u8]) -> Option<(u32, &[u8], bool)> {
    let mut at = 0;
    let mut count = 0u32;
    let mut first: &[u8] = &[];
    while at < b.len() {
        let (h, len) = frame_header(t, &b[at..])?;
        let min = if t == Transport::Padded { 0 } else { 8 };
        if len < min || len > MAX_FRAME || t != Transport::Padded && len % 4 != 0 {
            return None;
        }
        let body = b.get(at + h..).unwrap_or(&[]);
        if count == 0 {
            first = &body[..len.min(body.len())];
        }
        count += 1;
        at += h + len;
        if count > 64 {
            return None;
        }
    }
    (count > 0).then_some((count, first, at == b.len()))
}

/// An unencrypted message filling `body` (padding allowed with `padded`):
/// its message_length.
fn unencrypted_message(body: &[u8], padded: bool) -> Option<u32> {
    if body.get(..8)? != [0u8; 8] {
        return None;
    }
    let n = le32(body, 16)?;
    let room = body.len().checked_sub(20)?;
    let fits = if padded {
        (n as usize) <= room && room - n as usize <= 15
    } else {
        n as usize == room
    };
    (n > 0 && fits).then_some(n)
}

/// An AES-256-CTR keystream (128-bit big-endian counter from the IV).
struct Ctr {
    cipher: Aes256,
    iv: u128,
}

impl Ctr {
    fn new(key: &[u8; 32], iv: &[u8; 16]) -> Self {
        Ctr {
            cipher: Aes256::new(GenericArray::from_slice(key)),
            iv: u128::from_be_bytes(*iv),
        }
    }

    /// XORs `buf`, which sits at stream offset `at`.
    fn apply(&self, at: usize, buf: &mut [u8]) {
        let mut block_no = u128::MAX;
        let mut ks = GenericArray::from([0u8; 16]);
        for (i, b) in buf.iter_mut().enumerate() {
            let pos = at + i;
            let n = (pos / 16) as u128;
            if n != block_no {
                block_no = n;
                ks = GenericArray::from(self.iv.wrapping_add(n).to_be_bytes());
                self.cipher.encrypt_block(&mut ks);
            }
            *b ^= ks[pos % 16];
        }
    }
}

/// The obfuscated2 opening of `b`, if it decrypts: the transport, the DC
/// and whether the framed packet after it fits.
fn obfuscated2(b: &[u8]) -> Option<(Transport, Option<i16>, bool)> {
    let head: [u8; 8] = array(b, 0)?;
    if !obfuscated2_allowed(&head) {
        return None;
    }
    let key: [u8; 32] = array(b, 8)?;
    let iv: [u8; 16] = array(b, 40)?;
    let ctr = Ctr::new(&key, &iv);
    let mut tail: [u8; 8] = array(b, 56)?;
    ctr.apply(56, &mut tail);
    let transport = Transport::from_tag([tail[0], tail[1], tail[2], tail[3]])?;
    let dc = Some(i16::from_le_bytes([tail[4], tail[5]]))
        .filter(|d| (1..=1000).contains(&d.unsigned_abs()));
    // The first frame header after the opening (at most 4 bytes).
    let mut next = [0u8; 4];
    let rest = b.get(64..).unwrap_or(&[]);
    let n = rest.len().min(4);
    next[..n].copy_from_slice(&rest[..n]);
    ctr.apply(64, &mut next[..n]);
    let framed = frame_header(transport, &next[..n]).is_some_and(|(_, len)| {
        len > 0 && len <= MAX_FRAME && (transport == Transport::Padded || len % 4 == 0)
    });
    Some((transport, dc, framed))
}

/// The plain transport the client's first bytes name, and its tag length.
fn plain_tag(b: &[u8]) -> Option<(Transport, usize)> {
    match b {
        [0xef, ..] => Some((Transport::Abridged, 1)),
        [0xee, 0xee, 0xee, 0xee, ..] => Some((Transport::Intermediate, 4)),
        [0xdd, 0xdd, 0xdd, 0xdd, ..] => Some((Transport::Padded, 4)),
        _ => None,
    }
}

/// MTProto over TCP; see the module documentation.
#[derive(Debug, Default)]
pub struct Mtproto {
    /// A plain transport waiting for the server's first bytes: its
    /// opening, and whether its frames ended exactly.
    plain: Option<(Transport, u64, Clue, bool)>,
}

/// Does `clue` show an unencrypted message?
fn has_message(clue: &Clue) -> bool {
    matches!(
        clue,
        Clue::ClientFrames {
            message: Some(_),
            ..
        }
    )
}

impl Dissector for Mtproto {
    const CARRIER: Carrier = Carrier::Stream;
    const PROBING: Probing = Probing::FlowOpening;

    fn probe(bytes: &[u8], side: usize) -> Probe {
        if side != TO_SERVER {
            return Probe::No;
        }
        if plain_tag(bytes).is_some() {
            Probe::Maybe
        } else if obfuscated2(bytes).is_some() {
            Probe::Yes
        } else {
            Probe::No
        }
    }

    fn start() -> Self {
        Self::default()
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        let b = input.bytes;
        if input.from_client() {
            if !input.first {
                // The client spoke again before the server: judged on its
                // opening alone.
                return match self.plain.take() {
                    Some((_, packet, clue, _)) if has_message(&clue) => {
                        verdict(Confidence::Medium, vec![ev(packet, clue)])
                    }
                    _ => Step::Refuse,
                };
            }
            if let Some((transport, dc, framed)) = obfuscated2(b) {
                let confidence = if framed {
                    Confidence::High
                } else {
                    Confidence::Medium
                };
                return verdict(
                    confidence,
                    vec![ev(
                        input.packet,
                        Clue::Obfuscated2 {
                            transport,
                            dc,
                            framed,
                        },
                    )],
                );
            }
            let Some((t, tag)) = plain_tag(b) else {
                return Step::Refuse;
            };
            let Some((count, first, exact)) = frames(t, b.get(tag..).unwrap_or(&[])) else {
                return Step::Refuse;
            };
            let message = unencrypted_message(first, t == Transport::Padded);
            if message.is_none() && !exact {
                // Framing that runs past the bytes is what random ones show.
                return Step::Refuse;
            }
            let clue = Clue::ClientFrames {
                transport: t,
                frames: count,
                message,
            };
            self.plain = Some((t, input.packet, clue, exact));
            Step::NeedMore
        } else {
            let Some((t, packet, clue, client_exact)) = self.plain.take() else {
                return Step::Refuse;
            };
            let Some((count, first, exact)) = frames(t, b) else {
                return Step::Refuse;
            };
            let server_message = unencrypted_message(first, t == Transport::Padded).is_some();
            let message = has_message(&clue) || server_message;
            if !(message || exact && client_exact) {
                return Step::Refuse;
            }
            let confidence = if message {
                Confidence::High
            } else {
                Confidence::Medium
            };
            verdict(
                confidence,
                vec![
                    ev(packet, clue),
                    ev(
                        input.packet,
                        Clue::ServerFrames {
                            transport: t,
                            frames: count,
                        },
                    ),
                ],
            )
        }
    }

    fn settle(&self) -> Option<Verdict> {
        // A plain opening with an unencrypted message, and no reply.
        let (_, packet, clue, _) = self.plain?;
        has_message(&clue).then(|| Verdict {
            proto: AppProto::Mtproto,
            confidence: Confidence::Medium,
            found: Findings {
                evidence: vec![ev(packet, clue)],
                ..Findings::default()
            },
            more: false,
        })
    }
}

fn ev(packet: u64, clue: Clue) -> Evidence {
    Evidence {
        packet,
        what: facts::Clue::Mtproto(clue),
    }
}

fn verdict(confidence: Confidence, evidence: Vec<Evidence>) -> Step {
    Step::Verdict(Verdict {
        proto: AppProto::Mtproto,
        confidence,
        found: Findings {
            evidence,
            ..Findings::default()
        },
        more: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::TO_CLIENT;

    fn input(bytes: &[u8], side: usize, first: bool) -> Input<'_> {
        Input {
            ports: [0, 0],
            fingerprints: true,
            bytes,
            side,
            packet: 7,
            first,
            client_from: Some(7),
            ts: 0,
            links: &[],
        }
    }

    fn noise(seed: u64, n: usize) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    /// An obfuscated2 opening built per the spec, with a framed
    /// intermediate packet of 40 bytes after it.
    fn opening(tag: [u8; 4]) -> Vec<u8> {
        let mut init = noise(42, 64);
        init[0] = 0x11;
        init[4] = 0x22;
        init[56..60].copy_from_slice(&tag);
        init[60..62].copy_from_slice(&2i16.to_le_bytes());
        let mut packet = 40u32.to_le_bytes().to_vec();
        packet.extend([0u8; 8]);
        packet.extend(noise(43, 32));
        let key: [u8; 32] = init[8..40].try_into().unwrap();
        let iv: [u8; 16] = init[40..56].try_into().unwrap();
        let ctr = Ctr::new(&key, &iv);
        let mut enc = init.clone();
        ctr.apply(0, &mut enc);
        let mut out = init[..56].to_vec();
        out.extend(&enc[56..64]);
        ctr.apply(64, &mut packet);
        out.extend(packet);
        out
    }

    #[test]
    fn obfuscated2_decrypts_its_own_tag() {
        let b = opening([0xee; 4]);
        assert_eq!(Mtproto::probe(&b, TO_SERVER), Probe::Yes);
        let mut d = Mtproto::start();
        let Step::Verdict(v) = d.feed(&input(&b, TO_SERVER, true)) else {
            panic!()
        };
        assert_eq!(
            (v.proto, v.confidence),
            (AppProto::Mtproto, Confidence::High)
        );
        assert!(v.found.evidence[0]
            .what
            .to_string()
            .contains("intermediate transport tag and DC 2"));
        // Keyed with a proxy secret, the same opening does not decrypt.
        let mut secret = b.clone();
        secret[8] ^= 1;
        assert_eq!(Mtproto::probe(&secret, TO_SERVER), Probe::No);
    }

    #[test]
    fn random_openings_do_not_decrypt() {
        let hits = (1..2000u64)
            .filter(|&s| Mtproto::probe(&noise(s * 2, 120), TO_SERVER) != Probe::No)
            .count();
        // Only the plain tags' first bytes (ef, or a 4-byte word) start it.
        assert!(hits < 30, "{hits}");
    }

    #[test]
    fn plain_abridged_with_an_unencrypted_message() {
        // captures/obfs/mtproto-abridged.pcap: ef 0a + 40-byte req_pq_multi.
        let mut c = vec![0xef, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0];
        c.extend(noise(5, 8));
        c.extend(20u32.to_le_bytes());
        c.extend(noise(6, 20));
        let mut d = Mtproto::start();
        assert_eq!(d.feed(&input(&c, TO_SERVER, true)), Step::NeedMore);
        let mut s = vec![0x15];
        s.extend([0u8; 8]);
        s.extend(noise(7, 8));
        s.extend(64u32.to_le_bytes());
        s.extend(noise(8, 64));
        let Step::Verdict(v) = d.feed(&input(&s, TO_CLIENT, true)) else {
            panic!()
        };
        assert_eq!(v.confidence, Confidence::High);
        // A tag with impossible framing refuses.
        let mut bad = vec![0xef, 0x03];
        bad.extend(noise(9, 50));
        assert_eq!(
            Mtproto::start().feed(&input(&bad, TO_SERVER, true)),
            Step::Refuse
        );
    }

    #[test]
    fn any_bytes_no_panic() {
        for n in 0..200usize {
            let mut tagged = vec![0xef];
            tagged.extend(noise(n as u64 * 2 + 1, n));
            for b in [
                noise(n as u64 * 2 + 3, n),
                tagged,
                vec![0xdd; n],
                vec![0xee; n],
            ] {
                let _ = Mtproto::probe(&b, TO_SERVER);
                let mut d = Mtproto::start();
                let _ = d.feed(&input(&b, TO_SERVER, true));
                let _ = d.settle();
                let _ = d.feed(&input(&b, TO_CLIENT, true));
                let _ = d.feed(&input(&b, TO_SERVER, false));
            }
        }
    }
}
