//! Importing the clearing firm's daily dividend file (see `FILE_FORMAT.md`).
//!
//! [`import_file`] reads the file twice. The first pass checks every line and
//! keeps only the problems it finds (capped), so a bad file is rejected whole,
//! with every bad line, before anything is written. The second pass writes the
//! records in batches inside one transaction, which on SQLite holds the write
//! lock only for this second pass. Memory holds one batch, plus 8 bytes per
//! record to find duplicate announcement ids, whatever the file's length (the
//! change records of the writes go to the database as the transaction goes,
//! see `fw::changes`).
//!
//! ```no_run
//! # async fn example(db: fw::Db) -> Result<(), example_dividends::import::ImportError> {
//! use example_dividends::import::{ImportOptions, import_file};
//!
//! let summary = import_file(&db, "samples/2026-03-16-normal.txt".as_ref(), ImportOptions::default()).await?;
//! println!("{summary}");
//! # Ok(()) }
//! ```

mod parse;
mod progress;
mod validate;
mod write;

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use fw::Db;

use progress::{Display, Phase, Unit};

/// How many problems a rejected file reports; the rest are counted.
pub const MAX_REPORTED_PROBLEMS: usize = 1000;

/// How many records are written per batch by default.
pub const DEFAULT_BATCH_SIZE: usize = 1000;

/// Whether to show progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Progress {
    /// Show nothing (tests, the app's startup).
    #[default]
    Hidden,
    /// Show the progress of large files (1 MiB and more) on stderr, phase by
    /// phase (checking, importing, committing): a bar when stderr is a
    /// terminal, else a line at each phase and every 10 seconds.
    Stderr,
}

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Whether to show progress.
    pub progress: Progress,
    /// How many records to hold and write at a time.
    pub batch_size: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            progress: Progress::Hidden,
            batch_size: DEFAULT_BATCH_SIZE,
        }
    }
}

/// One thing wrong with a file: the line it is on and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The 1-based line number (one past the last line for a missing trailer).
    pub line: u64,
    /// What is wrong, naming the field and what was expected.
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// Why a file was not imported. In every case nothing was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The file could not be opened or read.
    #[error("cannot read {}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file has bad lines, or its trailer's count does not match.
    #[error("{}", rejection_message(.path, .problems, *.more))]
    Rejected {
        /// The file.
        path: PathBuf,
        /// The problems, in line order (at most [`MAX_REPORTED_PROBLEMS`]).
        problems: Vec<Problem>,
        /// How many more problems there were beyond those listed.
        more: u64,
    },
    /// The file changed between the check and the import.
    #[error(
        "{} changed while it was being imported, so nothing was imported; import it again \
         once the clearing firm's transfer has finished",
        .path.display()
    )]
    Changed {
        /// The file.
        path: PathBuf,
    },
    /// The database failed.
    #[error("{}", database_message(.path, .source))]
    Database {
        /// The file.
        path: PathBuf,
        /// The database error.
        source: fw::Error,
    },
}

impl ImportError {
    /// The problems of a rejected file; empty for other errors.
    pub fn problems(&self) -> &[Problem] {
        match self {
            ImportError::Rejected { problems, .. } => problems,
            _ => &[],
        }
    }
}

fn database_message(path: &Path, source: &fw::Error) -> String {
    let path = path.display();
    match source {
        fw::Error::Unavailable {
            cause: fw::Unavailable::TimedOut,
            ..
        } => format!(
            "{path} was not imported: another writer held the database longer than \
             FW_DATABASE_WAIT_TIMEOUT allows (a running server's writes are short; \
             another import?); nothing was written, import it again"
        ),
        fw::Error::Unavailable { cause, .. } => format!(
            "{path} was not imported: the database is {cause}; nothing was written, \
             import it again once it is back"
        ),
        _ => format!(
            "writing {path} to the database failed, so nothing was imported (is the \
             database migrated? run `migrate`)"
        ),
    }
}

fn rejection_message(path: &Path, problems: &[Problem], more: u64) -> String {
    let total = problems.len() as u64 + more;
    let plural = if total == 1 { "" } else { "s" };
    let mut message = format!(
        "{} was rejected and nothing was imported: {total} problem{plural}; correct the \
         file or ask the clearing firm for a corrected one",
        path.display()
    );
    for problem in problems {
        message.push_str(&format!("\n  {problem}"));
    }
    if more > 0 {
        message.push_str(&format!("\n  ... and {more} more"));
    }
    message
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// The business date in the file's header.
    pub business_date: NaiveDate,
    /// The sender in the file's header.
    pub sender: String,
    /// The sender's file sequence number.
    pub file_sequence: u32,
    /// Detail records read.
    pub records: u64,
    /// Announcements stored for the first time (not cancelled).
    pub new: u64,
    /// Stored announcements whose terms or status changed (not to cancelled).
    pub updated: u64,
    /// Announcements that became cancelled (including new ones sent cancelled).
    pub cancelled: u64,
    /// Records that matched what was already stored.
    pub unchanged: u64,
    /// Securities stored for the first time.
    pub securities_new: u64,
    /// Securities whose symbol or name changed.
    pub securities_updated: u64,
    /// How many batches were written.
    pub batches: u64,
    /// The most records held in memory at once.
    pub largest_batch: usize,
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Imported {} file {} for {}: {} records",
            self.sender, self.file_sequence, self.business_date, self.records
        )?;
        writeln!(
            f,
            "  dividends:  {} new, {} updated, {} cancelled, {} unchanged",
            self.new, self.updated, self.cancelled, self.unchanged
        )?;
        write!(
            f,
            "  securities: {} new, {} updated",
            self.securities_new, self.securities_updated
        )
    }
}

/// Imports the clearing firm's daily dividend file at `path` into `db`, in one
/// transaction.
///
/// Importing the same file again changes nothing (no row's version moves).
///
/// # Errors
///
/// [`ImportError::Rejected`] with every bad line when the file is malformed;
/// [`ImportError::Read`], [`ImportError::Changed`] or [`ImportError::Database`]
/// otherwise. Nothing is written in any of these cases.
pub async fn import_file(
    db: &Db,
    path: &Path,
    options: ImportOptions,
) -> Result<ImportSummary, ImportError> {
    let file_bytes = std::fs::metadata(path)
        .map_err(|source| ImportError::Read {
            path: path.to_owned(),
            source,
        })?
        .len();
    let display = Display::choose(options.progress, file_bytes);

    let valid = {
        let checking = Phase::start(display, "checking", file_bytes, Unit::Bytes);
        let owned_path = path.to_owned();
        let counter = checking.bar().clone();
        tokio::task::spawn_blocking(move || validate::validate(&owned_path, &counter))
            .await
            .map_err(|error| ImportError::Read {
                path: path.to_owned(),
                source: std::io::Error::other(error),
            })??
    };

    let mut summary = ImportSummary {
        business_date: valid.header.business_date,
        sender: valid.header.sender.clone(),
        file_sequence: valid.header.sequence,
        records: 0,
        new: 0,
        updated: 0,
        cancelled: 0,
        unchanged: 0,
        securities_new: 0,
        securities_updated: 0,
        batches: 0,
        largest_batch: 0,
    };
    let database_error = |source| ImportError::Database {
        path: path.to_owned(),
        source,
    };
    // The file is checked whole before the transaction takes the write lock (on
    // SQLite, the database's only one), so the lock is held for the writes alone.
    let mut tx = db.begin().await.map_err(database_error)?;
    {
        let importing = Phase::start(display, "importing", valid.detail_count, Unit::Records);
        write::write_file(
            &mut tx,
            path,
            &valid,
            options.batch_size,
            importing.bar(),
            &mut summary,
        )
        .await?;
    }
    let committing = progress::committing(display, summary.records);
    tx.commit().await.map_err(database_error)?;
    committing.finish_and_clear();
    Ok(summary)
}
