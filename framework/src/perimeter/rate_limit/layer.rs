//! The rate-limit layer: each request's group and caller, its budget
//! checked in this process or in Redis, a 429 when it is spent, and the
//! `RateLimit` headers on every limited response.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use tower::Service;

use super::gcra::{LocalTable, Outcome, Quota};
use super::shared::SharedStore;
use crate::caller::{Caller, Credential};
use crate::client::{AddressKey, ClientAddr};
use crate::rest::ApiError;
use crate::settings::rate_limits::{GroupSpec, READS, Rate, RateLimits, WRITES};

/// The most callers remembered in this process, over all groups: about
/// 5 MB at most. Past it, the callers whose budget is nearest to whole are
/// forgotten (see [`LocalTable`]).
pub(crate) const MAX_CALLERS: usize = 100_000;

/// `RateLimit-Policy`: each group's quota (draft-ietf-httpapi-ratelimit-headers).
const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
/// `RateLimit`: what is left of the caller's quota.
const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// Whose budget a request spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum CallerKey {
    /// An API token's own.
    Token(i64),
    /// A user signed in with a browser session.
    User(i64),
    /// An anonymous caller's address.
    Address(AddressKey),
}

impl CallerKey {
    /// The caller of `request`: its token or user once authenticated, else
    /// its address; `None` for an anonymous request with no address (one
    /// that did not come through `serve`, as in a test).
    fn of(request: &Request) -> Option<CallerKey> {
        if let Some(Caller::User(identity)) = request.extensions().get::<Caller>() {
            return Some(match identity.credential {
                Credential::Token { id } => CallerKey::Token(id),
                Credential::Session { .. } => CallerKey::User(identity.user_id),
            });
        }
        let ClientAddr(address) = request.extensions().get::<ClientAddr>()?;
        Some(CallerKey::Address((*address).into()))
    }
}

impl fmt::Display for CallerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallerKey::Token(id) => write!(f, "token:{id}"),
            CallerKey::User(id) => write!(f, "user:{id}"),
            CallerKey::Address(address) => write!(f, "address:{address}"),
        }
    }
}

/// A group with a limit.
#[derive(Debug)]
struct Group {
    name: &'static str,
    rate: Rate,
    quota: Quota,
    /// Its `RateLimit-Policy` value, the same on every response.
    policy: HeaderValue,
}

/// Which group a request counts against, and every caller's budget: the
/// state of one server's rate limiting.
#[derive(Debug)]
pub(crate) struct Limiter {
    /// The application's name, in Redis keys.
    app: &'static str,
    groups: Vec<Group>,
    reads: Option<usize>,
    writes: Option<usize>,
    /// The application's groups, longest prefix first, with their index in
    /// `groups`; `None` for a group configured `off`.
    named: Vec<(GroupSpec, Option<usize>)>,
    local: LocalTable<(usize, CallerKey)>,
    shared: Option<SharedStore>,
    /// Time zero of this process's microseconds.
    epoch: Instant,
}

impl Limiter {
    /// The limiter of application `app` with `limits` and its own `named`
    /// groups; `None` when rate limiting is off.
    pub(crate) fn new(
        app: &'static str,
        limits: &RateLimits,
        named: &[GroupSpec],
    ) -> Option<Arc<Limiter>> {
        if !limits.enabled {
            return None;
        }
        let mut groups = Vec::new();
        let mut add = |name: &'static str, rate: Option<Rate>| {
            rate.map(|rate| {
                let policy = format!(
                    "\"{name}\";q={};w={}",
                    rate.count(),
                    rate.period().as_secs()
                );
                groups.push(Group {
                    name,
                    rate,
                    quota: Quota::from(rate),
                    policy: HeaderValue::try_from(policy).expect("a group name is a token"),
                });
                groups.len() - 1
            })
        };
        let reads = add(READS, limits.reads);
        let writes = add(WRITES, limits.writes);
        let mut named: Vec<(GroupSpec, Option<usize>)> = named
            .iter()
            .map(|spec| {
                let rate = limits
                    .groups
                    .get(spec.name)
                    .copied()
                    .unwrap_or(Some(spec.rate));
                (*spec, add(spec.name, rate))
            })
            .collect();
        named.sort_by_key(|(spec, _)| std::cmp::Reverse(spec.prefix.len()));
        let shared = limits.redis.as_ref().and_then(|settings| {
            SharedStore::new(settings)
                .inspect_err(|error| {
                    tracing::error!(%error, "FW_REDIS_URL cannot be used: rate limits are per instance");
                })
                .ok()
        });
        Some(Arc::new(Limiter {
            app,
            groups,
            reads,
            writes,
            named,
            local: LocalTable::new(MAX_CALLERS),
            shared,
            epoch: Instant::now(),
        }))
    }

    /// The group `request` counts against and its caller; `None` when it is
    /// not limited.
    fn classify(&self, request: &Request) -> Option<(usize, CallerKey)> {
        let path = request.uri().path();
        let group = match self.named.iter().find(|(spec, _)| spec.takes(path)) {
            Some((_, group)) => *group,
            None if matches!(*request.method(), Method::GET | Method::HEAD) => self.reads,
            None => self.writes,
        }?;
        Some((group, CallerKey::of(request)?))
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    /// Spends one request of `caller`'s budget in `group`: in Redis when it
    /// is configured and answers, else in this process.
    async fn check(&self, group: usize, caller: CallerKey) -> Outcome {
        let quota = self.groups[group].quota;
        let now = self.now();
        if let Some(shared) = &self.shared {
            let key = format!("{}:rate:{}:{caller}", self.app, self.groups[group].name);
            if let Some(outcome) = shared.check(&key, quota, now).await {
                return outcome;
            }
        }
        self.local.check((group, caller), quota, now)
    }

    /// The `RateLimit-Policy` and `RateLimit` headers of `outcome` in `group`.
    fn headers(&self, group: usize, outcome: Outcome) -> [(HeaderName, HeaderValue); 2] {
        let group = &self.groups[group];
        let seconds = match outcome {
            Outcome::Allowed { backlog } => backlog.div_ceil(1_000_000),
            Outcome::Refused { wait } => retry_after(wait),
        };
        let remaining = group.quota.remaining(outcome);
        let limit = format!("\"{}\";r={remaining};t={seconds}", group.name);
        [
            (RATELIMIT_POLICY, group.policy.clone()),
            (
                RATELIMIT,
                HeaderValue::try_from(limit).expect("a group name is a token"),
            ),
        ]
    }

    /// The 429 of a request refused until `wait` µs from now.
    fn refusal(&self, group: usize, caller: CallerKey, wait: u64) -> Response {
        let limited = &self.groups[group];
        let retry_after = retry_after(wait);
        tracing::info!(
            group = limited.name,
            %caller,
            retry_after,
            request_id = crate::changes::current_request_id(),
            "rate limited"
        );
        let mut response = ApiError::RateLimited {
            group: limited.name,
            rate: limited.rate,
            retry_after,
        }
        .into_response();
        response
            .headers_mut()
            .extend(self.headers(group, Outcome::Refused { wait }));
        response
    }
}

/// Whole seconds until a refused caller may retry: at least one.
fn retry_after(wait: u64) -> u64 {
    wait.div_ceil(1_000_000).max(1)
}

/// Limits each request by its group and caller (see
/// [`rate_limit`](super)), inside authentication so that the caller is
/// known. A request limited in this process costs a lock and two header
/// values, and no boxed future; one limited through Redis, a boxed future.
#[derive(Debug, Clone)]
pub(crate) struct RateLimit<S> {
    inner: S,
    /// `None` when rate limiting is off.
    limiter: Option<Arc<Limiter>>,
}

impl<S> RateLimit<S> {
    pub(crate) fn new(inner: S, limiter: Option<Arc<Limiter>>) -> RateLimit<S> {
        RateLimit { inner, limiter }
    }
}

impl<S> Service<Request> for RateLimit<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = RateLimitFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let Some((limiter, (group, caller))) = self
            .limiter
            .as_ref()
            .and_then(|limiter| Some((limiter, limiter.classify(&request)?)))
        else {
            return RateLimitFuture::Inner {
                future: self.inner.call(request),
                headers: None,
            };
        };
        if limiter.shared.is_none() {
            let outcome =
                limiter
                    .local
                    .check((group, caller), limiter.groups[group].quota, limiter.now());
            return match outcome {
                Outcome::Allowed { .. } => RateLimitFuture::Inner {
                    future: self.inner.call(request),
                    headers: Some(limiter.headers(group, outcome)),
                },
                Outcome::Refused { wait } => RateLimitFuture::Refused {
                    refusal: Some((limiter.clone(), group, caller, wait)),
                },
            };
        }
        // The service that was made ready runs the request; a clone stays
        // for the next one (tower's rule for services called from a future).
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let limiter = limiter.clone();
        RateLimitFuture::Shared {
            future: Box::pin(async move {
                let outcome = limiter.check(group, caller).await;
                if let Outcome::Refused { wait } = outcome {
                    return Ok(limiter.refusal(group, caller, wait));
                }
                let mut response = inner.call(request).await?;
                response
                    .headers_mut()
                    .extend(limiter.headers(group, outcome));
                Ok(response)
            }),
        }
    }
}

/// What a refusal is answered from, when its future is polled: inside the
/// request's scope, so the 429 and its log line carry the request id.
type Refusal = (Arc<Limiter>, usize, CallerKey, u64);

pin_project_lite::pin_project! {
    /// The response of [`RateLimit`]: the route's own (with the
    /// `RateLimit` headers when limited), a 429, or a check in Redis
    /// followed by either.
    #[project = RateLimitProjection]
    pub(crate) enum RateLimitFuture<F> {
        Inner { #[pin] future: F, headers: Option<[(HeaderName, HeaderValue); 2]> },
        Refused { refusal: Option<Refusal> },
        Shared { future: Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>> },
    }
}

impl<F> Future for RateLimitFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            RateLimitProjection::Inner { future, headers } => {
                let Ok(mut response) = std::task::ready!(future.poll(cx));
                if let Some(headers) = headers.take() {
                    response.headers_mut().extend(headers);
                }
                Poll::Ready(Ok(response))
            }
            RateLimitProjection::Refused { refusal } => Poll::Ready(Ok(match refusal.take() {
                Some((limiter, group, caller, wait)) => limiter.refusal(group, caller, wait),
                None => ApiError::internal("a rate-limit future was polled after it finished")
                    .into_response(),
            })),
            RateLimitProjection::Shared { future } => future.as_mut().poll(cx),
        }
    }
}
