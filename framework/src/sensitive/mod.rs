//! Sensitive fields: sealed before they reach the database, opened only by
//! holders of the configured keys.
//!
//! [`Keyring`] holds the keys (`FW_SECRET_KEYS`) and does the cryptography:
//! XChaCha20-Poly1305 with a fresh random nonce per write, the table, column and
//! row bound as associated data, and HMAC-SHA256 digests for the equality
//! lookups of searchable fields.
//!
//! [`SensitiveRead`] is the audit of responses that showed sensitive values.

mod keys;
pub(crate) mod reads;

pub use keys::{KEY_BYTES, KeyError, Keyring, MAX_KEY_ID_LENGTH, OpenError, Place};
pub use reads::{SensitiveRead, VIEW_SENSITIVE_READS};
