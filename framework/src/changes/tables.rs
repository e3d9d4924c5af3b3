//! The change log's tables, described as static schemas so that migrations
//! create them like any model's table.

use crate::schema::{FieldSchema, Generated, IndexSchema, ModelSchema, SqlType};

/// The change records, one row per written model row, at position `seq`.
pub(crate) const CHANGES_TABLE: &str = "fw_changes";
/// PostgreSQL: one row holding the last position handed out, which sequencers
/// lock to take turns; see the module docs of `changes`.
pub(crate) const COUNTER_TABLE: &str = "fw_change_counter";
/// PostgreSQL: committed change records waiting for their positions, each
/// with its draw; see the module docs of `changes`.
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
