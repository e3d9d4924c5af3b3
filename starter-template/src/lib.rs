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

/// The API's versions, newest first: a client names one in `Api-Version`
/// (see the README's "Change the API without breaking clients"). Until the
/// first release, the one version is unreleased: its API may still change
/// in ways that break clients.
pub const VERSIONS: fw::Versions =
    fw::Versions::new(&[fw::Version::first("2026-12-01", "The first version.").unreleased()]);

/// The REST API, served with its OpenAPI document at `/openapi.json` and its
/// documentation at `/docs`. The title heads that document, and each
/// version's document carries its date.
pub fn api() -> fw::Api {
    fw::Api::new("Notes", "0.1.0")
        .resource::<NoteResource>()
        .versions(VERSIONS)
}
