//! `changes tail`: the change log on stdout as JSON lines, for piping into other
//! systems.

use std::future::Future;
use std::io::{ErrorKind, Write};
use std::time::Duration;

use futures_util::StreamExt as _;

use crate::db::Db;

/// How often `changes tail --follow` looks for new changes once it has caught up.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// `changes <command>`: reading the change log from the command line.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum ChangesCommand {
    /// Prints every change after a sequence number as JSON lines, one change per
    /// line, oldest first.
    Tail(TailArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct TailArgs {
    /// Start after this sequence number (the `seq` of the last change already
    /// seen); 0 for the start of the log.
    #[arg(long, default_value_t = 0, value_name = "SEQ")]
    after: i64,
    /// Only changes of the model with this table name.
    #[arg(long, value_name = "TABLE")]
    model: Option<String>,
    /// Keep printing new changes as they are committed, until interrupted
    /// (SIGINT or SIGTERM).
    #[arg(long)]
    follow: bool,
}

/// Runs `command`, writing to `out`; a `--follow` tail ends when `stop` resolves.
pub(crate) async fn run(
    command: ChangesCommand,
    db: &Db,
    out: &mut (dyn Write + Send),
    stop: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let ChangesCommand::Tail(args) = command;
    let mut query = super::after(args.after);
    if let Some(model) = args.model {
        query = query.model(model);
    }
    let db = db.clone();
    let mut pages = if args.follow {
        query.follow(db, POLL_INTERVAL).boxed()
    } else {
        query.pages(db).boxed()
    };
    let mut stop = std::pin::pin!(stop);
    loop {
        let page = tokio::select! {
            page = pages.next() => page,
            () = &mut stop => None,
        };
        let Some(page) = page else { return Ok(()) };
        let page = page.map_err(|error| {
            anyhow::anyhow!(
                "cannot read the change log: {error}; run `migrate` if the database \
                 has no `fw_changes` table yet"
            )
        })?;
        let mut lines = Vec::new();
        for change in &page {
            serde_json::to_writer(&mut lines, change)?;
            lines.push(b'\n');
        }
        // One write per page, flushed, so a consumer reading the pipe sees each
        // page whole and as soon as it is read.
        match out.write_all(&lines).and_then(|()| out.flush()) {
            Ok(()) => {}
            // The reader went away (`| head`): nothing more to do.
            Err(error) if error.kind() == ErrorKind::BrokenPipe => return Ok(()),
            Err(error) => return Err(error.into()),
        }
    }
}
