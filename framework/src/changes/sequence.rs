//! Giving committed change records their positions, on PostgreSQL (see
//! "Positions, and why a reader never misses a change" in the module docs of
//! `changes`).

use std::future::Future;
use std::sync::LazyLock;
use std::time::Duration;

use tokio::sync::Notify;

use super::tables::{CHANGES_TABLE, COUNTER_TABLE, PENDING_TABLE};
use crate::db::{Access, Arguments, Conn, Db, Dialect, quote_ident};
use crate::error::{Error, Result};

/// Records given positions per sequencing transaction: it bounds how long a
/// sequencer holds the counter row, whatever backlog it finds (an import's
/// million records take a hundred turns).
const BATCH: i64 = 10_000;

/// How often the background sequencer looks for records that another
/// process committed, when no commit of its own process woke it.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// How long the background sequencer waits after a failure before it tries
/// again.
const RETRY_DELAY: Duration = Duration::from_secs(1);

/// How long the background sequencer lets commits gather once one has woken
/// it, before it takes its turn. A turn costs the same five statements
/// whether it moves one record or a hundred: taking one per commit would
/// add more statements than the writes themselves make, under the load
/// where they matter most. Readers do not wait for it (they sequence what
/// they need themselves), so this delays only positions nobody has asked
/// for yet.
const GATHER: Duration = Duration::from_millis(10);

/// Records the background sequencer moves between two vacuums of
/// `fw_changes_pending` of its own. Each record leaves a dead row there, and
/// every turn's and every reader's look at the table walks past the dead
/// rows until a vacuum removes them: after a minute of two thousand writes a
/// second (autovacuum's default interval between looks at a database) the
/// look reads thousands of pages instead of one. A vacuum of ten thousand
/// dead rows in a table of a few live ones takes milliseconds.
const VACUUM_EVERY: u64 = 10_000;

/// Commits of this process that wrote records: they wake its background
/// sequencer. A stored permit means a commit since it last looked.
static COMMITTED: Notify = Notify::const_new();

/// Wakes this process's background sequencer, if one runs: a transaction that
/// wrote change records has committed.
pub(crate) fn wake() {
    COMMITTED.notify_one();
}

/// Gives every record committed before the call its position, on PostgreSQL
/// (on SQLite records have theirs from the start), and returns how many it
/// gave: the background sequencer's turn. (Readers look for waiting records
/// in the statement that reads, and call [`sequence_waiting`] when some wait.)
///
/// # Errors
///
/// [`Error::Database`] or [`Error::Unavailable`] when a statement fails; the
/// records of an unfinished turn wait for the next sequencer.
pub(crate) async fn sequence(db: &Db) -> Result<u64> {
    if db.dialect() != Dialect::Postgres || !unsequenced_exist(db).await? {
        return Ok(0);
    }
    sequence_waiting(db).await
}

/// [`sequence`] once a look has found records waiting, on PostgreSQL.
///
/// # Errors
///
/// As [`sequence`].
pub(crate) async fn sequence_waiting(db: &Db) -> Result<u64> {
    let mut moved = 0;
    loop {
        let batch = sequence_batch(db).await?;
        moved += batch.unsigned_abs();
        if batch < BATCH {
            return Ok(moved);
        }
    }
}

/// Vacuums `fw_changes_pending`, removing the dead rows of the records
/// moved out of it. A role that does not own the table gets PostgreSQL's
/// warning and nothing is vacuumed; an engine without `VACUUM` fails.
async fn vacuum_pending(db: &Db) -> Result<()> {
    static SQL: LazyLock<String> =
        LazyLock::new(|| format!("VACUUM {}", quote_ident(PENDING_TABLE)));
    db.execute_raw(SQL.as_str()).await?;
    Ok(())
}

/// Whether a committed record waits for its position: one look at the
/// pending records, so that readers of a quiet log take no lock.
async fn unsequenced_exist(db: &Db) -> Result<bool> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT EXISTS (SELECT 1 FROM {})",
            quote_ident(PENDING_TABLE)
        )
    });
    let found = Conn::Db(db)
        .fetch_optional(
            SQL.as_str().into(),
            Arguments::new(Dialect::Postgres),
            Access::Read,
            |row| row.get::<bool>(0),
        )
        .await?;
    Ok(found == Some(true))
}

/// One sequencer's turn: locks the counter row (waiting for the sequencer
/// before, whose work this turn's next statement then sees), moves the first
/// [`BATCH`] pending records into the log at the positions after the last
/// one, in the order of their draws, and commits. Returns how many it moved.
async fn sequence_batch(db: &Db) -> Result<i64> {
    static LOCK: LazyLock<String> = LazyLock::new(|| {
        // An upsert, so the counter needs no seed row; the update rewrites the
        // row only to lock it.
        let counter = quote_ident(COUNTER_TABLE);
        format!(
            "INSERT INTO {counter} (\"id\", \"last\") VALUES (1, 0) \
             ON CONFLICT (\"id\") DO UPDATE SET \"last\" = {counter}.\"last\" \
             RETURNING \"last\""
        )
    });
    static SEQUENCE: LazyLock<String> = LazyLock::new(|| {
        let columns = "\"model\", \"row_key\", \"operation\", \"version\", \"fields\", \
                       \"changed_at\", \"actor\", \"request_id\"";
        format!(
            "WITH \"batch\" AS (\
                 DELETE FROM {pending} WHERE \"draw\" IN (\
                     SELECT \"draw\" FROM {pending} ORDER BY \"draw\" LIMIT $2\
                 ) RETURNING *\
             ), \"moved\" AS (\
                 INSERT INTO {changes} (\"seq\", {columns}) \
                 SELECT $1 + row_number() OVER (ORDER BY \"draw\"), {columns} FROM \"batch\" \
                 RETURNING 1\
             ) \
             UPDATE {counter} SET \"last\" = \"last\" + (SELECT count(*) FROM \"moved\") \
             WHERE \"id\" = 1 RETURNING (SELECT count(*) FROM \"moved\")",
            pending = quote_ident(PENDING_TABLE),
            changes = quote_ident(CHANGES_TABLE),
            counter = quote_ident(COUNTER_TABLE),
        )
    });
    let mut tx = db.begin().await?;
    let last = Conn::Tx(&mut tx)
        .fetch_optional(
            LOCK.as_str().into(),
            Arguments::new(Dialect::Postgres),
            Access::Write,
            |row| row.get::<i64>(0),
        )
        .await?
        .ok_or_else(|| missing_row("the counter"))?;
    let mut args = Arguments::new(Dialect::Postgres);
    args.add(last)?;
    args.add(BATCH)?;
    let moved = Conn::Tx(&mut tx)
        .fetch_optional(SEQUENCE.as_str().into(), args, Access::Write, |row| {
            row.get::<i64>(0)
        })
        .await?
        .ok_or_else(|| missing_row("the sequencing"))?;
    tx.commit().await?;
    Ok(moved)
}

fn missing_row(statement: &str) -> Error {
    Error::Database(sqlx::Error::Protocol(format!(
        "fw bug: {statement} statement returned no row"
    )))
}

/// Keeps the change log of `db` sequenced until `stop` resolves: woken by
/// this process's commits that wrote changes (it lets the commits of the
/// next 10 ms join the same turn), and every half second for other
/// processes' commits (see the [module docs](crate::changes)). Every ten
/// thousand records it has moved, it vacuums `fw_changes_pending`, whose
/// dead rows every look at the table would otherwise walk past until
/// autovacuum's next visit; where that fails (an engine without `VACUUM`)
/// it warns once and leaves the table to autovacuum.
///
/// [`App`](crate::App)'s `serve` runs one on PostgreSQL. Readers do not need
/// it, as they sequence before they read; with it, a change has its position
/// moments after its commit even when nobody reads, so a reader finds little
/// to do. Any number may run, in any processes: they take turns, and when one
/// stops or dies the others carry on. A failure (the database restarting,
/// say) is logged and retried. On SQLite, where changes have their positions
/// from the start, it has nothing to do.
///
/// ```no_run
/// # async fn example(db: fw::Db) {
/// // A worker process that writes, and serves nothing.
/// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
/// let sequencer = tokio::spawn(fw::changes::keep_sequenced(db.clone(), async {
///     let _ = stopped.await;
/// }));
/// // ... the worker's writes ...
/// let _ = stop.send(());
/// let _ = sequencer.await;
/// # }
/// ```
pub async fn keep_sequenced(db: Db, stop: impl Future<Output = ()>) {
    if db.dialect() != Dialect::Postgres {
        return;
    }
    let mut stop = std::pin::pin!(stop);
    let mut moved_since_vacuum = 0;
    let mut vacuums = true;
    loop {
        tokio::select! {
            () = COMMITTED.notified() => {
                tokio::select! {
                    () = tokio::time::sleep(GATHER) => {}
                    () = &mut stop => return,
                }
            }
            () = tokio::time::sleep(POLL_INTERVAL) => {}
            () = &mut stop => return,
        }
        match sequence(&db).await {
            Ok(moved) => moved_since_vacuum += moved,
            Err(error) => {
                tracing::warn!(%error, retry_in = ?RETRY_DELAY, "cannot sequence the change log");
                tokio::select! {
                    () = tokio::time::sleep(RETRY_DELAY) => {}
                    () = &mut stop => return,
                }
                continue;
            }
        }
        if vacuums && moved_since_vacuum >= VACUUM_EVERY {
            moved_since_vacuum = 0;
            if let Err(error) = vacuum_pending(&db).await {
                tracing::warn!(
                    %error,
                    "cannot vacuum `fw_changes_pending`: its dead rows wait for autovacuum, \
                     and this process does not try again"
                );
                vacuums = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::Model as _;
    use crate::changes::lot::{Lot, NewLot};
    use crate::db::Db;
    use crate::testing::{TestDb, create_tables};

    /// A database with `transactions` committed changes waiting for their
    /// positions (nothing has read the log), one lot each.
    async fn committed_lots(transactions: usize) -> TestDb {
        let test_db = TestDb::postgres().await;
        let mut tables = vec![Lot::SCHEMA];
        tables.extend(super::super::tables());
        create_tables(test_db.db(), &tables).await.unwrap();
        for index in 0..transactions {
            let new = NewLot {
                label: format!("lot {index}"),
            };
            Lot::insert(test_db.db(), new).await.unwrap();
        }
        test_db
    }

    /// Commits `lots` lots in one transaction.
    async fn one_transaction_of_lots(db: &Db, lots: usize) {
        let mut tx = db.begin().await.unwrap();
        let new = (0..lots)
            .map(|index| NewLot {
                label: format!("lot {index}"),
            })
            .collect();
        Lot::insert_many(&mut tx, new).await.unwrap();
        tx.commit().await.unwrap();
    }

    /// How many changes have their position, without sequencing.
    async fn positioned(db: &Db) -> i64 {
        crate::sql("SELECT count(*) FROM fw_changes")
            .fetch_one(db, |row| row.get::<i64>(0))
            .await
            .unwrap()
    }

    /// Every change, read by a reader (which sequences nothing here): its
    /// position and its row's key, in log order.
    async fn log(db: &Db) -> Vec<(i64, String)> {
        crate::changes::after(0)
            .fetch(db)
            .await
            .unwrap()
            .into_iter()
            .map(|change| (change.seq, change.key))
            .collect()
    }

    /// In the order the lots were committed, from position 1.
    fn in_commit_order(lots: usize) -> Vec<(i64, String)> {
        (1..=lots as i64).map(|id| (id, id.to_string())).collect()
    }

    /// A sequencer whose connection is terminated in the middle of its batch
    /// (its statement waits on a change row another session holds) gives no
    /// position at all, as its transaction goes with it; another sequencer, on
    /// a pool of its own as another process's would be, then gives every change
    /// its position once, densely, in commit order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_sequencer_killed_mid_batch_is_taken_over_by_another() {
        const LOTS: usize = 30;
        let test_db = committed_lots(LOTS).await;
        let db = test_db.db();
        // The latest change, the last of the batch, held by another session.
        let mut holder = db.begin().await.unwrap();
        crate::sql("SELECT draw FROM fw_changes_pending ORDER BY draw DESC LIMIT 1 FOR UPDATE")
            .fetch_one(&mut holder, |row| row.get::<i64>(0))
            .await
            .unwrap();

        let victim_db = Db::connect(&test_db.url()).await.unwrap();
        let victim = tokio::spawn(async move { super::sequence(&victim_db).await });
        let killed = async {
            while terminate_sequencers(db, true).await == 0 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), killed)
            .await
            .expect("the sequencer reaches its batch and waits there");
        victim
            .await
            .unwrap()
            .expect_err("the terminated sequencer fails");
        holder.rollback().await.unwrap();
        assert_eq!(
            positioned(db).await,
            0,
            "the batch went with its transaction"
        );

        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let other = Db::connect(&test_db.url()).await.unwrap();
        let sequencer = tokio::spawn(super::keep_sequenced(other, async {
            let _ = stopped.await;
        }));
        let all_positioned = async {
            while positioned(db).await < LOTS as i64 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), all_positioned)
            .await
            .expect("the other sequencer gives the positions");
        stop.send(()).unwrap();
        sequencer.await.unwrap();
        assert_eq!(log(db).await, in_commit_order(LOTS));
    }

    /// Terminates the connections in the middle of a sequencing statement;
    /// how many it terminated.
    async fn terminate_sequencers(db: &Db, waiting_on_a_lock: bool) -> i64 {
        let wait = if waiting_on_a_lock {
            "AND wait_event_type = 'Lock'"
        } else {
            ""
        };
        let sql = format!(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND state = 'active' {wait} \
             AND query LIKE '%\"moved\"%' AND pid <> pg_backend_pid()) AS terminated"
        );
        let mut terminated = crate::db::Conn::Db(db)
            .fetch_all(
                sql.into(),
                crate::db::Arguments::new(crate::db::Dialect::Postgres),
                crate::db::Access::Read,
                |row| row.get::<i64>(0),
            )
            .await
            .unwrap();
        terminated.pop().unwrap_or(0)
    }

    /// Sequencers are killed again and again while writers commit and a
    /// consumer reads: the background sequencer's turns and the consumer's
    /// own. The background sequencer tries again, the consumer reads again
    /// from its cursor, and in the end the consumer has seen every committed
    /// change once, at dense positions, each writer's changes in the order it
    /// committed them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sequencers_killed_mid_stream_lose_nothing() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

        const WRITERS: usize = 8;
        const AT_LEAST_EACH: usize = 30;
        const AT_LEAST_KILLED: i64 = 3;
        let test_db = committed_lots(0).await;
        let db = test_db.db().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let sequencer = tokio::spawn(super::keep_sequenced(
            Db::connect(&test_db.url()).await.unwrap(),
            async {
                let _ = stopped.await;
            },
        ));
        let killed = Arc::new(AtomicI64::new(0));
        let writing = Arc::new(AtomicBool::new(true));
        let killer = tokio::spawn({
            let (db, killed, writing) = (db.clone(), killed.clone(), writing.clone());
            async move {
                while writing.load(Ordering::SeqCst) {
                    let terminated = terminate_sequencers(&db, false).await;
                    killed.fetch_add(terminated, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            }
        });
        // The consumer's connections are killed too: a pool of its own, so
        // that the writers' connections are never the ones killed.
        let consumer_db = Db::connect(&test_db.url()).await.unwrap();
        let consumer = tokio::spawn({
            let (db, writing) = (consumer_db, writing.clone());
            async move {
                let mut seen: Vec<(i64, String)> = Vec::new();
                loop {
                    let done = !writing.load(Ordering::SeqCst);
                    let after = seen.last().map_or(0, |(seq, _)| *seq);
                    let Ok(page) = crate::changes::after(after).limit(50).fetch(&db).await else {
                        // Terminated while sequencing: read again from the cursor.
                        continue;
                    };
                    if page.is_empty() && done {
                        return seen;
                    }
                    seen.extend(page.into_iter().map(|change| (change.seq, change.key)));
                }
            }
        });
        let mut writers = Vec::new();
        for writer in 0..WRITERS {
            let (db, killed) = (db.clone(), killed.clone());
            writers.push(tokio::spawn(async move {
                let mut committed = Vec::new();
                while committed.len() < AT_LEAST_EACH
                    || killed.load(Ordering::SeqCst) < AT_LEAST_KILLED
                {
                    let new = NewLot {
                        label: format!("writer {writer}"),
                    };
                    committed.push(Lot::insert(&db, new).await.unwrap().id.to_string());
                }
                committed
            }));
        }
        let run = async {
            let mut committed = Vec::new();
            for writer in writers {
                committed.push(writer.await.unwrap());
            }
            committed
        };
        let committed = tokio::time::timeout(Duration::from_secs(120), run)
            .await
            .expect("sequencers were killed mid-statement");
        writing.store(false, Ordering::SeqCst);
        killer.await.unwrap();
        let seen = consumer.await.unwrap();
        stop.send(()).unwrap();
        sequencer.await.unwrap();

        let total: usize = committed.iter().map(Vec::len).sum();
        let seqs: Vec<i64> = seen.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(
            seqs,
            (1..=total as i64).collect::<Vec<_>>(),
            "dense, each once"
        );
        let position: std::collections::HashMap<&str, i64> =
            seen.iter().map(|(seq, key)| (key.as_str(), *seq)).collect();
        for keys in &committed {
            let positions: Vec<i64> = keys.iter().map(|key| position[key.as_str()]).collect();
            assert!(positions.is_sorted(), "a writer's changes out of order");
        }
    }

    /// The background sequencer gives a change its position soon after its
    /// commit, with no reader to ask for it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_background_sequencer_positions_changes_nobody_reads() {
        let test_db = committed_lots(0).await;
        let db = test_db.db();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let sequencer = tokio::spawn(super::keep_sequenced(db.clone(), async {
            let _ = stopped.await;
        }));
        for expected in 1..=3 {
            let new = NewLot {
                label: format!("lot {expected}"),
            };
            Lot::insert(db, new).await.unwrap();
            let positioned_now = async {
                while positioned(db).await < expected {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            };
            tokio::time::timeout(Duration::from_secs(5), positioned_now)
                .await
                .expect("the change gets its position");
        }
        stop.send(()).unwrap();
        sequencer.await.unwrap();
        assert_eq!(log(db).await, in_commit_order(3));
    }

    /// Once it has moved [`VACUUM_EVERY`](super::VACUUM_EVERY) records, the
    /// background sequencer vacuums the pending table, as PostgreSQL's
    /// statistics record (its count of dead rows is no witness: the deleting
    /// connection may report its deletes after the vacuum has reported).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_background_sequencer_vacuums_the_pending_table() {
        let lots = super::VACUUM_EVERY as usize;
        let test_db = committed_lots(0).await;
        let db = test_db.db();
        let vacuums = || async {
            crate::sql(
                "SELECT vacuum_count FROM pg_stat_user_tables \
                 WHERE relname = 'fw_changes_pending'",
            )
            .fetch_one(db, |row| row.get::<i64>(0))
            .await
            .unwrap()
        };
        assert_eq!(vacuums().await, 0);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let sequencer = tokio::spawn(super::keep_sequenced(db.clone(), async {
            let _ = stopped.await;
        }));
        one_transaction_of_lots(db, lots).await;
        let vacuumed_after_moving = async {
            while vacuums().await == 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(30), vacuumed_after_moving)
            .await
            .expect("the sequencer moves the records and vacuums");
        stop.send(()).unwrap();
        sequencer.await.unwrap();
        assert_eq!(vacuums().await, 1);
        assert_eq!(positioned(db).await, lots as i64);
    }

    /// A backlog larger than one batch is sequenced in several turns by one
    /// read, and keeps the order the changes were made in.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_backlog_of_several_batches_is_read_whole() {
        let lots = super::BATCH as usize + 500;
        let test_db = committed_lots(0).await;
        let db = test_db.db();
        one_transaction_of_lots(db, lots).await;
        assert_eq!(positioned(db).await, 0);
        let last = crate::changes::after(lots as i64 - 1)
            .fetch(db)
            .await
            .unwrap();
        assert_eq!(
            last.iter()
                .map(|change| (change.seq, change.key.clone()))
                .collect::<Vec<_>>(),
            [(lots as i64, lots.to_string())]
        );
        assert_eq!(positioned(db).await, lots as i64);
    }
}
