//! The application's own commands, next to `serve`, `migrate` and the other
//! built-in ones.

use std::path::PathBuf;

use crate::import::{ImportOptions, Progress, import_file};

/// `example-dividends <command>`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Imports the clearing firm's daily dividend file (format: FILE_FORMAT.md) in
    /// one transaction; a file with any bad line is rejected whole.
    ImportDividends {
        /// The file to import.
        file: PathBuf,
    },
}

impl fw::Commands for Command {
    async fn run(self, app: fw::AppContext) -> anyhow::Result<()> {
        match self {
            Command::ImportDividends { file } => {
                let options = ImportOptions {
                    progress: Progress::Stderr,
                    ..ImportOptions::default()
                };
                let summary = import_file(&app.db, &file, options).await?;
                println!("{summary}");
            }
        }
        Ok(())
    }
}
