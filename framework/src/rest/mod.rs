//! REST resources: what `#[fw::resource]` implements, and the handlers, errors,
//! validation and pagination it is served with.
//!
//! The macro emits only the typed parts of a resource (its representation, how
//! input becomes a `New<Model>` or `<Model>Patch`, and a static [`ResourceSpec`]);
//! the handlers here are generic over [`Resource`], so every resource behaves the
//! same way and the generated code stays small.

mod access;
mod action;
mod api;
mod error;
mod handlers;
pub mod idempotency;
mod input;
mod params;
mod preconditions;
pub(crate) mod routes;
mod schema_check;

use std::future::Future;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, Uri};

use crate::caller::Caller;
use crate::context::AppContext;
use crate::db::{Db, Tx};
use crate::model::Model;
use crate::model::query::{Filter, Lookup};
use crate::schema::{FieldSchema, ModelSchema};
use fw_core::access::Access;

pub use action::{ActionBody, CollectionAction, RowAction, Validate};
pub use api::Api;
pub use error::{ApiError, FieldError};
pub(crate) use error::{CHALLENGE, PROBLEM_JSON, escape_pointer};
pub use fw_core::api::Action;
pub(crate) use handlers::unsupported_method;
pub use input::Input;
pub(crate) use input::{
    BODY_LIMIT, decimal_pattern, default_json, json_integer, pointer, read_object,
};

/// One field of a resource's representation.
#[derive(Debug, Clone, Copy)]
pub struct ResourceField {
    /// The name in JSON (the model field's name unless renamed).
    pub name: &'static str,
    /// The model field it shows; `None` for a field computed from the row
    /// (`#[field(computed = ...)]`), which is read-only.
    pub field: Option<&'static FieldSchema>,
    /// What its value is in JSON: the model field itself for a field shown
    /// in the model's type (or one of the same JSON form), else a schema of
    /// the resource field's type alone, with no constraints but its choices
    /// and no default.
    pub value: &'static FieldSchema,
    /// Shown but never accepted in a request body.
    pub read_only: bool,
    /// Accepted but never shown.
    pub write_only: bool,
    /// The field's documentation comment.
    pub doc: &'static str,
    /// For a sensitive (sealed) model field, the permission a caller needs to
    /// see it; a caller without it gets the field omitted from every response.
    pub reveal: Option<&'static str>,
}

/// Which of a resource's revealable fields (those with
/// [`ResourceField::reveal`]) one caller sees: bit `n` for the `n`th of them,
/// in declaration order. `#[fw::resource]` allows at most
/// [`Reveal::MAX_FIELDS`] of them, so one word holds every answer and a
/// response's rows are serialized with no permission lookup per row.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reveal(u64);

impl Reveal {
    /// The most revealable fields one resource may have.
    pub const MAX_FIELDS: usize = 64;

    /// Every revealable field shown: what a resource struct's own `Serialize`
    /// uses, as the code holding the struct already read the values.
    pub const ALL: Reveal = Reveal(u64::MAX);

    /// What `caller` sees of `spec`'s revealable fields.
    pub fn for_caller(spec: &ResourceSpec, caller: &Caller) -> Reveal {
        let identity = caller.identity();
        let mut shown = 0_u64;
        for (index, permission) in spec
            .fields
            .iter()
            .filter_map(|field| field.reveal)
            .enumerate()
        {
            if identity.is_some_and(|identity| identity.has(permission)) {
                shown |= 1 << index;
            }
        }
        Reveal(shown)
    }

    /// Whether the `index`th revealable field is shown.
    pub fn shows(self, index: usize) -> bool {
        index < Reveal::MAX_FIELDS && self.0 & (1 << index) != 0
    }

    /// The fields of `spec` this reveals, by their names in JSON.
    pub(crate) fn revealed(self, spec: &ResourceSpec) -> Vec<&'static str> {
        spec.fields
            .iter()
            .filter_map(|field| field.reveal.map(|_| field.name))
            .enumerate()
            .filter(|(index, _)| self.shows(*index))
            .map(|(_, name)| name)
            .collect()
    }
}

/// A field that list requests may filter on, and how.
#[derive(Debug, Clone, Copy)]
pub struct FilterSpec {
    /// The query parameter (`ex_date__gte`): the field's JSON name, or the name
    /// a related filter declares (`symbol` in `symbol = security.symbol`).
    pub name: &'static str,
    /// The model field compared: the resource model's own, or for a related
    /// filter the referenced model's.
    pub field: &'static FieldSchema,
    /// The reference a related filter follows; `None` for the model's own fields.
    pub through: Option<Through>,
    /// The allowed lookups; `exact` is also reachable as the bare name.
    pub lookups: &'static [Lookup],
}

/// The reference a related filter follows, Django's `security__symbol`: rows
/// match when the row their `reference` points at matches the filter.
#[derive(Debug, Clone, Copy)]
pub struct Through {
    /// The resource model's `Ref` field.
    pub reference: &'static FieldSchema,
    /// The model it refers to, which owns the filter's field.
    pub target: &'static ModelSchema,
}

/// The static description of a resource, emitted by `#[fw::resource]`: it drives
/// routing, input checking, query-string parsing and the OpenAPI document alike.
#[derive(Debug, Clone, Copy)]
pub struct ResourceSpec {
    /// The resource's name in the OpenAPI document (the struct's name).
    pub name: &'static str,
    /// The model's schema.
    pub model: &'static ModelSchema,
    /// The collection path, e.g. `/dividends`; items live at `{path}/{id}`.
    pub path: &'static str,
    /// The offered actions.
    pub actions: &'static [Action],
    /// Who may call each offered action (`#[resource(permissions(...))]`). An
    /// action without an entry here is not served: nothing is public by omission.
    pub access: &'static [(Action, Access)],
    /// The representation's fields, in declaration order.
    pub fields: &'static [ResourceField],
    /// Filterable fields.
    pub filters: &'static [FilterSpec],
    /// Fields `search=` matches (case-insensitive substring, any of them).
    pub search: &'static [&'static FieldSchema],
    /// Fields `ordering=` accepts, by JSON name.
    pub ordering: &'static [(&'static str, &'static FieldSchema)],
    /// The order when `ordering=` is absent: JSON names, `-` for descending.
    pub default_ordering: &'static [&'static str],
    /// Rows per page when `page_size=` is absent.
    pub page_size: u32,
    /// The largest `page_size=` accepted.
    pub max_page_size: u32,
    /// The resource's documentation comment.
    pub doc: &'static str,
}

impl ResourceSpec {
    /// Whether a field is sensitive and shown to callers with the permission
    /// that reveals it.
    pub fn reveals(&self) -> bool {
        self.fields.iter().any(|field| field.reveal.is_some())
    }

    /// The permission that reveals the field `filter` compares, when it is
    /// one of this resource's sensitive fields (a related filter never is).
    pub fn reveal_permission(&self, filter: &FilterSpec) -> Option<&'static str> {
        if filter.through.is_some() {
            return None;
        }
        self.fields
            .iter()
            .find(|field| {
                field
                    .field
                    .is_some_and(|shown| shown.column == filter.field.column)
            })
            .and_then(|field| field.reveal)
    }

    /// `{item path}/history`, where the `history` action is served.
    pub fn history_path(&self) -> String {
        format!("{}/history", self.item_path())
    }

    /// Whether the resource offers an action that writes (create, update,
    /// partial update or destroy).
    pub fn writes(&self) -> bool {
        self.actions
            .iter()
            .any(|action| action.writes() && self.has(*action))
    }

    /// Whether the resource offers `action`: it is one of its
    /// [`actions`](ResourceSpec::actions) and has an [`access`](ResourceSpec::access).
    pub fn has(&self, action: Action) -> bool {
        self.actions.contains(&action) && self.access(action).is_some()
    }

    /// Who may call `action`; `None` when the resource does not offer it.
    ///
    /// ```
    /// # use fw::{Access, Action};
    /// # fn example(spec: &fw::ResourceSpec) {
    /// // `#[resource(permissions(model), ...)]` over model `Dividend`:
    /// assert_eq!(
    ///     spec.access(Action::Create),
    ///     Some(Access::Permission("add_dividend"))
    /// );
    /// # }
    /// ```
    pub fn access(&self, action: Action) -> Option<Access> {
        self.access
            .iter()
            .find(|(offered, _)| *offered == action)
            .map(|(_, access)| *access)
    }

    /// The JSON name of model field `name` (itself when the resource does not show it).
    pub fn api_name(&self, name: &str) -> String {
        self.fields
            .iter()
            .find(|field| field.field.is_some_and(|shown| shown.name == name))
            .map_or_else(|| name.to_owned(), |field| field.name.to_owned())
    }

    /// The item path, `{path}/{id}`.
    pub fn item_path(&self) -> String {
        format!("{}/{{id}}", self.path)
    }
}

/// What a handler knows about the request besides its body: the application
/// (database, configuration), the method, the address and the headers.
///
/// An axum extractor, so plain handlers mounted beside resources can take it too.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The application's database and configuration.
    pub app: AppContext,
    /// The request method.
    pub method: Method,
    /// The request address as the client sent it.
    pub uri: Uri,
    /// The request headers.
    pub headers: HeaderMap,
    /// Who is calling, as authentication found (see [`auth`](crate::auth)).
    pub caller: Caller,
    /// The `Idempotency-Key` this request holds, whose answer the write's
    /// transaction stores.
    pub(crate) idempotency: Option<idempotency::Claim>,
}

impl RequestContext {
    /// The application's database.
    pub fn db(&self) -> &Db {
        &self.app.db
    }

    /// The value of header `name` (a `&str` or, cheaper, an
    /// [`http::header`](axum::http::header) constant), if present and text.
    pub fn header<K: axum::http::header::AsHeaderName>(&self, name: K) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The context of a request whose parts the caller owns: they move in, where
    /// the extractor below has to copy them (resource handlers use this one).
    pub(crate) fn from_parts(app: AppContext, mut parts: Parts) -> RequestContext {
        let uri = parts
            .extensions
            .remove::<axum::extract::OriginalUri>()
            .map_or(parts.uri, |original| original.0);
        let caller = parts.extensions.remove::<Caller>().unwrap_or_default();
        RequestContext {
            app,
            method: parts.method,
            uri,
            headers: parts.headers,
            caller,
            idempotency: None,
        }
    }
}

impl FromRequestParts<AppContext> for RequestContext {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppContext) -> Result<Self, ApiError> {
        let uri = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or_else(|| parts.uri.clone(), |original| original.0.clone());
        Ok(RequestContext {
            app: app.clone(),
            method: parts.method.clone(),
            uri,
            headers: parts.headers.clone(),
            caller: parts
                .extensions
                .get::<Caller>()
                .cloned()
                .unwrap_or_default(),
            idempotency: None,
        })
    }
}

/// A REST resource over a model: implemented by `#[fw::resource]`.
///
/// Register it with [`Api::resource`](crate::Api::resource) (or
/// [`App::resource`](crate::App::resource)); that mounts its routes and adds
/// its operations to the OpenAPI document from the same [`ResourceSpec`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a resource",
    label = "expected a struct with `#[fw::resource(model = ..., path = \"...\")]`",
    note = "add `#[fw::resource(...)]` to the struct declaration"
)]
pub trait Resource: Sized + Send + Sync + 'static {
    /// The model the resource shows.
    type Model: Model;
    /// Business logic around writes; `()` for none.
    type Hooks: Hooks<Self::Model>;
    /// The static description of the resource.
    const SPEC: &'static ResourceSpec;

    /// The API representation of a row.
    fn from_model(row: &Self::Model) -> Self;

    /// Writes a row's representation (what [`from_model`](Resource::from_model)
    /// would serialize) straight from the row, without copying its fields,
    /// omitting the sensitive fields `reveal` does not show.
    #[doc(hidden)]
    fn serialize_row<S: serde::Serializer>(
        row: &Self::Model,
        reveal: Reveal,
        serializer: S,
    ) -> Result<S::Ok, S::Error>;

    /// Reads a create body; `None` when `input` recorded errors.
    #[doc(hidden)]
    fn create_input(input: &mut Input) -> Option<<Self::Model as Model>::New>;

    /// Reads an update body (every writable field) or, when `partial`, a patch body.
    #[doc(hidden)]
    fn update_input(input: &mut Input, partial: bool) -> Option<<Self::Model as Model>::Patch>;

    /// The filter every query of this resource is restricted to (for example the
    /// caller's account), or `None` for all rows.
    ///
    /// # Errors
    ///
    /// An [`ApiError`] (401, 403) when the caller may see nothing.
    fn scope(request: &RequestContext) -> Result<Option<Filter<Self::Model>>, ApiError> {
        let _ = request;
        Ok(None)
    }
}

/// Business logic around a resource's writes, run in the write's transaction:
/// what a hook writes through `tx` commits or rolls back with it.
///
/// Every method has a default that does nothing; implement the ones you need on
/// a unit struct and name it in `#[resource(hooks = MyHooks)]`. A `before_*` hook
/// may change the values about to be written, or refuse with an [`ApiError`]
/// (for cross-field validation, [`ApiError::invalid`], which answers 422 in the
/// same format as the field checks).
pub trait Hooks<M: Model>: Send + Sync + 'static {
    /// Before a row is inserted.
    fn before_create(
        request: &RequestContext,
        tx: &mut Tx,
        new: &mut M::New,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (request, tx, new);
        async { Ok(()) }
    }

    /// After a row was inserted.
    fn after_create(
        request: &RequestContext,
        tx: &mut Tx,
        row: &M,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (request, tx, row);
        async { Ok(()) }
    }

    /// Before `current` is updated with `patch` (PUT or PATCH).
    fn before_update(
        request: &RequestContext,
        tx: &mut Tx,
        current: &M,
        patch: &mut M::Patch,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (request, tx, current, patch);
        async { Ok(()) }
    }

    /// After a row was updated.
    fn after_update(
        request: &RequestContext,
        tx: &mut Tx,
        row: &M,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (request, tx, row);
        async { Ok(()) }
    }

    /// Before `current` is deleted.
    fn before_delete(
        request: &RequestContext,
        tx: &mut Tx,
        current: &M,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (request, tx, current);
        async { Ok(()) }
    }

    /// After `deleted` was deleted.
    fn after_delete(
        request: &RequestContext,
        tx: &mut Tx,
        deleted: &M,
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        let _ = (request, tx, deleted);
        async { Ok(()) }
    }
}

impl<M: Model> Hooks<M> for () {}

/// Compile-time checks the generated code makes, so a lookup that does not fit a
/// field's type is an error on the lookup.
#[doc(hidden)]
pub mod lookups {
    use chrono::{DateTime, NaiveDate, Utc};
    use rust_decimal::Decimal;

    use crate::model::Model;
    use crate::model::query::Column;
    use crate::reference::Ref;

    /// Types with an order (`gt`, `gte`, `lt`, `lte`).
    #[diagnostic::on_unimplemented(
        message = "range lookups (`gt`, `gte`, `lt`, `lte`) need an ordered field, not `{Self}`",
        label = "not valid for this field's type",
        note = "range lookups work on integers, decimals, dates and timestamps"
    )]
    pub trait Ordered {}
    impl Ordered for i16 {}
    impl Ordered for i32 {}
    impl Ordered for i64 {}
    impl Ordered for Decimal {}
    impl Ordered for NaiveDate {}
    impl Ordered for DateTime<Utc> {}
    impl<T: Ordered> Ordered for Option<T> {}

    /// Text (`contains`, `icontains`, `startswith`, and `search`).
    #[diagnostic::on_unimplemented(
        message = "text lookups (`contains`, `icontains`, `startswith`) and `search` need a text field, not `{Self}`",
        label = "not valid for this field's type",
        note = "text lookups work on `String` and `Option<String>` fields"
    )]
    pub trait Text {}
    impl Text for String {}
    impl Text for Option<String> {}

    /// Nullable fields (`isnull`).
    #[diagnostic::on_unimplemented(
        message = "`isnull` needs a nullable field, not `{Self}`",
        label = "not valid for this field's type",
        note = "`isnull` works on `Option<T>` fields"
    )]
    pub trait Nullable {}
    impl<T> Nullable for Option<T> {}

    /// Asserts a range lookup fits `T`.
    pub const fn ordered<T: Ordered>() {}
    /// Asserts a text lookup fits `T`.
    pub const fn text<T: Text>() {}
    /// Asserts `isnull` fits `T`.
    pub const fn nullable<T: Nullable>() {}

    /// Asserts a range lookup fits a column's field: a referenced model's,
    /// for a related filter (whose field type only the column knows), or the
    /// resource's model's, whose stored values the lookup compares whatever
    /// type the resource shows them in.
    pub const fn ordered_column<M, T: Ordered, S>(_: &Column<M, T, S>) {}
    /// Asserts a text lookup, or `search`, fits a column's field.
    pub const fn text_column<M, T: Text, S>(_: &Column<M, T, S>) {}
    /// Asserts `isnull` fits a column's field.
    pub const fn nullable_column<M, T: Nullable, S>(_: &Column<M, T, S>) {}

    /// The field types a related filter can follow: `Ref<M>` and
    /// `Option<Ref<M>>`, to the model `M`.
    #[diagnostic::on_unimplemented(
        message = "a related filter follows a reference, and `{Self}` is not one",
        label = "not a `Ref<Model>` field",
        note = "name a `Ref<Model>` field before the dot, e.g. `filter(symbol = security.symbol(exact))`"
    )]
    pub trait Reference {
        /// The referenced model.
        type Target: Model;
    }
    impl<M: Model> Reference for Ref<M> {
        type Target = M;
    }
    impl<M: Model> Reference for Option<Ref<M>> {
        type Target = M;
    }
}
