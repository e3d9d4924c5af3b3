//! Sensitive fields: sealed before they reach the database, opened only by
//! holders of the configured keys.
//!
//! [`Keyring`] holds the keys (`FW_SECRET_KEYS`) and does the cryptography:
//! XChaCha20-Poly1305 with a fresh random nonce per write, the table, column and
//! row bound as associated data, and HMAC-SHA256 digests for the equality
//! lookups of searchable fields.

mod erase;
mod keys;
mod rotate;
mod sealed;

pub use erase::{
    Erased, Erasure, MAX_LEDGER_LINE, NewErasure, ReplayReport, erase, export_erasures,
    replay_erasures,
};
pub use keys::{KEY_BYTES, KeyError, Keyring, MAX_KEY_ID_LENGTH, OpenError, Place};
pub use rotate::{RotateOptions, RotationReport, TableRotation, rotate_keys};
pub use sealed::{ERASED, SealedModel, erased_digest};
