//! What the change log costs a write: the same creates through fw of two
//! identical models, one with `#[fw::model(changelog)]` and one without, each
//! create on the pool and again each in a transaction of its own, by 1, 8, 32
//! and 64 concurrent writers sharing one pool, measured alternately in one run
//! on one database.

use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};

use fw::testing::TestDb;
use fw::{ConnectOptions, Db, Model};

use crate::data::Engine;

/// The numbers of concurrent writers measured.
pub const WRITERS: [usize; 4] = [1, 8, 32, 64];

/// A note whose writes are not recorded.
#[fw::model]
pub struct PlainNote {
    /// Surrogate key.
    pub id: i64,
    /// A one-line title.
    #[field(max_length = 80)]
    pub title: String,
    /// Row version.
    #[field(version)]
    pub version: i64,
}

/// The same note, with every write recorded in the change log.
#[fw::model(changelog)]
pub struct LoggedNote {
    /// Surrogate key.
    pub id: i64,
    /// A one-line title.
    #[field(max_length = 80)]
    pub title: String,
    /// Row version.
    #[field(version)]
    pub version: i64,
}

/// Time spent on the same creates with the change log off and on, by one
/// number of concurrent writers.
#[derive(Debug, Clone)]
pub struct CostReport {
    /// The database.
    pub engine: Engine,
    /// Concurrent writers.
    pub writers: usize,
    /// Creates per model and way, over all rounds.
    pub creates: u32,
    /// Total time of the creates without the change log, each a single
    /// statement (as fw writes it when it records nothing).
    pub off: Duration,
    /// Total time of the creates without the change log, each in a
    /// transaction (`BEGIN`, the insert, `COMMIT`), as a server's create is.
    pub off_in_transaction: Duration,
    /// Total time of the creates with the change log, on the pool.
    pub on: Duration,
    /// Total time of the creates with the change log, each in a transaction.
    pub on_in_transaction: Duration,
}

impl CostReport {
    fn per_second(creates: u32, time: Duration) -> f64 {
        f64::from(creates) / time.as_secs_f64().max(f64::EPSILON)
    }
}

impl fmt::Display for CostReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let off = Self::per_second(self.creates, self.off);
        let off_in_transaction = Self::per_second(self.creates, self.off_in_transaction);
        let on = Self::per_second(self.creates, self.on);
        let on_in_transaction = Self::per_second(self.creates, self.on_in_transaction);
        write!(
            f,
            "change log on {}, {:>2} writers: creates/s off {off:.0}, on {on:.0}, \
             in a transaction off {off_in_transaction:.0}, on {on_in_transaction:.0}; \
             on / off = {:.2}, in a transaction {:.2}",
            self.engine.name(),
            self.writers,
            on / off.max(f64::EPSILON),
            on_in_transaction / off_in_transaction.max(f64::EPSILON)
        )
    }
}

/// For each number of writers in `writers`: `rows` creates per model, way
/// and round, shared among the writers, in `rounds` alternating rounds, on a
/// private database of `engine`. The writers share one pool, as an
/// application's requests do: on PostgreSQL one with a connection for each of
/// the most writers measured, with a background sequencer running as `serve`
/// runs one; on SQLite the database's one writer connection. Checks that the
/// log holds every logged create.
///
/// # Errors
///
/// When the database cannot be set up, a write fails or the log misses one.
pub async fn measure(
    engine: Engine,
    writers: &[usize],
    rows: u32,
    rounds: u32,
) -> anyhow::Result<Vec<CostReport>> {
    let test_db = match engine {
        Engine::Sqlite => TestDb::sqlite().await,
        Engine::Postgres => TestDb::postgres().await,
    };
    let db = test_db.db();
    let mut models = vec![PlainNote::SCHEMA, LoggedNote::SCHEMA];
    models.extend(fw::changes::tables());
    fw::testing::create_tables(db, &models).await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let sequencer = tokio::spawn(fw::changes::keep_sequenced(db.clone(), async {
        let _ = stopped.await;
    }));
    let shared = match engine {
        Engine::Sqlite => db.clone(),
        Engine::Postgres => {
            let most = writers.iter().copied().max().unwrap_or(1);
            let options = ConnectOptions::default().max_connections(u32::try_from(most)?);
            Db::connect_with(&test_db.url(), options).await?
        }
    };
    let mut reports = Vec::new();
    let mut logged = 0;
    for &count in writers {
        let each = (rows as usize).div_ceil(count);
        let (mut off, mut off_in_transaction, mut on, mut on_in_transaction) = (
            Duration::ZERO,
            Duration::ZERO,
            Duration::ZERO,
            Duration::ZERO,
        );
        for round in 0..rounds {
            // Alternate the order, so no way always meets a warmer cache.
            if round % 2 == 0 {
                off += concurrently(&shared, count, each, create_plain).await?;
                on += concurrently(&shared, count, each, create_logged).await?;
                off_in_transaction +=
                    concurrently(&shared, count, each, create_plain_in_transaction).await?;
                on_in_transaction +=
                    concurrently(&shared, count, each, create_logged_in_transaction).await?;
            } else {
                on_in_transaction +=
                    concurrently(&shared, count, each, create_logged_in_transaction).await?;
                off_in_transaction +=
                    concurrently(&shared, count, each, create_plain_in_transaction).await?;
                on += concurrently(&shared, count, each, create_logged).await?;
                off += concurrently(&shared, count, each, create_plain).await?;
            }
        }
        let creates = (each * count) as u32 * rounds;
        logged += 2 * i64::from(creates);
        reports.push(CostReport {
            engine,
            writers: count,
            creates,
            off,
            off_in_transaction,
            on,
            on_in_transaction,
        });
    }
    if engine == Engine::Postgres {
        shared.close().await;
    }
    stop.send(()).ok();
    sequencer.await?;
    let last = fw::changes::after(logged - 1).fetch(db).await?;
    anyhow::ensure!(
        last.len() == 1 && last[0].seq == logged,
        "the change log does not end at {logged}, the logged creates: {last:?}"
    );
    Ok(reports)
}

/// Runs `create` `each` times by each of `writers` concurrent writers on
/// `db`; the time until all are done.
async fn concurrently<F, Fut>(
    db: &Db,
    writers: usize,
    each: usize,
    create: F,
) -> anyhow::Result<Duration>
where
    F: Fn(Db, usize) -> Fut,
    Fut: Future<Output = fw::Result<()>> + Send + 'static,
{
    let started = Instant::now();
    let mut running = tokio::task::JoinSet::new();
    for writer in 0..writers {
        let creates: Vec<Fut> = (0..each)
            .map(|index| create(db.clone(), writer * each + index))
            .collect();
        running.spawn(async move {
            for create in creates {
                create.await?;
            }
            Ok::<(), fw::Error>(())
        });
    }
    while let Some(done) = running.join_next().await {
        done??;
    }
    Ok(started.elapsed())
}

async fn create_plain(db: Db, index: usize) -> fw::Result<()> {
    let new = NewPlainNote {
        title: format!("note {index}"),
    };
    PlainNote::insert(&db, new).await.map(drop)
}

async fn create_plain_in_transaction(db: Db, index: usize) -> fw::Result<()> {
    let new = NewPlainNote {
        title: format!("note {index}"),
    };
    let mut tx = db.begin().await?;
    PlainNote::insert(&mut tx, new).await?;
    tx.commit().await
}

async fn create_logged(db: Db, index: usize) -> fw::Result<()> {
    let new = NewLoggedNote {
        title: format!("note {index}"),
    };
    LoggedNote::insert(&db, new).await.map(drop)
}

async fn create_logged_in_transaction(db: Db, index: usize) -> fw::Result<()> {
    let new = NewLoggedNote {
        title: format!("note {index}"),
    };
    let mut tx = db.begin().await?;
    LoggedNote::insert(&mut tx, new).await?;
    tx.commit().await
}
