//! Reading and writing identities: users and their passwords, API tokens,
//! sessions, and the roles an application declares.
//!
//! The endpoints (login, logout, tokens, who am I), the authentication layer
//! and the commands all go through these functions, so each rule lives once:
//! a password is hashed here and nowhere else, a token is stored only as its
//! hash, an inactive user or a revoked, expired or ended credential resolves
//! to nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};

use super::models::{
    ApiToken, ApiTokenPatch, NewApiToken, NewRole, NewRolePermission, NewSession, NewUser,
    NewUserRole, Role, RolePermission, Session, User, UserPatch, UserRole,
};
use super::password::{self, Password};
use super::secret::{self, SHOWN_PREFIX_LENGTH, SecretHash};
use super::session::{LAST_SEEN_RESOLUTION, SessionPolicy};
use super::{Credential, Identity};
use crate::db::{Arguments, Conn, Db};
use crate::error::Result;
use crate::model::Model;
use crate::reference::Ref;

/// The longest username, as `fw_user.username` stores it (Django's).
pub(crate) const MAX_USERNAME_LENGTH: usize = 150;

/// Whether `name` can be a username: 1 to 150 letters, digits and `@.+-_`.
pub(crate) fn is_username(name: &str) -> bool {
    (1..=MAX_USERNAME_LENGTH).contains(&name.len())
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"@.+-_".contains(&byte))
}

/// `name`, if it can be a username.
///
/// # Errors
///
/// Saying what a username is made of.
pub(crate) fn check_username(name: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        is_username(name),
        "`{name}` is not a username: use 1 to {MAX_USERNAME_LENGTH} letters, digits and `@.+-_`"
    );
    Ok(())
}

/// A user to create.
#[derive(Debug)]
pub(crate) struct NewAccount {
    /// See [`is_username`].
    pub(crate) username: String,
    pub(crate) email: Option<String>,
    pub(crate) superuser: bool,
    /// `None` for a user who signs in only with tokens.
    pub(crate) password: Option<Password>,
}

/// Creates an active user, hashing its password.
///
/// # Errors
///
/// [`Error::UniqueViolation`](crate::Error::UniqueViolation) when the username is taken; a database error.
pub(crate) async fn create_user<'c>(
    conn: impl Into<Conn<'c>>,
    account: NewAccount,
) -> anyhow::Result<User> {
    check_username(&account.username)?;
    let password_hash = match account.password {
        Some(password) => Some(hash_off_the_runtime(password).await?),
        None => None,
    };
    let user = User::insert(
        conn.into(),
        NewUser {
            username: account.username,
            email: account.email,
            is_active: true,
            is_superuser: account.superuser,
            password_hash,
            last_login: None,
        },
    )
    .await?;
    Ok(user)
}

/// The user called `username`, if there is one.
///
/// # Errors
///
/// A database error.
pub(crate) async fn user_by_username(db: &Db, username: &str) -> Result<Option<User>> {
    if !is_username(username) {
        return Ok(None);
    }
    User::query()
        .filter(User::USERNAME.eq(username))
        .first(db)
        .await
}

/// An active user and the permissions their roles grant: what a command
/// acting on the user's behalf may do (an import an operator runs, say).
#[derive(Debug, Clone)]
pub struct Grants {
    /// The user.
    pub user: User,
    /// The permissions the user's roles grant.
    pub permissions: BTreeSet<String>,
}

impl Grants {
    /// Whether the user holds `permission` (a superuser holds every one).
    pub fn has(&self, permission: &str) -> bool {
        self.user.is_superuser || self.permissions.contains(permission)
    }
}

/// The permissions user `$1`'s roles grant.
const USER_PERMISSIONS: &str = "SELECT DISTINCT p.\"permission\" FROM \"fw_user_role\" r \
     JOIN \"fw_role_permission\" p ON p.\"role_id\" = r.\"role_id\" \
     WHERE r.\"user_id\" = $1";

/// Active user `username` and what their roles grant, for a command that
/// acts on their behalf; `None` when there is no such active user.
///
/// ```no_run
/// # async fn example(db: &fw::Db) -> anyhow::Result<()> {
/// let operator = fw::auth::grants(db, "alice")
///     .await?
///     .filter(|operator| operator.has("import_dividends"))
///     .ok_or_else(|| anyhow::anyhow!("alice may not import"))?;
/// # let _ = operator;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// A database error.
pub async fn grants(db: &Db, username: &str) -> Result<Option<Grants>> {
    let Some(user) = user_by_username(db, username).await? else {
        return Ok(None);
    };
    if !user.is_active {
        return Ok(None);
    }
    let permissions = crate::sql::sql(USER_PERMISSIONS)
        .bind(user.id)
        .fetch_all(db, |row| row.get::<String>(0))
        .await?
        .into_iter()
        .collect();
    Ok(Some(Grants { user, permissions }))
}

/// Sets a user's password and ends every session the user has, in one
/// transaction: whoever knew the old password is signed out.
///
/// # Errors
///
/// [`Error::NotFound`](crate::Error::NotFound) when there is no such user; a database error.
pub(crate) async fn set_password(db: &Db, user_id: i64, password: Password) -> anyhow::Result<()> {
    let password_hash = hash_off_the_runtime(password).await?;
    let mut tx = db.begin().await?;
    User::patch(
        &mut tx,
        user_id,
        UserPatch {
            password_hash: Some(Some(password_hash)),
            ..UserPatch::default()
        },
    )
    .await?;
    end_user_sessions(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(())
}

/// The active user called `username` if `password` is theirs, else `None`.
///
/// It takes as long for an unknown user, an inactive one or one without a
/// password as for a wrong password, so the answer's timing does not tell
/// which usernames exist. On success it records the login's time and, when
/// the stored hash was made with older parameters, stores a new one.
///
/// # Errors
///
/// A database error.
pub(crate) async fn check_password(
    db: &Db,
    username: &str,
    password: Password,
) -> anyhow::Result<Option<User>> {
    let user = user_by_username(db, username).await?;
    let stored = user
        .as_ref()
        .filter(|user| user.is_active)
        .and_then(|user| user.password_hash.clone());
    let (matches, password) = tokio::task::spawn_blocking(move || {
        let matches = match &stored {
            Some(stored) => password::verify(&password, stored).then_some(stored.clone()),
            None => {
                password::verify_nothing(&password);
                None
            }
        };
        (matches, password)
    })
    .await?;
    let (Some(user), Some(stored)) = (user, matches) else {
        return Ok(None);
    };
    let password_hash = if password::needs_rehash(&stored) {
        Some(Some(hash_off_the_runtime(password).await?))
    } else {
        None
    };
    let user = User::patch(
        db,
        user.id,
        UserPatch {
            last_login: Some(Some(crate::db::now())),
            password_hash,
            ..UserPatch::default()
        },
    )
    .await?;
    Ok(Some(user))
}

/// Argon2 takes tens of milliseconds of one core: on a blocking thread, so the
/// runtime's workers go on serving other requests meanwhile.
async fn hash_off_the_runtime(password: Password) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || password::hash(&password)).await?
}

/// A token to create.
#[derive(Debug)]
pub(crate) struct NewToken {
    /// What it is for, as its owner names it (at most 100 characters).
    pub(crate) name: String,
    /// When it stops working; `None` for never.
    pub(crate) expires_at: Option<DateTime<Utc>>,
    /// The permissions it is limited to; `None` for all of its user's. Each
    /// must be a permission name (see
    /// [`is_name`](fw_core::access::is_name)); whether the application knows
    /// it is the caller's check.
    pub(crate) scopes: Option<Vec<String>>,
    /// The API version its requests are served in when they name none;
    /// whether the API has that version is the caller's check.
    pub(crate) api_version: Option<String>,
}

/// A token just created: its row, and the token itself, which exists nowhere
/// else and must be shown to its owner now.
#[derive(Debug)]
pub(crate) struct CreatedToken {
    pub(crate) row: ApiToken,
    pub(crate) token: String,
}

/// The most characters of a token's name.
pub(crate) const MAX_TOKEN_NAME_LENGTH: usize = 100;

/// Creates an API token for `user_id`.
///
/// # Errors
///
/// When the name or a scope is not acceptable, the operating system gives no
/// random numbers, or on a database error ([`Error::ForeignKeyViolation`](crate::Error::ForeignKeyViolation)
/// when there is no such user).
pub(crate) async fn create_token(
    db: &Db,
    user_id: i64,
    new: NewToken,
) -> anyhow::Result<CreatedToken> {
    anyhow::ensure!(
        !new.name.trim().is_empty() && new.name.chars().count() <= MAX_TOKEN_NAME_LENGTH,
        "a token's name is 1 to {MAX_TOKEN_NAME_LENGTH} characters; name it after what uses it"
    );
    if let Some(scope) = new
        .scopes
        .iter()
        .flatten()
        .find(|scope| !fw_core::access::is_name(scope))
    {
        anyhow::bail!(
            "`{scope}` is not a permission name: lowercase letters, digits and `_`, like \
             `view_dividend`"
        );
    }
    let token = secret::new_token()
        .map_err(|error| anyhow::anyhow!("cannot make a token's secret: {error}"))?;
    let scopes = new.scopes.map(|scopes| {
        let scopes: BTreeSet<String> = scopes.into_iter().collect();
        scopes.into_iter().collect::<Vec<_>>().join(" ")
    });
    let row = ApiToken::insert(
        db,
        NewApiToken {
            user: Ref::new(user_id),
            name: new.name,
            token_hash: SecretHash::of(token.as_bytes()).to_hex(),
            prefix: token[..SHOWN_PREFIX_LENGTH].to_owned(),
            scopes,
            expires_at: new.expires_at,
            revoked_at: None,
            last_used_at: None,
            api_version: new.api_version,
        },
    )
    .await?;
    Ok(CreatedToken { row, token })
}

/// The API version a new token is pinned to, of `versions` (the API's dates,
/// newest first; empty without versions): `requested`, or the newest now.
///
/// # Errors
///
/// What to send instead, when `requested` is not one of `versions`.
pub(crate) fn token_api_version(
    requested: Option<&str>,
    versions: &[&'static str],
) -> std::result::Result<Option<String>, String> {
    match (requested, versions.first()) {
        (None, newest) => Ok(newest.map(|newest| (*newest).to_owned())),
        (Some(_), None) => Err("this API has no dated versions; leave the version out".to_owned()),
        (Some(date), Some(_)) if versions.contains(&date) => Ok(Some(date.to_owned())),
        (Some(date), Some(_)) => Err(format!(
            "`{date}` is not one of this API's versions: {} (newest first)",
            versions.join(", ")
        )),
    }
}

/// `user_id`'s tokens, revoked and expired ones included, newest first.
///
/// # Errors
///
/// A database error.
pub(crate) async fn list_tokens(db: &Db, user_id: i64) -> Result<Vec<ApiToken>> {
    ApiToken::query()
        .filter(ApiToken::USER.eq(Ref::<User>::new(user_id)))
        .order_by(ApiToken::ID.desc())
        .all(db)
        .await
}

/// How many of `user_id`'s tokens work: neither revoked nor expired.
///
/// # Errors
///
/// A database error.
pub(crate) async fn working_token_count(db: &Db, user_id: i64) -> Result<i64> {
    crate::sql::sql(
        "SELECT COUNT(*) FROM \"fw_api_token\" WHERE \"user_id\" = $1 AND \"revoked_at\" IS \
         NULL AND (\"expires_at\" IS NULL OR \"expires_at\" > $2)",
    )
    .bind(user_id)
    .bind(crate::db::now())
    .fetch_one(db, |row| row.get(0))
    .await
}

/// Revokes token `token_id`, if it belongs to `owner` (any user's when
/// `owner` is `None`). Returns the token, or `None` when there is no such
/// token (of that owner). Revoking a revoked token changes nothing.
///
/// # Errors
///
/// A database error.
pub(crate) async fn revoke_token(
    db: &Db,
    token_id: i64,
    owner: Option<i64>,
) -> Result<Option<ApiToken>> {
    let Some(token) = ApiToken::find(db, token_id).await? else {
        return Ok(None);
    };
    if owner.is_some_and(|owner| *token.user.key() != owner) {
        return Ok(None);
    }
    if token.revoked_at.is_some() {
        return Ok(Some(token));
    }
    let revoked = ApiToken::patch(
        db,
        token_id,
        ApiTokenPatch {
            revoked_at: Some(Some(crate::db::now())),
            ..ApiTokenPatch::default()
        },
    )
    .await?;
    Ok(Some(revoked))
}

/// A session just started: its id, and the secret for the cookie, which is
/// kept nowhere else.
#[derive(Debug)]
pub(crate) struct StartedSession {
    pub(crate) id: i64,
    pub(crate) secret: String,
    pub(crate) expires_at: DateTime<Utc>,
}

/// Starts a session for `user_id`. A login calls it after
/// [`check_password`] and sets the cookie: always a new secret, never one
/// the browser sent, so a session id planted before login is worthless.
///
/// # Errors
///
/// When the operating system gives no random numbers; a database error.
pub(crate) async fn create_session(
    db: &Db,
    user_id: i64,
    policy: SessionPolicy,
) -> anyhow::Result<StartedSession> {
    let secret = secret::new_secret()
        .map_err(|error| anyhow::anyhow!("cannot make a session's secret: {error}"))?;
    let now = crate::db::now();
    let expires_at = policy.expires_at(now);
    let session = Session::insert(
        db,
        NewSession {
            session_hash: SecretHash::of(secret.as_bytes()).to_hex(),
            user: Ref::new(user_id),
            last_seen_at: now,
            expires_at,
        },
    )
    .await?;
    Ok(StartedSession {
        id: session.id,
        secret,
        expires_at,
    })
}

/// Ends the session whose cookie secret hashes to `hash`, live or not: a
/// login ends the session the browser sent, so it is never reused, and a
/// logout ends it without having to look it up first.
///
/// # Errors
///
/// A database error.
pub(crate) async fn end_session_with_hash(db: &Db, hash: SecretHash) -> Result<()> {
    let mut args = Arguments::new(db.dialect());
    args.add(hash.to_hex())?;
    Conn::Db(db)
        .execute(
            "DELETE FROM \"fw_session\" WHERE \"session_hash\" = $1".into(),
            args,
        )
        .await?;
    Ok(())
}

/// The names of the roles `user_id` holds, sorted.
///
/// # Errors
///
/// A database error.
pub(crate) async fn role_names(db: &Db, user_id: i64) -> Result<Vec<String>> {
    crate::sql::sql(
        "SELECT r.\"name\" FROM \"fw_role\" r JOIN \"fw_user_role\" ur ON ur.\"role_id\" = \
         r.\"id\" WHERE ur.\"user_id\" = $1 ORDER BY r.\"name\"",
    )
    .bind(user_id)
    .fetch_all(db, |row| row.get(0))
    .await
}

/// Ends every session of `user_id`; returns how many there were.
///
/// # Errors
///
/// A database error.
pub(crate) async fn end_user_sessions<'c>(conn: impl Into<Conn<'c>>, user_id: i64) -> Result<u64> {
    let conn = conn.into();
    let mut args = Arguments::new(conn.dialect());
    args.add(user_id)?;
    conn.execute(
        "DELETE FROM \"fw_session\" WHERE \"user_id\" = $1".into(),
        args,
    )
    .await
}

/// One row of an identity's lookup: one permission of one of the user's
/// roles (none when the user has no role, or a role without permissions),
/// and, on the first row only, the credential's and the user's columns,
/// which the rows after it repeat.
struct IdentityRow {
    head: Option<IdentityHead>,
    permission: Option<String>,
}

/// The credential's and the user's columns of an identity's lookup.
struct IdentityHead {
    credential: CredentialRow,
    user_id: i64,
    username: String,
    is_active: bool,
    is_superuser: bool,
}

/// Decodes a row of an identity's lookup: its permission (column 0), and
/// with `head` the credential's and user's columns when it is the `first`.
/// Every authenticated request runs this, so the repeated columns are not
/// decoded again.
fn identity_row(
    row: &crate::Row<'_>,
    first: &AtomicBool,
    head: impl FnOnce(&crate::Row<'_>) -> Result<IdentityHead>,
) -> Result<IdentityRow> {
    let permission = row.get(0)?;
    let head = if first.swap(false, Ordering::Relaxed) {
        Some(head(row)?)
    } else {
        None
    };
    Ok(IdentityRow { head, permission })
}

enum CredentialRow {
    Token {
        id: i64,
        scopes: Option<String>,
        expires_at: Option<DateTime<Utc>>,
        revoked_at: Option<DateTime<Utc>>,
        last_used_at: Option<DateTime<Utc>>,
        api_version: Option<String>,
    },
    Session {
        id: i64,
        last_seen_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    },
}

/// A token's user and the permissions of the user's roles, in one query: it
/// runs for every request that sends a token.
const TOKEN_IDENTITY: &str = "SELECT p.\"permission\", t.\"id\", t.\"scopes\", t.\"expires_at\", \
     t.\"revoked_at\", t.\"last_used_at\", u.\"id\", u.\"username\", u.\"is_active\", \
     u.\"is_superuser\", t.\"api_version\" \
     FROM \"fw_api_token\" t \
     JOIN \"fw_user\" u ON u.\"id\" = t.\"user_id\" \
     LEFT JOIN \"fw_user_role\" r ON r.\"user_id\" = u.\"id\" \
     LEFT JOIN \"fw_role_permission\" p ON p.\"role_id\" = r.\"role_id\" \
     WHERE t.\"token_hash\" = $1";

/// A session's user and the permissions of the user's roles, in one query.
const SESSION_IDENTITY: &str = "SELECT p.\"permission\", s.\"id\", s.\"last_seen_at\", \
     s.\"expires_at\", u.\"id\", u.\"username\", u.\"is_active\", u.\"is_superuser\" \
     FROM \"fw_session\" s \
     JOIN \"fw_user\" u ON u.\"id\" = s.\"user_id\" \
     LEFT JOIN \"fw_user_role\" r ON r.\"user_id\" = u.\"id\" \
     LEFT JOIN \"fw_role_permission\" p ON p.\"role_id\" = r.\"role_id\" \
     WHERE s.\"session_hash\" = $1";

/// The identity of the API token whose hash is `hash`: `None` when there is
/// no such token, or it is revoked or expired, or its user is inactive.
///
/// # Errors
///
/// A database error.
pub(crate) async fn identity_from_token(db: &Db, hash: SecretHash) -> Result<Option<Identity>> {
    let head = |row: &crate::Row<'_>| {
        Ok(IdentityHead {
            credential: CredentialRow::Token {
                id: row.get(1)?,
                scopes: row.get(2)?,
                expires_at: row.get(3)?,
                revoked_at: row.get(4)?,
                last_used_at: row.get(5)?,
                api_version: row.get(10)?,
            },
            user_id: row.get(6)?,
            username: row.get(7)?,
            is_active: row.get(8)?,
            is_superuser: row.get(9)?,
        })
    };
    look_up(
        db,
        TOKEN_IDENTITY,
        hash,
        head,
        |credential, now| match credential {
            CredentialRow::Token {
                expires_at,
                revoked_at,
                ..
            } => revoked_at.is_none() && expires_at.is_none_or(|expires_at| now < expires_at),
            CredentialRow::Session { .. } => false,
        },
    )
    .await
}

/// The identity of the session whose cookie secret hashes to `hash`: `None`
/// when there is no such session, it has been idle or lived too long, or its
/// user is inactive.
///
/// # Errors
///
/// A database error.
pub(crate) async fn identity_from_session(
    db: &Db,
    hash: SecretHash,
    policy: SessionPolicy,
) -> Result<Option<Identity>> {
    let head = |row: &crate::Row<'_>| {
        Ok(IdentityHead {
            credential: CredentialRow::Session {
                id: row.get(1)?,
                last_seen_at: row.get(2)?,
                expires_at: row.get(3)?,
            },
            user_id: row.get(4)?,
            username: row.get(5)?,
            is_active: row.get(6)?,
            is_superuser: row.get(7)?,
        })
    };
    look_up(
        db,
        SESSION_IDENTITY,
        hash,
        head,
        |credential, now| match credential {
            CredentialRow::Session {
                last_seen_at,
                expires_at,
                ..
            } => policy.is_live(now, *last_seen_at, *expires_at),
            CredentialRow::Token { .. } => false,
        },
    )
    .await
}

/// Runs an identity's lookup `query` for the credential whose secret hashes
/// to `hash`, decoding its columns with `head`: the identity, when the
/// credential is `live` now and its user active. Its last use is written
/// when the one on record is older than [`LAST_SEEN_RESOLUTION`].
async fn look_up(
    db: &Db,
    query: &'static str,
    hash: SecretHash,
    head: impl Fn(&crate::Row<'_>) -> Result<IdentityHead> + Send + Sync,
    live: impl Fn(&CredentialRow, DateTime<Utc>) -> bool,
) -> Result<Option<Identity>> {
    let first = AtomicBool::new(true);
    let rows = crate::sql::sql(query)
        .bind(hash.to_hex())
        .fetch_all(db, |row| identity_row(row, &first, &head))
        .await?;
    let now = crate::db::now();
    let Some((identity, (credential, last_seen_is_stale))) =
        identity(rows, now, |credential| live(credential, now))
    else {
        return Ok(None);
    };
    if last_seen_is_stale {
        match credential {
            Credential::Token { id } => touch(db, TOUCH_TOKEN, id, now),
            Credential::Session { id } => touch(db, TOUCH_SESSION, id, now),
        }
    }
    Ok(Some(identity))
}

/// The identity the rows of one credential describe, if the credential is
/// `live` and its user active, with whether the time it was last seen is
/// older than [`LAST_SEEN_RESOLUTION`] (so it is written again).
fn identity(
    rows: Vec<IdentityRow>,
    now: DateTime<Utc>,
    live: impl Fn(&CredentialRow) -> bool,
) -> Option<(Identity, (Credential, bool))> {
    let mut rows = rows.into_iter();
    let IdentityRow { head, permission } = rows.next()?;
    let first = head?;
    if !first.is_active || !live(&first.credential) {
        return None;
    }
    let stale =
        |seen: Option<DateTime<Utc>>| seen.is_none_or(|seen| now - seen >= LAST_SEEN_RESOLUTION);
    let (credential, scopes, last_seen, api_version) = match first.credential {
        CredentialRow::Token {
            id,
            scopes,
            last_used_at,
            api_version,
            ..
        } => (
            Credential::Token { id },
            scopes,
            stale(last_used_at),
            api_version,
        ),
        CredentialRow::Session {
            id, last_seen_at, ..
        } => (
            Credential::Session { id },
            None,
            stale(Some(last_seen_at)),
            None,
        ),
    };
    let granted: BTreeSet<String> = permission
        .into_iter()
        .chain(rows.filter_map(|row| row.permission))
        .collect();
    let (superuser, permissions) = match scopes {
        None => (first.is_superuser, granted),
        // A token's scopes narrow what its user holds: a superuser's scoped
        // token holds its scopes and nothing else.
        Some(scopes) => {
            let scopes = scopes.split(' ').filter(|scope| !scope.is_empty());
            let permissions = if first.is_superuser {
                scopes.map(str::to_owned).collect()
            } else {
                scopes
                    .filter(|scope| granted.contains(*scope))
                    .map(str::to_owned)
                    .collect()
            };
            (false, permissions)
        }
    };
    let identity = Identity {
        user_id: first.user_id,
        username: first.username,
        superuser,
        credential,
        permissions,
        api_version,
    };
    Some((identity, (credential, last_seen)))
}

const TOUCH_TOKEN: &str = "UPDATE \"fw_api_token\" SET \"last_used_at\" = $1 WHERE \"id\" = $2";
const TOUCH_SESSION: &str = "UPDATE \"fw_session\" SET \"last_seen_at\" = $1 WHERE \"id\" = $2";

/// Writes that a credential was used `now`, beside the request rather than
/// in its way: a read must not wait for SQLite's write lock (held by an
/// import, say), nor fail because the time of its credential's last use
/// could not be written. A failure is logged; the next use tries again.
fn touch(db: &Db, statement: &'static str, id: i64, now: DateTime<Utc>) {
    let db = db.clone();
    tokio::spawn(async move {
        let mut args = Arguments::new(db.dialect());
        let written = async {
            args.add(now)?;
            args.add(id)?;
            Conn::Db(&db).execute(statement.into(), args).await
        };
        if let Err(error) = written.await {
            tracing::warn!(%error, "cannot record when a credential was last used");
        }
    });
}

/// A role as the application declares it with [`App::role`](crate::App::role).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoleSpec {
    pub(crate) name: &'static str,
    pub(crate) description: &'static str,
    pub(crate) permissions: Vec<&'static str>,
}

/// Makes the database's roles match `roles`: each declared role exists with
/// its description and grants exactly its permissions. Roles the code does
/// not declare are left alone (an operator may have made them). Running it
/// again changes nothing.
///
/// # Errors
///
/// A database error; nothing is changed then.
pub(crate) async fn sync_roles(db: &Db, roles: &[RoleSpec]) -> Result<SyncOutcome> {
    let mut outcome = SyncOutcome::default();
    let mut tx = db.begin().await?;
    for spec in roles {
        let existing = Role::query()
            .filter(Role::NAME.eq(spec.name))
            .first(&mut tx)
            .await?;
        let role = match existing {
            Some(role) if role.description == spec.description => role,
            Some(mut role) => {
                role.description = spec.description.to_owned();
                outcome.changed += 1;
                role.update(&mut tx).await?
            }
            None => {
                outcome.changed += 1;
                Role::insert(
                    &mut tx,
                    NewRole {
                        name: spec.name.to_owned(),
                        description: spec.description.to_owned(),
                    },
                )
                .await?
            }
        };
        let granted: BTreeMap<String, i64> = RolePermission::query()
            .filter(RolePermission::ROLE.eq(Ref::<Role>::new(role.id)))
            .all(&mut tx)
            .await?
            .into_iter()
            .map(|grant| (grant.permission, grant.id))
            .collect();
        for (permission, grant) in &granted {
            if !spec.permissions.contains(&permission.as_str()) {
                RolePermission::delete(&mut tx, *grant).await?;
                outcome.changed += 1;
            }
        }
        for permission in &spec.permissions {
            if !granted.contains_key(*permission) {
                RolePermission::insert(
                    &mut tx,
                    NewRolePermission {
                        role: Ref::new(role.id),
                        permission: (*permission).to_owned(),
                    },
                )
                .await?;
                outcome.changed += 1;
            }
        }
    }
    tx.commit().await?;
    Ok(outcome)
}

/// What [`sync_roles`] changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SyncOutcome {
    /// Roles created or described anew, and grants added or removed.
    pub(crate) changed: usize,
}

/// Gives `user_id` the role called `role`, if they do not hold it already.
///
/// # Errors
///
/// When there is no such role (its message names the known ones); a
/// database error.
pub(crate) async fn grant_role<'c>(
    conn: impl Into<Conn<'c>>,
    user_id: i64,
    role: &str,
) -> anyhow::Result<()> {
    let mut conn = conn.into();
    let Some(found) = Role::query()
        .filter(Role::NAME.eq(role))
        .first(conn.reborrow())
        .await?
    else {
        let known: Vec<String> = Role::query()
            .order_by(Role::NAME.asc())
            .all(conn.reborrow())
            .await?
            .into_iter()
            .map(|role| role.name)
            .collect();
        anyhow::bail!(
            "there is no role `{role}`; the roles are {} (declared with `App::role`, created \
             by `migrate`)",
            if known.is_empty() {
                "none yet".to_owned()
            } else {
                fw_core::names::backticked(known.iter().map(String::as_str))
            }
        );
    };
    let held = UserRole::query()
        .filter(UserRole::USER.eq(Ref::<User>::new(user_id)))
        .filter(UserRole::ROLE.eq(Ref::<Role>::new(found.id)))
        .exists(conn.reborrow())
        .await?;
    if !held {
        UserRole::insert(
            conn,
            NewUserRole {
                user: Ref::new(user_id),
                role: Ref::new(found.id),
            },
        )
        .await?;
    }
    Ok(())
}

/// The id of user `username`, created without a password if there is none,
/// holding `permissions` (besides any they held) through a role of their own,
/// `user_<id>`: for tests that need a caller with exactly some permissions.
///
/// # Errors
///
/// When `username` is not a username or a permission not a permission
/// name; a database error.
pub(crate) async fn user_with_permissions(
    db: &Db,
    username: &str,
    permissions: &[&str],
) -> anyhow::Result<i64> {
    let user = match user_by_username(db, username).await? {
        Some(user) => user,
        None => {
            create_user(
                db,
                NewAccount {
                    username: username.to_owned(),
                    email: None,
                    superuser: false,
                    password: None,
                },
            )
            .await?
        }
    };
    if permissions.is_empty() {
        return Ok(user.id);
    }
    if let Some(bad) = permissions
        .iter()
        .find(|permission| !fw_core::access::is_name(permission))
    {
        anyhow::bail!("`{bad}` is not a permission name, like `view_dividend`");
    }
    let name = format!("user_{}", user.id);
    let mut tx = db.begin().await?;
    let role = match Role::query()
        .filter(Role::NAME.eq(name.as_str()))
        .first(&mut tx)
        .await?
    {
        Some(role) => role,
        None => {
            Role::insert(
                &mut tx,
                NewRole {
                    name: name.clone(),
                    description: format!("The permissions given to `{username}` by a test."),
                },
            )
            .await?
        }
    };
    for permission in permissions {
        let granted = RolePermission::query()
            .filter(RolePermission::ROLE.eq(Ref::<Role>::new(role.id)))
            .filter(RolePermission::PERMISSION.eq(*permission))
            .exists(&mut tx)
            .await?;
        if !granted {
            RolePermission::insert(
                &mut tx,
                NewRolePermission {
                    role: Ref::new(role.id),
                    permission: (*permission).to_owned(),
                },
            )
            .await?;
        }
    }
    grant_role(&mut tx, user.id, &name).await?;
    tx.commit().await?;
    Ok(user.id)
}

/// Each role in the database, by name, with the permissions it grants.
///
/// # Errors
///
/// A database error.
pub(crate) async fn roles(db: &Db) -> Result<Vec<(Role, Vec<String>)>> {
    let roles = Role::query().order_by(Role::NAME.asc()).all(db).await?;
    let mut grants: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for grant in RolePermission::query()
        .order_by(RolePermission::PERMISSION.asc())
        .all(db)
        .await?
    {
        grants
            .entry(*grant.role.key())
            .or_default()
            .push(grant.permission);
    }
    Ok(roles
        .into_iter()
        .map(|role| {
            let permissions = grants.remove(&role.id).unwrap_or_default();
            (role, permissions)
        })
        .collect())
}

/// Resolves credentials to identities for the authentication layer: the
/// database, and how long sessions last.
#[derive(Debug, Clone)]
pub(crate) struct Authenticator {
    pub(crate) db: Db,
    pub(crate) sessions: SessionPolicy,
}

impl Authenticator {
    /// The identity behind `presented`, or `None` when it is not a live
    /// credential of an active user.
    pub(crate) async fn identify(&self, presented: Presented) -> Result<Option<Arc<Identity>>> {
        let identity = match presented {
            Presented::Token(hash) => identity_from_token(&self.db, hash).await?,
            Presented::Session(hash) => {
                identity_from_session(&self.db, hash, self.sessions).await?
            }
        };
        Ok(identity.map(Arc::new))
    }
}

/// A credential as a request presents it, already hashed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Presented {
    /// `Authorization: Bearer <token>`.
    Token(SecretHash),
    /// The `fw_session` cookie.
    Session(SecretHash),
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::time::Duration;

    use super::*;
    use crate::auth::models::SessionPatch;
    use crate::testing::TestDb;

    const POLICY: SessionPolicy = SessionPolicy {
        idle_timeout: Duration::from_secs(60 * 60),
        max_age: Duration::from_secs(24 * 60 * 60),
    };

    async fn tables(test_db: &TestDb) -> &Db {
        let db = test_db.db();
        crate::testing::create_tables(
            db,
            &[
                User::SCHEMA,
                Role::SCHEMA,
                RolePermission::SCHEMA,
                UserRole::SCHEMA,
                ApiToken::SCHEMA,
                Session::SCHEMA,
            ],
        )
        .await
        .unwrap();
        db
    }

    fn password(text: &str) -> Password {
        Password::new(text.to_owned()).unwrap()
    }

    async fn user(db: &Db, username: &str, secret: Option<&str>) -> User {
        create_user(
            db,
            NewAccount {
                username: username.to_owned(),
                email: None,
                superuser: false,
                password: secret.map(password),
            },
        )
        .await
        .unwrap()
    }

    async fn token(db: &Db, user_id: i64, scopes: Option<&[&str]>) -> CreatedToken {
        let new = NewToken {
            name: "ci".to_owned(),
            expires_at: None,
            scopes: scopes.map(|scopes| scopes.iter().map(|scope| (*scope).to_owned()).collect()),
            api_version: None,
        };
        create_token(db, user_id, new).await.unwrap()
    }

    async fn identify_token(db: &Db, token: &str) -> Option<Identity> {
        identity_from_token(db, SecretHash::of(token.as_bytes()))
            .await
            .unwrap()
    }

    async fn identify_session(db: &Db, secret: &str) -> Option<Identity> {
        identity_from_session(db, SecretHash::of(secret.as_bytes()), POLICY)
            .await
            .unwrap()
    }

    /// Whether `check` comes true within a second: for the time of last use,
    /// written beside the request.
    async fn eventually<F: Future<Output = bool>>(check: impl Fn() -> F) -> bool {
        for _ in 0..100 {
            if check().await {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    async fn set_active(db: &Db, user_id: i64, active: bool) {
        let patch = UserPatch {
            is_active: Some(active),
            ..UserPatch::default()
        };
        User::patch(db, user_id, patch).await.unwrap();
    }

    /// The right password signs in and records the login; a wrong one, an
    /// unknown user, an inactive one and one without a password do not.
    async fn passwords_sign_in_only_their_active_user(test_db: TestDb) {
        let db = tables(&test_db).await;
        let alice = user(db, "alice", Some("correct horse")).await;
        assert!(alice.last_login.is_none());
        let stored = alice.password_hash.clone().unwrap();
        assert!(
            stored.starts_with("$argon2id$"),
            "the hash, not the password"
        );
        assert!(!format!("{alice:?}").contains(&stored), "redacted in Debug");

        let signed_in = check_password(db, "alice", password("correct horse"))
            .await
            .unwrap()
            .expect("the right password");
        assert!(signed_in.last_login.is_some());
        assert_eq!(
            signed_in.password_hash.as_deref(),
            Some(stored.as_str()),
            "no rehash"
        );
        for (username, offered) in [
            ("alice", "correct horsf"),
            ("nobody", "correct horse"),
            ("not a username!", "correct horse"),
        ] {
            let offered = Password::offered(offered.to_owned()).unwrap();
            assert!(
                check_password(db, username, offered)
                    .await
                    .unwrap()
                    .is_none()
            );
        }
        user(db, "tokens_only", None).await;
        let offered = password("anything at all");
        assert!(
            check_password(db, "tokens_only", offered)
                .await
                .unwrap()
                .is_none()
        );
        set_active(db, alice.id, false).await;
        let offered = password("correct horse");
        assert!(
            check_password(db, "alice", offered)
                .await
                .unwrap()
                .is_none()
        );
    }

    /// A hash made with other parameters is replaced at the next login.
    async fn a_login_rehashes_an_old_hash(test_db: TestDb) {
        let db = tables(&test_db).await;
        let alice = user(db, "alice", Some("correct horse")).await;
        let old = password::hash_with_old_parameters(&password("correct horse"));
        let patch = UserPatch {
            password_hash: Some(Some(old.clone())),
            ..UserPatch::default()
        };
        User::patch(db, alice.id, patch).await.unwrap();
        let signed_in = check_password(db, "alice", password("correct horse"))
            .await
            .unwrap()
            .expect("the old hash still verifies");
        let new = signed_in.password_hash.unwrap();
        assert_ne!(new, old);
        assert!(!password::needs_rehash(&new));
        assert!(password::verify(&password("correct horse"), &new));
    }

    /// The database holds the token's SHA-256 and a short prefix, never the
    /// token.
    async fn the_database_holds_a_token_s_hash_not_the_token(test_db: TestDb) {
        let db = tables(&test_db).await;
        let alice = user(db, "alice", None).await;
        let created = token(db, alice.id, None).await;
        assert!(secret::is_token(&created.token));
        let stored: Vec<(String, String)> =
            crate::sql::sql("SELECT \"token_hash\", \"prefix\" FROM \"fw_api_token\"")
                .fetch_all(db, |row| Ok((row.get(0)?, row.get(1)?)))
                .await
                .unwrap();
        let [(hash, prefix)] = stored.as_slice() else {
            panic!("one token: {stored:?}")
        };
        assert_eq!(*hash, SecretHash::of(created.token.as_bytes()).to_hex());
        assert!(!hash.contains(&created.token[3..]));
        assert_eq!(*prefix, created.token[..SHOWN_PREFIX_LENGTH]);
        assert!(!format!("{:?}", created.row).contains(hash.as_str()));
        let listed = list_tokens(db, alice.id).await.unwrap();
        assert_eq!(listed.len(), 1);
    }

    /// A token resolves to its user until it is revoked or expires, or the
    /// user is made inactive; a token of the wrong shape or unknown resolves
    /// to nothing.
    async fn a_token_works_until_revoked_or_expired(test_db: TestDb) {
        let db = tables(&test_db).await;
        let alice = user(db, "alice", None).await;
        let created = token(db, alice.id, None).await;
        let identity = identify_token(db, &created.token).await.expect("accepted");
        assert_eq!(identity.username, "alice");
        assert_eq!(
            identity.credential,
            Credential::Token { id: created.row.id }
        );
        assert_eq!(
            identity.actor(),
            format!("user:{}/token:{}", alice.id, created.row.id)
        );
        let recorded = eventually(|| async {
            ApiToken::get(db, created.row.id)
                .await
                .unwrap()
                .last_used_at
                .is_some()
        });
        assert!(recorded.await, "the first use is recorded");
        assert!(
            identify_token(db, &secret::new_token().unwrap())
                .await
                .is_none()
        );

        set_active(db, alice.id, false).await;
        assert!(
            identify_token(db, &created.token).await.is_none(),
            "inactive"
        );
        set_active(db, alice.id, true).await;
        assert!(identify_token(db, &created.token).await.is_some());

        let revoked = revoke_token(db, created.row.id, Some(alice.id + 1))
            .await
            .unwrap();
        assert!(
            revoked.is_none(),
            "another user's token is not theirs to revoke"
        );
        let revoked = revoke_token(db, created.row.id, Some(alice.id))
            .await
            .unwrap();
        assert!(revoked.unwrap().revoked_at.is_some());
        assert!(
            identify_token(db, &created.token).await.is_none(),
            "revoked"
        );
        assert!(revoke_token(db, 999, None).await.unwrap().is_none());

        let expiring = create_token(
            db,
            alice.id,
            NewToken {
                name: "short-lived".to_owned(),
                expires_at: Some(crate::db::now() - chrono::TimeDelta::seconds(1)),
                scopes: None,
                api_version: None,
            },
        )
        .await
        .unwrap();
        assert!(
            identify_token(db, &expiring.token).await.is_none(),
            "expired"
        );
    }

    /// A user holds the permissions of their roles; a scoped token only those
    /// of them within its scopes; a superuser all, unless the token is scoped.
    async fn permissions_are_the_roles_narrowed_by_the_scopes(test_db: TestDb) {
        let db = tables(&test_db).await;
        let roles = [
            RoleSpec {
                name: "reader",
                description: "Reads dividends.",
                permissions: vec!["view_dividend", "view_security"],
            },
            RoleSpec {
                name: "operator",
                description: "Imports.",
                permissions: vec!["view_dividend", "import_dividends"],
            },
        ];
        sync_roles(db, &roles).await.unwrap();
        let alice = user(db, "alice", None).await;
        grant_role(db, alice.id, "reader").await.unwrap();
        grant_role(db, alice.id, "operator").await.unwrap();
        grant_role(db, alice.id, "operator").await.unwrap();
        let error = grant_role(db, alice.id, "nope")
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("`operator`, `reader`"), "{error}");

        let full = identify_token(db, &token(db, alice.id, None).await.token)
            .await
            .unwrap();
        let held: Vec<&str> = full.permissions.iter().map(String::as_str).collect();
        assert_eq!(held, ["import_dividends", "view_dividend", "view_security"]);
        assert!(!full.has("delete_dividend"));

        let scoped = token(db, alice.id, Some(&["view_dividend", "delete_dividend"])).await;
        let scoped = identify_token(db, &scoped.token).await.unwrap();
        let held: Vec<&str> = scoped.permissions.iter().map(String::as_str).collect();
        assert_eq!(held, ["view_dividend"], "roles ∩ scopes");

        let root = create_user(
            db,
            NewAccount {
                username: "root".to_owned(),
                email: Some("root@example.com".to_owned()),
                superuser: true,
                password: None,
            },
        )
        .await
        .unwrap();
        let all = identify_token(db, &token(db, root.id, None).await.token)
            .await
            .unwrap();
        assert!(all.superuser && all.has("delete_dividend") && all.has("anything"));
        let narrowed = token(db, root.id, Some(&["view_dividend"])).await;
        let narrowed = identify_token(db, &narrowed.token).await.unwrap();
        assert!(narrowed.has("view_dividend") && !narrowed.has("delete_dividend"));
    }

    /// A session lasts until it idles, grows too old or is ended; changing the
    /// password ends all of the user's sessions.
    async fn a_session_lasts_until_idle_old_or_ended(test_db: TestDb) {
        let db = tables(&test_db).await;
        let alice = user(db, "alice", Some("correct horse")).await;
        let started = create_session(db, alice.id, POLICY).await.unwrap();
        assert!(secret::is_secret(&started.secret));
        let identity = identify_session(db, &started.secret).await.expect("live");
        assert_eq!(identity.credential, Credential::Session { id: started.id });
        assert_eq!(identity.actor(), format!("user:{}", alice.id));
        let stored = Session::get(db, started.id).await.unwrap();
        assert_eq!(stored.expires_at, started.expires_at);
        assert_ne!(stored.session_hash, started.secret);

        let idle = chrono::TimeDelta::from_std(POLICY.idle_timeout).unwrap();
        let set_seen = |at| {
            Session::patch(
                db,
                started.id,
                SessionPatch {
                    last_seen_at: Some(at),
                    ..SessionPatch::default()
                },
            )
        };
        set_seen(crate::db::now() - idle - chrono::TimeDelta::seconds(1))
            .await
            .unwrap();
        assert!(
            identify_session(db, &started.secret).await.is_none(),
            "idle"
        );
        set_seen(crate::db::now() - chrono::TimeDelta::minutes(5))
            .await
            .unwrap();
        assert!(identify_session(db, &started.secret).await.is_some());
        let refreshed = eventually(|| async {
            let seen = Session::get(db, started.id).await.unwrap().last_seen_at;
            crate::db::now() - seen < chrono::TimeDelta::minutes(1)
        });
        assert!(
            refreshed.await,
            "a use five minutes after the last is recorded"
        );

        let patch = SessionPatch {
            expires_at: Some(crate::db::now() - chrono::TimeDelta::seconds(1)),
            ..SessionPatch::default()
        };
        Session::patch(db, started.id, patch).await.unwrap();
        assert!(
            identify_session(db, &started.secret).await.is_none(),
            "too old"
        );

        let second = create_session(db, alice.id, POLICY).await.unwrap();
        assert_ne!(second.secret, started.secret, "a new secret per sign-in");
        let second_hash = SecretHash::of(second.secret.as_bytes());
        end_session_with_hash(db, second_hash).await.unwrap();
        end_session_with_hash(db, second_hash).await.unwrap();
        assert!(
            identify_session(db, &second.secret).await.is_none(),
            "ended"
        );

        let third = create_session(db, alice.id, POLICY).await.unwrap();
        set_password(db, alice.id, password("battery staple"))
            .await
            .unwrap();
        assert!(
            identify_session(db, &third.secret).await.is_none(),
            "password changed"
        );
        assert!(
            check_password(db, "alice", password("battery staple"))
                .await
                .unwrap()
                .is_some()
        );
    }

    /// Syncing the declared roles twice changes nothing the second time; a
    /// changed declaration adds and removes grants to match.
    async fn role_sync_is_idempotent(test_db: TestDb) {
        let db = tables(&test_db).await;
        let mut roles = vec![RoleSpec {
            name: "support",
            description: "Answers customers.",
            permissions: vec!["view_account", "view_dividend"],
        }];
        assert_eq!(sync_roles(db, &roles).await.unwrap().changed, 3);
        assert_eq!(sync_roles(db, &roles).await.unwrap().changed, 0);
        roles[0].permissions = vec!["view_account", "view_position"];
        roles[0].description = "Answers customers' questions.";
        assert_eq!(sync_roles(db, &roles).await.unwrap().changed, 3);
        let listed = super::roles(db).await.unwrap();
        let [(role, permissions)] = listed.as_slice() else {
            panic!("one role: {}", listed.len())
        };
        assert_eq!(role.description, "Answers customers' questions.");
        assert_eq!(permissions, &["view_account", "view_position"]);
    }

    macro_rules! on_both_databases {
        ($($case:ident),* $(,)?) => {
            mod sqlite {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $case() {
                        super::$case(crate::testing::TestDb::sqlite().await).await;
                    }
                )*
            }
            mod postgres {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $case() {
                        super::$case(crate::testing::TestDb::postgres().await).await;
                    }
                )*
            }
        };
    }

    on_both_databases!(
        passwords_sign_in_only_their_active_user,
        a_login_rehashes_an_old_hash,
        the_database_holds_a_token_s_hash_not_the_token,
        a_token_works_until_revoked_or_expired,
        permissions_are_the_roles_narrowed_by_the_scopes,
        a_session_lasts_until_idle_old_or_ended,
        role_sync_is_idempotent,
    );
}
