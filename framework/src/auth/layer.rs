//! The authentication layer: every request's credentials, resolved once to
//! its [`Caller`] before any route sees it.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, SET_COOKIE};
use axum::response::{IntoResponse, Response};
use tower::Service;

use super::Caller;
use super::csrf;
use super::secret::{SecretHash, TOKEN_LENGTH, is_token};
use super::session::{LOGIN_PATH, LOGOUT_PATH, clear_cookie, cookie_secret, is_local};
use super::store::{Authenticator, Presented};
use crate::rest::ApiError;
use crate::rest::CHALLENGE;

/// The challenge of a 401 for a token that is not (or no longer) valid, as
/// RFC 6750 words it.
const INVALID_TOKEN: &str = "Bearer error=\"invalid_token\"";

/// The longest `Authorization` header read: `Bearer ` and a token, with room
/// to spare. Anything longer is not an fw token.
const MAX_AUTHORIZATION_LENGTH: usize = 256;

/// Resolves each request's credentials to a [`Caller`] in its extensions (and
/// the change log's actor, and the response's extensions for the access
/// log), or answers 401 when they are bad.
///
/// A request without credentials passes straight through as
/// [`Caller::Anonymous`]: no database access, no allocation. One with
/// credentials is looked up, in one query; bad, expired or revoked ones, or
/// an inactive user's, are a 401 even on a public route, so the client
/// learns that its credential is bad. `Authorization: Bearer` wins over the
/// session cookie when a request sends both.
///
/// A request that writes (`POST`, `PUT`, `PATCH`, `DELETE`) with the session
/// cookie must come from the application's own pages (see
/// [`csrf`](super::csrf)), or it is a 403 before the cookie is looked up.
/// Login and logout read the cookie themselves: they end the session it
/// names, live or not, and a stale one must not stop a browser signing in.
///
/// A plain tower service, as [`RecordActor`](crate::changes) is: only a
/// request with credentials pays for a boxed future.
#[derive(Debug, Clone)]
pub(crate) struct Authenticate<S> {
    inner: S,
    /// `None` when the application has no authentication ([`App::auth`]
    /// was not called): every request is anonymous.
    ///
    /// [`App::auth`]: crate::App::auth
    authenticator: Option<Arc<Authenticator>>,
}

impl<S> Authenticate<S> {
    pub(crate) fn new(inner: S, authenticator: Option<Authenticator>) -> Authenticate<S> {
        Authenticate {
            inner,
            authenticator: authenticator.map(Arc::new),
        }
    }
}

impl<S> Service<Request> for Authenticate<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = AuthenticateFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let Some(authenticator) = &self.authenticator else {
            return AuthenticateFuture::Inner {
                future: self.inner.call(request),
            };
        };
        let read_cookie = !is_session_endpoint(&request);
        let presented = match presented(request.headers(), read_cookie) {
            Ok(None) => {
                return AuthenticateFuture::Inner {
                    future: self.inner.call(request),
                };
            }
            Ok(Some(presented)) => presented,
            Err(rejected) => {
                return AuthenticateFuture::Rejected {
                    refusal: Some(Refusal::new(rejected, request.headers())),
                };
            }
        };
        if matches!(presented, Presented::Session(_))
            && csrf::is_unsafe(request.method())
            && let Err(cross_site) = csrf::require_same_origin(request.headers(), request.uri())
        {
            return AuthenticateFuture::Forbidden {
                error: Some(cross_site),
            };
        }
        // The service that was made ready runs the request; a clone stays
        // for the next one (tower's rule for services called from a future).
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let authenticator = authenticator.clone();
        AuthenticateFuture::Identifying {
            future: Box::pin(async move {
                match authenticator.identify(presented).await {
                    Ok(Some(identity)) => {
                        // An `Actor` an outer layer set stays the change
                        // log's (the writer is set once), and the handlers
                        // keep it as the idempotency keys' owner.
                        crate::changes::set_identity(identity.clone());
                        let caller = Caller::User(identity);
                        request.extensions_mut().insert(caller.clone());
                        let mut response = inner.call(request).await?;
                        // For the access log, outside this layer.
                        response.extensions_mut().insert(caller);
                        Ok(response)
                    }
                    Ok(None) => {
                        Ok(Refusal::new(Rejected::from(presented), request.headers()).response())
                    }
                    Err(error) => Ok(ApiError::from(error).into_response()),
                }
            }),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response of [`Authenticate`]: the route's own for an anonymous
    /// request, a 401 for a malformed credential, a 403 for a write with the
    /// session cookie from another site, or a lookup followed by the route.
    #[project = AuthenticateProjection]
    pub(crate) enum AuthenticateFuture<F> {
        Inner { #[pin] future: F },
        Rejected { refusal: Option<Refusal> },
        Forbidden { error: Option<ApiError> },
        Identifying { future: Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>> },
    }
}

impl<F> Future for AuthenticateFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            AuthenticateProjection::Inner { future } => future.poll(cx),
            AuthenticateProjection::Rejected { refusal } => Poll::Ready(Ok(match refusal.take() {
                Some(refusal) => refusal.response(),
                None => polled_after_finishing().into_response(),
            })),
            AuthenticateProjection::Forbidden { error } => Poll::Ready(Ok(error
                .take()
                .unwrap_or_else(polled_after_finishing)
                .into_response())),
            AuthenticateProjection::Identifying { future } => future.as_mut().poll(cx),
        }
    }
}

/// The answer of a future polled again after it answered, which tower's
/// contract rules out: a 500, not a panic.
fn polled_after_finishing() -> ApiError {
    ApiError::internal("an authentication future was polled after it finished")
}

/// A credential that is refused, by where it came from: the 401 differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rejected {
    /// A bad `Authorization` header or token.
    Token,
    /// A session cookie that names no live session: the 401 also removes it,
    /// so the browser stops sending it and can reach the login page.
    Session,
}

impl From<Presented> for Rejected {
    fn from(presented: Presented) -> Rejected {
        match presented {
            Presented::Token(_) => Rejected::Token,
            Presented::Session(_) => Rejected::Session,
        }
    }
}

/// A refused credential, answered when the future is polled: inside the
/// request's scope, so the 401 has a request id, which its log line carries.
#[derive(Debug)]
pub(crate) struct Refusal {
    rejected: Rejected,
    /// Whether a cookie the 401 removes is `Secure`, as the one set was.
    secure: bool,
}

impl Refusal {
    fn new(rejected: Rejected, headers: &HeaderMap) -> Refusal {
        Refusal {
            rejected,
            secure: !is_local(headers),
        }
    }

    fn response(self) -> Response {
        let request_id = crate::changes::current_request_id();
        let (challenge, credential) = match self.rejected {
            Rejected::Token => (INVALID_TOKEN, "token"),
            Rejected::Session => (CHALLENGE, "session cookie"),
        };
        tracing::info!(
            request_id,
            "refused a {credential} that is malformed, unknown, expired, revoked or an \
             inactive user's"
        );
        let mut response = ApiError::Unauthenticated {
            challenge: challenge.to_owned(),
        }
        .into_response();
        if self.rejected == Rejected::Session {
            response
                .headers_mut()
                .insert(SET_COOKIE, clear_cookie(self.secure));
        }
        response
    }
}

/// Whether `request` is a login or a logout, whose session cookie is the
/// endpoint's to read.
fn is_session_endpoint(request: &Request) -> bool {
    request.method() == axum::http::Method::POST
        && matches!(request.uri().path(), LOGIN_PATH | LOGOUT_PATH)
}

/// The credential a request presents, hashed: `Ok(None)` when it presents
/// none. `Authorization` is read first; a request that sends it is judged
/// by it alone. The session cookie is read only when `read_cookie`.
fn presented(headers: &HeaderMap, read_cookie: bool) -> Result<Option<Presented>, Rejected> {
    if let Some(token) = bearer_token(headers)? {
        return Ok(Some(Presented::Token(SecretHash::of(token.as_bytes()))));
    }
    if !read_cookie {
        return Ok(None);
    }
    match cookie_secret(headers) {
        Ok(None) => Ok(None),
        Ok(Some(secret)) => Ok(Some(Presented::Session(SecretHash::of(secret.as_bytes())))),
        Err(()) => Err(Rejected::Session),
    }
}

/// The token of `Authorization: Bearer <token>`, if the header is there.
/// A header in another scheme, twice, too long or with something that is not
/// an fw token is a bad credential.
fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, Rejected> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() || value.len() > MAX_AUTHORIZATION_LENGTH {
        return Err(Rejected::Token);
    }
    let text = value.to_str().map_err(|_| Rejected::Token)?;
    let (scheme, token) = text.split_once(' ').ok_or(Rejected::Token)?;
    let token = token.trim_matches(' ');
    if !scheme.eq_ignore_ascii_case("bearer") || token.len() != TOKEN_LENGTH || !is_token(token) {
        return Err(Rejected::Token);
    }
    Ok(Some(token))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with(name: axum::http::HeaderName, values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn the_authorization_header_is_a_bearer_token_or_bad() {
        let token = super::super::secret::new_token().unwrap();
        assert_eq!(bearer_token(&HeaderMap::new()), Ok(None));
        for good in [format!("Bearer {token}"), format!("bearer  {token} ")] {
            assert_eq!(
                bearer_token(&with(AUTHORIZATION, &[&good])),
                Ok(Some(token.as_str())),
                "{good}"
            );
        }
        let bad = [
            format!("Basic {token}"),
            format!("Bearer{token}"),
            "Bearer".to_owned(),
            "Bearer fw_short".to_owned(),
            format!("Bearer {token}x"),
            format!("Bearer {}", "x".repeat(MAX_AUTHORIZATION_LENGTH)),
        ];
        for bad in bad {
            assert_eq!(
                bearer_token(&with(AUTHORIZATION, &[&bad])),
                Err(Rejected::Token),
                "{bad}"
            );
        }
        let twice = format!("Bearer {token}");
        assert_eq!(
            bearer_token(&with(AUTHORIZATION, &[&twice, &twice])),
            Err(Rejected::Token)
        );
    }

    #[test]
    fn the_token_wins_over_the_cookie() {
        let token = super::super::secret::new_token().unwrap();
        let mut headers = with(AUTHORIZATION, &[&format!("Bearer {token}")]);
        headers.insert(
            axum::http::header::COOKIE,
            HeaderValue::from_static("fw_session=bad"),
        );
        assert!(matches!(
            presented(&headers, true),
            Ok(Some(Presented::Token(_)))
        ));
        headers.remove(AUTHORIZATION);
        assert_eq!(presented(&headers, true).unwrap_err(), Rejected::Session);
        assert!(matches!(presented(&headers, false), Ok(None)));
        assert!(matches!(presented(&HeaderMap::new(), true), Ok(None)));
    }

    #[test]
    fn a_bad_session_cookie_is_removed_by_the_401() {
        let response = Refusal::new(Rejected::Session, &HeaderMap::new()).response();
        assert_eq!(response.status(), axum::http::StatusCode::UNAUTHORIZED);
        let cleared = response
            .headers()
            .get(SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap();
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
        let response = Refusal::new(Rejected::Token, &HeaderMap::new()).response();
        assert_eq!(
            response
                .headers()
                .get(axum::http::header::WWW_AUTHENTICATE)
                .unwrap(),
            INVALID_TOKEN
        );
        assert!(response.headers().get(SET_COOKIE).is_none());
    }
}
