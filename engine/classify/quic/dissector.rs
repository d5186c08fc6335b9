//! QUIC as a dissector of the registry.

use super::*;

/// The QUIC dissector: a client's Initials (or Google QUIC's CHLO), read
/// until the ClientHello is whole.
#[derive(Debug, Default)]
pub struct QuicDissector(QuicInitialTracker);

impl Dissector for QuicDissector {
    const CARRIER: Carrier = Carrier::Datagram;
    const PROBING: Probing = Probing::EachSide;

    fn probe(bytes: &[u8], _side: usize) -> Probe {
        if might_be_quic(bytes) {
            Probe::Maybe
        } else {
            Probe::No
        }
    }

    fn start() -> Self {
        Self::default()
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        let tracker = &mut self.0;
        let version = |t: &QuicInitialTracker| t.version().map_or(0, |v| v.0);
        let (summary, clue) = match tracker.on_datagram(input.bytes, input.from_client()) {
            QuicProgress::NeedMore | QuicProgress::VersionNegotiation | QuicProgress::Retry => {
                return Step::NeedMore
            }
            QuicProgress::NotQuic | QuicProgress::Failed(_) => return Step::Refuse,
            QuicProgress::ClientHello => {
                let hello = tracker
                    .client_hello()
                    .and_then(|m| m.get(4..))
                    .and_then(|body| parse_client_hello(body).ok())
                    .map(|mut ch| HelloSummary::taking(&mut ch, true, input.fingerprints));
                let v = version(tracker);
                (
                    QuicSummary {
                        version: v,
                        hello,
                        gquic_sni: None,
                    },
                    Clue::QuicInitial { version: v },
                )
            }
            QuicProgress::Chlo => {
                let sni = tracker.gquic_sni().map(|s| {
                    String::from_utf8_lossy(s)
                        .to_ascii_lowercase()
                        .trim_end_matches('.')
                        .to_string()
                });
                let v = version(tracker);
                (
                    QuicSummary {
                        version: v,
                        hello: None,
                        gquic_sni: sni,
                    },
                    Clue::GquicChlo { version: v },
                )
            }
        };
        Step::Verdict(Verdict {
            proto: AppProto::Quic,
            confidence: Confidence::High,
            found: Findings {
                facts: vec![Fact::Quic(Box::new(summary))],
                evidence: vec![Evidence {
                    packet: input.packet,
                    what: clue,
                }],
                links: Vec::new(),
            },
            more: false,
        })
    }
}
