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

    /// A resource field's type `Self` that shows a model `M`'s field stored as
    /// a `T`: any type with `From<T>`, the model's own type included (the
    /// identity `From<T> for T`).
    #[diagnostic::on_unimplemented(
        message = "this resource field is `{Self}`, but model `{M}` stores it as `{T}`",
        label = "write `{T}`, or implement `From<{T}> for {Self}` to show the model's value as a `{Self}`"
    )]
    pub trait ShowsModelField<M, T>: Sized {
        /// The resource field's value from the model field's.
        fn from_model_field(value: &T) -> Self;
    }

    impl<M, T: Clone, R: From<T>> ShowsModelField<M, T> for R {
        fn from_model_field(value: &T) -> R {
            R::from(value.clone())
        }
    }

    /// A resource field's type `Self` that a request body writes to a model
    /// `M`'s field stored as a `T`: `TryFrom<Self> for T`, whose error (its
    /// `Display`) answers 422 on the field.
    #[diagnostic::on_unimplemented(
        message = "requests write this `{Self}` field to model `{M}`'s `{T}`, and `{T}` has no `TryFrom<{Self}>`",
        label = "implement `TryFrom<{Self}> for {T}` (or `From`), or make the field `read_only`"
    )]
    pub trait WritesModelField<M, T>: Sized {
        /// The model field's value from the resource field's; the error is
        /// the detail of the 422.
        ///
        /// # Errors
        ///
        /// The conversion's error, as text.
        fn into_model_field(self) -> Result<T, String>;
    }

    impl<M, T, R> WritesModelField<M, T> for R
    where
        T: TryFrom<R>,
        T::Error: std::fmt::Display,
    {
        fn into_model_field(self) -> Result<T, String> {
            T::try_from(self).map_err(|error| error.to_string())
        }
    }

    /// A model field's value as a resource field of type `R` shows it: the
    /// conversion was checked where this was made ([`ShownColumn::shown`]),
    /// so that a missing `From` is reported once, there.
    #[derive(Debug)]
    pub struct Shown<'a, T, R> {
        value: &'a T,
        convert: fn(&T) -> R,
    }

    impl<T: 'static, R: crate::Field> Shown<'_, T, R> {
        /// The resource field's value, for `from_model`.
        pub fn into_value(self) -> R {
            (self.convert)(self.value)
        }
    }

    impl<T: 'static, R: crate::Field> serde::Serialize for Shown<'_, T, R> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            // The model's own type is shown as it is, with no copy; the check
            // is on types known at compile time, so it costs nothing once
            // optimized.
            match (self.value as &dyn std::any::Any).downcast_ref::<R>() {
                Some(same) => same.represent(serializer),
                None => (self.convert)(self.value).represent(serializer),
            }
        }
    }

    /// How a request body's value of a resource field of type `R` becomes
    /// the model's `T` (see [`ShownColumn::written_as`]).
    #[derive(Debug)]
    pub struct WrittenAs<T, R> {
        stored: &'static crate::schema::FieldSchema,
        convert: fn(R) -> Result<T, String>,
    }

    impl<T, R: crate::Field + serde::de::DeserializeOwned> WrittenAs<T, R> {
        /// Field `name` of a create body, described by `shown`.
        pub fn created(
            &self,
            input: &mut crate::rest::Input,
            name: &'static str,
            shown: &'static crate::schema::FieldSchema,
        ) -> Option<T>
        where
            T: crate::Field + serde::de::DeserializeOwned,
        {
            input.created_as(name, shown, self.stored, self.convert)
        }

        /// Field `name` of an update body, described by `shown`.
        pub fn updated(
            &self,
            input: &mut crate::rest::Input,
            name: &'static str,
            shown: &'static crate::schema::FieldSchema,
            partial: bool,
        ) -> Option<T>
        where
            T: crate::Field,
        {
            input.updated_as(name, shown, self.stored, partial, self.convert)
        }
    }

    /// A model's column as a resource's generated code uses it: methods
    /// rather than functions so that the column's types are known before the
    /// resource field's type `R` is compared with them (a function would let
    /// rustc guess the model's type from the resource's and report a
    /// mismatch of references instead). Each conversion is checked by one
    /// method, so a missing one is one error (rustc drops repeats).
    pub trait ShownColumn<M, T> {
        /// The column's schema.
        fn stored(&self) -> &'static crate::schema::FieldSchema;

        /// This column's `value` as a resource field of type `R` shows it.
        fn shown<'a, R: ShowsModelField<M, T>>(&self, value: &'a T) -> Shown<'a, T, R> {
            Shown {
                value,
                convert: R::from_model_field,
            }
        }

        /// How request bodies write a resource field of type `R` to this column.
        fn written_as<R: WritesModelField<M, T>>(&self) -> WrittenAs<T, R> {
            WrittenAs {
                stored: self.stored(),
                convert: R::into_model_field,
            }
        }

        /// Asserts that filters and `search` may compare the resource field
        /// of type `R` with this column's values.
        fn compared_as<R: ComparedAsStored<M, T>>(&self) {}
    }

    impl<M: crate::Model, T: crate::Field, S> ShownColumn<M, T> for crate::Column<M, T, S> {
        fn stored(&self) -> &'static crate::schema::FieldSchema {
            self.schema()
        }
    }

    /// The schema of a resource field's value of type `R` alone: a field
    /// computed from the row, or a model field the resource shows in a type
    /// of its own. It is a value's, not a column's: no name, column,
    /// constraints (but `R`'s choices) nor default.
    #[derive(Debug)]
    pub struct ShownValue<R>(std::marker::PhantomData<R>);

    impl<R: crate::Field> ShownValue<R> {
        const CONSTRAINTS: &'static [crate::schema::Constraint] = if R::CHOICES.is_empty() {
            &[]
        } else {
            &[crate::schema::Constraint::Choices(R::CHOICES)]
        };

        /// The schema.
        pub const SCHEMA: crate::schema::FieldSchema = crate::schema::FieldSchema {
            name: "",
            column: "",
            renamed_from: None,
            sql_type: R::SQL_TYPE,
            nullable: R::NULLABLE,
            primary_key: false,
            generated: crate::schema::Generated::No,
            unique: false,
            index: false,
            default: None,
            constraints: Self::CONSTRAINTS,
            foreign_key: None,
            sensitivity: crate::schema::Sensitivity::Plain,
        };
    }

    /// The schema of a written-out resource field's value: the model field's
    /// own (`stored`, constraints and default included) when the resource's
    /// type has its JSON form (the same JSON type, nullability and choices),
    /// as the model's own type has; else its type's alone (`own`).
    pub const fn shown_schema(
        stored: &'static crate::schema::FieldSchema,
        own: &'static crate::schema::FieldSchema,
    ) -> &'static crate::schema::FieldSchema {
        let same_form = stored.sql_type as u8 == own.sql_type as u8
            && stored.nullable == own.nullable
            && same_texts(choices(stored.constraints), choices(own.constraints));
        if same_form { stored } else { own }
    }

    /// The values of a `Choices` constraint, none when there is none.
    const fn choices(constraints: &[crate::schema::Constraint]) -> &[&str] {
        let mut index = 0;
        while index < constraints.len() {
            if let crate::schema::Constraint::Choices(values) = constraints[index] {
                return values;
            }
            index += 1;
        }
        &[]
    }

    const fn same_texts(left: &[&str], right: &[&str]) -> bool {
        if left.len() != right.len() {
            return false;
        }
        let mut index = 0;
        while index < left.len() {
            let (a, b) = (left[index].as_bytes(), right[index].as_bytes());
            if a.len() != b.len() {
                return false;
            }
            let mut byte = 0;
            while byte < a.len() {
                if a[byte] != b[byte] {
                    return false;
                }
                byte += 1;
            }
            index += 1;
        }
        true
    }

    /// A filtered or searched resource field's type `Self` for a model `M`
    /// whose field is a `T`: the same, as filters and `search` parse and
    /// compare values in the model field's type.
    #[diagnostic::on_unimplemented(
        message = "filters and `search` compare values in model `{M}`'s type `{T}`, and this field is shown as `{Self}`",
        label = "filter and search only on a field shown in its model field's type, `{T}`"
    )]
    pub trait ComparedAsStored<M, T> {}

    impl<M, T> ComparedAsStored<M, T> for T {}

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
