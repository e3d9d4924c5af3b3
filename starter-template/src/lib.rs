//! The application: its models, their REST resources, its roles, and its
//! commands.

pub mod models;
pub mod resources;

use models::Note;
use resources::NoteResource;

/// The application. With no command it applies pending migrations and serves, so
/// a fresh checkout runs with no set-up.
///
/// Identity is on (`auth()`): every request but login needs a user's token or
/// session, and each operation a permission. `createuser <name> --role editor`
/// makes a user who may do everything with notes.
pub fn app() -> fw::App {
    fw::app!()
        .default_command(&["serve", "--migrate"])
        .model::<Note>()
        .auth()
        .role(
            "editor",
            "Reads, writes and deletes notes.",
            &["view_note", "add_note", "change_note", "delete_note"],
        )
        .api(api())
}

/// The REST API, served with its OpenAPI document at `/openapi.json` and its
/// documentation at `/docs`. The title and version head that document.
pub fn api() -> fw::Api {
    fw::Api::new("Notes", "0.1.0").resource::<NoteResource>()
}
