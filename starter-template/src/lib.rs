//! The application: its models, routes and commands.

pub mod models;

use models::Note;

/// The application. With no command it applies pending migrations and serves, so
/// a fresh checkout runs with no set-up.
pub fn app() -> fw::App {
    fw::app!()
        .default_command(&["serve", "--migrate"])
        .model::<Note>()
}
