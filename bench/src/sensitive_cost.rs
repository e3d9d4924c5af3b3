//! What a sensitive field costs: the same creates and retrieves through fw on
//! two models identical but for `#[field(sensitive)]` on two of their fields
//! (one of them `sensitive(searchable)`), measured alternately in one run on
//! one database. It measures whatever the model layer does with sensitive
//! fields: sealing and opening, and computing the digest of a searchable one.

use std::fmt;
use std::time::{Duration, Instant};

use fw::Model;
use fw::testing::TestDb;

use crate::data::Engine;

/// An account holder stored as it is.
#[fw::model]
pub struct PlainHolder {
    /// Surrogate key.
    pub id: i64,
    /// The holder's legal name.
    #[field(max_length = 200)]
    pub name: String,
    /// The holder's tax id.
    #[field(max_length = 20)]
    pub tax_id: String,
    /// Row version.
    #[field(version)]
    pub version: i64,
}

/// The same holder, with its personal data sensitive.
#[fw::model]
pub struct SealedHolder {
    /// Surrogate key.
    pub id: i64,
    /// The holder's legal name.
    #[field(sensitive, max_length = 200)]
    pub name: String,
    /// The holder's tax id, found by exact value.
    #[field(sensitive(searchable), max_length = 20)]
    pub tax_id: String,
    /// Row version.
    #[field(version)]
    pub version: i64,
}

/// Time spent on the same creates and retrieves without and with sensitive fields.
#[derive(Debug, Clone)]
pub struct SensitiveCostReport {
    /// The database.
    pub engine: Engine,
    /// Creates (and as many retrieves) per model, over all rounds.
    pub rows: u32,
    /// Creates without sensitive fields.
    pub plain_create: Duration,
    /// Creates with them.
    pub sealed_create: Duration,
    /// Retrieves by key without sensitive fields.
    pub plain_retrieve: Duration,
    /// Retrieves by key with them.
    pub sealed_retrieve: Duration,
}

fn per_second(count: u32, time: Duration) -> f64 {
    f64::from(count) / time.as_secs_f64().max(f64::EPSILON)
}

impl fmt::Display for SensitiveCostReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = |what: &str, plain: Duration, sealed: Duration| {
            let plain = per_second(self.rows, plain);
            let sealed = per_second(self.rows, sealed);
            format!(
                "sensitive fields on {}, {what}: {plain:.0}/s plain, {sealed:.0}/s sensitive, sensitive / plain = {:.2}",
                self.engine.name(),
                sealed / plain.max(f64::EPSILON)
            )
        };
        writeln!(
            f,
            "{}",
            line("create", self.plain_create, self.sealed_create)
        )?;
        write!(
            f,
            "{}",
            line("retrieve", self.plain_retrieve, self.sealed_retrieve)
        )
    }
}

/// Creates `rows` rows in each model, then retrieves each by key, in `rounds`
/// alternating rounds, on a private database of `engine` (whose test keys
/// seal the sensitive fields).
///
/// # Errors
///
/// When the database cannot be set up, a write or a read fails, or a row
/// read back differs from the one written.
pub async fn measure(
    engine: Engine,
    rows: u32,
    rounds: u32,
) -> anyhow::Result<SensitiveCostReport> {
    let test_db = match engine {
        Engine::Sqlite => TestDb::sqlite().await,
        Engine::Postgres => TestDb::postgres().await,
    };
    let db = test_db.db();
    fw::testing::create_tables(db, &[PlainHolder::SCHEMA, SealedHolder::SCHEMA]).await?;
    let mut report = SensitiveCostReport {
        engine,
        rows: rows * rounds,
        plain_create: Duration::ZERO,
        sealed_create: Duration::ZERO,
        plain_retrieve: Duration::ZERO,
        sealed_retrieve: Duration::ZERO,
    };
    for round in 0..rounds {
        // Alternate which goes first, so neither always meets a warmer cache.
        if round % 2 == 0 {
            plain_round(db, rows, &mut report).await?;
            sealed_round(db, rows, &mut report).await?;
        } else {
            sealed_round(db, rows, &mut report).await?;
            plain_round(db, rows, &mut report).await?;
        }
    }
    Ok(report)
}

fn tax_id(row: u32) -> String {
    format!("{:03}-{:02}-{:04}", row % 1000, row % 100, row % 10_000)
}

async fn plain_round(
    db: &fw::Db,
    rows: u32,
    report: &mut SensitiveCostReport,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut keys = Vec::with_capacity(rows as usize);
    for row in 0..rows {
        let new = NewPlainHolder {
            name: format!("Holder {row}"),
            tax_id: tax_id(row),
        };
        keys.push(PlainHolder::insert(db, new).await?.id);
    }
    report.plain_create += started.elapsed();
    let started = Instant::now();
    for (row, key) in (0..rows).zip(keys) {
        let read = PlainHolder::get(db, key).await?;
        anyhow::ensure!(read.tax_id == tax_id(row), "row {key} read back wrong");
    }
    report.plain_retrieve += started.elapsed();
    Ok(())
}

async fn sealed_round(
    db: &fw::Db,
    rows: u32,
    report: &mut SensitiveCostReport,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut keys = Vec::with_capacity(rows as usize);
    for row in 0..rows {
        let new = NewSealedHolder {
            name: format!("Holder {row}"),
            tax_id: tax_id(row),
        };
        keys.push(SealedHolder::insert(db, new).await?.id);
    }
    report.sealed_create += started.elapsed();
    let started = Instant::now();
    for (row, key) in (0..rows).zip(keys) {
        let read = SealedHolder::get(db, key).await?;
        anyhow::ensure!(read.tax_id == tax_id(row), "row {key} read back wrong");
    }
    report.sealed_retrieve += started.elapsed();
    Ok(())
}
