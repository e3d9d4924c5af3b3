//! The change log's tables, described as static schemas so that migrations
//! create them like any model's table.

use crate::db::{Access, Arguments, Conn, Db, Dialect, quote_ident};
use crate::error::Result;
use crate::schema::{FieldSchema, Generated, IndexSchema, ModelSchema, SqlType};

/// The change records, one row per written model row, at position `seq`.
pub(crate) const CHANGES_TABLE: &str = "fw_changes";
/// PostgreSQL: one row holding the last position handed out, which sequencers
/// lock to take turns; see the module docs of `changes`.
pub(crate) const COUNTER_TABLE: &str = "fw_change_counter";
/// PostgreSQL: committed change records waiting for their positions, each
/// with its draw; see the module docs of `changes`. Autovacuum is told to
/// clean it eagerly ([`vacuum_pending_eagerly`]).
pub(crate) const PENDING_TABLE: &str = "fw_changes_pending";

const fn primary_key(name: &'static str, sql_type: SqlType) -> FieldSchema {
    FieldSchema {
        primary_key: true,
        ..FieldSchema::plain(name, sql_type, false)
    }
}

pub(crate) static CHANGES: ModelSchema = ModelSchema {
    name: "FwChange",
    table: CHANGES_TABLE,
    renamed_from: None,
    fields: &[
        // The position: dense and in commit order, given by the sequencer on
        // PostgreSQL, by the writer on SQLite, never by the database itself.
        primary_key("seq", SqlType::BigInt),
        // The model's table name.
        FieldSchema::plain("model", SqlType::Text, false),
        // The primary key in text form.
        FieldSchema::plain("row_key", SqlType::Text, false),
        // `insert`, `update` or `delete`.
        FieldSchema::plain("operation", SqlType::Text, false),
        FieldSchema::plain("version", SqlType::BigInt, true),
        // `[{"field": .., "old": .., "new": ..}]`, in schema order.
        FieldSchema::plain("fields", SqlType::Json, false),
        FieldSchema::plain("changed_at", SqlType::Timestamp, false),
        FieldSchema::plain("actor", SqlType::Text, true),
        FieldSchema::plain("request_id", SqlType::Text, true),
    ],
    indexes: &[
        IndexSchema {
            name: "fw_changes_model_row_key_seq_idx",
            columns: &["model", "row_key", "seq"],
            unique: false,
        },
        IndexSchema {
            name: "fw_changes_model_seq_idx",
            columns: &["model", "seq"],
            unique: false,
        },
    ],
};

pub(crate) static COUNTER: ModelSchema = ModelSchema {
    name: "FwChangeCounter",
    table: COUNTER_TABLE,
    renamed_from: None,
    fields: &[
        primary_key("id", SqlType::Int),
        FieldSchema::plain("last", SqlType::BigInt, false),
    ],
    indexes: &[],
};

/// The records of [`CHANGES`] but for their positions, in the order of their
/// draws: the identity column numbers them as they are inserted, which a
/// writer does as it commits (a create on the pool in the statement that
/// inserts its row, which is its commit). SQLite has the table too, empty,
/// as migrations make one schema for both databases.
pub(crate) static PENDING: ModelSchema = ModelSchema {
    name: "FwChangePending",
    table: PENDING_TABLE,
    renamed_from: None,
    fields: &[
        FieldSchema {
            generated: Generated::AutoIncrement,
            ..primary_key("draw", SqlType::BigInt)
        },
        FieldSchema::plain("model", SqlType::Text, false),
        FieldSchema::plain("row_key", SqlType::Text, false),
        FieldSchema::plain("operation", SqlType::Text, false),
        FieldSchema::plain("version", SqlType::BigInt, true),
        FieldSchema::plain("fields", SqlType::Json, false),
        FieldSchema::plain("changed_at", SqlType::Timestamp, false),
        FieldSchema::plain("actor", SqlType::Text, true),
        FieldSchema::plain("request_id", SqlType::Text, true),
    ],
    indexes: &[],
};

/// PostgreSQL: how autovacuum treats [`PENDING`], set by
/// [`vacuum_pending_eagerly`]. Every recorded write inserts a row there and
/// the sequencer deletes it moments later, so the table holds few live rows
/// and a dead one per write, which every reader's look at it (`EXISTS`) and
/// every sequencer's turn walk past until a vacuum removes them. PostgreSQL's
/// default waits for dead rows to reach a fifth of the table as last
/// counted, which after a big import's backlog is hundreds of thousands:
/// here a thousand dead rows are enough, whatever the table's size, and the
/// vacuum of a table this small runs without the cost-based pauses meant
/// for big ones. How often autovacuum looks at all is the server's
/// `autovacuum_naptime` (a minute by default).
const PENDING_AUTOVACUUM: [(&str, &str); 3] = [
    ("autovacuum_vacuum_scale_factor", "0"),
    ("autovacuum_vacuum_threshold", "1000"),
    ("autovacuum_vacuum_cost_delay", "0"),
];

/// Gives [`PENDING`], if `db` is PostgreSQL and has it in the current schema,
/// each setting of [`PENDING_AUTOVACUUM`] it lacks; a setting it has, fw's or
/// one a database administrator chose, is left as it is. `migrate` calls it
/// after every run, so a database whose table was created before these
/// settings existed gets them from the next `migrate`, with or without a
/// migration to apply.
///
/// # Errors
///
/// [`Error::Database`](crate::Error::Database) when the catalog cannot be
/// read or the table cannot be altered (a role that does not own it, an
/// engine without autovacuum).
pub(crate) async fn vacuum_pending_eagerly(db: &Db) -> Result<()> {
    if db.dialect() != Dialect::Postgres {
        return Ok(());
    }
    let mut args = Arguments::new(Dialect::Postgres);
    args.add(PENDING_TABLE)?;
    let options = Conn::Db(db)
        .fetch_optional(
            "SELECT array_to_string(coalesce(c.reloptions, '{}'), ',') FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relname = $1 AND c.relkind = 'r'"
                .into(),
            args,
            Access::Write,
            |row| row.get::<String>(0),
        )
        .await?;
    let Some(options) = options else {
        return Ok(());
    };
    let set: Vec<&str> = options
        .split(',')
        .filter_map(|option| option.split_once('=').map(|(name, _)| name))
        .collect();
    let missing: Vec<String> = PENDING_AUTOVACUUM
        .iter()
        .filter(|(name, _)| !set.contains(name))
        .map(|(name, value)| format!("{name} = {value}"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let alter = format!(
        "ALTER TABLE {} SET ({})",
        quote_ident(PENDING_TABLE),
        missing.join(", ")
    );
    db.execute_raw(&alter).await?;
    Ok(())
}
