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

pub use fw_core::access::{Access, ModelPermission, VIEW_CHANGES};

pub use crate::caller::{Caller, Credential, Identity, Refusal};

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
