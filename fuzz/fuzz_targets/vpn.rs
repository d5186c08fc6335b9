//! The VPN fingerprinters (OpenVPN, WireGuard, IKE, ESP, AH, UDP
//! encapsulation) over input-chosen datagrams and stream chunks of one flow.
//! Input: [kind and direction][length hi][length lo][bytes]... repeated;
//! kind = byte % 4: UDP datagram, TCP stream bytes, ESP packet, AH packet;
//! direction = bit 7.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sift::classify::vpn::VpnProbes;

fuzz_target!(|data: &[u8]| {
    let mut udp = VpnProbes::default();
    let mut tcp = VpnProbes::default();
    let mut ipsec = VpnProbes::default();
    let mut rest = data;
    let mut packet = 0u64;
    while rest.len() >= 3 {
        let (kind, from_client) = (rest[0] % 4, rest[0] & 0x80 == 0);
        let len = (usize::from(rest[1] & 0x07) << 8 | usize::from(rest[2])).min(rest.len() - 3);
        let bytes = &rest[3..3 + len];
        rest = &rest[3 + len..];
        let verdict = match kind {
            0 => udp.datagram(bytes, from_client, packet),
            1 => tcp.stream(bytes, from_client, packet),
            2 => ipsec.esp(bytes, from_client, packet),
            _ => ipsec.ah(bytes, from_client, packet),
        };
        if let Some(v) = verdict {
            assert!(!v.evidence.is_empty() || v.protocol == "esp" || v.protocol == "ah");
        }
        packet += 1;
    }
    let _ = (udp.settle(), tcp.settle(), ipsec.settle());
});
