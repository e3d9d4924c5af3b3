//! Custom actions: what a resource's built-in actions do not cover, on one row
//! (`POST {path}/{id}/{name}`, a [`RowAction`]) or on the collection
//! (`POST {path}/{name}`, a [`CollectionAction`]), served and documented as
//! completely as the built-in ones (see [the guide](crate::docs::resources#custom-actions)).
//!
//! An action is a type implementing one of the two traits, registered with
//! [`Api::row_action`](crate::Api::row_action) or
//! [`Api::collection_action`](crate::Api::collection_action). fw checks the
//! caller's access, reads and validates the body, opens the transaction, reads
//! and locks the row, checks `If-Match` and honours `Idempotency-Key` before
//! the action runs; the action's writes are recorded in the change log with
//! the request's actor, and commit with the answer or not at all. The
//! document lists exactly what the route can answer: the refusals of those
//! steps and the statuses the action declares it answers itself
//! ([`RowAction::ERRORS`]); an error with any other status is logged and
//! answered as a 500, so the document cannot promise less than the server does.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

use super::error::{ApiError, FieldError, escape_pointer};
use super::handlers;
use super::input::read_object;
use super::routes::{self, Route};
use super::schema_check::{SchemaCheck, Schemas};
use super::{RequestContext, Resource, Reveal};
use crate::context::AppContext;
use crate::db::Tx;
use crate::openapi::{self, ActionAnswer, ActionOperation};
use fw_core::access::Access;

/// A custom action on one row of [`RowAction::Resource`]:
/// `POST {path}/{id}/{NAME}`, answering 200 with the row as the resource shows it.
///
/// Before [`run`](RowAction::run), fw refuses a caller [`ACCESS`](RowAction::ACCESS)
/// does not admit (401, 403), reads and validates the [`Body`](RowAction::Body)
/// (400, 413, 415, 422), opens a transaction, reads the row among those the
/// caller may see (404) and locks it until the transaction ends, and checks
/// `If-Match` against it (400, 412). `run` writes through `tx`, so its writes
/// are recorded in the change log with the request's actor and commit
/// together with the answer, or not at all when it returns an error.
///
/// ```
/// use fw::{ApiError, Model as _, RequestContext, Tx};
/// # #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, fw::Choices)]
/// # pub enum Status { Open, Closed }
/// # #[fw::model]
/// # pub struct Ticket {
/// #     pub id: i64,
/// #     pub status: Status,
/// #     #[field(version)]
/// #     pub version: i64,
/// # }
/// # #[fw::resource(model = Ticket, name = "Ticket", path = "/tickets",
/// #     actions(retrieve), permissions(public), read_only(id, version))]
/// # pub struct TicketResource { pub id: i64, pub status: Status, pub version: i64 }
///
/// /// Why a ticket is closed.
/// #[derive(serde::Deserialize, utoipa::ToSchema)]
/// #[serde(deny_unknown_fields)]
/// pub struct Closing {
///     /// Shown to whoever opened it.
///     #[schema(min_length = 1, max_length = 500)]
///     pub reason: String,
/// }
///
/// impl fw::Validate for Closing {}
///
/// /// `POST /tickets/{id}/close`.
/// pub struct Close;
///
/// impl fw::RowAction for Close {
///     type Resource = TicketResource;
///     type Body = Closing;
///     const NAME: &'static str = "close";
///     const SUMMARY: &'static str = "Close a ticket";
///     const ACCESS: fw::Access = fw::Access::Permission("close_ticket");
///     const ERRORS: &'static [axum::http::StatusCode] = &[axum::http::StatusCode::GONE];
///
///     async fn run(
///         _request: &RequestContext,
///         tx: &mut Tx,
///         ticket: Ticket,
///         _closing: Closing,
///     ) -> Result<Ticket, ApiError> {
///         if ticket.status == Status::Closed {
///             return Err(ApiError::refused(
///                 axum::http::StatusCode::GONE,
///                 "the ticket is closed already",
///             ));
///         }
///         let patch = TicketPatch { status: Some(Status::Closed), ..Default::default() };
///         Ok(Ticket::patch(tx, ticket.id, patch).await?)
///     }
/// }
///
/// let api = fw::Api::new("Tickets", "1.0.0")
///     .resource::<TicketResource>()
///     .row_action::<Close>();
/// # let _ = api;
/// ```
pub trait RowAction: Send + Sync + 'static {
    /// The resource whose rows the action is on.
    type Resource: Resource;
    /// The request body: `()` for none, else a type read from a JSON object
    /// (see [`ActionBody`]).
    type Body: ActionBody;
    /// The last segment of its path: lowercase ASCII letters, digits, `-` and
    /// `_`, not `history` (checked when the API is compiled).
    const NAME: &'static str;
    /// The operation's summary in the document.
    const SUMMARY: &'static str;
    /// Who may run it.
    const ACCESS: Access;
    /// The error statuses [`run`](RowAction::run) answers itself, besides
    /// the refusals of the steps before it and a 409 from a write it makes:
    /// documented on the operation. Any other is logged and answered as a 500.
    const ERRORS: &'static [StatusCode] = &[];

    /// Runs the action on `row`, locked in `tx`, and returns the row to answer with.
    fn run(
        request: &RequestContext,
        tx: &mut Tx,
        row: <Self::Resource as Resource>::Model,
        body: Self::Body,
    ) -> impl Future<Output = Result<<Self::Resource as Resource>::Model, ApiError>> + Send;
}

/// A custom action on the collection of [`CollectionAction::Resource`]:
/// `POST {path}/{NAME}`, answering 200 with its [`Output`](CollectionAction::Output).
///
/// fw refuses a caller [`ACCESS`](CollectionAction::ACCESS) does not admit,
/// reads and validates the body, and runs the action in a transaction that
/// commits with the answer, as for a [`RowAction`].
pub trait CollectionAction: Send + Sync + 'static {
    /// The resource whose collection the action is on.
    type Resource: Resource;
    /// The request body: `()` for none (see [`ActionBody`]).
    type Body: ActionBody;
    /// The answer's body, documented by its schema.
    type Output: Serialize + utoipa::ToSchema + Send;
    /// The last segment of its path: lowercase ASCII letters, digits, `-` and `_`.
    const NAME: &'static str;
    /// The operation's summary in the document.
    const SUMMARY: &'static str;
    /// Who may run it.
    const ACCESS: Access;
    /// The error statuses [`run`](CollectionAction::run) answers itself (see
    /// [`RowAction::ERRORS`]).
    const ERRORS: &'static [StatusCode] = &[];

    /// Runs the action in `tx` and returns the answer.
    fn run(
        request: &RequestContext,
        tx: &mut Tx,
        body: Self::Body,
    ) -> impl Future<Output = Result<Self::Output, ApiError>> + Send;
}

/// The rules of an action's body beyond what its type and its schema say.
/// Implement it with no method for a body whose schema says everything.
pub trait Validate {
    /// Each field that breaks a rule, with its JSON pointer (`/reason`); none
    /// by default.
    fn validate(&self) -> Vec<FieldError> {
        Vec::new()
    }
}

/// What a custom action reads from the request body: `()` for nothing, or a
/// type that deserializes from a JSON object, has a schema
/// ([`utoipa::ToSchema`], which the document shows) and implements
/// [`Validate`].
///
/// A body is read as JSON (400 when it is not an object, 413 over the body
/// limit, 415 when not sent as JSON), then checked against its schema's bounds
/// (`required`, `additionalProperties: false` from
/// `#[serde(deny_unknown_fields)]`, `minLength`, `maxLength`, `pattern`,
/// `minimum`, `maximum`, `minItems`, `maxItems`), deserialized, and given to
/// [`Validate::validate`]: every failure is a 422 naming the field by its JSON
/// pointer. What the document says of the body is what the server enforces.
pub trait ActionBody: Sized + Send + 'static {
    /// The body's schema, the named schemas it refers to added to `schemas`;
    /// `None` for an action that reads no body.
    fn schema(schemas: &mut Vec<(String, RefOr<Schema>)>) -> Option<RefOr<Schema>>;

    /// The body from its JSON object, which meets the schema's bounds
    /// (`Null` for an action that reads no body).
    ///
    /// # Errors
    ///
    /// A 422 naming each field that does not deserialize or breaks a rule
    /// of [`Validate`].
    fn from_json(body: Json) -> Result<Self, ApiError>;
}

impl ActionBody for () {
    fn schema(_schemas: &mut Vec<(String, RefOr<Schema>)>) -> Option<RefOr<Schema>> {
        None
    }

    fn from_json(_body: Json) -> Result<(), ApiError> {
        Ok(())
    }
}

impl<T> ActionBody for T
where
    T: DeserializeOwned + utoipa::ToSchema + Validate + Send + 'static,
{
    fn schema(schemas: &mut Vec<(String, RefOr<Schema>)>) -> Option<RefOr<Schema>> {
        let name = named_schema::<T>(schemas);
        Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(name)))
    }

    fn from_json(body: Json) -> Result<T, ApiError> {
        let body: T = serde_path_to_error::deserialize(body).map_err(|error| {
            let pointer = pointer(error.path());
            ApiError::Validation {
                errors: vec![FieldError::new(
                    pointer,
                    "invalid",
                    error.into_inner().to_string(),
                )],
            }
        })?;
        let errors = body.validate();
        if errors.is_empty() {
            Ok(body)
        } else {
            Err(ApiError::Validation { errors })
        }
    }
}

/// `T`'s name, its schema and those it names added to `schemas` unless
/// there already.
fn named_schema<T: utoipa::ToSchema>(schemas: &mut Schemas) -> String {
    let name = T::name().into_owned();
    if !schemas.iter().any(|(known, _)| *known == name) {
        schemas.push((name.clone(), T::schema()));
        T::schemas(schemas);
    }
    name
}

/// What an action's handler needs besides the action, made once when its
/// route is mounted.
struct Mounted {
    operation: ActionOperation,
    /// The bounds of the body's schema; `None` when it reads no body.
    check: Option<SchemaCheck>,
}

impl Mounted {
    /// For an action whose body is `B`, declared by `operation` (given
    /// whether it reads a body).
    fn of<B: ActionBody>(operation: impl FnOnce(bool) -> ActionOperation) -> Mounted {
        let mut named = Schemas::new();
        let check = B::schema(&mut named).map(|schema| SchemaCheck::new(&schema, &named));
        Mounted {
            operation: operation(check.is_some()),
            check,
        }
    }

    /// `error`, unless its status is one the action's operation does not
    /// list: that one is logged and becomes a 500, so that a client never
    /// meets a status the document did not promise.
    fn documented(&self, error: ApiError) -> ApiError {
        let status = error.status();
        if self.operation.lists(status) {
            return error;
        }
        let action = self.operation.name;
        tracing::error!(
            action,
            status = status.as_u16(),
            ?error,
            "a custom action answered a status its ERRORS do not declare; answering 500"
        );
        ApiError::internal(format!(
            "action `{action}` answered {status}, which it does not declare"
        ))
    }

    /// Reads, checks and validates the body `B` of a request with `headers`.
    async fn read<B: ActionBody>(&self, headers: &HeaderMap, body: Body) -> Result<B, ApiError> {
        let Some(check) = &self.check else {
            return B::from_json(Json::Null);
        };
        let body = Json::Object(read_object(headers, body).await?);
        let errors = check.check(&body);
        if !errors.is_empty() {
            return Err(ApiError::Validation { errors });
        }
        B::from_json(body)
    }
}

/// A deserializer's path as a JSON pointer (RFC 6901): `/lots/0/price`.
fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        pointer.push('/');
        match segment {
            Segment::Seq { index } => pointer.push_str(&index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                pointer.push_str(&escape_pointer(key));
            }
            Segment::Unknown => pointer.push('?'),
        }
    }
    pointer
}

/// Whether `name` may be an action's path segment: 1 to 64 lowercase ASCII
/// letters, digits, `-` and `_`, starting with a letter. A `const fn`, so that
/// registering an action with a bad name fails to compile.
const fn is_action_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() > 64 || !bytes[0].is_ascii_lowercase() {
        return false;
    }
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        if !(byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-' || byte == b'_') {
            return false;
        }
        at += 1;
    }
    true
}

/// Whether `name` is `history`, the built-in route on every row.
const fn is_history(name: &str) -> bool {
    let (bytes, history) = (name.as_bytes(), b"history");
    if bytes.len() != history.len() {
        return false;
    }
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] != history[at] {
            return false;
        }
        at += 1;
    }
    true
}

/// Fails to compile (used in a `const` block) for a name
/// [`is_action_name`] refuses.
const fn assert_action_name(name: &str) {
    assert!(
        is_action_name(name),
        "a custom action's name is 1 to 64 lowercase ASCII letters, digits, `-` and `_`, \
         starting with a letter"
    );
}

/// What row action `A` declares; `body` when it reads one.
fn row_operation<A: RowAction>(body: bool) -> ActionOperation {
    const {
        assert_action_name(A::NAME);
        assert!(
            !is_history(A::NAME),
            "`history` is the route of every row's history; name the action otherwise"
        );
    };
    ActionOperation {
        route: routes::row_action(A::NAME, body),
        name: A::NAME,
        summary: A::SUMMARY,
        access: A::ACCESS,
        errors: A::ERRORS,
    }
}

/// What collection action `A` declares; `body` when it reads one.
fn collection_operation<A: CollectionAction>(body: bool) -> ActionOperation {
    const { assert_action_name(A::NAME) };
    ActionOperation {
        route: routes::collection_action(A::NAME, body),
        name: A::NAME,
        summary: A::SUMMARY,
        access: A::ACCESS,
        errors: A::ERRORS,
    }
}

/// Row action `A`'s route and its router.
pub(crate) fn row_action_router<A: RowAction>() -> (Route, Router<AppContext>) {
    let mounted = Arc::new(Mounted::of::<A::Body>(row_operation::<A>));
    let route = mounted.operation.route.clone();
    let router =
        handlers::mount_action::<A::Resource, _, _>(&route, A::ACCESS, move |request, id, body| {
            let mounted = Arc::clone(&mounted);
            async move {
                let key = handlers::path_key::<<A::Resource as Resource>::Model>(id)?;
                let if_match = super::preconditions::if_match(&request.headers)?;
                let body = mounted.read::<A::Body>(&request.headers, body).await?;
                let mut tx = request.db().begin().await.map_err(ApiError::from)?;
                let current =
                    handlers::fetch_for_update::<A::Resource>(&request, &mut tx, key).await?;
                handlers::check_if_match(if_match.as_ref(), &current)?;
                let row = A::run(&request, &mut tx, current, body)
                    .await
                    .map_err(|error| mounted.documented(error))?;
                let reveal = Reveal::for_caller(<A::Resource as Resource>::SPEC, &request.caller);
                handlers::record_row::<A::Resource>((&mut tx).into(), &request, reveal, &row)
                    .await?;
                let response = handlers::row_response::<A::Resource>(StatusCode::OK, &row, reveal);
                handlers::commit(&request, tx, response).await
            }
        });
    (route, router)
}

/// Collection action `A`'s route and its router.
pub(crate) fn collection_action_router<A: CollectionAction>() -> (Route, Router<AppContext>) {
    let mounted = Arc::new(Mounted::of::<A::Body>(collection_operation::<A>));
    let route = mounted.operation.route.clone();
    let router = handlers::mount_action::<A::Resource, _, _>(
        &route,
        A::ACCESS,
        move |request, _id, body| {
            let mounted = Arc::clone(&mounted);
            async move {
                let body = mounted.read::<A::Body>(&request.headers, body).await?;
                let mut tx = request.db().begin().await.map_err(ApiError::from)?;
                let output = A::run(&request, &mut tx, body)
                    .await
                    .map_err(|error| mounted.documented(error))?;
                let response = handlers::json_response(StatusCode::OK, &output);
                handlers::commit(&request, tx, response).await
            }
        },
    );
    (route, router)
}

/// Adds row action `A`'s operation to `document` (see [`RowAction`]).
pub(crate) fn document_row_action<A: RowAction>(document: &mut Json) {
    let mut named = Schemas::new();
    let body = A::Body::schema(&mut named);
    let operation = row_operation::<A>(body.is_some());
    let spec = <A::Resource as Resource>::SPEC;
    openapi::add_action_operation(document, spec, &operation, body, ActionAnswer::Row, named);
}

/// Adds collection action `A`'s operation to `document` (see
/// [`CollectionAction`]), answering its `Output`.
pub(crate) fn document_collection_action<A: CollectionAction>(document: &mut Json) {
    let mut named = Schemas::new();
    let body = A::Body::schema(&mut named);
    let output = named_schema::<A::Output>(&mut named);
    let operation = collection_operation::<A>(body.is_some());
    let spec = <A::Resource as Resource>::SPEC;
    let answer = ActionAnswer::Output(output);
    openapi::add_action_operation(document, spec, &operation, body, answer, named);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_are_path_segments() {
        for name in ["cancel", "cancel-security", "v2_recompute", "a"] {
            assert!(is_action_name(name), "{name}");
        }
        let too_long = "a".repeat(65);
        for name in [
            "",
            "Cancel",
            "1st",
            "-x",
            "a/b",
            "a b",
            "café",
            too_long.as_str(),
        ] {
            assert!(!is_action_name(name), "{name}");
        }
        assert!(is_history("history"));
        assert!(!is_history("histories") && !is_history("histor"));
    }

    #[test]
    fn deserializer_paths_become_json_pointers() {
        #[derive(Debug, serde::Deserialize)]
        struct Lot {
            #[allow(dead_code)]
            price: u32,
        }
        #[derive(Debug, serde::Deserialize)]
        struct Order {
            #[allow(dead_code)]
            lots: std::collections::BTreeMap<String, Vec<Lot>>,
        }
        let body = serde_json::json!({"lots": {"a/b~c": [{"price": 1}, {"price": "x"}]}});
        let error = serde_path_to_error::deserialize::<_, Order>(body).expect_err("a bad price");
        assert_eq!(pointer(error.path()), "/lots/a~1b~0c/1/price");
    }
}
