//! The benchmark's databases: one per server, with the example's schema (applied
//! by fw's own migration runner from the example's migration files) and the same
//! deterministic rows.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::{DateTime, Days, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{Connection as _, Executor as _};
use uuid::Uuid;

/// The database engine a benchmark runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// A SQLite file per server.
    Sqlite,
    /// A private PostgreSQL database per server, on `$FW_TEST_POSTGRES_URL`.
    Postgres,
}

/// A benchmark's `--db sqlite|postgres` option, repeatable.
#[derive(Debug, clap::Args)]
pub struct EngineChoice {
    /// The databases to run on; repeat for both (default: both).
    #[arg(long = "db", value_enum)]
    engines: Vec<Engine>,
}

impl EngineChoice {
    /// The engines asked for, or both when none was.
    pub fn engines(self) -> Vec<Engine> {
        if self.engines.is_empty() {
            Engine::ALL.to_vec()
        } else {
            self.engines
        }
    }
}

impl Engine {
    /// Both engines, SQLite first.
    pub const ALL: [Engine; 2] = [Engine::Sqlite, Engine::Postgres];

    /// The engine's lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

/// How many rows to seed.
#[derive(Debug, Clone, Copy)]
pub struct DataSize {
    /// Securities.
    pub securities: u32,
    /// Dividend announcements per security.
    pub dividends_per_security: u32,
    /// Accounts.
    pub accounts: u32,
    /// Positions per account, each in a different security.
    pub positions_per_account: u32,
    /// Dividends added after the others by one `INSERT ... SELECT` over a
    /// series of numbers (see `insert_bulk_dividends`): a large table in
    /// seconds, for the deep-page run.
    pub bulk_dividends: u32,
}

impl DataSize {
    /// The benchmark's data: 500 securities and 100,000 dividends.
    pub const FULL: DataSize = DataSize {
        securities: 500,
        dividends_per_security: 200,
        accounts: 200,
        positions_per_account: 20,
        bulk_dividends: 0,
    };

    /// The deep-page run's data: the benchmark's, and 900,000 more dividends
    /// over the same dates, a million in all.
    pub const DEEP: DataSize = DataSize {
        bulk_dividends: 900_000,
        ..DataSize::FULL
    };

    /// A few rows, for the smoke run.
    pub const SMOKE: DataSize = DataSize {
        securities: 6,
        dividends_per_security: 30,
        accounts: 3,
        positions_per_account: 4,
        bulk_dividends: 0,
    };

    /// The number of dividends.
    pub fn dividends(self) -> u32 {
        self.securities * self.dividends_per_security + self.bulk_dividends
    }
}

/// The first ex-date; dividends of a security follow every [`PERIOD_DAYS`] days
/// from here, so the 200 of each security span 2023 to 2030 and about half are
/// upcoming.
pub(crate) const FIRST_EX_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2023, 1, 2) {
    Some(date) => date,
    None => panic!("valid date"),
};

/// Days between a security's consecutive ex-dates; security `n` is offset by
/// `n % PERIOD_DAYS` days, so every day of a period has ex-dates.
pub(crate) const PERIOD_DAYS: u64 = 14;

/// Days from a seeded dividend's ex-date to its pay date.
const PAY_DAYS_AFTER_EX: u64 = 15;

/// The last pay date of the seeded dividends: the upcoming-payments scenario asks
/// for payments from shortly before it.
pub(crate) fn last_pay_date(size: DataSize) -> NaiveDate {
    let last_period = u64::from(size.dividends_per_security.max(1) - 1);
    let largest_offset = u64::from(size.securities.max(1) - 1).min(PERIOD_DAYS - 1);
    FIRST_EX_DATE + Days::new(last_period * PERIOD_DAYS + largest_offset + PAY_DAYS_AFTER_EX)
}

/// When every seeded row was created (whole seconds, as a real import would store).
fn seeded_at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default()
}

/// The key of the `index`-th seeded account (0-based).
pub fn account_id(index: u32) -> Uuid {
    Uuid::from_u128(0x00fb_0000_0000_4000_8000_0000_0000_0000 | u128::from(index))
}

/// A small deterministic generator (SplitMix64), so both databases, and every run,
/// hold the same rows without a dependency.
#[derive(Debug, Clone)]
pub(crate) struct Sequence(u64);

impl Sequence {
    pub(crate) fn new(seed: u64) -> Sequence {
        Sequence(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound`.
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }
}

struct SeedDividend {
    announcement_id: String,
    security: i64,
    declaration_date: NaiveDate,
    ex_date: NaiveDate,
    record_date: NaiveDate,
    pay_date: NaiveDate,
    rate: Decimal,
    kind: &'static str,
    status: &'static str,
}

fn dividends(size: DataSize) -> Vec<SeedDividend> {
    let mut random = Sequence::new(42);
    let mut rows = Vec::with_capacity(size.dividends() as usize);
    // Interleaved by date, as a daily file delivers them.
    for period in 0..size.dividends_per_security {
        for security in 0..size.securities {
            let ex_date = FIRST_EX_DATE
                + Days::new(u64::from(period) * PERIOD_DAYS + u64::from(security) % PERIOD_DAYS);
            let roll = random.below(100);
            let kind = match roll {
                0..=3 => "special",
                4 => "return_of_capital",
                _ => "regular",
            };
            let status = match random.below(100) {
                0..=4 => "cancelled",
                5..=14 => "changed",
                _ => "announced",
            };
            rows.push(SeedDividend {
                announcement_id: format!("DV{:06}{:05}", period, security),
                security: i64::from(security) + 1,
                declaration_date: ex_date - Days::new(21),
                ex_date,
                record_date: ex_date + Days::new(1),
                pay_date: ex_date + Days::new(PAY_DAYS_AFTER_EX),
                rate: Decimal::new(100 + random.below(250_000) as i64, 6),
                kind,
                status,
            });
        }
    }
    rows
}

/// The distance between the securities an account holds (see `insert_rows`).
const POSITION_STRIDE: u64 = 23;

/// Rows per multi-row `INSERT` (14 parameters each, well under both limits).
const BATCH: usize = 500;

/// The permissions of the benchmark's two users (see [`Credentials`]).
#[derive(Debug, Clone)]
pub struct Grants {
    /// Every scenario's permission.
    pub operator: Vec<&'static str>,
    /// One permission, so that the others are a 403.
    pub reader: Vec<&'static str>,
}

/// The `Authorization` headers the benchmark sends: API tokens of users that
/// [`seed`] creates through fw (`fw::testing::bearer`), so they are stored as
/// fw stores every token (its SHA-256, in `fw_api_token`) and granted through
/// a role. Both servers' databases are copies of one, so both accept them.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// `Bearer fw_...` of a user whose role grants every scenario's permission
    /// and nothing else: every scenario runs as them.
    pub operator: String,
    /// `Bearer fw_...` of a user who may view dividends and do nothing else:
    /// the smoke run's 403s.
    pub reader: String,
}

/// Applies the example's migrations to the database at `url`, creates the
/// benchmark's users and their tokens, and inserts the benchmark's rows.
///
/// # Errors
///
/// When the database cannot be reached or a statement fails.
pub async fn seed(url: &str, size: DataSize, grants: &Grants) -> anyhow::Result<Credentials> {
    // The example seals its accounts' personal data: with the keys its server
    // is started with.
    let db = fw::Db::connect(url)
        .await?
        .with_keyring(fw::testing::test_keyring());
    fw::migrate::migrate(
        &db,
        &migrations_dir(),
        &fw::migrate::DataMigrations::new(),
        fw::migrate::MigrateOptions::default(),
    )
    .await
    .context("applying the example's migrations")?;
    let credentials = Credentials {
        operator: fw::testing::bearer(&db, "bench_operator", &grants.operator).await,
        reader: fw::testing::bearer(&db, "bench_reader", &grants.reader).await,
    };
    db.close().await;
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await?;
        insert_rows::<sqlx::Sqlite, String>(&mut conn, size, |value| value.normalize().to_string())
            .await?;
        insert_bulk_dividends::<sqlx::Sqlite>(&mut conn, size, BULK_DIVIDENDS_SQLITE).await?;
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").await?;
        conn.close().await?;
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        insert_rows::<sqlx::Postgres, Decimal>(&mut conn, size, |value| value).await?;
        insert_bulk_dividends::<sqlx::Postgres>(&mut conn, size, BULK_DIVIDENDS_POSTGRES).await?;
        conn.execute("ANALYZE").await?;
        conn.close().await?;
    }
    Ok(credentials)
}

/// The example's migration files, the single source of the schema.
pub fn migrations_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/dividends/migrations")
}

/// Inserts the rows; `decimal` converts a decimal to what fw stores for it on
/// `DB` (canonical text on SQLite, which has no exact type; itself on PostgreSQL).
async fn insert_rows<DB, D>(
    conn: &mut DB::Connection,
    size: DataSize,
    decimal: fn(Decimal) -> D,
) -> anyhow::Result<()>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> NaiveDate: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> DateTime<Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> D: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let now = seeded_at();
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;

    let mut builder = sqlx::QueryBuilder::<DB>::new(
        "INSERT INTO security (symbol, cusip, name, created_at, updated_at, version) ",
    );
    builder.push_values(0..size.securities, |mut row, index| {
        row.push_bind(format!("S{index:04}"))
            .push_bind(format!("C{index:08}"))
            .push_bind(format!("Security {index} Inc."))
            .push_bind(now)
            .push_bind(now)
            .push_bind(1_i64);
    });
    builder.build().execute(&mut *tx).await?;

    for chunk in dividends(size).chunks(BATCH) {
        let mut builder = sqlx::QueryBuilder::<DB>::new(
            "INSERT INTO dividend (announcement_id, security_id, declaration_date, ex_date, \
             record_date, pay_date, rate, currency, kind, status, created_at, updated_at, \
             version) ",
        );
        builder.push_values(chunk, |mut row, dividend| {
            row.push_bind(dividend.announcement_id.clone())
                .push_bind(dividend.security)
                .push_bind(dividend.declaration_date)
                .push_bind(dividend.ex_date)
                .push_bind(dividend.record_date)
                .push_bind(dividend.pay_date);
            row.push_bind(decimal(dividend.rate));
            row.push_bind("USD")
                .push_bind(dividend.kind)
                .push_bind(dividend.status)
                .push_bind(now)
                .push_bind(now)
                .push_bind(1_i64);
        });
        builder.build().execute(&mut *tx).await?;
    }

    // Accounts as fw stores them: the personal data sealed for its row, the
    // tax id's digest beside it.
    let keyring = fw::testing::test_keyring();
    let accounts = (0..size.accounts)
        .map(|index| {
            let id = account_id(index);
            let row = id.hyphenated().to_string();
            let place = |column| fw::sensitive::Place {
                table: "account",
                column,
                row: &row,
            };
            let tax_id = format!("TAX{index:06}");
            let seal = |column, value: &str| {
                keyring
                    .seal(&place(column), value)
                    .map_err(|error| anyhow::anyhow!("sealing an account's {column}: {error}"))
            };
            Ok((
                id,
                seal("holder_name", &format!("Holder {index}"))?,
                seal("tax_id", &tax_id)?,
                keyring.digest("account", "tax_id", &tax_id),
            ))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut builder = sqlx::QueryBuilder::<DB>::new(
        "INSERT INTO account (id, number, holder_name, tax_id, tax_id_digest, created_at, version) ",
    );
    builder.push_values(
        accounts.into_iter().enumerate(),
        |mut row, (index, account)| {
            let (id, holder_name, tax_id, tax_id_digest) = account;
            row.push_bind(id)
                .push_bind(format!("A{index:07}"))
                .push_bind(holder_name)
                .push_bind(tax_id)
                .push_bind(tax_id_digest)
                .push_bind(now)
                .push_bind(1_i64);
        },
    );
    builder.build().execute(&mut *tx).await?;

    let mut random = Sequence::new(7);
    let positions: Vec<(u32, i64, Decimal)> = (0..size.accounts)
        .flat_map(|account| {
            let first = random.below(u64::from(size.securities));
            let quantities: Vec<Decimal> = (0..size.positions_per_account)
                .map(|_| Decimal::new(1 + random.below(5_000_000) as i64, 3))
                .collect();
            quantities
                .into_iter()
                .enumerate()
                .map(move |(n, quantity)| {
                    // A stride prime to the number of securities keeps an
                    // account's securities distinct; prime to PERIOD_DAYS, it
                    // spreads their pay dates over every day of a period, with
                    // some shared, so upcoming payments interleave securities
                    // and tie on pay dates.
                    let security =
                        (first + n as u64 * POSITION_STRIDE) % u64::from(size.securities);
                    (account, security as i64 + 1, quantity)
                })
        })
        .collect();
    for chunk in positions.chunks(BATCH) {
        let mut builder = sqlx::QueryBuilder::<DB>::new(
            "INSERT INTO position (account_id, security_id, quantity, as_of, version) ",
        );
        builder.push_values(chunk, |mut row, (account, security, quantity)| {
            row.push_bind(account_id(*account)).push_bind(*security);
            row.push_bind(decimal(*quantity));
            row.push_bind(FIRST_EX_DATE).push_bind(1_i64);
        });
        builder.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The bulk dividends on PostgreSQL (see [`insert_bulk_dividends`]).
const BULK_DIVIDENDS_POSTGRES: &str = "\
    INSERT INTO dividend (announcement_id, security_id, declaration_date, ex_date, \
                          record_date, pay_date, rate, currency, kind, status, \
                          created_at, updated_at, version) \
    SELECT 'BK' || lpad(n::text, 9, '0'), 1 + n % $1, ex_date - 21, ex_date, ex_date + 1, \
           ex_date + 15, 1 + n % 9, 'USD', 'regular', \
           CASE WHEN n % 20 = 0 THEN 'cancelled' WHEN n % 10 = 0 THEN 'changed' \
                ELSE 'announced' END, \
           $2, $2, 1 \
    FROM (SELECT n, $5 + ((n * 7919) % $3)::integer AS ex_date \
          FROM generate_series(0, $4 - 1) AS n) AS numbered";

/// The bulk dividends on SQLite (see [`insert_bulk_dividends`]).
const BULK_DIVIDENDS_SQLITE: &str = "\
    WITH RECURSIVE numbers(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM numbers WHERE n + 1 < $4) \
    INSERT INTO dividend (announcement_id, security_id, declaration_date, ex_date, \
                          record_date, pay_date, rate, currency, kind, status, \
                          created_at, updated_at, version) \
    SELECT 'BK' || printf('%09d', n), 1 + n % $1, date(ex_date, '-21 days'), ex_date, \
           date(ex_date, '+1 days'), date(ex_date, '+15 days'), CAST(1 + n % 9 AS TEXT), \
           'USD', 'regular', \
           CASE WHEN n % 20 = 0 THEN 'cancelled' WHEN n % 10 = 0 THEN 'changed' \
                ELSE 'announced' END, \
           $2, $2, 1 \
    FROM (SELECT n, date($5, '+' || ((n * 7919) % $3) || ' days') AS ex_date \
          FROM numbers) AS numbered";

/// Inserts `size.bulk_dividends` more dividends with `sql`, one statement:
/// `n` = 0, 1, ... gives announcement `BK<n>`, security `1 + n % securities`,
/// an ex-date spread (by a prime stride) over the seeded dividends' dates, a
/// whole rate of 1 to 9 and every twentieth cancelled, every twentieth
/// other changed. The parameters: the number of securities, the creation
/// time, the days the ex-dates span, the number of rows, the first ex-date.
async fn insert_bulk_dividends<DB>(
    conn: &mut DB::Connection,
    size: DataSize,
    sql: &'static str,
) -> anyhow::Result<()>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i32: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> DateTime<Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> NaiveDate: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    if size.bulk_dividends == 0 {
        return Ok(());
    }
    let span_days = u64::from(size.dividends_per_security) * PERIOD_DAYS;
    sqlx::query::<DB>(sql)
        .bind(i64::from(size.securities))
        .bind(seeded_at())
        .bind(i32::try_from(span_days)?)
        .bind(i64::from(size.bulk_dividends))
        .bind(FIRST_EX_DATE)
        .execute(&mut *conn)
        .await
        .context("inserting the bulk dividends")?;
    Ok(())
}

/// Which baselines get a database of their own beside fw's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Baselines {
    /// The baseline doing fw's work, change records included.
    SameWork,
    /// That one and the log-free baseline, whose creates write no record.
    SameWorkAndLogFree,
}

/// A seeded database for each server, removed when dropped.
#[derive(Debug)]
pub struct Databases {
    /// The database the fw example serves.
    pub fw_url: String,
    /// The database the baseline serves.
    pub baseline_url: String,
    /// The database the log-free baseline serves, when asked for.
    pub log_free_url: Option<String>,
    /// The tokens both databases hold.
    pub credentials: Credentials,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Files(Vec<PathBuf>),
    Postgres {
        admin_url: String,
        names: Vec<String>,
    },
}

impl Databases {
    /// Creates and seeds one database per server, fw's and each of
    /// `baselines`: the first is seeded, the others copied from it, so all
    /// hold byte-identical data.
    ///
    /// # Errors
    ///
    /// When a database cannot be created or seeded.
    pub async fn create(
        engine: Engine,
        size: DataSize,
        grants: &Grants,
        baselines: Baselines,
    ) -> anyhow::Result<Databases> {
        let log_free = baselines == Baselines::SameWorkAndLogFree;
        let suffix = format!(
            "{}_{}",
            std::process::id(),
            Utc::now().timestamp_subsec_nanos()
        );
        match engine {
            Engine::Sqlite => {
                let dir = std::env::temp_dir();
                let fw_path = dir.join(format!("fw_bench_{suffix}_fw.db"));
                let baseline_path = dir.join(format!("fw_bench_{suffix}_baseline.db"));
                let fw_url = format!("sqlite://{}", fw_path.display());
                let credentials = seed(&fw_url, size, grants).await?;
                let mut copies = vec![baseline_path];
                if log_free {
                    copies.push(dir.join(format!("fw_bench_{suffix}_log_free.db")));
                }
                for copy in &copies {
                    std::fs::copy(&fw_path, copy)
                        .with_context(|| format!("copying {}", fw_path.display()))?;
                }
                let url = |path: &PathBuf| format!("sqlite://{}", path.display());
                Ok(Databases {
                    fw_url,
                    baseline_url: url(&copies[0]),
                    log_free_url: copies.get(1).map(url),
                    credentials,
                    cleanup: Cleanup::Files([vec![fw_path], copies].concat()),
                })
            }
            Engine::Postgres => {
                let admin_url = fw::testing::postgres_admin_url();
                let fw_name = format!("fw_bench_{suffix}_fw");
                let baseline_name = format!("fw_bench_{suffix}_baseline");
                let fw_url = fw::testing::database_url(&admin_url, &fw_name);
                let mut admin = sqlx::PgConnection::connect(&admin_url).await.with_context(|| {
                    format!(
                        "no PostgreSQL answered at {admin_url}; start one (`bash .ci/start-postgres`) \
                         or set FW_TEST_POSTGRES_URL"
                    )
                })?;
                admin
                    .execute(sqlx::AssertSqlSafe(format!(
                        "CREATE DATABASE \"{fw_name}\""
                    )))
                    .await?;
                let credentials = seed(&fw_url, size, grants).await?;
                let mut copies = vec![baseline_name];
                if log_free {
                    copies.push(format!("fw_bench_{suffix}_log_free"));
                }
                for copy in &copies {
                    admin
                        .execute(sqlx::AssertSqlSafe(format!(
                            "CREATE DATABASE \"{copy}\" TEMPLATE \"{fw_name}\""
                        )))
                        .await?;
                }
                admin.close().await?;
                let url = |name: &String| fw::testing::database_url(&admin_url, name);
                Ok(Databases {
                    fw_url,
                    baseline_url: url(&copies[0]),
                    log_free_url: copies.get(1).map(url),
                    credentials,
                    cleanup: Cleanup::Postgres {
                        admin_url,
                        names: [vec![fw_name], copies].concat(),
                    },
                })
            }
        }
    }

    /// Removes the databases.
    pub async fn remove(self) {
        match self.cleanup {
            Cleanup::Files(paths) => {
                for path in paths {
                    for suffix in ["", "-wal", "-shm"] {
                        let mut file = path.clone().into_os_string();
                        file.push(suffix);
                        let _ = std::fs::remove_file(file);
                    }
                }
            }
            Cleanup::Postgres { admin_url, names } => {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                    for name in names {
                        let _ = admin
                            .execute(sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            )))
                            .await;
                    }
                    let _ = admin.close().await;
                }
            }
        }
    }
}
