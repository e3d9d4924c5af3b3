//! The breaking-change report: every difference between two OpenAPI documents,
//! classified by what it does to a client built against the old one.
//!
//! The rule behind every classification: a change is breaking when a request
//! the old document allowed may now be refused, or a response may now contain
//! something the old document ruled out. So constraints are read in two
//! directions. In requests (parameters and bodies) the server must accept at
//! least what it did: a removed field or enum value, a lowered `maxLength`, a
//! new `pattern` or a new required field is breaking, and loosening is
//! compatible. In responses the server must send no more than it promised: a
//! removed field, a field that may now be null or absent, a new enum value or a
//! raised `maxLength` is breaking, and tightening is compatible.
//!
//! Statuses: removing a success response breaks clients that wait for it, and
//! adding one gives them a body they do not know how to read; error responses
//! share one problem+json shape that clients handle by status class, so adding
//! or removing one is compatible. Documentation (descriptions, summaries, tags,
//! operation ids) is compatible. A change this module does not understand is
//! reported as breaking, so nothing slips through unreviewed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use fw_core::constraint::{anchored, bound_keyword};
use rust_decimal::Decimal;
use serde_json::{Map, Value as Json};

/// Whether a change can break an existing client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// An existing client may fail: a request it sends may be refused, or a
    /// response may hold something it was told could not happen.
    Breaking,
    /// Every existing client keeps working.
    Compatible,
}

/// One difference between two OpenAPI documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Whether it can break an existing client.
    pub severity: Severity,
    /// Where: an operation (`GET /dividends`), then the part of it
    /// (`query parameter `ex_date``, `response 200 body `results[].rate``).
    pub location: String,
    /// What changed, with the old and new values.
    pub message: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Every difference between `old` and `new`, breaking ones first, each once.
///
/// `$ref`s are followed into each document's `components`, so a change to a
/// shared schema is reported under every operation that uses it.
///
/// ```
/// use serde_json::json;
/// let old = json!({"openapi": "3.1.0", "paths": {"/a": {"get": {"responses": {}}}}});
/// let new = json!({"openapi": "3.1.0", "paths": {}});
/// let changes = fw::openapi::diff(&old, &new);
/// assert_eq!(changes[0].severity, fw::openapi::Severity::Breaking);
/// assert_eq!(changes[0].to_string(), "/a: path removed (GET)");
/// ```
pub fn diff(old: &Json, new: &Json) -> Vec<Change> {
    let mut differ = Differ {
        old_doc: old,
        new_doc: new,
        changes: Vec::new(),
    };
    differ.document();
    if differ.changes.is_empty() && old != new {
        differ.changes.push(Change {
            severity: Severity::Compatible,
            location: "document".to_owned(),
            message: "changed outside every operation (for example an unused component)".to_owned(),
        });
    }
    let mut seen = BTreeSet::new();
    differ
        .changes
        .retain(|change| seen.insert((change.location.clone(), change.message.clone())));
    differ.changes.sort_by_key(|change| change.severity);
    differ.changes
}

/// The extension naming the permission an operation requires.
const PERMISSION_KEY: &str = "x-fw-permission";

/// Who may call an operation, as its `security` (or the document's) and
/// `x-fw-permission` say.
struct OperationAccess {
    level: Level,
    /// Each alternative `security` requirement, its schemes joined by ` + `.
    schemes: BTreeSet<String>,
}

#[derive(Debug, PartialEq, Eq)]
enum Level {
    /// No `security`, or an empty one (or one with an empty alternative).
    Public,
    /// Credentials, with no named permission.
    Authenticated,
    /// Credentials holding this permission.
    Permission(String),
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Level::Public => f.write_str("public"),
            Level::Authenticated => f.write_str("credentials"),
            Level::Permission(permission) => write!(f, "the `{permission}` permission"),
        }
    }
}

impl OperationAccess {
    fn of(doc: &Json, operation: &Json) -> OperationAccess {
        let requirements = operation
            .get("security")
            .or_else(|| doc.get("security"))
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        let schemes: BTreeSet<String> = requirements
            .iter()
            .map(|requirement| {
                object(Some(requirement))
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" + ")
            })
            .collect();
        let level = if schemes.is_empty() || schemes.contains("") {
            Level::Public
        } else {
            match operation.get(PERMISSION_KEY).and_then(Json::as_str) {
                Some(permission) => Level::Permission(permission.to_owned()),
                None => Level::Authenticated,
            }
        };
        OperationAccess { level, schemes }
    }
}

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Which way data flows through a schema, which decides what tightening means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Direction {
    /// Sent by the client: the server must keep accepting it.
    Request,
    /// Sent by the server: the client must keep understanding it.
    Response,
}

struct Differ<'a> {
    old_doc: &'a Json,
    new_doc: &'a Json,
    changes: Vec<Change>,
}

fn object(value: Option<&Json>) -> Map<String, Json> {
    value.and_then(Json::as_object).cloned().unwrap_or_default()
}

fn short(value: &Json) -> String {
    match value {
        Json::String(text) => format!("`{text}`"),
        other => format!("`{other}`"),
    }
}

fn is_documentation(key: &str) -> bool {
    matches!(
        key,
        "description" | "summary" | "title" | "example" | "examples" | "externalDocs" | "$comment"
    )
}

impl Differ<'_> {
    fn push(&mut self, severity: Severity, location: &str, message: impl Into<String>) {
        self.changes.push(Change {
            severity,
            location: location.to_owned(),
            message: message.into(),
        });
    }

    fn breaking(&mut self, location: &str, message: impl Into<String>) {
        self.push(Severity::Breaking, location, message);
    }

    fn compatible(&mut self, location: &str, message: impl Into<String>) {
        self.push(Severity::Compatible, location, message);
    }

    /// Follows a local `$ref` (`#/components/...`) in `doc`, up to a few hops.
    fn resolve<'v>(doc: &'v Json, mut value: &'v Json) -> (&'v Json, Option<&'v str>) {
        let mut name = None;
        for _ in 0..8 {
            let Some(reference) = value.get("$ref").and_then(Json::as_str) else {
                break;
            };
            let Some(target) = reference
                .strip_prefix('#')
                .and_then(|pointer| doc.pointer(pointer))
            else {
                break;
            };
            name = Some(reference);
            value = target;
        }
        (value, name)
    }

    fn document(&mut self) {
        let (old, new) = (self.old_doc, self.new_doc);
        for key in ["openapi", "info"] {
            if old.get(key) != new.get(key) {
                let message = match key {
                    "info" => match (old.pointer("/info/version"), new.pointer("/info/version")) {
                        (Some(from), Some(to)) if from != to => {
                            format!("version {} → {}", short(from), short(to))
                        }
                        _ => "title or description changed".to_owned(),
                    },
                    _ => format!(
                        "OpenAPI version {} → {}",
                        short(old.get(key).unwrap_or(&Json::Null)),
                        short(new.get(key).unwrap_or(&Json::Null))
                    ),
                };
                self.compatible(key, message);
            }
        }
        let old_paths = object(old.get("paths"));
        let new_paths = object(new.get("paths"));
        for (path, old_item) in &old_paths {
            let Some(new_item) = new_paths.get(path) else {
                self.breaking(path, format!("path removed ({})", methods(old_item)));
                continue;
            };
            for method in METHODS {
                let label = format!("{} {path}", method.to_uppercase());
                match (old_item.get(*method), new_item.get(*method)) {
                    (Some(_), None) => self.breaking(&label, "operation removed"),
                    (None, Some(_)) => self.compatible(&label, "operation added"),
                    (Some(old_op), Some(new_op)) => {
                        self.operation(&label, old_item, old_op, new_item, new_op);
                    }
                    (None, None) => {}
                }
            }
        }
        for (path, item) in &new_paths {
            if !old_paths.contains_key(path) {
                self.compatible(path, format!("path added ({})", methods(item)));
            }
        }
    }

    fn operation(&mut self, label: &str, old_item: &Json, old: &Json, new_item: &Json, new: &Json) {
        let old_map = object(Some(old));
        let new_map = object(Some(new));
        let keys: BTreeSet<&String> = old_map.keys().chain(new_map.keys()).collect();
        for key in keys {
            let (from, to) = (old_map.get(key), new_map.get(key));
            if from == to {
                continue;
            }
            match key.as_str() {
                "parameters" | "requestBody" | "responses" | "security" | PERMISSION_KEY => {}
                "tags" | "operationId" => self.compatible(label, format!("`{key}` changed")),
                "deprecated" => self.compatible(
                    label,
                    if to == Some(&Json::Bool(true)) {
                        "deprecated"
                    } else {
                        "no longer deprecated"
                    },
                ),
                key if is_documentation(key) || key.starts_with("x-") => {
                    self.compatible(label, format!("{key} changed"));
                }
                key => self.breaking(
                    label,
                    format!("`{key}` changed in a way this report does not classify; review it"),
                ),
            }
        }
        self.access(label, old, new);
        self.parameters(label, old_item, old, new_item, new);
        self.request_body(label, old.get("requestBody"), new.get("requestBody"));
        self.responses(label, old, new);
    }

    /// Who may call the operation: tightening (public to protected, or a
    /// different permission) refuses requests that used to succeed; loosening
    /// (to public, or from a permission to any authenticated user) does not.
    fn access(&mut self, label: &str, old: &Json, new: &Json) {
        let (from, to) = (
            OperationAccess::of(self.old_doc, old),
            OperationAccess::of(self.new_doc, new),
        );
        match (&from.level, &to.level) {
            (from_level, to_level) if from_level == to_level => {}
            (_, Level::Public) => {
                self.compatible(label, format!("now public (was {})", from.level))
            }
            (Level::Public, _) => {
                self.breaking(label, format!("now requires {} (was public)", to.level))
            }
            (Level::Permission(_), Level::Authenticated) => self.compatible(
                label,
                format!("now requires {} (was {})", to.level, from.level),
            ),
            _ => self.breaking(
                label,
                format!("now requires {} (was {})", to.level, from.level),
            ),
        }
        if from.level == Level::Public || to.level == Level::Public {
            return;
        }
        for scheme in from.schemes.difference(&to.schemes) {
            self.breaking(
                label,
                format!("no longer accepts credentials by `{scheme}`"),
            );
        }
        for scheme in to.schemes.difference(&from.schemes) {
            self.compatible(label, format!("now also accepts credentials by `{scheme}`"));
        }
    }

    fn parameters(
        &mut self,
        label: &str,
        old_item: &Json,
        old: &Json,
        new_item: &Json,
        new: &Json,
    ) {
        let collect = |doc: &Json, item: &Json, op: &Json| {
            let mut parameters = BTreeMap::new();
            for list in [item.get("parameters"), op.get("parameters")]
                .into_iter()
                .flatten()
                .filter_map(Json::as_array)
            {
                for parameter in list {
                    let (parameter, _) = Self::resolve(doc, parameter);
                    let place = parameter.get("in").and_then(Json::as_str).unwrap_or("");
                    let name = parameter.get("name").and_then(Json::as_str).unwrap_or("");
                    parameters.insert(format!("{place} parameter `{name}`"), parameter.clone());
                }
            }
            parameters
        };
        let old_parameters = collect(self.old_doc, old_item, old);
        let new_parameters = collect(self.new_doc, new_item, new);
        let required = |parameter: &Json| parameter.get("required") == Some(&Json::Bool(true));
        for (name, old_parameter) in &old_parameters {
            let location = format!("{label}, {name}");
            let Some(new_parameter) = new_parameters.get(name) else {
                self.breaking(
                    &location,
                    "removed: requests that send it are refused or change meaning",
                );
                continue;
            };
            match (required(old_parameter), required(new_parameter)) {
                (false, true) => self.breaking(&location, "now required"),
                (true, false) => self.compatible(&location, "no longer required"),
                _ => {}
            }
            // A filter on a field that becomes sensitive now needs its permission.
            self.revealed(&location, old_parameter, new_parameter);
            for key in ["description", "deprecated", "example", "examples"] {
                if old_parameter.get(key) != new_parameter.get(key) {
                    self.compatible(&location, format!("{key} changed"));
                }
            }
            self.schema(
                Direction::Request,
                &location,
                "",
                old_parameter.get("schema").unwrap_or(&Json::Bool(true)),
                new_parameter.get("schema").unwrap_or(&Json::Bool(true)),
                &mut BTreeSet::new(),
            );
        }
        for (name, new_parameter) in &new_parameters {
            if !old_parameters.contains_key(name) {
                let location = format!("{label}, {name}");
                if required(new_parameter) {
                    self.breaking(&location, "added as required");
                } else {
                    self.compatible(&location, "added (optional)");
                }
            }
        }
    }

    fn request_body(&mut self, label: &str, old: Option<&Json>, new: Option<&Json>) {
        let location = format!("{label}, request body");
        let required = |body: &Json| body.get("required") == Some(&Json::Bool(true));
        let (old, new) = match (old, new) {
            (None, None) => return,
            (Some(_), None) => {
                self.breaking(&location, "removed: requests that send one may be refused");
                return;
            }
            (None, Some(new)) => {
                let (new, _) = Self::resolve(self.new_doc, new);
                if required(new) {
                    self.breaking(&location, "added as required");
                } else {
                    self.compatible(&location, "added (optional)");
                }
                return;
            }
            (Some(old), Some(new)) => (
                Self::resolve(self.old_doc, old).0,
                Self::resolve(self.new_doc, new).0,
            ),
        };
        match (required(old), required(new)) {
            (false, true) => self.breaking(&location, "now required"),
            (true, false) => self.compatible(&location, "no longer required"),
            _ => {}
        }
        if old.get("description") != new.get("description") {
            self.compatible(&location, "description changed");
        }
        self.content(Direction::Request, &format!("{label}, request"), old, new);
    }

    fn responses(&mut self, label: &str, old: &Json, new: &Json) {
        let old_responses = object(old.get("responses"));
        let new_responses = object(new.get("responses"));
        let is_success = |status: &str| !(status.starts_with('4') || status.starts_with('5'));
        for (status, old_response) in &old_responses {
            let location = format!("{label}, response {status}");
            let Some(new_response) = new_responses.get(status) else {
                if is_success(status) {
                    self.breaking(&location, "removed: clients waiting for it never get it");
                } else {
                    self.compatible(&location, "removed");
                }
                continue;
            };
            let old_response = Self::resolve(self.old_doc, old_response).0;
            let new_response = Self::resolve(self.new_doc, new_response).0;
            if old_response.get("description") != new_response.get("description") {
                self.compatible(&location, "description changed");
            }
            self.headers(&location, old_response, new_response);
            self.content(Direction::Response, &location, old_response, new_response);
        }
        for status in new_responses.keys() {
            if !old_responses.contains_key(status) {
                let location = format!("{label}, response {status}");
                if is_success(status) {
                    self.breaking(
                        &location,
                        "added: clients may get a success response they do not handle",
                    );
                } else {
                    self.compatible(&location, "added");
                }
            }
        }
    }

    fn headers(&mut self, location: &str, old: &Json, new: &Json) {
        let old_headers = object(old.get("headers"));
        let new_headers = object(new.get("headers"));
        for (name, old_header) in &old_headers {
            let location = format!("{location}, header `{name}`");
            match new_headers.get(name) {
                None => self.breaking(&location, "removed"),
                Some(new_header) => {
                    let old_header = Self::resolve(self.old_doc, old_header).0;
                    let new_header = Self::resolve(self.new_doc, new_header).0;
                    if old_header.get("description") != new_header.get("description") {
                        self.compatible(&location, "description changed");
                    }
                    self.schema(
                        Direction::Response,
                        &location,
                        "",
                        old_header.get("schema").unwrap_or(&Json::Bool(true)),
                        new_header.get("schema").unwrap_or(&Json::Bool(true)),
                        &mut BTreeSet::new(),
                    );
                }
            }
        }
        for name in new_headers.keys() {
            if !old_headers.contains_key(name) {
                self.compatible(&format!("{location}, header `{name}`"), "added");
            }
        }
    }

    fn content(&mut self, direction: Direction, location: &str, old: &Json, new: &Json) {
        let old_content = object(old.get("content"));
        let new_content = object(new.get("content"));
        let single = old_content.len() == 1 && new_content.len() == 1;
        for (media, old_media) in &old_content {
            let Some(new_media) = new_content.get(media) else {
                self.breaking(location, format!("media type `{media}` removed"));
                continue;
            };
            let location = if single {
                format!("{location} body")
            } else {
                format!("{location} `{media}` body")
            };
            self.schema(
                direction,
                &location,
                "",
                old_media.get("schema").unwrap_or(&Json::Bool(true)),
                new_media.get("schema").unwrap_or(&Json::Bool(true)),
                &mut BTreeSet::new(),
            );
        }
        for media in new_content.keys() {
            if !old_content.contains_key(media) {
                self.compatible(location, format!("media type `{media}` added"));
            }
        }
    }

    /// Compares two schemas at `field` (a path like `results[].rate`, empty at
    /// the top) of the part of an operation at `location`.
    fn schema(
        &mut self,
        direction: Direction,
        location: &str,
        field: &str,
        old: &Json,
        new: &Json,
        visited: &mut BTreeSet<(String, String)>,
    ) {
        let (old, old_ref) = Self::resolve(self.old_doc, old);
        let (new, new_ref) = Self::resolve(self.new_doc, new);
        // `visited` holds the references on the way down, so a recursive schema
        // stops while one reused by sibling fields is compared at each of them.
        let reference = old_ref
            .zip(new_ref)
            .map(|(old_ref, new_ref)| (old_ref.to_owned(), new_ref.to_owned()));
        if let Some(reference) = &reference
            && !visited.insert(reference.clone())
        {
            return;
        }
        self.schema_at(direction, location, field, old, new, visited);
        if let Some(reference) = &reference {
            visited.remove(reference);
        }
    }

    #[allow(clippy::too_many_lines)]
    fn schema_at(
        &mut self,
        direction: Direction,
        location: &str,
        field: &str,
        old: &Json,
        new: &Json,
        visited: &mut BTreeSet<(String, String)>,
    ) {
        let at = if field.is_empty() {
            location.to_owned()
        } else {
            format!("{location} `{field}`")
        };
        let (Some(old_map), Some(new_map)) = (old.as_object(), new.as_object()) else {
            if old != new {
                self.breaking(
                    &at,
                    format!("schema changed from {} to {}", short(old), short(new)),
                );
            }
            return;
        };
        let request = direction == Direction::Request;
        // Whether a change that lets more values through breaks clients here.
        let widening = if request {
            Severity::Compatible
        } else {
            Severity::Breaking
        };
        let narrowing = if request {
            Severity::Breaking
        } else {
            Severity::Compatible
        };
        let keys: BTreeSet<&String> = old_map.keys().chain(new_map.keys()).collect();
        for key in keys {
            let (from, to) = (old_map.get(key.as_str()), new_map.get(key.as_str()));
            // Equal `$ref`s may still point at schemas that differ, so nested
            // schemas are always compared.
            let nested = matches!(key.as_str(), "items" | "additionalProperties");
            if from == to && !nested {
                continue;
            }
            match key.as_str() {
                "type" => self.types(&at, direction, from, to),
                "format" => {
                    let severity = match (from, to) {
                        (Some(_), None) if request => Severity::Compatible,
                        (None, Some(_)) if !request => Severity::Compatible,
                        _ => Severity::Breaking,
                    };
                    self.push(
                        severity,
                        &at,
                        format!("format {} → {}", shown(from), shown(to)),
                    );
                }
                "enum" => self.enumeration(&at, direction, from, to),
                bound if bound_direction(bound).is_some() => {
                    let larger_is_tighter = bound_direction(bound) == Some(true);
                    let tighter = |to: Decimal, from: Decimal| match larger_is_tighter {
                        true => to > from,
                        false => to < from,
                    };
                    let tightened = match (number(from), number(to)) {
                        (Some(from), Some(to)) => tighter(to, from),
                        (None, Some(_)) => true,
                        _ => false,
                    };
                    // `minimum: 0` replaced by `exclusiveMinimum: 0` loosens
                    // nothing: another bound on the same side still holds it.
                    let still_held = !tightened
                        && number(from).is_some_and(|from| {
                            new_map.iter().any(|(other, value)| {
                                other != key
                                    && bound_direction(other) == Some(larger_is_tighter)
                                    && number(Some(value))
                                        .is_some_and(|value| value == from || tighter(value, from))
                            })
                        });
                    if still_held {
                        self.compatible(
                            &at,
                            format!(
                                "{key} {} → {}, held by another bound",
                                shown(from),
                                shown(to)
                            ),
                        );
                    } else {
                        self.bound(&at, key, from, to, tightened, narrowing, widening);
                    }
                }
                "pattern" => {
                    // Documents written before fw anchored field patterns
                    // showed the bare pattern, which the server always matched
                    // against the whole value: anchoring it changes no answer.
                    let anchored_as_served = matches!(
                        (from, to),
                        (Some(Json::String(from)), Some(Json::String(to))) if *to == anchored(from)
                    );
                    let severity = match (from, to) {
                        _ if anchored_as_served => Severity::Compatible,
                        (Some(_), None) => widening,
                        (None, Some(_)) => narrowing,
                        _ => Severity::Breaking,
                    };
                    self.push(
                        severity,
                        &at,
                        format!("pattern {} → {}", shown(from), shown(to)),
                    );
                }
                // Compared with the fields, by `properties`, which knows which
                // field it is and whether it is a response's.
                "properties" | "required" | super::SENSITIVE => {}
                "items" => self.schema(
                    direction,
                    location,
                    &format!("{field}[]"),
                    from.unwrap_or(&Json::Bool(true)),
                    to.unwrap_or(&Json::Bool(true)),
                    visited,
                ),
                "additionalProperties" => {
                    let closed = |value: Option<&Json>| value == Some(&Json::Bool(false));
                    match (closed(from), closed(to)) {
                        (false, true) => {
                            self.push(narrowing, &at, "no longer accepts unlisted properties");
                        }
                        (true, false) => {
                            self.push(widening, &at, "now allows unlisted properties");
                        }
                        _ => self.schema(
                            direction,
                            location,
                            &format!("{field}{{*}}"),
                            from.unwrap_or(&Json::Bool(true)),
                            to.unwrap_or(&Json::Bool(true)),
                            visited,
                        ),
                    }
                }
                "readOnly" | "writeOnly" | "deprecated" => {
                    self.compatible(&at, format!("`{key}` {} → {}", shown(from), shown(to)));
                }
                "default" => self.push(
                    if request {
                        Severity::Breaking
                    } else {
                        Severity::Compatible
                    },
                    &at,
                    format!("default {} → {}", shown(from), shown(to)),
                ),
                key if is_documentation(key) => {
                    self.compatible(&at, format!("{key} changed"));
                }
                key => self.breaking(
                    &at,
                    format!(
                        "`{key}` {} → {}: a change this report does not classify; review it",
                        shown(from),
                        shown(to)
                    ),
                ),
            }
        }
        self.properties(direction, location, field, old_map, new_map, visited);
    }

    #[allow(clippy::too_many_arguments)]
    fn bound(
        &mut self,
        at: &str,
        key: &str,
        from: Option<&Json>,
        to: Option<&Json>,
        tightened: bool,
        narrowing: Severity,
        widening: Severity,
    ) {
        let (severity, verb) = if tightened {
            (narrowing, "tightened")
        } else {
            (widening, "loosened")
        };
        self.push(
            severity,
            at,
            format!("{key} {verb}: {} → {}", shown(from), shown(to)),
        );
    }

    fn types(&mut self, at: &str, direction: Direction, from: Option<&Json>, to: Option<&Json>) {
        let (old, new) = (type_set(from), type_set(to));
        // The set of values the new schema allows, compared with the old one.
        let allows_all_old = match (&old, &new) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(old), Some(new)) => old
                .iter()
                .all(|kind| new.contains(kind) || (kind == "integer" && new.contains("number"))),
        };
        let allows_only_old = match (&old, &new) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(old), Some(new)) => new
                .iter()
                .all(|kind| old.contains(kind) || (kind == "integer" && old.contains("number"))),
        };
        let message = format!("type {} → {}", shown(from), shown(to));
        let severity = match direction {
            Direction::Request if allows_all_old => Severity::Compatible,
            Direction::Response if allows_only_old => Severity::Compatible,
            _ => Severity::Breaking,
        };
        let message = match (&old, &new) {
            (Some(old), Some(new))
                if direction == Direction::Response
                    && new.contains("null")
                    && !old.contains("null") =>
            {
                format!("{message} (may now be null)")
            }
            _ => message,
        };
        self.push(severity, at, message);
    }

    fn enumeration(
        &mut self,
        at: &str,
        direction: Direction,
        from: Option<&Json>,
        to: Option<&Json>,
    ) {
        let values = |value: Option<&Json>| {
            value.and_then(Json::as_array).map(|values| {
                values
                    .iter()
                    .map(ToString::to_string)
                    .collect::<BTreeSet<String>>()
            })
        };
        let request = direction == Direction::Request;
        match (values(from), values(to)) {
            (Some(old), Some(new)) => {
                let removed: Vec<&String> = old.difference(&new).collect();
                let added: Vec<&String> = new.difference(&old).collect();
                if !removed.is_empty() {
                    let severity = if request {
                        Severity::Breaking
                    } else {
                        Severity::Compatible
                    };
                    self.push(
                        severity,
                        at,
                        format!("enum values removed: {}", list(&removed)),
                    );
                }
                if !added.is_empty() {
                    let severity = if request {
                        Severity::Compatible
                    } else {
                        Severity::Breaking
                    };
                    self.push(severity, at, format!("enum values added: {}", list(&added)));
                }
            }
            (None, Some(new)) => self.push(
                if request {
                    Severity::Breaking
                } else {
                    Severity::Compatible
                },
                at,
                format!(
                    "now restricted to {}",
                    list(&new.iter().collect::<Vec<_>>())
                ),
            ),
            (Some(_), None) => self.push(
                if request {
                    Severity::Compatible
                } else {
                    Severity::Breaking
                },
                at,
                "no longer restricted to a list of values",
            ),
            (None, None) => {}
        }
    }

    fn properties(
        &mut self,
        direction: Direction,
        location: &str,
        field: &str,
        old: &Map<String, Json>,
        new: &Map<String, Json>,
        visited: &mut BTreeSet<(String, String)>,
    ) {
        let old_properties = object(old.get("properties"));
        let new_properties = object(new.get("properties"));
        let required = |schema: &Map<String, Json>| -> BTreeSet<String> {
            schema
                .get("required")
                .and_then(Json::as_array)
                .map(|names| {
                    names
                        .iter()
                        .filter_map(Json::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let (old_required, new_required) = (required(old), required(new));
        let request = direction == Direction::Request;
        let path = |name: &str| {
            if field.is_empty() {
                name.to_owned()
            } else {
                format!("{field}.{name}")
            }
        };
        let at = |name: &str| format!("{location} `{}`", path(name));
        for (name, old_property) in &old_properties {
            let Some(new_property) = new_properties.get(name) else {
                let message = if request {
                    "field removed: requests that send it are refused"
                } else {
                    "field removed from the response"
                };
                self.breaking(&at(name), message);
                continue;
            };
            let no_longer_required = old_required.contains(name) && !new_required.contains(name);
            // A request field every client had to send may gain a default as it
            // stops being required: no client relied on leaving it out. (A
            // default that changes, or appears on an optional field, changes
            // what leaving it out means, and is compared below.)
            let default_added = match (old_property.get("default"), new_property) {
                (None, Json::Object(new_map)) if request && no_longer_required => new_map
                    .get("default")
                    .map(|default| (default.clone(), new_map.clone())),
                _ => None,
            };
            match (old_required.contains(name), new_required.contains(name)) {
                (false, true) if request => self.breaking(&at(name), "now required"),
                (false, true) => self.compatible(&at(name), "now always present"),
                (true, false) if request => match &default_added {
                    Some((default, _)) => self.compatible(
                        &at(name),
                        format!("no longer required (default {})", short(default)),
                    ),
                    None => self.compatible(&at(name), "no longer required"),
                },
                // Said once, by `revealed`, with the permission.
                (true, false) if revealing_permission(new_property).is_some() => {}
                (true, false) => self.breaking(&at(name), "may now be absent"),
                _ => {}
            }
            if !request {
                self.revealed(&at(name), old_property, new_property);
            }
            let new_property = match default_added {
                Some((_, mut new_map)) => {
                    new_map.remove("default");
                    Json::Object(new_map)
                }
                None => new_property.clone(),
            };
            self.schema(
                direction,
                location,
                &path(name),
                old_property,
                &new_property,
                visited,
            );
        }
        for name in new_properties.keys() {
            if old_properties.contains_key(name) {
                continue;
            }
            if request && new_required.contains(name) {
                self.breaking(&at(name), "required field added");
            } else if request {
                self.compatible(&at(name), "optional field added");
            } else {
                self.compatible(&at(name), "field added");
            }
        }
    }
}

/// The permission that reveals a sensitive response field
/// (`"x-sensitive": {"permission": ...}`), `None` for one every caller sees.
fn revealing_permission(property: &Json) -> Option<&str> {
    property
        .get(super::SENSITIVE)
        .and_then(|sensitive| sensitive.get("permission"))
        .and_then(Json::as_str)
}

impl Differ<'_> {
    /// A response field (or a filter) that becomes sensitive, or is revealed
    /// by another permission, is taken from callers who saw (used) it: breaking.
    fn revealed(&mut self, at: &str, old: &Json, new: &Json) {
        match (revealing_permission(old), revealing_permission(new)) {
            (None, Some(permission)) => self.breaking(
                at,
                format!("now sensitive: omitted for callers without `{permission}`"),
            ),
            (Some(old), Some(new)) if old != new => self.breaking(
                at,
                format!("now revealed by `{new}` instead of `{old}`: callers with `{old}` alone no longer see it"),
            ),
            (Some(_), None) => self.compatible(at, "no longer sensitive: shown to every caller"),
            _ => {}
        }
    }
}

fn methods(item: &Json) -> String {
    METHODS
        .iter()
        .filter(|method| item.get(**method).is_some())
        .map(|method| method.to_uppercase())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a larger value of numeric bound `keyword` is tighter: the
/// constraints' keywords, as [`bound_keyword`] gives them, and the bounds of
/// lists.
fn bound_direction(keyword: &str) -> Option<bool> {
    match keyword {
        "minItems" => Some(true),
        "maxItems" => Some(false),
        keyword => bound_keyword(keyword),
    }
}

fn shown(value: Option<&Json>) -> String {
    value.map_or_else(|| "none".to_owned(), short)
}

fn list(values: &[&String]) -> String {
    values
        .iter()
        .map(|value| format!("`{}`", value.trim_matches('"')))
        .collect::<Vec<_>>()
        .join(", ")
}

fn number(value: Option<&Json>) -> Option<Decimal> {
    match value? {
        Json::Number(number) => Decimal::from_str(&number.to_string())
            .or_else(|_| Decimal::from_scientific(&number.to_string()))
            .ok(),
        Json::String(text) => Decimal::from_str(text).ok(),
        _ => None,
    }
}

fn type_set(value: Option<&Json>) -> Option<BTreeSet<String>> {
    match value? {
        Json::String(kind) => Some(BTreeSet::from([kind.clone()])),
        Json::Array(kinds) => Some(
            kinds
                .iter()
                .filter_map(Json::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        _ => None,
    }
}
