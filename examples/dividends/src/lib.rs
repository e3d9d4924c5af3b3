//! A brokerage shows its customers their upcoming dividends, imported from the
//! clearing firm's daily file.

pub mod api;
pub mod commands;
pub mod import;
pub mod models;
pub mod roles;
pub mod sample_data;
pub mod upcoming;

use models::{Account, Dividend, Position, Security};

/// The application: its models, commands and routes, the change log of every
/// model at `/changes`, and identity: users sign in, and their [`roles`] say
/// what they may read and change.
pub fn app() -> fw::App {
    let app = fw::app!()
        .default_command(&["serve", "--migrate"])
        .model::<Security>()
        .model::<Dividend>()
        .model::<Account>()
        .model::<Position>()
        .auth();
    roles::declare(app)
        .api(api::api())
        .change_log_api()
        .commands::<commands::Command>()
        .before_serve(|app| async move { sample_data::load_if_empty(&app.db).await })
}
