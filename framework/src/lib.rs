//! fw: an opinionated full-stack web framework.
//!
//! Declare a typed struct with [`#[fw::model]`](macro@model) and fw generates, at
//! compile time, its table schema and migrations, row decoding and a typed query
//! API that runs on SQLite and PostgreSQL.
//!
//! Guides: [models](docs::models), [resources](docs::resources),
//! [migrations](docs::migrations), [the app's command line](docs::commands).
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate self as fw;

mod app;
pub mod changes;
mod context;
mod db;
mod error;
mod field;
pub use rest::idempotency;
pub mod migrate;
mod model;
pub mod openapi;
mod query;
mod reference;
mod rest;
pub mod schema;
mod serve;
mod sql;
pub mod testing;
mod value;
mod write;

pub use app::{App, Commands};
pub use context::{AppContext, Config, HttpLimits};
pub use db::{Conn, ConnectOptions, Db, Dialect, Row, Tx};
pub use error::{Error, ForeignKeyRelation, Result, Unavailable};
pub use field::{Choices, Field, Json};
pub use model::Model;
pub use query::{Column, ConflictTarget, Cursor, Filter, Lookup, Order, Query, TextField};
pub use reference::Ref;
pub use rest::{
    Action, Api, ApiError, FieldError, FilterSpec, Hooks, RequestContext, Resource, ResourceField,
    ResourceSpec, Through,
};
pub use sql::{SqlQuery, sql};
pub use value::Value;

pub use fw_macros::{Choices, embed_migrations, model, resource};

/// Guides, rendered in the crate documentation.
pub mod docs {
    #[doc = include_str!("docs/models.md")]
    pub mod models {}
    #[doc = include_str!("docs/resources.md")]
    pub mod resources {}
    #[doc = include_str!("docs/migrations.md")]
    pub mod migrations {}
    #[doc = include_str!("docs/commands.md")]
    pub mod commands {}
}

/// Support for generated code. Not public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::db::{Arguments, Row};
    pub use crate::field::{Represented, decode_choice, foreign_key_of};
    pub use crate::model::ModelSql;
    pub use crate::rest::Input;
    pub use crate::rest::lookups;
    pub use chrono::{DateTime, Utc};
    #[cfg(feature = "testing")]
    pub use insta;
    pub use rust_decimal::Decimal;
    pub use serde;
    pub use serde_json;
    pub use uuid::Uuid;

    /// Asserts at compile time that `M` records its changes, for a resource's
    /// `history` action.
    pub const fn assert_records_changes<M: crate::Model>() {
        assert!(
            M::CHANGELOG,
            "the `history` action reads the change log: add `changelog` to the model's \
             `#[fw::model(...)]`"
        );
    }

    /// Asserts at compile time that a field's type is storable; rustc points at
    /// the field when it is not.
    pub const fn assert_field<T: crate::Field>() {}

    /// The foreign key of a `Ref<M>` field.
    pub const fn foreign_key_to<M: crate::Model>(
        on_delete: crate::schema::OnDelete,
    ) -> Option<crate::schema::ForeignKeySchema> {
        Some(crate::schema::ForeignKeySchema {
            table: M::TABLE,
            column: M::PRIMARY_KEY_COLUMN,
            on_delete,
        })
    }
}
