//! The health probes, answered before CORS, authentication and the routes:
//! `GET /health/live` (the process serves) and `GET /health/ready` (it can
//! do its work: the database answers, its migrations are all applied, and
//! the pool has a connection to give).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::Service;

use crate::db::Db;
use crate::migrate::{self, Migrations};
use crate::rest::ApiError;
use crate::settings::edge::{LIVE_PATH, READY_PATH};

/// What the readiness probe checks.
#[derive(Debug)]
pub(crate) struct Readiness {
    pub(crate) db: Db,
    /// The migrations the release needs; `None` for an app with no models
    /// and no migrations, which needs none.
    pub(crate) migrations: Option<Migrations>,
    /// How long the probe waits for the database.
    pub(crate) timeout: Duration,
    /// Set once a probe found every migration applied: this release's
    /// migrations do not change while it runs, and applied ones are never
    /// taken back, so later probes neither parse the files nor read the
    /// history table again.
    pub(crate) migrations_applied: std::sync::OnceLock<()>,
}

impl Readiness {
    /// The first check that fails, as the probe's 503.
    async fn check(&self) -> Result<(), ApiError> {
        let seconds = self.timeout.as_secs_f64();
        match tokio::time::timeout(self.timeout, self.db.ping()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(%error, "not ready: the database does not answer");
                return Err(not_ready(
                    "database",
                    format!("the database does not answer: {error}"),
                ));
            }
            Err(_) if self.db.pool_exhausted() => {
                return Err(not_ready(
                    "pool",
                    format!("every database connection stayed in use for {seconds} s"),
                ));
            }
            Err(_) => {
                return Err(not_ready(
                    "database",
                    format!("the database did not answer within {seconds} s"),
                ));
            }
        }
        let Some(migrations) = &self.migrations else {
            return Ok(());
        };
        if self.migrations_applied.get().is_some() {
            return Ok(());
        }
        let reading = migrate::pending(&self.db, migrations.clone());
        let Ok(pending) = tokio::time::timeout(self.timeout, reading).await else {
            return Err(not_ready(
                "migrations",
                format!("the applied migrations were not read within {seconds} s"),
            ));
        };
        match pending {
            Ok(pending) if pending.is_empty() => {
                let _ = self.migrations_applied.set(());
                Ok(())
            }
            Ok(pending) => Err(not_ready(
                "migrations",
                format!(
                    "the database lacks migrations this release needs: {}; apply them with \
                     `migrate`",
                    pending.join(", ")
                ),
            )),
            Err(error) => Err(not_ready(
                "migrations",
                format!("the applied migrations cannot be read: {error}"),
            )),
        }
    }
}

fn not_ready(check: &'static str, detail: String) -> ApiError {
    ApiError::NotReady { check, detail }
}

/// The body of a passing probe: every check, `ok`.
const READY_BODY: &str =
    r#"{"status":"ready","checks":{"database":"ok","pool":"ok","migrations":"ok"}}"#;

/// The body of the liveness probe.
const LIVE_BODY: &str = r#"{"status":"live"}"#;

/// Answers the health probes; every other request goes to `inner`.
#[derive(Debug, Clone)]
pub(crate) struct Health<S> {
    inner: S,
    readiness: Arc<Readiness>,
}

impl<S> Health<S> {
    pub(crate) fn new(inner: S, readiness: Readiness) -> Health<S> {
        Health {
            inner,
            readiness: Arc::new(readiness),
        }
    }
}

impl<S> Service<Request> for Health<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = HealthFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let path = request.uri().path();
        if path != LIVE_PATH && path != READY_PATH {
            return HealthFuture::Inner {
                future: self.inner.call(request),
            };
        }
        // HEAD as GET: the server sends the head alone.
        if !matches!(*request.method(), Method::GET | Method::HEAD) {
            let refusal = ApiError::MethodNotAllowed {
                allow: vec![Method::GET, Method::HEAD],
            };
            return HealthFuture::Answered {
                response: Some(refusal.into_response()),
            };
        }
        if path == LIVE_PATH {
            return HealthFuture::Answered {
                response: Some(json(StatusCode::OK, LIVE_BODY)),
            };
        }
        let readiness = Arc::clone(&self.readiness);
        HealthFuture::Checking {
            future: Box::pin(async move {
                match readiness.check().await {
                    Ok(()) => json(StatusCode::OK, READY_BODY),
                    Err(error) => error.into_response(),
                }
            }),
        }
    }
}

/// A probe's answer, never stored by a cache.
fn json(status: StatusCode, body: &'static str) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pin_project_lite::pin_project! {
    /// The response of [`Health`]: a probe's, or the route's.
    #[project = HealthProjection]
    pub(crate) enum HealthFuture<F> {
        Answered { response: Option<Response> },
        Checking { future: Pin<Box<dyn Future<Output = Response> + Send>> },
        Inner { #[pin] future: F },
    }
}

impl<F> Future for HealthFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            HealthProjection::Answered { response } => Poll::Ready(Ok(response
                .take()
                .expect("a health future is not polled after it is ready"))),
            HealthProjection::Checking { future } => future.as_mut().poll(cx).map(Ok),
            HealthProjection::Inner { future } => future.poll(cx),
        }
    }
}
