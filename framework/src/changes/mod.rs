//! The change log: every write through a model's generated API, recorded in the
//! same transaction, readable as an event stream.
//!
//! A model opts in with `#[fw::model(changelog)]`. From then on each
//! [`insert`](crate::Model::insert), [`insert_many`](crate::Model::insert_many),
//! [`upsert`](crate::Model::upsert), [`update`](crate::Model::update),
//! [`patch`](crate::Model::patch) and [`delete`](crate::Model::delete) of one of its
//! rows appends a [`Change`]: its position in the log, the model's table, the primary key,
//! the operation, the row's new version, the changed fields with their old and new
//! values (the full row for inserts and deletes), the time, and the actor and
//! request id set with [`with_actor`]. Fields marked `sensitive` are listed as
//! changed, never with their values. A write that changes nothing (an upsert of an
//! identical row, an empty patch) records nothing; a rolled-back transaction leaves
//! nothing. Writes handed a `&Db` run in a transaction of their own.
//!
//! The tables, `fw_changes`, `fw_change_counter` and `fw_changes_pending`,
//! are created by migrations like any model's: registering a model that records changes with
//! [`App::model`](crate::App::model) adds them to the app's schema, so
//! `makemigrations` writes them into a reviewed migration file (and
//! `makemigrations --check` fails CI until it is committed).
//!
//! # Reading
//!
//! [`Model::history`](crate::Model::history) lists one row's changes;
//! [`after`] pages through every change after a position:
//!
//! ```no_run
//! # async fn example(db: &fw::Db) -> fw::Result<()> {
//! let mut last_seen = 0;
//! loop {
//!     let page = fw::changes::after(last_seen).limit(500).fetch(db).await?;
//!     let Some(last) = page.last() else { break };
//!     last_seen = last.seq;
//!     // hand `page` to the consumer, then remember `last_seen`
//! }
//! # Ok(()) }
//! ```
//!
//! [`ChangesAfter::pages`] streams the same pages, and [`ChangesAfter::follow`]
//! keeps going as new changes commit (the live tail).
//!
//! From the command line, `changes tail [--after SEQ] [--model TABLE] [--follow]`
//! prints the log as JSON lines, one [`Change`] per line, for piping into other
//! systems. Over HTTP, opt in with [`App::change_log_api`](crate::App::change_log_api):
//! `GET /changes?after=SEQ&model=TABLE&page_size=N` answers
//! `{"next": <url or null>, "results": [..]}`, and `GET /changes/stream?after=SEQ`
//! is the live tail as server-sent events whose id is the change's `seq` (a
//! reconnecting client's `Last-Event-ID` resumes it).
//!
//! # Who made a change
//!
//! Every request served by an [`App`](crate::App) runs with its request id
//! and its [`Actor`]: the authenticated user's; every command runs
//! with actor `command:<name>` and a request id of its own. Elsewhere (tests,
//! background tasks), say who is writing with [`with_actor`].
//!
//! A request's id is its `x-request-id` as sent, when it is 1 to 200 visible
//! ASCII characters; for a request that sent none (or another), a new one (a
//! UUIDv7) is made as the request arrives. Either way every response carries
//! it in `x-request-id`, and the request's access-log line names it (see
//! [the observability guide](crate::docs::observability)).
//!
//! # Positions, and why a reader never misses a change
//!
//! A change's `seq` is its position in the log. Positions start at 1 and have
//! no gaps, and they follow the commits: if one transaction's commit returned
//! before another's began, the first one's changes come first. A
//! transaction's changes are in the order it made them, so each row's changes
//! are in the order of its versions (a transaction that writes a row waits for
//! the row's previous writer to commit). Reading through a [`Db`](crate::Db)
//! ([`after`], [`Model::history`](crate::Model::history), the HTTP API,
//! `changes tail`) sees every change whose commit returned before the read
//! began.
//!
//! A consumer that remembers the last position it saw and asks for everything
//! after it sees every committed change exactly once only if, at any moment,
//! the visible positions form a prefix: no change may become visible after a
//! higher one. A database sequence cannot promise that on PostgreSQL: numbers
//! are drawn when the statement runs and transactions commit in any order, so a
//! reader can see 11 before 10 commits, move past 10, and never see it.
//! Numbering at commit from one counter row can (each commit waits for the one
//! before it), but then every write of the application queues behind that row.
//!
//! So on PostgreSQL changes get their positions after they commit:
//!
//! - During the transaction, change records are kept with the
//!   [`Tx`](crate::Tx): up to a thousand in memory, and beyond that in a
//!   temporary table of the transaction's own, so memory does not grow with
//!   the transaction (an import of a million rows holds what one of a thousand
//!   does).
//! - Right before `COMMIT`, [`Tx::commit`](crate::Tx::commit) inserts them
//!   into `fw_changes_pending` in the order they were made, where each
//!   *draws* a number as it is inserted (from the sequence of the table's
//!   identity column). They are not in `fw_changes`, so no reader sees them.
//!   A draw holds no lock until the commit: writers never wait for each other
//!   here.
//! - A create on a `&Db` ([`Model::insert`](crate::Model::insert) outside a
//!   transaction) is one statement that inserts the row and its record among
//!   the pending ones (a data-modifying `WITH`): the statement is its whole
//!   transaction, so the record draws as it commits, and the create is one
//!   round trip, as a create that records nothing is.
//! - A *sequencer* then moves committed records into `fw_changes`, in one
//!   transaction: it locks the single row of `fw_change_counter` (so
//!   sequencers take turns, across processes; one whose connection dies lets
//!   go with it), takes the pending records it sees, at most ten thousand, in
//!   the order of their draws, gives them the positions after the last one
//!   (which the row holds), and commits. Positions appear a batch at a time,
//!   each batch after the one before, so readers always see a prefix.
//! - Draw order is commit order because a transaction draws after all its
//!   writes, as it commits. If X's commit returned before Y drew, X's draws
//!   are below Y's, and any snapshot that sees Y committed sees X committed
//!   too: the sequencer that takes Y takes X in the same batch, before Y, or X
//!   already has its position. Transactions that draw at the same time are
//!   concurrent, neither waiting for the other, so either order is an order
//!   they committed in; their changes may interleave. A rolled-back
//!   transaction leaves a gap among the draws, never among the positions.
//! - Readers sequence: a read through a `Db` gives positions to every record
//!   committed before it, so a write is readable once its commit has
//!   returned. The statement that reads also looks for waiting records, in
//!   the same snapshot, and finds none most of the time; only when it finds
//!   some does the reader sequence them and read again. The server
//!   ([`App`](crate::App)'s `serve`) also runs a sequencer in the background,
//!   woken by its own process's commits (it lets those of the next 10 ms
//!   join the same turn, which costs five statements however many records
//!   it moves) and looking every half second for other processes', so the
//!   log has its positions when nobody reads. No sequencer is ever on a
//!   write's path.
//!
//! SQLite has a single writer: a transaction holds the write lock from its
//! start, so it gives its records their positions as it inserts them, in the
//! same statement (the positions after the log's last), a large transaction as
//! it goes, invisible to readers until it commits. It needs neither draws nor
//! a sequencer.
//!
//! # The pending table and autovacuum
//!
//! On PostgreSQL every recorded write inserts a row into `fw_changes_pending`
//! and a sequencer deletes it moments later: the table holds few live rows
//! and leaves a dead one per write, which readers' looks and sequencers'
//! turns walk past until a vacuum removes them. PostgreSQL's autovacuum waits,
//! by default, for dead rows to reach a fifth of the table as last counted
//! (hundreds of thousands after an import's backlog), and looks at a
//! database once a minute by default (`autovacuum_naptime`), long enough
//! for a busy application to leave a hundred thousand dead rows there. So
//! the background sequencer vacuums the table itself every ten thousand
//! records it moves ([`keep_sequenced`]), which keeps the look at it a page
//! or two whatever autovacuum does; and `migrate` gives the table, in the
//! current schema, its own settings
//! (`autovacuum_vacuum_scale_factor = 0`, `autovacuum_vacuum_threshold =
//! 1000`, `autovacuum_vacuum_cost_delay = 0`): a vacuum once a thousand
//! rows are dead, at full speed, which on a table this small takes
//! milliseconds. It sets each one the table lacks after every run, with or
//! without migrations to apply, so a database made before these settings
//! gets them from its next `migrate`; a value the table already has,
//! such as one a database administrator chose, is kept. `pg_class.reloptions`
//! shows them. They matter where no background sequencer runs, or where
//! its role may not vacuum the table (PostgreSQL then skips the vacuum with
//! a warning of its own). A role that may not alter the table, or an engine
//! without autovacuum, gets a warning from `migrate`, which succeeds all
//! the same.
//!
//! # Deletes and foreign keys
//!
//! Deleting a row also writes the rows that reference it: an
//! `on_delete = "cascade"` foreign key removes them, and `on_delete = "set_null"`
//! clears the reference. For the app's models that record changes, those
//! writes are recorded too, in the delete's transaction and before the deleted
//! row's own record: a delete of each removed row (after the rows that
//! reference it in turn), and an update of each cleared one, made by fw so that
//! its version is bumped like any update's. A consumer applying the log in
//! order never holds a row whose referenced row is gone.
//!
//! The relations come from the models registered with
//! [`App::model`](crate::App::model); the app's commands and router use a
//! [`Db`](crate::Db) that knows them, and [`App::attach`](crate::App::attach) gives
//! one to code that connects by itself. Writes made by raw SQL, or through a
//! `Db` the app was not attached to, are not recorded.

mod cascade;
mod http;
#[cfg(test)]
mod lot;
mod read;
mod record;
mod sequence;
mod tables;
mod tail;

use std::cell::OnceCell;
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub(crate) use cascade::{Cascades, CascadingModel};
pub(crate) use http::{ChangeLogState, LiveTails, REQUEST_ID, RecordActor, document, routes};
pub use read::{ChangesAfter, after};
pub(crate) use read::{history, standing};
pub(crate) use record::{
    insert_with_record, key_text, record_delete, record_erasure, record_insert, record_update,
};
pub use sequence::keep_sequenced;
pub(crate) use sequence::wake;
pub(crate) use tables::vacuum_pending_eagerly;
pub(crate) use tail::{ChangesCommand, run as run_command};

use serde_json::{Value as Json, json};

use crate::schema::ModelSchema;

/// One recorded write of one row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Change {
    /// Position in the log: dense, starting at 1, in commit order.
    pub seq: i64,
    /// The model's table name.
    pub model: String,
    /// The row's primary key, in text form.
    pub key: String,
    /// What happened to the row.
    pub operation: Operation,
    /// The row's version after the write (for a delete, the version deleted), for
    /// models with a `#[field(version)]` field.
    pub version: Option<i64>,
    /// The fields that changed, in schema order: every field for inserts and
    /// deletes. The version field is not repeated here.
    pub fields: Vec<FieldChange>,
    /// When the write was made.
    pub at: DateTime<Utc>,
    /// Who made it, as set with [`with_actor`].
    pub actor: Option<String>,
    /// The request (or command run) that made it, as set with [`with_actor`].
    pub request_id: Option<String>,
}

/// What a [`Change`] did to its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// The row was created.
    Insert,
    /// The row was changed.
    Update,
    /// The row was removed.
    Delete,
}

impl Operation {
    /// The lowercase name stored in the log.
    pub const fn name(self) -> &'static str {
        match self {
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }

    fn from_name(name: &str) -> Option<Operation> {
        match name {
            "insert" => Some(Operation::Insert),
            "update" => Some(Operation::Update),
            "delete" => Some(Operation::Delete),
            _ => None,
        }
    }
}

/// One field of a [`Change`], as JSON in the API's conventions (decimals as
/// strings, timestamps as RFC 3339).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FieldChange {
    /// The field's Rust name.
    pub field: String,
    /// The value before the write; `None` for inserts and sensitive fields.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub old: Option<serde_json::Value>,
    /// The value after the write; `None` for deletes and sensitive fields.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub new: Option<serde_json::Value>,
    /// The field is sensitive: it changed, and its values are not in the log.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
}

/// The JSON Schema of one [`Change`], for the change log's own operations and
/// resources' `history` operations.
/// Where the change log's pages are served.
pub(crate) const LIST_PATH: &str = "/changes";
/// Where its live tail is served.
pub(crate) const STREAM_PATH: &str = "/changes/stream";

pub(crate) fn change_schema() -> Json {
    json!({
        "type": "object",
        "description": "One recorded write of one row.",
        "required": ["seq", "model", "key", "operation", "version", "fields", "at", "actor", "request_id"],
        "properties": {
            "seq": {"type": "integer", "format": "int64", "description": "Position in the log: dense, from 1, in commit order."},
            "model": {"type": "string", "description": "The model's table name."},
            "key": {"type": "string", "description": "The row's primary key, as text."},
            "operation": {"type": "string", "enum": ["insert", "update", "delete"]},
            "version": {"type": ["integer", "null"], "format": "int64", "description": "The row's version after the write (for a delete, the version deleted)."},
            "fields": {
                "type": "array",
                "description": "The fields that changed (every field for inserts and deletes).",
                "items": {
                    "type": "object",
                    "required": ["field"],
                    "properties": {
                        "field": {"type": "string"},
                        "old": {"description": "The value before the write; absent for inserts and sensitive fields."},
                        "new": {"description": "The value after the write; absent for deletes and sensitive fields."},
                        "sensitive": {"type": "boolean", "description": "The field is sensitive: it changed, and its values are not in the log."},
                    },
                },
            },
            "at": {"type": "string", "format": "date-time"},
            "actor": {"type": ["string", "null"], "description": "Who made the write."},
            "request_id": {"type": ["string", "null"], "description": "The request or command run that made it."},
        },
    })
}

/// A JSON `null` that is present is a value (the field was NULL), not an absence.
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(deserializer).map(Some)
}

tokio::task_local! {
    static CONTEXT: WriteContext;
}

/// Who is writing, for the records made while a future runs.
#[derive(Debug, Default)]
pub(crate) struct WriteContext {
    /// Set when the scope starts (a command, [`with_actor`], an [`Actor`]
    /// extension, a caller an outer layer authenticated), or once inside it
    /// by authentication, which learns who is calling only after the
    /// request's scope has begun.
    writer: OnceCell<Writer>,
    request_id: Option<String>,
}

/// Who is writing: named when the scope starts, or an authenticated
/// identity, whose actor is spelled out only when a change is recorded, as
/// most requests record none.
#[derive(Debug)]
enum Writer {
    Named(String),
    Identified(Arc<dyn Identified>),
}

impl Writer {
    fn actor(&self) -> String {
        match self {
            Writer::Named(actor) => actor.clone(),
            Writer::Identified(identity) => identity.actor(),
        }
    }
}

/// A writer known by an identity, which spells out its actor when asked:
/// the authenticated user, from the layers above.
pub(crate) trait Identified: Send + Sync + std::fmt::Debug {
    /// The change log's actor.
    fn actor(&self) -> String;
}

/// Runs `future` with `actor` and `request_id` recorded on every change it makes
/// (HTTP middleware wraps each request, commands their run).
///
/// The context belongs to the task: work handed to `tokio::spawn` inside `future`
/// needs its own `with_actor`.
///
/// ```no_run
/// # async fn example(db: &fw::Db) -> fw::Result<()> {
/// fw::changes::with_actor(Some("user:42".into()), Some("req-7f3a".into()), async {
///     // writes here are recorded with actor `user:42` and request id `req-7f3a`
///     Ok(())
/// })
/// .await
/// # }
/// ```
pub async fn with_actor<F: Future>(
    actor: Option<String>,
    request_id: Option<String>,
    future: F,
) -> F::Output {
    let context = WriteContext {
        writer: actor
            .map(|actor| OnceCell::from(Writer::Named(actor)))
            .unwrap_or_default(),
        request_id,
    };
    CONTEXT.scope(context, future).await
}

/// Who is making a request, for the change log: a request extension recorded
/// as the actor of every change the request makes (for example
/// `Actor("user:42".into())`). Requests without one are recorded with no
/// actor.
///
/// fw's own authentication ([`App::auth`](crate::App::auth)) names the
/// actor itself: `user:<id>` for a session, `user:<id>/token:<id>` for an API
/// token (see [`Identity::actor`](crate::auth::Identity::actor)). An
/// application that authenticates by other means inserts an `Actor` in a
/// layer around the router [`App::router`](crate::App::router) returns: the
/// router reads it when the request's scope starts, and it then wins over
/// fw's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(pub String);

/// The actor and request id of the current task, for a change record.
pub(crate) fn current_context() -> (Option<String>, Option<String>) {
    CONTEXT
        .try_with(|context| {
            (
                context.writer.get().map(Writer::actor),
                context.request_id.clone(),
            )
        })
        .unwrap_or_default()
}

/// Makes `identity` the writer of the current task's writes, if its scope
/// has none yet: authentication, which runs inside a request's scope, calls
/// it once it knows who is calling. Outside a scope it does nothing.
pub(crate) fn set_identity(identity: Arc<dyn Identified>) {
    let _ = CONTEXT.try_with(|context| context.writer.set(Writer::Identified(identity)));
}

/// The request id of the current task, if it runs with one: for logs that a
/// response's `x-request-id` should lead to.
pub(crate) fn current_request_id() -> Option<String> {
    CONTEXT
        .try_with(|context| context.request_id.clone())
        .ok()
        .flatten()
}

/// The change log's tables, `fw_changes`, `fw_change_counter` and
/// `fw_changes_pending`, for [`testing::create_tables`](crate::testing::create_tables).
/// [`App::model`](crate::App::model) adds them to the app's schema, and so to its
/// migrations, when the model records changes.
pub fn tables() -> [&'static ModelSchema; 3] {
    [&tables::CHANGES, &tables::COUNTER, &tables::PENDING]
}
