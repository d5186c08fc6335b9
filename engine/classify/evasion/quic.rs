//! QUIC decoys: fake client Initials sent before the real one, each with a
//! connection ID of its own.
//!
//! The first Initial of a flow is read as usual. A client Initial that
//! opens another connection (another Destination Connection ID) is read
//! aside, by a QUIC dissector of its own. When the server's first long
//! header packet arrives, its Destination Connection ID names the client
//! Initial it answers (the client's Source Connection ID): that one is the
//! real one, its name the flow's; every other is a fake, with its fooling —
//! `unanswered_dcid`, and `short_initial` (a datagram under 1,200 bytes),
//! `ttl` (below the real one's by [`TTL_MARGIN`]), `bad_udp_checksum`
//! (wrong while the real one's validates) where they hold. With no answer,
//! an Initial that breaks none of those rules is preferred to one that does.

use super::judge::{checksum_ok, TTL_MARGIN};
use super::{fooling, Evasion, Technique};
use crate::classify::dissector::{Dissector, Input, Step};
use crate::classify::facts::Fact;
use crate::classify::quic::QuicDissector;
use crate::classify::summary::QuicSummary;
use crate::decode::Decoded;

/// Client connections (distinct DCIDs) remembered per flow.
const MAX_INITIALS: usize = 4;
/// Datagrams a QUIC flow is watched for an answer after its verdict.
pub const WATCH_DATAGRAMS: u16 = 12;

/// True for a server long header packet that answers an Initial: not a
/// Version Negotiation, not a QUIC v1 Retry.
pub fn answers(b: &[u8]) -> bool {
    let (Some(&first), Some(version)) = (b.first(), crate::bytes::be32(b, 1)) else {
        return false;
    };
    first & 0x80 != 0 && version != 0 && !(version == 1 && (first >> 4) & 3 == 3)
}

/// The Destination and Source Connection IDs of a long header packet.
pub fn connection_ids(b: &[u8]) -> Option<(&[u8], &[u8])> {
    if b.first()? & 0x80 == 0 {
        return None;
    }
    let dlen = usize::from(*b.get(5)?);
    let dcid = b.get(6..6 + dlen)?;
    let slen = usize::from(*b.get(6 + dlen)?);
    let scid = b.get(7 + dlen..7 + dlen + slen)?;
    Some((dcid, scid))
}

#[derive(Debug)]
struct Initial {
    dcid: Vec<u8>,
    scid: Vec<u8>,
    ttl: u8,
    sum: Option<bool>,
    len: usize,
    packet: u64,
    /// What its own reading found (None for the first, read as usual).
    summary: Option<Box<QuicSummary>>,
}

impl Initial {
    fn name(&self) -> Option<String> {
        let s = self.summary.as_ref()?;
        s.hello
            .as_ref()
            .and_then(|h| h.sni.clone())
            .or_else(|| s.gquic_sni.clone())
    }
}

/// A QUIC flow's client connections, until the server answers one.
#[derive(Debug, Default)]
pub struct QuicWatch {
    initials: Vec<Initial>,
    done: bool,
}

impl QuicWatch {
    /// Still waiting for the server's answer to tell the connections apart.
    pub fn waiting(&self) -> bool {
        !self.done && !self.initials.is_empty()
    }

    /// A client Initial. Returns true when it opens a connection other than
    /// the flow's first: it was read aside, the caller goes on without it.
    pub fn client_initial(&mut self, d: &Decoded<'_>, input: &Input<'_>) -> bool {
        let Some((dcid, scid)) = connection_ids(input.bytes) else {
            return false;
        };
        if self.done || self.initials.iter().any(|i| i.dcid == dcid) {
            return false;
        }
        let first = self.initials.is_empty();
        if self.initials.len() >= MAX_INITIALS {
            return !first;
        }
        let summary = (!first).then(|| {
            let mut q = QuicDissector::start();
            match q.feed(input) {
                Step::Verdict(v) => v.found.facts.into_iter().find_map(|f| match f {
                    Fact::Quic(s) => Some(s),
                    _ => None,
                }),
                _ => None,
            }
        });
        self.initials.push(Initial {
            dcid: dcid.to_vec(),
            scid: scid.to_vec(),
            ttl: d.ip.ttl,
            sum: checksum_ok(d),
            len: input.bytes.len(),
            packet: input.packet,
            summary: summary.flatten(),
        });
        !first
    }

    /// The server's first long header datagram, or the flow's end (`None`):
    /// tells the real connection from the fakes. Returns the real one's
    /// summary when it is not the first (the flow's name changes), with the
    /// first one's name as a decoy.
    pub fn resolve(
        &mut self,
        server: Option<&[u8]>,
        first_name: Option<&str>,
        found: &mut Evasion,
    ) -> Option<Box<QuicSummary>> {
        if self.done {
            return None;
        }
        self.done = true;
        let initials = std::mem::take(&mut self.initials);
        if initials.len() < 2 {
            return None;
        }
        let answered = server
            .and_then(connection_ids)
            .and_then(|(dcid, _)| initials.iter().position(|i| i.scid == dcid));
        // Initials sharing the answered one's Source Connection ID are one
        // client's (a new Destination ID after a Retry): no decoys.
        if let Some(a) = answered {
            let scid = &initials[a].scid;
            if initials.iter().filter(|i| &i.scid == scid).count() > 1 {
                return None;
            }
        }
        let best_ttl = initials.iter().map(|i| i.ttl).max().unwrap_or(0);
        let any_good_sum = initials.iter().any(|i| i.sum == Some(true));
        let flaws = |i: &Initial| {
            let mut f = 0;
            if i.len < 1200 {
                f |= fooling::SHORT_INITIAL;
            }
            if i.ttl.saturating_add(TTL_MARGIN) <= best_ttl {
                f |= fooling::TTL;
            }
            if i.sum == Some(false) && any_good_sum {
                f |= fooling::BAD_UDP_CHECKSUM;
            }
            f
        };
        let real = answered.or_else(|| initials.iter().position(|i| flaws(i) == 0))?;
        for (n, i) in initials.iter().enumerate() {
            if n == real {
                continue;
            }
            let f = flaws(i)
                | if answered.is_some() {
                    fooling::UNANSWERED_DCID
                } else {
                    0
                };
            found.note(Technique::Fake, f, Some(i.packet));
            let name = if n == 0 {
                first_name.map(str::to_string)
            } else {
                i.name()
            };
            if let Some(name) = name {
                found.decoy(Technique::Fake, name);
            }
        }
        let mut initials = initials;
        if real == 0 {
            None
        } else {
            initials.swap_remove(real).summary
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_a_long_header() {
        let b = [0xc3, 0, 0, 0, 1, 2, 0xaa, 0xbb, 1, 0xcc, 0];
        assert_eq!(connection_ids(&b), Some((&[0xaa, 0xbb][..], &[0xcc][..])));
        assert_eq!(connection_ids(&b[..7]), None);
        assert_eq!(connection_ids(&[0x40, 1, 2]), None);
    }
}
