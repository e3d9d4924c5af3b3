//! The handlers every resource is served with, generic over [`Resource`].

use std::future::Future;

use axum::Router;
use axum::body::Body;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use serde::Serialize;
use serde::ser::Serializer;
use serde_json::json;

use super::Hooks;
use super::error::ApiError;
use super::idempotency::{self, Start};
use super::input::{BODY_LIMIT, Input, parse_text, read_object};
use super::params::{encode_cursor, page_link, parse_list};
use super::preconditions::{self, Comparison, Condition};
use super::routes::{self, Route};
use super::{Action, RequestContext, Resource, Reveal};
use crate::changes::Actor;
use crate::context::AppContext;
use crate::db::{Conn, Tx};
use crate::field::Field;
use crate::model::Model;
use crate::model::query::{Filter, Lookup, Query};
use crate::model::write;
use crate::sensitive::reads;
use crate::value::Value;
use fw_core::access::Access;

/// The router of resource `R`: each route of the table for the actions it
/// offers, with a 405 naming the allowed methods for any other method on its paths.
pub(crate) fn resource_router<R: Resource>() -> Router<AppContext> {
    let spec = R::SPEC;
    let mut router = Router::new();
    for (target, routes) in routes::resource_routes_by_target(spec) {
        let mut methods = None;
        let mut allow = Vec::new();
        for (action, route) in routes {
            // `resource_routes` yields only the actions the spec gives an access.
            let Some(access) = spec.access(*action) else {
                continue;
            };
            methods = Some(mount::<R>(methods, *action, access, route));
            allow.extend(route.methods());
        }
        if let Some(methods) = methods {
            router = router.route(
                &target.path(spec),
                methods.fallback(method_not_allowed(allow)),
            );
        }
    }
    router
}

/// Adds the handler of `action`, served at `route`, to `router`.
fn mount<R: Resource>(
    router: Option<MethodRouter<AppContext>>,
    action: Action,
    access: Access,
    route: &Route,
) -> MethodRouter<AppContext> {
    let method = method_filter(route);
    match action {
        Action::List => add(router, method, access, list::<R>),
        Action::Retrieve => add(router, method, access, retrieve::<R>),
        Action::Create => add(router, method, access, create::<R>),
        Action::Update => add(router, method, access, |request, id, body| {
            update::<R>(request, id, body, false)
        }),
        Action::PartialUpdate => add(router, method, access, |request, id, body| {
            update::<R>(request, id, body, true)
        }),
        Action::Destroy => add(router, method, access, destroy::<R>),
        Action::History => add(router, method, access, history::<R>),
    }
}

/// The filter of `route`'s method (a `GET` filter answers `HEAD` too). The
/// table holds only methods axum filters on.
fn method_filter(route: &Route) -> MethodFilter {
    MethodFilter::try_from(route.method.clone()).unwrap_or(MethodFilter::GET)
}

/// Adds a handler taking `(request, id, body)` for `method`, to callers
/// `access` admits: every resource handler has this one shape, so the wiring,
/// and the permission check that comes before anything else, is in one place.
fn add<F, Fut>(
    router: Option<MethodRouter<AppContext>>,
    method: MethodFilter,
    access: Access,
    handler: F,
) -> MethodRouter<AppContext>
where
    F: Fn(RequestContext, Option<String>, Body) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Response, ApiError>> + Send + 'static,
{
    let handler = move |State(app): State<AppContext>,
                        id: Result<Option<Path<String>>, PathRejection>,
                        request: Request| {
        let handler = handler.clone();
        async move {
            let (mut parts, body) = request.into_parts();
            let outer_actor = parts.extensions.remove::<Actor>();
            let request = RequestContext::from_parts(app, parts);
            // First, so that neither the database nor a stored idempotent
            // answer is reached by a caller the action does not admit.
            if let Err(refused) = request.caller.require(access) {
                return refused.into_response();
            }
            if !accepts_json(&request.headers) {
                return ApiError::NotAcceptable.into_response();
            }
            let id = match path_id(id) {
                Ok(id) => id,
                Err(error) => return error.into_response(),
            };
            match idempotency::key(&request.method, &request.headers) {
                // Boxed, so that the futures around this one, which axum
                // moves and boxes on every request, do not hold the
                // action's state (its database futures, a few KiB).
                Ok(None) => respond(Box::pin(handler(request, id, body)).await),
                Ok(Some(key)) => {
                    let key = key.to_owned();
                    // Whose `Idempotency-Key`s these are: the actor an outer
                    // layer recorded, else the caller's own, so that one
                    // user's key never replays another's answer.
                    let actor = outer_actor
                        .map(|actor| actor.0)
                        .or_else(|| request.caller.actor());
                    // Boxed: the rare path's state would otherwise make every
                    // request's future larger, and axum moves that future
                    // into its own box on every request.
                    Box::pin(run_once(request, actor, key, body, |request, body| {
                        handler(request, id, body)
                    }))
                    .await
                }
                Err(error) => error.into_response(),
            }
        }
    };
    match router {
        Some(router) => router.on(method, handler),
        None => on(method, handler),
    }
}

/// A handler's result as the response it stands for.
fn respond(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

/// Runs a write that sent `Idempotency-Key: key` at most once: the first
/// request with the key runs `handler` and its answer is stored; the same
/// request again gets that answer (see [`idempotency`]).
async fn run_once<Fut>(
    mut request: RequestContext,
    actor: Option<String>,
    key: String,
    body: Body,
    handler: impl FnOnce(RequestContext, Body) -> Fut,
) -> Response
where
    Fut: Future<Output = Result<Response, ApiError>>,
{
    // The body is part of what the key stands for, so it is read first.
    let Ok(body) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return ApiError::PayloadTooLarge { limit: BODY_LIMIT }.into_response();
    };
    let target = request
        .uri
        .path_and_query()
        .map_or_else(|| request.uri.path(), |target| target.as_str());
    let fingerprint = idempotency::fingerprint(&request.method, target, &body);
    let db = request.db().clone();
    let started = idempotency::start(
        &db,
        request.app.config.idempotency_key_ttl,
        actor.as_deref().unwrap_or_default(),
        &key,
        &fingerprint,
    )
    .await;
    match started {
        Ok(Start::Run(claim)) => {
            request.idempotency = Some(claim.clone());
            let response = respond(handler(request, Body::from(body)).await);
            claim.finish(&db, response).await
        }
        Ok(Start::Replay(response)) => response,
        Err(error) => error.into_response(),
    }
}

/// Commits a write's transaction, storing `response` in it as the answer to
/// the request's `Idempotency-Key` when it sent one.
pub(super) async fn commit(
    request: &RequestContext,
    mut tx: Tx,
    response: Response,
) -> Result<Response, ApiError> {
    let response = match &request.idempotency {
        Some(claim) => claim.store_in(&mut tx, response).await?,
        None => response,
    };
    tx.commit().await.map_err(ApiError::from)?;
    Ok(response)
}

fn method_not_allowed(
    allow: Vec<Method>,
) -> impl Fn() -> std::future::Ready<Response> + Clone + Send + Sync + 'static {
    move || {
        std::future::ready(
            ApiError::MethodNotAllowed {
                allow: allow.clone(),
            }
            .into_response(),
        )
    }
}

/// The problem+json 405 of a route that does not list its methods itself (the
/// API's plain handlers, `/openapi.json`, the application's own routes): axum's
/// method router adds the `Allow` header.
pub(crate) async fn unsupported_method() -> Response {
    ApiError::MethodNotAllowed { allow: Vec::new() }.into_response()
}

/// The fallback of a router with resources: a problem+json 404.
pub(crate) async fn not_found() -> Response {
    ApiError::NotFound.into_response()
}

/// Whether `Accept` (absent means anything) admits a JSON response.
fn accepts_json(headers: &HeaderMap) -> bool {
    let Some(accept) = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
    else {
        return true;
    };
    // What clients send most, answered without parsing.
    if matches!(accept, "application/json" | "*/*") {
        return true;
    }
    accept.split(',').any(|range| {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim();
        let refused = parts.any(|parameter| {
            parameter.split_once('=').is_some_and(|(name, value)| {
                name.trim().eq_ignore_ascii_case("q")
                    && value.trim().parse::<f32>().is_ok_and(|q| q == 0.0)
            })
        });
        !refused
            && [
                "*/*",
                "application/*",
                "application/json",
                "application/problem+json",
            ]
            .iter()
            .any(|accepted| media.eq_ignore_ascii_case(accepted))
    })
}

/// `body` as a JSON response. Serialization cannot fail: bodies are made of
/// strings, numbers and the framework's field types, never maps with non-text keys.
pub(super) fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The row's version as a strong entity tag, `"<version>"`, written on the stack.
fn etag<M: Model>(row: &M) -> Option<HeaderValue> {
    use std::io::Write as _;
    let version = row.version()?;
    let mut tag = std::io::Cursor::new([0_u8; 24]);
    write!(tag, "\"{version}\"").ok()?;
    let length = usize::try_from(tag.position()).ok()?;
    HeaderValue::from_bytes(&tag.get_ref()[..length]).ok()
}

/// A row as resource `R` shows it to a caller, serialized straight from the model.
struct Representation<'a, R: Resource>(&'a R::Model, Reveal);

impl<R: Resource> Serialize for Representation<'_, R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        R::serialize_row(self.0, self.1, serializer)
    }
}

/// One page of a list: the links, and the rows as resource `R` shows them.
#[derive(Serialize)]
#[serde(bound = "")]
struct Page<'a, R: Resource> {
    next: Option<String>,
    previous: Option<String>,
    #[serde(serialize_with = "representations::<R, _>")]
    results: (&'a [R::Model], Reveal),
}

fn representations<R: Resource, S: Serializer>(
    (rows, reveal): &(&[R::Model], Reveal),
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(rows.iter().map(|row| Representation::<R>(row, *reveal)))
}

/// A row's representation with its `ETag`.
pub(super) fn row_response<R: Resource>(
    status: StatusCode,
    row: &R::Model,
    reveal: Reveal,
) -> Response {
    let mut response = json_response(status, &Representation::<R>(row, reveal));
    if let Some(etag) = etag(row) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// Records in the read audit that `request` is shown `row`'s sensitive
/// fields that `reveal` shows (see [`reads`]).
pub(super) async fn record_row<R: Resource>(
    conn: Conn<'_>,
    request: &RequestContext,
    reveal: Reveal,
    row: &R::Model,
) -> Result<(), ApiError> {
    let key = row.key().to_value().key_text();
    reads::record(conn, request, R::SPEC, reveal, vec![key]).await
}

/// The `{id}` segment of an item route (`None` on a collection route). One that
/// is not UTF-8 once percent-decoded (`/things/%ff`) cannot name a row, whose
/// keys are numbers or text, so it is a 404 like any other key that names none.
fn path_id(id: Result<Option<Path<String>>, PathRejection>) -> Result<Option<String>, ApiError> {
    match id {
        Ok(id) => Ok(id.map(|Path(id)| id)),
        Err(PathRejection::FailedToDeserializePathParams(error))
            if matches!(error.kind(), ErrorKind::InvalidUtf8InPathParam { .. }) =>
        {
            Err(ApiError::NotFound)
        }
        Err(rejection) => Err(ApiError::internal(rejection)),
    }
}

/// The 304 answering a conditional GET or HEAD: the head of the 200 it stands
/// for (RFC 9110, 15.4.5), with the 200's `Content-Length` rather than the 0 the
/// router would count for the empty body, and without `Content-Type`, as it
/// carries no content.
fn not_modified(ok: Response) -> Response {
    use axum::body::HttpBody as _;
    let (mut head, body) = ok.into_parts();
    head.status = StatusCode::NOT_MODIFIED;
    head.headers.remove(header::CONTENT_TYPE);
    if let Some(length) = body.size_hint().exact() {
        head.headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    Response::from_parts(head, Body::empty())
}

/// The primary key a path segment names; a segment that is not a valid key
/// cannot name a row, so it is a 404.
pub(super) fn path_key<M: Model>(id: Option<String>) -> Result<Value, ApiError> {
    id.and_then(|id| parse_text(M::SCHEMA.primary_key(), &id).ok())
        .ok_or(ApiError::NotFound)
}

fn scoped<R: Resource>(request: &RequestContext) -> Result<Query<R::Model>, ApiError> {
    let query = R::Model::query();
    Ok(match R::scope(request)? {
        Some(scope) => query.filter(scope),
        None => query,
    })
}

/// The row with primary key `key` that the caller may see. An unscoped resource
/// reads it with the model's by-key statement, prepared once per connection; a
/// scoped one through a query that adds the scope.
async fn fetch<'c, R: Resource>(
    request: &RequestContext,
    conn: impl Into<Conn<'c>>,
    key: Value,
) -> Result<R::Model, ApiError> {
    let row = match R::scope(request)? {
        None => write::find_by_key_value::<R::Model>(conn.into(), &key).await,
        Some(scope) => scoped_by_key::<R>(scope, key)?.first(conn).await,
    };
    row.map_err(ApiError::from)?.ok_or(ApiError::NotFound)
}

/// [`fetch`], locking the row until `tx` ends: a write reads the row it checks
/// (`If-Match`, hooks) and changes in one step, so another writer cannot get
/// in between and an unconditional write never fails on a version it did not ask for.
pub(super) async fn fetch_for_update<R: Resource>(
    request: &RequestContext,
    tx: &mut Tx,
    key: Value,
) -> Result<R::Model, ApiError> {
    let row = match R::scope(request)? {
        None => write::find_by_key_value_for_update::<R::Model>(tx, &key).await,
        Some(scope) => scoped_by_key::<R>(scope, key)?.for_update().first(tx).await,
    };
    row.map_err(ApiError::from)?.ok_or(ApiError::NotFound)
}

/// The query for the row with primary key `key` within a resource's `scope`.
fn scoped_by_key<R: Resource>(
    scope: Filter<R::Model>,
    key: Value,
) -> Result<Query<R::Model>, ApiError> {
    let key = Filter::lookup(R::Model::SCHEMA.primary_key(), Lookup::Exact, vec![key])
        .ok_or(ApiError::NotFound)?;
    Ok(R::Model::query().filter(scope).filter(key))
}

fn db_error<R: Resource>(error: crate::Error) -> ApiError {
    ApiError::from_db(error, R::SPEC.model, |name| R::SPEC.api_name(name))
}

/// Refuses a write whose `If-Match` does not name `current`'s version (412).
/// A row without a version matches only `*`.
pub(super) fn check_if_match<M: Model>(
    if_match: Option<&Condition<'_>>,
    current: &M,
) -> Result<(), ApiError> {
    let Some(if_match) = if_match else {
        return Ok(());
    };
    let matched = match current.version() {
        Some(version) => if_match.matches(version, Comparison::Strong),
        None => *if_match == Condition::Any,
    };
    if matched {
        return Ok(());
    }
    Err(ApiError::PreconditionFailed {
        detail: format!(
            "`If-Match` does not name the current version{}; fetch it again and retry",
            current
                .version()
                .map(|version| format!(" (\"{version}\")"))
                .unwrap_or_default()
        ),
    })
}

async fn list<R: Resource>(
    request: RequestContext,
    _id: Option<String>,
    _body: Body,
) -> Result<Response, ApiError> {
    let spec = R::SPEC;
    let params = parse_list::<R::Model>(spec, &request.caller, request.uri.query())?;
    let mut query = scoped::<R>(&request)?;
    for filter in params.filters {
        query = query.filter(filter);
    }
    for order in params.order {
        query = query.order_by(order);
    }
    let backwards = params
        .cursor
        .as_ref()
        .is_some_and(|cursor| cursor.backwards);
    let had_cursor = params.cursor.is_some();
    let page_size = params.page_size as usize;
    let template = query.clone();
    if let Some(cursor) = params.cursor {
        query = query.cursor(cursor);
    }
    let mut rows = query
        .limit(u64::from(params.page_size) + 1)
        .all(request.db())
        .await
        .map_err(ApiError::from)?;
    let more = rows.len() > page_size;
    if more {
        if backwards {
            rows.remove(0);
        } else {
            rows.truncate(page_size);
        }
    }
    let path = request.uri.path();
    let link = |row: &R::Model, backwards: bool| {
        page_link(
            path,
            &params.kept,
            &encode_cursor(&template, &params.ordering, row, backwards),
        )
    };
    let (has_next, has_previous) = if backwards {
        (true, more)
    } else {
        (more, had_cursor)
    };
    let reveal = Reveal::for_caller(spec, &request.caller);
    let keys = rows
        .iter()
        .map(|row| row.key().to_value().key_text())
        .collect();
    reads::record(request.db().into(), &request, spec, reveal, keys).await?;
    let page = Page::<R> {
        next: rows.last().filter(|_| has_next).map(|row| link(row, false)),
        previous: rows
            .first()
            .filter(|_| has_previous)
            .map(|row| link(row, true)),
        results: (&rows, reveal),
    };
    Ok(json_response(StatusCode::OK, &page))
}

async fn retrieve<R: Resource>(
    request: RequestContext,
    id: Option<String>,
    _body: Body,
) -> Result<Response, ApiError> {
    let if_none_match = preconditions::if_none_match(&request.headers)?;
    let row = fetch::<R>(&request, request.db(), path_key::<R::Model>(id)?).await?;
    let reveal = Reveal::for_caller(R::SPEC, &request.caller);
    if let (Some(if_none_match), Some(version)) = (if_none_match, row.version())
        && if_none_match.matches(version, Comparison::Weak)
    {
        return Ok(not_modified(row_response::<R>(
            StatusCode::OK,
            &row,
            reveal,
        )));
    }
    record_row::<R>(request.db().into(), &request, reveal, &row).await?;
    Ok(row_response::<R>(StatusCode::OK, &row, reveal))
}

/// `GET {path}/{id}/history`: the changes of a row the caller may see, oldest
/// first, from the change log.
async fn history<R: Resource>(
    request: RequestContext,
    id: Option<String>,
    _body: Body,
) -> Result<Response, ApiError> {
    let row = fetch::<R>(&request, request.db(), path_key::<R::Model>(id)?).await?;
    let changes = R::Model::history(request.db(), row.key().clone())
        .await
        .map_err(ApiError::from)?;
    Ok(json_response(StatusCode::OK, &json!({"results": changes})))
}

async fn create<R: Resource>(
    request: RequestContext,
    _id: Option<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let object = read_object(&request.headers, body).await?;
    let mut input = Input::new(object, R::SPEC);
    let new = R::create_input(&mut input);
    let (true, Some(mut new)) = (input.finish(), new) else {
        return Err(input.into_error());
    };
    let mut tx = request.db().begin().await.map_err(ApiError::from)?;
    R::Hooks::before_create(&request, &mut tx, &mut new).await?;
    let row = R::Model::insert(&mut tx, new)
        .await
        .map_err(db_error::<R>)?;
    R::Hooks::after_create(&request, &mut tx, &row).await?;
    let reveal = Reveal::for_caller(R::SPEC, &request.caller);
    record_row::<R>((&mut tx).into(), &request, reveal, &row).await?;
    let mut response = row_response::<R>(StatusCode::CREATED, &row, reveal);
    let key = row.key().to_value().to_json();
    let key = key.as_str().map_or_else(|| key.to_string(), str::to_owned);
    let location = format!("{}/{}", request.uri.path().trim_end_matches('/'), key);
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    commit(&request, tx, response).await
}

async fn update<R: Resource>(
    request: RequestContext,
    id: Option<String>,
    body: Body,
    partial: bool,
) -> Result<Response, ApiError> {
    let key = path_key::<R::Model>(id)?;
    let if_match = preconditions::if_match(&request.headers)?;
    let object = read_object(&request.headers, body).await?;
    let mut input = Input::new(object, R::SPEC);
    let patch = R::update_input(&mut input, partial);
    let (true, Some(mut patch)) = (input.finish(), patch) else {
        return Err(input.into_error());
    };
    let mut tx = request.db().begin().await.map_err(ApiError::from)?;
    let current = fetch_for_update::<R>(&request, &mut tx, key).await?;
    check_if_match(if_match.as_ref(), &current)?;
    R::Hooks::before_update(&request, &mut tx, &current, &mut patch).await?;
    let key = current.key().clone();
    let row = match current.version() {
        Some(version) => R::Model::patch_if_version(&mut tx, key, version, patch).await,
        None => R::Model::patch(&mut tx, key, patch).await,
    }
    .map_err(db_error::<R>)?;
    R::Hooks::after_update(&request, &mut tx, &row).await?;
    let reveal = Reveal::for_caller(R::SPEC, &request.caller);
    record_row::<R>((&mut tx).into(), &request, reveal, &row).await?;
    commit(
        &request,
        tx,
        row_response::<R>(StatusCode::OK, &row, reveal),
    )
    .await
}

async fn destroy<R: Resource>(
    request: RequestContext,
    id: Option<String>,
    _body: Body,
) -> Result<Response, ApiError> {
    let key = path_key::<R::Model>(id)?;
    let if_match = preconditions::if_match(&request.headers)?;
    let mut tx = request.db().begin().await.map_err(ApiError::from)?;
    let current = fetch_for_update::<R>(&request, &mut tx, key).await?;
    check_if_match(if_match.as_ref(), &current)?;
    R::Hooks::before_delete(&request, &mut tx, &current).await?;
    R::Model::delete(&mut tx, current.key().clone())
        .await
        .map_err(db_error::<R>)?;
    R::Hooks::after_delete(&request, &mut tx, &current).await?;
    commit(&request, tx, StatusCode::NO_CONTENT.into_response()).await
}

/// The router of a custom action served at `route`, to callers `access`
/// admits: `handler` takes the request, the `{id}` segment (on a row) and the
/// body, as every resource handler does (see `add`).
pub(super) fn mount_action<R, F, Fut>(
    route: &Route,
    access: Access,
    handler: F,
) -> Router<AppContext>
where
    R: Resource,
    F: Fn(RequestContext, Option<String>, Body) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Response, ApiError>> + Send + 'static,
{
    let methods = add(None, method_filter(route), access, handler);
    Router::new().route(
        &route.target.path(R::SPEC),
        methods.fallback(method_not_allowed(route.methods())),
    )
}
