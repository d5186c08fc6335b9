//! The ClientHello: its fields and extensions, read through checked
//! cursors; the server name normalised.

use super::*;

/// A parsed ClientHello (RFC 8446 §4.1.2). Lists keep wire order and GREASE
/// values; the fingerprints drop GREASE themselves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHello {
    pub legacy_version: u16,
    pub cipher_suites: Vec<u16>,
    /// Every extension type, in wire order, duplicates included.
    pub extensions: Vec<u16>,
    /// The first host_name of server_name (0x0000), ASCII-lowercased, one
    /// trailing dot removed. Bytes that are not UTF-8 become U+FFFD.
    pub sni: Option<String>,
    /// The host_name as sent (lossy UTF-8), only when its bytes differ from
    /// `sni` (case, trailing dot, or bytes that are not UTF-8).
    pub sni_raw: Option<String>,
    /// ALPN protocol names (0x0010), lossy UTF-8.
    pub alpn: Vec<String>,
    /// The exact bytes of the first ALPN name (JA4 reads these), empty when
    /// there is none.
    pub alpn_first_raw: Vec<u8>,
    pub supported_versions: Vec<u16>,
    pub supported_groups: Vec<u16>,
    pub ec_point_formats: Vec<u8>,
    pub signature_algorithms: Vec<u16>,
    /// The group of each key_share entry (0x0033), in order.
    pub key_share_groups: Vec<u16>,
    /// encrypted_client_hello (0xfe0d). `grease_likely` is set when the
    /// outer ECHClientHello has the shape of BoringSSL's GREASE ECH:
    /// KDF HKDF-SHA256, AEAD AES-128-GCM or ChaCha20-Poly1305, a 32-byte
    /// `enc` (an X25519 key) and a payload of 144, 176, 208 or 240 bytes
    /// (32 × 4..=7 random bytes plus a 16-byte tag); the config_id is random
    /// and tells nothing. Real ECH from the same library to a server whose
    /// ECHConfig uses X25519, HKDF-SHA256 and AES-128-GCM pads its payload
    /// to a multiple of 32 as well, and often lands on these lengths: from
    /// one ClientHello, without the server's ECHConfig (its config_id), the
    /// two cannot be told apart. So `true` means "consistent with GREASE",
    /// `false` means "not BoringSSL's GREASE shape" (real ECH, or another
    /// library's GREASE).
    pub ech: Ech,
    /// quic_transport_parameters is present (0x0039, or the drafts' 0xffa5).
    pub quic_transport_parameters: bool,
    /// Extensions whose content did not parse; the fields they fill are
    /// left empty.
    pub extension_errors: Vec<TlsError>,
}

/// Known extensions whose value is read, for first-occurrence-wins.
pub(super) const SEEN_SNI: u16 = 1 << 0;
pub(super) const SEEN_ALPN: u16 = 1 << 1;
pub(super) const SEEN_VERSIONS: u16 = 1 << 2;
pub(super) const SEEN_GROUPS: u16 = 1 << 3;
pub(super) const SEEN_POINT_FORMATS: u16 = 1 << 4;
pub(super) const SEEN_SIG_ALGS: u16 = 1 << 5;
pub(super) const SEEN_KEY_SHARE: u16 = 1 << 6;
pub(super) const SEEN_ECH: u16 = 1 << 7;

/// Parses a ClientHello body (after the 4-byte handshake header), from TLS
/// over TCP or from QUIC CRYPTO frames. The body must be whole: a length
/// that runs past its end is an error. A hello with no extensions at all
/// (SSL 3.0 style) is accepted.
pub fn parse_client_hello(body: &[u8]) -> Result<ClientHello, TlsError> {
    let mut c = Cursor::new(body);
    let legacy_version = c.u16("ClientHello legacy_version")?;
    c.take(32, "ClientHello random")?;
    c.vec8("ClientHello legacy_session_id")?;
    let suites = c.vec16("ClientHello cipher_suites")?;
    if suites.is_empty() {
        return Err(TlsError::Invalid {
            what: "ClientHello cipher_suites",
            offset: suites.offset(),
            reason: "empty list",
        });
    }
    let cipher_suites = suites.u16_list("ClientHello cipher_suites")?;
    let compression = c.vec8("ClientHello legacy_compression_methods")?;
    if compression.is_empty() {
        return Err(TlsError::Invalid {
            what: "ClientHello legacy_compression_methods",
            offset: compression.offset(),
            reason: "empty list",
        });
    }
    let mut ch = ClientHello {
        legacy_version,
        cipher_suites,
        ..ClientHello::default()
    };
    if c.is_empty() {
        return Ok(ch);
    }
    let mut exts = c.vec16("ClientHello extensions")?;
    c.finish("ClientHello")?;
    let mut seen = 0u16;
    while !exts.is_empty() {
        let ty = exts.u16("extension type")?;
        let data = exts.vec16("extension data")?;
        ch.extensions.push(ty);
        if let Err(e) = ch.read_extension(ExtensionType(ty), data, &mut seen) {
            ch.extension_errors.push(e);
        }
    }
    Ok(ch)
}

/// Is this the first time `bit` is seen? Marks it.
pub(super) fn first_time(seen: &mut u16, bit: u16) -> bool {
    let first = *seen & bit == 0;
    *seen |= bit;
    first
}

impl ClientHello {
    pub(super) fn read_extension(
        &mut self,
        ty: ExtensionType,
        mut d: Cursor<'_>,
        seen: &mut u16,
    ) -> Result<(), TlsError> {
        match ty {
            ExtensionType::SERVER_NAME if first_time(seen, SEEN_SNI) => {
                // RFC 6066 §3. Every name type shares the opaque<1..2^16-1>
                // encoding, so unknown ones can be skipped.
                if d.is_empty() {
                    return Ok(());
                }
                let mut list = d.vec16("server_name list")?;
                d.finish("server_name")?;
                let mut host = None;
                while !list.is_empty() {
                    let name_type = list.u8("server_name name_type")?;
                    let mut name = list.vec16("server_name host_name")?;
                    if name_type == 0 && host.is_none() {
                        host = Some(name.rest());
                    }
                }
                if let Some(raw) = host {
                    self.set_sni(raw);
                }
            }
            ExtensionType::ALPN if first_time(seen, SEEN_ALPN) => {
                // RFC 7301 §3.1.
                let mut list = d.vec16("ALPN list")?;
                d.finish("ALPN")?;
                let mut names = Vec::new();
                let mut first_raw = None;
                while !list.is_empty() {
                    let name = list.vec8("ALPN protocol name")?.rest();
                    first_raw.get_or_insert(name);
                    names.push(String::from_utf8_lossy(name).into_owned());
                }
                self.alpn = names;
                self.alpn_first_raw = first_raw.unwrap_or_default().to_vec();
            }
            ExtensionType::SUPPORTED_VERSIONS if first_time(seen, SEEN_VERSIONS) => {
                let list = d.vec8("supported_versions")?;
                d.finish("supported_versions")?;
                self.supported_versions = list.u16_list("supported_versions")?;
            }
            ExtensionType::SUPPORTED_GROUPS if first_time(seen, SEEN_GROUPS) => {
                let list = d.vec16("supported_groups")?;
                d.finish("supported_groups")?;
                self.supported_groups = list.u16_list("supported_groups")?;
            }
            ExtensionType::EC_POINT_FORMATS if first_time(seen, SEEN_POINT_FORMATS) => {
                let mut list = d.vec8("ec_point_formats")?;
                d.finish("ec_point_formats")?;
                self.ec_point_formats = list.rest().to_vec();
            }
            ExtensionType::SIGNATURE_ALGORITHMS if first_time(seen, SEEN_SIG_ALGS) => {
                let list = d.vec16("signature_algorithms")?;
                d.finish("signature_algorithms")?;
                self.signature_algorithms = list.u16_list("signature_algorithms")?;
            }
            ExtensionType::KEY_SHARE if first_time(seen, SEEN_KEY_SHARE) => {
                // RFC 8446 §4.2.8: KeyShareEntry client_shares<0..2^16-1>.
                let mut list = d.vec16("key_share list")?;
                d.finish("key_share")?;
                let mut groups = Vec::new();
                while !list.is_empty() {
                    groups.push(list.u16("key_share group")?);
                    list.vec16("key_share key_exchange")?;
                }
                self.key_share_groups = groups;
            }
            ExtensionType::ENCRYPTED_CLIENT_HELLO if first_time(seen, SEEN_ECH) => {
                self.ech = read_ech(d)?;
            }
            ExtensionType::QUIC_TRANSPORT_PARAMETERS
            | ExtensionType::QUIC_TRANSPORT_PARAMETERS_DRAFT => {
                self.quic_transport_parameters = true;
            }
            _ => {}
        }
        Ok(())
    }

    pub(super) fn set_sni(&mut self, raw: &[u8]) {
        let lossy = String::from_utf8_lossy(raw);
        let mut normalized = lossy.to_ascii_lowercase();
        if normalized.ends_with('.') {
            normalized.pop();
        }
        if normalized.as_bytes() != raw {
            self.sni_raw = Some(lossy.into_owned());
        }
        self.sni = Some(normalized);
    }

    /// Was this extension sent (whatever its content)?
    pub fn has_extension(&self, ty: ExtensionType) -> bool {
        self.extensions.contains(&ty.0)
    }

    /// Was a server_name extension sent (whatever its content)?
    pub fn has_sni_extension(&self) -> bool {
        self.has_extension(ExtensionType::SERVER_NAME)
    }
}
