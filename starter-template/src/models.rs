//! The application's data. Change a model, then run `fw makemigrations` to write
//! the migration and `fw migrate` to apply it.

use chrono::{DateTime, Utc};

/// A short note.
#[derive(Clone, PartialEq)]
#[fw::model]
pub struct Note {
    /// Surrogate key.
    pub id: i64,
    /// A one-line title.
    #[field(min_length = 1, max_length = 200)]
    pub title: String,
    /// The text of the note.
    #[field(default = "", max_length = 10_000)]
    pub body: String,
    /// When the note was created.
    #[field(auto_now_add)]
    pub created_at: DateTime<Utc>,
    /// When the note last changed.
    #[field(auto_now)]
    pub updated_at: DateTime<Utc>,
    /// Row version, bumped by every update: the `ETag`; send it back in
    /// `If-Match` to update safely.
    #[field(version)]
    pub version: i64,
}
