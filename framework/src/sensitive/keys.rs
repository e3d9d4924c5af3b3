//! [`Keyring`]: the configured keys, and the three things done with them:
//! sealing a value, opening it, and the keyed digest equality lookups compare.
//!
//! Each configured key is 32 random bytes with a short id. HKDF-SHA256 derives
//! two keys from it, one for XChaCha20-Poly1305 and one for HMAC-SHA256, so a
//! digest never reveals anything about the encryption key and one secret per id
//! is all an operator handles.
//!
//! A sealed value is text, so it fits the column type the field always had on
//! both databases:
//!
//! ```text
//! fw1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>
//! ```
//!
//! The associated data binds the value to its place, the table, the column and
//! the row's primary key: a ciphertext copied to another row or column fails to
//! open instead of reading as someone else's value.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The version tag every sealed value starts with.
const SEALED_PREFIX: &str = "fw1";
/// The bytes of a configured key.
pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;
/// Poly1305's tag.
const TAG_BYTES: usize = 16;
/// The longest key id: ids are stored in every sealed value and digest.
pub const MAX_KEY_ID_LENGTH: usize = 32;

/// Where a sealed value lives: its table, column and row. Bound into the
/// ciphertext as associated data.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    /// The table's name.
    pub table: &'a str,
    /// The column's name.
    pub column: &'a str,
    /// The row's primary key, as text.
    pub row: &'a str,
}

impl Place<'_> {
    fn associated_data(&self) -> Vec<u8> {
        let mut data = Vec::with_capacity(
            SEALED_PREFIX.len() + self.table.len() + self.column.len() + self.row.len() + 3,
        );
        for (index, part) in [SEALED_PREFIX, self.table, self.column, self.row]
            .into_iter()
            .enumerate()
        {
            if index > 0 {
                data.push(0);
            }
            data.extend_from_slice(part.as_bytes());
        }
        data
    }
}

/// Why the configured keys cannot be used. The messages name the variable's
/// entry, never a key's bytes.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    /// No key is configured.
    #[error("no key is configured")]
    Empty,
    /// An entry is not `id:base64`.
    #[error("entry {position} is not `id:base64-key`")]
    NotAnEntry {
        /// The 1-based position of the entry.
        position: usize,
    },
    /// A key id is empty, too long or has characters other than letters,
    /// digits, `-` and `_`.
    #[error(
        "entry {position}: the key id must be 1 to {MAX_KEY_ID_LENGTH} letters, digits, `-` or `_`"
    )]
    BadId {
        /// The 1-based position of the entry.
        position: usize,
    },
    /// Two entries share an id.
    #[error("key id `{id}` appears twice")]
    DuplicateId {
        /// The repeated id.
        id: String,
    },
    /// A key is not base64 of exactly [`KEY_BYTES`] bytes.
    #[error("key `{id}` is not base64 of exactly {KEY_BYTES} bytes")]
    BadKey {
        /// The key's id.
        id: String,
    },
}

/// Why a stored value did not open. Never wrong data: a value that does not
/// authenticate is an error.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenError {
    /// The stored text is not a sealed value (written in clear, or truncated).
    #[error("the stored value is not a sealed value")]
    Malformed,
    /// Sealed with a key that is not configured (retired too early).
    #[error("sealed with key `{id}`, which is not configured")]
    UnknownKey {
        /// The id the value names.
        id: String,
    },
    /// The ciphertext does not authenticate for this place: tampered with, or
    /// moved from another row, column or table.
    #[error("the value does not authenticate here (tampered with, or moved from another row)")]
    Inauthentic,
}

/// One configured key, with what HKDF derives from it.
struct Key {
    id: String,
    cipher: XChaCha20Poly1305,
    digest_key: [u8; KEY_BYTES],
}

impl Key {
    fn new(id: String, secret: &[u8; KEY_BYTES]) -> Key {
        let hkdf = Hkdf::<Sha256>::new(None, secret);
        let mut encryption_key = [0u8; KEY_BYTES];
        let mut digest_key = [0u8; KEY_BYTES];
        hkdf.expand(b"fw sensitive encryption v1", &mut encryption_key)
            .and_then(|()| hkdf.expand(b"fw sensitive digest v1", &mut digest_key))
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        let cipher = XChaCha20Poly1305::new_from_slice(&encryption_key)
            .expect("XChaCha20-Poly1305 takes a 32-byte key");
        Key {
            id,
            cipher,
            digest_key,
        }
    }

    fn digest(&self, table: &str, column: &str, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.digest_key)
            .expect("HMAC takes a key of any length");
        for (index, part) in [table, column, value].into_iter().enumerate() {
            if index > 0 {
                mac.update(&[0]);
            }
            mac.update(part.as_bytes());
        }
        format!(
            "{}:{}",
            self.id,
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }
}

/// The configured keys, newest first: the first seals, every one opens.
///
/// Built from configuration (`FW_SECRET_KEYS`, see [`Keyring::parse`]); its
/// `Debug` shows the ids only.
pub struct Keyring {
    keys: Vec<Key>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("ids", &self.ids().collect::<Vec<_>>())
            .finish()
    }
}

impl Keyring {
    /// Reads keys written as `id:base64-key` entries separated by commas, the
    /// first being the one that seals: `2026-12:q5X...,2026-06:Zk1...`. Each key
    /// is [`KEY_BYTES`] bytes, base64 with or without padding, standard or
    /// URL-safe alphabet.
    ///
    /// # Errors
    ///
    /// A [`KeyError`] naming the entry at fault.
    pub fn parse(text: &str) -> Result<Keyring, KeyError> {
        let mut keys: Vec<Key> = Vec::new();
        for (index, entry) in text.split(',').map(str::trim).enumerate() {
            let position = index + 1;
            if entry.is_empty() && text.trim().is_empty() {
                return Err(KeyError::Empty);
            }
            let (id, encoded) = entry
                .split_once(':')
                .ok_or(KeyError::NotAnEntry { position })?;
            if !is_key_id(id) {
                return Err(KeyError::BadId { position });
            }
            if keys.iter().any(|key| key.id == id) {
                return Err(KeyError::DuplicateId { id: id.to_owned() });
            }
            let secret =
                decode_key(encoded).ok_or_else(|| KeyError::BadKey { id: id.to_owned() })?;
            keys.push(Key::new(id.to_owned(), &secret));
        }
        Ok(Keyring { keys })
    }

    /// A fresh `id:base64-key` entry from the operating system's random numbers,
    /// for `generate-key`.
    ///
    /// # Errors
    ///
    /// When the operating system has no random numbers to give.
    pub fn generate_entry(id: &str) -> Result<String, getrandom::Error> {
        let mut secret = [0u8; KEY_BYTES];
        getrandom::fill(&mut secret)?;
        Ok(format!("{id}:{}", URL_SAFE_NO_PAD.encode(secret)))
    }

    /// The ids, sealing key first.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|key| key.id.as_str())
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> &str {
        &self.current().id
    }

    /// How every value the current key seals begins: stale values are those
    /// that do not, which a query can select without the keys.
    pub fn current_sealed_prefix(&self) -> String {
        format!("{SEALED_PREFIX}:{}:", self.current_id())
    }

    /// How every digest the current key makes begins.
    pub fn current_digest_prefix(&self) -> String {
        format!("{}:", self.current_id())
    }

    fn current(&self) -> &Key {
        self.keys
            .first()
            .expect("a keyring is built with at least one key")
    }

    /// Seals `value` for `place` with the current key and a fresh random nonce.
    ///
    /// # Errors
    ///
    /// When the operating system has no random numbers to give.
    pub fn seal(&self, place: &Place<'_>, value: &str) -> Result<String, getrandom::Error> {
        let key = self.current();
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce)?;
        let aad = place.associated_data();
        let ciphertext = key
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: value.as_bytes(),
                    aad: &aad,
                },
            )
            .expect("XChaCha20-Poly1305 seals any value that fits in memory");
        let mut sealed = Vec::with_capacity(NONCE_BYTES + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(format!(
            "{SEALED_PREFIX}:{}:{}",
            key.id,
            URL_SAFE_NO_PAD.encode(sealed)
        ))
    }

    /// Opens a value [`Keyring::seal`] stored at `place`.
    ///
    /// # Errors
    ///
    /// An [`OpenError`]: the text is not a sealed value, its key is not
    /// configured, or it does not authenticate at this place.
    pub fn open(&self, place: &Place<'_>, stored: &str) -> Result<String, OpenError> {
        let (id, encoded) = split_sealed(stored).ok_or(OpenError::Malformed)?;
        let key = self
            .keys
            .iter()
            .find(|key| key.id == id)
            .ok_or_else(|| OpenError::UnknownKey { id: id.to_owned() })?;
        let bytes = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| OpenError::Malformed)?;
        if bytes.len() < NONCE_BYTES + TAG_BYTES {
            return Err(OpenError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce = XNonce::try_from(nonce).map_err(|_| OpenError::Malformed)?;
        let aad = place.associated_data();
        let clear = key
            .cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| OpenError::Inauthentic)?;
        String::from_utf8(clear).map_err(|_| OpenError::Inauthentic)
    }

    /// Whether `stored` was sealed with a key other than the current one (or is
    /// not a sealed value at all): what `rotate-keys` rewrites.
    pub fn is_stale(&self, stored: &str) -> bool {
        split_sealed(stored).is_none_or(|(id, _)| id != self.current_id())
    }

    /// The keyed digest of `value` in `table`.`column` under the current key:
    /// what a searchable field stores next to its sealed value.
    pub fn digest(&self, table: &str, column: &str, value: &str) -> String {
        self.current().digest(table, column, value)
    }

    /// The digests of `value` under every configured key, current first: what an
    /// equality lookup compares with, so rows not yet rotated are still found.
    pub fn digests(&self, table: &str, column: &str, value: &str) -> Vec<String> {
        self.keys
            .iter()
            .map(|key| key.digest(table, column, value))
            .collect()
    }

    /// Whether `digest` was made with a key other than the current one.
    pub fn is_stale_digest(&self, digest: &str) -> bool {
        digest
            .split_once(':')
            .is_none_or(|(id, _)| id != self.current_id())
    }
}

fn is_key_id(id: &str) -> bool {
    (1..=MAX_KEY_ID_LENGTH).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

fn decode_key(encoded: &str) -> Option<[u8; KEY_BYTES]> {
    let unpadded = encoded.trim_end_matches('=');
    let bytes = URL_SAFE_NO_PAD
        .decode(unpadded)
        .or_else(|_| STANDARD_NO_PAD.decode(unpadded))
        .ok()?;
    bytes.try_into().ok()
}

/// The key id and encoded bytes of a sealed value.
fn split_sealed(stored: &str) -> Option<(&str, &str)> {
    let rest = stored.strip_prefix(SEALED_PREFIX)?.strip_prefix(':')?;
    let (id, encoded) = rest.split_once(':')?;
    is_key_id(id).then_some((id, encoded))
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    const NEW: &str = "new:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    const OLD: &str = "old:HxwdHhsaGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA";

    fn place(row: &str) -> Place<'_> {
        Place {
            table: "account",
            column: "tax_id",
            row,
        }
    }

    #[test]
    fn a_sealed_value_opens_at_its_place_and_nowhere_else() {
        let keyring = Keyring::parse(NEW).unwrap();
        let sealed = keyring.seal(&place("7"), "123-45-6789").unwrap();
        assert!(sealed.starts_with("fw1:new:"), "{sealed}");
        assert!(!sealed.contains("123-45-6789"));
        assert_eq!(keyring.open(&place("7"), &sealed).unwrap(), "123-45-6789");
        assert_eq!(
            keyring.open(&place("8"), &sealed),
            Err(OpenError::Inauthentic),
            "another row"
        );
        let other_column = Place {
            column: "holder_name",
            ..place("7")
        };
        assert_eq!(
            keyring.open(&other_column, &sealed),
            Err(OpenError::Inauthentic)
        );
        let other_table = Place {
            table: "customer",
            ..place("7")
        };
        assert_eq!(
            keyring.open(&other_table, &sealed),
            Err(OpenError::Inauthentic)
        );
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let keyring = Keyring::parse(NEW).unwrap();
        let first = keyring.seal(&place("7"), "same").unwrap();
        let second = keyring.seal(&place("7"), "same").unwrap();
        assert_ne!(first, second);
    }

    #[test]
    fn a_changed_byte_is_an_error_never_other_data() {
        let keyring = Keyring::parse(NEW).unwrap();
        let sealed = keyring.seal(&place("7"), "123-45-6789").unwrap();
        let (head, encoded) = sealed.rsplit_once(':').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(encoded).unwrap();
        for index in 0..bytes.len() {
            bytes[index] ^= 0x01;
            let tampered = format!("{head}:{}", URL_SAFE_NO_PAD.encode(&bytes));
            assert_eq!(
                keyring.open(&place("7"), &tampered),
                Err(OpenError::Inauthentic),
                "byte {index}"
            );
            bytes[index] ^= 0x01;
        }
        assert_eq!(
            keyring.open(&place("7"), "123-45-6789"),
            Err(OpenError::Malformed)
        );
        assert_eq!(
            keyring.open(&place("7"), "fw1:new:AAAA"),
            Err(OpenError::Malformed)
        );
    }

    #[test]
    fn old_keys_open_and_only_the_first_seals() {
        let old = Keyring::parse(OLD).unwrap();
        let sealed_with_old = old.seal(&place("7"), "x").unwrap();
        let rotated = Keyring::parse(&format!("{NEW}, {OLD}")).unwrap();
        assert_eq!(rotated.current_id(), "new");
        assert_eq!(rotated.open(&place("7"), &sealed_with_old).unwrap(), "x");
        assert!(rotated.is_stale(&sealed_with_old));
        assert!(!rotated.is_stale(&rotated.seal(&place("7"), "x").unwrap()));
        let retired = Keyring::parse(NEW).unwrap();
        assert_eq!(
            retired.open(&place("7"), &sealed_with_old),
            Err(OpenError::UnknownKey { id: "old".into() })
        );
    }

    #[test]
    fn digests_are_keyed_and_placed() {
        let keyring = Keyring::parse(&format!("{NEW},{OLD}")).unwrap();
        let digest = keyring.digest("account", "tax_id", "123");
        assert_eq!(
            digest,
            keyring.digest("account", "tax_id", "123"),
            "deterministic"
        );
        assert!(digest.starts_with("new:"));
        assert_ne!(digest, keyring.digest("account", "tax_id", "124"));
        assert_ne!(digest, keyring.digest("account", "holder_name", "123"));
        let digests = keyring.digests("account", "tax_id", "123");
        assert_eq!(digests.len(), 2);
        assert_eq!(digests[0], digest);
        assert!(keyring.is_stale_digest(&digests[1]));
        let old = Keyring::parse(OLD).unwrap();
        assert_eq!(digests[1], old.digest("account", "tax_id", "123"));
    }

    #[test]
    fn configuration_errors_name_the_entry_not_the_key() {
        assert_eq!(Keyring::parse("").unwrap_err(), KeyError::Empty);
        assert_eq!(Keyring::parse("  ").unwrap_err(), KeyError::Empty);
        assert_eq!(
            Keyring::parse("justbase64").unwrap_err(),
            KeyError::NotAnEntry { position: 1 }
        );
        assert_eq!(
            Keyring::parse(&format!("{NEW},bad id:AAAA")).unwrap_err(),
            KeyError::BadId { position: 2 }
        );
        assert_eq!(
            Keyring::parse(&format!("{NEW},{NEW}")).unwrap_err(),
            KeyError::DuplicateId { id: "new".into() }
        );
        assert_eq!(
            Keyring::parse("short:AAECAw").unwrap_err(),
            KeyError::BadKey { id: "short".into() }
        );
        assert_eq!(
            Keyring::parse(&format!("{NEW},")).unwrap_err(),
            KeyError::NotAnEntry { position: 2 }
        );
    }

    #[test]
    fn keys_are_read_in_either_base64_alphabet_with_or_without_padding() {
        let secret: Vec<u8> = (0u8..32).collect();
        for encoded in [
            URL_SAFE_NO_PAD.encode(&secret),
            STANDARD.encode(&secret),
            STANDARD.encode(&secret).trim_end_matches('=').to_owned(),
        ] {
            let keyring = Keyring::parse(&format!("k:{encoded}")).unwrap();
            assert_eq!(
                keyring.digest("t", "c", "v"),
                Keyring::parse(NEW.replace("new", "k").as_str())
                    .unwrap()
                    .digest("t", "c", "v")
            );
        }
    }

    #[test]
    fn generated_entries_parse_and_differ() {
        let first = Keyring::generate_entry("2026-12").unwrap();
        let second = Keyring::generate_entry("2026-12").unwrap();
        assert_ne!(first, second);
        assert_eq!(Keyring::parse(&first).unwrap().current_id(), "2026-12");
    }

    #[test]
    fn debug_shows_ids_only() {
        let keyring = Keyring::parse(&format!("{NEW},{OLD}")).unwrap();
        assert_eq!(format!("{keyring:?}"), r#"Keyring { ids: ["new", "old"] }"#);
    }
}
