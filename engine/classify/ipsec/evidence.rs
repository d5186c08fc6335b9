//! What IPsec packets showed, for a verdict's evidence.

use super::*;

/// What an IPsec packet showed, for a verdict's evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clue {
    /// An IKE request (or IKEv1 message) that was answered.
    IkeRequest(Seen),
    /// The answer to `request`.
    IkeAnswer { request: Seen, answer: Seen },
    /// An IKE message whose partner was not seen.
    IkeAlone(Seen),
    /// The first ESP or AH packet of a side.
    SaFirst {
        /// "ESP" or "AH".
        what: &'static str,
        /// "IP protocol 50", "in UDP", ...
        carrier: &'static str,
        side: usize,
        spi: u32,
        seq: u32,
    },
    /// A side's run of ESP or AH packets.
    SaRun {
        count: u32,
        what: &'static str,
        side: usize,
        from: u32,
        to: u32,
        spi: u32,
    },
}

impl fmt::Display for Clue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clue::IkeRequest(m) => {
                let role = if m.header.version == IkeVersion::V2 {
                    "request"
                } else {
                    "message"
                };
                m.describe(role, f)
            }
            Clue::IkeAnswer { request, answer } => {
                let role = if answer.header.version == IkeVersion::V2 {
                    "response (R flag, I flag flipped)"
                } else {
                    "reply"
                };
                let tie = if request.header.responder_spi == 0 {
                    "initiator SPI echoed, responder SPI set"
                } else {
                    "both SPIs echoed"
                };
                answer.describe(role, f)?;
                write!(
                    f,
                    "; answers packet {}: {tie}, same exchange and message id",
                    request.packet
                )
            }
            Clue::IkeAlone(m) => {
                m.describe("message", f)?;
                f.write_str(" (no partner seen)")
            }
            Clue::SaFirst {
                what,
                carrier,
                side,
                spi,
                seq,
            } => write!(
                f,
                "{what} {carrier} from the {}: SPI {}, sequence {seq}{}",
                side_name(*side),
                Hex32(*spi),
                if *seq <= 4 { " (SA start)" } else { "" }
            ),
            Clue::SaRun {
                count,
                what,
                side,
                from,
                to,
                spi,
            } => write!(
                f,
                "{count} {what} packets from the {}, sequence {from}..={to} increasing on SPI {}",
                side_name(*side),
                Hex32(*spi)
            ),
        }
    }
}
