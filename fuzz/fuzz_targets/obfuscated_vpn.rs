//! The obfuscated-VPN fingerprinters on their own: AmneziaWG's tracker on
//! raw datagrams, and the OpenVPN XOR tracker (UDP and TCP) on packets the
//! input gives in the clear and this target scrambles, so that the
//! fuzzer's OpenVPN-like bytes reach the readings behind the scramble.
//! Input: [mode][mask length][mask bytes...] then [side][length hi][length lo][bytes]...
//! mode = byte % 4: xormask, xorptrpos, reverse, obfuscate; side = bit 0.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sift::classify::amneziawg::AwgTracker;
use sift::classify::openvpn::xor::XorTracker;

fn scramble(mode: u8, mask: &[u8], plain: &[u8]) -> Vec<u8> {
    let xmask = |b: Vec<u8>| -> Vec<u8> {
        if mask.is_empty() {
            return b;
        }
        b.iter()
            .enumerate()
            .map(|(i, x)| x ^ mask[i % mask.len()])
            .collect()
    };
    let ptr = |b: Vec<u8>| -> Vec<u8> {
        b.iter()
            .enumerate()
            .map(|(i, x)| x ^ (i + 1) as u8)
            .collect()
    };
    let rev = |b: Vec<u8>| -> Vec<u8> {
        let mut v = b.get(..1).unwrap_or(&[]).to_vec();
        v.extend(b.iter().skip(1).rev());
        v
    };
    let p = plain.to_vec();
    match mode % 4 {
        0 => xmask(p),
        1 => ptr(p),
        2 => rev(p),
        _ => xmask(ptr(rev(ptr(p)))),
    }
}

fuzz_target!(|data: &[u8]| {
    let [mode, mask_len, rest @ ..] = data else {
        return;
    };
    let n = usize::from(*mask_len % 33).min(rest.len());
    let (mask, mut rest) = rest.split_at(n);
    let mut awg = AwgTracker::new();
    let mut udp = XorTracker::new(false);
    let mut tcp = XorTracker::new(true);
    let mut index = 0u64;
    while rest.len() >= 3 {
        let client = rest[0] & 1 == 0;
        let len = (usize::from(rest[1] & 0x07) << 8 | usize::from(rest[2])).min(rest.len() - 3);
        let bytes = &rest[3..3 + len];
        rest = &rest[3 + len..];
        let _ = awg.on_datagram(bytes, client, index);
        let _ = awg.verdict();
        let w = scramble(*mode, mask, bytes);
        let _ = udp.on_datagram(&w, client, index);
        let mut framed = (w.len() as u16).to_be_bytes().to_vec();
        framed.extend(&w);
        let cut = usize::from(rest.first().copied().unwrap_or(0)) % (framed.len() + 1);
        let _ = tcp.on_stream(&framed[..cut], client, index);
        let _ = tcp.on_stream(&framed[cut..], client, index);
        index += 1;
    }
    let _ = udp.verdict();
    let _ = tcp.verdict();
});
