//! Hand-built model schemas (what `#[model]` emits), in three versions of a small
//! brokerage app, for the migration tests.
#![allow(dead_code)]

use fw::schema::{
    Constraint, DefaultValue, FieldSchema, ForeignKeySchema, Generated, IndexSchema, ModelSchema,
    OnDelete, Sensitivity, SqlType,
};

/// A plain, required, application-supplied field.
pub(crate) const fn field(name: &'static str, sql_type: SqlType) -> FieldSchema {
    FieldSchema {
        name,
        column: name,
        renamed_from: None,
        sql_type,
        nullable: false,
        primary_key: false,
        generated: Generated::No,
        unique: false,
        index: false,
        default: None,
        constraints: &[],
        foreign_key: None,
        sensitivity: Sensitivity::Plain,
    }
}

/// An auto-increment `i64` primary key.
pub(crate) const fn auto_id() -> FieldSchema {
    FieldSchema {
        primary_key: true,
        generated: Generated::AutoIncrement,
        ..field("id", SqlType::BigInt)
    }
}

pub(crate) const fn reference(
    name: &'static str,
    sql_type: SqlType,
    table: &'static str,
    on_delete: OnDelete,
) -> FieldSchema {
    FieldSchema {
        foreign_key: Some(ForeignKeySchema {
            table,
            column: "id",
            on_delete,
        }),
        ..field(name, sql_type)
    }
}

pub(crate) const fn model(
    name: &'static str,
    table: &'static str,
    fields: &'static [FieldSchema],
) -> ModelSchema {
    ModelSchema {
        name,
        table,
        renamed_from: None,
        fields,
        indexes: &[],
    }
}

// Version 1: the initial schema.

pub(crate) const SECURITY_FIELDS_V1: &[FieldSchema] = &[
    auto_id(),
    FieldSchema {
        unique: true,
        constraints: &[
            Constraint::MaxLength(12),
            Constraint::MinLength(1),
            Constraint::Pattern("[A-Z.]+"),
        ],
        ..field("symbol", SqlType::Text)
    },
    field("name", SqlType::Text),
    FieldSchema {
        constraints: &[Constraint::Choices(&["stock", "etf"])],
        default: Some(DefaultValue::Text("stock")),
        ..field("kind", SqlType::Text)
    },
    FieldSchema {
        generated: Generated::CreatedAt,
        ..field("created_at", SqlType::Timestamp)
    },
];
pub(crate) const SECURITY_V1: ModelSchema = model("Security", "security", SECURITY_FIELDS_V1);

pub(crate) const DIVIDEND_FIELDS_V1: &[FieldSchema] = &[
    auto_id(),
    reference(
        "security_id",
        SqlType::BigInt,
        "security",
        OnDelete::Cascade,
    ),
    FieldSchema {
        constraints: &[
            Constraint::Minimum("0"),
            Constraint::MaxDigits(12),
            Constraint::DecimalPlaces(4),
        ],
        ..field("amount", SqlType::Decimal)
    },
    FieldSchema {
        index: true,
        ..field("pay_date", SqlType::Date)
    },
    FieldSchema {
        generated: Generated::Version,
        ..field("version", SqlType::BigInt)
    },
];
pub(crate) const DIVIDEND_V1: ModelSchema = model("Dividend", "dividend", DIVIDEND_FIELDS_V1);

pub(crate) const ACCOUNT_FIELDS_V1: &[FieldSchema] = &[
    FieldSchema {
        primary_key: true,
        generated: Generated::AutoUuid,
        ..field("id", SqlType::Uuid)
    },
    FieldSchema {
        sensitivity: Sensitivity::Sealed { searchable: false },
        constraints: &[Constraint::MaxLength(200)],
        ..field("holder", SqlType::Text)
    },
    FieldSchema {
        default: Some(DefaultValue::Bool(true)),
        ..field("active", SqlType::Bool)
    },
    FieldSchema {
        nullable: true,
        ..field("preferences", SqlType::Json)
    },
];
pub(crate) const ACCOUNT_V1: ModelSchema = model("Account", "account", ACCOUNT_FIELDS_V1);

pub(crate) const POSITION_FIELDS_V1: &[FieldSchema] = &[
    auto_id(),
    reference("account_id", SqlType::Uuid, "account", OnDelete::Restrict),
    reference(
        "security_id",
        SqlType::BigInt,
        "security",
        OnDelete::Restrict,
    ),
    FieldSchema {
        constraints: &[Constraint::Minimum("0")],
        ..field("quantity", SqlType::Int)
    },
];
pub(crate) const POSITION_V1: ModelSchema = ModelSchema {
    indexes: &[IndexSchema {
        name: "position_account_id_security_id_key",
        columns: &["account_id", "security_id"],
        unique: true,
    }],
    ..model("Position", "position", POSITION_FIELDS_V1)
};

pub(crate) const MODELS_V1: &[&ModelSchema] =
    &[&SECURITY_V1, &DIVIDEND_V1, &ACCOUNT_V1, &POSITION_V1];

// Version 2: `security.name` renamed to `title` and longer symbols, a new
// nullable `isin` with an index, a stricter dividend amount, a wider quantity.

pub(crate) const SECURITY_FIELDS_V2: &[FieldSchema] = &[
    auto_id(),
    FieldSchema {
        unique: true,
        constraints: &[
            Constraint::MaxLength(16),
            Constraint::MinLength(1),
            Constraint::Pattern("[A-Z.]+"),
        ],
        ..field("symbol", SqlType::Text)
    },
    FieldSchema {
        renamed_from: Some("name"),
        ..field("title", SqlType::Text)
    },
    FieldSchema {
        constraints: &[Constraint::Choices(&["stock", "etf"])],
        default: Some(DefaultValue::Text("stock")),
        ..field("kind", SqlType::Text)
    },
    FieldSchema {
        generated: Generated::CreatedAt,
        ..field("created_at", SqlType::Timestamp)
    },
    FieldSchema {
        nullable: true,
        index: true,
        constraints: &[Constraint::MaxLength(12)],
        ..field("isin", SqlType::Text)
    },
];
pub(crate) const SECURITY_V2: ModelSchema = model("Security", "security", SECURITY_FIELDS_V2);

pub(crate) const DIVIDEND_FIELDS_V2: &[FieldSchema] = &[
    auto_id(),
    reference(
        "security_id",
        SqlType::BigInt,
        "security",
        OnDelete::Cascade,
    ),
    FieldSchema {
        constraints: &[
            Constraint::Minimum("0"),
            Constraint::Maximum("1000000"),
            Constraint::MaxDigits(12),
            Constraint::DecimalPlaces(4),
        ],
        ..field("amount", SqlType::Decimal)
    },
    FieldSchema {
        index: true,
        ..field("pay_date", SqlType::Date)
    },
    FieldSchema {
        generated: Generated::Version,
        ..field("version", SqlType::BigInt)
    },
];
pub(crate) const DIVIDEND_V2: ModelSchema = model("Dividend", "dividend", DIVIDEND_FIELDS_V2);

pub(crate) const POSITION_FIELDS_V2: &[FieldSchema] = &[
    auto_id(),
    reference("account_id", SqlType::Uuid, "account", OnDelete::Restrict),
    reference(
        "security_id",
        SqlType::BigInt,
        "security",
        OnDelete::Restrict,
    ),
    FieldSchema {
        constraints: &[Constraint::Minimum("0")],
        ..field("quantity", SqlType::BigInt)
    },
];
pub(crate) const POSITION_V2: ModelSchema = ModelSchema {
    fields: POSITION_FIELDS_V2,
    ..POSITION_V1
};

pub(crate) const MODELS_V2: &[&ModelSchema] =
    &[&SECURITY_V2, &DIVIDEND_V2, &ACCOUNT_V1, &POSITION_V2];

/// The acknowledgements version 2's migration needs.
pub(crate) const ACKNOWLEDGE_V2: &[&str] = &[
    "rename_column:security.name",
    "add_check:dividend.amount",
    "change_type:position.quantity",
];

// Version 3: the account holder moves to a renamed table, and a new
// `watchlist` table references securities.

pub(crate) const ACCOUNT_FIELDS_V3: &[FieldSchema] = &[
    FieldSchema {
        primary_key: true,
        generated: Generated::AutoUuid,
        ..field("id", SqlType::Uuid)
    },
    FieldSchema {
        default: Some(DefaultValue::Bool(true)),
        ..field("active", SqlType::Bool)
    },
    FieldSchema {
        nullable: true,
        ..field("preferences", SqlType::Json)
    },
];
pub(crate) const ACCOUNT_V3: ModelSchema = ModelSchema {
    renamed_from: Some("account"),
    ..model("Account", "brokerage_account", ACCOUNT_FIELDS_V3)
};

pub(crate) const POSITION_FIELDS_V3: &[FieldSchema] = &[
    auto_id(),
    reference(
        "account_id",
        SqlType::Uuid,
        "brokerage_account",
        OnDelete::Restrict,
    ),
    reference(
        "security_id",
        SqlType::BigInt,
        "security",
        OnDelete::Restrict,
    ),
    FieldSchema {
        constraints: &[Constraint::Minimum("0")],
        ..field("quantity", SqlType::BigInt)
    },
];
pub(crate) const POSITION_V3: ModelSchema = ModelSchema {
    fields: POSITION_FIELDS_V3,
    ..POSITION_V1
};

pub(crate) const WATCHLIST_FIELDS: &[FieldSchema] = &[
    auto_id(),
    reference(
        "security_id",
        SqlType::BigInt,
        "security",
        OnDelete::Cascade,
    ),
    FieldSchema {
        default: Some(DefaultValue::Int(0)),
        ..field("priority", SqlType::SmallInt)
    },
];
pub(crate) const WATCHLIST: ModelSchema = model("Watchlist", "watchlist", WATCHLIST_FIELDS);

pub(crate) const MODELS_V3: &[&ModelSchema] = &[
    &SECURITY_V2,
    &DIVIDEND_V2,
    &ACCOUNT_V3,
    &POSITION_V3,
    &WATCHLIST,
];

/// The acknowledgements version 3's migration needs.
pub(crate) const ACKNOWLEDGE_V3: &[&str] = &[
    "rename_table:account",
    "drop_column:brokerage_account.holder",
];

// Drops and tightenings on existing tables: every other autodetected operation.

pub(crate) const BEFORE_FIELDS: &[FieldSchema] = &[
    auto_id(),
    FieldSchema {
        unique: true,
        ..field("code", SqlType::Text)
    },
    FieldSchema {
        index: true,
        nullable: true,
        ..field("label", SqlType::Text)
    },
    FieldSchema {
        constraints: &[Constraint::MaxLength(100)],
        ..field("note", SqlType::Text)
    },
    field("rank", SqlType::Text),
    FieldSchema {
        default: Some(DefaultValue::Int(1)),
        constraints: &[Constraint::Minimum("0")],
        ..field("quantity", SqlType::Int)
    },
    field("owner_id", SqlType::BigInt),
    field("obsolete", SqlType::Bool),
];
pub(crate) const AFTER_FIELDS: &[FieldSchema] = &[
    auto_id(),
    field("code", SqlType::Text),
    FieldSchema {
        unique: true,
        ..field("label", SqlType::Text)
    },
    FieldSchema {
        constraints: &[Constraint::MaxLength(50)],
        ..field("note", SqlType::Text)
    },
    FieldSchema {
        constraints: &[Constraint::Choices(&["a", "b"])],
        ..field("rank", SqlType::Text)
    },
    FieldSchema {
        default: Some(DefaultValue::Int(1)),
        constraints: &[Constraint::ExclusiveMinimum("0")],
        ..field("quantity", SqlType::Int)
    },
    reference("owner_id", SqlType::BigInt, "owner", OnDelete::Cascade),
];
pub(crate) const OWNER_FIELDS: &[FieldSchema] = &[auto_id()];
pub(crate) const LEGACY: ModelSchema = model("Legacy", "legacy", OWNER_FIELDS);
pub(crate) const OWNER: ModelSchema = model("Owner", "owner", OWNER_FIELDS);
pub(crate) const ITEM_BEFORE: ModelSchema = ModelSchema {
    indexes: &[IndexSchema {
        name: "item_code_label_idx",
        columns: &["code", "label"],
        unique: false,
    }],
    ..model("Item", "item", BEFORE_FIELDS)
};
pub(crate) const ITEM_AFTER: ModelSchema = model("Item", "item", AFTER_FIELDS);

pub(crate) const ITEMS_BEFORE: &[&ModelSchema] = &[&ITEM_BEFORE, &OWNER, &LEGACY];
pub(crate) const ITEMS_AFTER: &[&ModelSchema] = &[&ITEM_AFTER, &OWNER];
pub(crate) const ACKNOWLEDGE_ITEMS: &[&str] = &[
    "not_null:item.label",
    "narrow_column:item.note",
    "add_check:item.rank",
    "add_check:item.quantity",
    "add_foreign_key:item.owner_id",
    "drop_column:item.obsolete",
    "add_unique:item_label_key",
    "drop_table:legacy",
];

// A table whose existing fields become sensitive, and clear again.

pub(crate) const CLIENT_CLEAR_FIELDS: &[FieldSchema] = &[
    auto_id(),
    FieldSchema {
        unique: true,
        constraints: &[Constraint::MaxLength(11)],
        ..field("tax_id", SqlType::Text)
    },
    FieldSchema {
        nullable: true,
        ..field("name", SqlType::Text)
    },
];
pub(crate) const CLIENT_CLEAR: ModelSchema = model("Client", "client", CLIENT_CLEAR_FIELDS);

pub(crate) const CLIENT_SEALED_FIELDS: &[FieldSchema] = &[
    auto_id(),
    FieldSchema {
        sensitivity: Sensitivity::Sealed { searchable: true },
        ..CLIENT_CLEAR_FIELDS[1]
    },
    FieldSchema {
        sensitivity: Sensitivity::Sealed { searchable: false },
        ..CLIENT_CLEAR_FIELDS[2]
    },
];
pub(crate) const CLIENT_SEALED: ModelSchema = model("Client", "client", CLIENT_SEALED_FIELDS);

// Renames of sealed data: real models, so the renamed values are read back
// through the model after the migration re-seals them.

/// A client with a searchable sealed tax id and a sealed name.
#[fw::model(table = "client")]
pub(crate) struct Client {
    pub(crate) id: i64,
    #[field(sensitive(searchable), unique, max_length = 11)]
    pub(crate) tax_id: String,
    #[field(sensitive)]
    pub(crate) name: Option<String>,
}

/// [`Client`] with `tax_id` renamed to `tin`.
#[fw::model(table = "client")]
pub(crate) struct ClientWithTin {
    pub(crate) id: i64,
    #[field(
        sensitive(searchable),
        unique,
        max_length = 11,
        renamed_from = "tax_id"
    )]
    pub(crate) tin: String,
    #[field(sensitive)]
    pub(crate) name: Option<String>,
}

/// [`ClientWithTin`] with its table renamed to `customer`.
#[fw::model(table = "customer", renamed_from = "client")]
pub(crate) struct Customer {
    pub(crate) id: i64,
    #[field(sensitive(searchable), unique, max_length = 11)]
    pub(crate) tin: String,
    #[field(sensitive)]
    pub(crate) name: Option<String>,
}
