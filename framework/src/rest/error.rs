//! [`ApiError`]: every HTTP failure, rendered as RFC 9457 problem details.

use std::fmt;

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::caller::Refusal;
use crate::error::{Error, Unavailable};
use crate::schema::ModelSchema;

/// The media type of every error body.
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

/// An HTTP failure: a status, a message that is safe to show to the caller, and,
/// for validation, the offending fields.
///
/// Handlers return it; it renders as `application/problem+json` (RFC 9457):
/// `{"type", "title", "status", "detail", "errors": [{"pointer", "code", "detail"}]}`.
/// Internal errors are logged with their cause and answered with a generic 500:
/// no SQL, driver message or stack trace ever reaches a response body.
///
/// ```
/// let error = fw::ApiError::invalid("/pay_date", "before_ex_date", "must not be before `ex_date`");
/// assert_eq!(error.status(), axum::http::StatusCode::UNPROCESSABLE_ENTITY);
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ApiError {
    /// 400: the body is not JSON, or a query parameter is malformed or unknown.
    BadRequest {
        /// What is wrong and how to fix it.
        detail: String,
    },
    /// 401: the caller did not authenticate; `challenge` is the `WWW-Authenticate` value.
    Unauthenticated {
        /// The `WWW-Authenticate` challenge, e.g. `Bearer`.
        challenge: String,
    },
    /// 401: a login's username and password are not those of an active user
    /// (which of them is wrong, and whether the user exists, is not said).
    LoginFailed,
    /// 403: the caller may not do this.
    Forbidden {
        /// Why, in terms the caller can act on.
        detail: String,
    },
    /// 404: no such resource (or not visible to the caller).
    NotFound,
    /// 405: the path exists but not with this method.
    MethodNotAllowed {
        /// The methods the path supports, for the `Allow` header; empty where
        /// the router sets that header itself.
        allow: Vec<Method>,
    },
    /// 406: the `Accept` header excludes JSON.
    NotAcceptable,
    /// 408: the request was not received and answered within the time limit
    /// (`FW_REQUEST_TIMEOUT`).
    RequestTimeout {
        /// The time limit.
        limit: std::time::Duration,
    },
    /// 409: a unique value is taken, or other rows still reference this one.
    Conflict {
        /// What conflicts.
        detail: String,
        /// The conflicting fields, as JSON pointers into the request.
        errors: Vec<FieldError>,
    },
    /// 412: `If-Match` names a version that is no longer current.
    PreconditionFailed {
        /// Which version was expected.
        detail: String,
    },
    /// 413: the request body exceeds the limit.
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 414: the request target, path and query, is longer than the limit
    /// (`FW_MAX_URI_LENGTH`).
    UriTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// 415: the request body is not `application/json`.
    UnsupportedMediaType,
    /// 422: the body is well-formed but some fields are invalid.
    Validation {
        /// Every invalid field, with a JSON pointer into the request.
        errors: Vec<FieldError>,
    },
    /// 422: the request's `Idempotency-Key` was first used with a different
    /// request (method, path or body), whose answer it keeps.
    IdempotencyKeyReused,
    /// 429: too many requests; retry after the given number of seconds.
    TooManyRequests {
        /// Seconds until the caller may retry.
        retry_after: u64,
    },
    /// 429: the caller spent its budget in a rate-limit group (see
    /// [the guide](crate::docs::rate_limits)).
    RateLimited {
        /// The group: `reads`, `writes`, or one the application named.
        group: &'static str,
        /// The group's limit.
        rate: crate::settings::rate_limits::Rate,
        /// Seconds until the caller may retry.
        retry_after: u64,
    },
    /// 431: the request has more header fields than the limit (`FW_MAX_HEADERS`).
    TooManyHeaders {
        /// The most header fields a request may have.
        limit: usize,
    },
    /// 431: the request's header fields, names and values, are larger in all
    /// than the limit (`FW_MAX_HEADER_BYTES`).
    HeadersTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 503: the database is busy past its wait bound, unreachable or full (see
    /// [`Error::Unavailable`]); retry after the given number of seconds.
    ServiceUnavailable {
        /// Seconds until the caller may retry, for the `Retry-After` header.
        retry_after: u64,
        /// What is unavailable, in terms the caller can act on.
        detail: String,
    },
    /// 503: a check of the readiness probe (`GET /health/ready`) failed: the
    /// instance should get no traffic until it passes. The body names the
    /// check in its `check` member.
    NotReady {
        /// The check that failed: `database`, `pool` or `migrations`.
        check: &'static str,
        /// What failed, for the operator.
        detail: String,
    },
    /// Another client error, with a status a custom action declares it
    /// answers (see [`RowAction::ERRORS`](crate::RowAction::ERRORS)): made
    /// with [`ApiError::refused`].
    Refused {
        /// A 4xx status.
        status: StatusCode,
        /// What is wrong, in terms the caller can act on.
        detail: String,
    },
    /// 500: a failure on our side. The cause is logged, never sent.
    Internal {
        /// The cause, for the log.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// `name` as one segment of a JSON Pointer (RFC 6901): `~` and `/` escaped.
pub(crate) fn escape_pointer(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// One invalid field of a request: where it is, a stable code, and a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON Pointer (RFC 6901) into the request body, e.g. `/ex_date`.
    pub pointer: String,
    /// A stable, machine-readable code, e.g. `max_length`, `required`.
    pub code: String,
    /// A human-readable explanation.
    pub detail: String,
}

impl FieldError {
    /// An error on the field at `pointer`.
    pub fn new(
        pointer: impl Into<String>,
        code: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        FieldError {
            pointer: pointer.into(),
            code: code.into(),
            detail: detail.into(),
        }
    }
}

impl ApiError {
    /// A 422 with one invalid field: for cross-field rules in hooks.
    pub fn invalid(
        pointer: impl Into<String>,
        code: impl Into<String>,
        detail: impl Into<String>,
    ) -> ApiError {
        ApiError::Validation {
            errors: vec![FieldError::new(pointer, code, detail)],
        }
    }

    /// A 409 explaining what conflicts: for an action refused by the row's
    /// state (cancelling what is cancelled already).
    pub fn conflict(detail: impl Into<String>) -> ApiError {
        ApiError::Conflict {
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// A refusal with 4xx `status`, explained by `detail`; any other status
    /// is a 500 (logged), as only a client error is the client's to fix.
    pub fn refused(status: StatusCode, detail: impl Into<String>) -> ApiError {
        let detail = detail.into();
        if status.is_client_error() {
            ApiError::Refused { status, detail }
        } else {
            ApiError::internal(format!(
                "refused with {status}, which is not a client error: {detail}"
            ))
        }
    }

    /// A 400 explaining what is malformed.
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            detail: detail.into(),
        }
    }

    /// A 500 whose cause is logged, not sent.
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> ApiError {
        ApiError::Internal {
            source: source.into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated { .. } | ApiError::LoginFailed => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            ApiError::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation { .. } | ApiError::IdempotencyKeyReused => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::TooManyRequests { .. } | ApiError::RateLimited { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::TooManyHeaders { .. } | ApiError::HeadersTooLarge { .. } => {
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            }
            ApiError::ServiceUnavailable { .. } | ApiError::NotReady { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Refused { status, .. } => *status,
            ApiError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::BadRequest { detail }
            | ApiError::Forbidden { detail }
            | ApiError::Conflict { detail, .. }
            | ApiError::PreconditionFailed { detail }
            | ApiError::ServiceUnavailable { detail, .. }
            | ApiError::NotReady { detail, .. }
            | ApiError::Refused { detail, .. } => detail.clone(),
            ApiError::Unauthenticated { .. } => {
                "authenticate and send the credentials with the request".to_owned()
            }
            ApiError::LoginFailed => {
                "the username or the password is wrong, or the user is inactive; check both \
                 and retry"
                    .to_owned()
            }
            ApiError::NotFound => "no resource at this address".to_owned(),
            ApiError::MethodNotAllowed { allow } if allow.is_empty() => {
                "this address does not support the request's method; the `Allow` header \
                 lists the methods it does"
                    .to_owned()
            }
            ApiError::MethodNotAllowed { allow } => format!(
                "this address supports {}",
                allow
                    .iter()
                    .map(Method::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ApiError::NotAcceptable => {
                "responses are `application/json`; accept it in the `Accept` header".to_owned()
            }
            ApiError::RequestTimeout { limit } => format!(
                "the request was not received and answered within the limit of {} seconds; \
                 send it whole without pauses, and retry",
                limit.as_secs_f64()
            ),
            ApiError::PayloadTooLarge { limit } => {
                format!("the request body exceeds the limit of {limit} bytes")
            }
            ApiError::UriTooLong { limit } => format!(
                "the request's path and query string exceed the limit of {limit} bytes; \
                 shorten them"
            ),
            ApiError::UnsupportedMediaType => {
                "send the request body as JSON with `Content-Type: application/json`".to_owned()
            }
            ApiError::Validation { errors } => format!(
                "{} invalid field{} in the request",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            ),
            ApiError::IdempotencyKeyReused => {
                "this `Idempotency-Key` was used with a different request (method, path or \
                 body); send a new key with a new request"
                    .to_owned()
            }
            ApiError::TooManyRequests { retry_after } => {
                format!("too many requests; retry after {retry_after} seconds")
            }
            ApiError::RateLimited {
                group,
                rate,
                retry_after,
            } => format!(
                "this caller's limit of {rate} in the rate-limit group `{group}` is spent; retry \
                 after {retry_after} second{}",
                if *retry_after == 1 { "" } else { "s" }
            ),
            ApiError::TooManyHeaders { limit } => {
                format!("the request has more than {limit} header fields; send fewer")
            }
            ApiError::HeadersTooLarge { limit } => format!(
                "the request's header fields exceed the limit of {limit} bytes in all; \
                 send fewer or shorter ones"
            ),
            ApiError::Internal { .. } => {
                "the server failed to handle the request; it has been logged".to_owned()
            }
        }
    }

    /// The 409 of a write whose values of fields `names` another row has.
    fn taken(names: Vec<String>) -> ApiError {
        ApiError::Conflict {
            detail: format!(
                "another row already has the same {}",
                names
                    .iter()
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            errors: names
                .iter()
                .map(|name| {
                    FieldError::new(
                        format!("/{}", escape_pointer(name)),
                        "unique",
                        "this value is already taken",
                    )
                })
                .collect(),
        }
    }

    /// The 412 of a conditional write whose row moved on from version `expected`.
    fn stale_version(expected: i64) -> ApiError {
        ApiError::PreconditionFailed {
            detail: format!(
                "the resource changed since version {expected}; fetch it again and retry"
            ),
        }
    }

    /// Maps a database error from a write on `model` to its HTTP meaning, naming
    /// fields by their API names (`api_name` maps a model field name to it).
    pub(crate) fn from_db(
        error: Error,
        model: &ModelSchema,
        api_name: impl Fn(&str) -> String,
    ) -> ApiError {
        match error {
            Error::NotFound { .. } => ApiError::NotFound,
            Error::UniqueViolation { fields, .. } => {
                ApiError::taken(fields.iter().map(|field| api_name(field)).collect())
            }
            Error::ForeignKeyViolation { relation } => {
                let dangling = (relation.table == model.table)
                    .then_some(relation.column.as_deref())
                    .flatten()
                    .and_then(|column| model.fields.iter().find(|field| field.column == column));
                match dangling {
                    // Well-formed, but at odds with the rows there are now (as a
                    // taken unique value is): a 409, which the same request may
                    // pass once the referenced row exists.
                    Some(field) => ApiError::Conflict {
                        detail: format!(
                            "the row `{}` refers to does not exist",
                            api_name(field.name)
                        ),
                        errors: vec![FieldError::new(
                            format!("/{}", api_name(field.name)),
                            "does_not_exist",
                            "the referenced row does not exist",
                        )],
                    },
                    None => ApiError::Conflict {
                        detail: format!(
                            "other rows still reference this one (`{}`); delete or change them first",
                            relation.table
                        ),
                        errors: Vec::new(),
                    },
                }
            }
            Error::StaleVersion { expected, .. } => ApiError::stale_version(expected),
            Error::CheckViolation { constraint } => {
                let field = model
                    .fields
                    .iter()
                    .find(|field| constraint.contains(field.column));
                ApiError::invalid(
                    field.map_or_else(String::new, |field| format!("/{}", api_name(field.name))),
                    "constraint",
                    "the value violates a constraint",
                )
            }
            Error::NotNullViolation { column } => {
                let name = model
                    .fields
                    .iter()
                    .find(|field| field.column == column)
                    .map_or(column, |field| api_name(field.name));
                ApiError::invalid(format!("/{name}"), "required", "this field may not be null")
            }
            error => ApiError::from(error),
        }
    }

    /// The 503 for a database that cannot serve now: the cause is logged (a
    /// deployer needs to know the database is down or full), the client is told
    /// when to retry.
    fn unavailable(cause: Unavailable, source: &Error) -> ApiError {
        let request_id = crate::changes::current_request_id();
        tracing::warn!(error = %source, request_id, "database unavailable");
        let retry_after = cause.retry_after_secs();
        let what = match cause {
            Unavailable::TimedOut => "no database connection became free in time",
            Unavailable::Busy => "the database is busy",
            Unavailable::Unreachable => "the database cannot be reached",
            Unavailable::Full => "the database has no space left",
        };
        ApiError::ServiceUnavailable {
            retry_after,
            detail: format!(
                "{what}; retry after {retry_after} second{}",
                if retry_after == 1 { "" } else { "s" }
            ),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status(), self.detail())
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ApiError::Internal { source } => Some(source.as_ref()),
            _ => None,
        }
    }
}

/// The `WWW-Authenticate` challenge of a 401: a bearer token, or a session.
pub(crate) const CHALLENGE: &str = "Bearer";

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> ApiError {
        match refusal {
            Refusal::Unauthenticated => ApiError::Unauthenticated {
                challenge: CHALLENGE.to_owned(),
            },
            Refusal::Forbidden { permission } => ApiError::Forbidden {
                detail: format!(
                    "this needs the `{permission}` permission, which your roles do not grant; \
                     ask an administrator for a role that grants it"
                ),
            },
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}

/// A database error from code of the application's own (a custom action, a
/// hook) that `?` returns: what the request can fix is a 4xx, as in the
/// built-in handlers (which name fields by their API names, see
/// `ApiError::from_db`; here they are the model's).
impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::NotFound { .. } => ApiError::NotFound,
            // A `patch_if_version` whose row moved on is the client's
            // precondition failing, not the server's.
            Error::StaleVersion { expected, .. } => ApiError::stale_version(expected),
            Error::Unavailable { cause, .. } => ApiError::unavailable(cause, &error),
            Error::UniqueViolation { fields, .. } => {
                ApiError::taken(fields.iter().map(|field| (*field).to_owned()).collect())
            }
            Error::ForeignKeyViolation { .. } => ApiError::conflict(
                "the write refers to a row that does not exist, or rows still refer to the one \
                 it deletes",
            ),
            Error::CheckViolation { .. } | Error::NotNullViolation { .. } => {
                ApiError::invalid("", "constraint", "a value violates a constraint")
            }
            error => ApiError::internal(error),
        }
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'a str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [FieldError],
    #[serde(skip_serializing_if = "Option::is_none")]
    check: Option<&'static str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal { source } = &self {
            // The response's `x-request-id` leads to this line.
            let request_id = crate::changes::current_request_id();
            tracing::error!(error = %source, request_id, "request failed");
        }
        let errors: &[FieldError] = match &self {
            ApiError::Validation { errors } | ApiError::Conflict { errors, .. } => errors,
            _ => &[],
        };
        let problem = Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: self.detail(),
            errors,
            check: match &self {
                ApiError::NotReady { check, .. } => Some(*check),
                _ => None,
            },
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        match &self {
            ApiError::Unauthenticated { challenge } => {
                if let Ok(value) = HeaderValue::from_str(challenge) {
                    headers.insert(header::WWW_AUTHENTICATE, value);
                }
            }
            // A login is how a browser gets its credential; a client that is
            // not one authenticates with a bearer token.
            ApiError::LoginFailed => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::MethodNotAllowed { allow } if !allow.is_empty() => {
                let allow: Vec<&str> = allow.iter().map(Method::as_str).collect();
                if let Ok(value) = HeaderValue::from_str(&allow.join(", ")) {
                    headers.insert(header::ALLOW, value);
                }
            }
            ApiError::TooManyRequests { retry_after }
            | ApiError::RateLimited { retry_after, .. }
            | ApiError::ServiceUnavailable { retry_after, .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A custom action's conditional write that finds its row moved on answers
    /// 412 through `?`, as the resource handlers do.
    #[test]
    fn a_stale_version_is_a_failed_precondition() {
        let error = ApiError::from(Error::StaleVersion {
            model: "Dividend",
            expected: 3,
        });
        assert_eq!(error.status(), StatusCode::PRECONDITION_FAILED);
        assert!(error.to_string().contains("version 3"), "{error}");
    }
}
