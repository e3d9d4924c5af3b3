//! The tables of identity: users, roles and what they grant, API tokens and
//! browser sessions. [`App::auth`](crate::App::auth) registers them, so
//! `makemigrations` writes their migration like any model's.
//!
//! None of them records changes: a password hash or a token's hash must never
//! reach the change log, and sessions and tokens change on every login.

use chrono::{DateTime, Utc};

use crate::reference::Ref;

/// A person or a program that signs in: the identity every credential belongs to.
///
/// An application keeps its own data about users in a model of its own that
/// references this one (see [the guide](crate::docs::auth#profiles)):
///
/// ```
/// #[fw::model]
/// pub struct Profile {
///     pub id: i64,
///     #[field(unique, on_delete = "cascade")]
///     pub user: fw::Ref<fw::auth::User>,
///     pub display_name: String,
/// }
/// ```
#[derive(Clone)]
#[crate::model(table = "fw_user")]
pub struct User {
    /// The user's id.
    pub id: i64,
    /// The name the user signs in with: letters, digits and `@.+-_`, as Django
    /// allows.
    #[field(unique, max_length = 150, pattern = "^[A-Za-z0-9@.+_-]+$")]
    pub username: String,
    /// An address to reach the user, if known.
    #[field(max_length = 254)]
    pub email: Option<String>,
    /// An inactive user's credentials are all refused, without deleting anything.
    pub is_active: bool,
    /// A superuser holds every permission.
    pub is_superuser: bool,
    /// The password's Argon2id hash as a PHC string (`$argon2id$v=19$...`);
    /// `None` for a user who signs in only with tokens.
    #[field(redacted)]
    pub password_hash: Option<String>,
    /// When the user last signed in with their password.
    pub last_login: Option<DateTime<Utc>>,
    /// When the user was created.
    #[field(auto_now_add)]
    pub created_at: DateTime<Utc>,
    /// When the user was last changed.
    #[field(auto_now)]
    pub updated_at: DateTime<Utc>,
    /// Bumped by every update.
    #[field(version)]
    pub version: i64,
}

/// A named set of permissions (Django's group), granted to users.
#[derive(Clone)]
#[crate::model(table = "fw_role")]
pub(crate) struct Role {
    /// The role's id.
    pub(crate) id: i64,
    /// The role's name, as [`App::role`](crate::App::role) declares it.
    #[field(unique, max_length = 64)]
    pub(crate) name: String,
    /// What the role is for.
    #[field(max_length = 500)]
    pub(crate) description: String,
}

/// One permission a role grants.
#[derive(Clone)]
#[crate::model(table = "fw_role_permission", unique(role, permission))]
pub(crate) struct RolePermission {
    /// The grant's id.
    pub(crate) id: i64,
    /// The role granting it.
    #[field(on_delete = "cascade")]
    pub(crate) role: Ref<Role>,
    /// The permission's name (`view_dividend`).
    #[field(max_length = 64)]
    pub(crate) permission: String,
}

/// One role a user holds.
#[derive(Clone)]
#[crate::model(table = "fw_user_role", unique(user, role))]
pub(crate) struct UserRole {
    /// The membership's id.
    pub(crate) id: i64,
    /// The user holding the role.
    #[field(on_delete = "cascade")]
    pub(crate) user: Ref<User>,
    /// The role held.
    #[field(on_delete = "cascade")]
    pub(crate) role: Ref<Role>,
}

/// An API token: the SHA-256 of its secret, never the secret itself, which
/// is shown once when the token is created.
#[derive(Clone)]
#[crate::model(table = "fw_api_token")]
pub(crate) struct ApiToken {
    /// The token's id: what lists show and `revoketoken` takes.
    pub(crate) id: i64,
    /// The user the token acts for.
    #[field(on_delete = "cascade", index)]
    pub(crate) user: Ref<User>,
    /// What the token is for, as its owner named it.
    #[field(max_length = 100)]
    pub(crate) name: String,
    /// The SHA-256 of the token, in lowercase hex.
    #[field(unique, redacted, max_length = 64)]
    pub(crate) token_hash: String,
    /// The token's first characters, to tell tokens apart in a list without
    /// revealing them.
    #[field(max_length = 16)]
    pub(crate) prefix: String,
    /// The permissions the token is limited to, space-separated as OAuth's
    /// `scope`; `None` for all of its user's.
    pub(crate) scopes: Option<String>,
    /// When the token stops working; `None` for never.
    pub(crate) expires_at: Option<DateTime<Utc>>,
    /// When the token was revoked; a revoked token is refused.
    pub(crate) revoked_at: Option<DateTime<Utc>>,
    /// When the token was created.
    #[field(auto_now_add)]
    pub(crate) created_at: DateTime<Utc>,
    /// When the token last authenticated a request, to the minute.
    pub(crate) last_used_at: Option<DateTime<Utc>>,
    /// The API version (a date) the token's requests are served in when
    /// they name none in `Api-Version`; `None` for the newest.
    #[field(max_length = 10)]
    pub(crate) api_version: Option<String>,
}

/// A browser session: the SHA-256 of its cookie's secret, and its expiry.
#[derive(Clone)]
#[crate::model(table = "fw_session")]
pub(crate) struct Session {
    /// The session's id.
    pub(crate) id: i64,
    /// The SHA-256 of the cookie's secret, in lowercase hex.
    #[field(unique, redacted, max_length = 64)]
    pub(crate) session_hash: String,
    /// The signed-in user.
    #[field(on_delete = "cascade", index)]
    pub(crate) user: Ref<User>,
    /// When the user signed in.
    #[field(auto_now_add)]
    pub(crate) created_at: DateTime<Utc>,
    /// When the session last authenticated a request, to the minute: the
    /// idle expiry counts from here.
    pub(crate) last_seen_at: DateTime<Utc>,
    /// When the session ends however active it is (the absolute expiry).
    pub(crate) expires_at: DateTime<Utc>,
}
