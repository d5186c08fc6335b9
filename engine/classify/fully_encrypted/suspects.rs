//! Which fully-encrypted protocols a flow's opening fits, and why.
//!
//! Without the keys nothing inside these protocols can be checked; what
//! their specifications fix is the *shape* of the opening — how many bytes
//! the first messages need at least (salts, encrypted length fields,
//! authentication tags), exact sizes where a message has one (VMess's
//! 38-byte response header), who waits for whom (obfs4's client sends its
//! whole handshake and waits). A suspect is named when every part of its
//! shape that the flow shows holds; the reason says what was compared.
//! Random bytes fit most shapes, so a suspect is a lead, never a verdict.
//!
//! | suspect | client's opening | server's first payload |
//! |---|---|---|
//! | shadowsocks (AEAD) | ≥ 57: salt 16+, length chunk 2+16, address chunk 7+16 (UDP ≥ 39) | ≥ 51: its own salt, a length chunk, a data chunk |
//! | shadowsocks-2022 | ≥ 68: salt 16+, fixed header chunk 11+16, variable header chunk 9+16 (UDP ≥ 51) | ≥ 59: salt, fixed header 27+16 with the request salt |
//! | vmess (AEAD) | ≥ 107: auth id 16, length 18, nonce 8, header 49+16 | 38 exactly (response header alone) or ≥ 57 |
//! | obfs4 | 141–8192, all sent before the server answers | ≥ 141 (96 + the 45-byte seed frame) |
//! | mtproxy | ≥ 64, an obfuscated2 opening the plain key does not open | any |
//! | hysteria2-salamander | UDP only: ≥ 1208 (8-byte salt + a padded QUIC Initial) | any |

use std::fmt;

use super::super::facts::{
    fmt_spelled, spell_all,
    Piece::{Decimal, Text},
    Put,
};
use super::super::obfuscation::Suspect;

/// What the opening of a flow showed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Opening {
    pub udp: bool,
    /// Length of the client's first payload (segment or datagram).
    pub client_first: usize,
    /// Its first 8 bytes (zeros past its end).
    pub head: [u8; 8],
    /// Client stream bytes (TCP) before the server's first byte.
    pub client_before_reply: usize,
    /// Length of the server's first payload, if it sent one.
    pub server_first: Option<usize>,
}

/// Why a suspect fits, in the sizes compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// The client's first payload is at least `min` bytes.
    ClientAtLeast { min: usize },
    /// Client and server openings at least `client` and `server` bytes.
    BothAtLeast { client: usize, server: usize },
    /// VMess: the server's first payload is exactly the 38-byte header.
    VmessResponseHeader,
    /// obfs4: the client sent `sent` bytes (in its 141–8192 range) and waited.
    Obfs4Handshake { sent: usize },
    /// obfs4: as above, and the server's reply is at least 141 bytes.
    Obfs4Both { sent: usize, reply: usize },
    /// MTProxy: a 64-byte obfuscated2 opening is possible.
    Obfuscated2Opening,
    /// Salamander: a datagram of a padded QUIC Initial plus the salt.
    SalamanderInitial { len: usize },
}

impl Fit {
    /// Gives `put` the reason's words ([`facts::Clue::spell`]): the
    /// program's text and the sizes compared.
    ///
    /// [`facts::Clue::spell`]: crate::classify::facts::Clue::spell
    pub fn spell(&self, put: &mut Put<'_>) {
        let size = |n: &usize| Decimal(*n as u64);
        match self {
            Fit::ClientAtLeast { min } => spell_all(put, &[
                Text("client's first payload has the "),
                size(min),
                Text(" bytes its header needs"),
            ]),
            Fit::BothAtLeast { client, server } => spell_all(put, &[
                Text("client's first payload has the "),
                size(client),
                Text(" bytes its header needs, the server's the "),
                size(server),
                Text(" of its own salted reply"),
            ]),
            Fit::VmessResponseHeader => spell_all(put, &[Text(
                "server's first payload is exactly 38 bytes: an encrypted length (2+16) and response header (4+16)",
            )]),
            Fit::Obfs4Handshake { sent } => spell_all(put, &[
                Text("client sent "),
                size(sent),
                Text(" bytes (obfs4 handshake: 141 to 8192) and waited for the server"),
            ]),
            Fit::Obfs4Both { sent, reply } => spell_all(put, &[
                Text("client sent "),
                size(sent),
                Text(" bytes (obfs4 handshake: 141 to 8192) and waited; the server's "),
                size(reply),
                Text(" bytes fit its handshake (at least 141)"),
            ]),
            Fit::Obfuscated2Opening => spell_all(put, &[Text(
                "a 64-byte opening that obfuscated2 allows, whose transport tag does not decrypt without a proxy secret",
            )]),
            Fit::SalamanderInitial { len } => spell_all(put, &[
                Text("client's first datagram of "),
                size(len),
                Text(" bytes: an 8-byte salt and a QUIC Initial padded to 1200 or more"),
            ]),
        };
    }
}

impl fmt::Display for Fit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_spelled(f, |put| {
            self.spell(put);
            true
        })
        .expect("a fit is always spelled")
    }
}

/// The suspects `o` fits, each with its reason, in [`Suspect`] order.
pub fn fits(o: &Opening) -> Vec<(Suspect, Fit)> {
    let mut v = Vec::new();
    let server_at_least = |min: usize| o.server_first.is_none_or(|s| s >= min);
    let both = |client: usize, server: usize| match o.server_first {
        Some(_) => Fit::BothAtLeast { client, server },
        None => Fit::ClientAtLeast { min: client },
    };
    if o.udp {
        if o.client_first >= 39 && server_at_least(39) {
            v.push((Suspect::ShadowsocksAead, both(39, 39)));
        }
        if o.client_first >= 51 && server_at_least(51) {
            v.push((Suspect::Shadowsocks2022, both(51, 51)));
        }
        if o.client_first >= 1208 {
            v.push((
                Suspect::Hysteria2Salamander,
                Fit::SalamanderInitial {
                    len: o.client_first,
                },
            ));
        }
        return v;
    }
    if o.client_first >= 57 && server_at_least(51) {
        v.push((Suspect::ShadowsocksAead, both(57, 51)));
    }
    if o.client_first >= 68 && server_at_least(59) {
        v.push((Suspect::Shadowsocks2022, both(68, 59)));
    }
    if o.client_first >= 107 {
        match o.server_first {
            Some(38) => v.push((Suspect::Vmess, Fit::VmessResponseHeader)),
            Some(s) if s < 57 => {}
            _ => v.push((Suspect::Vmess, both(107, 57))),
        }
    }
    let sent = o.client_before_reply.max(o.client_first);
    if (141..=8192).contains(&sent) {
        match o.server_first {
            Some(reply) if reply >= 141 => v.push((Suspect::Obfs4, Fit::Obfs4Both { sent, reply })),
            Some(_) => {}
            None => v.push((Suspect::Obfs4, Fit::Obfs4Handshake { sent })),
        }
    }
    if o.client_first >= 64 && obfuscated2_allowed(&o.head) {
        v.push((Suspect::Mtproxy, Fit::Obfuscated2Opening));
    }
    v
}

/// The openings an obfuscated2 client redraws (its first byte the
/// abridged tag, its first word a method, a TLS header or an intermediate
/// tag, its second word zero) are not one.
pub fn obfuscated2_allowed(head: &[u8; 8]) -> bool {
    const REDRAWN: [[u8; 4]; 7] = [
        *b"HEAD",
        *b"POST",
        *b"GET ",
        *b"OPTI",
        [0x16, 0x03, 0x01, 0x02],
        [0xdd; 4],
        [0xee; 4],
    ];
    head[0] != 0xef && !REDRAWN.iter().any(|w| head[..4] == *w) && head[4..] != [0; 4]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(o: &Opening) -> Vec<&'static str> {
        fits(o).iter().map(|(s, _)| s.as_str()).collect()
    }

    #[test]
    fn vmess_by_its_response_header() {
        // captures/obfs/vmess-aes-128-gcm-443.pcap: 107..122 then 38.
        let o = Opening {
            client_first: 115,
            head: [1, 2, 3, 4, 5, 6, 7, 8],
            client_before_reply: 115,
            server_first: Some(38),
            ..Opening::default()
        };
        assert_eq!(names(&o), ["vmess", "mtproxy"]);
        assert_eq!(fits(&o)[0].1, Fit::VmessResponseHeader);
    }

    #[test]
    fn shadowsocks_and_obfs4_shapes() {
        // ss-aead-aes-256-gcm-8388.pcap: 187 then the server's 1448.
        let ss = Opening {
            client_first: 187,
            head: [9; 8],
            client_before_reply: 187,
            server_first: Some(1448),
            ..Opening::default()
        };
        assert_eq!(
            names(&ss),
            [
                "shadowsocks",
                "shadowsocks-2022",
                "vmess",
                "obfs4",
                "mtproxy"
            ]
        );
        // A short opening fits none.
        let short = Opening {
            client_first: 40,
            head: [9; 8],
            ..Opening::default()
        };
        assert!(fits(&short).is_empty());
    }

    #[test]
    fn udp_shapes() {
        let o = Opening {
            udp: true,
            client_first: 1258,
            head: [3; 8],
            server_first: Some(1288),
            ..Opening::default()
        };
        assert_eq!(
            names(&o),
            ["shadowsocks", "shadowsocks-2022", "hysteria2-salamander"]
        );
    }

    #[test]
    fn obfuscated2_redraws() {
        assert!(!obfuscated2_allowed(&[0xef, 1, 2, 3, 4, 5, 6, 7]));
        assert!(!obfuscated2_allowed(b"GET abcd"));
        assert!(!obfuscated2_allowed(&[1, 2, 3, 4, 0, 0, 0, 0]));
        assert!(obfuscated2_allowed(&[1, 2, 3, 4, 0, 0, 0, 1]));
    }
}
