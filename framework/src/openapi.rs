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

pub use committed::{CHANGES_FILE, SPEC_FILE, SpecDrift, check_committed, render, report};
pub(crate) use committed::{OpenapiArgs, run_command};
pub use diff::{Change, Severity, diff};

use serde_json::{Value as Json, json};

use crate::query::Lookup;
use crate::rest::{Action, PROBLEM_JSON, ResourceSpec};
use crate::schema::{FieldSchema, SqlType};

/// The pattern of a decimal in JSON (a string, so it stays exact).
const DECIMAL_PATTERN: &str = r"^-?[0-9]+(\.[0-9]+)?$";

pub(crate) fn empty_document(title: &str, version: &str) -> Json {
    json!({
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": {},
        "components": {
            "schemas": {"Problem": problem_schema()},
            "responses": standard_responses(),
        },
    })
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

const ERRORS: &[(u16, &str)] = &[
    (
        400,
        "The request body or query string is malformed, or names an unknown parameter.",
    ),
    (404, "No such resource."),
    (405, "The path does not support this method."),
    (406, "The `Accept` header excludes JSON."),
    (
        409,
        "A unique value is taken, or other rows still reference this one.",
    ),
    (412, "`If-Match` does not name the current version."),
    (413, "The request body is too large."),
    (415, "The request body is not JSON."),
    (422, "Some fields are invalid; `errors` points at each."),
];

fn standard_responses() -> Json {
    let mut responses = serde_json::Map::new();
    for (status, description) in ERRORS {
        responses.insert(
            status.to_string(),
            json!({
                "description": description,
                "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            }),
        );
    }
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
    if let Some(max) = field.max_length {
        schema.insert("maxLength".into(), json!(max));
    }
    if let Some(min) = field.min_length {
        schema.insert("minLength".into(), json!(min));
    }
    match field.sql_type {
        SqlType::Decimal => {
            schema.insert("pattern".into(), json!(DECIMAL_PATTERN));
            let mut notes = Vec::new();
            if let Some(min) = field.min_value {
                notes.push(format!("at least {min}"));
                schema.insert("x-minimum".into(), json!(min));
            }
            if let Some(max) = field.max_value {
                notes.push(format!("at most {max}"));
                schema.insert("x-maximum".into(), json!(max));
            }
            if let Some(digits) = field.max_digits {
                schema.insert("x-max-digits".into(), json!(digits));
            }
            if let Some(places) = field.decimal_places {
                notes.push(format!("at most {places} decimal places"));
                schema.insert("x-decimal-places".into(), json!(places));
            }
            if !notes.is_empty() {
                schema.insert(
                    "description".into(),
                    json!(format!("A decimal as a string: {}.", notes.join(", "))),
                );
            }
        }
        _ => {
            if let Some(min) = field.min_value.and_then(|min| min.parse::<i64>().ok()) {
                schema.insert("minimum".into(), json!(min));
            }
            if let Some(max) = field.max_value.and_then(|max| max.parse::<i64>().ok()) {
                schema.insert("maximum".into(), json!(max));
            }
            if let Some(pattern) = field.pattern {
                schema.insert("pattern".into(), json!(pattern));
            }
        }
    }
    if !field.choices.is_empty() {
        let mut values: Vec<Json> = field.choices.iter().map(|choice| json!(choice)).collect();
        if field.nullable {
            values.push(Json::Null);
        }
        schema.insert("enum".into(), Json::Array(values));
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

fn representation_schema(spec: &ResourceSpec) -> Json {
    let mut properties = serde_json::Map::new();
    let mut required = Vec::new();
    for field in spec.fields.iter().filter(|field| !field.write_only) {
        let mut schema = with_doc(field_schema(field.field), field.doc);
        if field.read_only {
            schema["readOnly"] = json!(true);
        }
        properties.insert(field.name.to_owned(), schema);
        required.push(json!(field.name));
    }
    json!({"type": "object", "description": spec.doc, "properties": properties, "required": required})
}

/// The request body of `action` (create, update or partial update): PATCH
/// requires nothing, PUT every field that is not nullable, and create every
/// field that is neither nullable nor has a default, which it shows.
fn input_schema(spec: &ResourceSpec, action: Action) -> Json {
    let mut properties = serde_json::Map::new();
    let mut required = Vec::new();
    for field in spec.fields.iter().filter(|field| !field.read_only) {
        let mut schema = with_doc(field_schema(field.field), field.doc);
        let default = field.field.default.filter(|_| action == Action::Create);
        if let Some(default) = default {
            schema["default"] = default.to_json();
        }
        if action != Action::PartialUpdate && !field.field.nullable && default.is_none() {
            required.push(json!(field.name));
        }
        properties.insert(field.name.to_owned(), schema);
    }
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
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

fn list_parameters(spec: &ResourceSpec) -> Vec<Json> {
    let mut parameters = vec![
        json!({"name": "cursor", "in": "query", "required": false, "description": "Opaque cursor from a page's `next` or `previous` link.", "schema": {"type": "string"}}),
        json!({"name": "page_size", "in": "query", "required": false, "description": format!("Rows per page (default {}).", spec.page_size), "schema": {"type": "integer", "minimum": 1, "maximum": spec.max_page_size}}),
    ];
    if !spec.ordering.is_empty() {
        let names: Vec<String> = spec
            .ordering
            .iter()
            .map(|(name, _)| format!("`{name}`"))
            .collect();
        parameters.push(json!({"name": "ordering", "in": "query", "required": false,
            "description": format!("Comma-separated fields, `-` for descending: {}. Default `{}`.", names.join(", "), spec.default_ordering.join(",")),
            "schema": {"type": "string"}}));
    }
    if !spec.search.is_empty() {
        let names: Vec<String> = spec
            .search
            .iter()
            .map(|field| format!("`{}`", spec.api_name(field.name)))
            .collect();
        parameters.push(json!({"name": "search", "in": "query", "required": false,
            "description": format!("Case-insensitive text search in {}.", names.join(", ")),
            "schema": {"type": "string"}}));
    }
    for filter in spec.filters {
        let mut value_schema = field_schema(filter.field);
        if let Json::Object(map) = &mut value_schema {
            map.retain(|key, _| {
                key == "type" || key == "format" || key == "enum" || key == "pattern"
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
            let (name, schema, description) = match lookup {
                Lookup::Exact => (
                    filter.name.to_owned(),
                    value_schema.clone(),
                    format!("{subject} equals the value."),
                ),
                Lookup::In => (
                    format!("{}__in", filter.name),
                    json!({"type": "string"}),
                    format!("{subject} is one of the comma-separated values."),
                ),
                Lookup::IsNull => (
                    format!("{}__isnull", filter.name),
                    json!({"type": "boolean"}),
                    format!("{subject} is (`true`) or is not (`false`) null."),
                ),
                Lookup::Contains | Lookup::IContains | Lookup::StartsWith => (
                    format!("{}__{}", filter.name, lookup.name()),
                    json!({"type": "string"}),
                    format!("{subject} text lookup `{}`.", lookup.name()),
                ),
                _ => (
                    format!("{}__{}", filter.name, lookup.name()),
                    value_schema.clone(),
                    format!("{subject} compared with `{}`.", lookup.name()),
                ),
            };
            parameters.push(json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema}));
        }
    }
    parameters
}

/// A resource's operation; every one reads or writes the database, so each may
/// answer 503.
fn operation(
    tag: &str,
    id: String,
    summary: String,
    responses: impl IntoIterator<Item = (String, Json)>,
) -> Json {
    json!({
        "tags": [tag],
        "operationId": id,
        "summary": summary,
        "responses": responses
            .into_iter()
            .chain([("503".to_owned(), unavailable_response())])
            .collect::<serde_json::Map<String, Json>>(),
    })
}

/// Adds every operation and schema of a resource.
pub(crate) fn add_resource(document: &mut Json, spec: &ResourceSpec) {
    let name = spec.name;
    let model = spec.model.name;
    let schemas = &mut document["components"]["schemas"];
    schemas[name] = representation_schema(spec);
    if spec.has(Action::List) {
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
    if spec.has(Action::Create) {
        schemas[format!("{name}Create")] = input_schema(spec, Action::Create);
    }
    if spec.has(Action::Update) {
        schemas[format!("{name}Update")] = input_schema(spec, Action::Update);
    }
    if spec.has(Action::PartialUpdate) {
        schemas[format!("{name}Patch")] = input_schema(spec, Action::PartialUpdate);
    }
    let mut collection = serde_json::Map::new();
    if spec.has(Action::List) {
        let mut op = operation(
            name,
            format!("list{model}"),
            format!("List {model} rows, a page at a time"),
            [(
                "200".to_owned(),
                item_response(&format!("{name}Page"), "A page of rows.", false),
            )]
            .into_iter()
            .chain(error_refs(&[400, 406])),
        );
        op["parameters"] = Json::Array(list_parameters(spec));
        collection.insert("get".into(), op);
    }
    if spec.has(Action::Create) {
        let mut created = item_response(name, "Created.", true);
        created["headers"]["Location"] =
            json!({"description": "The new row's address.", "schema": {"type": "string"}});
        let mut op = operation(
            name,
            format!("create{model}"),
            format!("Create a {model}"),
            [("201".to_owned(), created)]
                .into_iter()
                .chain(error_refs(&[400, 406, 409, 413, 415, 422])),
        );
        op["requestBody"] = body(&format!("{name}Create"));
        collection.insert("post".into(), op);
    }
    if !collection.is_empty() {
        document["paths"][spec.path] = Json::Object(collection);
    }
    let mut item = serde_json::Map::new();
    let id = id_parameter(spec);
    let if_match = json!({"name": "If-Match", "in": "header", "required": false, "description": "Write only if the row is still at this version (its `ETag`).", "schema": {"type": "string"}});
    if spec.has(Action::Retrieve) {
        let mut op = operation(
            name,
            format!("retrieve{model}"),
            format!("Get one {model}"),
            [
                ("200".to_owned(), item_response(name, "The row.", true)),
                (
                    "304".to_owned(),
                    json!({"description": "Not modified since the `If-None-Match` version."}),
                ),
            ]
            .into_iter()
            .chain(error_refs(&[404, 406])),
        );
        op["parameters"] = json!([id, {"name": "If-None-Match", "in": "header", "required": false, "schema": {"type": "string"}}]);
        item.insert("get".into(), op);
    }
    for (action, method, verb, schema) in [
        (Action::Update, "put", "Replace", "Update"),
        (
            Action::PartialUpdate,
            "patch",
            "Change some fields of",
            "Patch",
        ),
    ] {
        if spec.has(action) {
            let mut op = operation(
                name,
                format!("{method}{model}"),
                format!("{verb} a {model}"),
                [(
                    "200".to_owned(),
                    item_response(name, "The updated row.", true),
                )]
                .into_iter()
                .chain(error_refs(&[400, 404, 406, 409, 412, 413, 415, 422])),
            );
            op["parameters"] = json!([id, if_match]);
            op["requestBody"] = body(&format!("{name}{schema}"));
            item.insert(method.into(), op);
        }
    }
    if spec.has(Action::Destroy) {
        let mut op = operation(
            name,
            format!("destroy{model}"),
            format!("Delete a {model}"),
            [("204".to_owned(), json!({"description": "Deleted."}))]
                .into_iter()
                .chain(error_refs(&[404, 406, 409, 412])),
        );
        op["parameters"] = json!([id, if_match]);
        item.insert("delete".into(), op);
    }
    if !item.is_empty() {
        document["paths"][spec.item_path()] = Json::Object(item);
    }
    if spec.has(Action::History) {
        let mut op = operation(
            name,
            format!("history{model}"),
            format!("The changes of a {model}, oldest first"),
            [(
                "200".to_owned(),
                json!({
                    "description": "Every recorded write of the row, from the change log.",
                    "content": {"application/json": {"schema": {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["results"],
                        "properties": {"results": {
                            "type": "array",
                            "items": crate::changes::http::change_schema(),
                        }},
                    }}},
                }),
            )]
            .into_iter()
            .chain(error_refs(&[404, 406])),
        );
        op["parameters"] = json!([id]);
        document["paths"][spec.history_path()] = json!({"get": op});
    }
}

/// Adds a custom action's operation.
pub(crate) fn add_action(document: &mut Json, spec: &ResourceSpec, action: &str, summary: &str) {
    let mut op = operation(
        spec.name,
        format!("{action}{}", spec.model.name),
        summary.to_owned(),
        [(
            "200".to_owned(),
            item_response(spec.name, "The row after the action.", true),
        )]
        .into_iter()
        .chain(error_refs(&[404, 406, 409, 412, 422])),
    );
    op["parameters"] = json!([id_parameter(spec)]);
    document["paths"][format!("{}/{action}", spec.item_path())] = json!({"post": op});
}

/// Adds a plain handler's path item.
pub(crate) fn add_path(document: &mut Json, path: &str, item: Json) {
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
