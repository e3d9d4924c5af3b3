//! The change log's two tables, described as static schemas so that migrations
//! create them like any model's table.

use crate::schema::{FieldSchema, Generated, IndexSchema, ModelSchema, SqlType};

/// The change records, one row per written model row, numbered by `seq`.
pub(crate) const CHANGES_TABLE: &str = "fw_changes";
/// One row holding the last `seq` handed out; see the module docs of `changes`.
pub(crate) const COUNTER_TABLE: &str = "fw_change_counter";

const fn column(name: &'static str, sql_type: SqlType, nullable: bool) -> FieldSchema {
    FieldSchema {
        name,
        column: name,
        renamed_from: None,
        sql_type,
        nullable,
        primary_key: false,
        generated: Generated::No,
        unique: false,
        index: false,
        default: None,
        max_length: None,
        min_length: None,
        min_value: None,
        max_value: None,
        pattern: None,
        max_digits: None,
        decimal_places: None,
        choices: &[],
        foreign_key: None,
        sensitive: false,
    }
}

const fn primary_key(name: &'static str, sql_type: SqlType) -> FieldSchema {
    FieldSchema {
        primary_key: true,
        ..column(name, sql_type, false)
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
        column("model", SqlType::Text, false),
        // The primary key in text form.
        column("row_key", SqlType::Text, false),
        // `insert`, `update` or `delete`.
        column("operation", SqlType::Text, false),
        column("version", SqlType::BigInt, true),
        // `[{"field": .., "old": .., "new": ..}]`, in schema order.
        column("fields", SqlType::Json, false),
        column("changed_at", SqlType::Timestamp, false),
        column("actor", SqlType::Text, true),
        column("request_id", SqlType::Text, true),
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
        column("last", SqlType::BigInt, false),
    ],
    indexes: &[],
};
