//! The breaking-change report on real before/after documents: each file in
//! `openapi_diff/` is `base.json` (or, for the recursive schema,
//! `base_with_tree.json`, and for changes of a required permission
//! `base_with_permissions.json`, and for a changed reveal permission
//! `field_becomes_sensitive.json`) with one kind of change, named after it, so
//! `diff base.json <rule>.json` shows exactly what changed.

use fw::openapi::{Change, Severity, diff, report};
use serde_json::Value as Json;

use Severity::{Breaking, Compatible};

fn fixture(name: &str) -> Json {
    let path = format!(
        "{}/tests/openapi_diff/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn changes(rule: &str) -> Vec<Change> {
    let base = match rule {
        "recursive_schema" => "base_with_tree",
        "required_permission_changed" | "requirement_loosened" => "base_with_permissions",
        "reveal_permission_changed" => "field_becomes_sensitive",
        _ => "base",
    };
    diff(&fixture(base), &fixture(rule))
}

/// Each rule's fixture, and exactly the changes it must produce, in order.
/// A shared schema's change is reported under every operation that uses it.
const RULES: &[(&str, &[(Severity, &str)])] = &[
    (
        "added_optional_request_field",
        &[(
            Compatible,
            "POST /securities, request body `isin`: optional field added",
        )],
    ),
    (
        "added_path_and_operation",
        &[
            (Compatible, "PATCH /securities/{id}: operation added"),
            (Compatible, "/dividends: path added (GET)"),
        ],
    ),
    (
        "operation_becomes_protected",
        &[
            (
                Breaking,
                "GET /securities: now requires the `view_security` permission (was public)",
            ),
            (
                Breaking,
                "POST /securities: now requires credentials (was public)",
            ),
        ],
    ),
    (
        "required_permission_changed",
        &[
            (
                Breaking,
                "POST /securities: no longer accepts credentials by `sessionCookie`",
            ),
            (
                Breaking,
                "DELETE /securities/{id}: now requires the `purge_securities` permission (was the `delete_security` permission)",
            ),
        ],
    ),
    (
        "requirement_loosened",
        &[
            (
                Compatible,
                "GET /securities: now requires credentials (was the `view_security` permission)",
            ),
            (
                Compatible,
                "GET /securities/{id}: now public (was the `view_security` permission)",
            ),
        ],
    ),
    (
        "added_required_request_field",
        &[(
            Breaking,
            "POST /securities, request body `isin`: required field added",
        )],
    ),
    (
        "field_becomes_sensitive",
        &[
            (
                Breaking,
                "GET /securities, response 200 body `results[].name`: now sensitive: omitted for callers without `view_security_name`",
            ),
            (
                Breaking,
                "POST /securities, response 201 body `name`: now sensitive: omitted for callers without `view_security_name`",
            ),
            (
                Breaking,
                "GET /securities/{id}, response 200 body `name`: now sensitive: omitted for callers without `view_security_name`",
            ),
        ],
    ),
    (
        "reveal_permission_changed",
        &[
            (
                Breaking,
                "GET /securities, response 200 body `results[].name`: now revealed by `view_security_details` instead of `view_security_name`: callers with `view_security_name` alone no longer see it",
            ),
            (
                Breaking,
                "POST /securities, response 201 body `name`: now revealed by `view_security_details` instead of `view_security_name`: callers with `view_security_name` alone no longer see it",
            ),
            (
                Breaking,
                "GET /securities/{id}, response 200 body `name`: now revealed by `view_security_details` instead of `view_security_name`: callers with `view_security_name` alone no longer see it",
            ),
        ],
    ),
    (
        "added_response_field",
        &[
            (
                Compatible,
                "GET /securities, response 200 body `results[].isin`: field added",
            ),
            (
                Compatible,
                "POST /securities, response 201 body `isin`: field added",
            ),
            (
                Compatible,
                "GET /securities/{id}, response 200 body `isin`: field added",
            ),
        ],
    ),
    (
        "changed_format",
        &[(
            Breaking,
            "POST /securities, request body `price`: format `decimal` → `double`",
        )],
    ),
    (
        "changed_type",
        &[
            (
                Breaking,
                "GET /securities, response 200 body `results[].id`: format `int64` → `uuid`",
            ),
            (
                Breaking,
                "GET /securities, response 200 body `results[].id`: type `integer` → `string`",
            ),
            (
                Breaking,
                "POST /securities, response 201 body `id`: format `int64` → `uuid`",
            ),
            (
                Breaking,
                "POST /securities, response 201 body `id`: type `integer` → `string`",
            ),
            (
                Breaking,
                "GET /securities/{id}, response 200 body `id`: format `int64` → `uuid`",
            ),
            (
                Breaking,
                "GET /securities/{id}, response 200 body `id`: type `integer` → `string`",
            ),
        ],
    ),
    (
        "documentation_only",
        &[
            (Compatible, "info: title or description changed"),
            (Compatible, "GET /securities: summary changed"),
            (
                Compatible,
                "GET /securities, response 200 body `results[].symbol`: description changed",
            ),
            (
                Compatible,
                "POST /securities, response 201 body `symbol`: description changed",
            ),
            (
                Compatible,
                "GET /securities/{id}, response 200: description changed",
            ),
            (
                Compatible,
                "GET /securities/{id}, response 200 body `symbol`: description changed",
            ),
        ],
    ),
    (
        "enum_value_added",
        &[
            (
                Breaking,
                "GET /securities, response 200 body `results[].kind`: enum values added: `warrant`",
            ),
            (
                Breaking,
                "POST /securities, response 201 body `kind`: enum values added: `warrant`",
            ),
            (
                Breaking,
                "GET /securities/{id}, response 200 body `kind`: enum values added: `warrant`",
            ),
            (
                Compatible,
                "POST /securities, request body `kind`: enum values added: `warrant`",
            ),
        ],
    ),
    (
        "enum_value_removed_from_request",
        &[(
            Breaking,
            "POST /securities, request body `kind`: enum values removed: `preferred`",
        )],
    ),
    (
        "loosened_constraints",
        &[
            (
                Compatible,
                "GET /securities, query parameter `page_size`: maximum loosened: `500` → `1000`",
            ),
            (
                Compatible,
                "POST /securities, request body `symbol`: maxLength loosened: `12` → `20`",
            ),
            (
                Compatible,
                "POST /securities, request body `symbol`: minLength loosened: `1` → none",
            ),
            (
                Compatible,
                "POST /securities, request body `symbol`: pattern `^[A-Z]+$` → none",
            ),
        ],
    ),
    (
        "max_length_lowered",
        &[(
            Breaking,
            "POST /securities, request body `symbol`: maxLength tightened: `12` → `8`",
        )],
    ),
    (
        "min_length_raised",
        &[(
            Breaking,
            "POST /securities, request body `symbol`: minLength tightened: `1` → `2`",
        )],
    ),
    (
        "minimum_raised_and_maximum_lowered",
        &[
            (
                Breaking,
                "GET /securities, query parameter `page_size`: maximum tightened: `500` → `100`",
            ),
            (
                Breaking,
                "POST /securities, request body `price`: x-minimum tightened: `0` → `1`",
            ),
        ],
    ),
    (
        "new_optional_parameter",
        &[(
            Compatible,
            "GET /securities, query parameter `symbol`: added (optional)",
        )],
    ),
    (
        "exclusive_minimum_replaces_minimum",
        &[
            (
                Breaking,
                "POST /securities, request body `price`: x-exclusive-minimum tightened: none → `0`",
            ),
            (
                Compatible,
                "POST /securities, request body `price`: x-minimum `0` → none, held by another bound",
            ),
        ],
    ),
    (
        "new_pattern",
        &[(
            Breaking,
            "POST /securities, request body `name`: pattern none → `^[A-Za-z ]+$`",
        )],
    ),
    (
        "new_required_parameter",
        &[(
            Breaking,
            "GET /securities, query parameter `exchange`: added as required",
        )],
    ),
    (
        "optional_request_field_gains_a_default",
        &[(
            Breaking,
            "POST /securities, request body `kind`: default none → `common`",
        )],
    ),
    (
        "parameter_enum_value_removed",
        &[(
            Breaking,
            "GET /securities, query parameter `kind`: enum values removed: `preferred`",
        )],
    ),
    (
        "recursive_schema",
        &[(
            Breaking,
            "GET /tree, response 200 body `name`: field removed from the response",
        )],
    ),
    (
        "removed_operation",
        &[(Breaking, "DELETE /securities/{id}: operation removed")],
    ),
    (
        "removed_parameter",
        &[(
            Breaking,
            "GET /securities, query parameter `kind`: removed: requests that send it are refused or change meaning",
        )],
    ),
    (
        "removed_path",
        &[(Breaking, "/securities/{id}: path removed (GET, DELETE)")],
    ),
    (
        "removed_request_field",
        &[(
            Breaking,
            "POST /securities, request body `kind`: field removed: requests that send it are refused",
        )],
    ),
    (
        "removed_response_field",
        &[
            (
                Breaking,
                "GET /securities, response 200 body `results[].name`: field removed from the response",
            ),
            (
                Breaking,
                "POST /securities, response 201 body `name`: field removed from the response",
            ),
            (
                Breaking,
                "GET /securities/{id}, response 200 body `name`: field removed from the response",
            ),
        ],
    ),
    (
        "removed_response_header",
        &[(
            Breaking,
            "GET /securities/{id}, response 200, header `ETag`: removed",
        )],
    ),
    (
        "request_body_no_longer_closed",
        &[(
            Compatible,
            "POST /securities, request body: now allows unlisted properties",
        )],
    ),
    (
        "request_field_no_longer_required",
        &[(
            Compatible,
            "POST /securities, request body `name`: no longer required",
        )],
    ),
    (
        "request_field_now_required",
        &[(
            Breaking,
            "POST /securities, request body `kind`: now required",
        )],
    ),
    (
        "required_request_field_gains_a_default",
        &[(
            Compatible,
            "POST /securities, request body `name`: no longer required (default `Unnamed`)",
        )],
    ),
    (
        "response_constraint_loosened",
        &[
            (
                Breaking,
                "GET /securities, response 200 body `results[].symbol`: maxLength loosened: `12` → `20`",
            ),
            (
                Breaking,
                "POST /securities, response 201 body `symbol`: maxLength loosened: `12` → `20`",
            ),
            (
                Breaking,
                "GET /securities/{id}, response 200 body `symbol`: maxLength loosened: `12` → `20`",
            ),
        ],
    ),
    (
        "response_field_becomes_nullable",
        &[
            (
                Breaking,
                "GET /securities, response 200 body `results[].name`: type `string` → `[\"string\",\"null\"]` (may now be null)",
            ),
            (
                Breaking,
                "POST /securities, response 201 body `name`: type `string` → `[\"string\",\"null\"]` (may now be null)",
            ),
            (
                Breaking,
                "GET /securities/{id}, response 200 body `name`: type `string` → `[\"string\",\"null\"]` (may now be null)",
            ),
        ],
    ),
    (
        "response_field_may_be_absent",
        &[
            (
                Breaking,
                "GET /securities, response 200 body `results[].kind`: may now be absent",
            ),
            (
                Breaking,
                "POST /securities, response 201 body `kind`: may now be absent",
            ),
            (
                Breaking,
                "GET /securities/{id}, response 200 body `kind`: may now be absent",
            ),
        ],
    ),
    (
        "response_statuses",
        &[
            (
                Breaking,
                "GET /securities/{id}, response 304: removed: clients waiting for it never get it",
            ),
            (
                Breaking,
                "DELETE /securities/{id}, response 200: added: clients may get a success response they do not handle",
            ),
            (Compatible, "POST /securities, response 422: removed"),
            (Compatible, "GET /securities/{id}, response 410: added"),
        ],
    ),
    (
        "shared_component_change_reported_per_operation",
        &[
            (
                Breaking,
                "GET /securities, response 200 body `results[].symbol`: maxLength loosened: `12` → `16`",
            ),
            (
                Breaking,
                "POST /securities, response 201 body `symbol`: maxLength loosened: `12` → `16`",
            ),
            (
                Breaking,
                "GET /securities/{id}, response 200 body `symbol`: maxLength loosened: `12` → `16`",
            ),
        ],
    ),
];

/// Documents written before fw anchored every field pattern showed a pattern
/// the way it was written (`[A-Z]+`) where the server matched it whole; the
/// document now shows it anchored (`^(?:[A-Z]+)$`): the same rule, so not a
/// breaking change. (The base document's patterns are anchored as written,
/// which fw shows unchanged.)
#[test]
fn a_pattern_anchored_as_it_was_served_is_compatible() {
    let with_pattern = |pattern: &str| {
        let mut document = fixture("base");
        for schema in ["Security", "SecurityCreate"] {
            document["components"]["schemas"][schema]["properties"]["symbol"]["pattern"] =
                pattern.into();
        }
        document
    };
    let changes = diff(&with_pattern("[A-Z]+"), &with_pattern("^(?:[A-Z]+)$"));
    assert!(!changes.is_empty(), "the pattern's text changed");
    for change in &changes {
        assert_eq!(change.severity, Compatible, "{change:?}");
    }
}

#[test]
fn every_rule_classifies_its_fixture() {
    let mut failures = Vec::new();
    for (rule, expected) in RULES {
        let actual: Vec<(Severity, String)> = changes(rule)
            .into_iter()
            .map(|change| (change.severity, change.to_string()))
            .collect();
        let expected: Vec<(Severity, String)> = expected
            .iter()
            .map(|(severity, text)| (*severity, (*text).to_owned()))
            .collect();
        if actual != expected {
            failures.push(format!(
                "{rule}:\n  expected {expected:#?}\n  got {actual:#?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_fixture_has_a_rule() {
    let dir = format!("{}/tests/openapi_diff", env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(dir).expect("the fixture directory") {
        let name = entry.expect("a fixture").file_name();
        let name = name.to_string_lossy();
        let rule = name.trim_end_matches(".json");
        assert!(
            rule.starts_with("base") || RULES.iter().any(|(known, _)| *known == rule),
            "fixture `{name}` is not in RULES"
        );
    }
}

#[test]
fn identical_documents_have_no_changes() {
    assert_eq!(diff(&fixture("base"), &fixture("base")), Vec::new());
}

#[test]
fn the_report_groups_breaking_changes_first() {
    let mut all = changes("response_statuses");
    all.extend(changes("added_optional_request_field"));
    insta::assert_snapshot!("openapi_diff_report", report(&all));
}
