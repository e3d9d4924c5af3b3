//! The dividends reference application: `cargo run -p example-dividends`.

use std::process::ExitCode;

use example_dividends::app;

#[tokio::main]
async fn main() -> ExitCode {
    app().run().await
}
