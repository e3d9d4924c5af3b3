//! The edge where versions meet: [`VersionEdge`] picks each request's
//! version, makes a request in an older shape the newest before any handler
//! reads it, and makes the answer older again: rows, pages and their links,
//! and the pointers of errors. A request in the newest version passes
//! through untouched, but for the `Api-Version` its answer carries.

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{OriginalUri, Request};
use axum::http::{HeaderValue, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use futures_util::future::{BoxFuture, Either};
use serde_json::{Map, Value as Json};
use tower::Service;

use super::shape::{
    downgrade_pointer, downgrade_query, downgrade_record, downgrade_row, problem_pointers,
    upgrade_body, upgrade_query,
};
use super::{API_VERSION_HEADER, ApiVersion, Edit, Versions};
use crate::caller::Caller;
use crate::rest::{ApiError, PROBLEM_JSON, ResourceSpec};

/// What an operation's answer is, for the edits to find the rows in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// One row of the resource.
    Row,
    /// A page of rows: `results`, and `next`/`previous` links.
    Page,
    /// Change records (`results`: a row's history, a page of the log), in
    /// the terms of the models' fields.
    Records,
    /// The change log's live tail: server-sent events, each a record.
    Stream,
    /// Something else (an action's own output), which no edit reaches.
    Other,
}

/// One operation the edge knows: where it is served, whose bodies it reads
/// and answers.
#[derive(Debug, Clone)]
pub(crate) struct EdgeRoute {
    /// The method.
    pub(crate) method: Method,
    /// The path template, as the document writes it (`/dividends/{id}`).
    pub(crate) template: String,
    /// The resource.
    pub(crate) resource: &'static ResourceSpec,
    /// Whether its request body is the resource's (create, update, patch).
    pub(crate) reads_row: bool,
    /// What it answers.
    pub(crate) answer: Answer,
}

impl EdgeRoute {
    /// Whether `path` is one this route's template matches.
    fn matches(&self, method: &Method, path: &str) -> bool {
        let same_method =
            self.method == method || (self.method == Method::GET && method == Method::HEAD);
        if !same_method {
            return false;
        }
        let mut template = self.template.split('/');
        let mut segments = path.split('/');
        loop {
            match (template.next(), segments.next()) {
                (None, None) => return true,
                (Some(expected), Some(segment)) => {
                    let parameter = expected.starts_with('{') && expected.ends_with('}');
                    if !(expected == segment || (parameter && !segment.is_empty())) {
                        return false;
                    }
                }
                _ => return false,
            }
        }
    }
}

/// What the edge knows of an API: its versions and its operations.
#[derive(Debug)]
pub(crate) struct EdgeTable {
    pub(crate) versions: Versions,
    pub(crate) routes: Vec<EdgeRoute>,
    /// Whether some version adds or removes an endpoint, so that even the
    /// newest version's requests must be matched to their routes: read
    /// once, not per request.
    pub(crate) endpoint_edits: bool,
}

impl EdgeTable {
    fn route(&self, method: &Method, path: &str) -> Option<&EdgeRoute> {
        self.routes.iter().find(|route| route.matches(method, path))
    }

    /// The version `request` is made in: its `Api-Version` header's, else
    /// the one its API token is pinned to, else the newest. An unknown or
    /// malformed version is a 400 listing them.
    fn pick(&self, request: &Request) -> Result<usize, ApiError> {
        let unknown = |source: &str| {
            ApiError::bad_request(format!(
                "unknown API version {source}; this API's versions are {} (newest first)",
                self.versions.dates()
            ))
        };
        if let Some(value) = request.headers().get(API_VERSION_HEADER) {
            let date = value.to_str().unwrap_or_default().trim();
            return self
                .versions
                .position(date)
                .ok_or_else(|| unknown("in `Api-Version`"));
        }
        let pinned = request
            .extensions()
            .get::<Caller>()
            .and_then(Caller::identity)
            .and_then(|identity| identity.api_version.as_deref());
        match pinned {
            Some(date) => self.versions.position(date).ok_or_else(|| {
                unknown("pinned to the token; send `Api-Version`, or make a new token")
            }),
            None => Ok(0),
        }
    }
}

/// The layer around an API's router: see the module's documentation. An
/// API without versions has no table, and its requests pass straight
/// through.
#[derive(Debug, Clone)]
pub(crate) struct VersionEdge<S> {
    inner: S,
    table: Option<Arc<EdgeTable>>,
}

impl<S> VersionEdge<S> {
    pub(crate) fn new(inner: S, table: Option<Arc<EdgeTable>>) -> VersionEdge<S> {
        VersionEdge { inner, table }
    }
}

impl<S> Service<Request> for VersionEdge<S>
where
    S: Service<Request, Response = Response, Error = std::convert::Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = Either<S::Future, BoxFuture<'static, Result<Response, std::convert::Infallible>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let Some(table) = &self.table else {
            return Either::Left(self.inner.call(request));
        };
        let table = Arc::clone(table);
        // The clone that was made ready serves this request.
        let ready = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, ready);
        Either::Right(Box::pin(async move {
            let latest = table.versions.latest().date;
            let position = match table.pick(&request) {
                Ok(position) => position,
                Err(refusal) => return Ok(stamped(refusal.into_response(), latest)),
            };
            let version = &table.versions.all()[position];
            Ok(stamped(
                serve(inner, &table, position, request).await,
                version.date,
            ))
        }))
    }
}

/// Answers `request`, made in version `position`, through `inner`.
async fn serve<S>(
    mut inner: S,
    table: &EdgeTable,
    position: usize,
    mut request: Request,
) -> Response
where
    S: Service<Request, Response = Response, Error = std::convert::Infallible>,
{
    let versions = &table.versions;
    request
        .extensions_mut()
        .insert(ApiVersion(&versions.all()[position]));
    if position == 0 && !table.endpoint_edits {
        return call(&mut inner, request).await;
    }
    let Some(route) = table.route(request.method(), request.uri().path()) else {
        let log = change_log_answer(request.method(), request.uri().path());
        return match log {
            Some(answer) if position > 0 => {
                let edits: Vec<&'static Edit> = versions.downgrades(position).collect();
                let response = call(&mut inner, request).await;
                downgrade(&edits, answer, response).await
            }
            _ => call(&mut inner, request).await,
        };
    };
    if !versions.serves(position, route.method.as_str(), &route.template) {
        return ApiError::NotFound.into_response();
    }
    if route.answer == Answer::Records && position > 0 {
        let edits: Vec<&'static Edit> = versions.downgrades(position).collect();
        let response = call(&mut inner, request).await;
        return downgrade(&edits, Answer::Records, response).await;
    }
    let edits: Vec<&'static Edit> = versions
        .downgrades(position)
        .filter(|edit| {
            edit.resource()
                .is_some_and(|resource| resource.name == route.resource.name)
        })
        .collect();
    if edits.is_empty() {
        return call(&mut inner, request).await;
    }
    let request = match upgrade(&edits, route, request).await {
        Ok(request) => request,
        Err(refusal) => return downgrade_problem(&edits, refusal.into_response()).await,
    };
    let response = call(&mut inner, request).await;
    downgrade(&edits, route.answer, response).await
}

/// What the change log's own endpoints answer: a page of records, or the
/// live tail's stream of them.
fn change_log_answer(method: &Method, path: &str) -> Option<Answer> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    match path {
        crate::changes::LIST_PATH => Some(Answer::Records),
        crate::changes::STREAM_PATH => Some(Answer::Stream),
        _ => None,
    }
}

async fn call<S>(inner: &mut S, request: Request) -> Response
where
    S: Service<Request, Response = Response, Error = std::convert::Infallible>,
{
    match inner.call(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// `response` with the version it was made in, and `Vary: Api-Version` so
/// that caches keep one answer per version.
fn stamped(mut response: Response, date: &'static str) -> Response {
    let headers = response.headers_mut();
    headers.insert(API_VERSION_HEADER, HeaderValue::from_static(date));
    headers.append(header::VARY, HeaderValue::from_static(API_VERSION_HEADER));
    response
}

/// Makes `request` newest: its query, and its body when it is a row of the
/// route's resource. `edits` run newest first; upgrading runs them back.
async fn upgrade(
    edits: &[&Edit],
    route: &EdgeRoute,
    request: Request,
) -> Result<Request, ApiError> {
    let (mut parts, body) = request.into_parts();
    if let Some(query) = parts.uri.query() {
        let mut pairs = query_pairs(query);
        for edit in edits.iter().rev() {
            upgrade_query(edit, &mut pairs)?;
        }
        parts.uri = with_query(&parts.uri, &pairs)?;
        // Handlers read the query (and build page links) from the address
        // the outermost router saw.
        if let Some(original) = parts.extensions.get_mut::<OriginalUri>() {
            original.0 = with_query(&original.0, &pairs)?;
        }
    }
    if !route.reads_row {
        return Ok(Request::from_parts(parts, body));
    }
    let mut object = crate::rest::read_object(&parts.headers, body).await?;
    for edit in edits.iter().rev() {
        upgrade_body(edit, &mut object)?;
    }
    let bytes = serde_json::to_vec(&Json::Object(object)).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// A query's parameters, decoded, in order.
fn query_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

/// `pairs` encoded as a query.
fn encoded(pairs: &[(String, String)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        query.append_pair(name, value);
    }
    query.finish()
}

/// `uri` with its query made of `pairs`.
fn with_query(uri: &Uri, pairs: &[(String, String)]) -> Result<Uri, ApiError> {
    let path_and_query = format!("{}?{}", uri.path(), encoded(pairs));
    let mut builder = Uri::builder();
    if let Some(scheme) = uri.scheme() {
        builder = builder.scheme(scheme.clone());
    }
    if let Some(authority) = uri.authority() {
        builder = builder.authority(authority.clone());
    }
    builder
        .path_and_query(path_and_query)
        .build()
        .map_err(|_| ApiError::bad_request("the request's query cannot be rewritten"))
}

/// Makes `response` older: its rows and links, its records, or its error's
/// pointers.
async fn downgrade(edits: &[&'static Edit], answer: Answer, response: Response) -> Response {
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if content_type == PROBLEM_JSON {
        return downgrade_problem(edits, response).await;
    }
    if answer == Answer::Stream && content_type.starts_with("text/event-stream") {
        return downgrade_stream(edits, response);
    }
    if matches!(answer, Answer::Other | Answer::Stream)
        || !content_type.starts_with("application/json")
    {
        return response;
    }
    rewrite_json(response, |json| match answer {
        Answer::Row => {
            if let Some(row) = json.as_object_mut() {
                downgrade_each(edits, row);
            }
        }
        Answer::Page => {
            for row in json
                .get_mut("results")
                .and_then(Json::as_array_mut)
                .into_iter()
                .flatten()
                .filter_map(Json::as_object_mut)
            {
                downgrade_each(edits, row);
            }
            for link in ["next", "previous"] {
                if let Some(Json::String(address)) = json.get_mut(link) {
                    *address = downgrade_link(edits, address);
                }
            }
        }
        Answer::Records => {
            for record in json
                .get_mut("results")
                .and_then(Json::as_array_mut)
                .into_iter()
                .flatten()
            {
                for edit in edits {
                    downgrade_record(edit, record);
                }
            }
        }
        Answer::Stream | Answer::Other => {}
    })
    .await
}

/// The live tail with each event's record made older. Each event reaches
/// the body as one frame (axum writes an event at a time); a frame that is
/// not text, or a `data:` line that is not a record, passes as it is.
fn downgrade_stream(edits: &[&'static Edit], response: Response) -> Response {
    let edits: Vec<&'static Edit> = edits.to_vec();
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let frames = body.into_data_stream().map(move |frame| {
        frame.map(|bytes| match std::str::from_utf8(&bytes) {
            Ok(text) if text.contains("data:") => {
                axum::body::Bytes::from(downgrade_event(&edits, text))
            }
            _ => bytes,
        })
    });
    Response::from_parts(parts, Body::from_stream(frames))
}

/// An event's text with the record on its `data:` line made older.
fn downgrade_event(edits: &[&Edit], event: &str) -> String {
    event
        .split_inclusive('\n')
        .map(|line| {
            let Some(data) = line.strip_prefix("data:") else {
                return line.to_owned();
            };
            let Ok(mut record) = serde_json::from_str::<Json>(data.trim()) else {
                return line.to_owned();
            };
            for edit in edits {
                downgrade_record(edit, &mut record);
            }
            let ending = if line.ends_with('\n') { "\n" } else { "" };
            format!("data: {record}{ending}")
        })
        .collect()
}

fn downgrade_each(edits: &[&Edit], row: &mut Map<String, Json>) {
    for edit in edits {
        downgrade_row(edit, row);
    }
}

/// A page link whose query names fields as the older version does.
fn downgrade_link(edits: &[&Edit], address: &str) -> String {
    let Some((path, query)) = address.split_once('?') else {
        return address.to_owned();
    };
    let mut pairs = query_pairs(query);
    for edit in edits {
        downgrade_query(edit, &mut pairs);
    }
    format!("{path}?{}", encoded(&pairs))
}

/// A problem whose pointers name fields as the older version does.
async fn downgrade_problem(edits: &[&Edit], response: Response) -> Response {
    rewrite_json(response, |problem| {
        for pointer in problem_pointers(problem) {
            for edit in edits {
                downgrade_pointer(edit, pointer);
            }
        }
    })
    .await
}

/// `response` with its JSON body changed by `change`; a body that is not
/// JSON is left as it is.
async fn rewrite_json(response: Response, change: impl FnOnce(&mut Json)) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return ApiError::internal("a response body could not be read").into_response();
    };
    let Ok(mut json) = serde_json::from_slice::<Json>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    change(&mut json);
    let bytes = serde_json::to_vec(&json).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}
