//! The baseline's authentication, written by hand over fw's tables: an API
//! token of `Authorization: Bearer fw_...` is looked up by its SHA-256 with
//! its user and the permissions of the user's roles in one query, then each
//! handler checks the permission it needs. The answers are fw's: a 401 with
//! `WWW-Authenticate` without credentials or with a bad token, a 403 for a
//! user without the permission, both problem+json.

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::Row as _;

use super::{Database, Problem};

/// The challenge of a 401 for a request that sent no credentials.
const NO_CREDENTIALS: &str = "Bearer";

/// The challenge of a 401 for a token that is malformed, unknown, revoked or
/// expired, or an inactive user's (RFC 6750).
const INVALID_TOKEN: &str = "Bearer error=\"invalid_token\"";

/// An fw token: `fw_` and 43 base62 characters.
const TOKEN_PREFIX: &str = "fw_";
const TOKEN_LENGTH: usize = 46;

/// How stale a token's recorded last use may get before it is written again.
const LAST_USE_RESOLUTION: Duration = Duration::from_secs(60);

/// A live token, its user and the permissions of the user's roles: one row
/// per permission (one with none when the user holds no role). Revoked
/// tokens and inactive users are left out by the query; expiry is checked on
/// the row.
const TOKEN_USER_SQLITE: &str = "SELECT t.id, t.user_id, t.scopes, t.expires_at, \
     t.last_used_at, u.is_superuser, p.permission \
     FROM fw_api_token t \
     JOIN fw_user u ON u.id = t.user_id \
     LEFT JOIN fw_user_role r ON r.user_id = u.id \
     LEFT JOIN fw_role_permission p ON p.role_id = r.role_id \
     WHERE t.token_hash = ?1 AND t.revoked_at IS NULL AND u.is_active";
const TOKEN_USER_POSTGRES: &str = "SELECT t.id, t.user_id, t.scopes, t.expires_at, \
     t.last_used_at, u.is_superuser, p.permission \
     FROM fw_api_token t \
     JOIN fw_user u ON u.id = t.user_id \
     LEFT JOIN fw_user_role r ON r.user_id = u.id \
     LEFT JOIN fw_role_permission p ON p.role_id = r.role_id \
     WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.is_active";

const TOUCH_SQLITE: &str = "UPDATE fw_api_token SET last_used_at = ?1 WHERE id = ?2";
const TOUCH_POSTGRES: &str = "UPDATE fw_api_token SET last_used_at = $1 WHERE id = $2";

/// Who sent a request.
#[derive(Debug)]
pub(super) enum Caller {
    /// No `Authorization` header.
    Anonymous,
    /// A live token of an active user.
    User(TokenUser),
}

/// A token's user, with what the token may do.
#[derive(Debug)]
pub(super) struct TokenUser {
    user_id: i64,
    token_id: i64,
    superuser: bool,
    /// The permissions the token is limited to, space-separated; `None` for
    /// all of its user's.
    scopes: Option<String>,
    /// The permissions of the user's roles.
    granted: Vec<String>,
}

impl TokenUser {
    fn has(&self, permission: &str) -> bool {
        let held = self.superuser || self.granted.iter().any(|granted| granted == permission);
        match &self.scopes {
            None => held,
            Some(scopes) => held && scopes.split(' ').any(|scope| scope == permission),
        }
    }

    /// The change log's actor, as fw records a token's.
    pub(super) fn actor(&self) -> String {
        format!("user:{}/token:{}", self.user_id, self.token_id)
    }
}

impl Caller {
    /// The user, if they hold `permission`.
    ///
    /// # Errors
    ///
    /// A 401 for an anonymous caller, a 403 for a user without it.
    pub(super) fn require(&self, permission: &str) -> Result<&TokenUser, Problem> {
        let Caller::User(user) = self else {
            return Err(unauthenticated(NO_CREDENTIALS));
        };
        if !user.has(permission) {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                format!(
                    "this needs the `{permission}` permission, which your roles do not grant; \
                     ask an administrator for a role that grants it"
                ),
            ));
        }
        Ok(user)
    }
}

fn unauthenticated(challenge: &'static str) -> Problem {
    let mut problem = Problem::new(
        StatusCode::UNAUTHORIZED,
        "authenticate and send the credentials with the request",
    );
    problem.challenge = Some(challenge);
    problem
}

impl FromRequestParts<Database> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, db: &Database) -> Result<Caller, Problem> {
        let Some(token) = bearer_token(&parts.headers)? else {
            return Ok(Caller::Anonymous);
        };
        let hash = sha256_hex(token.as_bytes());
        let rows = match db {
            Database::Sqlite { reader, .. } => sqlx::query(TOKEN_USER_SQLITE)
                .bind(hash.as_str())
                .fetch_all(reader)
                .await?
                .iter()
                .map(|row| {
                    Ok(TokenRow {
                        token_id: row.try_get(0)?,
                        user_id: row.try_get(1)?,
                        scopes: row.try_get(2)?,
                        expires_at: row.try_get(3)?,
                        last_used_at: row.try_get(4)?,
                        superuser: row.try_get(5)?,
                        permission: row.try_get(6)?,
                    })
                })
                .collect::<sqlx::Result<Vec<_>>>()?,
            Database::Postgres(pool) => sqlx::query(TOKEN_USER_POSTGRES)
                .bind(hash.as_str())
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| {
                    Ok(TokenRow {
                        token_id: row.try_get(0)?,
                        user_id: row.try_get(1)?,
                        scopes: row.try_get(2)?,
                        expires_at: row.try_get(3)?,
                        last_used_at: row.try_get(4)?,
                        superuser: row.try_get(5)?,
                        permission: row.try_get(6)?,
                    })
                })
                .collect::<sqlx::Result<Vec<_>>>()?,
        };
        let now = Utc::now();
        let Some(first) = rows.first() else {
            return Err(unauthenticated(INVALID_TOKEN));
        };
        if first.expires_at.is_some_and(|expires_at| expires_at <= now) {
            return Err(unauthenticated(INVALID_TOKEN));
        }
        let stale = first
            .last_used_at
            .is_none_or(|used| (now - used).to_std().unwrap_or_default() >= LAST_USE_RESOLUTION);
        if stale {
            record_use(db.clone(), first.token_id, now);
        }
        let user = TokenUser {
            user_id: first.user_id,
            token_id: first.token_id,
            superuser: first.superuser,
            scopes: first.scopes.clone(),
            granted: rows.into_iter().filter_map(|row| row.permission).collect(),
        };
        Ok(Caller::User(user))
    }
}

struct TokenRow {
    token_id: i64,
    user_id: i64,
    scopes: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    superuser: bool,
    permission: Option<String>,
}

/// The token of `Authorization: Bearer fw_...`; `None` without the header, a
/// 401 when it holds anything else.
fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, Problem> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let invalid = || unauthenticated(INVALID_TOKEN);
    let (scheme, token) = value
        .to_str()
        .ok()
        .and_then(|text| text.split_once(' '))
        .ok_or_else(invalid)?;
    let token = token.trim_matches(' ');
    let well_formed = token.len() == TOKEN_LENGTH
        && token.starts_with(TOKEN_PREFIX)
        && token[TOKEN_PREFIX.len()..]
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric());
    if !scheme.eq_ignore_ascii_case("bearer") || !well_formed {
        return Err(invalid());
    }
    Ok(Some(token))
}

/// The SHA-256 of `secret` in lowercase hex, as `fw_api_token.token_hash`
/// holds it.
fn sha256_hex(secret: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest: [u8; 32] = Sha256::digest(secret).into();
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    hex
}

/// Records that token `token_id` was used `now`, beside the request: the
/// answer does not wait for the write, nor fail with it.
fn record_use(db: Database, token_id: i64, now: DateTime<Utc>) {
    tokio::spawn(async move {
        let written = match &db {
            Database::Sqlite { writer, .. } => sqlx::query(TOUCH_SQLITE)
                .bind(now)
                .bind(token_id)
                .execute(writer)
                .await
                .map(drop),
            Database::Postgres(pool) => sqlx::query(TOUCH_POSTGRES)
                .bind(now)
                .bind(token_id)
                .execute(pool)
                .await
                .map(drop),
        };
        if let Err(error) = written {
            eprintln!("cannot record a token's last use: {error}");
        }
    });
}
