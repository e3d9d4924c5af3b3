//! `changes tail`: the change log on stdout as JSON lines, for piping into other
//! systems.

use std::future::Future;
use std::io::{ErrorKind, Write};
use std::time::Duration;

use futures_util::StreamExt as _;

use super::tables::CHANGES_TABLE;
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

/// How long `changes tail --follow` waits before reading again after a read
/// failed: 0.5 s after the first failure in a row, doubling up to 30 s, so a
/// tail rides out a database restart or outage at little cost to a database
/// that is struggling.
#[derive(Debug, Clone, Copy)]
struct RetryDelays {
    first: Duration,
    longest: Duration,
}

const RETRY_DELAYS: RetryDelays = RetryDelays {
    first: Duration::from_millis(500),
    longest: Duration::from_secs(30),
};

/// Runs `command`, writing to `out`; a `--follow` tail ends when `stop` resolves.
pub(crate) async fn run(
    command: ChangesCommand,
    db: &Db,
    out: &mut (dyn Write + Send),
    stop: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let ChangesCommand::Tail(args) = command;
    tail(args, db, out, stop, RETRY_DELAYS).await
}

/// Writes the changes after `args.after` to `out`. With `--follow`, a failed
/// read is logged and retried after a delay from `retry_delays`, from the last
/// change written, so that no change is missed or written twice; only a
/// database without the change log's table ends it.
async fn tail(
    args: TailArgs,
    db: &Db,
    out: &mut (dyn Write + Send),
    stop: impl Future<Output = ()>,
    retry_delays: RetryDelays,
) -> anyhow::Result<()> {
    let mut stop = std::pin::pin!(stop);
    let mut last_written = args.after;
    let mut retry_delay = retry_delays.first;
    loop {
        let mut query = super::after(last_written);
        if let Some(model) = &args.model {
            query = query.model(model.clone());
        }
        let mut pages = if args.follow {
            query.follow(db.clone(), POLL_INTERVAL).boxed()
        } else {
            query.pages(db.clone()).boxed()
        };
        // The stream ends after an error, so a failure leaves this loop.
        let error = loop {
            let page = tokio::select! {
                page = pages.next() => page,
                () = &mut stop => return Ok(()),
            };
            let page = match page {
                None => return Ok(()),
                Some(Ok(page)) => page,
                Some(Err(error)) => break error,
            };
            let Some(last) = page.last() else { continue };
            let last_seq = last.seq;
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
            last_written = last_seq;
            retry_delay = retry_delays.first;
        };
        // A database that answers without the table needs `migrate`; one that
        // does not answer is not a reason to stop following.
        if let Ok(false) = crate::migrate::table_exists(db, CHANGES_TABLE).await {
            anyhow::bail!(
                "cannot read the change log: the database has no `{CHANGES_TABLE}` table; \
                 run `migrate`"
            );
        }
        if !args.follow {
            anyhow::bail!(
                "cannot read the change log after seq {last_written}: {error}; check that \
                 the database is reachable and run the command again with `--after \
                 {last_written}`"
            );
        }
        tracing::warn!(
            %error,
            after = last_written,
            retry_in = ?retry_delay,
            "cannot read the change log; trying again"
        );
        tokio::select! {
            () = tokio::time::sleep(retry_delay) => {}
            () = &mut stop => return Ok(()),
        }
        retry_delay = (retry_delay * 2).min(retry_delays.longest);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::time::Duration;

    use tokio::sync::mpsc;

    use super::{RetryDelays, TailArgs, tail};
    use crate::db::Db;
    use crate::testing::{TestDb, create_tables};

    /// Short delays, so that an outage of a fraction of a second sees several
    /// failed reads.
    const QUICK_RETRIES: RetryDelays = RetryDelays {
        first: Duration::from_millis(10),
        longest: Duration::from_millis(100),
    };

    /// A tail's output, page by page, as it is written.
    struct Pages(mpsc::UnboundedSender<Vec<u8>>);

    impl Write for Pages {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let _ = self.0.send(bytes.to_vec());
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn follow_from_start() -> TailArgs {
        TailArgs {
            after: 0,
            model: None,
            follow: true,
        }
    }

    /// Commits the changes `seqs` in one statement, so a tail polling meanwhile
    /// sees all of them or none, and writes them as one page.
    async fn record_changes(db: &Db, seqs: std::ops::RangeInclusive<i64>) {
        let rows: Vec<String> = seqs
            .map(|seq| format!("({seq}, 'note', '{seq}', 'insert', '[]', '2026-12-06T09:00:00Z')"))
            .collect();
        db.execute_raw(&format!(
            "INSERT INTO fw_changes (seq, model, row_key, operation, fields, changed_at) VALUES {}",
            rows.join(", ")
        ))
        .await
        .unwrap();
    }

    /// The `seq` of each change in the next page written, waiting for it.
    async fn next_page(pages: &mut mpsc::UnboundedReceiver<Vec<u8>>) -> Vec<i64> {
        let page = tokio::time::timeout(Duration::from_secs(10), pages.recv())
            .await
            .expect("the tail writes the page")
            .expect("the tail is running");
        String::from_utf8(page)
            .unwrap()
            .lines()
            .map(|line| {
                serde_json::from_str::<crate::changes::Change>(line)
                    .unwrap()
                    .seq
            })
            .collect()
    }

    /// A PostgreSQL outage (every connection terminated, no new one allowed)
    /// does not end a follow tail: it keeps trying, and once the database is
    /// back it writes what was committed since, from where it was, each change
    /// once.
    #[tokio::test]
    async fn a_follow_tail_rides_out_an_outage_and_resumes_where_it_was() {
        let test_db = TestDb::postgres().await;
        let db = test_db.db().clone();
        create_tables(&db, &crate::changes::tables()).await.unwrap();
        record_changes(&db, 1..=2).await;
        let (sender, mut pages) = mpsc::unbounded_channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let tail = tokio::spawn({
            let db = db.clone();
            async move {
                let stopped = async {
                    let _ = stopped.await;
                };
                let mut out = Pages(sender);
                tail(follow_from_start(), &db, &mut out, stopped, QUICK_RETRIES).await
            }
        });
        assert_eq!(next_page(&mut pages).await, [1, 2]);

        let url = test_db.url();
        let name = url.rsplit('/').next().unwrap().split('?').next().unwrap();
        let admin = Db::connect(&crate::testing::postgres_admin_url())
            .await
            .unwrap();
        admin
            .execute_raw(&format!(
                "ALTER DATABASE \"{name}\" WITH ALLOW_CONNECTIONS false; \
                 SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            ))
            .await
            .unwrap();
        // Long enough for a poll (every 500 ms) and the retries after it to fail.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(!tail.is_finished(), "the tail ended during the outage");
        admin
            .execute_raw(&format!(
                "ALTER DATABASE \"{name}\" WITH ALLOW_CONNECTIONS true"
            ))
            .await
            .unwrap();
        admin.close().await;

        record_changes(&db, 3..=4).await;
        assert_eq!(next_page(&mut pages).await, [3, 4]);
        stop.send(()).unwrap();
        tail.await.unwrap().expect("the tail stops cleanly");
        assert!(pages.try_recv().is_err(), "nothing written twice");
    }

    /// Without the change log's table the tail ends at once, saying to run
    /// `migrate`, following or not.
    async fn a_tail_without_the_table_says_to_migrate(test_db: TestDb) {
        for follow in [false, true] {
            let args = TailArgs {
                follow,
                ..follow_from_start()
            };
            let mut out = Vec::new();
            let ended = tokio::time::timeout(
                Duration::from_secs(10),
                tail(
                    args,
                    test_db.db(),
                    &mut out,
                    std::future::pending(),
                    QUICK_RETRIES,
                ),
            )
            .await
            .expect("the tail ends");
            let message = ended.unwrap_err().to_string();
            assert!(
                message.contains("no `fw_changes` table; run `migrate`"),
                "{message}"
            );
            assert!(out.is_empty());
        }
    }

    #[tokio::test]
    async fn a_tail_without_the_table_says_to_migrate_on_sqlite() {
        a_tail_without_the_table_says_to_migrate(TestDb::sqlite().await).await;
    }

    #[tokio::test]
    async fn a_tail_without_the_table_says_to_migrate_on_postgres() {
        a_tail_without_the_table_says_to_migrate(TestDb::postgres().await).await;
    }
}
