//! OpenVPN over UDP and over TCP as dissectors of the registry.

use super::*;

/// An OpenVPN packet: opcode 1 to 11 in the top five bits; or, for
/// static-key mode (no opcode), an HMAC (16, 20, 32 or 64 bytes) and an IV
/// before whole cipher blocks: a length of 0 or 4 modulo 16.
pub(super) fn could_start_udp(b: &[u8]) -> bool {
    b.len() >= 5
        && ((1..=11).contains(&(b[0] >> 3)) || (b.len() >= 48 && matches!(b.len() % 16, 0 | 4)))
}

/// An OpenVPN TCP stream: a 2-byte length, then an opcode byte.
pub(super) fn could_start_tcp(b: &[u8]) -> bool {
    match b {
        [hi, lo, op, ..] => u16::from_be_bytes([*hi, *lo]) >= 3 && (1..=11).contains(&(op >> 3)),
        [_, _] | [_] => true,
        [] => false,
    }
}

pub(super) fn answer(yes: bool) -> Probe {
    if yes {
        Probe::Maybe
    } else {
        Probe::No
    }
}

/// OpenVPN over UDP.
#[derive(Debug)]
pub struct OpenVpnUdp(OpenVpnTracker);

impl Dissector for OpenVpnUdp {
    const CARRIER: Carrier = Carrier::Datagram;
    const PROBING: Probing = Probing::EachSide;
    const DEFERRED: bool = true;
    /// No settling: only `feed` decides.
    const SETTLES_ONE_DATAGRAM: bool = false;

    fn probe(b: &[u8], _side: usize) -> Probe {
        answer(could_start_udp(b))
    }

    fn start() -> Self {
        OpenVpnUdp(OpenVpnTracker::udp())
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        self.0
            .on_datagram(input.bytes, input.from_client(), input.packet)
            .step()
    }
}

/// OpenVPN over TCP (2-byte framing).
#[derive(Debug)]
pub struct OpenVpnTcp(OpenVpnTracker);

impl Dissector for OpenVpnTcp {
    const CARRIER: Carrier = Carrier::Stream;
    const PROBING: Probing = Probing::FlowOpening;

    fn probe(b: &[u8], _side: usize) -> Probe {
        answer(could_start_tcp(b))
    }

    fn start() -> Self {
        OpenVpnTcp(OpenVpnTracker::tcp())
    }

    fn feed(&mut self, input: &Input<'_>) -> Step {
        self.0
            .on_stream(input.bytes, input.from_client(), input.packet)
            .step()
    }
}
