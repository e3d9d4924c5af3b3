//! The `fw` command.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    fw_cli::run(fw_cli::Cli::parse())
}
