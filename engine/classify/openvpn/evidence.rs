//! What the packets of a verdict showed, kept as data and put into words
//! only when a record is written.

use super::*;

/// What an OpenVPN packet showed, for a verdict's evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clue {
    /// A control packet.
    Control(ControlNote),
    /// Renegotiations seen without the first handshake.
    RenegotiationOnly,
    /// A data channel without control packets.
    DataOnly {
        client: u16,
        server: u16,
        aead: bool,
    },
    /// Static-key mode: the packets' length pattern.
    StaticKey {
        packets: u32,
        first: u64,
        residue: u8,
        sizes: [usize; 2],
        smallest: usize,
        hmac: u8,
        values: u32,
    },
    /// A data packet.
    Data {
        view: DataView,
        side: usize,
        rising: bool,
    },
}

/// A control packet as its layout reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlNote {
    pub(super) op: Opcode,
    pub(super) key: KeyId,
    pub(super) side: usize,
    pub(super) len: usize,
    pub(super) wkc: Option<u16>,
    /// `None` when no layout reads it.
    pub(super) view: Option<ControlFacts>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ControlFacts {
    pub(super) session: SessionId,
    pub(super) protection: Protection,
    pub(super) replay: Option<Replay>,
    pub(super) acks: Option<Acks>,
    pub(super) message: Option<PacketId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Acks {
    pub(super) ids: Vec<u32>,
    pub(super) remote: SessionId,
    /// The acknowledged session is the server's.
    pub(super) peer_is_server: bool,
}

impl fmt::Display for ControlNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} key {} from the {}",
            self.op,
            self.key.0,
            role(self.side)
        )?;
        let Some(v) = &self.view else {
            return write!(f, ", {} bytes", self.len);
        };
        write!(f, ", session {}", v.session)?;
        match v.protection {
            Protection::Plain => f.write_str(", no HMAC")?,
            Protection::TlsAuth { hmac } => write!(f, ", HMAC {hmac} bytes")?,
            Protection::TlsCrypt => f.write_str(", tls-crypt (32-byte tag, rest encrypted)")?,
        }
        if let Some(r) = v.replay {
            if r.id.0 > 0xffff {
                write!(f, ", packet-id {:#010x}, time {}", r.id.0, r.time)?;
            } else {
                write!(f, ", packet-id {}, time {}", r.id.0, r.time)?;
            }
        }
        if let Some(a) = &v.acks {
            f.write_str(", acks")?;
            for id in &a.ids {
                write!(f, " {id}")?;
            }
            let peer = if a.peer_is_server { "server" } else { "client" };
            write!(f, " of {peer} session {}", a.remote)?;
        }
        if let Some(m) = v.message {
            write!(f, ", message id {}", m.0)?;
        }
        if let Some(w) = self.wkc {
            write!(f, ", wrapped client key {w} bytes")?;
        }
        Ok(())
    }
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clue::Control(n) => n.fmt(f),
            Clue::RenegotiationOnly => f.write_str(
                "renegotiation (key id > 0) without the first handshake: OpenVPN \
                 2.6 wraps renegotiations tls-crypt style whatever protects key id \
                 0, so the mode is that of the renegotiation",
            ),
            Clue::DataOnly {
                client,
                server,
                aead,
            } => write!(
                f,
                "no control packet; {client} and {server} data packets from the client and the \
                 server, each side on one key id and peer id, {}",
                if *aead {
                    "the AEAD packet id in the clear rising each way"
                } else {
                    "lengths of HMAC + IV + 16·n and no fixed byte after the header"
                }
            ),
            Clue::StaticKey {
                packets,
                first,
                residue,
                sizes,
                smallest,
                hmac,
                values,
            } => write!(
                f,
                "{packets} packets from packet {first} on (both directions, no opcode reading): every \
                 length ≡ {residue} mod 16 (HMAC + 16-byte IV + 16·n), lengths {} and {} among \
                 them; the smallest, {smallest} bytes, sent both ways, fit a ping/OCC message \
                 under a {hmac}-byte HMAC; no fixed byte and {values} byte values in their first \
                 16 bytes",
                sizes[0], sizes[1]
            ),
            Clue::Data { view, side, rising } => {
                write!(f, "{} key {} from the {}", view.opcode, view.key.0, role(*side))?;
                if let Some(p) = view.peer {
                    write!(f, ", peer id {}", p.0)?;
                }
                if *rising {
                    write!(f, ", AEAD packet id {} (rising)", view.leading)?;
                }
                write!(f, ", {} bytes after the header", view.body_len)
            }
        }
    }
}
