//! The application's REST API: what each model looks like over HTTP, which
//! operations it offers, and how lists filter and sort. The OpenAPI document at
//! `/openapi.json` (committed as `openapi.json`) is generated from these.

use chrono::{DateTime, Utc};

use crate::models::Note;

/// A short note.
#[fw::resource(
    model = Note,
    name = "Note",
    path = "/notes",
    actions(list, retrieve, create, update, partial_update, destroy),
    permissions(model),
    read_only(id, created_at, updated_at, version),
    filter(title(exact, icontains), created_at(gte, lt)),
    search(title, body),
    ordering(created_at, title),
    default_ordering = "-created_at"
)]
pub struct NoteResource {
    /// Surrogate key.
    pub id: i64,
    /// A one-line title.
    pub title: String,
    /// The text of the note.
    pub body: String,
    /// When the note was created.
    pub created_at: DateTime<Utc>,
    /// When the note last changed.
    pub updated_at: DateTime<Utc>,
    /// Row version: the `ETag`; send it back in `If-Match` to update safely.
    pub version: i64,
}
