//! The OpenAPI 3.1 document, built from the same [`ResourceSpec`]s that route
//! and validate requests, so the spec says exactly what the server enforces;
//! the committed copy of it, and the breaking-change report between two of them.
//!
//! An application commits its document as `openapi.json`. The `openapi` command
//! writes it, `openapi --check` (and [`check_committed`] in a test) fails when
//! it differs from what the application serves, and every difference is
//! classified by [`diff`] as breaking or compatible. A breaking change is only
//! written with `openapi --accept-breaking "<reason>"`, which records it in
//! `openapi-changes.md` for reviewers.

mod committed;
mod diff;

pub use committed::{
    CHANGES_FILE, ReleasedDrift, SPEC_FILE, SpecDrift, VERSIONS_DIR, check_committed, render,
    report,
};
pub(crate) use committed::{OpenapiArgs, run_command};
pub use diff::{Change, Severity, diff};

use serde_json::{Value as Json, json};

use crate::auth::Access;
use crate::model::query::Lookup;
use crate::rest::routes::{self, Route, Step};
use crate::rest::{Action, PROBLEM_JSON, ResourceSpec};
use crate::schema::{Constraints, FieldSchema, SqlType};
use fw_core::api::list::{self, MAX_IN_VALUES, MAX_SEARCH_LENGTH};

/// Text without U+0000, which the server refuses in every string (PostgreSQL
/// cannot store it).
const WITHOUT_NUL: &str = r"^[^\x00]*$";

/// An `__in` list item of free text: without NUL, and without the comma that
/// separates the items.
const LIST_ITEM_TEXT: &str = r"^[^\x00,]*$";

/// A cursor token: base64url without padding.
const CURSOR_PATTERN: &str = "^[A-Za-z0-9_-]+$";

/// The schema of an API version's date, for what names one (a token's pin):
/// one of the API's versions. Operations refer to it by name; the document
/// defines it when one does (see [`add_api_version_schema`]).
pub(crate) const API_VERSION_SCHEMA: &str = "ApiVersion";

/// Defines [`API_VERSION_SCHEMA`] in `document` when an operation refers to
/// it: the API's version dates, newest first, or only `null` for an API
/// without dated versions.
pub(crate) fn add_api_version_schema(document: &mut Json, dates: Option<Vec<&str>>) {
    let reference = format!("\"#/components/schemas/{API_VERSION_SCHEMA}\"");
    if !document["paths"].to_string().contains(&reference) {
        return;
    }
    document["components"]["schemas"][API_VERSION_SCHEMA] = match dates {
        Some(dates) => json!({
            "type": "string",
            "enum": dates,
            "description": "One of the API's versions, newest first; see `Api-Version`.",
        }),
        None => json!({
            "type": "null",
            "description": "This API has no dated versions: none is named.",
        }),
    };
}

pub(crate) fn empty_document(title: &str, version: &str) -> Json {
    json!({
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": {},
        "components": {
            "schemas": {"Problem": problem_schema()},
            "responses": standard_responses(),
            "securitySchemes": security_schemes(),
        },
    })
}

/// The security scheme of API tokens, sent as `Authorization: Bearer fw_...`.
pub const BEARER_SCHEME: &str = "bearerAuth";

/// The security scheme of browser sessions, the `fw_session` cookie.
pub const SESSION_SCHEME: &str = "sessionCookie";

/// The ways a request authenticates: an API token or a browser session, either
/// one. An operation that needs credentials lists both as alternatives.
fn security_schemes() -> Json {
    json!({
        BEARER_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "fw_...",
            "description": "An API token, `Authorization: Bearer fw_...`: opaque, starting with \
                            `fw_`, shown once when it is made (`createtoken`). It acts with its \
                            user's permissions, narrowed to its scopes when it has some.",
        },
        SESSION_SCHEME: {
            "type": "apiKey",
            "in": "cookie",
            "name": "fw_session",
            "description": "A browser session, made by logging in. A request that writes with it \
                            must also pass the CSRF check.",
        },
    })
}

/// Documents who may call `operation`: `security: []` when anyone may, else
/// either security scheme, the 401 of a request without valid credentials
/// and, when a permission is needed, that permission (`x-fw-permission`, and
/// a sentence in the description) and the 403 of a user without it.
pub(crate) fn document_access(operation: &mut Json, access: Access) {
    let Some(operation) = operation.as_object_mut() else {
        return;
    };
    let sentence = match access {
        Access::Public => {
            operation.insert("security".into(), json!([]));
            return;
        }
        Access::Authenticated => "Requires an authenticated user.".to_owned(),
        Access::Permission(permission) => {
            operation.insert("x-fw-permission".into(), json!(permission));
            format!("Requires the `{permission}` permission.")
        }
    };
    operation.insert(
        "security".into(),
        json!([{BEARER_SCHEME: []}, {SESSION_SCHEME: []}]),
    );
    let description = match operation.get("description").and_then(Json::as_str) {
        Some(existing) => format!("{existing} {sentence}"),
        None => sentence,
    };
    operation.insert("description".into(), json!(description));
    let statuses: &[u16] = match access {
        Access::Permission(_) => &[401, 403],
        Access::Public | Access::Authenticated => &[401],
    };
    if let Some(responses) = operation
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut()
    {
        for (status, reference) in error_refs(statuses) {
            responses.entry(status).or_insert(reference);
        }
    }
}

fn problem_schema() -> Json {
    json!({
        "type": "object",
        "description": "An RFC 9457 problem details document.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer", "format": "int32"},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["pointer", "code", "detail"],
                    "properties": {
                        "pointer": {"type": "string", "description": "JSON Pointer into the request body."},
                        "code": {"type": "string"},
                        "detail": {"type": "string"},
                    },
                },
            },
        },
    })
}

// The 413 description states the body limit.
const _: () = assert!(crate::rest::BODY_LIMIT == 1_048_576);

const ERRORS: &[(u16, &str)] = &[
    (
        400,
        "The request body, query string or a header (`If-Match`, `If-None-Match`, \
         `Idempotency-Key`) is malformed, or the query names an unknown parameter.",
    ),
    (
        403,
        "The user is authenticated but lacks the permission this operation needs \
         (`x-fw-permission`).",
    ),
    (404, "No such resource."),
    (405, "The path does not support this method."),
    (406, "The `Accept` header excludes JSON."),
    (
        409,
        "A unique value is taken, a referenced row does not exist, other rows still \
         reference this one, or a request with the same `Idempotency-Key` is still running.",
    ),
    (412, "`If-Match` does not name the current version."),
    (
        413,
        "The request body is larger than 1 MiB (1048576 bytes).",
    ),
    (415, "The request body is not JSON."),
    (
        422,
        "Some fields are invalid (`errors` points at each), or the `Idempotency-Key` was \
         used with a different request.",
    ),
];

/// The refusals `serve` may answer any request with before it reaches an
/// operation (see [`HttpLimits`](crate::HttpLimits)), described with the
/// default limits, as a deployment may change them.
fn server_refusals() -> [(u16, String); 3] {
    let limits = crate::HttpLimits::default();
    [
        (
            408,
            format!(
                "The request was not received and answered within the server's time limit \
                 ({} s by default); the connection is closed.",
                limits.request_timeout.as_secs_f64()
            ),
        ),
        (
            414,
            format!(
                "The path and query string are longer than the server's limit \
                 ({} bytes by default).",
                limits.max_uri_length
            ),
        ),
        (
            431,
            format!(
                "The request has more header fields than the server's limit ({} by default), \
                 or larger ones ({} bytes in all by default).",
                limits.max_headers, limits.max_header_bytes
            ),
        ),
    ]
}

fn standard_responses() -> Json {
    let mut responses = serde_json::Map::new();
    let refusals = server_refusals();
    let descriptions = ERRORS
        .iter()
        .map(|(status, description)| (*status, *description))
        .chain(
            refusals
                .iter()
                .map(|(status, description)| (*status, description.as_str())),
        );
    for (status, description) in descriptions {
        responses.insert(
            status.to_string(),
            json!({
                "description": description,
                "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            }),
        );
    }
    responses.insert(
        "401".to_owned(),
        json!({
            "description": "The operation needs credentials and the request sent none, or \
                            ones that are wrong, expired, revoked or of an inactive user.",
            "headers": {"WWW-Authenticate": {
                "description": "How to authenticate: `Bearer`.",
                "schema": {"type": "string"},
            }},
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }),
    );
    responses.insert("429".to_owned(), rate_limited_response());
    responses.insert(
        "503".to_owned(),
        json!({
            "description": "The database is busy past the server's wait bound, unreachable, or \
                            full. Retry after the `Retry-After` seconds; a write answered so was \
                            not made, unless the connection was lost while it committed.",
            "headers": {"Retry-After": {
                "description": "Seconds to wait before retrying.",
                "schema": {"type": "integer", "minimum": 1},
            }},
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }),
    );
    Json::Object(responses)
}

/// The 429 of a caller over its rate limit, with the headers of the
/// refusal and of the limits (see [`RateLimits`](crate::RateLimits)),
/// described with the default limits, as a deployment may change them.
fn rate_limited_response() -> Json {
    let defaults = crate::RateLimits::default();
    let default_of =
        |rate: Option<crate::Rate>| rate.map_or_else(|| "off".to_owned(), |rate| rate.to_string());
    json!({
        "description": format!(
            "The caller (its API token, its signed-in user, or else its address) spent its \
             budget in the operation's rate-limit group: `reads` (GET, HEAD; {} by default), \
             `writes` ({} by default), or a group the application names for a path prefix. \
             Retry after the `Retry-After` seconds. Every response of a limited operation \
             carries `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers).",
            default_of(defaults.reads),
            default_of(defaults.writes),
        ),
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before retrying.",
                "schema": {"type": "integer", "minimum": 1},
            },
            "RateLimit-Policy": {
                "description": "The group's quota: `\"writes\";q=300;w=60`, 300 requests in \
                                60 seconds, all of which may be sent at once.",
                "schema": {"type": "string"},
            },
            "RateLimit": {
                "description": "The caller's quota left in the group: `\"writes\";r=0;t=2`, no \
                                request for 2 seconds.",
                "schema": {"type": "string"},
            },
        },
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    })
}

/// Adds the refusals of the layers in front of every route to every
/// operation of `document`: `serve`'s limits on a request (408, 414, 431)
/// and, but for the health probes, which are answered before it, the rate
/// limit (429).
pub(crate) fn add_server_refusals(document: &mut Json) {
    use crate::settings::edge::{LIVE_PATH, READY_PATH};
    let Some(paths) = document["paths"].as_object_mut() else {
        return;
    };
    let server = server_refusals().map(|(status, _)| status).to_vec();
    let mut rate_limited = server.clone();
    rate_limited.push(429);
    for (path, path_item) in paths.iter_mut() {
        let statuses = if [LIVE_PATH, READY_PATH].contains(&path.as_str()) {
            &server
        } else {
            &rate_limited
        };
        for method in METHODS {
            if let Some(responses) = path_item
                .get_mut(method)
                .and_then(|operation| operation.get_mut("responses"))
                .and_then(Json::as_object_mut)
            {
                for (status, reference) in error_refs(statuses) {
                    responses.entry(status).or_insert(reference);
                }
            }
        }
    }
}

/// The health probes, which every app serves before authentication (see
/// [the production guide](crate::docs::production#health)).
pub(crate) fn add_health(document: &mut Json) {
    use crate::settings::edge::{LIVE_PATH, READY_PATH};
    let probe = |operation_id: &str, summary: &str, ok: Json, failing: Option<Json>| {
        let mut responses = json!({"200": ok});
        if let Some(failing) = failing {
            responses["503"] = failing;
        }
        json!({"get": {
            "operationId": operation_id,
            "summary": summary,
            "tags": ["health"],
            "responses": responses,
        }})
    };
    let live = probe(
        "healthLive",
        "Liveness: the process is up and serving.",
        json!({
            "description": "The process serves requests.",
            "content": {"application/json": {"schema": {
                "type": "object",
                "required": ["status"],
                "properties": {"status": {"type": "string", "const": "live"}},
            }}},
        }),
        None,
    );
    let check = json!({"type": "string", "const": "ok"});
    let ready = probe(
        "healthReady",
        "Readiness: the database answers, its migrations are all applied and the pool has \
         a connection to give.",
        json!({
            "description": "Every check passed: the instance can take traffic.",
            "content": {"application/json": {"schema": {
                "type": "object",
                "required": ["status", "checks"],
                "properties": {
                    "status": {"type": "string", "const": "ready"},
                    "checks": {
                        "type": "object",
                        "required": ["database", "pool", "migrations"],
                        "properties": {"database": check, "pool": check, "migrations": check},
                    },
                },
            }}},
        }),
        Some(json!({
            "description": "A check failed, named by the problem's `check` member: `database` \
                            (unreachable, or no answer within `FW_READY_TIMEOUT`), `pool` (every \
                            connection in use) or `migrations` (some not applied, named in \
                            `detail`). Send the instance no traffic until it passes.",
            "content": {PROBLEM_JSON: {"schema": {
                "allOf": [
                    {"$ref": "#/components/schemas/Problem"},
                    {
                        "type": "object",
                        "required": ["check"],
                        "properties": {"check": {
                            "type": "string",
                            "enum": ["database", "pool", "migrations"],
                        }},
                    },
                ],
            }}},
        })),
    );
    add_path(document, LIVE_PATH, Access::Public, live);
    add_path(document, READY_PATH, Access::Public, ready);
}

/// The answer of an operation when the database cannot serve it (see
/// [`ApiError::ServiceUnavailable`](crate::ApiError::ServiceUnavailable)).
pub(crate) fn unavailable_response() -> Json {
    json!({"$ref": "#/components/responses/503"})
}

fn error_refs(statuses: &[u16]) -> impl Iterator<Item = (String, Json)> + '_ {
    statuses.iter().map(|status| {
        (
            status.to_string(),
            json!({"$ref": format!("#/components/responses/{status}")}),
        )
    })
}

/// The JSON Schema of a model field's value, with every declared constraint.
pub(crate) fn field_schema(field: &FieldSchema) -> Json {
    let mut schema = serde_json::Map::new();
    let (kind, format) = match field.sql_type {
        SqlType::SmallInt | SqlType::Int => ("integer", Some("int32")),
        SqlType::BigInt => ("integer", Some("int64")),
        SqlType::Bool => ("boolean", None),
        SqlType::Text => ("string", None),
        SqlType::Decimal => ("string", Some("decimal")),
        SqlType::Date => ("string", Some("date")),
        SqlType::Timestamp => ("string", Some("date-time")),
        SqlType::Uuid => ("string", Some("uuid")),
        SqlType::Json => ("", None),
    };
    if !kind.is_empty() {
        schema.insert(
            "type".into(),
            if field.nullable {
                json!([kind, "null"])
            } else {
                json!(kind)
            },
        );
    }
    if let Some(format) = format {
        schema.insert("format".into(), json!(format));
    }
    let mut decimal_notes = Vec::new();
    for constraint in field.constraints {
        schema.extend(
            constraint
                .keywords(field)
                .into_iter()
                .map(|(keyword, value)| (keyword.to_owned(), value)),
        );
        if field.sql_type == SqlType::Decimal {
            decimal_notes.extend(constraint.decimal_note());
        }
    }
    match field.sql_type {
        SqlType::Decimal => {
            schema.insert("pattern".into(), json!(crate::rest::decimal_pattern(field)));
            if !decimal_notes.is_empty() {
                schema.insert(
                    "description".into(),
                    json!(format!(
                        "A decimal as a string: {}.",
                        decimal_notes.join(", ")
                    )),
                );
            }
        }
        SqlType::Text => match field.constraints.pattern() {
            // Both hold: the field's own pattern, and no NUL.
            Some(_) => {
                schema.insert("allOf".into(), json!([{"pattern": WITHOUT_NUL}]));
            }
            None if field.constraints.choices().is_empty() => {
                schema.insert("pattern".into(), json!(WITHOUT_NUL));
            }
            None => {}
        },
        _ => {}
    }
    Json::Object(schema)
}

fn with_doc(mut schema: Json, doc: &str) -> Json {
    if !doc.is_empty()
        && let Json::Object(map) = &mut schema
    {
        let description = match map.get("description").and_then(Json::as_str) {
            Some(existing) => format!("{doc} {existing}"),
            None => doc.to_owned(),
        };
        map.insert("description".into(), json!(description));
    }
    schema
}

/// The extension marking a sensitive field of a representation, with the
/// permission that reveals it: `"x-sensitive": {"permission": "..."}`.
pub(crate) const SENSITIVE: &str = "x-sensitive";

fn representation_schema(spec: &ResourceSpec) -> Json {
    let mut properties = serde_json::Map::new();
    let mut required = Vec::new();
    for field in spec.fields.iter().filter(|field| !field.write_only) {
        let mut schema = with_doc(field_schema(field.value), field.doc);
        if field.read_only {
            schema["readOnly"] = json!(true);
        }
        match field.reveal {
            // Omitted for callers without the permission, so never required.
            Some(permission) => {
                schema = with_doc(
                    schema,
                    &format!(
                        "Sensitive: shown only to callers with the `{permission}` permission, \
                         omitted for others."
                    ),
                );
                schema[SENSITIVE] = json!({"permission": permission});
            }
            None => required.push(json!(field.name)),
        }
        properties.insert(field.name.to_owned(), schema);
    }
    json!({"type": "object", "description": spec.doc, "properties": properties, "required": required})
}

/// The request body of `action` (create, update or partial update): PATCH
/// requires nothing; create and PUT every field that is neither nullable nor
/// has a default. Left out, such a field takes its default on create (which
/// the document shows) and keeps its stored value on PUT (which it says).
fn input_schema(spec: &ResourceSpec, action: Action) -> Json {
    let mut properties = serde_json::Map::new();
    let mut required = Vec::new();
    for field in spec.fields.iter().filter(|field| !field.read_only) {
        let mut schema = with_doc(field_schema(field.value), field.doc);
        // Whether a body may leave the field out is the model field's to
        // say; only a value schema that is the model field's carries the
        // default in the JSON form the body would send it in.
        let optional = field
            .field
            .is_some_and(|stored| stored.nullable || stored.default.is_some());
        if let Some(default) = field.value.default.filter(|_| action == Action::Create) {
            schema["default"] = crate::rest::default_json(default);
        }
        if action != Action::PartialUpdate && !optional {
            required.push(json!(field.name));
        }
        properties.insert(field.name.to_owned(), schema);
    }
    let mut schema = json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false});
    if action == Action::Update {
        schema["description"] = json!(
            "Replaces the row's fields. A field that is not required may be left out: \
             it keeps its stored value (send `null` to clear a nullable one)."
        );
    }
    schema
}

fn schema_ref(name: &str) -> Json {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn body(name: &str) -> Json {
    json!({"required": true, "content": {"application/json": {"schema": schema_ref(name)}}})
}

fn item_response(name: &str, description: &str, etag: bool) -> Json {
    let mut response = json!({"description": description, "content": {"application/json": {"schema": schema_ref(name)}}});
    if etag {
        response["headers"] =
            json!({"ETag": {"description": "The row version.", "schema": {"type": "string"}}});
    }
    response
}

fn id_parameter(spec: &ResourceSpec) -> Json {
    let mut schema = field_schema(spec.model.primary_key());
    if let Json::Object(map) = &mut schema {
        map.retain(|key, _| key == "type" || key == "format");
    }
    json!({"name": "id", "in": "path", "required": true, "schema": schema})
}

/// The `ordering` parameter: a comma-separated list of declared fields, each
/// in either direction, each field at most once.
fn ordering_parameter(spec: &ResourceSpec) -> Json {
    let names: Vec<String> = spec
        .ordering
        .iter()
        .map(|(name, _)| format!("`{name}`"))
        .collect();
    let terms: Vec<Json> = spec
        .ordering
        .iter()
        .flat_map(|(name, _)| [json!(name), json!(format!("-{name}"))])
        .collect();
    // `uniqueItems` refuses `a,a`; this refuses `a,-a`.
    let both_directions: Vec<Json> = spec
        .ordering
        .iter()
        .map(|(name, _)| {
            json!({"allOf": [
                {"contains": {"const": name}},
                {"contains": {"const": format!("-{name}")}},
            ]})
        })
        .collect();
    json!({"name": list::ORDERING, "in": "query", "required": false, "style": "form", "explode": false,
    "description": format!("Comma-separated fields, `-` for descending, each field at most once: {}. Default `{}`.", names.join(", "), spec.default_ordering.join(",")),
    "schema": {
        "type": "array",
        "items": {"type": "string", "enum": terms},
        "minItems": 1,
        "maxItems": spec.ordering.len(),
        "uniqueItems": true,
        "not": {"anyOf": both_directions},
    }})
}

/// The schema of free text a list parameter compares (`search`, `contains`...).
fn search_text_schema() -> Json {
    json!({"type": "string", "maxLength": MAX_SEARCH_LENGTH, "pattern": WITHOUT_NUL})
}

/// `*` or a list of entity tags (RFC 9110's `If-Match` and `If-None-Match`):
/// empty elements and whitespace around the commas allowed; quoted visible
/// ASCII except `"`.
pub(crate) const ENTITY_TAGS_PATTERN: &str =
    r#"^[ \t]*(\*|((W/)?"[!#-~]*")?([ \t]*,[ \t]*((W/)?"[!#-~]*")?)*)[ \t]*$"#;

/// The `If-Match` header of a write, as the handlers read it.
fn if_match_parameter() -> Json {
    json!({
        "name": "If-Match",
        "in": "header",
        "required": false,
        "description": "Write only if the row is still at a version listed: `*` (any \
            version) or a comma-separated list of entity tags as the row's `ETag` gives \
            them (`\"3\"`), RFC 9110. The comparison is strong, so a weak tag (`W/\"3\"`) \
            never matches, and an empty list matches nothing: either answers 412, as does \
            a version that is no longer current. A value that is not `*` or such a list is \
            a 400. Without it, the write applies to the current version.",
        "schema": {"type": "string", "pattern": ENTITY_TAGS_PATTERN},
    })
}

/// The `If-None-Match` header of a read.
fn if_none_match_parameter() -> Json {
    json!({
        "name": "If-None-Match",
        "in": "header",
        "required": false,
        "description": "Answer 304 without a body if the row is still at a version \
            listed: `*` (any version) or a comma-separated list of entity tags \
            (`\"3\"`, `W/\"3\"`; the comparison is weak), RFC 9110. A value that is not \
            `*` or such a list is a 400.",
        "schema": {"type": "string", "pattern": ENTITY_TAGS_PATTERN},
    })
}

/// The `Idempotency-Key` header of every write (see [`crate::rest::idempotency`]).
fn idempotency_key_parameter() -> Json {
    use crate::rest::idempotency::{ABANDONED_AFTER, MAX_KEY_LENGTH};
    json!({
        "name": "Idempotency-Key",
        "in": "header",
        "required": false,
        "description": format!("A key you make up for this request (a UUID, say) so that \
            sending it again cannot make the write twice. The first request with a key runs \
            and its answer is kept; the same request (method, path, body) with the same key \
            gets that answer again, marked `Idempotent-Replayed: true`, without writing. \
            The same key with a different request is a 422, and a 409 while the first \
            request with it is still running (a key whose request never finished is taken \
            over after {} seconds). Server errors (5xx) are not kept, so retrying after one \
            runs the request again. Keys are kept for a day by default (the server's \
            `FW_IDEMPOTENCY_KEY_TTL_SECONDS`) and belong to the caller.",
            ABANDONED_AFTER.as_secs()),
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[!-~]+$"},
    })
}

fn list_parameters(spec: &ResourceSpec) -> Vec<Json> {
    let mut parameters = vec![
        json!({"name": list::CURSOR, "in": "query", "required": false, "description": "Opaque cursor from a page's `next` or `previous` link.", "schema": {"type": "string", "minLength": 1, "pattern": CURSOR_PATTERN}}),
        json!({"name": list::PAGE_SIZE, "in": "query", "required": false, "description": format!("Rows per page (default {}).", spec.page_size), "schema": {"type": "integer", "minimum": list::MIN_PAGE_SIZE, "maximum": spec.max_page_size}}),
    ];
    if !spec.ordering.is_empty() {
        parameters.push(ordering_parameter(spec));
    }
    if !spec.search.is_empty() {
        let names: Vec<String> = spec
            .search
            .iter()
            .map(|field| format!("`{}`", spec.api_name(field.name)))
            .collect();
        parameters.push(json!({"name": list::SEARCH, "in": "query", "required": false,
            "description": format!("Case-insensitive text search in {} (at most {MAX_SEARCH_LENGTH} characters).", names.join(", ")),
            "schema": search_text_schema()}));
    }
    for filter in spec.filters {
        let mut value_schema = field_schema(filter.field);
        if let Json::Object(map) = &mut value_schema {
            map.retain(|key, _| {
                key == "type"
                    || key == "format"
                    || key == "enum"
                    || key == "pattern"
                    || key == "allOf"
            });
            if let Some(kind) = map
                .get("type")
                .and_then(Json::as_array)
                .and_then(|kinds| kinds.first())
                .cloned()
            {
                map.insert("type".into(), kind);
            }
            if let Some(Json::Array(values)) = map.get_mut("enum") {
                values.retain(|value| !value.is_null());
            }
        }
        // What the parameter compares: the field itself, or for a related
        // filter the referenced row's field (`security.symbol`).
        let subject = match filter.through {
            Some(through) => format!(
                "`{}.{}`",
                spec.api_name(through.reference.name),
                filter.field.name
            ),
            None => format!("`{}`", filter.name),
        };
        for lookup in filter.lookups {
            let mut parameter = match lookup {
                Lookup::Exact => json!({
                    "name": filter.name,
                    "description": format!("{subject} equals the value."),
                    "schema": value_schema.clone(),
                }),
                Lookup::In => {
                    let mut item = value_schema.clone();
                    // Free text may not hold the comma that separates items.
                    if item.get("pattern").and_then(Json::as_str) == Some(WITHOUT_NUL) {
                        item["pattern"] = json!(LIST_ITEM_TEXT);
                    }
                    if item.get("allOf").is_some() {
                        item["allOf"] = json!([{"pattern": LIST_ITEM_TEXT}]);
                    }
                    json!({
                        "name": lookup.parameter(filter.name),
                        "description": format!("{subject} is one of the comma-separated values (at most {MAX_IN_VALUES})."),
                        "style": "form",
                        "explode": false,
                        "schema": {"type": "array", "items": item, "minItems": 1, "maxItems": MAX_IN_VALUES},
                    })
                }
                Lookup::IsNull => json!({
                    "name": lookup.parameter(filter.name),
                    "description": format!("{subject} is (`true`) or is not (`false`) null."),
                    "schema": {"type": "boolean"},
                }),
                Lookup::Contains | Lookup::IContains | Lookup::StartsWith => json!({
                    "name": lookup.parameter(filter.name),
                    "description": format!("{subject} text lookup `{}` (at most {MAX_SEARCH_LENGTH} characters).", lookup.name()),
                    "schema": search_text_schema(),
                }),
                _ => json!({
                    "name": lookup.parameter(filter.name),
                    "description": format!("{subject} compared with `{}`.", lookup.name()),
                    "schema": value_schema.clone(),
                }),
            };
            parameter["in"] = json!("query");
            parameter["required"] = json!(false);
            // A caller who may not see the field may not probe it either.
            if let Some(permission) = spec.reveal_permission(filter) {
                let description = parameter["description"].as_str().unwrap_or_default();
                parameter["description"] = json!(format!(
                    "{description} Needs the `{permission}` permission (else 403), as the field is sensitive."
                ));
                parameter[SENSITIVE] = json!({"permission": permission});
            }
            parameters.push(parameter);
        }
    }
    parameters
}

/// The operation of `route` on resource `spec`: its success response, a 304
/// where a matching `If-None-Match` answers one, its refusals, and the
/// parameters its steps read.
fn operation(
    spec: &ResourceSpec,
    route: &Route,
    access: Access,
    id: String,
    summary: String,
    success: Json,
) -> Json {
    let mut responses = serde_json::Map::new();
    responses.insert(route.success.as_str().to_owned(), success);
    if route.answers_not_modified() {
        responses.insert(
            "304".to_owned(),
            json!({"description": "Not modified since the `If-None-Match` version."}),
        );
    }
    responses.extend(error_refs(&route.refusals()));
    let mut parameters = Vec::new();
    if route.target.names_row() {
        parameters.push(id_parameter(spec));
    }
    for step in route.steps {
        match step {
            Step::ListQuery => parameters.extend(list_parameters(spec)),
            Step::IfNoneMatch => parameters.push(if_none_match_parameter()),
            Step::IfMatch => parameters.push(if_match_parameter()),
            Step::IdempotencyKey => parameters.push(idempotency_key_parameter()),
            Step::FindRow | Step::JsonBody | Step::Write => {}
        }
    }
    let mut operation = json!({
        "tags": [spec.name],
        "operationId": id,
        "summary": summary,
        "parameters": parameters,
        "responses": responses,
    });
    document_access(&mut operation, access);
    operation
}

/// The name of the request body schema of `action` after the resource's
/// name: `Create`, `Update` or `Patch`; `None` for actions that read no body.
fn input_schema_suffix(action: Action) -> Option<&'static str> {
    match action {
        Action::Create => Some("Create"),
        Action::Update => Some("Update"),
        Action::PartialUpdate => Some("Patch"),
        _ => None,
    }
}

/// Adds every operation and schema of a resource, one operation per route of
/// the actions it offers.
pub(crate) fn add_resource(document: &mut Json, spec: &ResourceSpec) {
    let name = spec.name;
    let model = spec.model.name;
    let schemas = &mut document["components"]["schemas"];
    schemas[name] = representation_schema(spec);
    for (action, _) in routes::resource_routes(spec) {
        if *action == Action::List {
            schemas[format!("{name}Page")] = json!({
                "type": "object",
                "required": ["next", "previous", "results"],
                "properties": {
                    "next": {"type": ["string", "null"], "description": "The next page's address, or null on the last page."},
                    "previous": {"type": ["string", "null"], "description": "The previous page's address, or null on the first page."},
                    "results": {"type": "array", "items": schema_ref(name)},
                },
            });
        }
        if let Some(suffix) = input_schema_suffix(*action) {
            schemas[format!("{name}{suffix}")] = input_schema(spec, *action);
        }
    }
    for (action, route) in routes::resource_routes(spec) {
        let Some(access) = spec.access(*action) else {
            continue;
        };
        let (id, summary, success) = match action {
            Action::List => (
                format!("list{model}"),
                format!("List {model} rows, a page at a time"),
                item_response(&format!("{name}Page"), "A page of rows.", false),
            ),
            Action::Create => {
                let mut created = item_response(name, "Created.", true);
                created["headers"]["Location"] =
                    json!({"description": "The new row's address.", "schema": {"type": "string"}});
                (
                    format!("create{model}"),
                    format!("Create a {model}"),
                    created,
                )
            }
            Action::Retrieve => (
                format!("retrieve{model}"),
                format!("Get one {model}"),
                item_response(name, "The row.", true),
            ),
            Action::Update => (
                format!("put{model}"),
                format!("Replace a {model}"),
                item_response(name, "The updated row.", true),
            ),
            Action::PartialUpdate => (
                format!("patch{model}"),
                format!("Change some fields of a {model}"),
                item_response(name, "The updated row.", true),
            ),
            Action::Destroy => (
                format!("destroy{model}"),
                format!("Delete a {model}"),
                json!({"description": "Deleted."}),
            ),
            Action::History => (
                format!("history{model}"),
                format!("The changes of a {model}, oldest first"),
                json!({
                    "description": "Every recorded write of the row, from the change log.",
                    "content": {"application/json": {"schema": {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["results"],
                        "properties": {"results": {
                            "type": "array",
                            "items": crate::changes::change_schema(),
                        }},
                    }}},
                }),
            ),
        };
        let mut op = operation(spec, route, access, id, summary, success);
        if let Some(suffix) = input_schema_suffix(*action) {
            op["requestBody"] = body(&format!("{name}{suffix}"));
        }
        add_operation(document, spec, route, op);
    }
}

/// What a custom action (see [`RowAction`](crate::RowAction)) declares,
/// read once from its trait: what its operation in the document says, and
/// so which statuses it may answer.
pub(crate) struct ActionOperation {
    pub(crate) route: Route,
    pub(crate) name: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) access: Access,
    /// The statuses the action answers itself.
    pub(crate) errors: &'static [axum::http::StatusCode],
}

impl ActionOperation {
    /// Whether the operation's responses list `status`: its route's
    /// refusals, its access's (401, 403), the server's and the rate limit's
    /// (see [`add_server_refusals`]), the action's own, and any server error.
    pub(crate) fn lists(&self, status: axum::http::StatusCode) -> bool {
        let code = status.as_u16();
        status.is_server_error()
            || self.errors.contains(&status)
            || self.route.refusals().contains(&code)
            || code == 429
            || server_refusals()
                .iter()
                .any(|(refused, _)| *refused == code)
            || (self.access != Access::Public && matches!(code, 401 | 403))
    }
}

/// What a custom action answers 200 with.
pub(crate) enum ActionAnswer {
    /// The row, as its resource shows it, with its `ETag`.
    Row,
    /// The schema of this name.
    Output(String),
}

/// Adds `action`'s operation on resource `spec`, reading `body` when it has
/// one and answering `answer`, with the schemas they name.
pub(crate) fn add_action_operation(
    document: &mut Json,
    spec: &ResourceSpec,
    action: &ActionOperation,
    body: Option<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>>,
    answer: ActionAnswer,
    named: Vec<(
        String,
        utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
    )>,
) {
    let success = match &answer {
        ActionAnswer::Row => item_response(spec.name, "The row after the action.", true),
        ActionAnswer::Output(name) => json!({
            "description": "The action's answer.",
            "content": {"application/json": {"schema": schema_ref(name)}},
        }),
    };
    for (name, schema) in named {
        // utoipa's model is plain data with text keys, which always serializes.
        document["components"]["schemas"][name] = serde_json::to_value(schema).unwrap_or_default();
    }
    let mut op = operation(
        spec,
        &action.route,
        action.access,
        format!("{}{}", action.name, spec.model.name),
        action.summary.to_owned(),
        success,
    );
    if let Some(body) = body {
        op["requestBody"] = json!({
            "required": true,
            "content": {"application/json": {"schema": serde_json::to_value(body).unwrap_or_default()}},
        });
    }
    for status in action.errors {
        let code = status.as_str();
        if op["responses"].get(code).is_some() {
            continue;
        }
        op["responses"][code] = if document["components"]["responses"].get(code).is_some() {
            json!({"$ref": format!("#/components/responses/{code}")})
        } else {
            json!({
                "description": status.canonical_reason().unwrap_or("An error of the action."),
                "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            })
        };
    }
    add_operation(document, spec, &action.route, op);
}

/// Puts `operation` at `route`'s path and method.
fn add_operation(document: &mut Json, spec: &ResourceSpec, route: &Route, operation: Json) {
    let method = route.method.as_str().to_ascii_lowercase();
    document["paths"][route.target.path(spec)][method] = operation;
}

/// The pattern of a decimal as fw writes it in a response: exact, as a string.
const DECIMAL_TEXT: &str = r"^-?[0-9]+(\.[0-9]+)?$";

/// The JSON Schema of a [`Decimal`](rust_decimal::Decimal) in a response, which
/// fw writes as an exact string (`"12.50"`): for a plain handler's typed
/// documentation (see [`Api::route_documented`](crate::Api::route_documented)),
/// as `#[schema(schema_with = fw::openapi::decimal_schema)]` on the field. A
/// builder, so it can be given a description or be nullable.
///
/// ```
/// let schema = serde_json::to_value(fw::openapi::decimal_schema().build()).unwrap();
/// assert_eq!(schema["type"], "string");
/// assert_eq!(schema["format"], "decimal");
/// ```
pub fn decimal_schema() -> utoipa::openapi::schema::ObjectBuilder {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaFormat, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::Custom("decimal".to_owned())))
        .pattern(Some(DECIMAL_TEXT))
}

/// The JSON Schema of a [`Choices`](crate::Choices) enum: a string, one of its
/// stored texts, as fw serializes it. For a plain handler's typed
/// documentation, as `#[schema(schema_with = fw::openapi::choices_schema::<Status>)]`
/// on the field.
///
/// ```
/// #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, fw::Choices)]
/// enum Status {
///     Open,
///     Closed,
/// }
///
/// let schema = serde_json::to_value(fw::openapi::choices_schema::<Status>().build()).unwrap();
/// assert_eq!(schema["enum"], serde_json::json!(["open", "closed"]));
/// ```
pub fn choices_schema<C: crate::Choices>() -> utoipa::openapi::schema::ObjectBuilder {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(C::VALUES.iter().copied()))
}

/// The methods a path item may hold an operation for.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Adds a plain handler's path item, each of its operations requiring `access`.
pub(crate) fn add_path(document: &mut Json, path: &str, access: Access, mut item: Json) {
    for method in METHODS {
        if let Some(operation) = item.get_mut(method) {
            document_access(operation, access);
        }
    }
    document["paths"][path] = item;
}

/// The part of `document` about `paths`: those path items, and every schema
/// they use (following `$ref`s), for a per-resource snapshot.
pub(crate) fn fragment(document: &Json, paths: &[String]) -> Json {
    fn references(value: &Json, found: &mut Vec<String>) {
        match value {
            Json::Object(map) => {
                if let Some(name) = map
                    .get("$ref")
                    .and_then(Json::as_str)
                    .and_then(|reference| reference.strip_prefix("#/components/schemas/"))
                    && !found.iter().any(|known| known == name)
                {
                    found.push(name.to_owned());
                }
                map.values().for_each(|value| references(value, found));
            }
            Json::Array(items) => items.iter().for_each(|value| references(value, found)),
            _ => {}
        }
    }
    let mut path_items = serde_json::Map::new();
    for path in paths {
        if let Some(item) = document["paths"].get(path) {
            path_items.insert(path.clone(), item.clone());
        }
    }
    let mut names = Vec::new();
    references(&Json::Object(path_items.clone()), &mut names);
    let mut schemas = serde_json::Map::new();
    let mut index = 0;
    while let Some(name) = names.get(index).cloned() {
        index += 1;
        if let Some(schema) = document["components"]["schemas"].get(&name) {
            references(schema, &mut names);
            schemas.insert(name, schema.clone());
        }
    }
    json!({"paths": path_items, "schemas": schemas})
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    /// `serve` refuses over-long, over-large or too slow requests on any path,
    /// and rate limits apply to every route, so every operation lists those
    /// answers, a plain handler's included.
    #[test]
    fn every_operation_lists_the_server_s_refusals() {
        let mut document = super::empty_document("test", "0.1.0");
        document["paths"] = json!({
            "/things": {
                "parameters": [],
                "get": {"responses": {"200": {"description": "Things."}}},
                "post": {"responses": {"201": {"description": "Created."}}},
            },
        });
        super::add_server_refusals(&mut document);
        for method in ["get", "post"] {
            let responses = &document["paths"]["/things"][method]["responses"];
            for status in ["408", "414", "429", "431"] {
                assert_eq!(
                    responses[status],
                    json!({"$ref": format!("#/components/responses/{status}")}),
                    "{method} {status}"
                );
                assert!(
                    document["components"]["responses"][status]["description"].is_string(),
                    "{status}"
                );
            }
        }
        let rate_limited = &document["components"]["responses"]["429"]["headers"];
        for header in ["Retry-After", "RateLimit-Policy", "RateLimit"] {
            assert!(rate_limited[header]["schema"].is_object(), "{header}");
        }
        assert_eq!(document["paths"]["/things"]["parameters"], json!([]));
    }
}
