//! Identity and permissions: who is calling, and whether they may.
//!
//! Every operation fw serves has an [`Access`]: public, any authenticated
//! user, or a named permission. Nothing is public by omission:
//! `#[fw::resource]` does not compile without `permissions(...)`, and a custom
//! action or a plain handler names its access when it is registered.
//!
//! A request is authenticated once, before it reaches a handler, from an API
//! token (`Authorization: Bearer ...`) or a browser session cookie; the result
//! is its [`Caller`], which handlers read from
//! [`RequestContext::caller`](crate::RequestContext::caller) and the change log
//! records as the actor of every write the request makes.
//!
//! [`App::auth`](crate::App::auth) turns it on: the guide is
//! [`docs::auth`](crate::docs::auth).

mod commands;
mod csrf;
mod declared;
mod http;
mod layer;
mod models;
mod password;
mod secret;
mod session;
mod store;
mod throttle;

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
pub use fw_core::access::{Access, ModelPermission, VIEW_CHANGES};

pub(crate) use commands::{AuthCommand, Terminal, run as run_command};
pub(crate) use declared::Declared;
pub(crate) use http::{AuthState, document, routes};
pub(crate) use layer::Authenticate;
pub(crate) use models::{ApiToken, Role, RolePermission, Session, UserRole};
pub use models::{NewUser, User, UserPatch};
pub use secret::TOKEN_PATTERN;
pub(crate) use session::SessionPolicy;
pub(crate) use store::{
    Authenticator, NewToken, RoleSpec, create_session, create_token, sync_roles,
    user_with_permissions,
};
pub use store::{Grants, grants};

use crate::rest::ApiError;

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

    /// The authenticated user, or a 401 for an anonymous caller.
    ///
    /// # Errors
    ///
    /// [`ApiError::Unauthenticated`] when no credentials were sent.
    pub fn user(&self) -> Result<&Identity, ApiError> {
        self.identity().ok_or_else(unauthenticated)
    }

    /// Whether this caller may run an operation that requires `access`.
    ///
    /// # Errors
    ///
    /// A 401 ([`ApiError::Unauthenticated`]) when the operation needs
    /// credentials and none were sent; a 403 ([`ApiError::Forbidden`]) when
    /// the user lacks the permission.
    pub fn require(&self, access: Access) -> Result<(), ApiError> {
        match access {
            Access::Public => Ok(()),
            Access::Authenticated => self.user().map(|_| ()),
            Access::Permission(permission) => {
                if self.user()?.has(permission) {
                    Ok(())
                } else {
                    Err(ApiError::Forbidden {
                        detail: format!(
                            "this needs the `{permission}` permission, which your roles do not \
                             grant; ask an administrator for a role that grants it"
                        ),
                    })
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

/// The `WWW-Authenticate` challenge of a 401: a bearer token, or a session.
pub(crate) const CHALLENGE: &str = "Bearer";

/// The 401 of a request that needs credentials and sent none.
pub(crate) fn unauthenticated() -> ApiError {
    ApiError::Unauthenticated {
        challenge: CHALLENGE.to_owned(),
    }
}
