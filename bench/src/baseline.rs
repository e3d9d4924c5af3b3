//! The hand-written baseline: what a competent engineer writes in an afternoon
//! with axum, sqlx and serde for the example's dividend endpoints. Plain handlers,
//! SQL by hand (prepared and cached per connection by sqlx), one pool per
//! database, the same JSON as the example. No fw in the request path.
//!
//! The pools are configured as fw configures its own (on SQLite: WAL, a read-only
//! pool and a single writer; on PostgreSQL: 16 connections), so the comparison is
//! of the request path, not of pool sizes.

use std::str::FromStr;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
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

/// Rows per page when `page_size` is absent, and the most a client may ask for.
const DEFAULT_PAGE_SIZE: u32 = 50;
const MAX_PAGE_SIZE: u32 = 500;

/// The ordering when `ordering` is absent.
const DEFAULT_ORDERING: &str = "ex_date";

const DIVIDEND_COLUMNS: &str = "id, announcement_id, security_id, declaration_date, ex_date, \
     record_date, pay_date, rate, currency, kind, status, created_at, updated_at, version";

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

/// The baseline's routes.
pub fn router(db: Database) -> axum::Router {
    axum::Router::new()
        .route("/dividends", get(list_dividends).post(create_dividend))
        .route("/dividends/{id}", get(retrieve_dividend))
        .route("/accounts/{id}/upcoming-dividends", get(upcoming_dividends))
        .with_state(db)
}

/// Serves the baseline on `listen` until the process ends.
///
/// # Errors
///
/// When the database or the address is unavailable.
pub async fn serve(database_url: &str, listen: std::net::SocketAddr) -> anyhow::Result<()> {
    let db = Database::connect(database_url).await?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, router(db)).await?;
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
    rate: Decimal,
    currency: String,
    kind: String,
    status: String,
    #[serde(serialize_with = "rfc3339")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339")]
    updated_at: DateTime<Utc>,
    version: i64,
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
            rate: sqlite_decimal(row, 7)?,
            currency: row.try_get(8)?,
            kind: row.try_get(9)?,
            status: row.try_get(10)?,
            created_at: row.try_get(11)?,
            updated_at: row.try_get(12)?,
            version: row.try_get(13)?,
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
            rate: row.try_get(7)?,
            currency: row.try_get(8)?,
            kind: row.try_get(9)?,
            status: row.try_get(10)?,
            created_at: row.try_get(11)?,
            updated_at: row.try_get(12)?,
            version: row.try_get(13)?,
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
}

impl Problem {
    fn new(status: StatusCode, detail: impl Into<String>) -> Problem {
        Problem {
            status,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    fn not_found() -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "no such resource")
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
        response
    }
}

async fn retrieve_dividend(
    State(db): State<Database>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id: i64 = id.parse().map_err(|_| Problem::not_found())?;
    let sql_sqlite = "SELECT id, announcement_id, security_id, declaration_date, ex_date, \
         record_date, pay_date, rate, currency, kind, status, created_at, updated_at, version \
         FROM dividend WHERE id = ?1";
    let sql_postgres = "SELECT id, announcement_id, security_id, declaration_date, ex_date, \
         record_date, pay_date, rate, currency, kind, status, created_at, updated_at, version \
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

/// The list's query string. Unknown parameters are refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    security: Option<i64>,
    status: Option<String>,
    kind: Option<String>,
    #[serde(rename = "ex_date__gte")]
    ex_date_gte: Option<NaiveDate>,
    #[serde(rename = "ex_date__lte")]
    ex_date_lte: Option<NaiveDate>,
    #[serde(rename = "pay_date__gte")]
    pay_date_gte: Option<NaiveDate>,
    ordering: Option<String>,
    page_size: Option<u32>,
    cursor: Option<String>,
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
            "id" => "id",
            _ => return None,
        };
        Some(Ordering { column, descending })
    }

    fn value(self, dividend: &Dividend) -> serde_json::Value {
        match self.column {
            "ex_date" => json!(dividend.ex_date),
            "pay_date" => json!(dividend.pay_date),
            _ => json!(dividend.id),
        }
    }
}

/// A decoded page cursor: the ordering value and key of the row a page starts
/// next to.
#[derive(Debug)]
struct Cursor {
    backwards: bool,
    date: Option<NaiveDate>,
    id: i64,
}

fn encode_cursor(
    ordering_text: &str,
    ordering: Ordering,
    row: &Dividend,
    backwards: bool,
) -> String {
    let values = if ordering.column == "id" {
        vec![json!(row.id)]
    } else {
        vec![ordering.value(row), json!(row.id)]
    };
    let document = json!({"o": ordering_text, "b": backwards, "v": values});
    URL_SAFE_NO_PAD.encode(document.to_string())
}

fn decode_cursor(token: &str, ordering_text: &str, ordering: Ordering) -> Result<Cursor, Problem> {
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
    let values = document["v"].as_array().ok_or_else(invalid)?;
    let (date, id) = match (ordering.column, values.as_slice()) {
        ("id", [id]) => (None, id.as_i64().ok_or_else(invalid)?),
        (_, [date, id]) => (
            Some(
                date.as_str()
                    .and_then(|date| date.parse().ok())
                    .ok_or_else(invalid)?,
            ),
            id.as_i64().ok_or_else(invalid)?,
        ),
        _ => return Err(invalid()),
    };
    Ok(Cursor {
        backwards,
        date,
        id,
    })
}

/// Appends `WHERE ...` for the filters and the cursor, with `$n` or `?` binds.
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
    let mut first = true;
    let mut clause = |builder: &mut QueryBuilder<DB>, sql: &str| {
        builder.push(if first { " WHERE " } else { " AND " });
        builder.push(sql);
        first = false;
    };
    if let Some(security) = params.security {
        clause(builder, "security_id = ");
        builder.push_bind(security);
    }
    if let Some(status) = &params.status {
        clause(builder, "status = ");
        builder.push_bind(status.clone());
    }
    if let Some(kind) = &params.kind {
        clause(builder, "kind = ");
        builder.push_bind(kind.clone());
    }
    if let Some(date) = params.ex_date_gte {
        clause(builder, "ex_date >= ");
        builder.push_bind(date);
    }
    if let Some(date) = params.ex_date_lte {
        clause(builder, "ex_date <= ");
        builder.push_bind(date);
    }
    if let Some(date) = params.pay_date_gte {
        clause(builder, "pay_date >= ");
        builder.push_bind(date);
    }
    // Scanning forwards in a descending order, or backwards in an ascending one,
    // means "less than" the cursor.
    let reversed = cursor.is_some_and(|cursor| cursor.backwards);
    let less = ordering.descending != reversed;
    let (operator, direction) = if less { ("<", "DESC") } else { (">", "ASC") };
    if let Some(cursor) = cursor {
        let column = ordering.column;
        match cursor.date {
            Some(date) => {
                clause(builder, &format!("({column} {operator} "));
                builder.push_bind(date);
                builder.push(format!(" OR ({column} = "));
                builder.push_bind(date);
                builder.push(format!(" AND id {operator} "));
                builder.push_bind(cursor.id);
                builder.push("))");
            }
            None => {
                clause(builder, &format!("id {operator} "));
                builder.push_bind(cursor.id);
            }
        }
    }
    if ordering.column == "id" {
        builder.push(format!(" ORDER BY id {direction}"));
    } else {
        builder.push(format!(
            " ORDER BY {} {direction}, id {direction}",
            ordering.column
        ));
    }
    builder.push(format!(" LIMIT {}", limit + 1));
}

async fn list_dividends(
    State(db): State<Database>,
    RawQuery(query): RawQuery,
    uri: axum::http::Uri,
) -> Result<Response, Problem> {
    let query = query.unwrap_or_default();
    let params: ListParams = serde_urlencoded_params(&query)?;
    let ordering_text = params
        .ordering
        .clone()
        .unwrap_or_else(|| DEFAULT_ORDERING.to_owned());
    let ordering = Ordering::parse(&ordering_text).ok_or_else(|| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            format!("`ordering` cannot use `{ordering_text}`"),
        )
    })?;
    let page_size = params.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            format!("`page_size` must be an integer from 1 to {MAX_PAGE_SIZE}"),
        ));
    }
    let cursor = params
        .cursor
        .as_deref()
        .map(|token| decode_cursor(token, &ordering_text, ordering))
        .transpose()?;
    let mut rows = match &db {
        Database::Sqlite { reader, .. } => {
            let mut builder = QueryBuilder::new(format!("SELECT {DIVIDEND_COLUMNS} FROM dividend"));
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
            let mut builder = QueryBuilder::new(format!("SELECT {DIVIDEND_COLUMNS} FROM dividend"));
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
    if more {
        rows.truncate(page_size as usize);
    }
    if backwards {
        rows.reverse();
    }
    let kept: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .filter(|(name, _)| name != "cursor")
        .collect();
    let link = |row: &Dividend, backwards: bool| {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &kept {
            serializer.append_pair(name, value);
        }
        serializer.append_pair(
            "cursor",
            &encode_cursor(&ordering_text, ordering, row, backwards),
        );
        json!(format!("{}?{}", uri.path(), serializer.finish()))
    };
    let (has_next, has_previous) = if backwards {
        (true, more)
    } else {
        (more, cursor.is_some())
    };
    let next = match rows.last() {
        Some(row) if has_next => link(row, false),
        _ => serde_json::Value::Null,
    };
    let previous = match rows.first() {
        Some(row) if has_previous => link(row, true),
        _ => serde_json::Value::Null,
    };
    Ok(Json(json!({"next": next, "previous": previous, "results": rows})).into_response())
}

fn serde_urlencoded_params(query: &str) -> Result<ListParams, Problem> {
    axum::extract::Query::<ListParams>::try_from_uri(
        &format!("/?{query}")
            .parse()
            .map_err(|_| Problem::new(StatusCode::BAD_REQUEST, "malformed query string"))?,
    )
    .map(|axum::extract::Query(params)| params)
    .map_err(|rejection| Problem::new(StatusCode::BAD_REQUEST, rejection.body_text()))
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
    #[serde(default = "usd")]
    currency: String,
    kind: String,
    status: String,
}

fn usd() -> String {
    "USD".to_owned()
}

impl NewDividend {
    /// The model's constraints, as the example enforces them.
    fn validate(&self) -> Vec<serde_json::Value> {
        let mut errors = Vec::new();
        let mut error = |pointer: &str, code: &str, detail: &str| {
            errors.push(json!({"pointer": pointer, "code": code, "detail": detail}));
        };
        let id = &self.announcement_id;
        if id.is_empty()
            || id.chars().count() > 20
            || !id
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            error(
                "/announcement_id",
                "pattern",
                "must match `^[A-Z0-9]{1,20}$`",
            );
        }
        if self.rate.is_sign_negative() {
            error("/rate", "min", "must be at least 0");
        }
        if self.rate.scale() > 8 || self.rate.trunc().abs() >= Decimal::from(10_000_000_000_i64) {
            error(
                "/rate",
                "max_digits",
                "at most 18 digits, 8 after the point",
            );
        }
        if self.currency.chars().count() != 3 {
            error("/currency", "length", "must be 3 characters");
        }
        if !matches!(
            self.kind.as_str(),
            "regular" | "special" | "return_of_capital"
        ) {
            error(
                "/kind",
                "choice",
                "must be one of `regular`, `special`, `return_of_capital`",
            );
        }
        if !matches!(self.status.as_str(), "announced" | "changed" | "cancelled") {
            error(
                "/status",
                "choice",
                "must be one of `announced`, `changed`, `cancelled`",
            );
        }
        errors
    }
}

async fn create_dividend(
    State(db): State<Database>,
    body: Result<Json<NewDividend>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, Problem> {
    let Json(new) =
        body.map_err(|rejection| Problem::new(StatusCode::BAD_REQUEST, rejection.body_text()))?;
    let errors = new.validate();
    if !errors.is_empty() {
        return Err(Problem {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            detail: "the request body is not valid".to_owned(),
            errors,
        });
    }
    let now = Utc::now();
    let dividend = match &db {
        Database::Sqlite { writer, .. } => {
            let row = sqlx::query(
                "INSERT INTO dividend (announcement_id, security_id, declaration_date, ex_date, \
                 record_date, pay_date, rate, currency, kind, status, created_at, updated_at, \
                 version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, 1) \
                 RETURNING id, announcement_id, security_id, declaration_date, ex_date, \
                 record_date, pay_date, rate, currency, kind, status, created_at, updated_at, \
                 version",
            )
            .bind(&new.announcement_id)
            .bind(new.security)
            .bind(new.declaration_date)
            .bind(new.ex_date)
            .bind(new.record_date)
            .bind(new.pay_date)
            .bind(new.rate.normalize().to_string())
            .bind(&new.currency)
            .bind(&new.kind)
            .bind(&new.status)
            .bind(now)
            .fetch_one(writer)
            .await
            .map_err(conflict)?;
            Dividend::from_sqlite(&row)?
        }
        Database::Postgres(pool) => {
            let row = sqlx::query(
                "INSERT INTO dividend (announcement_id, security_id, declaration_date, ex_date, \
                 record_date, pay_date, rate, currency, kind, status, created_at, updated_at, \
                 version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, 1) \
                 RETURNING id, announcement_id, security_id, declaration_date, ex_date, \
                 record_date, pay_date, rate, currency, kind, status, created_at, updated_at, \
                 version",
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
            .fetch_one(pool)
            .await
            .map_err(conflict)?;
            Dividend::from_postgres(&row)?
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

/// Unique and foreign-key violations are the client's doing: 409 and 422.
fn conflict(error: sqlx::Error) -> Problem {
    if let sqlx::Error::Database(database_error) = &error {
        match database_error.kind() {
            sqlx::error::ErrorKind::UniqueViolation => {
                return Problem::new(
                    StatusCode::CONFLICT,
                    "a dividend with this `announcement_id` exists",
                );
            }
            sqlx::error::ErrorKind::ForeignKeyViolation => {
                return Problem {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    detail: "the request body is not valid".to_owned(),
                    errors: vec![
                        json!({"pointer": "/security", "code": "does_not_exist", "detail": "no such security"}),
                    ],
                };
            }
            _ => {}
        }
    }
    Problem::from(error)
}

/// One upcoming payment to an account.
#[derive(Debug, Serialize)]
struct UpcomingPayment {
    dividend: i64,
    security: i64,
    symbol: String,
    ex_date: NaiveDate,
    pay_date: NaiveDate,
    rate: Decimal,
    currency: String,
    quantity: Decimal,
    amount: Decimal,
}

async fn upcoming_dividends(
    State(db): State<Database>,
    Path(account): Path<String>,
) -> Result<Response, Problem> {
    let account: Uuid = account.parse().map_err(|_| Problem::not_found())?;
    let today = Utc::now().date_naive();
    let payments = match &db {
        Database::Sqlite { reader, .. } => {
            let exists = sqlx::query("SELECT 1 FROM account WHERE id = ?1")
                .bind(account)
                .fetch_optional(reader)
                .await?;
            if exists.is_none() {
                return Err(Problem::not_found());
            }
            sqlx::query(
                "SELECT d.id, d.security_id, s.symbol, d.ex_date, d.pay_date, d.rate, d.currency, \
                 p.quantity FROM position p JOIN dividend d ON d.security_id = p.security_id \
                 JOIN security s ON s.id = d.security_id \
                 WHERE p.account_id = ?1 AND d.pay_date >= ?2 AND d.status <> 'cancelled' \
                 ORDER BY d.pay_date, d.id",
            )
            .bind(account)
            .bind(today)
            .fetch_all(reader)
            .await?
            .iter()
            .map(|row| {
                payment(
                    row.try_get(0)?,
                    row.try_get(1)?,
                    row.try_get(2)?,
                    row.try_get(3)?,
                    row.try_get(4)?,
                    sqlite_decimal(row, 5)?,
                    row.try_get(6)?,
                    sqlite_decimal(row, 7)?,
                )
            })
            .collect::<sqlx::Result<Vec<_>>>()?
        }
        Database::Postgres(pool) => {
            let exists = sqlx::query("SELECT 1 FROM account WHERE id = $1")
                .bind(account)
                .fetch_optional(pool)
                .await?;
            if exists.is_none() {
                return Err(Problem::not_found());
            }
            sqlx::query(
                "SELECT d.id, d.security_id, s.symbol, d.ex_date, d.pay_date, d.rate, d.currency, \
                 p.quantity FROM position p JOIN dividend d ON d.security_id = p.security_id \
                 JOIN security s ON s.id = d.security_id \
                 WHERE p.account_id = $1 AND d.pay_date >= $2 AND d.status <> 'cancelled' \
                 ORDER BY d.pay_date, d.id",
            )
            .bind(account)
            .bind(today)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|row| {
                payment(
                    row.try_get(0)?,
                    row.try_get(1)?,
                    row.try_get(2)?,
                    row.try_get(3)?,
                    row.try_get(4)?,
                    row.try_get(5)?,
                    row.try_get(6)?,
                    row.try_get(7)?,
                )
            })
            .collect::<sqlx::Result<Vec<_>>>()?
        }
    };
    Ok(Json(json!({ "results": payments })).into_response())
}

#[allow(clippy::too_many_arguments)]
fn payment(
    dividend: i64,
    security: i64,
    symbol: String,
    ex_date: NaiveDate,
    pay_date: NaiveDate,
    rate: Decimal,
    currency: String,
    quantity: Decimal,
) -> sqlx::Result<UpcomingPayment> {
    Ok(UpcomingPayment {
        dividend,
        security,
        symbol,
        ex_date,
        pay_date,
        amount: (rate * quantity).round_dp(2),
        rate,
        currency,
        quantity,
    })
}
