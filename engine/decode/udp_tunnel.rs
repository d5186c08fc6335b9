//! Tunnels carried in UDP, opened to their inner IP packet like GRE:
//! VXLAN (RFC 7348), Geneve (RFC 8926), GTP-U (3GPP TS 29.281), Teredo
//! (RFC 4380), CAPWAP data (RFC 5415) and TZSP.
//!
//! Each is looked for only on its registered port (the port is how the
//! receiver itself demultiplexes these protocols), and opened only when its
//! header is well formed — version, flags, reserved bits, the message
//! type and length where it has them — and what it carries reaches an IPv4
//! or IPv6 header (through an Ethernet frame, or an 802.11 data frame with
//! LLC/SNAP, where the tunnel carries frames). The caller then parses that
//! IP packet; if it is broken, the outer UDP datagram stays the flow.
//! Fragmented, encrypted (DTLS CAPWAP, protected 802.11) and keepalive
//! packets are not opened.

use super::link::{self, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_TEB};
use crate::bytes::be16;

/// A kind of tunnel (also GRE and IP-in-IP, opened elsewhere), as a bit in
/// a set of the kinds a packet went through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    IpInIp,
    Gre,
    Vxlan,
    Geneve,
    GtpU,
    Teredo,
    Capwap,
    Tzsp,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::IpInIp,
        Kind::Gre,
        Kind::Vxlan,
        Kind::Geneve,
        Kind::GtpU,
        Kind::Teredo,
        Kind::Capwap,
        Kind::Tzsp,
    ];

    pub fn bit(self) -> u16 {
        1 << self as u16
    }

    /// The name EVE writes (`sift.tunnel_types`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::IpInIp => "ipip",
            Kind::Gre => "gre",
            Kind::Vxlan => "vxlan",
            Kind::Geneve => "geneve",
            Kind::GtpU => "gtpu",
            Kind::Teredo => "teredo",
            Kind::Capwap => "capwap",
            Kind::Tzsp => "tzsp",
        }
    }

    /// The kinds in a set, in [`Kind::ALL`] order.
    pub fn names(set: u16) -> impl Iterator<Item = &'static str> {
        Kind::ALL
            .into_iter()
            .filter(move |k| set & k.bit() != 0)
            .map(Kind::as_str)
    }
}

pub const VXLAN_PORT: u16 = 4789;
pub const GENEVE_PORT: u16 = 6081;
pub const GTPU_PORT: u16 = 2152;
pub const TEREDO_PORT: u16 = 3544;
pub const CAPWAP_DATA_PORT: u16 = 5247;
pub const TZSP_PORT: u16 = 37008;

/// Is a UDP datagram (`udp`: header first) on a tunnel's port? (The cheap
/// first look of a packet's router, which must send a tunnelled flow's
/// packets where its inner addresses say.)
#[inline]
pub fn on_port(udp: &[u8]) -> bool {
    let (Some(src), Some(dst)) = (be16(udp, 0), be16(udp, 2)) else {
        return false;
    };
    matches!(dst, VXLAN_PORT | GENEVE_PORT | TZSP_PORT)
        || [GTPU_PORT, TEREDO_PORT, CAPWAP_DATA_PORT]
            .iter()
            .any(|&p| src == p || dst == p)
}

/// The inner IP packet of a UDP datagram (`udp`: header and payload), and
/// the kind of tunnel it was in.
pub fn open(udp: &[u8]) -> Option<(Kind, &[u8])> {
    let (src, dst) = (be16(udp, 0)?, be16(udp, 2)?);
    let len = usize::from(be16(udp, 4)?);
    // Trust the UDP length only when it fits what was captured.
    let end = if (8..=udp.len()).contains(&len) {
        len
    } else {
        udp.len()
    };
    let b = udp.get(8..end)?;
    let on = |port: u16| src == port || dst == port;
    if dst == VXLAN_PORT {
        return vxlan(b).map(|i| (Kind::Vxlan, i));
    }
    if dst == GENEVE_PORT {
        return geneve(b).map(|i| (Kind::Geneve, i));
    }
    if on(GTPU_PORT) {
        return gtpu(b).map(|i| (Kind::GtpU, i));
    }
    if on(TEREDO_PORT) {
        return teredo(b).map(|i| (Kind::Teredo, i));
    }
    if on(CAPWAP_DATA_PORT) {
        return capwap(b).map(|i| (Kind::Capwap, i));
    }
    if dst == TZSP_PORT {
        return tzsp(b).map(|i| (Kind::Tzsp, i));
    }
    None
}

/// The IP packet of an Ethernet frame.
fn ethernet_ip(frame: &[u8]) -> Option<&[u8]> {
    link::ethernet(frame).ok().map(|n| n.bytes)
}

/// VXLAN: flags with the I (VNI valid) bit, reserved bytes zero, then an
/// Ethernet frame.
fn vxlan(b: &[u8]) -> Option<&[u8]> {
    let h = b.get(..8)?;
    if h[0] & 0x08 == 0 || h[0] & 0x37 != 0 || h[7] != 0 {
        return None;
    }
    ethernet_ip(&b[8..])
}

/// Geneve: version 0, options length, reserved bits clear, then what the
/// protocol type says (Ethernet, IPv4, IPv6).
fn geneve(b: &[u8]) -> Option<&[u8]> {
    let h = b.get(..8)?;
    if h[0] >> 6 != 0 || h[1] & 0x3f != 0 || h[7] != 0 {
        return None;
    }
    let inner = b.get(8 + usize::from(h[0] & 0x3f) * 4..)?;
    match be16(h, 2)? {
        ETHERTYPE_TEB => ethernet_ip(inner),
        ETHERTYPE_IPV4 if inner.first()? >> 4 == 4 => Some(inner),
        ETHERTYPE_IPV6 if inner.first()? >> 4 == 6 => Some(inner),
        _ => None,
    }
}

/// GTP-U: version 1, protocol type GTP, a G-PDU (type 255) whose length
/// fits, the optional fields and extension headers walked, then IP.
fn gtpu(b: &[u8]) -> Option<&[u8]> {
    let h = b.get(..8)?;
    if h[0] >> 5 != 1 || h[0] & 0x10 == 0 || h[0] & 0x08 != 0 || h[1] != 0xff {
        return None;
    }
    let end = 8 + usize::from(be16(h, 2)?);
    // A capture may keep less than the message.
    let msg = &b[..end.min(b.len())];
    let mut at = 8;
    if h[0] & 0x07 != 0 {
        // Sequence number, N-PDU number, next extension header type.
        let mut next = *msg.get(11)?;
        at = 12;
        for _ in 0..8 {
            if next == 0 {
                break;
            }
            let len = usize::from(*msg.get(at)?) * 4;
            if len == 0 {
                return None;
            }
            next = *msg.get(at + len - 1)?;
            at += len;
        }
        if next != 0 {
            return None;
        }
    }
    let inner = msg.get(at..)?;
    matches!(inner.first()? >> 4, 4 | 6).then_some(inner)
}

/// Teredo: an IPv6 packet filling the datagram, maybe behind an authentication indicator and an
/// origin indication.
fn teredo(b: &[u8]) -> Option<&[u8]> {
    let mut at = 0;
    if be16(b, 0)? == 0x0001 {
        // Client id and authentication value lengths, nonce, confirmation.
        at = 4 + usize::from(*b.get(2)?) + usize::from(*b.get(3)?) + 8 + 1;
    }
    if be16(b, at)? == 0x0000 {
        // Origin indication: port and address, obfuscated.
        at += 8;
    }
    // One whole IPv6 packet: its payload length fills the datagram.
    let inner = b.get(at..)?;
    let whole = be16(inner, 4).is_some_and(|len| usize::from(len) + 40 == inner.len());
    (inner.len() >= 40 && inner[0] >> 4 == 6 && whole).then_some(inner)
}

/// CAPWAP data channel: preamble version 0 type 0 (not DTLS), no fragment,
/// not a keepalive; an 802.3 frame, or an 802.11 frame (wireless binding 1).
fn capwap(b: &[u8]) -> Option<&[u8]> {
    let h = b.get(..8)?;
    if h[0] != 0 {
        return None;
    }
    let v = u32::from(h[1]) << 16 | u32::from(h[2]) << 8 | u32::from(h[3]);
    let hlen = (v >> 19 & 0x1f) as usize * 4;
    let wbid = v >> 9 & 0x1f;
    let (native, fragment, keepalive) = (v >> 8 & 1 == 1, v >> 7 & 1 == 1, v >> 3 & 1 == 1);
    if hlen < 8 || fragment || keepalive {
        return None;
    }
    let frame = b.get(hlen..)?;
    match (native, wbid) {
        (false, _) => ethernet_ip(frame),
        (true, 1) => ieee80211_ip(frame),
        _ => None,
    }
}

/// TZSP: version 1, tagged fields up to the end tag, then the frame the
/// encapsulation field names (Ethernet or 802.11).
fn tzsp(b: &[u8]) -> Option<&[u8]> {
    if *b.first()? != 1 || *b.get(1)? > 5 {
        return None;
    }
    let encapsulation = be16(b, 2)?;
    let mut at = 4;
    loop {
        match *b.get(at)? {
            0 => at += 1,
            1 => {
                at += 1;
                break;
            }
            _ => at += 2 + usize::from(*b.get(at + 1)?),
        }
    }
    let frame = b.get(at..)?;
    match encapsulation {
        1 => ethernet_ip(frame),
        18 => ieee80211_ip(frame),
        _ => None,
    }
}

/// The IP packet of an unprotected 802.11 data frame with an LLC/SNAP
/// header. Cisco access points send the frame control field's two bytes
/// swapped in CAPWAP; the LLC/SNAP header where the layout puts it tells
/// which order holds.
fn ieee80211_ip(f: &[u8]) -> Option<&[u8]> {
    let (a, b) = (*f.first()?, *f.get(1)?);
    ieee80211_with(f, a, b).or_else(|| ieee80211_with(f, b, a))
}

fn ieee80211_with(f: &[u8], fc0: u8, fc1: u8) -> Option<&[u8]> {
    let (kind, subtype) = ((fc0 >> 2) & 3, fc0 >> 4);
    // Data frames only; null-data subtypes carry nothing; protected ones
    // are encrypted.
    if kind != 2 || subtype & 0x4 != 0 || fc1 & 0x40 != 0 || fc0 & 3 != 0 {
        return None;
    }
    let mut at = 24;
    if fc1 & 3 == 3 {
        at += 6; // four addresses
    }
    if subtype & 0x8 != 0 {
        at += 2; // QoS control
        if fc1 & 0x80 != 0 {
            at += 4; // HT control
        }
    }
    let llc = f.get(at..at + 8)?;
    if llc[..3] != [0xaa, 0xaa, 0x03] {
        return None;
    }
    let inner = &f[at + 8..];
    match be16(llc, 6)? {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => Some(inner),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv4 header start (enough for the tunnel decoders, which only
    /// look at the version).
    const IP4: [u8; 4] = [0x45, 0, 0, 20];

    fn udp(src: u16, dst: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&src.to_be_bytes());
        v.extend_from_slice(&dst.to_be_bytes());
        v.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes());
        v.extend_from_slice(&[0, 0]);
        v.extend_from_slice(payload);
        v
    }

    fn ethernet(ip: &[u8]) -> Vec<u8> {
        let mut v = vec![0u8; 12];
        v.extend_from_slice(&[0x08, 0x00]);
        v.extend_from_slice(ip);
        v
    }

    #[test]
    fn vxlan_and_geneve() {
        let mut p = vec![0x08, 0, 0, 0, 0, 0, 42, 0];
        p.extend_from_slice(&ethernet(&IP4));
        assert_eq!(open(&udp(50000, 4789, &p)), Some((Kind::Vxlan, &IP4[..])));
        p[0] = 0; // no VNI flag
        assert_eq!(open(&udp(50000, 4789, &p)), None);
        // Geneve with 4 bytes of options carrying IPv4.
        let mut g = vec![0x01, 0, 0x08, 0x00, 0, 0, 7, 0, 1, 2, 3, 4];
        g.extend_from_slice(&IP4);
        assert_eq!(open(&udp(1, 6081, &g)), Some((Kind::Geneve, &IP4[..])));
        g[0] = 0x41; // version 1
        assert_eq!(open(&udp(1, 6081, &g)), None);
    }

    #[test]
    fn gtpu_with_and_without_extension_headers() {
        let mut p = vec![0x30, 0xff, 0, 4, 0, 0, 0, 1];
        p.extend_from_slice(&IP4);
        assert_eq!(open(&udp(2152, 2152, &p)), Some((Kind::GtpU, &IP4[..])));
        // E flag: seq, N-PDU, next type 0x85 (PDU session container, 4 bytes).
        let mut e = vec![0x34, 0xff, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0x85, 1, 0x10, 9, 0];
        e.extend_from_slice(&IP4);
        assert_eq!(open(&udp(2152, 2152, &e)), Some((Kind::GtpU, &IP4[..])));
        // GTP-C echo (type 1) is not a G-PDU.
        p[1] = 1;
        assert_eq!(open(&udp(2152, 2152, &p)), None);
    }

    #[test]
    fn teredo_with_origin_indication() {
        let mut v6 = vec![0x60u8];
        v6.resize(40, 0);
        let mut p = vec![0, 0, 0x12, 0x34, 1, 2, 3, 4];
        p.extend_from_slice(&v6);
        assert_eq!(open(&udp(3544, 50000, &p)), Some((Kind::Teredo, &v6[..])));
        assert_eq!(open(&udp(3544, 50000, &[0x45; 40])), None);
    }

    #[test]
    fn capwap_80211_and_tzsp_ethernet() {
        // CAPWAP: HLEN 2 (8 bytes), WBID 1, T set.
        let mut p = vec![0x00, 0x10, 0x03, 0x00, 0, 0, 0, 0];
        // 802.11 data, to DS, then LLC/SNAP IPv4.
        p.extend_from_slice(&[0x08, 0x01]);
        p.extend_from_slice(&[0u8; 22]);
        p.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
        p.extend_from_slice(&IP4);
        assert_eq!(open(&udp(40000, 5247, &p)), Some((Kind::Capwap, &IP4[..])));
        // DTLS-protected CAPWAP (preamble type 1) stays closed.
        p[0] = 0x01;
        assert_eq!(open(&udp(40000, 5247, &p)), None);
        let mut t = vec![1, 0, 0, 1, 0, 10, 2, 0, 0, 1];
        t.extend_from_slice(&ethernet(&IP4));
        assert_eq!(open(&udp(1, 37008, &t)), Some((Kind::Tzsp, &IP4[..])));
    }

    #[test]
    fn random_payloads_on_tunnel_ports_rarely_reach_an_ip_packet() {
        let mut x: u32 = 5;
        let mut opened = 0;
        for port in [4789u16, 6081, 2152, 3544, 5247, 37008] {
            for n in 0..3000usize {
                let p: Vec<u8> = (0..n % 200)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        x as u8
                    })
                    .collect();
                let udp = udp(1, port, &p);
                let inner = open(&udp).map(|(_, ip)| super::super::ip::parse(ip));
                opened += usize::from(matches!(inner, Some(Ok(_))));
            }
        }
        assert!(opened < 20, "{opened} of 18000 random datagrams opened");
    }
}
