//! fw: an opinionated full-stack web framework.
//!
//! Declare a typed struct with [`#[fw::model]`](macro@model) and fw generates, at
//! compile time, its table schema and migrations, row decoding and a typed query
//! API that runs on SQLite and PostgreSQL.
//!
//! Guides: [models](docs::models), [resources](docs::resources),
//! [migrations](docs::migrations), [the app's command line](docs::commands),
//! [identity](docs::auth), [sensitive data](docs::sensitive),
//! [rate limits](docs::rate_limits), [observability](docs::observability),
//! [in production](docs::production), [deploying](docs::deploy); and every
//! option of the macros in one [reference](docs::reference).
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate self as fw;

mod app;
pub mod auth;
mod caller;
pub mod changes;
mod client;
mod context;
mod db;
mod error;
mod field;
pub use rest::idempotency;
pub mod migrate;
mod model;
pub mod openapi;
mod perimeter;
mod reference;
mod rest;
pub mod sensitive;
mod serve;
mod settings;
mod sql;
pub mod testing;
mod value;
mod version;

pub use fw_core::schema;

pub use app::{App, Commands};
pub use auth::{Access, Caller};
pub use client::{ClientAddr, ForwardedHeader, TrustedProxies};
pub use context::{AppContext, Config, HttpLimits};
pub use db::{Conn, ConnectOptions, Db, Dialect, Row, Tx};
pub use error::{Error, ForeignKeyRelation, Result, Unavailable};
pub use field::{Choices, Field, Json};
pub use model::Model;
pub use model::query::{Column, ConflictTarget, Cursor, Filter, Lookup, Order, Query, TextField};
pub use reference::Ref;
pub use rest::{
    Action, ActionBody, Api, ApiError, CollectionAction, FieldError, FilterSpec, Hooks,
    RequestContext, Resource, ResourceField, ResourceSpec, RowAction, Through, Validate,
};
pub use settings::edge::{CorsConfig, CorsOrigins, EdgeConfig};
pub use settings::observe::{AccessLog, ObserveConfig};
pub use settings::rate_limits::{MAX_RATE_COUNT, Rate, RateLimits, RedisSettings};
pub use sql::{SqlQuery, sql};
pub use value::Value;
pub use version::{
    API_VERSION_HEADER, ApiVersion, Edit, Endpoint, FieldRef, UpgradeBody, Version, VersionChange,
    Versions,
};

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
    #[doc = include_str!("docs/auth.md")]
    pub mod auth {}
    #[doc = include_str!("docs/sensitive.md")]
    pub mod sensitive {}
    #[doc = include_str!("docs/rate-limits.md")]
    pub mod rate_limits {}
    #[doc = include_str!("docs/observability.md")]
    pub mod observability {}
    #[doc = include_str!("docs/production.md")]
    pub mod production {}
    #[doc = include_str!("docs/deploy.md")]
    pub mod deploy {}
    #[doc = include_str!("docs/versions.md")]
    pub mod versions {}
    #[doc = include_str!("docs/reference.md")]
    pub mod reference {}
}

/// Support for generated code. Not public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::db::{Arguments, Row};
    pub use crate::field::{Represented, decode_choice, foreign_key_of};
    pub use crate::model::{ModelCodegen, ModelSql, VisitReferences, field_from_json};
    pub use crate::rest::lookups;
    pub use crate::rest::{Input, Reveal};
    pub use crate::sensitive::SealedText;
    pub use chrono::{DateTime, Utc};
    pub use fw_macros::__resource_with_model_fields as resource_with_model_fields;
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

    /// Asserts at compile time that `M` is the model named `name`, which its
    /// permissions (`view_<name>`, ...) are named from: a resource naming its
    /// model through an alias would otherwise check permissions no role grants.
    pub const fn assert_model_named<M: crate::Model>(name: &str) {
        let (actual, written) = (M::SCHEMA.name.as_bytes(), name.as_bytes());
        let mut same = actual.len() == written.len();
        let mut index = 0;
        while same && index < actual.len() {
            same = actual[index] == written[index];
            index += 1;
        }
        assert!(
            same,
            "the model's permissions are named from its name: write the model's own name in \
             `model = ...`, not an alias"
        );
    }

    /// Asserts at compile time that a resource may serve `field`: never a
    /// `redacted` one, and a sensitive one only with the permission that
    /// reveals it (`reveals`), which a field that is not sensitive has no use for.
    pub const fn assert_served(field: &crate::schema::FieldSchema, shown: bool, reveals: bool) {
        match field.sensitivity {
            crate::schema::Sensitivity::Redacted => panic!(
                "this model field is `redacted` (a secret such as a hash): a resource never \
                 serves or accepts it; remove the field from the resource"
            ),
            crate::schema::Sensitivity::Sealed { .. } if shown && !reveals => panic!(
                "this model field is sensitive: name the permission that reveals it, e.g. \
                 `#[field(reveal = \"view_account_tax_id\")]`; callers without it get the \
                 field omitted"
            ),
            crate::schema::Sensitivity::Plain if reveals => panic!(
                "`reveal` is for sensitive model fields and this one is not: remove \
                 `reveal`, or mark the model field `#[field(sensitive)]`"
            ),
            _ => {}
        }
    }

    /// Asserts at compile time that `field` can be filtered on with the given
    /// lookups: a sensitive field only by `exact`/`in` (`equality_only`), and
    /// only when it is `searchable`, as its stored value is sealed and only its
    /// keyed digest can be compared.
    pub const fn assert_filterable(field: &crate::schema::FieldSchema, equality_only: bool) {
        match field.sensitivity {
            crate::schema::Sensitivity::Sealed { searchable: false } => panic!(
                "this model field is sensitive and sealed in the database, so it cannot be \
                 filtered on; mark it `#[field(sensitive(searchable))]` for `exact`/`in` filters"
            ),
            crate::schema::Sensitivity::Sealed { searchable: true } if !equality_only => panic!(
                "this model field is sensitive: only `exact` and `in` compare its keyed \
                 digest; ranges and text lookups would need the clear value"
            ),
            crate::schema::Sensitivity::Redacted => {
                panic!("this model field is `redacted`: a resource never filters on it")
            }
            _ => {}
        }
    }

    /// Asserts at compile time that a related filter does not compare a
    /// sensitive field of the referenced model: no permission of this resource
    /// reveals it, so the filter would let a caller probe its values.
    pub const fn assert_related_filterable(field: &crate::schema::FieldSchema) {
        assert!(
            !field.sensitivity.is_hidden(),
            "this field of the referenced model is sensitive: a related filter cannot \
             compare it; filter on it in the referenced model's own resource"
        );
    }

    /// Asserts at compile time that `field` can be in `ordering(...)` or
    /// `search(...)`: a sensitive field is sealed, so neither order nor text
    /// search can see its clear value.
    pub const fn assert_orderable_or_searchable(field: &crate::schema::FieldSchema) {
        assert!(
            !field.sensitivity.is_hidden(),
            "this model field is sensitive: it is sealed in the database, so it can be \
             neither ordered nor searched; remove it from `ordering(...)` / `search(...)`"
        );
    }

    /// Asserts at compile time that a field's type is storable; rustc points at
    /// the field when it is not.
    pub const fn assert_field<T: crate::Field>() {}

    /// The type of a model's field at `INDEX`, in declaration order: how a
    /// resource that does not restate its model's fields names their types,
    /// which `#[model]` spelled relative to the model's module.
    pub trait ModelFieldType<const INDEX: usize> {
        /// The field's type as the model declares it.
        type Type;
    }

    /// A resource field's type `Self` for a model `M` whose field is a `T`: the one
    /// place a resource field's type is compared with the model's, so a mismatch
    /// is one error, on the resource field, naming both types.
    #[diagnostic::on_unimplemented(
        message = "this resource field is `{Self}`, but model `{M}` stores it as `{T}`",
        label = "a resource field has its model field's type: write `{T}`"
    )]
    pub trait ResourceFieldType<M, T>: Sized {
        /// The resource field's value from the model field's.
        fn from_model_field(value: &T) -> Self;
    }

    impl<M, T: Clone> ResourceFieldType<M, T> for T {
        fn from_model_field(value: &T) -> T {
            value.clone()
        }
    }

    /// `shown_as` on a model's column, for a resource's `from_model`. A method
    /// rather than a function so that the column's types are known before the
    /// resource field's type is compared with them: a function would let rustc
    /// guess the model's type from the resource's and report a mismatch of
    /// references instead.
    pub trait ShownColumn<M, T> {
        /// The resource field of type `R` showing this column's `value`.
        fn shown_as<R: ResourceFieldType<M, T>>(&self, value: &T) -> R {
            R::from_model_field(value)
        }
    }

    impl<M, T, S> ShownColumn<M, T> for crate::Column<M, T, S> {}

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
