//! The application's REST API: what each model looks like over HTTP, which
//! operations it offers, and how lists filter and sort. The OpenAPI document at
//! `/openapi.json` (committed as `openapi.json`) is generated from these.

use crate::models::Note;

/// A short note.
#[fw::resource(
    model = Note,
    name = "Note",
    path = "/notes",
    fields = all,
    actions(list, retrieve, create, update, partial_update, destroy),
    permissions(model),
    filter(title(exact, icontains), created_at(gte, lt)),
    search(title, body),
    ordering(created_at, title),
    default_ordering = "-created_at"
)]
pub struct NoteResource;
