//! What serving an older API version costs: the same retrieves and list pages
//! of one resource, through the whole application router in-process (fw's
//! perimeter, identity off), asked in the newest version, in the version one
//! change older, and in the version five changes older, alternately in one
//! run on one database. An older version's request has its query rewritten
//! and its answer parsed, changed and written again at the edge; the newest
//! version's passes through.

use std::fmt;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use fw::testing::TestDb;
use fw::{Edit, Model as _};
use rust_decimal::Decimal;
use serde_json::{Value as Json, json};
use tower::ServiceExt as _;

use crate::data::Engine;

/// Whether a quote's market is trading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, fw::Choices)]
pub enum QuoteStatus {
    /// Trading.
    Open,
    /// Closed for the day.
    Closed,
    /// Trading stopped by the exchange.
    Halted,
}

/// A price quote.
#[fw::model]
pub struct Quote {
    /// Surrogate key.
    pub id: i64,
    /// The ticker.
    #[field(max_length = 12)]
    pub symbol: String,
    /// The last price.
    #[field(max_digits = 18, decimal_places = 4)]
    pub price: Decimal,
    /// ISO 4217 code, upper case.
    #[field(max_length = 3)]
    pub currency: String,
    /// Whether it trades.
    pub status: QuoteStatus,
    /// A remark.
    #[field(max_length = 200)]
    pub note: Option<String>,
    /// Row version.
    #[field(version)]
    pub version: i64,
}

/// A quote.
#[fw::resource(
    model = Quote,
    path = "/quotes",
    fields = all,
    actions(list, retrieve),
    permissions(public),
    filter(symbol(exact)),
    ordering(symbol),
    default_ordering = "symbol",
    page_size = 50,
    max_page_size = 100
)]
pub struct QuoteResource;

/// Five versions of changes, one each, newest first: what a client of the
/// oldest version goes through.
const PRICE: fw::VersionChange = fw::VersionChange::new(
    "`amount` is `price`.",
    &[Edit::renamed(fw::field!(QuoteResource, price), "amount")],
);
const NOTE: fw::VersionChange = fw::VersionChange::new(
    "Quotes have notes.",
    &[Edit::added(fw::field!(QuoteResource, note))],
);
const SYMBOL: fw::VersionChange = fw::VersionChange::new(
    "`ticker` is `symbol`.",
    &[Edit::renamed(fw::field!(QuoteResource, symbol), "ticker")],
);
const CURRENCY: fw::VersionChange = fw::VersionChange::new(
    "Currencies are upper case.",
    &[Edit::Converted {
        field: fw::field!(QuoteResource, currency),
        schema: || json!({"type": "string", "maxLength": 3}),
        up: |currency| {
            Ok(Json::from(
                currency.as_str().unwrap_or_default().to_uppercase(),
            ))
        },
        down: |currency| Json::from(currency.as_str().unwrap_or_default().to_lowercase()),
    }],
);
const HALTED: fw::VersionChange = fw::VersionChange::new(
    "Quotes can be halted.",
    &[Edit::EnumValueAdded {
        field: fw::field!(QuoteResource, status),
        value: "halted",
        was: "closed",
    }],
);

/// Six versions: the newest, and five older ones, each one change further.
pub const VERSIONS: fw::Versions = fw::Versions::new(&[
    fw::Version::new("2026-06-06", "Prices.", &[PRICE]),
    fw::Version::new("2026-05-05", "Notes.", &[NOTE]),
    fw::Version::new("2026-04-04", "Symbols.", &[SYMBOL]),
    fw::Version::new("2026-03-03", "Currencies.", &[CURRENCY]),
    fw::Version::new("2026-02-02", "Halts.", &[HALTED]),
    fw::Version::first("2026-01-01", "The first release."),
]);

/// The versions measured, by how many changes lie between them and the newest.
const MEASURED: [(usize, &str); 3] = [(0, "2026-06-06"), (1, "2026-05-05"), (5, "2026-01-01")];

/// Rows the list pages read from.
const ROWS: i64 = 200;

/// Time spent on the same requests in each measured version.
#[derive(Debug, Clone)]
pub struct VersionCostReport {
    /// The database.
    pub engine: Engine,
    /// Requests per operation and version, over all rounds.
    pub requests: u32,
    /// Retrieves, per measured version (newest, one change, five changes).
    pub retrieve: [Duration; 3],
    /// First pages of 50, per measured version.
    pub list: [Duration; 3],
}

impl fmt::Display for VersionCostReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rate = |time: Duration| f64::from(self.requests) / time.as_secs_f64().max(f64::EPSILON);
        for (operation, times) in [("retrieve", &self.retrieve), ("list", &self.list)] {
            let newest = rate(times[0]);
            writeln!(
                f,
                "versions on {}, {operation}: {newest:.0}/s newest, {:.0}/s one change back \
                 ({:.3} of newest), {:.0}/s five changes back ({:.3})",
                self.engine.name(),
                rate(times[1]),
                rate(times[1]) / newest.max(f64::EPSILON),
                rate(times[2]),
                rate(times[2]) / newest.max(f64::EPSILON),
            )?;
        }
        Ok(())
    }
}

/// Runs `requests` retrieves and as many list pages in each measured
/// version, in `rounds` rounds whose order of versions rotates, on a
/// private database of `engine`.
///
/// # Errors
///
/// When the database cannot be set up, or an answer is not the 200 with
/// the shape its version promises.
pub async fn measure(
    engine: Engine,
    requests: u32,
    rounds: u32,
) -> anyhow::Result<VersionCostReport> {
    let test_db = match engine {
        Engine::Sqlite => TestDb::sqlite().await,
        Engine::Postgres => TestDb::postgres().await,
    };
    let app = fw::App::new("version-cost", env!("CARGO_MANIFEST_DIR"))
        .model::<Quote>()
        .api(
            fw::Api::new("Quotes", "1.0.0")
                .resource::<QuoteResource>()
                .versions(VERSIONS),
        );
    fw::testing::create_tables(test_db.db(), app.models()).await?;
    for row in 0..ROWS {
        Quote::insert(
            test_db.db(),
            NewQuote {
                symbol: format!("Q{row:04}"),
                price: Decimal::new(12_345 + row, 2),
                currency: "USD".to_owned(),
                status: if row % 3 == 0 {
                    QuoteStatus::Halted
                } else {
                    QuoteStatus::Open
                },
                note: (row % 2 == 0).then(|| format!("quote {row}")),
            },
        )
        .await?;
    }
    let router = app.router(test_db.context());
    let mut report = VersionCostReport {
        engine,
        requests: requests * rounds,
        retrieve: [Duration::ZERO; 3],
        list: [Duration::ZERO; 3],
    };
    for round in 0..rounds as usize {
        for offset in 0..MEASURED.len() {
            let index = (round + offset) % MEASURED.len();
            let (changes, date) = MEASURED[index];
            let started = Instant::now();
            for request in 0..requests {
                let id = i64::from(request) % ROWS + 1;
                let row = get(&router, date, &format!("/quotes/{id}")).await?;
                check_shape(&row, changes)?;
            }
            report.retrieve[index] += started.elapsed();
            let started = Instant::now();
            for _ in 0..requests {
                let page = get(&router, date, "/quotes?page_size=50").await?;
                let first = &page["results"][0];
                check_shape(first, changes)?;
            }
            report.list[index] += started.elapsed();
        }
    }
    Ok(report)
}

/// `GET uri` in version `date`: its JSON body, which must come with a 200.
async fn get(router: &axum::Router, date: &str, uri: &str) -> anyhow::Result<Json> {
    let request = Request::get(uri)
        .header("api-version", date)
        .body(Body::empty())?;
    let response = router.clone().oneshot(request).await?;
    anyhow::ensure!(
        response.status() == StatusCode::OK,
        "{uri} in {date}: {}",
        response.status()
    );
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
    Ok(serde_json::from_slice(&body)?)
}

/// Checks that `row` has the shape of the version `changes` back.
fn check_shape(row: &Json, changes: usize) -> anyhow::Result<()> {
    let (price, symbol) = match changes {
        0 => ("price", "symbol"),
        1 => ("amount", "symbol"),
        _ => ("amount", "ticker"),
    };
    anyhow::ensure!(
        row.get(price).is_some() && row.get(symbol).is_some(),
        "a row {changes} changes back without `{price}` or `{symbol}`: {row}"
    );
    if changes == 5 {
        anyhow::ensure!(
            row["currency"] == "usd" && row["status"] != "halted",
            "{row}"
        );
    }
    Ok(())
}
