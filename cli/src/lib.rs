//! The `fw` command line: application commands forwarded to the application in the
//! current directory.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod commands;

/// fw: create fw applications and run their commands.
#[derive(Debug, Parser)]
#[command(name = "fw", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Any other command (`serve`, `migrate`, `makemigrations`, `check`, or the
    /// application's own) runs in the application in the current directory,
    /// which is built first: `fw migrate --plan` is `cargo run -- migrate --plan`.
    #[command(external_subcommand)]
    App(Vec<OsString>),
}

/// Runs the parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::App(args) => commands::forward::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
