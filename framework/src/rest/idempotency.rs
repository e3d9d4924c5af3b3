//! `Idempotency-Key`: a client that got no answer to a write can send it again
//! without making it twice.
//!
//! Every unsafe operation of a resource (`POST`, `PUT`, `PATCH`, `DELETE` and
//! custom actions) accepts an `Idempotency-Key` header, Stripe's way: a key the
//! client makes up for one request (a UUID, say), from 1 to
//! [`MAX_KEY_LENGTH`] visible ASCII characters.
//!
//! - The first request with a key runs, and its answer (status, body,
//!   `Content-Type`, `Location` and `ETag`) is stored under the key: in the
//!   write's own transaction for creates, updates and deletes, so a crash can
//!   never keep the write without the answer or the answer without the write.
//!   Client errors (4xx) are stored too; server errors (5xx) are not, so a
//!   retry after one runs again.
//! - The same key with the same request (method, path with query, body) gets
//!   the stored answer again, marked `Idempotent-Replayed: true`, and writes
//!   nothing.
//! - The same key with a different request is a 422: the key belongs to the
//!   first.
//! - While the first request is still running, the key answers 409; retry
//!   later. A key left running by a server that stopped mid-request is taken
//!   over by the next request with it after [`ABANDONED_AFTER`].
//! - Keys expire [`Config::idempotency_key_ttl`](crate::Config::idempotency_key_ttl)
//!   after first use (default 24 hours, `FW_IDEMPOTENCY_KEY_TTL_SECONDS`); after
//!   that the key is new again.
//!
//! Keys belong to the caller: the [`Actor`](crate::changes::Actor)
//! authentication names, and callers without one share the anonymous space.
//! A custom action writes through its own transactions, so its answer is
//! stored just after it commits: a server that stops in between leaves the key
//! to be taken over, and the action runs again.
//!
//! The keys live in the table `fw_idempotency_keys`, which an app serving an
//! API that writes brings into its migrations (see [`App::api`](crate::App::api));
//! [`tables`] gives it to [`testing::create_tables`](crate::testing::create_tables).

use std::sync::LazyLock;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::ApiError;
use crate::db::{Access, Arguments, Conn, Db, Dialect, Tx};
use crate::error::Result;
use crate::schema::{Constraint, FieldSchema, Generated, IndexSchema, ModelSchema, SqlType};

/// The longest `Idempotency-Key` accepted, in bytes.
pub const MAX_KEY_LENGTH: usize = 255;

/// How long a key may stay claimed by a request before another request with it
/// takes it over: longer than any request runs, so only a key whose server
/// stopped mid-request is taken over.
pub const ABANDONED_AFTER: Duration = Duration::from_secs(60);

/// The request header.
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// The response header that marks a stored answer sent again.
const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The headers stored with an answer, in the table's column order.
const STORED_HEADERS: [HeaderName; 3] = [header::CONTENT_TYPE, header::LOCATION, header::ETAG];

const TABLE: &str = "fw_idempotency_keys";

static KEYS: ModelSchema = ModelSchema {
    name: "FwIdempotencyKey",
    table: TABLE,
    renamed_from: None,
    fields: &[
        FieldSchema {
            primary_key: true,
            generated: Generated::AutoIncrement,
            ..FieldSchema::plain("id", SqlType::BigInt, false)
        },
        // The caller's actor; empty for callers without one.
        FieldSchema::plain("actor", SqlType::Text, false),
        FieldSchema {
            constraints: &[Constraint::MaxLength(MAX_KEY_LENGTH as u32)],
            ..FieldSchema::plain("idempotency_key", SqlType::Text, false)
        },
        // SHA-256 of the method, path and body, in hex.
        FieldSchema::plain("fingerprint", SqlType::Text, false),
        // The running request's token; NULL once its answer is stored.
        FieldSchema::plain("claim", SqlType::Text, true),
        FieldSchema::plain("claimed_at", SqlType::Timestamp, false),
        FieldSchema::plain("expires_at", SqlType::Timestamp, false),
        // The stored answer; NULL while the request runs.
        FieldSchema::plain("status", SqlType::BigInt, true),
        FieldSchema::plain("content_type", SqlType::Text, true),
        FieldSchema::plain("location", SqlType::Text, true),
        FieldSchema::plain("etag", SqlType::Text, true),
        FieldSchema::plain("body", SqlType::Text, true),
    ],
    indexes: &[
        IndexSchema {
            name: "fw_idempotency_keys_actor_idempotency_key_idx",
            columns: &["actor", "idempotency_key"],
            unique: true,
        },
        IndexSchema {
            name: "fw_idempotency_keys_expires_at_idx",
            columns: &["expires_at"],
            unique: false,
        },
    ],
};

/// The idempotency keys' table, `fw_idempotency_keys`, for
/// [`testing::create_tables`](crate::testing::create_tables).
/// [`App::api`](crate::App::api) adds it to the app's schema, and so to its
/// migrations, when the API has operations that write.
pub fn tables() -> [&'static ModelSchema; 1] {
    [&KEYS]
}

/// Defines `fn $name(dialect) -> &'static str`: the statement `$sql`, written
/// with PostgreSQL's `$n` placeholders, in `dialect`'s spelling (`?n` on SQLite).
macro_rules! statement {
    ($name:ident, $sql:expr) => {
        fn $name(dialect: Dialect) -> &'static str {
            const POSTGRES: &str = $sql;
            static SQLITE: LazyLock<String> = LazyLock::new(|| POSTGRES.replace('$', "?"));
            match dialect {
                Dialect::Sqlite => &SQLITE,
                Dialect::Postgres => POSTGRES,
            }
        }
    };
}

statement!(
    delete_expired_sql,
    "DELETE FROM \"fw_idempotency_keys\" WHERE \"expires_at\" <= $1"
);
statement!(
    select_sql,
    "SELECT \"id\", \"fingerprint\", \"claimed_at\", \"status\", \"content_type\", \
     \"location\", \"etag\", \"body\" FROM \"fw_idempotency_keys\" \
     WHERE \"actor\" = $1 AND \"idempotency_key\" = $2"
);
statement!(
    insert_sql,
    "INSERT INTO \"fw_idempotency_keys\" (\"actor\", \"idempotency_key\", \"fingerprint\", \
     \"claim\", \"claimed_at\", \"expires_at\") VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (\"actor\", \"idempotency_key\") DO NOTHING RETURNING \"id\""
);
statement!(
    take_over_sql,
    "UPDATE \"fw_idempotency_keys\" SET \"claim\" = $1, \"claimed_at\" = $2 WHERE \"id\" = $3"
);
statement!(
    record_sql,
    "UPDATE \"fw_idempotency_keys\" SET \"claim\" = NULL, \"status\" = $1, \
     \"content_type\" = $2, \"location\" = $3, \"etag\" = $4, \"body\" = $5 \
     WHERE \"id\" = $6 AND \"claim\" = $7"
);
statement!(
    release_sql,
    "DELETE FROM \"fw_idempotency_keys\" WHERE \"id\" = $1 AND \"claim\" = $2"
);

/// The request's `Idempotency-Key`, if it is an unsafe request that sent one.
///
/// # Errors
///
/// 400 when the header is sent twice, empty, longer than [`MAX_KEY_LENGTH`],
/// or holds anything but visible ASCII.
pub(crate) fn key<'h>(
    method: &Method,
    headers: &'h HeaderMap,
) -> Result<Option<&'h str>, ApiError> {
    if method.is_safe() {
        return Ok(None);
    }
    let mut values = headers.get_all(IDEMPOTENCY_KEY).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let bytes = value.as_bytes();
    let valid = values.next().is_none()
        && (1..=MAX_KEY_LENGTH).contains(&bytes.len())
        && bytes.iter().all(|byte| (0x21..=0x7e).contains(byte));
    match value.to_str() {
        Ok(key) if valid => Ok(Some(key)),
        _ => Err(ApiError::bad_request(format!(
            "`Idempotency-Key` must be one value of 1 to {MAX_KEY_LENGTH} visible ASCII \
             characters (no spaces); make one per request, a UUID for example"
        ))),
    }
}

/// What identifies a request for its key: SHA-256 of the method, the path with
/// its query, and the body.
pub(crate) fn fingerprint(method: &Method, path_and_query: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    for part in [
        method.as_str().as_bytes(),
        b"\n",
        path_and_query.as_bytes(),
        b"\n",
        body,
    ] {
        hash.update(part);
    }
    hash.finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// How a request with a key goes on.
#[derive(Debug)]
pub(crate) enum Start {
    /// The key is this request's now: run it, then store its answer.
    Run(Claim),
    /// The key's stored answer, to send again.
    Replay(Response),
}

/// A key held by the request running with it.
#[derive(Debug, Clone)]
pub(crate) struct Claim {
    id: i64,
    /// Tells this request's hold from a later one that took the key over.
    token: String,
}

/// Marks a response whose answer was stored in the write's transaction.
#[derive(Debug, Clone, Copy)]
struct Stored;

/// Looks `key` up for `actor` and claims it for this request, or answers from it.
///
/// # Errors
///
/// 422 when the key was used with another request, 409 while a request with it
/// runs, and the database's errors.
pub(crate) async fn start(
    db: &Db,
    ttl: Duration,
    actor: &str,
    key: &str,
    fingerprint: &str,
) -> Result<Start, ApiError> {
    let now = crate::db::now();
    let expires_at = chrono::TimeDelta::from_std(ttl)
        .ok()
        .and_then(|ttl| now.checked_add_signed(ttl))
        .ok_or_else(|| ApiError::internal("the idempotency key lifetime is out of range"))?;
    let mut tx = db.begin().await?;
    let dialect = tx.dialect();
    let mut args = Arguments::new(dialect);
    args.add(now)?;
    Conn::Tx(&mut tx)
        .execute(delete_expired_sql(dialect).into(), args)
        .await?;
    let mut args = Arguments::new(dialect);
    args.add(actor)?;
    args.add(key)?;
    let select = format!("{}{}", select_sql(dialect), crate::db::lock_clause(dialect));
    let stored = Conn::Tx(&mut tx)
        .fetch_optional(select.into(), args, Access::Write, |row| {
            Ok(StoredKey {
                id: row.get(0)?,
                fingerprint: row.get(1)?,
                claimed_at: row.get(2)?,
                status: row.get(3)?,
                headers: [row.get(4)?, row.get(5)?, row.get(6)?],
                body: row.get(7)?,
            })
        })
        .await?;
    let token = uuid::Uuid::now_v7().to_string();
    let claim = match stored {
        None => {
            let mut args = Arguments::new(dialect);
            args.add(actor)?;
            args.add(key)?;
            args.add(fingerprint)?;
            args.add(token.as_str())?;
            args.add(now)?;
            args.add(expires_at)?;
            let inserted = Conn::Tx(&mut tx)
                .fetch_optional(insert_sql(dialect).into(), args, Access::Write, |row| {
                    row.get::<i64>(0)
                })
                .await?;
            // Another request inserted the key since we looked: it is running.
            let Some(id) = inserted else {
                return Err(in_flight());
            };
            Claim { id, token }
        }
        Some(stored) if stored.fingerprint != fingerprint => {
            return Err(ApiError::IdempotencyKeyReused);
        }
        Some(stored) if stored.status.is_some() => return Ok(Start::Replay(stored.replay())),
        Some(stored) if now - stored.claimed_at < abandoned_after() => return Err(in_flight()),
        Some(stored) => {
            let mut args = Arguments::new(dialect);
            args.add(token.as_str())?;
            args.add(now)?;
            args.add(stored.id)?;
            Conn::Tx(&mut tx)
                .execute(take_over_sql(dialect).into(), args)
                .await?;
            Claim {
                id: stored.id,
                token,
            }
        }
    };
    tx.commit().await?;
    Ok(Start::Run(claim))
}

fn abandoned_after() -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(ABANDONED_AFTER).unwrap_or(chrono::TimeDelta::MAX)
}

fn in_flight() -> ApiError {
    ApiError::Conflict {
        detail: "a request with this `Idempotency-Key` is still running; retry when it has \
                 finished to get its answer"
            .to_owned(),
        errors: Vec::new(),
    }
}

/// A key's row as [`start`] reads it.
struct StoredKey {
    id: i64,
    fingerprint: String,
    claimed_at: DateTime<Utc>,
    status: Option<i64>,
    headers: [Option<String>; 3],
    body: Option<String>,
}

impl StoredKey {
    fn replay(self) -> Response {
        let status = self
            .status
            .and_then(|status| u16::try_from(status).ok())
            .and_then(|status| StatusCode::from_u16(status).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, self.body.unwrap_or_default()).into_response();
        let headers = response.headers_mut();
        headers.remove(header::CONTENT_TYPE);
        for (name, value) in STORED_HEADERS.into_iter().zip(self.headers) {
            if let Some(value) = value.and_then(|value| HeaderValue::from_str(&value).ok()) {
                headers.insert(name, value);
            }
        }
        headers.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
        response
    }
}

impl Claim {
    /// Stores `response` as the key's answer inside the write's transaction
    /// `tx`, so it commits with the write or not at all.
    ///
    /// # Errors
    ///
    /// 409 when the key was taken over meanwhile (the write then rolls back),
    /// and the database's errors.
    pub(crate) async fn store_in(
        &self,
        tx: &mut Tx,
        response: Response,
    ) -> Result<Response, ApiError> {
        let (mut response, body) = buffered(response).await;
        let answer = self.answer(tx.dialect(), &response, &body)?;
        if !self.store(Conn::Tx(tx), answer).await? {
            return Err(in_flight());
        }
        response.extensions_mut().insert(Stored);
        Ok(response)
    }

    /// Ends the request's hold on the key: stores its answer (unless the write's
    /// transaction did) or, for a server error, lets the key go so a retry runs
    /// again. A failure here is logged: the client still gets its answer.
    pub(crate) async fn finish(self, db: &Db, response: Response) -> Response {
        if response.extensions().get::<Stored>().is_some() {
            return response;
        }
        if response.status().is_server_error() {
            if let Err(error) = self.release(db).await {
                tracing::error!(%error, "could not release an idempotency key");
            }
            return response;
        }
        let (response, body) = buffered(response).await;
        let stored = match self.answer(db.dialect(), &response, &body) {
            Ok(answer) => self.store(Conn::Db(db), answer).await,
            Err(error) => Err(error),
        };
        if let Err(error) = stored {
            tracing::error!(%error, "could not store the answer of an idempotency key");
        }
        response
    }

    /// Writes an answer bound by [`Claim::answer`]; whether this request still
    /// held the key.
    async fn store(&self, conn: Conn<'_>, answer: Arguments) -> Result<bool> {
        let updated = conn
            .execute(record_sql(answer.dialect()).into(), answer)
            .await?;
        Ok(updated == 1)
    }

    /// `response` as the arguments of [`record_sql`]: bound before any await,
    /// since a response is not `Sync` and no reference to it may be held across one.
    fn answer(&self, dialect: Dialect, response: &Response, body: &Bytes) -> Result<Arguments> {
        let mut args = Arguments::new(dialect);
        args.add(i64::from(response.status().as_u16()))?;
        for name in STORED_HEADERS {
            let value = response
                .headers()
                .get(&name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned);
            args.add(value)?;
        }
        args.add(String::from_utf8_lossy(body).into_owned())?;
        args.add(self.id)?;
        args.add(self.token.clone())?;
        Ok(args)
    }

    async fn release(&self, db: &Db) -> Result<()> {
        let mut args = Arguments::new(db.dialect());
        args.add(self.id)?;
        args.add(self.token.as_str())?;
        Conn::Db(db)
            .execute(release_sql(db.dialect()).into(), args)
            .await?;
        Ok(())
    }
}

/// `response` with its body read into bytes, and the bytes. Handlers answer
/// with whole buffers, so reading them neither waits nor fails.
async fn buffered(response: Response) -> (Response, Bytes) {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    (
        Response::from_parts(parts, Body::from(bytes.clone())),
        bytes,
    )
}
