//! What the TLS and QUIC classifiers keep of a handshake for the flow
//! record: the names and fingerprints of a ClientHello, the choices of a
//! ServerHello, in the form the output writes them.

use std::fmt;
use std::sync::Arc;

use super::tls::{is_grease, ClientHello, Ech, Fingerprints, ServerHello};

/// The client's side of a TLS (or QUIC) handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelloSummary {
    /// Server name, lowercase, no trailing dot.
    pub sni: Option<String>,
    /// The name as sent, when it differs from `sni`.
    pub sni_raw: Option<String>,
    pub legacy_version: u16,
    /// `supported_versions`, GREASE removed, in the client's order.
    pub versions: Vec<u16>,
    pub alpn: Vec<String>,
    /// JA3 and JA4, shared with the thread's memo of recent hellos; None
    /// when nothing reads them (the accessors then give empty text).
    pub fingerprints: Option<Arc<Fingerprints>>,
    pub ech: Ech,
}

impl HelloSummary {
    /// The JA3 string ("" when not computed).
    pub fn ja3_string(&self) -> &str {
        self.fingerprints.as_ref().map_or("", |f| &f.ja3_string)
    }

    /// The JA3 hash ("" when not computed).
    pub fn ja3_hash(&self) -> &str {
        self.fingerprints.as_ref().map_or("", |f| &f.ja3_hash)
    }

    /// JA4 ("" when not computed).
    pub fn ja4(&self) -> &str {
        self.fingerprints.as_ref().map_or("", |f| &f.ja4)
    }

    /// JA4_r ("" when not computed).
    pub fn ja4_r(&self) -> &str {
        self.fingerprints.as_ref().map_or("", |f| &f.ja4_r)
    }

    /// The summary of `ch`; with `fingerprints` false its JA3 and JA4
    /// strings are left empty (nothing will read them).
    pub fn new(ch: &ClientHello, quic: bool, fingerprints: bool) -> Self {
        let names = (ch.sni.clone(), ch.sni_raw.clone(), ch.alpn.clone());
        Self::with_names(ch, names, quic, fingerprints)
    }

    /// [`new`](Self::new), the names moved out of `ch` rather than copied
    /// (its `sni`, `sni_raw` and `alpn` are left empty): for a hello read
    /// for its summary, four allocations fewer in most.
    pub fn taking(ch: &mut ClientHello, quic: bool, fingerprints: bool) -> Self {
        let names = (
            ch.sni.take(),
            ch.sni_raw.take(),
            std::mem::take(&mut ch.alpn),
        );
        Self::with_names(ch, names, quic, fingerprints)
    }

    /// The summary of `ch` with its names given apart (the fingerprints
    /// read none of them).
    fn with_names(
        ch: &ClientHello,
        (sni, sni_raw, alpn): (Option<String>, Option<String>, Vec<String>),
        quic: bool,
        fingerprints: bool,
    ) -> Self {
        HelloSummary {
            sni,
            sni_raw,
            legacy_version: ch.legacy_version,
            versions: ch
                .supported_versions
                .iter()
                .copied()
                .filter(|v| !is_grease(*v))
                .collect(),
            alpn,
            fingerprints: fingerprints.then(|| ch.fingerprints(quic)),
            ech: ch.ech,
        }
    }

    /// A TLS 1.3 hello (1.2 also offered) naming `sni`, nothing else
    /// set: for tests.
    #[cfg(test)]
    pub(crate) fn naming(sni: Option<&str>) -> Self {
        HelloSummary {
            sni: sni.map(Into::into),
            sni_raw: None,
            legacy_version: 0x0303,
            versions: vec![0x0304, 0x0303],
            alpn: vec![],
            fingerprints: None,
            ech: Ech::None,
        }
    }

    /// The highest version the client offers.
    pub fn max_version(&self) -> u16 {
        self.versions
            .iter()
            .copied()
            .filter(|&v| v <= 0x0304)
            .max()
            .unwrap_or(self.legacy_version)
    }
}

/// The server's choices in its ServerHello.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerSummary {
    pub version: u16,
    pub cipher: u16,
    pub alpn: Option<String>,
    pub hello_retry_request: bool,
}

impl ServerSummary {
    pub fn new(sh: &ServerHello) -> Self {
        ServerSummary {
            version: sh.version,
            cipher: sh.cipher,
            alpn: sh.alpn.clone(),
            hello_retry_request: sh.hello_retry_request,
        }
    }
}

/// What the client's QUIC Initials say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuicSummary {
    pub version: u32,
    /// The TLS ClientHello from the CRYPTO frames (IETF QUIC, and Google's
    /// T05x).
    pub hello: Option<HelloSummary>,
    /// Google QUIC's CHLO SNI tag (Q0xx), lowercase.
    pub gquic_sni: Option<String>,
}

impl QuicSummary {
    pub fn sni(&self) -> Option<&str> {
        self.hello
            .as_ref()
            .and_then(|h| h.sni.as_deref())
            .or(self.gquic_sni.as_deref())
    }
}

/// A QUIC version's usual name ("1", "2", "draft-29", "Q050", ...).
pub fn quic_version_name(v: u32) -> String {
    QuicVersion(v).to_string()
}

/// A TLS protocol version as Suricata's EVE names it ("TLS 1.3", ...),
/// written where it is needed (EVE writes it without allocating).
#[derive(Clone, Copy)]
pub struct TlsVersion(pub u16);

impl TlsVersion {
    /// The name, for the versions named by a constant.
    pub fn known(self) -> Option<&'static str> {
        Some(match self.0 {
            0x0200 => "SSLv2",
            0x0300 => "SSLv3",
            0x0301 => "TLS 1.0",
            0x0302 => "TLS 1.1",
            0x0303 => "TLS 1.2",
            0x0304 => "TLS 1.3",
            _ => return None,
        })
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.known(), self.0) {
            (Some(name), _) => f.write_str(name),
            (None, v) if v >> 8 == 0x7f => write!(f, "TLS 1.3 draft {}", v & 0xff),
            (None, v) => write!(f, "0x{v:04x}"),
        }
    }
}

/// [`quic_version_name`], written where it is needed.
#[derive(Clone, Copy)]
pub struct QuicVersion(pub u32);

impl QuicVersion {
    /// The name, for the versions named by a constant.
    pub fn known(self) -> Option<&'static str> {
        match self.0 {
            0x0000_0001 => Some("1"),
            0x6b33_43cf => Some("2"),
            _ => None,
        }
    }
}

impl fmt::Display for QuicVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.known(), self.0) {
            (Some(name), _) => f.write_str(name),
            (None, v) if v >> 8 == 0xff_0000 => write!(f, "draft-{}", v & 0xff),
            (None, v) if (v >> 24) as u8 == b'Q' || (v >> 24) as u8 == b'T' => {
                f.write_str(&String::from_utf8_lossy(&v.to_be_bytes()))
            }
            (None, v) => write!(f, "0x{v:08x}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(TlsVersion(0x0303).to_string(), "TLS 1.2");
        assert_eq!(TlsVersion(0x7f1c).to_string(), "TLS 1.3 draft 28");
        assert_eq!(TlsVersion(0x0a0a).to_string(), "0x0a0a");
        assert_eq!(quic_version_name(1), "1");
        assert_eq!(quic_version_name(0xff00_001d), "draft-29");
        assert_eq!(quic_version_name(0x5130_3530), "Q050");
        assert_eq!(quic_version_name(0x6b33_43cf), "2");
    }
}
