//! [`Caller`]: who is making a request, and whether they may run an
//! operation of a given [`Access`]. Below the HTTP layer, so resources, the
//! change log's endpoints and identity all read it; identity
//! ([`auth`](crate::auth)) is what fills it in.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use fw_core::access::Access;

/// Why a caller may not run an operation; an [`ApiError`](crate::ApiError)
/// (401 or 403) by `?` in a handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The operation needs credentials and none were sent: a 401.
    Unauthenticated,
    /// The user lacks `permission`: a 403.
    Forbidden {
        /// The permission the operation needs.
        permission: &'static str,
    },
}

/// Who is making a request: nobody in particular, or an authenticated user.
#[derive(Debug, Clone, Default)]
pub enum Caller {
    /// No credentials were sent.
    #[default]
    Anonymous,
    /// Valid credentials of an active user.
    User(Arc<Identity>),
}

/// An authenticated, active user, and what they may do.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The user's id.
    pub user_id: i64,
    /// The user's username.
    pub username: String,
    /// A superuser holds every permission.
    pub superuser: bool,
    /// How the request proved who it is.
    pub credential: Credential,
    /// The permissions the user holds through their roles, narrowed to the
    /// token's scopes when the token has some.
    pub permissions: BTreeSet<String>,
    /// The API version a token is pinned to: what its requests are served
    /// in when they name no version. `None` for the newest, and for sessions.
    pub api_version: Option<String>,
}

/// How a request authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// An API token, by its id.
    Token {
        /// The token's id (not the secret).
        id: i64,
    },
    /// A browser session cookie, by the session's id.
    Session {
        /// The session row's id (not the cookie's secret).
        id: i64,
    },
}

impl Identity {
    /// Whether the user holds `permission`.
    pub fn has(&self, permission: &str) -> bool {
        self.superuser || self.permissions.contains(permission)
    }

    /// The change log's actor for this identity: `user:<id>` for a session,
    /// `user:<id>/token:<id>` for a token.
    pub fn actor(&self) -> String {
        match self.credential {
            Credential::Session { .. } => format!("user:{}", self.user_id),
            Credential::Token { id } => format!("user:{}/token:{id}", self.user_id),
        }
    }
}

impl crate::changes::Identified for Identity {
    fn actor(&self) -> String {
        Identity::actor(self)
    }
}

impl Caller {
    /// The authenticated user, if any.
    pub fn identity(&self) -> Option<&Identity> {
        match self {
            Caller::Anonymous => None,
            Caller::User(identity) => Some(identity),
        }
    }

    /// The change log's actor of this caller's writes ([`Identity::actor`]);
    /// `None` for an anonymous caller. It also keeps one caller's
    /// `Idempotency-Key`s apart from another's.
    pub fn actor(&self) -> Option<String> {
        self.identity().map(Identity::actor)
    }

    /// The authenticated user, or a refusal (a 401 as an
    /// [`ApiError`](crate::ApiError)) for an anonymous caller.
    ///
    /// # Errors
    ///
    /// [`Refusal::Unauthenticated`] when no credentials were sent.
    pub fn user(&self) -> Result<&Identity, Refusal> {
        self.identity().ok_or(Refusal::Unauthenticated)
    }

    /// Whether this caller may run an operation that requires `access`.
    ///
    /// # Errors
    ///
    /// [`Refusal::Unauthenticated`] (a 401) when the operation needs
    /// credentials and none were sent; [`Refusal::Forbidden`] (a 403) when
    /// the user lacks the permission.
    pub fn require(&self, access: Access) -> Result<(), Refusal> {
        match access {
            Access::Public => Ok(()),
            Access::Authenticated => self.user().map(|_| ()),
            Access::Permission(permission) => {
                if self.user()?.has(permission) {
                    Ok(())
                } else {
                    Err(Refusal::Forbidden { permission })
                }
            }
        }
    }
}

/// A plain handler's caller, as authentication found it: `Caller::Anonymous`
/// for a request without credentials (a request with bad ones never reaches
/// a handler).
///
/// ```
/// async fn whoami(caller: fw::Caller) -> String {
///     match caller.identity() {
///         Some(identity) => identity.username.clone(),
///         None => "anonymous".to_owned(),
///     }
/// }
/// # let _: axum::routing::MethodRouter = axum::routing::get(whoami);
/// ```
impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Caller, Infallible> {
        Ok(parts
            .extensions
            .get::<Caller>()
            .cloned()
            .unwrap_or_default())
    }
}
