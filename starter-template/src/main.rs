//! The application's command line: `cargo run` (or `fw serve`) migrates the
//! database and serves; `cargo run -- --help` lists every command.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    app::app().run().await
}
