//! The hand-written baseline: what a competent engineer writes in an afternoon
//! with axum, sqlx and serde for the example's endpoints that the benchmark
//! drives. Plain handlers, SQL by hand (prepared and cached per connection by
//! sqlx), one pool per database, the same JSON as the example. No fw in the
//! request path.
//!
//! Writes do the example's observable work too: a created dividend's change
//! record is written in the same transaction, as fw records every write of a
//! `changelog` model, and as fw writes it: on SQLite into the log at the next
//! position, on PostgreSQL among the pending records that fw's sequencer
//! numbers after the commit (an outbox, as one writes it by hand). Served
//! with [`ChangeLog::Off`] it is the log-free baseline instead: a create is
//! its insert alone, one statement.
//!
//! Every request is authenticated as fw authenticates it, with fw's tables:
//! an API token, looked up by its SHA-256 with its user and the permissions
//! of the user's roles in one query; each handler then checks the permission
//! the example requires (the `auth` module).
//!
//! Every request is observed as fw observes it (the `observe` module): a
//! request id, an access-log line and the request metrics, through the same
//! crates.
//!
//! The pools are configured as fw configures its own (on SQLite: WAL, a read-only
//! pool and a single writer; on PostgreSQL: 16 connections), so the comparison is
//! of the request path, not of pool sizes.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use axum::Json;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::json;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row as _};
use uuid::Uuid;

use auth::Caller;

mod auth;
mod observe;

/// Rows per page when `page_size` is absent, and the most a client may ask for.
const DEFAULT_PAGE_SIZE: u32 = 50;
const MAX_PAGE_SIZE: u32 = 500;

/// The ordering when `ordering` is absent.
const DEFAULT_ORDERING: &str = "-ex_date";

const DIVIDEND_COLUMNS: &str = "id, announcement_id, security_id, declaration_date, ex_date, \
     record_date, pay_date, rate, currency, kind, status, updated_at, version";

/// The baseline's database handle.
#[derive(Clone, Debug)]
pub enum Database {
    /// SQLite: readers and the one writer.
    Sqlite {
        /// Read-only connections.
        reader: SqlitePool,
        /// The single writer connection.
        writer: SqlitePool,
    },
    /// PostgreSQL.
    Postgres(PgPool),
}

impl Database {
    /// Connects to `url` (`sqlite://...` or `postgres://...`).
    ///
    /// # Errors
    ///
    /// When the database cannot be reached.
    pub async fn connect(url: &str) -> anyhow::Result<Database> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true);
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone())
                .await?;
            let readers = std::thread::available_parallelism().map_or(4, |n| n.get().max(4));
            let reader = SqlitePoolOptions::new()
                .max_connections(readers as u32)
                .connect_with(options.read_only(true))
                .await?;
            Ok(Database::Sqlite { reader, writer })
        } else {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .connect(url)
                .await?;
            Ok(Database::Postgres(pool))
        }
    }
}

/// The baseline's routes, with the response middleware an engineer adds to
/// an API before it faces the internet, from tower-http as fw takes it:
/// compression of responses of 1 KiB and more at quality 4, and the same
/// security headers as fw's, each unless the handler set it.
pub fn router(db: Database, change_log: ChangeLog) -> axum::Router {
    use tower_http::compression::predicate::SizeAbove;
    use tower_http::compression::{CompressionLayer, CompressionLevel};
    use tower_http::set_header::SetResponseHeaderLayer;

    let security_headers = [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
        ("cross-origin-opener-policy", "same-origin"),
        (
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ),
    ];
    let mut router = axum::Router::new()
        .route("/dividends", get(list_dividends).post(create_dividend))
        .route("/dividends/{id}", get(retrieve_dividend))
        .route("/accounts/{id}/upcoming-dividends", get(upcoming_dividends))
        .route_layer(axum::middleware::from_fn(observe::observe))
        .layer(Extension(change_log))
        .with_state(db)
        .layer(
            CompressionLayer::new()
                .quality(CompressionLevel::Precise(4))
                .compress_when(SizeAbove::new(1024)),
        );
    for (name, value) in security_headers {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            axum::http::HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    router
}

/// Whether the baseline's creates write their change records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeLog {
    /// Each create writes its change record in its transaction, as fw does:
    /// the same work as fw's.
    Written,
    /// Creates write no change record (`server-baseline serve --log-free`):
    /// the log-free baseline, against which the log's own cost shows.
    Off,
}

/// Serves the baseline on `listen` until the process ends, logging and
/// counting every request as fw does (see `observe`), with creates writing
/// their change records or not as `change_log` says.
///
/// # Errors
///
/// When the database or the address is unavailable, or the log subscriber
/// or the metrics recorder cannot be installed.
pub async fn serve(
    database_url: &str,
    listen: std::net::SocketAddr,
    change_log: ChangeLog,
) -> anyhow::Result<()> {
    observe::install()?;
    let db = Database::connect(database_url).await?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, router(db, change_log)).await?;
    Ok(())
}

fn rfc3339<S: Serializer>(value: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&value.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

#[derive(Debug, Serialize)]
struct Dividend {
    id: i64,
    announcement_id: String,
    security: i64,
    declaration_date: NaiveDate,
    ex_date: NaiveDate,
    record_date: NaiveDate,
    pay_date: NaiveDate,
    /// Days from the ex-date to the pay date, as the example computes it.
    days_to_payment: i64,
    rate: Decimal,
    currency: String,
    kind: String,
    status: String,
    #[serde(serialize_with = "rfc3339")]
    updated_at: DateTime<Utc>,
    version: i64,
}

/// The days from `ex_date` to `pay_date`.
fn days_between(ex_date: NaiveDate, pay_date: NaiveDate) -> i64 {
    (pay_date - ex_date).num_days()
}

impl Dividend {
    fn from_sqlite(row: &SqliteRow) -> sqlx::Result<Dividend> {
        Ok(Dividend {
            id: row.try_get(0)?,
            announcement_id: row.try_get(1)?,
            security: row.try_get(2)?,
            declaration_date: row.try_get(3)?,
            ex_date: row.try_get(4)?,
            record_date: row.try_get(5)?,
            pay_date: row.try_get(6)?,
            days_to_payment: days_between(row.try_get(4)?, row.try_get(6)?),
            rate: sqlite_decimal(row, 7)?,
            currency: row.try_get(8)?,
            kind: row.try_get(9)?,
            status: row.try_get(10)?,
            updated_at: row.try_get(11)?,
            version: row.try_get(12)?,
        })
    }

    fn from_postgres(row: &PgRow) -> sqlx::Result<Dividend> {
        Ok(Dividend {
            id: row.try_get(0)?,
            announcement_id: row.try_get(1)?,
            security: row.try_get(2)?,
            declaration_date: row.try_get(3)?,
            ex_date: row.try_get(4)?,
            record_date: row.try_get(5)?,
            pay_date: row.try_get(6)?,
            days_to_payment: days_between(row.try_get(4)?, row.try_get(6)?),
            // NUMERIC(18,8) comes back with 8 places; the API shows the canonical
            // form, as on SQLite.
            rate: row.try_get::<Decimal, _>(7)?.normalize(),
            currency: row.try_get(8)?,
            kind: row.try_get(9)?,
            status: row.try_get(10)?,
            updated_at: row.try_get(11)?,
            version: row.try_get(12)?,
        })
    }

    fn etag(&self) -> HeaderValue {
        HeaderValue::from_str(&format!("\"{}\"", self.version))
            .unwrap_or(HeaderValue::from_static("\"0\""))
    }
}

/// SQLite has no exact decimal type: the schema stores decimals as text.
fn sqlite_decimal(row: &SqliteRow, index: usize) -> sqlx::Result<Decimal> {
    let text: String = row.try_get(index)?;
    Decimal::from_str_exact(&text).map_err(|error| sqlx::Error::ColumnDecode {
        index: index.to_string(),
        source: Box::new(error),
    })
}

/// An error response in the problem+json format the example uses.
#[derive(Debug)]
struct Problem {
    status: StatusCode,
    detail: String,
    errors: Vec<serde_json::Value>,
    /// The `WWW-Authenticate` challenge of a 401.
    challenge: Option<&'static str>,
}

impl Problem {
    fn new(status: StatusCode, detail: impl Into<String>) -> Problem {
        Problem {
            status,
            detail: detail.into(),
            errors: Vec::new(),
            challenge: None,
        }
    }

    fn not_found() -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "no resource at this address")
    }

    /// 422 with one entry per invalid field.
    fn invalid(errors: Vec<serde_json::Value>) -> Problem {
        let count = errors.len();
        Problem {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            detail: format!(
                "{count} invalid field{} in the request",
                if count == 1 { "" } else { "s" }
            ),
            errors,
            challenge: None,
        }
    }
}

impl From<sqlx::Error> for Problem {
    fn from(error: sqlx::Error) -> Problem {
        eprintln!("database error: {error}");
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": "about:blank",
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if !self.errors.is_empty() {
            body["errors"] = serde_json::Value::Array(self.errors);
        }
        let mut response = (self.status, Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(challenge) = self.challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

async fn retrieve_dividend(
    caller: Caller,
    State(db): State<Database>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    caller.require("view_dividend")?;
    let id: i64 = id.parse().map_err(|_| Problem::not_found())?;
    let sql_sqlite = "SELECT id, announcement_id, security_id, declaration_date, ex_date, \
         record_date, pay_date, rate, currency, kind, status, updated_at, version \
         FROM dividend WHERE id = ?1";
    let sql_postgres = "SELECT id, announcement_id, security_id, declaration_date, ex_date, \
         record_date, pay_date, rate, currency, kind, status, updated_at, version \
         FROM dividend WHERE id = $1";
    let dividend = match &db {
        Database::Sqlite { reader, .. } => sqlx::query(sql_sqlite)
            .bind(id)
            .fetch_optional(reader)
            .await?
            .map(|row| Dividend::from_sqlite(&row))
            .transpose()?,
        Database::Postgres(pool) => sqlx::query(sql_postgres)
            .bind(id)
            .fetch_optional(pool)
            .await?
            .map(|row| Dividend::from_postgres(&row))
            .transpose()?,
    };
    let dividend = dividend.ok_or_else(Problem::not_found)?;
    let etag = dividend.etag();
    let mut response = Json(dividend).into_response();
    response.headers_mut().insert(header::ETAG, etag);
    Ok(response)
}

/// A filter value, typed by its column.
#[derive(Debug, Clone)]
enum FilterValue {
    Int(i64),
    Text(String),
    Date(NaiveDate),
}

/// One `WHERE` condition from a `field__lookup=value` parameter.
#[derive(Debug)]
struct Condition {
    column: &'static str,
    operator: &'static str,
    values: Vec<FilterValue>,
}

/// The list's query string; unknown parameters are refused.
#[derive(Debug, Default)]
struct ListParams {
    conditions: Vec<Condition>,
    ordering: Option<String>,
    page_size: Option<u32>,
    cursor: Option<String>,
    /// Every parameter but `cursor`, in order, for the page links.
    kept: Vec<(String, String)>,
}

const KINDS: [&str; 3] = ["regular", "special", "return_of_capital"];
const STATUSES: [&str; 3] = ["announced", "changed", "cancelled"];

impl ListParams {
    fn parse(query: &str) -> Result<ListParams, Problem> {
        let mut params = ListParams::default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            match &*name {
                "cursor" => {
                    params.cursor = Some(value.into_owned());
                    continue;
                }
                "ordering" => params.ordering = Some(value.to_string()),
                "page_size" => {
                    params.page_size = Some(value.parse().map_err(|_| page_size_error())?)
                }
                _ => params.conditions.push(parse_filter(&name, &value)?),
            }
            params.kept.push((name.into_owned(), value.into_owned()));
        }
        Ok(params)
    }
}

fn page_size_error() -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        format!("`page_size` must be an integer from 1 to {MAX_PAGE_SIZE}"),
    )
}

fn parse_filter(name: &str, raw: &str) -> Result<Condition, Problem> {
    let bad = || {
        Problem::new(
            StatusCode::BAD_REQUEST,
            format!("query parameter `{name}` is not valid"),
        )
    };
    let (field, lookup) = name.split_once("__").unwrap_or((name, "exact"));
    let (column, ranges) = match field {
        "security" => ("security_id", false),
        "ex_date" => ("ex_date", true),
        "pay_date" => ("pay_date", true),
        "status" => ("status", false),
        "kind" => ("kind", false),
        _ => return Err(bad()),
    };
    let operator = match (lookup, ranges) {
        ("exact", _) => "=",
        ("in", false) => "IN",
        ("gte", true) => ">=",
        ("lte", true) => "<=",
        ("gt", true) => ">",
        ("lt", true) => "<",
        _ => return Err(bad()),
    };
    let parse_one = |text: &str| -> Result<FilterValue, Problem> {
        match field {
            "security" => text.parse().map(FilterValue::Int).map_err(|_| bad()),
            "ex_date" | "pay_date" => text.parse().map(FilterValue::Date).map_err(|_| bad()),
            "status" if STATUSES.contains(&text) => Ok(FilterValue::Text(text.to_owned())),
            "kind" if KINDS.contains(&text) => Ok(FilterValue::Text(text.to_owned())),
            _ => Err(bad()),
        }
    };
    let values = if operator == "IN" {
        raw.split(',')
            .map(parse_one)
            .collect::<Result<Vec<_>, _>>()?
    } else {
        vec![parse_one(raw)?]
    };
    Ok(Condition {
        column,
        operator,
        values,
    })
}

/// The orderings the list accepts: a column, ascending or descending.
#[derive(Debug, Clone, Copy)]
struct Ordering {
    column: &'static str,
    descending: bool,
}

impl Ordering {
    fn parse(text: &str) -> Option<Ordering> {
        let (descending, name) = match text.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, text),
        };
        let column = match name {
            "ex_date" => "ex_date",
            "pay_date" => "pay_date",
            _ => return None,
        };
        Some(Ordering { column, descending })
    }

    fn value(self, dividend: &Dividend) -> serde_json::Value {
        match self.column {
            "pay_date" => json!(dividend.pay_date),
            _ => json!(dividend.ex_date),
        }
    }
}

/// A decoded page cursor: the ordering value and key of the row a page starts
/// next to.
#[derive(Debug)]
struct Cursor {
    backwards: bool,
    date: NaiveDate,
    id: i64,
}

/// An opaque token: base64url of `{"o": ordering, "b": backwards, "v": [value, id]}`.
fn encode_cursor(
    ordering_text: &str,
    ordering: Ordering,
    row: &Dividend,
    backwards: bool,
) -> String {
    let document = json!({"o": ordering_text, "b": backwards, "v": [ordering.value(row), row.id]});
    URL_SAFE_NO_PAD.encode(document.to_string())
}

fn decode_cursor(token: &str, ordering_text: &str) -> Result<Cursor, Problem> {
    let invalid = || {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "`cursor` is not valid; use the `next` or `previous` link of a page",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let document: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if document["o"].as_str() != Some(ordering_text) {
        return Err(invalid());
    }
    let backwards = document["b"].as_bool().ok_or_else(invalid)?;
    let date = document["v"][0]
        .as_str()
        .and_then(|date| date.parse().ok())
        .ok_or_else(invalid)?;
    let id = document["v"][1].as_i64().ok_or_else(invalid)?;
    Ok(Cursor {
        backwards,
        date,
        id,
    })
}

/// Appends `WHERE ...` for the filters and the cursor, `ORDER BY` and `LIMIT`.
fn push_list_query<DB>(
    builder: &mut QueryBuilder<DB>,
    params: &ListParams,
    ordering: Ordering,
    cursor: Option<&Cursor>,
    limit: u32,
) where
    DB: sqlx::Database,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> NaiveDate: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let mut keyword = " WHERE ";
    for condition in &params.conditions {
        builder.push(keyword).push(condition.column);
        keyword = " AND ";
        if condition.operator == "IN" {
            builder.push(" IN (");
            let mut values = builder.separated(", ");
            for value in &condition.values {
                match value {
                    FilterValue::Int(value) => values.push_bind(*value),
                    FilterValue::Text(value) => values.push_bind(value.clone()),
                    FilterValue::Date(value) => values.push_bind(*value),
                };
            }
            builder.push(")");
        } else {
            builder.push(" ").push(condition.operator).push(" ");
            match &condition.values[0] {
                FilterValue::Int(value) => builder.push_bind(*value),
                FilterValue::Text(value) => builder.push_bind(value.clone()),
                FilterValue::Date(value) => builder.push_bind(*value),
            };
        }
    }
    // Scanning forwards in a descending order, or backwards in an ascending one,
    // means "less than" the cursor. The date and the key walk the same way, so
    // one row-value comparison is the keyset, and an index range.
    let reversed = cursor.is_some_and(|cursor| cursor.backwards);
    let less = ordering.descending != reversed;
    let (operator, direction) = if less { ("<", "DESC") } else { (">", "ASC") };
    let column = ordering.column;
    if let Some(cursor) = cursor {
        builder.push(format!("{keyword}({column}, id) {operator} ("));
        builder.push_bind(cursor.date);
        builder.push(", ");
        builder.push_bind(cursor.id);
        builder.push(")");
    }
    builder.push(format!(
        " ORDER BY {column} {direction}, id {direction} LIMIT {}",
        limit + 1
    ));
}

async fn list_dividends(
    caller: Caller,
    State(db): State<Database>,
    RawQuery(query): RawQuery,
    uri: axum::http::Uri,
) -> Result<Response, Problem> {
    caller.require("view_dividend")?;
    let params = ListParams::parse(query.as_deref().unwrap_or_default())?;
    let ordering_text = params.ordering.as_deref().unwrap_or(DEFAULT_ORDERING);
    let ordering = Ordering::parse(ordering_text).ok_or_else(|| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            format!("`ordering` cannot use `{ordering_text}`"),
        )
    })?;
    let page_size = params.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(page_size_error());
    }
    let cursor = params
        .cursor
        .as_deref()
        .map(|token| decode_cursor(token, ordering_text))
        .transpose()?;
    let select = format!("SELECT {DIVIDEND_COLUMNS} FROM dividend");
    let mut rows = match &db {
        Database::Sqlite { reader, .. } => {
            let mut builder = QueryBuilder::new(select);
            push_list_query(&mut builder, &params, ordering, cursor.as_ref(), page_size);
            builder
                .build()
                .fetch_all(reader)
                .await?
                .iter()
                .map(Dividend::from_sqlite)
                .collect::<sqlx::Result<Vec<_>>>()?
        }
        Database::Postgres(pool) => {
            let mut builder = QueryBuilder::new(select);
            push_list_query(&mut builder, &params, ordering, cursor.as_ref(), page_size);
            builder
                .build()
                .fetch_all(pool)
                .await?
                .iter()
                .map(Dividend::from_postgres)
                .collect::<sqlx::Result<Vec<_>>>()?
        }
    };
    let backwards = cursor.as_ref().is_some_and(|cursor| cursor.backwards);
    let more = rows.len() > page_size as usize;
    rows.truncate(page_size as usize);
    if backwards {
        rows.reverse();
    }
    let link = |row: &Dividend, backwards: bool| {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &params.kept {
            serializer.append_pair(name, value);
        }
        let cursor = encode_cursor(ordering_text, ordering, row, backwards);
        serializer.append_pair("cursor", &cursor);
        Some(format!("{}?{}", uri.path(), serializer.finish()))
    };
    let (has_next, has_previous) = if backwards {
        (true, more)
    } else {
        (more, cursor.is_some())
    };
    let page = Page {
        next: rows
            .last()
            .filter(|_| has_next)
            .and_then(|row| link(row, false)),
        previous: rows
            .first()
            .filter(|_| has_previous)
            .and_then(|row| link(row, true)),
        results: rows,
    };
    Ok(Json(page).into_response())
}

/// One page of a list.
#[derive(Debug, Serialize)]
struct Page<T> {
    next: Option<String>,
    previous: Option<String>,
    results: Vec<T>,
}

/// One payment of an account's upcoming dividends.
#[derive(Debug, Serialize)]
struct Payment {
    dividend: i64,
    symbol: String,
    ex_date: NaiveDate,
    pay_date: NaiveDate,
    rate: Decimal,
    quantity: Decimal,
    amount: Decimal,
    currency: String,
    status: String,
}

impl Payment {
    fn from_sqlite(row: &SqliteRow) -> sqlx::Result<Payment> {
        let rate = sqlite_decimal(row, 4)?;
        let quantity = sqlite_decimal(row, 5)?;
        Ok(Payment {
            dividend: row.try_get(0)?,
            symbol: row.try_get(1)?,
            ex_date: row.try_get(2)?,
            pay_date: row.try_get(3)?,
            rate,
            quantity,
            amount: quantity * rate,
            currency: row.try_get(6)?,
            status: row.try_get(7)?,
        })
    }

    fn from_postgres(row: &PgRow) -> sqlx::Result<Payment> {
        // Canonical forms, as on SQLite: `amount`'s places follow from them.
        let rate = row.try_get::<Decimal, _>(4)?.normalize();
        let quantity = row.try_get::<Decimal, _>(5)?.normalize();
        Ok(Payment {
            dividend: row.try_get(0)?,
            symbol: row.try_get(1)?,
            ex_date: row.try_get(2)?,
            pay_date: row.try_get(3)?,
            rate,
            quantity,
            amount: quantity * rate,
            currency: row.try_get(6)?,
            status: row.try_get(7)?,
        })
    }
}

/// An account's upcoming payments and their totals per currency.
#[derive(Debug, Serialize)]
struct UpcomingDividends {
    account: Uuid,
    from: NaiveDate,
    payments: Vec<Payment>,
    totals: BTreeMap<String, Decimal>,
}

/// `from` (default today, UTC) is the only parameter.
fn parse_from(query: &str) -> Result<NaiveDate, Problem> {
    let mut from = None;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name != "from" {
            return Err(Problem::new(
                StatusCode::BAD_REQUEST,
                format!("unknown query parameter `{name}`; this endpoint accepts `from`"),
            ));
        }
        from = Some(value);
    }
    match from {
        None => Ok(Utc::now().date_naive()),
        Some(text) => text.parse().map_err(|_| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                format!("query parameter `from` must be a date like 2026-03-17, not `{text}`"),
            )
        }),
    }
}

async fn upcoming_dividends(
    caller: Caller,
    State(db): State<Database>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, Problem> {
    caller.require("view_position")?;
    let from = parse_from(query.as_deref().unwrap_or_default())?;
    let account: Uuid = id.parse().map_err(|_| Problem::not_found())?;
    let payments = match &db {
        Database::Sqlite { reader, .. } => {
            sqlx::query("SELECT 1 FROM account WHERE id = ?1")
                .bind(account)
                .fetch_optional(reader)
                .await?
                .ok_or_else(Problem::not_found)?;
            sqlx::query(
                "SELECT d.id, s.symbol, d.ex_date, d.pay_date, d.rate, p.quantity, d.currency, \
                 d.status \
                 FROM position p \
                 JOIN dividend d ON d.security_id = p.security_id \
                 JOIN security s ON s.id = p.security_id \
                 WHERE p.account_id = ?1 AND d.pay_date >= ?2 AND d.status <> 'cancelled' \
                 ORDER BY d.pay_date, d.id",
            )
            .bind(account)
            .bind(from)
            .fetch_all(reader)
            .await?
            .iter()
            .map(Payment::from_sqlite)
            .collect::<sqlx::Result<Vec<_>>>()?
        }
        Database::Postgres(pool) => {
            sqlx::query("SELECT 1 FROM account WHERE id = $1")
                .bind(account)
                .fetch_optional(pool)
                .await?
                .ok_or_else(Problem::not_found)?;
            sqlx::query(
                "SELECT d.id, s.symbol, d.ex_date, d.pay_date, d.rate, p.quantity, d.currency, \
                 d.status \
                 FROM position p \
                 JOIN dividend d ON d.security_id = p.security_id \
                 JOIN security s ON s.id = p.security_id \
                 WHERE p.account_id = $1 AND d.pay_date >= $2 AND d.status <> 'cancelled' \
                 ORDER BY d.pay_date, d.id",
            )
            .bind(account)
            .bind(from)
            .fetch_all(pool)
            .await?
            .iter()
            .map(Payment::from_postgres)
            .collect::<sqlx::Result<Vec<_>>>()?
        }
    };
    let mut totals = BTreeMap::<String, Decimal>::new();
    for payment in &payments {
        match totals.get_mut(&payment.currency) {
            Some(total) => *total += payment.amount,
            None => {
                totals.insert(payment.currency.clone(), payment.amount);
            }
        }
    }
    Ok(Json(UpcomingDividends {
        account,
        from,
        payments,
        totals,
    })
    .into_response())
}

/// A create request: every writable field; unknown fields are refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewDividend {
    announcement_id: String,
    security: i64,
    declaration_date: NaiveDate,
    ex_date: NaiveDate,
    record_date: NaiveDate,
    pay_date: NaiveDate,
    rate: Decimal,
    #[serde(default = "default_currency")]
    currency: String,
    kind: String,
    #[serde(default = "default_status")]
    status: String,
}

fn default_currency() -> String {
    "USD".to_owned()
}

fn default_status() -> String {
    "announced".to_owned()
}

impl NewDividend {
    /// The model's constraints, as the example enforces them.
    fn validate(&self) -> Vec<serde_json::Value> {
        let mut errors = Vec::new();
        let mut error = |pointer: &str, code: &str, detail: &str| {
            errors.push(json!({"pointer": pointer, "code": code, "detail": detail}));
        };
        let announcement_id = self.announcement_id.as_bytes();
        if self.announcement_id.chars().count() > 20 {
            error("/announcement_id", "max_length", "at most 20 characters");
        }
        if announcement_id.is_empty()
            || announcement_id.len() > 20
            || !announcement_id
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            error(
                "/announcement_id",
                "pattern",
                "must match `^[A-Z0-9]{1,20}$`",
            );
        }
        let rate = self.rate.normalize();
        if rate.is_sign_negative() || rate.is_zero() {
            error("/rate", "exclusive_min_value", "must be more than 0");
        }
        if rate.scale() > 8 {
            error(
                "/rate",
                "decimal_places",
                "at most 8 digits after the decimal point",
            );
        }
        if rate.abs().trunc() >= Decimal::from(10_000_000_000_i64) {
            error(
                "/rate",
                "max_digits",
                "at most 10 digits before the decimal point",
            );
        }
        // PostgreSQL cannot store U+0000: refused here rather than failing there.
        if self.currency.contains('\0') {
            error(
                "/currency",
                "null_character",
                "must not contain the NUL character (U+0000), which the database cannot store",
            );
        }
        match self.currency.chars().count() {
            0..3 => error("/currency", "min_length", "at least 3 characters"),
            3 => {}
            _ => error("/currency", "max_length", "at most 3 characters"),
        }
        if !KINDS.contains(&self.kind.as_str()) {
            error(
                "/kind",
                "invalid_choice",
                "expected one of `regular`, `special`, `return_of_capital`",
            );
        }
        if !STATUSES.contains(&self.status.as_str()) {
            error(
                "/status",
                "invalid_choice",
                "expected one of `announced`, `changed`, `cancelled`",
            );
        }
        errors
    }

    /// The example's rule for an announcement's dates, checked once the fields
    /// are valid: declared first, paid last, the ex-date and the record date in
    /// between in either order.
    fn dates_out_of_order(&self) -> Vec<serde_json::Value> {
        let declaration = (
            "declaration_date",
            "declaration date",
            self.declaration_date,
        );
        let ex = ("ex_date", "ex-date", self.ex_date);
        let record = ("record_date", "record date", self.record_date);
        let pay = ("pay_date", "pay date", self.pay_date);
        [
            (ex, declaration),
            (record, declaration),
            (pay, ex),
            (pay, record),
        ]
        .into_iter()
        .filter(|((_, _, later), (_, _, earlier))| later < earlier)
        .map(|((field, name, value), (_, follows, follows_value))| {
            json!({
                "pointer": format!("/{field}"),
                "code": "date_order",
                "detail": format!("the {name} {value} is before the {follows} {follows_value}"),
            })
        })
        .collect()
    }
}

/// A value written by an insert, as the change log records it.
#[derive(Debug, Serialize)]
struct Inserted<T> {
    field: &'static str,
    new: T,
}

/// A timestamp as the change log writes it.
#[derive(Debug, Serialize)]
struct Instant(#[serde(serialize_with = "rfc3339")] DateTime<Utc>);

/// The change log's `fields` for an inserted dividend: every field but the
/// version (which has a column of its own), in the model's order, with the
/// values the database stored.
fn inserted_fields(dividend: &Dividend, created_at: DateTime<Utc>) -> impl Serialize + '_ {
    (
        Inserted {
            field: "id",
            new: dividend.id,
        },
        Inserted {
            field: "announcement_id",
            new: &dividend.announcement_id,
        },
        Inserted {
            field: "security",
            new: dividend.security,
        },
        Inserted {
            field: "declaration_date",
            new: dividend.declaration_date,
        },
        Inserted {
            field: "ex_date",
            new: dividend.ex_date,
        },
        Inserted {
            field: "record_date",
            new: dividend.record_date,
        },
        Inserted {
            field: "pay_date",
            new: dividend.pay_date,
        },
        Inserted {
            field: "rate",
            new: dividend.rate,
        },
        Inserted {
            field: "currency",
            new: &dividend.currency,
        },
        Inserted {
            field: "kind",
            new: &dividend.kind,
        },
        Inserted {
            field: "status",
            new: &dividend.status,
        },
        Inserted {
            field: "created_at",
            new: Instant(created_at),
        },
        Inserted {
            field: "updated_at",
            new: Instant(dividend.updated_at),
        },
    )
}

/// The change record of a created dividend, on SQLite: in the log, at the
/// position after the last one (the writer holds the database's only write
/// lock, so positions are dense and in commit order).
const RECORD_SQLITE: &str = "INSERT INTO fw_changes (seq, model, row_key, operation, version, \
     fields, changed_at, actor, request_id) \
     VALUES ((SELECT coalesce(max(seq), 0) + 1 FROM fw_changes), 'dividend', ?1, 'insert', ?2, \
     ?3, ?4, ?5, ?6)";

/// The change record of a created dividend, on PostgreSQL: among the
/// pending records, drawing its place as it is inserted; fw's sequencer
/// gives it its position after the commit.
const RECORD_POSTGRES: &str = "INSERT INTO fw_changes_pending (model, row_key, operation, \
     version, fields, changed_at, actor, request_id) \
     VALUES ('dividend', $1, 'insert', $2, $3, $4, $5, $6)";

/// The longest `x-request-id` recorded as sent; a longer one is replaced.
const MAX_REQUEST_ID: usize = 200;

/// The request id the change log records: `x-request-id` as sent, or a new one.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= MAX_REQUEST_ID)
        .map_or_else(|| Uuid::now_v7().to_string(), str::to_owned)
}

/// `POST /dividends`: the insert and its change record commit together, with
/// the token's user as its actor; with the change log off, the insert alone.
async fn create_dividend(
    caller: Caller,
    State(db): State<Database>,
    Extension(change_log): Extension<ChangeLog>,
    headers: HeaderMap,
    body: Result<Json<NewDividend>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, Problem> {
    let actor = caller.require("add_dividend")?.actor();
    let Json(new) =
        body.map_err(|rejection| Problem::new(rejection.status(), rejection.body_text()))?;
    let mut errors = new.validate();
    if errors.is_empty() {
        errors = new.dates_out_of_order();
    }
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let request_id = request_id(&headers);
    // Microseconds, as both databases store them, so the log and the row agree.
    let now = Utc::now();
    let now = DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
    let dividend = match (&db, change_log) {
        // One statement, which is its own transaction: what a create that
        // keeps no log is written as.
        (Database::Sqlite { writer, .. }, ChangeLog::Off) => {
            insert_sqlite(writer, &new, now).await?
        }
        (Database::Postgres(pool), ChangeLog::Off) => insert_postgres(pool, &new, now).await?,
        (Database::Sqlite { writer, .. }, ChangeLog::Written) => {
            let mut tx = writer.begin().await?;
            let dividend = insert_sqlite(&mut *tx, &new, now).await?;
            sqlx::query(RECORD_SQLITE)
                .bind(dividend.id.to_string())
                .bind(dividend.version)
                .bind(sqlx::types::Json(inserted_fields(&dividend, now)))
                .bind(now)
                .bind(&actor)
                .bind(&request_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            dividend
        }
        (Database::Postgres(pool), ChangeLog::Written) => {
            let mut tx = pool.begin().await?;
            let dividend = insert_postgres(&mut *tx, &new, now).await?;
            sqlx::query(RECORD_POSTGRES)
                .bind(dividend.id.to_string())
                .bind(dividend.version)
                .bind(sqlx::types::Json(inserted_fields(&dividend, now)))
                .bind(now)
                .bind(&actor)
                .bind(&request_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            dividend
        }
    };
    let location = HeaderValue::from_str(&format!("/dividends/{}", dividend.id))
        .unwrap_or(HeaderValue::from_static("/dividends"));
    let etag = dividend.etag();
    let mut response = (StatusCode::CREATED, Json(dividend)).into_response();
    response.headers_mut().insert(header::LOCATION, location);
    response.headers_mut().insert(header::ETAG, etag);
    Ok(response)
}

/// Inserts `new` on SQLite, created and updated `now`, and returns the row.
async fn insert_sqlite<'e>(
    executor: impl sqlx::SqliteExecutor<'e>,
    new: &NewDividend,
    now: DateTime<Utc>,
) -> Result<Dividend, Problem> {
    let row = sqlx::query(
        "INSERT INTO dividend (announcement_id, security_id, declaration_date, ex_date, \
         record_date, pay_date, rate, currency, kind, status, created_at, updated_at, \
         version) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, 1) \
         RETURNING id, announcement_id, security_id, declaration_date, ex_date, \
         record_date, pay_date, rate, currency, kind, status, updated_at, version",
    )
    .bind(&new.announcement_id)
    .bind(new.security)
    .bind(new.declaration_date)
    .bind(new.ex_date)
    .bind(new.record_date)
    .bind(new.pay_date)
    // Canonical text: SQLite has no exact decimal type.
    .bind(new.rate.normalize().to_string())
    .bind(&new.currency)
    .bind(&new.kind)
    .bind(&new.status)
    .bind(now)
    .fetch_one(executor)
    .await
    .map_err(refused)?;
    Ok(Dividend::from_sqlite(&row)?)
}

/// Inserts `new` on PostgreSQL, created and updated `now`, and returns the row.
async fn insert_postgres<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    new: &NewDividend,
    now: DateTime<Utc>,
) -> Result<Dividend, Problem> {
    let row = sqlx::query(
        "INSERT INTO dividend (announcement_id, security_id, declaration_date, ex_date, \
         record_date, pay_date, rate, currency, kind, status, created_at, updated_at, \
         version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, 1) \
         RETURNING id, announcement_id, security_id, declaration_date, ex_date, \
         record_date, pay_date, rate, currency, kind, status, updated_at, version",
    )
    .bind(&new.announcement_id)
    .bind(new.security)
    .bind(new.declaration_date)
    .bind(new.ex_date)
    .bind(new.record_date)
    .bind(new.pay_date)
    .bind(new.rate)
    .bind(&new.currency)
    .bind(&new.kind)
    .bind(&new.status)
    .bind(now)
    .fetch_one(executor)
    .await
    .map_err(refused)?;
    Ok(Dividend::from_postgres(&row)?)
}

/// A duplicate announcement id and an unknown security are conflicts (409), as
/// in the example; anything else is the server's fault.
fn refused(error: sqlx::Error) -> Problem {
    if let sqlx::Error::Database(database_error) = &error {
        match database_error.kind() {
            sqlx::error::ErrorKind::UniqueViolation => {
                return Problem {
                    status: StatusCode::CONFLICT,
                    detail: "another row already has the same `announcement_id`".to_owned(),
                    errors: vec![json!({
                        "pointer": "/announcement_id",
                        "code": "unique",
                        "detail": "this value is already taken",
                    })],
                    challenge: None,
                };
            }
            sqlx::error::ErrorKind::ForeignKeyViolation => {
                return Problem {
                    status: StatusCode::CONFLICT,
                    detail: "the row `security` refers to does not exist".to_owned(),
                    errors: vec![json!({
                        "pointer": "/security",
                        "code": "does_not_exist",
                        "detail": "the referenced row does not exist",
                    })],
                    challenge: None,
                };
            }
            _ => {}
        }
    }
    Problem::from(error)
}
