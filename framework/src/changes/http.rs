//! The change log over HTTP: `GET /changes` (cursor pages), `GET /changes/stream`
//! (a live tail as server-sent events), and the middleware that records who made
//! each request's writes.

use std::cell::OnceCell;
use std::convert::Infallible;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::HeaderName;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::{Stream, StreamExt as _, stream};
use fw_core::api::list;
use serde_json::{Value as Json, json};
use tokio::sync::watch;
use tokio::task::futures::TaskLocalFuture;
use tower::Service;

use super::{Actor, Change, Writer, change_schema};
use fw_core::access::{Access, VIEW_CHANGES};

use crate::caller::Caller;
use crate::context::AppContext;
use crate::rest::{Api, ApiError, RequestContext};

/// Changes per page of `GET /changes` when `page_size` is absent (the
/// parameter is DRF's name, as on resources).
const DEFAULT_LIMIT: u32 = 100;
/// The largest `page_size` accepted.
const MAX_LIMIT: u32 = 500;
/// How often the live tail looks for new changes once it has caught up.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Who may read the change log: every model's changes, so none of the
/// models' own permissions, but one of its own.
const READ_CHANGES: Access = Access::Permission(VIEW_CHANGES);

/// The header that carries a request's id, both ways.
pub(crate) static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What the change-log handlers need from the application, which
/// [`App::router`](crate::App::router) hands them when it mounts their routes.
#[derive(Debug, Clone)]
pub(crate) struct ChangeLogState {
    /// The tables of the models that record changes: the accepted `model=` values.
    pub(crate) tables: Arc<[&'static str]>,
    /// Becomes `true` when the server starts shutting down, which ends live tails
    /// (a graceful shutdown waits for every open response).
    pub(crate) shutdown: watch::Receiver<bool>,
    /// The live tails open now, for the metrics.
    pub(crate) tails: LiveTails,
}

/// The live tails open now (`GET /changes/stream`), each by the `seq` of
/// the last change it read: the metrics show how far the slowest is behind
/// the head. Each registers when it opens and is gone when its stream drops;
/// the lock is taken then and at a scrape, never per change.
#[derive(Debug, Clone, Default)]
pub(crate) struct LiveTails(Arc<Mutex<Vec<Weak<AtomicI64>>>>);

impl LiveTails {
    /// Registers a tail starting after `after`; it moves its position on.
    fn open(&self, after: i64) -> Arc<AtomicI64> {
        let position = Arc::new(AtomicI64::new(after));
        let mut tails = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        tails.retain(|tail| tail.strong_count() > 0);
        tails.push(Arc::downgrade(&position));
        position
    }

    /// How many tails are open, and the position of the slowest.
    pub(crate) fn slowest(&self) -> (usize, Option<i64>) {
        let tails = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let positions: Vec<i64> = tails
            .iter()
            .filter_map(Weak::upgrade)
            .map(|position| position.load(Ordering::Relaxed))
            .collect();
        (positions.len(), positions.into_iter().min())
    }
}

/// Documents `GET /changes` and `GET /changes/stream` in `api`'s OpenAPI
/// document, `model=` taking one of `tables`; [`routes`] serves them.
/// Documenting them again replaces the earlier documentation.
pub(crate) fn document(api: Api, tables: &[&'static str]) -> Api {
    let list_tables: Arc<[&'static str]> = tables.into();
    let stream_tables = list_tables.clone();
    api.document_path(super::LIST_PATH, READ_CHANGES, move || {
        list_operation(&list_tables)
    })
    .document_path(super::STREAM_PATH, READ_CHANGES, move || {
        stream_operation(&stream_tables)
    })
}

/// `GET /changes` and `GET /changes/stream`, with the state they need carried
/// by the handlers themselves rather than by a layer every route would pay for.
pub(crate) fn routes(state: ChangeLogState) -> Router<AppContext> {
    let list_state = state.clone();
    Router::new()
        .route(
            super::LIST_PATH,
            get(move |request| list(request, list_state.clone())),
        )
        .route(
            super::STREAM_PATH,
            get(move |request| live_tail(request, state.clone())),
        )
}

/// The query parameters both endpoints share.
struct Params {
    after: i64,
    model: Option<String>,
    limit: Option<u32>,
}

fn parse_params(
    query: Option<&str>,
    state: &ChangeLogState,
    accepted: &[&str],
) -> Result<Params, ApiError> {
    let mut params = Params {
        after: 0,
        model: None,
        limit: None,
    };
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if !accepted.contains(&name.as_ref()) {
            return Err(ApiError::bad_request(format!(
                "unknown query parameter `{name}`; expected {}",
                one_of(accepted)
            )));
        }
        if seen.iter().any(|seen| *seen == name) {
            return Err(ApiError::bad_request(format!(
                "query parameter `{name}` is given more than once; give it once"
            )));
        }
        seen.push(name.clone().into_owned());
        match name.as_ref() {
            "after" => params.after = parse_sequence("after", &value)?,
            "model" => {
                if !state.tables.contains(&value.as_ref()) {
                    return Err(ApiError::bad_request(format!(
                        "`model={value}` is not a model that records changes; expected {}",
                        one_of(&state.tables)
                    )));
                }
                params.model = Some(value.into_owned());
            }
            _ => {
                params.limit = Some(
                    crate::value::parse_integer(&value)
                        .filter(|limit| (list::MIN_PAGE_SIZE..=MAX_LIMIT).contains(limit))
                        .ok_or_else(|| {
                            ApiError::bad_request(format!(
                                "`{}={value}` is not a whole number from {} to {MAX_LIMIT}",
                                list::PAGE_SIZE,
                                list::MIN_PAGE_SIZE
                            ))
                        })?,
                );
            }
        }
    }
    Ok(params)
}

fn parse_sequence(name: &str, value: &str) -> Result<i64, ApiError> {
    crate::value::parse_integer(value)
        .filter(|seq| *seq >= 0)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "`{name}` must be a sequence number (the `seq` of the last change seen, 0 \
                 for the start of the log), not `{value}`"
            ))
        })
}

fn one_of(names: &[&str]) -> String {
    let names: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match names.as_slice() {
        [] => "none: no registered model records changes".to_owned(),
        [only] => only.clone(),
        [first @ .., last] => format!("one of {}, {last}", first.join(", ")),
    }
}

/// `GET /changes?after=<seq>&model=<table>&page_size=<n>`: the changes after `seq`,
/// oldest first; `next` is the address of the following page, `null` at the
/// end of the log (poll again with the last `seq` seen).
async fn list(request: RequestContext, state: ChangeLogState) -> Result<Response, ApiError> {
    request.caller.require(READ_CHANGES)?;
    let params = parse_params(
        request.uri.query(),
        &state,
        &["after", "model", list::PAGE_SIZE],
    )?;
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    let mut query = super::after(params.after).limit(limit + 1);
    if let Some(model) = &params.model {
        query = query.model(model.clone());
    }
    let mut changes = query.fetch(request.db()).await.map_err(ApiError::from)?;
    let more = changes.len() > limit as usize;
    changes.truncate(limit as usize);
    let next = match changes.last() {
        Some(last) if more => {
            let mut query = form_urlencoded::Serializer::new(String::new());
            query.append_pair("after", &last.seq.to_string());
            if let Some(model) = &params.model {
                query.append_pair("model", model);
            }
            if let Some(limit) = params.limit {
                query.append_pair(list::PAGE_SIZE, &limit.to_string());
            }
            Json::String(format!("{}?{}", request.uri.path(), query.finish()))
        }
        _ => Json::Null,
    };
    Ok(axum::Json(json!({"next": next, "results": changes})).into_response())
}

/// `GET /changes/stream?after=<seq>&model=<table>`: every change after `seq`, then
/// each new one as it commits, as server-sent events whose id is the change's
/// `seq`. A reconnecting client's `Last-Event-ID` wins over `after`, so an
/// `EventSource` resumes where it stopped.
async fn live_tail(request: RequestContext, state: ChangeLogState) -> Result<Response, ApiError> {
    request.caller.require(READ_CHANGES)?;
    let params = parse_params(request.uri.query(), &state, &["after", "model"])?;
    let after = match request.header("last-event-id") {
        Some(last_event_id) => parse_sequence("Last-Event-ID", last_event_id.trim())?,
        None => params.after,
    };
    let mut query = super::after(after);
    if let Some(model) = params.model {
        query = query.model(model);
    }
    let position = state.tails.open(after);
    let events = events(query.follow(request.db().clone(), POLL_INTERVAL), position);
    let mut shutdown = state.shutdown;
    let shutdown = async move {
        // A dropped sender (an application built only for its router) never
        // shuts down.
        if shutdown.wait_for(|stopping| *stopping).await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    Ok(Sse::new(events.take_until(shutdown))
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// One event per change; the stream ends at the first database error (logged),
/// and the client reconnects with `Last-Event-ID`. Each page moves the tail's
/// `position` to its last change.
fn events(
    pages: impl Stream<Item = crate::Result<Vec<Change>>> + Send + 'static,
    position: Arc<AtomicI64>,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    pages
        .map(move |page| {
            if let Ok(Some(last)) = page.as_ref().map(|page| page.last()) {
                position.store(last.seq, Ordering::Relaxed);
            }
            page.map_err(|error| tracing::error!(%error, "the change log's live tail failed"))
        })
        .take_while(|page| std::future::ready(page.is_ok()))
        .flat_map(|page| stream::iter(page.unwrap_or_default()))
        .map(|change| {
            let event = Event::default().id(change.seq.to_string());
            Ok(event
                .json_data(&change)
                .unwrap_or_else(|_| Event::default().id(change.seq.to_string())))
        })
}

/// The request scope [`App::service`](crate::App) wraps the router in: it
/// runs each request with its actor (an [`Actor`] in its extensions, else the
/// [`Caller`]'s a test or an outer layer put there, or the one fw's
/// authentication, inside the scope, names; none for anonymous requests) and
/// its request id, so every change it makes records both. The id is the
/// request's `x-request-id`, which the perimeter's outermost layer checked
/// or made (see [`changes`](super)).
///
/// A plain tower service rather than `axum::middleware::from_fn`, which boxes the
/// inner service and its future on every request.
#[derive(Debug, Clone)]
pub(crate) struct RecordActor<S> {
    inner: S,
}

impl<S> RecordActor<S> {
    pub(crate) fn new(inner: S) -> RecordActor<S> {
        RecordActor { inner }
    }
}

impl<S> Service<Request> for RecordActor<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = TaskLocalFuture<super::WriteContext, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let request_id = request
            .headers()
            .get(&REQUEST_ID)
            .and_then(|id| id.to_str().ok())
            .map(str::to_owned);
        let extensions = request.extensions();
        let context = super::WriteContext {
            // An explicit `Actor` wins; else the authenticated caller's.
            writer: match (extensions.get::<Actor>(), extensions.get::<Caller>()) {
                (Some(actor), _) => OnceCell::from(Writer::Named(actor.0.clone())),
                (None, Some(Caller::User(identity))) => {
                    OnceCell::from(Writer::Identified(identity.clone()))
                }
                (None, Some(Caller::Anonymous) | None) => OnceCell::new(),
            },
            request_id,
        };
        super::CONTEXT.scope(context, self.inner.call(request))
    }
}

fn parameter(name: &str, location: &str, description: &str, schema: Json) -> Json {
    json!({"name": name, "in": location, "required": false, "description": description, "schema": schema})
}

fn after_parameter() -> Json {
    parameter(
        "after",
        "query",
        "Only changes after this sequence number (the `seq` of the last change seen); 0 for the start of the log.",
        json!({"type": "integer", "format": "int64", "minimum": 0, "default": 0}),
    )
}

fn model_parameter(tables: &[&'static str]) -> Json {
    parameter(
        "model",
        "query",
        "Only changes of the model with this table name.",
        json!({"type": "string", "enum": tables}),
    )
}

fn bad_request() -> Json {
    json!({"$ref": "#/components/responses/400"})
}

fn list_operation(tables: &[&'static str]) -> Json {
    json!({"get": {
        "operationId": "changes_list",
        "tags": ["changes"],
        "summary": "The change log after a sequence number, oldest first.",
        "parameters": [
            after_parameter(),
            model_parameter(tables),
            parameter(
                list::PAGE_SIZE,
                "query",
                "Changes per page.",
                json!({"type": "integer", "format": "int32", "minimum": list::MIN_PAGE_SIZE, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}),
            ),
        ],
        "responses": {
            "200": {
                "description": "A page of changes; `next` is the following page, `null` at the end of the log.",
                "content": {"application/json": {"schema": {
                    "type": "object",
                    "required": ["next", "results"],
                    "properties": {
                        "next": {"type": ["string", "null"]},
                        "results": {"type": "array", "items": change_schema()},
                    },
                }}},
            },
            "400": bad_request(),
            "503": crate::openapi::unavailable_response(),
        },
    }})
}

fn stream_operation(tables: &[&'static str]) -> Json {
    json!({"get": {
        "operationId": "changes_stream",
        "tags": ["changes"],
        "summary": "The live tail of the change log, as server-sent events.",
        "description": "Every change after `after` (or the `Last-Event-ID` header, which wins), then each new change as it commits. Each event's `id` is the change's `seq` and its `data` the change as JSON.",
        "parameters": [
            after_parameter(),
            model_parameter(tables),
            parameter(
                "Last-Event-ID",
                "header",
                "The `seq` of the last change seen; sent by a reconnecting `EventSource`.",
                json!({"type": "integer", "format": "int64", "minimum": 0}),
            ),
        ],
        "responses": {
            "200": {
                "description": "A stream of events, one per change.",
                "content": {"text/event-stream": {"schema": {"type": "string", "description": "Events whose `data` is a change of `GET /changes`."}}},
            },
            "400": bad_request(),
        },
    }})
}
