//! The registry: the one list of dissectors, in the order they are fed.
//!
//! Each line names a dissector (a type implementing
//! [`Dissector`]); its [`Carrier`] says
//! whether it reads TCP streams, UDP datagrams or an IP protocol's packets.
//! Within a carrier, earlier lines are probed and fed first, so an earlier
//! dissector's verdict wins when two decide on the same bytes.
//!
//! Adding a protocol: write its module (a probe, a state, a verdict), then
//! add one line here. The dispatcher ([`super::state`]) loops over this
//! list; nothing else names a protocol.

use super::dissector::{Carrier, Dissector, Input, Probe, Probing, Step, Verdict};
use super::{
    amneziawg, dns, dtls, fully_encrypted, gre, http, iodine, ipsec, l2tp, mtproto, n2n, nbns,
    openvpn, plain_proxy, pptp, proxy, quic, softether, ssh, starttls, tinc, tls, wireguard,
};

/// Declares the registry: [`Kind`] (which dissector), [`Live`] (a running
/// dissector's state, boxed, dispatched by `match` rather than through a
/// trait object) and the lookups the dispatcher needs.
macro_rules! registry {
    ($( $(#[$doc:meta])* $kind:ident => $ty:ty, )+) => {
        /// A registered dissector.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Kind {
            $( $(#[$doc])* $kind, )+
        }

        impl Kind {
            /// Every dissector, in registry order.
            pub const ALL: &'static [Kind] = &[$(Kind::$kind,)+];

            /// Where its bytes come from.
            #[inline]
            pub fn carrier(self) -> Carrier {
                match self {
                    $(Kind::$kind => <$ty as Dissector>::CARRIER,)+
                }
            }

            /// What its probe's "no" means.
            #[inline]
            pub fn probing(self) -> Probing {
                match self {
                    $(Kind::$kind => <$ty as Dissector>::PROBING,)+
                }
            }

            /// Started on a flow's second datagram (see
            /// [`Dissector::DEFERRED`]).
            #[inline]
            pub fn deferred(self) -> bool {
                match self {
                    $(Kind::$kind => <$ty as Dissector>::DEFERRED,)+
                }
            }

            /// May overturn a one-message verdict (see
            /// [`Dissector::OVERTURNS`]).
            #[inline]
            pub fn overturns(self) -> bool {
                match self {
                    $(Kind::$kind => <$ty as Dissector>::OVERTURNS,)+
                }
            }

            /// Its probe, on the first bytes of a side.
            #[inline]
            pub fn probe(self, bytes: &[u8], side: usize) -> Probe {
                match self {
                    $(Kind::$kind => <$ty as Dissector>::probe(bytes, side),)+
                }
            }

            /// Its state, for a flow it may be.
            pub(super) fn start(self) -> Live {
                match self {
                    $(Kind::$kind => Live::$kind(Box::new(<$ty as Dissector>::start())),)+
                }
            }

            /// The dissector's name as the registry spells it.
            pub fn name(self) -> &'static str {
                match self {
                    $(Kind::$kind => stringify!($kind),)+
                }
            }

            /// This dissector's bit in a set of dissectors.
            #[inline]
            pub fn bit(self) -> u64 {
                1 << self as u32
            }

            /// The dissectors of `set`, in registry order.
            pub fn each(set: u64) -> impl Iterator<Item = Kind> {
                let mut left = set & (u64::MAX >> (64 - Kind::ALL.len()));
                std::iter::from_fn(move || {
                    let at = left.trailing_zeros() as usize;
                    left &= left.wrapping_sub(1);
                    Kind::ALL.get(at).copied()
                })
            }

            /// The dissectors that read what `carrier` carries, as a set.
            pub fn reading(carrier: Carrier) -> u64 {
                match carrier {
                    Carrier::Stream => Kind::STREAM,
                    Carrier::Datagram => Kind::DATAGRAM,
                    Carrier::Ip(_) => Kind::ALL
                        .iter()
                        .filter(|k| k.carrier() == carrier)
                        .fold(0, |set, k| set | k.bit()),
                }
            }

            /// The dissectors that read reassembled streams, as a set.
            pub const STREAM: u64 = 0 $(| if matches!(<$ty as Dissector>::CARRIER, Carrier::Stream) {
                1u64 << Kind::$kind as u32
            } else {
                0
            })+;

            /// The dissectors that read datagrams, as a set.
            pub const DATAGRAM: u64 = 0 $(| if matches!(<$ty as Dissector>::CARRIER, Carrier::Datagram) {
                1u64 << Kind::$kind as u32
            } else {
                0
            })+;

            /// The dissectors that may overturn a one-message verdict, as a
            /// set.
            pub const OVERTURNING: u64 = 0 $(| if <$ty as Dissector>::OVERTURNS {
                1u64 << Kind::$kind as u32
            } else {
                0
            })+;

            /// The deferred dissectors whose settle may say something of a
            /// one-datagram flow (see [`Dissector::SETTLES_ONE_DATAGRAM`]),
            /// as a set.
            pub const SETTLING_ONE_DATAGRAM: u64 = 0 $(| if <$ty as Dissector>::SETTLES_ONE_DATAGRAM {
                1u64 << Kind::$kind as u32
            } else {
                0
            })+;
        }

        /// A running dissector's state.
        pub(super) enum Live {
            $( $kind(Box<$ty>), )+
        }

        impl Live {
            pub(super) fn kind(&self) -> Kind {
                match self {
                    $(Live::$kind(_) => Kind::$kind,)+
                }
            }

            pub(super) fn feed(&mut self, input: &Input<'_>) -> Step {
                match self {
                    $(Live::$kind(d) => d.feed(input),)+
                }
            }

            pub(super) fn follows(&self) -> bool {
                match self {
                    $(Live::$kind(d) => d.follows(),)+
                }
            }

            pub(super) fn settle(&self) -> Option<Verdict> {
                match self {
                    $(Live::$kind(d) => d.settle(),)+
                }
            }
        }

        impl std::fmt::Debug for Live {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.kind().name())
            }
        }
    };
}

registry! {
    // TCP streams.
    /// HTTP CONNECT and SOCKS5: the proxied stream is classified afresh.
    Proxy => proxy::Proxy,
    /// SoftEther's clear-text requests (before HTTP, which they are).
    SoftEtherHttp => softether::SoftEtherHttp,
    /// HTTP/1.x: a request head, or a status line when only the server is seen.
    Http => http::HttpDissector,
    /// DNS over TCP: a length-prefixed message.
    DnsTcp => dns::DnsTcp,
    /// TLS: the ClientHello and ServerHello, or records picked up mid-flow.
    Tls => tls::TlsDissector,
    /// OpenVPN over TCP (2-byte framing).
    OpenVpnTcp => openvpn::OpenVpnTcp,
    /// OpenVPN with the XOR patch over TCP (after plain OpenVPN).
    OpenVpnXorTcp => openvpn::OpenVpnXorTcp,
    /// IKE over TCP (RFC 8229).
    IkeTcp => ipsec::IkeTcp,
    /// Telegram's MTProto: plain transports, obfuscated2 decrypted.
    Mtproto => mtproto::Mtproto,
    /// Trojan's request header without TLS.
    Trojan => plain_proxy::Trojan,
    /// VLESS's request and response headers without TLS.
    Vless => plain_proxy::Vless,
    /// A plaintext opening that switches to TLS (SMTP, IMAP, POP3, FTP,
    /// XMPP, LDAP, PostgreSQL): an upgrade, never a verdict.
    StartTls => starttls::StartTls,
    /// PPTP's control connection (RFC 2637).
    PptpControl => pptp::PptpControl,
    /// SSH: the identification string.
    Ssh => ssh::Ssh,
    /// tinc's meta connection: the ID lines.
    Tinc => tinc::Tinc,
    /// Fully-encrypted streams (a finding, never a protocol): last.
    FullyEncrypted => fully_encrypted::FullyEncrypted,

    // UDP datagrams.
    /// NetBIOS name service: DNS's layout with an encoded NetBIOS name
    /// (before DNS, which would take it).
    Nbns => nbns::Nbns,
    /// iodine: NULL/PRIVATE queries get DNS's verdict, then the handshake.
    Iodine => iodine::Iodine,
    /// DNS: one message per datagram.
    Dns => dns::DnsUdp,
    /// QUIC and Google QUIC client Initials.
    Quic => quic::QuicDissector,
    /// DTLS hellos, one datagram at a time (OpenConnect's DTLS noted).
    Dtls => dtls::Dtls,
    /// OpenVPN over UDP.
    OpenVpnUdp => openvpn::OpenVpnUdp,
    /// OpenVPN with the XOR patch over UDP (after plain OpenVPN).
    OpenVpnXorUdp => openvpn::OpenVpnXorUdp,
    /// WireGuard.
    WireGuard => wireguard::WireGuard,
    /// AmneziaWG: WireGuard's handshake behind junk, prefixes and renumbered
    /// types (after WireGuard, which keeps plain WireGuard).
    AmneziaWg => amneziawg::AmneziaWg,
    /// IKE on 500/4500 and ESP-in-UDP (RFC 3948).
    IpsecUdp => ipsec::IpsecUdp,
    /// L2TP (v2 control and data, v3 control) on any port.
    L2tp => l2tp::L2tp,
    /// SoftEther's NAT-traversal address query.
    SoftEtherUdp => softether::SoftEtherUdp,
    /// n2n v1: the packet header and community name.
    N2n => n2n::N2n,
    /// tinc's encrypted UDP data channel, after its meta connection.
    TincUdp => tinc::TincUdp,
    /// Fully-encrypted datagrams (a finding, never a protocol): last.
    FullyEncryptedUdp => fully_encrypted::FullyEncryptedUdp,

    // IP protocols.
    /// ESP (IP protocol 50).
    Esp => ipsec::Esp,
    /// AH (IP protocol 51).
    Ah => ipsec::Ah,
    /// GRE (IP protocol 47): PPTP's enhanced GRE, plain GRE tunnels.
    Gre => gre::Gre,
}

/// Dissectors fit a 64-bit set.
const _: () = assert!(Kind::ALL.len() <= 64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_listed_once_in_order() {
        for (i, k) in Kind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i);
            assert_eq!(k.bit().count_ones(), 1);
        }
        let carriers: Vec<Carrier> = Kind::ALL.iter().map(|k| k.carrier()).collect();
        assert!(carriers.contains(&Carrier::Stream));
        assert!(carriers.contains(&Carrier::Datagram));
    }

    /// The sets agree with each dissector's own constants, and `each`
    /// walks a set in registry order.
    #[test]
    fn sets_match_the_kinds() {
        for &k in Kind::ALL {
            assert_eq!(
                Kind::STREAM & k.bit() != 0,
                k.carrier() == Carrier::Stream,
                "{k:?}"
            );
            assert_eq!(
                Kind::DATAGRAM & k.bit() != 0,
                k.carrier() == Carrier::Datagram,
                "{k:?}"
            );
            assert_eq!(Kind::OVERTURNING & k.bit() != 0, k.overturns(), "{k:?}");
            assert_eq!(Kind::reading(k.carrier()) & k.bit(), k.bit(), "{k:?}");
        }
        let all: Vec<Kind> = Kind::each(u64::MAX).collect();
        assert_eq!(all, Kind::ALL);
        let streams: Vec<Kind> = Kind::each(Kind::STREAM).collect();
        let expected: Vec<Kind> = Kind::ALL
            .iter()
            .copied()
            .filter(|k| k.carrier() == Carrier::Stream)
            .collect();
        assert_eq!(streams, expected);
        assert_eq!(Kind::each(0).count(), 0);
    }

    /// A deferred dissector that says it settles on no one-datagram flow
    /// indeed settles on none: fed a single datagram, random or shaped as
    /// its protocol's first message, from either side, it says nothing.
    #[test]
    fn no_settle_on_one_datagram_where_the_registry_says_so() {
        use crate::classify::dissector::Input;
        // A random n2n v1 packet (community "siftnet") and datagrams of
        // AmneziaWG initiation sizes among the random ones.
        let mut n2n = vec![1, 1, 0, 0];
        n2n.extend(b"siftnet\0\0\0\0\0\0\0\0\0");
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut datagrams: Vec<Vec<u8>> = Vec::new();
        for len in [1, 4, 20, 32, 92, 100, 148, 150, 180, 212, 300, 1200] {
            for _ in 0..20 {
                datagrams.push((0..len).map(|_| next() as u8).collect());
            }
        }
        for extra in [0, 10, 100] {
            let mut d = n2n.clone();
            d.extend((0..crate::classify::n2n::HEADER - 20 + extra).map(|_| next() as u8));
            datagrams.push(d);
        }
        let quiet: Vec<Kind> = Kind::ALL
            .iter()
            .copied()
            .filter(|k| k.deferred() && Kind::SETTLING_ONE_DATAGRAM & k.bit() == 0)
            .collect();
        for k in [
            Kind::AmneziaWg,
            Kind::N2n,
            Kind::OpenVpnUdp,
            Kind::SoftEtherUdp,
        ] {
            assert!(quiet.contains(&k), "{k:?}");
        }
        for kind in quiet {
            for d in &datagrams {
                for side in [0, 1] {
                    let mut live = kind.start();
                    let input = Input {
                        ports: [40000, 51820],
                        fingerprints: true,
                        bytes: d,
                        side,
                        packet: 1,
                        first: false,
                        client_from: None,
                        ts: 0,
                        links: &[],
                    };
                    live.feed(&input);
                    assert!(live.settle().is_none(), "{kind:?} settled on {d:02x?}");
                }
            }
        }
    }
}
