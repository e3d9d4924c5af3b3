//! Identity over HTTP: `POST /auth/login`, `POST /auth/logout`,
//! `GET /auth/me`, and a user's API tokens at `/auth/tokens`, mounted and
//! documented by [`App::auth`](crate::App::auth).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::header::{CACHE_CONTROL, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use fw_core::access::{MAX_NAME_LENGTH, is_name};
use serde_json::{Map, Value as Json, json};

use super::models::{ApiToken, User};
use super::password::{MAX_PASSWORD_BYTES, Password};
use super::secret::{SHOWN_PREFIX_LENGTH, SecretHash};
use super::session::{LOGIN_PATH, LOGOUT_PATH, clear_cookie, cookie_secret, is_local, set_cookie};
use super::store::{
    self, MAX_TOKEN_NAME_LENGTH, MAX_USERNAME_LENGTH, NewToken, identity_from_session,
};
use super::throttle::{ACCOUNT_LIMIT, ADDRESS_LIMIT, LoginThrottle};
use super::{Access, Credential, Identity, SessionPolicy, csrf};
use crate::client::ClientAddr;
use crate::context::AppContext;
use crate::model::Model;
use crate::rest::{Api, ApiError, FieldError, PROBLEM_JSON, RequestContext, json_integer};

/// `GET` and `POST` of the caller's tokens.
const TOKENS_PATH: &str = "/auth/tokens";
/// `DELETE` of one of them.
const TOKEN_PATH: &str = "/auth/tokens/{id}";
/// The caller.
const ME_PATH: &str = "/auth/me";

/// The longest lifetime a token can be given, in days: ten years.
const MAX_TOKEN_DAYS: i64 = 3650;

/// The most scopes a token can be given.
const MAX_SCOPES: usize = 64;

/// The most working (neither revoked nor expired) tokens a user can make
/// through the API, which bounds what one user can make the server store.
const MAX_WORKING_TOKENS: i64 = 100;

/// What the identity endpoints share across requests: the login throttle,
/// and how long sessions last.
#[derive(Debug, Clone)]
pub(crate) struct AuthState {
    throttle: Arc<LoginThrottle>,
    sessions: SessionPolicy,
    /// The API's versions, newest first (empty without versions): what a
    /// new token may be pinned to.
    versions: Arc<[&'static str]>,
}

impl AuthState {
    pub(crate) fn new(sessions: SessionPolicy, versions: Vec<&'static str>) -> AuthState {
        AuthState {
            throttle: Arc::new(LoginThrottle::new()),
            sessions,
            versions: versions.into(),
        }
    }
}

/// The identity endpoints, with their state carried by the handlers.
pub(crate) fn routes(state: AuthState) -> Router<AppContext> {
    let login_state = state.clone();
    let versions = Arc::clone(&state.versions);
    Router::new()
        .route(
            LOGIN_PATH,
            post(move |State(app), request| login(app, login_state.clone(), request)),
        )
        .route(LOGOUT_PATH, post(logout))
        .route(ME_PATH, get(me))
        .route(
            TOKENS_PATH,
            get(list_tokens)
                .post(move |request, body| create_token(request, body, Arc::clone(&versions))),
        )
        .route(TOKEN_PATH, delete(revoke_token))
}

/// `POST /auth/login`: a new session for the user whose username and
/// password the body holds, its cookie set, and the user as `/auth/me` shows
/// them.
async fn login(app: AppContext, state: AuthState, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    // The client as the trusted proxies forwarded it, not the proxy itself.
    let client = parts
        .extensions
        .get::<ClientAddr>()
        .map(|ClientAddr(address)| *address);
    let request = RequestContext::from_parts(app, parts);
    csrf::refuse_cross_site(&request.headers, &request.uri)?;
    let (username, password) = login_body(&request.headers, body).await?;
    let attempt = state
        .throttle
        .attempt(&username, client, Instant::now())
        .map_err(|wait| {
            throttled(client);
            ApiError::TooManyRequests {
                retry_after: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })?;
    let db = request.db();
    let user = store::check_password(db, &username, password)
        .await
        .map_err(ApiError::internal)?
        .ok_or(ApiError::LoginFailed)?;
    state.throttle.succeeded(attempt);
    // The session the browser had, if any, ends: the new one never shares
    // its secret, so one planted before the login is worthless.
    if let Ok(Some(secret)) = cookie_secret(&request.headers) {
        store::end_session_with_hash(db, SecretHash::of(secret.as_bytes())).await?;
    }
    let started = store::create_session(db, user.id, state.sessions)
        .await
        .map_err(ApiError::internal)?;
    tracing::info!(
        user_id = user.id,
        session_id = started.id,
        expires_at = %started.expires_at,
        request_id = crate::changes::current_request_id(),
        "logged in"
    );
    let identity = identity_from_session(
        db,
        SecretHash::of(started.secret.as_bytes()),
        state.sessions,
    )
    .await?
    .ok_or_else(|| ApiError::internal("the session a login started is not live"))?;
    let described = describe(db, &identity, &user).await?;
    let cookie = set_cookie(
        &started.secret,
        state.sessions.max_age,
        !is_local(&request.headers),
    );
    let mut response = axum::Json(described).into_response();
    let headers = response.headers_mut();
    headers.insert(SET_COOKIE, cookie);
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Logs a refused login: repeated ones from one address are an attack to
/// see. Not the username, which is sometimes a password typed in the wrong
/// field.
fn throttled(client: Option<IpAddr>) {
    tracing::warn!(
        client = client.map(|address| address.to_string()),
        request_id = crate::changes::current_request_id(),
        "login throttled after repeated failures"
    );
}

/// The username and password of a login body.
async fn login_body(headers: &HeaderMap, body: Body) -> Result<(String, Password), ApiError> {
    const FIELDS: &[&str] = &["username", "password"];
    let mut body = Fields::read(headers, body).await?;
    let username = body.text("username", Length::Bytes(MAX_USERNAME_LENGTH));
    let password = body.text("password", Length::Bytes(MAX_PASSWORD_BYTES));
    body.finish(FIELDS)?;
    // Within the bound on what the server hashes, checked above.
    let password = Password::offered(password)
        .map_err(|error| ApiError::invalid("/password", "max_length", error.to_string()))?;
    Ok((username, password))
}

/// `POST /auth/logout`: ends the session the cookie names and removes the
/// cookie. Always a 204: a browser that is not signed in is signed out.
async fn logout(State(app): State<AppContext>, request: Request) -> Result<Response, ApiError> {
    let headers = request.headers();
    if let Ok(Some(secret)) = cookie_secret(headers) {
        csrf::require_same_origin(headers, request.uri())?;
        store::end_session_with_hash(&app.db, SecretHash::of(secret.as_bytes())).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, clear_cookie(!is_local(headers)));
    Ok(response)
}

/// `GET /auth/me`: the caller, and how they authenticated.
async fn me(request: RequestContext) -> Result<Response, ApiError> {
    let identity = request.caller.user()?;
    let user = User::get(request.db(), identity.user_id).await?;
    let described = describe(request.db(), identity, &user).await?;
    Ok(axum::Json(described).into_response())
}

/// The JSON of `/auth/me` (and of a login's answer).
async fn describe(db: &crate::Db, identity: &Identity, user: &User) -> Result<Json, ApiError> {
    let roles = store::role_names(db, identity.user_id).await?;
    let credential = match identity.credential {
        Credential::Session { id } => json!({"type": "session", "id": id}),
        Credential::Token { id } => json!({"type": "token", "id": id}),
    };
    Ok(json!({
        "id": identity.user_id,
        "username": identity.username,
        "email": user.email,
        "superuser": identity.superuser,
        "roles": roles,
        "permissions": identity.permissions,
        "credential": credential,
    }))
}

/// `GET /auth/tokens`: the caller's tokens, newest first, revoked and
/// expired ones included; never a token itself.
async fn list_tokens(request: RequestContext) -> Result<Response, ApiError> {
    let identity = request.caller.user()?;
    let tokens = store::list_tokens(request.db(), identity.user_id).await?;
    let results: Vec<Json> = tokens.iter().map(token_json).collect();
    Ok(axum::Json(json!({ "results": results })).into_response())
}

fn token_json(token: &ApiToken) -> Json {
    let scopes = token.scopes.as_deref().map(|scopes| {
        scopes
            .split(' ')
            .filter(|scope| !scope.is_empty())
            .collect::<Vec<_>>()
    });
    json!({
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "scopes": scopes,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
        "last_used_at": token.last_used_at,
        "api_version": token.api_version,
    })
}

/// `POST /auth/tokens`: a new token of the caller's, shown in the answer and
/// never again.
async fn create_token(
    request: RequestContext,
    body: Body,
    versions: Arc<[&'static str]>,
) -> Result<Response, ApiError> {
    const FIELDS: &[&str] = &["name", "expires_in_days", "scopes", "api_version"];
    let identity = request.caller.user()?;
    let mut fields = Fields::read(&request.headers, body).await?;
    let name = fields.name("name", MAX_TOKEN_NAME_LENGTH);
    let days = fields.days("expires_in_days");
    let scopes = fields.scopes("scopes", identity);
    let api_version = fields.api_version("api_version", &versions);
    fields.finish(FIELDS)?;
    // A token a token makes holds no more than the token that made it: with
    // no scopes asked for, it gets the maker's permissions as its scopes
    // (a superuser's unscoped token is no narrower than its user).
    let scopes = match (scopes, identity.credential) {
        (Some(scopes), _) => Some(scopes),
        (None, Credential::Token { .. }) if !identity.superuser => {
            Some(identity.permissions.iter().cloned().collect())
        }
        (None, _) => None,
    };
    if store::working_token_count(request.db(), identity.user_id).await? >= MAX_WORKING_TOKENS {
        return Err(ApiError::Conflict {
            detail: format!(
                "you have {MAX_WORKING_TOKENS} tokens that work, the most a user may have; \
                 revoke one you no longer use (`DELETE /auth/tokens/{{id}}`) and retry"
            ),
            errors: Vec::new(),
        });
    }
    let new = NewToken {
        name,
        expires_at: days.map(|days| crate::db::now() + chrono::TimeDelta::days(days)),
        scopes,
        api_version,
    };
    let created = store::create_token(request.db(), identity.user_id, new)
        .await
        .map_err(ApiError::internal)?;
    tracing::info!(
        user_id = identity.user_id,
        token_id = created.row.id,
        request_id = crate::changes::current_request_id(),
        "token created"
    );
    let mut shown = token_json(&created.row);
    shown["token"] = Json::String(created.token);
    let mut response = (StatusCode::CREATED, axum::Json(shown)).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `DELETE /auth/tokens/{id}`: revokes one of the caller's tokens; another
/// user's is a 404, as one that does not exist.
async fn revoke_token(
    request: RequestContext,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let identity = request.caller.user()?;
    let id: i64 = crate::value::parse_integer(&id).ok_or(ApiError::NotFound)?;
    store::revoke_token(request.db(), id, Some(identity.user_id))
        .await?
        .ok_or(ApiError::NotFound)?;
    tracing::info!(
        user_id = identity.user_id,
        token_id = id,
        request_id = crate::changes::current_request_id(),
        "token revoked"
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// How a text field's bound is counted.
#[derive(Debug, Clone, Copy)]
enum Length {
    /// In bytes, where the bound is what the server stores or hashes.
    Bytes(usize),
    /// In characters, as a person counts a name.
    Characters(usize),
}

/// A JSON object body, read field by field; every problem is recorded with
/// its pointer and reported together, as resources do.
struct Fields {
    object: Map<String, Json>,
    errors: Vec<FieldError>,
}

impl Fields {
    async fn read(headers: &HeaderMap, body: Body) -> Result<Fields, ApiError> {
        Ok(Fields {
            object: crate::rest::read_object(headers, body).await?,
            errors: Vec::new(),
        })
    }

    fn error(&mut self, pointer: impl Into<String>, code: &str, detail: impl Into<String>) {
        self.errors.push(FieldError::new(pointer, code, detail));
    }

    /// Required, non-empty text of at most `length`; an empty string when it
    /// is missing or invalid, with the error recorded for
    /// [`finish`](Fields::finish) to report.
    fn text(&mut self, name: &'static str, length: Length) -> String {
        let pointer = format!("/{name}");
        let text = match self.object.remove(name) {
            None | Some(Json::Null) => {
                self.error(pointer, "required", "this field is required");
                return String::new();
            }
            Some(Json::String(text)) => text,
            Some(_) => {
                self.error(pointer, "invalid", "expected a string");
                return String::new();
            }
        };
        let (size, max, unit) = match length {
            Length::Bytes(max) => (text.len(), max, "bytes"),
            Length::Characters(max) => (text.chars().count(), max, "characters"),
        };
        if size > max {
            self.error(
                pointer,
                "max_length",
                format!("at most {max} {unit}; shorten it"),
            );
            String::new()
        } else if text.is_empty() {
            self.error(pointer, "required", "this field may not be empty");
            String::new()
        } else {
            text
        }
    }

    /// As [`text`](Fields::text), of at most `max` characters, which must not
    /// all be spaces: a name to tell things apart by.
    fn name(&mut self, name: &'static str, max: usize) -> String {
        let text = self.text(name, Length::Characters(max));
        if !text.is_empty() && text.trim().is_empty() {
            self.error(
                format!("/{name}"),
                "blank",
                "this field may not be only spaces",
            );
        }
        text
    }

    /// An optional whole number of days from 1 to [`MAX_TOKEN_DAYS`].
    fn days(&mut self, name: &'static str) -> Option<i64> {
        let value = self.object.remove(name)?;
        if value.is_null() {
            return None;
        }
        match json_integer(&value) {
            Some(days) if (1..=MAX_TOKEN_DAYS).contains(&days) => Some(days),
            _ => {
                self.error(
                    format!("/{name}"),
                    "invalid",
                    format!("expected a whole number of days from 1 to {MAX_TOKEN_DAYS}"),
                );
                None
            }
        }
    }

    /// The API version a new token is pinned to: one of `versions` (newest
    /// first), the newest when absent or null; `None` for an API without
    /// versions.
    fn api_version(&mut self, name: &'static str, versions: &[&'static str]) -> Option<String> {
        let requested = match self.object.remove(name) {
            None | Some(Json::Null) => None,
            Some(Json::String(date)) => Some(date),
            Some(_) => {
                self.error(format!("/{name}"), "invalid", "expected a version's date");
                return None;
            }
        };
        match store::token_api_version(requested.as_deref(), versions) {
            Ok(version) => version,
            Err(detail) => {
                self.error(format!("/{name}"), "invalid", detail);
                None
            }
        }
    }

    /// An optional list of at most [`MAX_SCOPES`] permission names, each one
    /// `identity` holds.
    fn scopes(&mut self, name: &'static str, identity: &Identity) -> Option<Vec<String>> {
        let value = self.object.remove(name)?;
        let items = match value {
            Json::Null => return None,
            Json::Array(items) if items.len() <= MAX_SCOPES => items,
            Json::Array(_) => {
                self.error(
                    format!("/{name}"),
                    "max_items",
                    format!("at most {MAX_SCOPES} scopes"),
                );
                return None;
            }
            _ => {
                self.error(
                    format!("/{name}"),
                    "invalid",
                    "expected a list of permission names",
                );
                return None;
            }
        };
        let errors_before = self.errors.len();
        let mut scopes = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let pointer = format!("/{name}/{index}");
            match item {
                Json::String(scope) if !is_name(&scope) => self.error(
                    pointer,
                    "pattern",
                    format!(
                        "not a permission name: lowercase letters, digits and `_`, at most \
                         {MAX_NAME_LENGTH} characters, like `view_dividend`"
                    ),
                ),
                Json::String(scope) if !identity.has(&scope) => self.error(
                    pointer,
                    "not_held",
                    format!(
                        "you do not hold `{scope}`; a token's scopes can only narrow its \
                         maker's permissions"
                    ),
                ),
                Json::String(scope) => scopes.push(scope),
                _ => self.error(pointer, "invalid", "expected a permission name"),
            }
        }
        (self.errors.len() == errors_before).then_some(scopes)
    }

    /// Reports every field not in `accepted` and every problem recorded.
    fn finish(mut self, accepted: &[&str]) -> Result<(), ApiError> {
        let mut unknown: Vec<String> = self.object.keys().cloned().collect();
        unknown.sort();
        for name in unknown {
            self.error(
                format!("/{name}"),
                "unknown_field",
                format!(
                    "unknown field; expected one of {}",
                    fw_core::names::backticked(accepted.iter().copied())
                ),
            );
        }
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation {
                errors: self.errors,
            })
        }
    }
}

/// Documents the identity endpoints in `api`'s OpenAPI document, under the
/// tag `auth`; [`routes`] serves them. Documenting them again replaces the
/// earlier documentation.
pub(crate) fn document(api: Api) -> Api {
    api.document_path(LOGIN_PATH, Access::Public, login_operation)
        .document_path(LOGOUT_PATH, Access::Public, logout_operation)
        .document_path(ME_PATH, Access::Authenticated, me_operation)
        .document_path(TOKENS_PATH, Access::Authenticated, tokens_operations)
        .document_path(TOKEN_PATH, Access::Authenticated, token_operations)
}

/// The schema of one of the API's versions, defined by the document.
fn api_version_ref() -> Json {
    json!({"$ref": format!("#/components/schemas/{}", crate::openapi::API_VERSION_SCHEMA)})
}

fn reference(status: u16) -> Json {
    json!({"$ref": format!("#/components/responses/{status}")})
}

/// A problem+json answer with its own description.
fn problem(description: &str) -> Json {
    json!({
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    })
}

fn unauthenticated() -> Json {
    let mut response = problem(
        "No valid credentials: none were sent, or they are wrong, expired, revoked or an \
         inactive user's.",
    );
    response["headers"] = json!({"WWW-Authenticate": {"schema": {"type": "string"}}});
    response
}

fn cross_site() -> Json {
    problem(
        "The request writes with the session cookie but does not come from this site's own \
         pages: neither `Sec-Fetch-Site: same-origin` nor an `Origin` naming this host.",
    )
}

fn json_body(schema: Json) -> Json {
    json!({"required": true, "content": {"application/json": {"schema": schema}}})
}

fn json_response(description: &str, schema: Json) -> Json {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn timestamp(description: &str, nullable: bool) -> Json {
    let kind = if nullable {
        json!(["string", "null"])
    } else {
        json!("string")
    };
    json!({"type": kind, "format": "date-time", "description": description})
}

fn user_schema() -> Json {
    json!({
        "type": "object",
        "description": "The authenticated user, and what this request may do.",
        "required": ["id", "username", "email", "superuser", "roles", "permissions", "credential"],
        "properties": {
            "id": {"type": "integer", "format": "int64"},
            "username": {"type": "string"},
            "email": {"type": ["string", "null"]},
            "superuser": {"type": "boolean", "description": "Whether this request holds every permission: a superuser's, unless its token has scopes."},
            "roles": {"type": "array", "items": {"type": "string"}, "description": "The roles the user holds."},
            "permissions": {"type": "array", "items": {"type": "string"}, "description": "The permissions this request holds: the roles', narrowed to the token's scopes."},
            "credential": {
                "type": "object",
                "description": "How the request authenticated.",
                "required": ["type", "id"],
                "properties": {
                    "type": {"type": "string", "enum": ["session", "token"]},
                    "id": {"type": "integer", "format": "int64", "description": "The session's or the token's id (not its secret)."},
                },
            },
        },
    })
}

fn token_schema(with_secret: bool) -> Json {
    let mut schema = json!({
        "type": "object",
        "description": "An API token, without its secret.",
        "required": ["id", "name", "prefix", "scopes", "created_at", "expires_at", "revoked_at", "last_used_at", "api_version"],
        "properties": {
            "id": {"type": "integer", "format": "int64"},
            "name": {"type": "string"},
            "prefix": {"type": "string", "maxLength": SHOWN_PREFIX_LENGTH, "description": "The token's first characters, to tell it apart."},
            "scopes": {"type": ["array", "null"], "items": {"type": "string"}, "description": "The permissions the token is limited to; null for all of its user's."},
            "created_at": timestamp("When the token was made.", false),
            "expires_at": timestamp("When it stops working; null for never.", true),
            "revoked_at": timestamp("When it was revoked; null while it is not.", true),
            "last_used_at": timestamp("When it last authenticated a request, to the minute.", true),
            "api_version": {
                "anyOf": [api_version_ref(), {"type": "null"}],
                "description": "The API version its requests are served in when they send no `Api-Version`; null for an API without dated versions.",
            },
        },
    });
    if with_secret {
        schema["description"] = json!(
            "A new API token, with the token itself: shown this once, stored only as a hash."
        );
        if let Some(required) = schema["required"].as_array_mut() {
            required.push(json!("token"));
        }
        schema["properties"]["token"] = json!({
            "type": "string",
            "pattern": super::TOKEN_PATTERN.replace(r"\b", ""),
            "description": "Send it as `Authorization: Bearer <token>`.",
        });
    }
    schema
}

fn login_operation() -> Json {
    let retry_after = json!({"Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 1},
    }});
    let mut throttled = problem(&format!(
        "Too many failed logins: {ACCOUNT_LIMIT} for this username, or {ADDRESS_LIMIT} from \
         this address, within 15 minutes. Wait `Retry-After` seconds; each further failure \
         doubles the wait."
    ));
    throttled["headers"] = retry_after;
    json!({"post": {
        "operationId": "auth_login",
        "tags": ["auth"],
        "summary": "Log in with a username and password: a new browser session.",
        "description": "Answers with the user and sets the `fw_session` cookie (`HttpOnly`, `SameSite=Lax`, `Secure` except on localhost). Every login makes a new session and ends the one the request's cookie named. A browser must send it from this site's own pages.",
        "security": [],
        "requestBody": json_body(json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["username", "password"],
            "properties": {
                "username": {"type": "string", "minLength": 1, "maxLength": MAX_USERNAME_LENGTH},
                "password": {"type": "string", "minLength": 1, "maxLength": MAX_PASSWORD_BYTES, "description": "At most 1024 bytes.", "format": "password"},
            },
        })),
        "responses": {
            "200": {
                "description": "Logged in.",
                "headers": {"Set-Cookie": {"description": "The new session's cookie.", "schema": {"type": "string"}}},
                "content": {"application/json": {"schema": user_schema()}},
            },
            "400": reference(400),
            "401": problem("The username or the password is wrong, or the user is inactive: the answer, and the time it takes, are the same for each."),
            "403": problem("A browser sent the login from another site (`Sec-Fetch-Site`, or an `Origin` that is not this host)."),
            "413": reference(413),
            "415": reference(415),
            "422": reference(422),
            "429": throttled,
            "503": crate::openapi::unavailable_response(),
        },
    }})
}

fn logout_operation() -> Json {
    json!({"post": {
        "operationId": "auth_logout",
        "tags": ["auth"],
        "summary": "Log out: end the session the cookie names.",
        "description": "Ends the session on the server and removes the cookie. Answers 204 whether or not a session was open.",
        "security": [],
        "responses": {
            "204": {
                "description": "Logged out.",
                "headers": {"Set-Cookie": {"description": "Removes the session cookie.", "schema": {"type": "string"}}},
            },
            "401": unauthenticated(),
            "403": cross_site(),
            "503": crate::openapi::unavailable_response(),
        },
    }})
}

fn me_operation() -> Json {
    json!({"get": {
        "operationId": "auth_me",
        "tags": ["auth"],
        "summary": "Who is calling: the user, their roles and permissions, and the credential used.",
        "responses": {
            "200": json_response("The caller.", user_schema()),
            "401": unauthenticated(),
            "503": crate::openapi::unavailable_response(),
        },
    }})
}

fn tokens_operations() -> Json {
    json!({
        "get": {
            "operationId": "auth_tokens_list",
            "tags": ["auth"],
            "summary": "The caller's API tokens, newest first, revoked and expired ones included.",
            "responses": {
                "200": json_response("The tokens, without their secrets.", json!({
                    "type": "object",
                    "required": ["results"],
                    "properties": {"results": {"type": "array", "items": token_schema(false)}},
                })),
                "401": unauthenticated(),
                "503": crate::openapi::unavailable_response(),
            },
        },
        "post": {
            "operationId": "auth_tokens_create",
            "tags": ["auth"],
            "summary": "Make an API token for the caller.",
            "description": "The token is in this answer and nowhere else: the server keeps only its hash. Its scopes must be permissions the caller holds; a token made with a token holds at most that token's permissions.",
            "requestBody": json_body(json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": MAX_TOKEN_NAME_LENGTH, "description": "What the token is for."},
                    "expires_in_days": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_TOKEN_DAYS, "description": "Days until it stops working; absent or null for never."},
                    "scopes": {
                        "type": ["array", "null"],
                        "maxItems": MAX_SCOPES,
                        "items": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": MAX_NAME_LENGTH},
                        "description": "Permissions to limit the token to, each one the caller holds; absent or null for all of the caller's.",
                    },
                    "api_version": {
                        "anyOf": [api_version_ref(), {"type": "null"}],
                        "description": "The API version the token's requests are served in when they send no `Api-Version`; absent or null for the newest version now.",
                    },
                },
            })),
            "responses": {
                "201": json_response("The new token, shown this once.", token_schema(true)),
                "400": reference(400),
                "401": unauthenticated(),
                "403": cross_site(),
                "409": problem(&format!("The caller has {MAX_WORKING_TOKENS} tokens that work, the most a user may have: revoke one first.")),
                "413": reference(413),
                "415": reference(415),
                "422": reference(422),
                "503": crate::openapi::unavailable_response(),
            },
        },
    })
}

fn token_operations() -> Json {
    json!({"delete": {
        "operationId": "auth_tokens_revoke",
        "tags": ["auth"],
        "summary": "Revoke one of the caller's API tokens.",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64"}}],
        "responses": {
            "204": {"description": "Revoked (or revoked already)."},
            "401": unauthenticated(),
            "403": cross_site(),
            "404": reference(404),
            "503": crate::openapi::unavailable_response(),
        },
    }})
}
