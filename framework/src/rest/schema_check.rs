//! A custom action's body checked against the bounds its schema documents,
//! so that the document and the server cannot disagree about them (see
//! [`ActionBody`](super::ActionBody)). The types themselves are serde's to
//! check, as the body is deserialized next; here are the keywords serde does
//! not see: `required` (for a pointer to the missing field), `additionalProperties: false`,
//! `minLength`, `maxLength` (in characters), `pattern` (searched, not
//! anchored, as JSON Schema says), `minimum`, `maximum`, `exclusiveMinimum`,
//! `exclusiveMaximum`, `minItems`, `maxItems`, through `properties`, `items`,
//! `allOf` and `$ref`.

use std::collections::HashMap;

use regex::Regex;
use serde_json::Value as Json;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

use super::error::{FieldError, escape_pointer};

/// The schemas a body or an answer brings into the document, by name.
pub(crate) type Schemas = Vec<(String, RefOr<Schema>)>;

/// How deep `$ref`s may nest: a schema that refers to itself is walked no
/// deeper than the value it checks, but a cycle of references with no value
/// between them would not end.
const MAX_REFS: usize = 32;

/// A body schema's bounds, made once per action when its route is mounted.
pub(crate) struct SchemaCheck {
    schema: Json,
    /// The named schemas its `$ref`s may name.
    named: HashMap<String, Json>,
    /// Every `pattern` in them, compiled.
    patterns: HashMap<String, Regex>,
}

impl SchemaCheck {
    /// The check of `schema`, whose `$ref`s name schemas in `named`.
    ///
    /// # Panics
    ///
    /// When a `pattern` is not a regular expression: the schema is the
    /// application's own, and this runs when its routes are mounted.
    pub(crate) fn new(schema: &RefOr<Schema>, named: &Schemas) -> SchemaCheck {
        let schema = to_json(schema);
        let named: HashMap<String, Json> = named
            .iter()
            .map(|(name, schema)| (name.clone(), to_json(schema)))
            .collect();
        let mut patterns = HashMap::new();
        for part in std::iter::once(&schema).chain(named.values()) {
            collect_patterns(part, &mut patterns);
        }
        SchemaCheck {
            schema,
            named,
            patterns,
        }
    }

    /// Every way `value` breaks the schema's bounds.
    pub(crate) fn check(&self, value: &Json) -> Vec<FieldError> {
        let mut errors = Vec::new();
        self.value(value, &self.schema, "", 0, &mut errors);
        errors
    }

    fn value(
        &self,
        value: &Json,
        schema: &Json,
        pointer: &str,
        refs: usize,
        errors: &mut Vec<FieldError>,
    ) {
        if let Some(reference) = schema.get("$ref").and_then(Json::as_str) {
            let named = reference
                .strip_prefix("#/components/schemas/")
                .and_then(|name| self.named.get(name));
            if let Some(named) = named
                && refs < MAX_REFS
            {
                self.value(value, named, pointer, refs + 1, errors);
            }
            return;
        }
        for part in schema
            .get("allOf")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            self.value(value, part, pointer, refs, errors);
        }
        match value {
            Json::Object(object) => self.object(object, schema, pointer, errors),
            Json::Array(items) => self.array(items, schema, pointer, errors),
            Json::String(text) => self.text_bounds(text, schema, pointer, errors),
            Json::Number(number) => {
                if let Some(number) = number.as_f64() {
                    number_bounds(number, schema, pointer, errors);
                }
            }
            Json::Bool(_) | Json::Null => {}
        }
    }

    fn object(
        &self,
        object: &serde_json::Map<String, Json>,
        schema: &Json,
        pointer: &str,
        errors: &mut Vec<FieldError>,
    ) {
        let properties = schema.get("properties").and_then(Json::as_object);
        for name in schema
            .get("required")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = name.as_str()
                && !object.contains_key(name)
            {
                errors.push(FieldError::new(
                    child(pointer, name),
                    "required",
                    "this field is required",
                ));
            }
        }
        let closed = schema.get("additionalProperties") == Some(&Json::Bool(false));
        for (name, field) in object {
            let field_pointer = child(pointer, name);
            match properties.and_then(|properties| properties.get(name)) {
                Some(field_schema) => self.value(field, field_schema, &field_pointer, 0, errors),
                None if closed => errors.push(FieldError::new(
                    field_pointer,
                    "unknown_field",
                    "this field is not part of the request; remove it",
                )),
                None => {}
            }
        }
    }

    fn text_bounds(&self, text: &str, schema: &Json, pointer: &str, errors: &mut Vec<FieldError>) {
        let length = text.chars().count() as f64;
        if let Some(least) = schema.get("minLength").and_then(Json::as_f64)
            && length < least
        {
            errors.push(FieldError::new(
                pointer,
                "min_length",
                format!("must be at least {least} characters long"),
            ));
        }
        if let Some(most) = schema.get("maxLength").and_then(Json::as_f64)
            && length > most
        {
            errors.push(FieldError::new(
                pointer,
                "max_length",
                format!("must be at most {most} characters long"),
            ));
        }
        if let Some(pattern) = schema.get("pattern").and_then(Json::as_str)
            && !self
                .patterns
                .get(pattern)
                .is_some_and(|regex| regex.is_match(text))
        {
            errors.push(FieldError::new(
                pointer,
                "pattern",
                format!("must match the pattern `{pattern}`"),
            ));
        }
    }

    fn array(&self, items: &[Json], schema: &Json, pointer: &str, errors: &mut Vec<FieldError>) {
        let count = items.len() as f64;
        if let Some(least) = schema.get("minItems").and_then(Json::as_f64)
            && count < least
        {
            errors.push(FieldError::new(
                pointer,
                "min_items",
                format!("must have at least {least} items"),
            ));
        }
        if let Some(most) = schema.get("maxItems").and_then(Json::as_f64)
            && count > most
        {
            errors.push(FieldError::new(
                pointer,
                "max_items",
                format!("must have at most {most} items"),
            ));
            // Past its bound, a list's items are not worth checking one by one.
            return;
        }
        if let Some(item_schema) = schema.get("items") {
            for (index, item) in items.iter().enumerate() {
                self.value(
                    item,
                    item_schema,
                    &child(pointer, &index.to_string()),
                    0,
                    errors,
                );
            }
        }
    }
}

/// A utoipa schema as JSON: plain data with text keys, which always serializes.
fn to_json(schema: &RefOr<Schema>) -> Json {
    serde_json::to_value(schema).unwrap_or_default()
}

/// Compiles every `pattern` under `schema` into `patterns`.
fn collect_patterns(schema: &Json, patterns: &mut HashMap<String, Regex>) {
    match schema {
        Json::Object(object) => {
            if let Some(Json::String(pattern)) = object.get("pattern")
                && !patterns.contains_key(pattern)
            {
                let regex = Regex::new(pattern).unwrap_or_else(|error| {
                    panic!(
                        "the body schema's pattern `{pattern}` is not a regular expression: {error}"
                    )
                });
                patterns.insert(pattern.clone(), regex);
            }
            for value in object.values() {
                collect_patterns(value, patterns);
            }
        }
        Json::Array(values) => {
            for value in values {
                collect_patterns(value, patterns);
            }
        }
        _ => {}
    }
}

fn number_bounds(number: f64, schema: &Json, pointer: &str, errors: &mut Vec<FieldError>) {
    let bound = |keyword: &str| schema.get(keyword).and_then(Json::as_f64);
    let broken = [
        (
            bound("minimum").is_some_and(|least| number < least),
            "minimum",
            "at least",
            bound("minimum"),
        ),
        (
            bound("maximum").is_some_and(|most| number > most),
            "maximum",
            "at most",
            bound("maximum"),
        ),
        (
            bound("exclusiveMinimum").is_some_and(|least| number <= least),
            "exclusive_minimum",
            "more than",
            bound("exclusiveMinimum"),
        ),
        (
            bound("exclusiveMaximum").is_some_and(|most| number >= most),
            "exclusive_maximum",
            "less than",
            bound("exclusiveMaximum"),
        ),
    ];
    for (broken, code, relation, limit) in broken {
        if let (true, Some(limit)) = (broken, limit) {
            errors.push(FieldError::new(
                pointer,
                code,
                format!("must be {relation} {limit}"),
            ));
        }
    }
}

/// The pointer to member `name` of the value at `pointer` (RFC 6901).
fn child(pointer: &str, name: &str) -> String {
    format!("{pointer}/{}", escape_pointer(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use utoipa::openapi::schema::Schema;

    fn check(schema: Json, named: &[(&str, Json)], value: Json) -> Vec<(String, String)> {
        let parse =
            |schema: Json| -> RefOr<Schema> { serde_json::from_value(schema).expect("a schema") };
        let named: Schemas = named
            .iter()
            .map(|(name, schema)| ((*name).to_owned(), parse(schema.clone())))
            .collect();
        // Sorted: members are walked in the order of the JSON map, which
        // depends on serde_json's features.
        let mut errors: Vec<(String, String)> = SchemaCheck::new(&parse(schema), &named)
            .check(&value)
            .into_iter()
            .map(|error| (error.pointer, error.code))
            .collect();
        errors.sort();
        errors
    }

    #[test]
    fn bounds_are_checked_through_references_and_lists() {
        let lot = json!({
            "type": "object",
            "required": ["symbol"],
            "additionalProperties": false,
            "properties": {
                "symbol": {"type": "string", "maxLength": 4, "pattern": "^[A-Z]+$"},
                "shares": {"type": "integer", "exclusiveMinimum": 0, "maximum": 1000},
            },
        });
        let order = json!({"type": "object", "properties": {
            "lots": {"type": "array", "maxItems": 2, "items": {"$ref": "#/components/schemas/Lot"}},
        }});
        let named = [("Lot", lot)];
        assert!(
            check(
                order.clone(),
                &named,
                json!({"lots": [{"symbol": "AB", "shares": 3}]})
            )
            .is_empty()
        );
        assert_eq!(
            check(
                order.clone(),
                &named,
                json!({"lots": [{"symbol": "ABCDE", "shares": 0}, {"shares": 1001, "x": 1}]})
            ),
            [
                ("/lots/0/shares", "exclusive_minimum"),
                ("/lots/0/symbol", "max_length"),
                ("/lots/1/shares", "maximum"),
                ("/lots/1/symbol", "required"),
                ("/lots/1/x", "unknown_field"),
            ]
            .map(|(pointer, code)| (pointer.to_owned(), code.to_owned()))
        );
        assert_eq!(
            check(order, &named, json!({"lots": [{}, {}, {}]})),
            [("/lots".to_owned(), "max_items".to_owned())]
        );
    }

    #[test]
    fn patterns_are_searched_not_anchored_and_lengths_are_characters() {
        let schema = json!({"type": "string", "pattern": "[0-9]", "maxLength": 3});
        assert!(check(schema.clone(), &[], json!("ab1")).is_empty());
        assert!(
            check(schema.clone(), &[], json!("é1é")).is_empty(),
            "3 characters, 5 bytes"
        );
        assert_eq!(
            check(schema, &[], json!("abc")),
            [(String::new(), "pattern".to_owned())]
        );
    }

    #[test]
    fn a_reference_cycle_ends() {
        let node = json!({"$ref": "#/components/schemas/Node"});
        assert!(check(node.clone(), &[("Node", node)], json!({})).is_empty());
    }
}
