//! Sensitive fields: sealed before they reach the database, opened only by
//! holders of the configured keys.
//!
//! [`Keyring`] holds the keys (`FW_SECRET_KEYS`) and does the cryptography:
//! XChaCha20-Poly1305 with a fresh random nonce per write, the table, column and
//! row bound as associated data, and HMAC-SHA256 digests for the equality
//! lookups of searchable fields.

mod command;
mod erase;
mod keys;
mod rotate;
mod sealed;
pub(crate) mod store;

pub(crate) use command::{SensitiveCommand, run as run_command};
pub use erase::{
    Erased, Erasure, MAX_LEDGER_LINE, NewErasure, ReplayReport, erase, export_erasures,
    replay_erasures,
};
pub use keys::{KEY_BYTES, KeyError, Keyring, MAX_KEY_ID_LENGTH, OpenError, Place};
pub use rotate::{RotateOptions, RotationReport, TableRotation, rotate_keys};
pub use sealed::SealedModel;
pub use store::ERASED;

/// The Rust types a `#[field(sensitive)]` field may have: text, or optional
/// text. Generated code opens each sealed field in place through it.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "a `sensitive` field must be a `String` or an `Option<String>`, not `{Self}`",
    label = "sealed values are text",
    note = "personal data is sealed as text; store a number or a date as its text, or drop `sensitive`"
)]
pub trait SealedText {
    /// The text to open, if there is a value.
    fn sealed_text(&mut self) -> Option<&mut String>;
}

impl SealedText for String {
    fn sealed_text(&mut self) -> Option<&mut String> {
        Some(self)
    }
}

impl SealedText for Option<String> {
    fn sealed_text(&mut self) -> Option<&mut String> {
        self.as_mut()
    }
}
