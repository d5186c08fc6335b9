//! A UDP-encapsulated IPsec flow (RFC 3948): IKE behind the non-ESP
//! marker, NAT-T keepalives and ESP sharing one UDP flow.

use super::*;

/// Per-flow reader of a UDP-encapsulated IPsec flow (RFC 3948, port 4500):
/// IKE behind the non-ESP marker, NAT-keepalives and ESP share it.
#[derive(Clone, Debug)]
pub struct UdpEncapTracker {
    pub(super) examined: u32,
    pub(super) refused: Option<Refusal>,
    /// Made on the first message behind the non-ESP marker: a flow of
    /// ESP-like (or random) datagrams never has one, and it is a kilobyte.
    pub(super) ike: Option<Box<IkeTracker>>,
    pub(super) esp: EspTracker,
    pub(super) ike_messages: u32,
    pub(super) keepalives: u32,
    pub(super) decided: Option<VpnVerdict>,
}

impl Default for UdpEncapTracker {
    fn default() -> Self {
        Self::new()
    }
}

impl UdpEncapTracker {
    pub fn new() -> Self {
        UdpEncapTracker {
            examined: 0,
            refused: None,
            ike: None,
            esp: EspTracker::in_udp(),
            ike_messages: 0,
            keepalives: 0,
            decided: None,
        }
    }

    pub fn refusal(&self) -> Option<&Refusal> {
        self.refused
            .as_ref()
            .or(self.ike_refusal())
            .or(self.esp.refusal())
    }

    fn ike_refusal(&self) -> Option<&Refusal> {
        self.ike.as_ref().and_then(|i| i.refusal())
    }

    fn ike_paired(&self) -> bool {
        self.ike.as_ref().is_some_and(|i| i.is_paired())
    }

    fn ike_verdict(&self) -> Option<VpnVerdict> {
        self.ike.as_ref().and_then(|i| i.verdict())
    }

    /// Reads one UDP payload of the flow.
    ///
    /// Returns `Verdict` with protocol `esp` once ESP is in sequence (with
    /// IKE's details when IKE was seen); a flow with IKE only stays
    /// `Candidate` (ESP usually follows) until [`MAX_MESSAGES`], then is
    /// `ike` — or ask [`Self::verdict`] when it ends.
    pub fn on_datagram(&mut self, payload: &[u8], from_client: bool, packet: u64) -> Progress {
        if self.refused.is_some() {
            return Progress::NotThis;
        }
        if self.examined >= MAX_MESSAGES {
            return match &self.decided {
                Some(v) => Progress::Verdict(v.clone()),
                None => {
                    self.refused = Some(Refusal::Undecided(self.examined));
                    Progress::NotThis
                }
            };
        }
        self.examined += 1;
        let outcome = if payload == [NAT_KEEPALIVE] {
            self.keepalives += 1;
            Progress::Candidate
        } else if payload.starts_with(&NON_ESP_MARKER) {
            self.ike_messages += 1;
            (self.ike.get_or_insert_with(Box::default)).on_datagram(payload, from_client, packet)
        } else {
            self.esp.ike_paired = self.ike_paired();
            self.esp.on_packet(payload, from_client, packet)
        };
        if outcome == Progress::NotThis {
            self.refused = self
                .ike_refusal()
                .or(self.esp.refusal())
                .copied()
                .or(Some(Refusal::Empty));
            self.decided = None;
            return Progress::NotThis;
        }
        let last = self.examined >= MAX_MESSAGES;
        match self.conclude(last) {
            Some(v) => {
                self.decided = Some(v.clone());
                Progress::Verdict(v)
            }
            None if last => {
                self.refused = Some(Refusal::Undecided(self.examined));
                Progress::NotThis
            }
            None => Progress::Candidate,
        }
    }

    /// What the evidence so far supports, for a caller that stops feeding.
    pub fn verdict(&self) -> Option<VpnVerdict> {
        if self.refused.is_some() {
            return None;
        }
        self.conclude(true)
    }

    pub(super) fn conclude(&self, at_end: bool) -> Option<VpnVerdict> {
        let paired = self.ike_paired();
        if let Some(level) = self.esp.sas.level(EspCarrier::Udp, paired, at_end) {
            let mut v = self.esp.build(level);
            if let Some(ike) = self.ike_verdict() {
                v.details.extend(ike.details);
                v.evidence.splice(0..0, ike.evidence);
            }
            v.details
                .push(("nat_keepalives", Value::Number(self.keepalives.into())));
            return Some(v);
        }
        // IKE alone decides only when no more ESP can come, and not when
        // unconfirmed ESP-like packets are all the flow had.
        if !at_end || (self.esp.packets() > 0 && self.ike_messages == 0) {
            return None;
        }
        let mut v = self.ike_verdict()?;
        v.details
            .push(("nat_keepalives", Value::Number(self.keepalives.into())));
        Some(v)
    }
}
