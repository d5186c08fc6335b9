//! The ServerHello: the version, cipher suite and group the server chose,
//! and whether it is a HelloRetryRequest.

use super::*;

/// The random of a HelloRetryRequest: SHA-256 of "HelloRetryRequest"
/// (RFC 8446 §4.1.3).
pub const HELLO_RETRY_REQUEST_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// A parsed ServerHello (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerHello {
    pub legacy_version: u16,
    /// The version chosen: supported_versions when sent (TLS 1.3), else
    /// legacy_version.
    pub version: u16,
    pub cipher: u16,
    pub compression_method: u8,
    /// Every extension type, in wire order.
    pub extensions: Vec<u16>,
    /// The protocol chosen, when ALPN is in the ServerHello (TLS 1.2). In
    /// TLS 1.3 it travels in the encrypted EncryptedExtensions: `None`.
    pub alpn: Option<String>,
    /// The key_share group: of the server's share, or the one a
    /// HelloRetryRequest asks for.
    pub key_share_group: Option<u16>,
    /// The random is the HelloRetryRequest value.
    pub hello_retry_request: bool,
    /// Extensions whose content did not parse.
    pub extension_errors: Vec<TlsError>,
}

/// Parses a ServerHello body (after the 4-byte handshake header). A
/// HelloRetryRequest has the same layout and comes out with
/// `hello_retry_request` set.
pub fn parse_server_hello(body: &[u8]) -> Result<ServerHello, TlsError> {
    let mut c = Cursor::new(body);
    let legacy_version = c.u16("ServerHello legacy_version")?;
    let random = c.take(32, "ServerHello random")?;
    // TLS 1.3 drafts before 22 (0x7f00 + draft) name the version here and
    // have neither session id nor compression method (restored in draft
    // 22 for middlebox compatibility).
    let early_draft = legacy_version >> 8 == 0x7f && legacy_version & 0xff < 22;
    if !early_draft {
        c.vec8("ServerHello legacy_session_id_echo")?;
    }
    let cipher = c.u16("ServerHello cipher_suite")?;
    let compression_method = if early_draft {
        0
    } else {
        c.u8("ServerHello legacy_compression_method")?
    };
    let mut sh = ServerHello {
        legacy_version,
        version: legacy_version,
        cipher,
        compression_method,
        hello_retry_request: random == HELLO_RETRY_REQUEST_RANDOM,
        ..ServerHello::default()
    };
    if c.is_empty() {
        return Ok(sh);
    }
    let mut exts = c.vec16("ServerHello extensions")?;
    c.finish("ServerHello")?;
    let mut seen = 0u16;
    while !exts.is_empty() {
        let ty = exts.u16("extension type")?;
        let data = exts.vec16("extension data")?;
        sh.extensions.push(ty);
        if let Err(e) = sh.read_extension(ExtensionType(ty), data, &mut seen) {
            sh.extension_errors.push(e);
        }
    }
    Ok(sh)
}

impl ServerHello {
    pub(super) fn read_extension(
        &mut self,
        ty: ExtensionType,
        mut d: Cursor<'_>,
        seen: &mut u16,
    ) -> Result<(), TlsError> {
        match ty {
            ExtensionType::SUPPORTED_VERSIONS if first_time(seen, SEEN_VERSIONS) => {
                let v = d.u16("supported_versions selected_version")?;
                d.finish("supported_versions")?;
                self.version = v;
            }
            ExtensionType::ALPN if first_time(seen, SEEN_ALPN) => {
                let mut list = d.vec16("ALPN list")?;
                d.finish("ALPN")?;
                let name = list.vec8("ALPN protocol name")?.rest();
                list.finish("ALPN list")?;
                self.alpn = Some(String::from_utf8_lossy(name).into_owned());
            }
            ExtensionType::KEY_SHARE if first_time(seen, SEEN_KEY_SHARE) => {
                // HelloRetryRequest: selected_group only; ServerHello: one
                // KeyShareEntry.
                let group = d.u16("key_share group")?;
                if !self.hello_retry_request {
                    d.vec16("key_share key_exchange")?;
                }
                d.finish("key_share")?;
                self.key_share_group = Some(group);
            }
            _ => {}
        }
        Ok(())
    }
}
