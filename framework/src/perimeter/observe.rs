//! The outermost layer: every request's id, made here when the client sent
//! none (see [`changes`](crate::changes#who-made-a-change)), and once its
//! response is ready, its access-log line and its [metrics](super::metrics)
//! (see [the observability guide](crate::docs::observability)).
//!
//! A plain tower service, as the layers inside it are: nothing is boxed per
//! request, and the line is one `tracing` event whose fields are values the
//! request has already (no text is formatted unless a subscriber writes it).
//!
//! # The route template
//!
//! The router puts the template it matched (axum's [`MatchedPath`]) in the
//! request's extensions, which the outer layers never see again. A small
//! layer on every route ([`LabelRoutes`], through `Router::route_layer`)
//! copies it onto the response, where [`Observe`] reads it. That costs what
//! any route layer costs in axum (the route's boxed service and future are
//! wrapped once more: one more clone of a boxed service and one more boxed
//! future per request, no lock), and it is the one way that sees every
//! route: fw's resources, its own endpoints and the application's routes
//! alike. The template's text is made once per route, not per request.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::HttpBody as _;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Method};
use axum::response::Response;
use tower::{Layer, Service};

use super::metrics::{InFlight, record_request};
use crate::caller::{Caller, Credential};
use crate::changes::REQUEST_ID;
use crate::settings::edge::{LIVE_PATH, READY_PATH};
use crate::settings::observe::{AccessLog, ObserveConfig};

/// The longest `x-request-id` kept as sent; a longer one is replaced.
const MAX_REQUEST_ID: usize = 200;

/// The route of a request no route matched: one value, whatever the path,
/// so that scanners cannot grow the metrics without bound.
const UNMATCHED: &str = "unmatched";

/// The health probes' paths, answered before the router: their lines are
/// logged at `DEBUG` (a probe every few seconds would drown the log), and
/// each path is its own route.
const HEALTH_PATHS: [&str; 2] = [LIVE_PATH, READY_PATH];

/// The target of access-log lines, for filters (`FW_LOG=fw::access=warn`).
pub(crate) const ACCESS_TARGET: &str = "fw::access";

/// Gives every request an id, echoed on its response: the client's
/// `x-request-id` when it is 1 to [`MAX_REQUEST_ID`] visible ASCII
/// characters, else a new UUIDv7 put on the request in its place, where the
/// change log's request scope reads it. Once the response is ready, logs the
/// request's access-log line.
#[derive(Debug, Clone)]
pub(crate) struct Observe<S> {
    inner: S,
    access_log: AccessLog,
}

impl<S> Observe<S> {
    pub(crate) fn new(inner: S, config: &ObserveConfig) -> Observe<S> {
        Observe {
            inner,
            access_log: config.access_log,
        }
    }
}

impl<S> Service<Request> for Observe<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Finishing<S::Future, Observed>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let in_flight = InFlight::start();
        let started = Instant::now();
        let request_id = match request.headers().get(&REQUEST_ID) {
            Some(sent) if is_request_id(sent) => sent.clone(),
            _ => {
                let made = new_request_id();
                request
                    .headers_mut()
                    .insert(REQUEST_ID.clone(), made.clone());
                made
            }
        };
        let path = request.uri().path();
        let probe = HEALTH_PATHS.into_iter().find(|probe| *probe == path);
        let level = match (self.access_log, probe) {
            (AccessLog::Off, _) => AccessLog::Off,
            (_, Some(_)) => AccessLog::Debug,
            (level, None) => level,
        };
        let observed = Observed {
            in_flight,
            started,
            method: request.method().clone(),
            request_id,
            probe,
            level,
        };
        Finishing {
            inner: self.inner.call(request),
            finish: Some(observed),
        }
    }
}

/// What [`Observe`] knows of a request before its response.
pub(crate) struct Observed {
    /// Counts the request in flight until the response is ready or the
    /// request is abandoned.
    in_flight: InFlight,
    started: Instant,
    method: Method,
    request_id: HeaderValue,
    /// The health probe's path, when the request is one.
    probe: Option<&'static str>,
    level: AccessLog,
}

impl Finish for Observed {
    /// Logs the request's line, and gives `response` its request id.
    fn finish(self, response: &mut Response) {
        let route = match response.extensions_mut().remove::<RouteTemplate>() {
            Some(template) => Route::Template(template),
            None => Route::Fixed(self.probe.unwrap_or(UNMATCHED)),
        };
        let latency = self.started.elapsed();
        let identity = response
            .extensions()
            .get::<Caller>()
            .and_then(Caller::identity);
        let line = AccessLine {
            method: &self.method,
            route: route.as_str(),
            status: response.status().as_u16(),
            latency_ms: latency.as_secs_f64() * 1000.0,
            bytes: response.body().size_hint().exact(),
            request_id: self.request_id.to_str().unwrap_or_default(),
            user: identity.map(|identity| identity.username.as_str()),
            token: identity.and_then(|identity| match identity.credential {
                Credential::Token { id } => Some(id),
                Credential::Session { .. } => None,
            }),
        };
        match self.level {
            AccessLog::Info => line.log_info(),
            AccessLog::Debug => line.log_debug(),
            AccessLog::Off => {}
        }
        let status = response.status();
        record_request(&self.method, route.into_label(), status, latency);
        drop(self.in_flight);
        response
            .headers_mut()
            .insert(REQUEST_ID.clone(), self.request_id);
    }
}

/// The route a request is counted and logged under.
enum Route {
    Template(RouteTemplate),
    Fixed(&'static str),
}

impl Route {
    fn as_str(&self) -> &str {
        match self {
            Route::Template(template) => template.as_str(),
            Route::Fixed(fixed) => fixed,
        }
    }

    /// The metrics' label: the template's text shared, not copied.
    fn into_label(self) -> metrics::SharedString {
        match self {
            Route::Template(template) => metrics::SharedString::from_shared(template.0),
            Route::Fixed(fixed) => metrics::SharedString::const_str(fixed),
        }
    }
}

/// One request's access-log line: never a header's value nor the query
/// string, which carry credentials and personal data.
struct AccessLine<'a> {
    method: &'a Method,
    route: &'a str,
    status: u16,
    latency_ms: f64,
    /// The body's length when known before it is sent (not for a stream).
    bytes: Option<u64>,
    request_id: &'a str,
    /// The authenticated user's username.
    user: Option<&'a str>,
    /// The id (never the secret) of the API token the request came with.
    token: Option<i64>,
}

/// The event of an [`AccessLine`] at `$level` (a `tracing` event's level is
/// part of its static call site).
macro_rules! access_event {
    ($level:expr, $line:expr) => {
        tracing::event!(
            target: ACCESS_TARGET,
            $level,
            method = %$line.method,
            route = $line.route,
            status = $line.status,
            latency_ms = $line.latency_ms,
            bytes = $line.bytes,
            request_id = $line.request_id,
            user = $line.user,
            token = $line.token,
            "request"
        )
    };
}

impl AccessLine<'_> {
    fn log_info(&self) {
        access_event!(tracing::Level::INFO, self);
    }

    fn log_debug(&self) {
        access_event!(tracing::Level::DEBUG, self);
    }
}

/// Whether `sent` is kept as the request's id.
fn is_request_id(sent: &HeaderValue) -> bool {
    !sent.is_empty() && sent.len() <= MAX_REQUEST_ID && sent.to_str().is_ok()
}

/// A new request id: a UUIDv7, so ids sort by time.
fn new_request_id() -> HeaderValue {
    let mut text = uuid::Uuid::encode_buffer();
    let text = uuid::Uuid::now_v7().hyphenated().encode_lower(&mut text);
    // A UUID's text is always a valid header value.
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("-"))
}

/// What a layer does to its inner service's response once it is ready.
pub(crate) trait Finish {
    fn finish(self, response: &mut Response);
}

pin_project_lite::pin_project! {
    /// The inner service's response, finished by `finish` when it is ready:
    /// the future of [`Observe`] (the request id and the access-log line) and
    /// of [`LabelRoute`] (the route's template).
    pub(crate) struct Finishing<F, T> {
        #[pin]
        inner: F,
        finish: Option<T>,
    }
}

impl<F, E, T> Future for Finishing<F, T>
where
    F: Future<Output = Result<Response, E>>,
    T: Finish,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = std::task::ready!(this.inner.poll(cx))?;
        if let Some(finish) = this.finish.take() {
            finish.finish(&mut response);
        }
        Poll::Ready(Ok(response))
    }
}

/// The template of the route that answered a request (`/dividends/{id}`),
/// in its response's extensions; none when no route matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RouteTemplate(Arc<str>);

impl RouteTemplate {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl Finish for RouteTemplate {
    fn finish(self, response: &mut Response) {
        response.extensions_mut().insert(self);
    }
}

/// Puts each route's [`RouteTemplate`] on its responses: for
/// `Router::route_layer`, after every route is added.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LabelRoutes;

impl<S> Layer<S> for LabelRoutes {
    type Service = LabelRoute<S>;

    fn layer(&self, inner: S) -> LabelRoute<S> {
        LabelRoute {
            inner,
            template: Arc::new(OnceLock::new()),
        }
    }
}

/// One route (one path's one method), labelling its responses.
#[derive(Debug, Clone)]
pub(crate) struct LabelRoute<S> {
    inner: S,
    /// The route's template, made on its first request and shared by the
    /// clones axum makes per request.
    template: Arc<OnceLock<RouteTemplate>>,
}

impl<S> LabelRoute<S> {
    /// The template `matched`, as made before when it is the same one.
    fn template(&self, matched: &MatchedPath) -> RouteTemplate {
        match self.template.get() {
            Some(template) if template.as_str() == matched.as_str() => template.clone(),
            // The first request, or a router nested elsewhere since.
            _ => {
                let template = RouteTemplate(matched.as_str().into());
                let _ = self.template.set(template.clone());
                template
            }
        }
    }
}

impl<S> Service<Request> for LabelRoute<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Finishing<S::Future, RouteTemplate>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let template = request
            .extensions()
            .get::<MatchedPath>()
            .map(|matched| self.template(matched));
        Finishing {
            inner: self.inner.call(request),
            finish: template,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client's id is kept when it is 1 to 200 visible ASCII characters;
    /// a made one is a UUIDv7.
    #[test]
    fn request_ids_are_kept_or_made() {
        for kept in ["req-1", "a b", &"r".repeat(MAX_REQUEST_ID)] {
            assert!(
                is_request_id(&HeaderValue::from_str(kept).unwrap()),
                "{kept}"
            );
        }
        let too_long = "r".repeat(MAX_REQUEST_ID + 1);
        for replaced in [
            HeaderValue::from_static(""),
            HeaderValue::from_str(&too_long).unwrap(),
            HeaderValue::from_bytes("é".as_bytes()).unwrap(),
        ] {
            assert!(!is_request_id(&replaced), "{replaced:?}");
        }
        let made = new_request_id();
        let made = uuid::Uuid::parse_str(made.to_str().unwrap()).unwrap();
        assert_eq!(made.get_version_num(), 7);
    }

    /// A matched route's response carries its template, made once; an
    /// unmatched request's carries none.
    #[tokio::test]
    async fn responses_carry_their_route_s_template() {
        use tower::ServiceExt as _;
        let router = axum::Router::new()
            .route("/items/{id}", axum::routing::get(|| async { "item" }))
            .route_layer(LabelRoutes)
            .with_state(());
        let template = |path: &'static str| {
            let router = router.clone();
            async move {
                let request = Request::get(path).body(axum::body::Body::empty()).unwrap();
                let response = router.oneshot(request).await.unwrap();
                response.extensions().get::<RouteTemplate>().cloned()
            }
        };
        let first = template("/items/7").await.expect("matched");
        assert_eq!(first.as_str(), "/items/{id}");
        let second = template("/items/8").await.expect("matched");
        assert!(Arc::ptr_eq(&first.0, &second.0), "made once");
        assert_eq!(template("/nothing").await, None);
    }
}
