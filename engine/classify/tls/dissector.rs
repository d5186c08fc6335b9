//! TLS as a dissector of the registry: the hellos of both sides, or
//! records picked up mid-connection.

use super::*;
use crate::classify::links::Link;
use crate::classify::registry::Kind;

/// Valid TLS record headers in a row that make a flow TLS without a hello.
pub(super) const MIDSTREAM_RECORDS: u64 = 3;

/// Extensions of a ClientHello that say whether the server may resume the
/// session (pre_shared_key) and may send tickets (psk_key_exchange_modes).
const PRE_SHARED_KEY: u16 = 41;
const PSK_KEY_EXCHANGE_MODES: u16 = 45;
/// compress_certificate (RFC 8879): the server may send a smaller chain.
const COMPRESS_CERTIFICATE: u16 = 27;

/// One side's handshake reader, made only when the side's first byte can
/// start a TLS record (or an SSLv2 hello).
#[derive(Debug, Default)]
pub(super) enum SideReader {
    #[default]
    Untried,
    Reading(Box<HandshakeReader>),
    Off,
}

/// The TLS dissector: the ClientHello decides the flow and names it, the
/// ServerHello adds the server's choices; a capture that starts
/// mid-connection is TLS after a few (`MIDSTREAM_RECORDS`) valid record headers
/// in a row.
///
/// When a shape analyzer wants the flow ([`shapes::wanted`]), the readers
/// go on after the hellos, logging record headers of both directions until
/// the [`shapes::Log`] is full; the analyzers' findings then join the
/// flow's facts.
#[derive(Debug, Default)]
pub struct TlsDissector {
    pub(super) sides: [SideReader; 2],
    pub(super) log: Option<Box<shapes::Log>>,
}

impl Dissector for TlsDissector {
    const CARRIER: Carrier = Carrier::Stream;
    const PROBING: Probing = Probing::EachSide;

    fn probe(bytes: &[u8], _side: usize) -> Probe {
        match bytes.first() {
            Some(0x14..=0x18) | Some(0x80..) => Probe::Maybe,
            _ => Probe::No,
        }
    }

    fn start() -> Self {
        Self::default()
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        let side = input.side;
        let slot = &mut self.sides[side];
        if let SideReader::Untried = slot {
            *slot = if input.first && Self::probe(input.bytes, side) != Probe::No {
                SideReader::Reading(Box::default())
            } else {
                SideReader::Off
            };
        }
        let mut decided = None;
        let mut found = Findings::default();
        if let SideReader::Reading(reader) = slot {
            let log = &mut self.log;
            let feed = reader.push_with(input.bytes, &mut |content_type, len| {
                if let Some(log) = log.as_mut() {
                    log.push(shapes::Record {
                        side,
                        content_type,
                        len,
                        packet: input.packet,
                        ts: input.ts,
                    });
                }
            });
            if side == TO_CLIENT {
                if let Some(h) = self.log.as_deref_mut().and_then(shapes::take_handshake) {
                    found.facts.push(Fact::Handshake(Box::new(h)));
                }
            }
            let mut done = feed.is_final();
            if let Some(msg) = reader.next_message() {
                done = true;
                match (side, msg.msg_type) {
                    (TO_SERVER, HandshakeType::CLIENT_HELLO) => {
                        if let Ok(mut ch) = parse_client_hello(msg.body) {
                            decided = Some(Confidence::High);
                            found.evidence.push(Evidence {
                                packet: input.packet,
                                what: Clue::TlsClientHello {
                                    len: msg.body.len() + 4,
                                    from: input.client_from.unwrap_or(input.packet),
                                },
                            });
                            let hello = HelloSummary::taking(&mut ch, false, input.fingerprints);
                            if shapes::wanted(&hello) {
                                let mut log = shapes::Log::new(&hello);
                                log.hello.resumes = ch.extensions.contains(&PRE_SHARED_KEY);
                                log.hello.tickets = ch.extensions.contains(&PSK_KEY_EXCHANGE_MODES);
                                log.hello.compress = ch.extensions.contains(&COMPRESS_CERTIFICATE);
                                self.log = Some(Box::new(log));
                                reader.headers_only();
                                done = false;
                            }
                            found.facts.push(Fact::TlsHello(Box::new(hello)));
                            // For a VPN's DTLS channel to the same server.
                            found.links.push(Link {
                                kind: Kind::Tls,
                                value: 0,
                                packet: input.packet,
                            });
                        }
                    }
                    (TO_CLIENT, HandshakeType::SERVER_HELLO) => {
                        if let Ok(sh) = parse_server_hello(msg.body) {
                            found.evidence.push(Evidence {
                                packet: input.packet,
                                what: Clue::TlsServerHello {
                                    version: sh.version,
                                    cipher: sh.cipher,
                                },
                            });
                            let server = ServerSummary::new(&sh);
                            if let Some(log) = self.log.as_mut() {
                                log.server = Some(server.clone());
                                reader.headers_only();
                                done = false;
                            }
                            found.facts.push(Fact::TlsServer(server));
                        }
                    }
                    _ => {}
                }
            }
            // A capture that starts mid-connection shows records but no
            // hello: consecutive valid record headers, each where the
            // previous record ended, with no handshake message under way,
            // are TLS all the same (without names).
            // (Not once a hello was read: the reader then logs the records
            // that follow it.)
            if !done
                && decided.is_none()
                && !reader.headers_only
                && self.log.is_none()
                && reader.records() >= MIDSTREAM_RECORDS
                && reader.buffered() == 0
            {
                decided = Some(Confidence::Medium);
                found.evidence.push(Evidence {
                    packet: input.packet,
                    what: Clue::TlsRecords {
                        count: reader.records(),
                        client: side == TO_SERVER,
                    },
                });
                done = true;
            }
            if feed == Feed::Sslv2ClientHello && side == TO_SERVER {
                decided = Some(Confidence::High);
                found.evidence.push(Evidence {
                    packet: input.packet,
                    what: Clue::Sslv2ClientHello,
                });
            }
            if done {
                *slot = SideReader::Off;
            }
        }
        // The log is full, or neither side can add to it: the analyzers
        // read it, and it is freed.
        let stopped = self.sides.iter().all(|s| matches!(s, SideReader::Off));
        if self.log.as_ref().is_some_and(|l| l.is_full() || stopped) {
            if let Some(log) = self.log.take() {
                found.extend(shapes::analyze(&log));
            }
            self.sides = [SideReader::Off, SideReader::Off];
        }
        let more = self.sides.iter().any(|s| !matches!(s, SideReader::Off));
        match decided {
            Some(confidence) => Step::Verdict(Verdict {
                proto: AppProto::Tls,
                confidence,
                found,
                more,
            }),
            None if !found.is_empty() => Step::Facts { found, more },
            None if more => Step::NeedMore,
            None => Step::Refuse,
        }
    }

    fn follows(&self) -> bool {
        self.log.is_some()
    }

    /// The flow ends with records still being logged: the analyzers look
    /// at what there is.
    fn settle(&self) -> Option<Verdict> {
        let log = self.log.as_ref()?;
        Some(Verdict {
            proto: AppProto::Tls,
            confidence: Confidence::High,
            found: shapes::analyze(log),
            more: false,
        })
    }
}
