//! The `fw` command line: `fw new` creates an application; every other command is
//! forwarded to the application in the current directory.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod commands;

/// fw: create fw applications and run their commands.
#[derive(Debug, Parser)]
#[command(name = "fw", version, about, after_help = APP_COMMANDS_HELP)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The commands every application has, forwarded by [`Command::App`].
const APP_COMMANDS_HELP: &str = "\
Inside an application, every other command runs in it (built first, with `cargo run --`):
  serve           Serve over HTTP (`--migrate` applies pending migrations first)
  migrate         Apply pending migrations (`--plan` prints the SQL instead)
  makemigrations  Write a migration for the models' changes (`--check` for CI)
  check           Check that the models, the migrations and the database agree
  openapi         Write the committed openapi.json (`--check` for CI)
  <command>       One of the application's own commands

`cargo run -- --help` inside an application lists all of its commands.";

#[derive(Debug, Subcommand)]
enum Command {
    New(commands::new::NewArgs),
    /// Run the application's tests: `cargo test` for the application in the
    /// current directory, with any arguments passed on.
    #[command(disable_help_flag = true)]
    Test {
        /// Arguments for `cargo test`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Any other command (`serve`, `migrate`, `makemigrations`, `check`, or the
    /// application's own) runs in the application in the current directory,
    /// which is built first: `fw migrate --plan` is `cargo run -- migrate --plan`.
    #[command(external_subcommand)]
    App(Vec<OsString>),
}

/// Runs the parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::New(args) => commands::new::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Test { args } => commands::forward::test(&args),
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
