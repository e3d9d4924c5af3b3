//! A brokerage shows its customers their upcoming dividends, imported from the
//! clearing firm's daily file.

pub mod api;
pub mod commands;
pub mod import;
pub mod models;
pub mod sample_data;
pub mod upcoming;

use models::{Account, Dividend, Position, Security};

/// The application: its models, commands and routes, and the change log of
/// every model at `/changes`.
pub fn app() -> fw::App {
    fw::app!()
        .default_command(&["serve", "--migrate"])
        .model::<Security>()
        .model::<Dividend>()
        .model::<Account>()
        .model::<Position>()
        .api(api::api())
        .change_log_api()
        .commands::<commands::Command>()
        .before_serve(|app| async move { sample_data::load_if_empty(&app.db).await })
}
