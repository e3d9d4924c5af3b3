//! What the change log costs a write: the same inserts and updates through fw on
//! two identical models, one with `#[fw::model(changelog)]` and one without,
//! measured alternately in one run on one database.

use std::fmt;
use std::time::{Duration, Instant};

use fw::Model;
use fw::testing::TestDb;

use crate::data::Engine;

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

/// Time spent on the same writes with the change log off and on.
#[derive(Debug, Clone)]
pub struct CostReport {
    /// The database.
    pub engine: Engine,
    /// Writes per model and round (an insert and an update per row).
    pub writes: u32,
    /// Total time of the writes without the change log.
    pub off: Duration,
    /// Total time of the writes with the change log.
    pub on: Duration,
}

impl CostReport {
    fn per_second(writes: u32, time: Duration) -> f64 {
        f64::from(writes) / time.as_secs_f64().max(f64::EPSILON)
    }
}

impl fmt::Display for CostReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let off = Self::per_second(self.writes, self.off);
        let on = Self::per_second(self.writes, self.on);
        write!(
            f,
            "change log on {}: {off:.0} writes/s off, {on:.0} writes/s on, on / off = {:.2}",
            self.engine.name(),
            on / off.max(f64::EPSILON)
        )
    }
}

/// Writes `rows` rows (an insert, then an update each) to both models, in
/// `rounds` alternating rounds, on a private database of `engine`.
///
/// # Errors
///
/// When the database cannot be set up or a write fails.
pub async fn measure(engine: Engine, rows: u32, rounds: u32) -> anyhow::Result<CostReport> {
    let test_db = match engine {
        Engine::Sqlite => TestDb::sqlite().await,
        Engine::Postgres => TestDb::postgres().await,
    };
    let db = test_db.db();
    let mut models = vec![PlainNote::SCHEMA, LoggedNote::SCHEMA];
    models.extend(fw::changes::tables());
    fw::testing::create_tables(db, &models).await?;
    let (mut off, mut on) = (Duration::ZERO, Duration::ZERO);
    for round in 0..rounds {
        // Alternate which goes first, so neither always meets a warmer cache.
        if round % 2 == 0 {
            off += write_plain(db, rows).await?;
            on += write_logged(db, rows).await?;
        } else {
            on += write_logged(db, rows).await?;
            off += write_plain(db, rows).await?;
        }
    }
    Ok(CostReport {
        engine,
        writes: 2 * rows * rounds,
        off,
        on,
    })
}

async fn write_plain(db: &fw::Db, rows: u32) -> anyhow::Result<Duration> {
    let started = Instant::now();
    for row in 0..rows {
        let note = PlainNote::insert(
            db,
            NewPlainNote {
                title: format!("note {row}"),
            },
        )
        .await?;
        let patch = PlainNotePatch {
            title: Some(format!("note {row}, edited")),
        };
        PlainNote::patch(db, note.id, patch).await?;
    }
    Ok(started.elapsed())
}

async fn write_logged(db: &fw::Db, rows: u32) -> anyhow::Result<Duration> {
    let started = Instant::now();
    for row in 0..rows {
        let note = LoggedNote::insert(
            db,
            NewLoggedNote {
                title: format!("note {row}"),
            },
        )
        .await?;
        let patch = LoggedNotePatch {
            title: Some(format!("note {row}, edited")),
        };
        LoggedNote::patch(db, note.id, patch).await?;
    }
    Ok(started.elapsed())
}
