//! The app's commands over sealed data: `rotate-keys`, `erase` and
//! `erasures --export`, which [`App::model`](crate::App::model) brings along
//! when a model has sealed fields.

use std::io::Write;
use std::ops::ControlFlow;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::erase::{erase_row, find_model, no_model, parse_key};
use super::{Erased, RotateOptions, SealedModel, export_erasures, replay_erasures, rotate_keys};
use crate::db::Db;
use crate::error::Error;

#[derive(Debug, Subcommand)]
pub(crate) enum SensitiveCommand {
    /// Re-seals every value sealed with an older key, and recomputes every
    /// older digest, with the current key (the first of FW_SECRET_KEYS), in
    /// batches; safe while the app serves, and a rerun goes on where one stopped.
    RotateKeys(RotateKeysArgs),
    /// Erases the sensitive values of one row (`erase <model> <key>`), or of
    /// every row of an exported ledger (`erase --replay <file>`).
    Erase(EraseArgs),
    /// Reads the erasure ledger.
    Erasures(ErasuresArgs),
}

#[derive(Debug, Args)]
pub(crate) struct RotateKeysArgs {
    /// Rows rewritten per batch, each batch in one short transaction.
    #[arg(
        long,
        default_value_t = RotateOptions::DEFAULT_BATCH_SIZE,
        value_parser = clap::value_parser!(u32).range(1..=i64::from(RotateOptions::MAX_BATCH_SIZE)),
    )]
    batch_size: u32,
}

#[derive(Debug, Args)]
pub(crate) struct EraseArgs {
    /// The model: its table (`account`) or its struct's name (`Account`).
    #[arg(required_unless_present = "replay", requires = "key")]
    model: Option<String>,
    /// The row's primary key.
    key: Option<String>,
    /// Erase again every row of a ledger written by `erasures --export`, in one
    /// transaction: a bad line erases nothing.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["model", "key"])]
    replay: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ErasuresArgs {
    /// Write the whole ledger to standard output as JSON lines, to keep apart
    /// from the database's backups (the only way it is read for now).
    #[arg(long)]
    export: bool,
}

/// Runs `command` on `db` over the app's sealed `models`, writing what it does to `out`.
pub(crate) async fn run(
    command: SensitiveCommand,
    db: &Db,
    models: &[SealedModel],
    out: &mut (dyn Write + Send),
) -> anyhow::Result<()> {
    match command {
        SensitiveCommand::RotateKeys(args) => {
            let options = RotateOptions {
                batch_size: args.batch_size,
            };
            let mut written = Ok(());
            let report = rotate_keys(db, models, options, |table| {
                written = writeln!(
                    out,
                    "{}: {} rewritten, {} skipped, {} left",
                    table.table, table.rewritten, table.skipped, table.left
                );
                if written.is_ok() {
                    ControlFlow::Continue(())
                } else {
                    ControlFlow::Break(())
                }
            })
            .await?;
            written?;
            let skipped: u64 = report.tables.iter().map(|table| table.skipped).sum();
            if skipped == 0 {
                writeln!(
                    out,
                    "Every sealed value and digest is under the current key."
                )?;
            } else {
                writeln!(
                    out,
                    "{skipped} rows were written meanwhile and skipped; run `rotate-keys` again \
                     until none is."
                )?;
            }
        }
        SensitiveCommand::Erase(EraseArgs {
            replay: Some(path), ..
        }) => {
            let file = std::fs::File::open(&path)
                .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", path.display()))?;
            let report = replay_erasures(db, models, std::io::BufReader::new(file))
                .await
                .map_err(|error| {
                    anyhow::anyhow!("{}: {error}; nothing was erased", path.display())
                })?;
            writeln!(
                out,
                "Replayed {}: {} rows erased again, {} erased already, {} missing.",
                path.display(),
                report.erased,
                report.already_erased,
                report.missing
            )?;
        }
        SensitiveCommand::Erase(EraseArgs {
            model: Some(name),
            key: Some(key),
            ..
        }) => {
            let model =
                find_model(models, &name).ok_or_else(|| anyhow::anyhow!(no_model(&name)))?;
            let table = model.schema.table;
            let value = parse_key(model.schema.primary_key(), &key)
                .ok_or_else(|| anyhow::anyhow!("`{key}` is not a key of `{table}`"))?;
            match erase_row(db, model, &value).await {
                Ok(Erased::Overwritten) => {
                    writeln!(out, "Erased the sensitive values of `{table}` row {key}.")?;
                }
                Ok(Erased::AlreadyErased) => {
                    writeln!(
                        out,
                        "`{table}` row {key} was erased already; nothing written."
                    )?;
                }
                Err(Error::NotFound { .. }) => anyhow::bail!("`{table}` has no row {key}"),
                Err(error) => return Err(error.into()),
            }
        }
        SensitiveCommand::Erase(_) => anyhow::bail!("name a model and a key, or --replay FILE"),
        SensitiveCommand::Erasures(ErasuresArgs { export: false }) => {
            anyhow::bail!("add --export to write the erasure ledger to standard output")
        }
        SensitiveCommand::Erasures(ErasuresArgs { export: true }) => {
            let written = export_erasures(db, out).await?;
            eprintln!("Exported {written} erasures.");
        }
    }
    Ok(())
}
