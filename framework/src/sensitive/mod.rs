//! Sensitive fields: sealed before they reach the database, opened only by
//! holders of the configured keys.
//!
//! [`Keyring`] holds the keys (`FW_SECRET_KEYS`) and does the cryptography:
//! XChaCha20-Poly1305 with a fresh random nonce per write, the table, column and
//! row bound as associated data, and HMAC-SHA256 digests for the equality
//! lookups of searchable fields.
//!
//! [`SensitiveRead`] is the audit of responses that showed sensitive values.

mod command;
mod erase;
mod keys;
pub(crate) mod reads;
mod rotate;
mod sealed;

pub(crate) use command::{SensitiveCommand, run as run_command};
pub use erase::{
    Erased, Erasure, MAX_LEDGER_LINE, NewErasure, ReplayReport, erase, export_erasures,
    replay_erasures,
};
pub use keys::{KEY_BYTES, KeyError, Keyring, MAX_KEY_ID_LENGTH, OpenError, Place};
pub use reads::{SensitiveRead, VIEW_SENSITIVE_READS};
pub use rotate::{RotateOptions, RotationReport, TableRotation, rotate_keys};
pub use sealed::SealedModel;

/// What an erased sealed field holds in the database: the empty string, never a
/// sealed form (those start with `fw1:`), read back as the empty string for a
/// `String` field. An erased `Option<String>` field holds NULL, and an erased
/// field's digest is NULL.
pub const ERASED: &str = "";

/// A [`Column`](crate::Column) of a field stored as it is: every filter and
/// ordering applies.
#[derive(Debug)]
pub enum Plain {}

/// A [`Column`](crate::Column) of a `#[field(sensitive(searchable))]` field:
/// `eq` and `is_in` compare its digest; nothing else can be done with a
/// sealed value in the database.
#[derive(Debug)]
pub enum Searchable {}

/// A [`Column`](crate::Column) of a `#[field(sensitive)]` field: its sealed
/// value cannot be compared in the database at all.
#[derive(Debug)]
pub enum Sealed {}

/// Columns `eq` and `is_in` apply to: plain and searchable ones.
#[diagnostic::on_unimplemented(
    message = "a `sensitive` field without `searchable` cannot be filtered by value",
    label = "its stored value is sealed with a fresh nonce on every write",
    note = "mark the field `#[field(sensitive(searchable))]` to find rows by equal value through its keyed digest"
)]
pub trait Matchable {}
impl Matchable for Plain {}
impl Matchable for Searchable {}

/// Columns that order, compare by range, `ne` and text patterns apply to:
/// plain ones only.
#[diagnostic::on_unimplemented(
    message = "a `sensitive` field cannot be ordered, compared by range or matched by a text pattern",
    label = "its stored value is sealed: the database sees ciphertext, not the value",
    note = "only `eq` and `is_in` work, on a `#[field(sensitive(searchable))]` field, through its keyed digest"
)]
pub trait Comparable {}
impl Comparable for Plain {}

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
