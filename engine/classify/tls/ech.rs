//! The encrypted_client_hello extension (ECH): outer or inner, and
//! whether its shape is that of BoringSSL's GREASE ECH.

use super::*;

/// The encrypted_client_hello extension (0xfe0d) of a ClientHello.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Ech {
    #[default]
    None,
    /// `outer`: an ECHClientHello of type outer (0), the form seen on the
    /// wire; type inner (1) only travels encrypted. `grease_likely`: the
    /// extension has exactly the shape BoringSSL (Chrome, and the uTLS
    /// copies of it) gives GREASE ECH — see [`ClientHello::ech`]. A
    /// heuristic, not a proof.
    Present { outer: bool, grease_likely: bool },
}

/// HPKE identifiers (RFC 9180 §7) that BoringSSL's GREASE ECH uses.
pub(super) const HPKE_KDF_HKDF_SHA256: u16 = 0x0001;
pub(super) const HPKE_AEAD_AES_128_GCM: u16 = 0x0001;
pub(super) const HPKE_AEAD_CHACHA20_POLY1305: u16 = 0x0003;
/// X25519 `enc` length.
pub(super) const GREASE_ECH_ENC_LEN: usize = 32;
/// 32 × {4, 5, 6, 7} random bytes plus the 16-byte AEAD tag.
pub(super) const GREASE_ECH_PAYLOAD_LENS: [usize; 4] = [144, 176, 208, 240];

/// The ECHClientHello (draft-ietf-tls-esni §5): type outer (0) carries
/// cipher_suite, config_id, enc and payload; type inner (1) is empty.
pub(super) fn read_ech(mut d: Cursor<'_>) -> Result<Ech, TlsError> {
    match d.u8("ECHClientHello type")? {
        0 => {
            let kdf = d.u16("ECH kdf_id")?;
            let aead = d.u16("ECH aead_id")?;
            d.u8("ECH config_id")?;
            let enc = d.vec16("ECH enc")?;
            let payload = d.vec16("ECH payload")?;
            d.finish("ECHClientHello")?;
            let grease_likely = kdf == HPKE_KDF_HKDF_SHA256
                && (aead == HPKE_AEAD_AES_128_GCM || aead == HPKE_AEAD_CHACHA20_POLY1305)
                && enc.remaining() == GREASE_ECH_ENC_LEN
                && GREASE_ECH_PAYLOAD_LENS.contains(&payload.remaining());
            Ok(Ech::Present {
                outer: true,
                grease_likely,
            })
        }
        1 => {
            d.finish("ECHClientHello")?;
            Ok(Ech::Present {
                outer: false,
                grease_likely: false,
            })
        }
        _ => Err(TlsError::Invalid {
            what: "ECHClientHello type",
            offset: d.offset().saturating_sub(1),
            reason: "neither outer (0) nor inner (1)",
        }),
    }
}
