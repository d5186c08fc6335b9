//! IKE messages (RFC 2408/2409 v1, RFC 7296 v2): the header, the payload
//! chain walked to its end, and the rules each exchange's messages follow.

use super::*;

/// IKE major version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IkeVersion {
    V1,
    V2,
}

impl IkeVersion {
    pub fn major(self) -> u8 {
        match self {
            IkeVersion::V1 => 1,
            IkeVersion::V2 => 2,
        }
    }
}

/// An exchange type, kept as a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExchangeType(pub u8);

impl ExchangeType {
    pub const V1_BASE: Self = Self(1);
    pub const V1_MAIN_MODE: Self = Self(2);
    pub const V1_AUTH_ONLY: Self = Self(3);
    pub const V1_AGGRESSIVE: Self = Self(4);
    pub const V1_INFORMATIONAL: Self = Self(5);
    pub const V1_TRANSACTION: Self = Self(6);
    pub const V1_QUICK_MODE: Self = Self(32);
    pub const V1_NEW_GROUP: Self = Self(33);
    pub const IKE_SA_INIT: Self = Self(34);
    pub const IKE_AUTH: Self = Self(35);
    pub const CREATE_CHILD_SA: Self = Self(36);
    pub const INFORMATIONAL: Self = Self(37);
    pub const IKE_SESSION_RESUME: Self = Self(38);
    pub const IKE_INTERMEDIATE: Self = Self(43);
    pub const IKE_FOLLOWUP_KE: Self = Self(44);

    /// The exchange's name, `None` when `version` has no such exchange.
    pub fn name(self, version: IkeVersion) -> Option<&'static str> {
        Some(match (version, self.0) {
            (IkeVersion::V1, 1) => "BASE",
            (IkeVersion::V1, 2) => "MAIN_MODE",
            (IkeVersion::V1, 3) => "AUTH_ONLY",
            (IkeVersion::V1, 4) => "AGGRESSIVE",
            (IkeVersion::V1, 5) => "INFORMATIONAL",
            (IkeVersion::V1, 6) => "TRANSACTION",
            (IkeVersion::V1, 32) => "QUICK_MODE",
            (IkeVersion::V1, 33) => "NEW_GROUP",
            (IkeVersion::V2, 34) => "IKE_SA_INIT",
            (IkeVersion::V2, 35) => "IKE_AUTH",
            (IkeVersion::V2, 36) => "CREATE_CHILD_SA",
            (IkeVersion::V2, 37) => "INFORMATIONAL",
            (IkeVersion::V2, 38) => "IKE_SESSION_RESUME",
            (IkeVersion::V2, 39) => "GSA_AUTH",
            (IkeVersion::V2, 40) => "GSA_REGISTRATION",
            (IkeVersion::V2, 41) => "GSA_REKEY",
            (IkeVersion::V2, 42) => "EXCHANGE_42",
            (IkeVersion::V2, 43) => "IKE_INTERMEDIATE",
            (IkeVersion::V2, 44) => "IKE_FOLLOWUP_KE",
            _ => return None,
        })
    }

    /// IKEv1 phase-1 exchanges, whose message id is zero.
    pub(super) fn is_v1_phase1(self) -> bool {
        matches!(self.0, 1..=4)
    }
}

/// A payload type, kept as a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PayloadType(pub u8);

impl PayloadType {
    pub const NONE: Self = Self(0);
    pub const V1_SA: Self = Self(1);
    pub const V1_NOTIFY: Self = Self(11);
    pub const SA: Self = Self(33);
    pub const KE: Self = Self(34);
    pub const NONCE: Self = Self(40);
    pub const NOTIFY: Self = Self(41);
    pub const ENCRYPTED: Self = Self(46);
    pub const ENCRYPTED_FRAGMENT: Self = Self(53);

    /// A payload type `version` defines (RFC 2408 §3.1 with GDOI's 15-19
    /// and NAT-T's 20-21; RFC 7296 §3.2 with later IANA additions up to
    /// 54), or private use (128-255).
    pub fn is_valid(self, version: IkeVersion) -> bool {
        match version {
            IkeVersion::V1 => matches!(self.0, 1..=21 | 128..=255),
            IkeVersion::V2 => matches!(self.0, 33..=54 | 128..=255),
        }
    }

    pub(super) fn label(self, version: IkeVersion) -> Option<&'static str> {
        Some(match (version, self.0) {
            (IkeVersion::V1, 1) => "SA",
            (IkeVersion::V1, 4) => "KE",
            (IkeVersion::V1, 5) => "ID",
            (IkeVersion::V1, 6) => "CERT",
            (IkeVersion::V1, 7) => "CR",
            (IkeVersion::V1, 8) => "HASH",
            (IkeVersion::V1, 9) => "SIG",
            (IkeVersion::V1, 10) => "NONCE",
            (IkeVersion::V1, 11) => "N",
            (IkeVersion::V1, 12) => "D",
            (IkeVersion::V1, 13) => "VID",
            (IkeVersion::V1, 20) => "NAT-D",
            (IkeVersion::V1, 21) => "NAT-OA",
            (IkeVersion::V2, 33) => "SA",
            (IkeVersion::V2, 34) => "KE",
            (IkeVersion::V2, 35) => "IDi",
            (IkeVersion::V2, 36) => "IDr",
            (IkeVersion::V2, 37) => "CERT",
            (IkeVersion::V2, 38) => "CERTREQ",
            (IkeVersion::V2, 39) => "AUTH",
            (IkeVersion::V2, 40) => "Nonce",
            (IkeVersion::V2, 41) => "N",
            (IkeVersion::V2, 42) => "D",
            (IkeVersion::V2, 43) => "V",
            (IkeVersion::V2, 44) => "TSi",
            (IkeVersion::V2, 45) => "TSr",
            (IkeVersion::V2, 46) => "SK",
            (IkeVersion::V2, 47) => "CP",
            (IkeVersion::V2, 48) => "EAP",
            (IkeVersion::V2, 53) => "SKF",
            _ => return None,
        })
    }
}

/// IKE header flag bits.
pub mod flags {
    /// IKEv1: the payloads after the header are encrypted.
    pub const V1_ENCRYPTION: u8 = 0x01;
    pub const V1_COMMIT: u8 = 0x02;
    pub const V1_AUTH_ONLY: u8 = 0x04;
    /// IKEv2: sent by the original initiator of the IKE SA.
    pub const INITIATOR: u8 = 0x08;
    /// IKEv2: the sender can speak a higher major version.
    pub const VERSION: u8 = 0x10;
    /// IKEv2: this message is a response.
    pub const RESPONSE: u8 = 0x20;
}

/// A parsed IKE header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IkeHeader {
    pub initiator_spi: u64,
    pub responder_spi: u64,
    pub next_payload: PayloadType,
    pub version: IkeVersion,
    pub exchange: ExchangeType,
    pub flags: u8,
    pub message_id: u32,
    pub length: u32,
}

impl IkeHeader {
    /// Reads and checks the fixed header: initiator SPI, version, exchange
    /// type, flags and first payload type. The length field is checked by
    /// the caller, who knows the message size.
    pub fn parse(b: &[u8]) -> Result<IkeHeader, Refusal> {
        let too_short = Refusal::TooShort { len: b.len() };
        if b.len() < IKE_HEADER_LEN {
            return Err(too_short);
        }
        let byte = |at: usize| b.get(at).copied().ok_or(too_short);
        let initiator_spi = be64(b, field::INITIATOR_SPI).ok_or(too_short)?;
        if initiator_spi == 0 {
            return Err(Refusal::InitiatorSpiZero);
        }
        let version = match byte(field::VERSION)? {
            0x10 => IkeVersion::V1,
            0x20 => IkeVersion::V2,
            other => return Err(Refusal::Version(other)),
        };
        let major = version.major();
        let exchange = ExchangeType(byte(field::EXCHANGE)?);
        if exchange.name(version).is_none() {
            return Err(Refusal::Exchange {
                major,
                exchange: exchange.0,
            });
        }
        let flag_bits = byte(field::FLAGS)?;
        let allowed = match version {
            IkeVersion::V1 => flags::V1_ENCRYPTION | flags::V1_COMMIT | flags::V1_AUTH_ONLY,
            IkeVersion::V2 => flags::INITIATOR | flags::VERSION | flags::RESPONSE,
        };
        if flag_bits & !allowed != 0 {
            return Err(Refusal::Flags {
                major,
                flags: flag_bits,
            });
        }
        let next_payload = PayloadType(byte(field::NEXT_PAYLOAD)?);
        if !next_payload.is_valid(version) {
            return Err(Refusal::NextPayload {
                major,
                at: field::NEXT_PAYLOAD,
                value: next_payload.0,
            });
        }
        Ok(IkeHeader {
            initiator_spi,
            responder_spi: be64(b, field::RESPONDER_SPI).ok_or(too_short)?,
            next_payload,
            version,
            exchange,
            flags: flag_bits,
            message_id: be32(b, field::MESSAGE_ID).ok_or(too_short)?,
            length: be32(b, field::LENGTH).ok_or(too_short)?,
        })
    }

    /// IKEv2 R flag.
    pub fn is_response(&self) -> bool {
        self.version == IkeVersion::V2 && self.flags & flags::RESPONSE != 0
    }

    /// IKEv2 I flag.
    pub fn from_original_initiator(&self) -> bool {
        self.flags & flags::INITIATOR != 0
    }

    pub(super) fn v1_encrypted(&self) -> bool {
        self.version == IkeVersion::V1 && self.flags & flags::V1_ENCRYPTION != 0
    }

    pub(super) fn exchange_name(&self) -> &'static str {
        self.exchange.name(self.version).unwrap_or("exchange")
    }
}

/// The payload types of a message's top-level chain, in order (the first
/// [`PayloadList::CAP`] of them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PayloadList {
    pub(super) types: [u8; PayloadList::CAP],
    pub(super) count: u8,
}

impl PayloadList {
    pub const CAP: usize = 12;

    pub(super) fn push(&mut self, t: PayloadType) {
        if let Some(slot) = self.types.get_mut(usize::from(self.count)) {
            *slot = t.0;
        }
        self.count = self.count.saturating_add(1);
    }

    /// The types recorded (at most [`Self::CAP`]).
    pub fn types(&self) -> impl Iterator<Item = PayloadType> + '_ {
        self.types
            .iter()
            .take(usize::from(self.count))
            .map(|&t| PayloadType(t))
    }

    /// Payloads in the chain (all of them, also past the cap).
    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn contains(&self, t: PayloadType) -> bool {
        self.types().any(|x| x == t)
    }

    pub(super) fn only(&self, t: PayloadType) -> bool {
        !self.is_empty() && usize::from(self.count) <= Self::CAP && self.types().all(|x| x == t)
    }

    pub(super) fn describe(&self, version: IkeVersion) -> String {
        let mut s = String::new();
        for (i, t) in self.types().enumerate() {
            if i > 0 {
                s.push(',');
            }
            match t.label(version) {
                Some(l) => s.push_str(l),
                None => s.push_str(&t.0.to_string()),
            }
        }
        if usize::from(self.count) > Self::CAP {
            s.push_str(",...");
        }
        s
    }
}

/// A validated IKE message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IkeMessage {
    pub header: IkeHeader,
    pub payloads: PayloadList,
    /// The payloads are encrypted (IKEv1 E flag, or IKEv2 SK/SKF last).
    pub encrypted: bool,
}

/// Walks a message of known size as its bytes arrive (one datagram at once,
/// or a TCP frame in pieces), keeping only the header and the payload
/// header being read.
#[derive(Clone, Copy, Debug)]
pub(super) struct MessageWalk {
    pub(super) len: usize,
    pub(super) pos: usize,
    pub(super) header_buf: [u8; IKE_HEADER_LEN],
    pub(super) header: Option<IkeHeader>,
    /// Offset and type of the next payload header.
    pub(super) next_at: usize,
    pub(super) next_type: PayloadType,
    /// An encrypted part runs to the end: nothing more to walk.
    pub(super) terminal: bool,
    pub(super) generic: [u8; 4],
    pub(super) generic_have: usize,
    pub(super) payloads: PayloadList,
}

impl MessageWalk {
    pub(super) fn new(len: usize) -> Result<Self, Refusal> {
        if len < IKE_HEADER_LEN {
            return Err(Refusal::TooShort { len });
        }
        Ok(MessageWalk {
            len,
            pos: 0,
            header_buf: [0; IKE_HEADER_LEN],
            header: None,
            next_at: IKE_HEADER_LEN,
            next_type: PayloadType::NONE,
            terminal: false,
            generic: [0; 4],
            generic_have: 0,
            payloads: PayloadList::default(),
        })
    }

    /// Feeds the next bytes of the message (never more than it has left).
    pub(super) fn feed(&mut self, mut bytes: &[u8]) -> Result<(), Refusal> {
        if bytes.len() > self.len - self.pos {
            return Err(Refusal::TrailingBytes {
                at: self.len,
                len: bytes.len() - (self.len - self.pos),
            });
        }
        while !bytes.is_empty() {
            if self.pos < IKE_HEADER_LEN {
                let take = (IKE_HEADER_LEN - self.pos).min(bytes.len());
                let (now, rest) = bytes.split_at(take);
                if let Some(dst) = self.header_buf.get_mut(self.pos..self.pos + take) {
                    dst.copy_from_slice(now);
                }
                self.pos += take;
                bytes = rest;
                if self.pos == IKE_HEADER_LEN {
                    self.start()?;
                }
                continue;
            }
            let header = self.header.ok_or(Refusal::TooShort { len: self.pos })?;
            if self.terminal || self.pos < self.next_at {
                let until = if self.terminal {
                    self.len
                } else {
                    self.next_at
                };
                let skip = (until - self.pos).min(bytes.len());
                self.pos += skip;
                bytes = bytes.get(skip..).unwrap_or_default();
                continue;
            }
            if self.next_type == PayloadType::NONE {
                return Err(Refusal::TrailingBytes {
                    at: self.pos,
                    len: self.len - self.pos,
                });
            }
            let take = (4 - self.generic_have).min(bytes.len());
            let (now, rest) = bytes.split_at(take);
            if let Some(dst) = self
                .generic
                .get_mut(self.generic_have..self.generic_have + take)
            {
                dst.copy_from_slice(now);
            }
            self.generic_have += take;
            self.pos += take;
            bytes = rest;
            if self.generic_have == 4 {
                self.generic_have = 0;
                self.payload_header(header)?;
            }
        }
        Ok(())
    }

    pub(super) fn start(&mut self) -> Result<(), Refusal> {
        let h = IkeHeader::parse(&self.header_buf)?;
        if h.length as usize != self.len {
            return Err(Refusal::LengthField {
                field: h.length,
                actual: self.len,
            });
        }
        self.next_type = h.next_payload;
        if h.v1_encrypted() {
            let body = self.len - IKE_HEADER_LEN;
            if body == 0 || body % 8 != 0 {
                return Err(Refusal::EncryptedBody { len: body });
            }
            self.payloads.push(h.next_payload);
            self.terminal = true;
        }
        self.header = Some(h);
        Ok(())
    }

    /// Checks the generic payload header just read at `next_at`.
    pub(super) fn payload_header(&mut self, h: IkeHeader) -> Result<(), Refusal> {
        let at = self.next_at;
        let [next, reserved, l0, l1] = self.generic;
        let plen = u16::from_be_bytes([l0, l1]);
        // IKEv2 keeps the top bit for "critical"; the rest is reserved.
        let reserved_bits = match h.version {
            IkeVersion::V1 => reserved,
            IkeVersion::V2 => reserved & 0x7f,
        };
        if reserved_bits != 0 {
            return Err(Refusal::PayloadReserved {
                at: at + 1,
                value: reserved,
            });
        }
        let end = at + usize::from(plen);
        if plen < 4 || end > self.len {
            return Err(Refusal::PayloadLength {
                at,
                len: plen,
                end: self.len,
            });
        }
        let next = PayloadType(next);
        if next != PayloadType::NONE && !next.is_valid(h.version) {
            return Err(Refusal::NextPayload {
                major: h.version.major(),
                at,
                value: next.0,
            });
        }
        let this = self.next_type;
        self.payloads.push(this);
        let encrypted = h.version == IkeVersion::V2
            && (this == PayloadType::ENCRYPTED || this == PayloadType::ENCRYPTED_FRAGMENT);
        if encrypted {
            // Its next-payload field names the first inner payload.
            if end != self.len {
                return Err(Refusal::EncryptedNotLast { at });
            }
            self.terminal = true;
            self.next_type = PayloadType::NONE;
        } else {
            self.next_type = next;
        }
        self.next_at = end;
        Ok(())
    }

    /// Ends the message: the chain must have ended exactly at its last byte
    /// and the exchange's rules hold.
    pub(super) fn finish(self) -> Result<IkeMessage, Refusal> {
        let header = match self.header {
            Some(h) if self.pos == self.len => h,
            _ => return Err(Refusal::TooShort { len: self.pos }),
        };
        if !self.terminal && (self.next_type != PayloadType::NONE || self.next_at != self.len) {
            return Err(Refusal::ChainShort {
                at: self.next_at,
                next: self.next_type.0,
            });
        }
        let msg = IkeMessage {
            header,
            payloads: self.payloads,
            encrypted: self.terminal,
        };
        exchange_rules(&msg)?;
        Ok(msg)
    }
}

/// Checks a whole IKE message (header, length, payload chain, exchange
/// rules). `b` is the message itself, without marker or framing.
pub fn parse_message(b: &[u8]) -> Result<IkeMessage, Refusal> {
    let mut walk = MessageWalk::new(b.len())?;
    walk.feed(b)?;
    walk.finish()
}

/// What each exchange requires of its messages.
pub(super) fn exchange_rules(m: &IkeMessage) -> Result<(), Refusal> {
    let h = &m.header;
    let exchange = h.exchange_name();
    let p = &m.payloads;
    match h.version {
        IkeVersion::V2 => {
            if h.exchange == ExchangeType::IKE_SA_INIT {
                if h.message_id != 0 {
                    return Err(Refusal::MessageId {
                        exchange,
                        id: h.message_id,
                    });
                }
                if m.encrypted {
                    return Err(Refusal::MissingPayload {
                        exchange,
                        missing: "cleartext",
                    });
                }
                let request = !h.is_response();
                if request != h.from_original_initiator() {
                    return Err(Refusal::Role {
                        exchange,
                        flags: h.flags,
                    });
                }
                let notify_only = p.only(PayloadType::NOTIFY);
                if request {
                    if h.responder_spi != 0 {
                        return Err(Refusal::ResponderSpiSet { exchange });
                    }
                } else if h.responder_spi == 0 && !notify_only {
                    // Only a stateless answer (COOKIE, INVALID_KE_PAYLOAD,
                    // errors) leaves the responder SPI zero.
                    return Err(Refusal::ResponderSpiZero { exchange });
                }
                if !notify_only || request {
                    for (t, name) in [
                        (PayloadType::SA, "SA"),
                        (PayloadType::KE, "KE"),
                        (PayloadType::NONCE, "Nonce"),
                    ] {
                        if !p.contains(t) && p.len() <= PayloadList::CAP {
                            return Err(Refusal::MissingPayload {
                                exchange,
                                missing: name,
                            });
                        }
                    }
                }
            } else if h.exchange == ExchangeType::IKE_SESSION_RESUME {
                // RFC 5723: a ticket in clear, the responder SPI zero in
                // the request; nothing more to check here.
            } else if h.exchange == ExchangeType::INFORMATIONAL && !m.encrypted {
                // Outside an IKE SA (RFC 7296 §1.5): notifications only.
                if !p.only(PayloadType::NOTIFY) {
                    return Err(Refusal::NotEncrypted { exchange });
                }
            } else {
                if h.responder_spi == 0 {
                    return Err(Refusal::ResponderSpiZero { exchange });
                }
                if !m.encrypted {
                    return Err(Refusal::NotEncrypted { exchange });
                }
                if h.exchange == ExchangeType::IKE_AUTH && h.message_id == 0 {
                    return Err(Refusal::MessageId { exchange, id: 0 });
                }
            }
        }
        IkeVersion::V1 => {
            if h.exchange.is_v1_phase1() {
                if h.message_id != 0 {
                    return Err(Refusal::MessageId {
                        exchange,
                        id: h.message_id,
                    });
                }
                if h.responder_spi == 0 {
                    if m.encrypted {
                        return Err(Refusal::ResponderSpiZero { exchange });
                    }
                    // The first message offers the SA (RFC 2409 §5).
                    if p.types().next() != Some(PayloadType::V1_SA) {
                        return Err(Refusal::MissingPayload {
                            exchange,
                            missing: "SA",
                        });
                    }
                }
            } else if h.exchange == ExchangeType::V1_INFORMATIONAL {
                if h.responder_spi == 0 && m.encrypted {
                    return Err(Refusal::ResponderSpiZero { exchange });
                }
            } else {
                // Quick Mode, New Group, Transaction: phase 2, under the
                // phase-1 SA.
                if h.responder_spi == 0 {
                    return Err(Refusal::ResponderSpiZero { exchange });
                }
                if h.message_id == 0 {
                    return Err(Refusal::MessageId { exchange, id: 0 });
                }
                if !m.encrypted && h.exchange == ExchangeType::V1_QUICK_MODE {
                    return Err(Refusal::NotEncrypted { exchange });
                }
            }
        }
    }
    Ok(())
}
