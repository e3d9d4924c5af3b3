//! The change log's two tables, described as static schemas so that migrations
//! create them like any model's table.

use crate::schema::{FieldSchema, IndexSchema, ModelSchema, SqlType};

/// The change records, one row per written model row, numbered by `seq`.
pub(crate) const CHANGES_TABLE: &str = "fw_changes";
/// One row holding the last `seq` handed out; see the module docs of `changes`.
pub(crate) const COUNTER_TABLE: &str = "fw_change_counter";

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
        // Assigned at commit from the counter, never by the database, so it is
        // dense and in commit order.
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
