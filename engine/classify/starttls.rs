//! STARTTLS: a plaintext protocol that switches to TLS on the same
//! connection — SMTP, IMAP, POP3, FTP, XMPP, LDAP and PostgreSQL's
//! SSLRequest. The dissector follows the plaintext opening only far enough
//! to see the client ask for TLS and the server accept, then answers
//! [`Step::Upgrade`]: the dispatcher classifies the rest of the stream
//! afresh, so the TLS hellos that follow are read (SNI, JA3, JA4, ...) and
//! decide the flow.
//!
//! It names no protocol of its own: a plaintext session that never
//! upgrades stays unknown. What it reads, per dialect:
//!
//! - **Line protocols** (SMTP, IMAP, POP3, FTP), opened by the server's
//!   greeting (`220 `/`220-`, `* OK`, `+OK`): client command lines until
//!   `STARTTLS` (SMTP), `<tag> STARTTLS` (IMAP), `STLS` (POP3) or
//!   `AUTH TLS`/`AUTH SSL` (FTP); then the server's next complete reply
//!   line must be the acceptance (`220`, `<tag> OK`, `+OK`, `234`).
//! - **XMPP**, opened by the client's `<?xml` or `<stream:stream`: a
//!   `<starttls` element from the client, then `<proceed` from the server.
//! - **LDAP**: the client's first message an ExtendedRequest for the
//!   StartTLS OID 1.3.6.1.4.1.1466.20037, the server's an ExtendedResponse
//!   with resultCode success.
//! - **PostgreSQL**: the client's 8-byte SSLRequest, the server's `S`.
//!
//! Each side's bytes are read up to [`MAX_PLAINTEXT`]; a refusal (`-ERR`,
//! `454`, `N`, ...), a line that breaks the dialect's grammar or a longer
//! plaintext exchange drops the dissector.

use super::dissector::{Carrier, Dissector, Findings, Input, Probe, Probing, Step};
use super::facts::{Clue, Evidence};
use crate::bytes::find;
use crate::flow::TO_SERVER;

/// Bytes of plaintext read per side before giving up.
pub const MAX_PLAINTEXT: usize = 8 * 1024;

/// The protocols read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Smtp,
    Imap,
    Pop3,
    Ftp,
    Xmpp,
    Ldap,
    Postgres,
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Smtp => "SMTP STARTTLS",
            Dialect::Imap => "IMAP STARTTLS",
            Dialect::Pop3 => "POP3 STLS",
            Dialect::Ftp => "FTP AUTH TLS",
            Dialect::Xmpp => "XMPP starttls",
            Dialect::Ldap => "LDAP StartTLS",
            Dialect::Postgres => "PostgreSQL SSLRequest",
        }
    }
}

/// PostgreSQL's SSLRequest: length 8, code 80877103.
const PG_SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
/// LDAP's StartTLS extended operation.
const LDAP_STARTTLS_OID: &[u8] = b"1.3.6.1.4.1.1466.20037";

/// How a stream opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Opening {
    /// A server greeting of a line protocol (which one is told by the
    /// client's request for TLS).
    Greeting,
    Xmpp,
    Ldap,
    Postgres,
}

fn opening(bytes: &[u8], side: usize) -> Option<Opening> {
    if side == TO_SERVER {
        if bytes.starts_with(b"<?xml") || bytes.starts_with(b"<stream:stream") {
            return Some(Opening::Xmpp);
        }
        if PG_SSL_REQUEST.starts_with(&bytes[..bytes.len().min(8)]) {
            return Some(Opening::Postgres);
        }
        // An LDAP message: a SEQUENCE, then the message id (an INTEGER).
        let ldap = match bytes {
            [0x30, 0x81, _, 0x02, ..] | [0x30, 0x82, _, _, 0x02, ..] => true,
            [0x30, len, 0x02, ..] => *len < 0x80,
            _ => false,
        };
        return ldap.then_some(Opening::Ldap);
    }
    let greeting = [&b"220 "[..], b"220-", b"* OK", b"+OK"]
        .iter()
        .any(|g| bytes.starts_with(&g[..bytes.len().min(g.len())]));
    greeting.then_some(Opening::Greeting)
}

/// Where the dialogue is.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Stage {
    /// Waiting for the client to ask for TLS.
    Asking,
    /// The client asked: waiting for the server's answer. IMAP's tag is
    /// kept to match the tagged answer.
    Asked { dialect: Dialect, tag: Vec<u8> },
}

/// The STARTTLS dissector; see the module documentation.
#[derive(Debug)]
pub struct StartTls {
    opening: Option<Opening>,
    stage: Stage,
    /// Each side's unread bytes (a partial line or message).
    bufs: [Vec<u8>; 2],
    /// Bytes seen per side.
    seen: [usize; 2],
    /// Packet that carried the client's request.
    asked_at: u64,
    /// The packet being read.
    packet: u64,
}

impl Dissector for StartTls {
    const CARRIER: Carrier = Carrier::Stream;
    const PROBING: Probing = Probing::FlowOpening;

    fn probe(bytes: &[u8], side: usize) -> Probe {
        if opening(bytes, side).is_some() {
            Probe::Maybe
        } else {
            Probe::No
        }
    }

    fn start() -> Self {
        StartTls {
            opening: None,
            stage: Stage::Asking,
            bufs: [Vec::new(), Vec::new()],
            seen: [0, 0],
            asked_at: 0,
            packet: 0,
        }
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        let side = input.side;
        if self.opening.is_none() {
            match opening(input.bytes, side) {
                Some(o) if input.first => self.opening = Some(o),
                _ => return Step::Refuse,
            }
        }
        self.packet = input.packet;
        self.seen[side] += input.bytes.len();
        if self.seen[side] > MAX_PLAINTEXT {
            return Step::Refuse;
        }
        let buf = &mut self.bufs[side];
        let start = buf.len();
        buf.extend_from_slice(input.bytes);
        let outcome = match self.opening {
            Some(Opening::Greeting) => self.lines(side),
            Some(Opening::Xmpp) => self.xmpp(side, start),
            Some(Opening::Ldap) => self.ldap(side),
            Some(Opening::Postgres) => self.postgres(side),
            None => Outcome::Refuse,
        };
        match outcome {
            Outcome::More => Step::NeedMore,
            Outcome::Refuse => Step::Refuse,
            Outcome::Accepted { dialect, used } => {
                // `used`: bytes of the buffer up to the end of the answer;
                // what follows in this input is the TLS stream's start.
                let rest = self.bufs[side].len().saturating_sub(used);
                Step::Upgrade {
                    found: Findings {
                        facts: Vec::new(),
                        evidence: vec![Evidence {
                            packet: input.packet,
                            what: Clue::StartTls {
                                dialect,
                                asked_at: self.asked_at,
                            },
                        }],
                        links: Vec::new(),
                    },
                    rest: rest.min(input.bytes.len()),
                }
            }
        }
    }
}

/// What a side's bytes gave.
enum Outcome {
    More,
    Refuse,
    /// The server accepted; the answer ends `used` bytes into its buffer.
    Accepted {
        dialect: Dialect,
        used: usize,
    },
}

/// A line's command word (uppercase compared) and its arguments.
fn words(line: &[u8]) -> Vec<&[u8]> {
    line.split(|&b| b == b' ')
        .filter(|w| !w.is_empty())
        .take(4)
        .collect()
}

impl StartTls {
    /// SMTP, IMAP, POP3, FTP: complete lines of each side.
    fn lines(&mut self, side: usize) -> Outcome {
        let mut used = 0;
        loop {
            let buf = &self.bufs[side];
            let Some(nl) = buf[used..].iter().position(|&b| b == b'\n') else {
                break;
            };
            let raw = &buf[used..used + nl];
            let line = raw.strip_suffix(b"\r").unwrap_or(raw);
            used += nl + 1;
            if !line
                .iter()
                .all(|&b| b == b'\t' || (0x20..0x7f).contains(&b))
            {
                return Outcome::Refuse;
            }
            if side == TO_SERVER {
                if let Stage::Asked { .. } = self.stage {
                    // Pipelined commands after the request: not STARTTLS.
                    return Outcome::Refuse;
                }
                let w = words(line);
                let upper = |i: usize| w.get(i).map(|x| x.to_ascii_uppercase());
                let first = upper(0).unwrap_or_default();
                let second = upper(1).unwrap_or_default();
                let asked = if w.len() == 1 && first == b"STARTTLS" {
                    Some((Dialect::Smtp, Vec::new()))
                } else if w.len() == 1 && first == b"STLS" {
                    Some((Dialect::Pop3, Vec::new()))
                } else if w.len() == 2
                    && first == b"AUTH"
                    && matches!(&second[..], b"TLS" | b"SSL" | b"TLS-C")
                {
                    Some((Dialect::Ftp, Vec::new()))
                } else if w.len() == 2 && second == b"STARTTLS" {
                    Some((Dialect::Imap, w[0].to_vec()))
                } else {
                    None
                };
                if let Some((dialect, tag)) = asked {
                    self.stage = Stage::Asked { dialect, tag };
                    self.asked_at = self.packet;
                }
            } else if let Stage::Asked { dialect, tag } = &self.stage {
                // SMTP and FTP replies may run over several lines
                // (`220-`); the last (`220 `) decides.
                let code =
                    |c: &[u8]| line.starts_with(c) && matches!(line.get(3), None | Some(b' '));
                let cont =
                    matches!(dialect, Dialect::Smtp | Dialect::Ftp) && line.get(3) == Some(&b'-');
                if cont {
                    continue;
                }
                // IMAP's untagged lines come before the tagged answer.
                if *dialect == Dialect::Imap && line.starts_with(b"* ") {
                    continue;
                }
                let accepted = match dialect {
                    Dialect::Smtp => code(b"220"),
                    Dialect::Ftp => code(b"234"),
                    Dialect::Pop3 => line.starts_with(b"+OK"),
                    Dialect::Imap => {
                        let w = words(line);
                        w.len() >= 2 && w[0] == &tag[..] && w[1].eq_ignore_ascii_case(b"OK")
                    }
                    _ => false,
                };
                return if accepted {
                    Outcome::Accepted {
                        dialect: *dialect,
                        used,
                    }
                } else {
                    Outcome::Refuse
                };
            }
        }
        self.bufs[side].drain(..used);
        if self.bufs[side].len() > 1024 {
            return Outcome::Refuse; // no line protocol has such lines here
        }
        Outcome::More
    }

    /// XMPP: `<starttls` from the client, then `<proceed` from the server.
    fn xmpp(&mut self, side: usize, start: usize) -> Outcome {
        let buf = &self.bufs[side];
        if side == TO_SERVER {
            if matches!(self.stage, Stage::Asking) && find(buf, b"<starttls").is_some() {
                self.stage = Stage::Asked {
                    dialect: Dialect::Xmpp,
                    tag: Vec::new(),
                };
                self.asked_at = self.packet;
            }
            return Outcome::More;
        }
        if !matches!(self.stage, Stage::Asked { .. }) {
            return Outcome::More;
        }
        if find(&buf[start.saturating_sub(8)..], b"<failure").is_some() {
            return Outcome::Refuse;
        }
        let Some(at) = find(buf, b"<proceed") else {
            return Outcome::More;
        };
        match find(&buf[at..], b">") {
            Some(end) => Outcome::Accepted {
                dialect: Dialect::Xmpp,
                used: at + end + 1,
            },
            None => Outcome::More,
        }
    }

    /// LDAP: an ExtendedRequest for StartTLS, then a successful
    /// ExtendedResponse.
    fn ldap(&mut self, side: usize) -> Outcome {
        let buf = &self.bufs[side];
        let Some((msg_len, op, body)) = ldap_message(buf) else {
            return if buf.len() > 64 {
                Outcome::Refuse
            } else {
                Outcome::More
            };
        };
        if side == TO_SERVER {
            if matches!(self.stage, Stage::Asking) {
                // ExtendedRequest [APPLICATION 23], requestName [0] the OID.
                if op == 0x77 && find(body, LDAP_STARTTLS_OID).is_some() {
                    self.stage = Stage::Asked {
                        dialect: Dialect::Ldap,
                        tag: Vec::new(),
                    };
                    self.asked_at = self.packet;
                    return Outcome::More;
                }
                return Outcome::Refuse;
            }
            return Outcome::More;
        }
        if !matches!(self.stage, Stage::Asked { .. }) {
            return Outcome::Refuse;
        }
        // ExtendedResponse [APPLICATION 24]: resultCode ENUMERATED 0.
        if op == 0x78 && body.starts_with(&[0x0a, 0x01, 0x00]) {
            Outcome::Accepted {
                dialect: Dialect::Ldap,
                used: msg_len,
            }
        } else {
            Outcome::Refuse
        }
    }

    /// PostgreSQL: SSLRequest, then `S`.
    fn postgres(&mut self, side: usize) -> Outcome {
        let buf = &self.bufs[side];
        if side == TO_SERVER {
            if buf.len() < 8 {
                return Outcome::More;
            }
            if buf[..8] != PG_SSL_REQUEST || matches!(self.stage, Stage::Asked { .. }) {
                return Outcome::Refuse;
            }
            self.stage = Stage::Asked {
                dialect: Dialect::Postgres,
                tag: Vec::new(),
            };
            self.asked_at = self.packet;
            return Outcome::More;
        }
        match (&self.stage, buf.first()) {
            (Stage::Asked { .. }, Some(b'S')) => Outcome::Accepted {
                dialect: Dialect::Postgres,
                used: 1,
            },
            _ => Outcome::Refuse,
        }
    }
}

/// An LDAP message at the start of `b`: its length, the protocolOp's tag
/// and the protocolOp's content (BER, definite lengths).
fn ldap_message(b: &[u8]) -> Option<(usize, u8, &[u8])> {
    let (len, at) = ber_len(b, 1)?;
    if *b.first()? != 0x30 || b.len() < at + len {
        return None;
    }
    let msg = &b[at..at + len];
    // messageID INTEGER.
    if *msg.first()? != 0x02 {
        return None;
    }
    let (id_len, id_at) = ber_len(msg, 1)?;
    let op_at = id_at + id_len;
    let op = *msg.get(op_at)?;
    let (op_len, body_at) = ber_len(msg, op_at + 1)?;
    let body = msg.get(body_at..body_at + op_len)?;
    Some((at + len, op, body))
}

/// A BER length at `at`: its value and where the content starts.
fn ber_len(b: &[u8], at: usize) -> Option<(usize, usize)> {
    let first = *b.get(at)?;
    match first {
        0..=0x7f => Some((usize::from(first), at + 1)),
        0x81 => Some((usize::from(*b.get(at + 1)?), at + 2)),
        0x82 => Some((usize::from(crate::bytes::be16(b, at + 1)?), at + 3)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::TO_CLIENT;

    fn input(bytes: &[u8], side: usize, first: bool) -> Input<'_> {
        Input {
            bytes,
            side,
            packet: 1,
            first,
            client_from: None,
            ts: 0,
            links: &[],
            ports: [40000, 25],
            fingerprints: true,
        }
    }

    /// Runs a dialogue; returns the last step and the index it came at.
    fn run(dialogue: &[(usize, &[u8])]) -> (usize, Step) {
        let mut d = StartTls::start();
        let mut opened = [false; 2];
        for (i, (side, bytes)) in dialogue.iter().enumerate() {
            let first = !opened[*side];
            opened[*side] = true;
            let step = d.feed(&input(bytes, *side, first));
            if step != Step::NeedMore {
                return (i, step);
            }
        }
        (dialogue.len(), Step::NeedMore)
    }

    fn upgraded(step: &Step) -> Option<usize> {
        match step {
            Step::Upgrade { rest, .. } => Some(*rest),
            _ => None,
        }
    }

    #[test]
    fn smtp_dialogue_of_smtp_starttls_pcap() {
        // The plaintext of the nDPI corpus' smtp-starttls.pcap (names kept).
        let (i, step) = run(&[
            (
                TO_CLIENT,
                b"220 mx.google.com ESMTP s4si9696358qcc.63 - gsmtp\r\n",
            ),
            (TO_SERVER, b"EHLO xxxxxxxxxxxxx.xxx.com\r\n"),
            (
                TO_CLIENT,
                b"250-mx.google.com at your service\r\n250-STARTTLS\r\n250 ENHANCEDSTATUSCODES\r\n",
            ),
            (TO_SERVER, b"STARTTLS\r\n"),
            (TO_CLIENT, b"220 2.0.0 Ready to start TLS\r\n"),
        ]);
        assert_eq!((i, upgraded(&step)), (4, Some(0)));
    }

    #[test]
    fn imap_pop3_ftp_accept_and_refuse() {
        let imap = run(&[
            (TO_CLIENT, b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"),
            (TO_SERVER, b". STARTTLS\r\n"),
            (TO_CLIENT, b". OK Begin TLS negotiation now\r\n"),
        ]);
        assert_eq!(upgraded(&imap.1), Some(0));
        let pop3 = run(&[
            (TO_CLIENT, b"+OK lavad\r\n"),
            (TO_SERVER, b"STLS\r\n"),
            (TO_CLIENT, b"+OK Ready to start TLS negotiation.\r\n"),
        ]);
        assert_eq!(upgraded(&pop3.1), Some(0));
        let ftp = run(&[
            (TO_CLIENT, b"220 \"Authorized users only\"\r\n"),
            (TO_SERVER, b"AUTH TLS\r\n"),
            (TO_CLIENT, b"234 Proceed with negotiation.\r\n\x16\x03\x01"),
        ]);
        assert_eq!(upgraded(&ftp.1), Some(3), "a hello in the same segment");
        let refused = run(&[
            (TO_CLIENT, b"220 mail ESMTP\r\n"),
            (TO_SERVER, b"STARTTLS\r\n"),
            (TO_CLIENT, b"454 4.7.0 TLS not available\r\n"),
        ]);
        assert_eq!(refused.1, Step::Refuse);
        // Plain SMTP never upgrades.
        let plain = run(&[
            (TO_CLIENT, b"220 mail ESMTP\r\n"),
            (TO_SERVER, b"MAIL FROM:<a@b>\r\n"),
            (TO_CLIENT, b"250 OK\r\n"),
        ]);
        assert_eq!(plain.1, Step::NeedMore);
    }

    #[test]
    fn xmpp_ldap_postgres() {
        let xmpp = run(&[
            (TO_SERVER, b"<?xml version='1.0'?><stream:stream to='example.org' xmlns='jabber:client'>"),
            (TO_CLIENT, b"<stream:stream from='example.org'><stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"),
            (TO_SERVER, b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
            (TO_CLIENT, b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
        ]);
        assert_eq!(upgraded(&xmpp.1), Some(0));
        // LDAP ExtendedRequest (message 1) for StartTLS, and its success.
        let mut req = vec![0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16];
        req.extend_from_slice(LDAP_STARTTLS_OID);
        let resp = [
            0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00,
        ];
        let ldap = run(&[(TO_SERVER, &req), (TO_CLIENT, &resp)]);
        assert_eq!(upgraded(&ldap.1), Some(0));
        let pg = run(&[(TO_SERVER, &PG_SSL_REQUEST), (TO_CLIENT, b"S")]);
        assert_eq!(upgraded(&pg.1), Some(0));
        let pg_no = run(&[(TO_SERVER, &PG_SSL_REQUEST), (TO_CLIENT, b"N")]);
        assert_eq!(pg_no.1, Step::Refuse);
    }

    #[test]
    fn random_openings_are_refused_quickly() {
        let mut x: u32 = 3;
        for n in 0..5000usize {
            let b: Vec<u8> = (0..16 + n % 64)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect();
            for side in [TO_SERVER, TO_CLIENT] {
                if StartTls::probe(&b, side) == Probe::No {
                    continue;
                }
                let mut d = StartTls::start();
                let step = d.feed(&input(&b, side, true));
                assert!(upgraded(&step).is_none());
            }
        }
    }
}
