//! One OpenAPI document per version: the document of everything the API
//! registers, made older one edit at a time, as the edge makes its
//! responses older. Each released version's document is committed (see
//! [`committed`](crate::openapi::committed)) and must stay as it was.

use std::collections::BTreeSet;

use serde_json::{Map, Value as Json};

use super::{Edit, Versions};

/// The request body schemas fw names after a resource, besides the resource's
/// own: see `openapi::add_resource`.
const INPUT_SUFFIXES: [&str; 3] = ["Create", "Update", "Patch"];

/// Version `position`'s document, from `full`, the document of everything
/// registered in the newest shape.
pub(crate) fn document_of(full: &Json, versions: &Versions, position: usize) -> Json {
    let mut document = full.clone();
    for edit in versions.downgrades(position) {
        downgrade(edit, &mut document);
    }
    // An endpoint removed in a version is in that version's document and
    // every older one's, and in no newer one's.
    for version in &versions.all()[position..] {
        for edit in version.changes.iter().flat_map(|change| change.edits) {
            if let Edit::EndpointRemoved(endpoint) = edit {
                remove_operation(&mut document, endpoint.method, endpoint.path);
            }
        }
    }
    if let Some(version) = at(&mut document, &["info", "version"]) {
        *version = Json::from(versions.all()[position].date);
    }
    document
}

/// The value at `path` inside `value`, when every step is there. Unlike
/// indexing, it never adds what is missing (serde_json's `IndexMut` inserts a
/// null for a missing key, and panics on a value that is not an object).
fn at<'a>(value: &'a mut Json, path: &[&str]) -> Option<&'a mut Json> {
    path.iter()
        .try_fold(value, |value, key| value.get_mut(*key))
}

/// Makes `document` one edit older.
fn downgrade(edit: &Edit, document: &mut Json) {
    match edit {
        Edit::Renamed { field, was } => {
            for schema in resource_schemas(document, field.resource.name) {
                rename_property(schema, field.name, was);
            }
            for parameter in resource_parameters(document, field.resource.name) {
                rename_parameter(parameter, field.name, was);
            }
        }
        Edit::Added { field } => {
            for schema in resource_schemas(document, field.resource.name) {
                remove_property(schema, field.name);
            }
            remove_parameters(document, field.resource.name, field.name);
        }
        Edit::Removed {
            resource,
            name,
            schema,
            ..
        } => {
            if let Some(properties) = at(
                document,
                &["components", "schemas", resource.name, "properties"],
            )
            .and_then(Json::as_object_mut)
            {
                properties.insert((*name).to_owned(), schema());
            }
            if let Some(required) = at(
                document,
                &["components", "schemas", resource.name, "required"],
            )
            .and_then(Json::as_array_mut)
            {
                required.push(Json::from(*name));
            }
        }
        Edit::EnumValueAdded { field, value, .. } => {
            let components = document["components"]["schemas"].clone();
            for schema in resource_schemas(document, field.resource.name) {
                if let Some(property) = at(schema, &["properties", field.name]) {
                    remove_enum_value(property, value, &components);
                }
            }
            for parameter in resource_parameters(document, field.resource.name) {
                let filters_field = parameter["name"].as_str().is_some_and(|name| {
                    name == field.name || name == format!("{}__in", field.name)
                });
                if filters_field && let Some(schema) = parameter.get_mut("schema") {
                    remove_enum_value(schema, value, &components);
                }
            }
        }
        Edit::Converted { field, schema, .. } => {
            for resource_schema in resource_schemas(document, field.resource.name) {
                if let Some(property) = at(resource_schema, &["properties", field.name]) {
                    *property = schema();
                }
            }
        }
        Edit::EndpointAdded(endpoint) => {
            remove_operation(document, endpoint.method, endpoint.path);
        }
        Edit::EndpointRemoved(_) => {}
        Edit::Custom { document: edit, .. } => edit(document),
    }
}

/// The schemas of resource `name`: its representation and request bodies.
fn resource_schemas<'a>(document: &'a mut Json, name: &str) -> Vec<&'a mut Json> {
    let names: BTreeSet<String> = std::iter::once(name.to_owned())
        .chain(
            INPUT_SUFFIXES
                .iter()
                .map(|suffix| format!("{name}{suffix}")),
        )
        .collect();
    match at(document, &["components", "schemas"]).and_then(Json::as_object_mut) {
        Some(schemas) => schemas
            .iter_mut()
            .filter(|(key, _)| names.contains(key.as_str()))
            .map(|(_, schema)| schema)
            .collect(),
        None => Vec::new(),
    }
}

/// The parameters of the operations tagged with resource `name`.
fn resource_parameters<'a>(document: &'a mut Json, name: &str) -> Vec<&'a mut Json> {
    let Some(paths) = document.get_mut("paths").and_then(Json::as_object_mut) else {
        return Vec::new();
    };
    paths
        .values_mut()
        .filter_map(Json::as_object_mut)
        .flat_map(|item| item.values_mut())
        .filter(|operation| operation["tags"].get(0).and_then(Json::as_str) == Some(name))
        .filter_map(|operation| operation.get_mut("parameters").and_then(Json::as_array_mut))
        .flatten()
        .collect()
}

fn rename_property(schema: &mut Json, from: &str, to: &str) {
    if let Some(properties) = schema.get_mut("properties").and_then(Json::as_object_mut)
        && let Some(property) = properties.remove(from)
    {
        properties.insert(to.to_owned(), property);
    }
    if let Some(required) = schema.get_mut("required").and_then(Json::as_array_mut) {
        for name in required.iter_mut() {
            if name == from {
                *name = Json::from(to);
            }
        }
    }
}

fn remove_property(schema: &mut Json, name: &str) {
    if let Some(properties) = schema.get_mut("properties").and_then(Json::as_object_mut) {
        properties.remove(name);
    }
    if let Some(required) = schema.get_mut("required").and_then(Json::as_array_mut) {
        required.retain(|entry| entry != name);
    }
}

/// Renames field `from` to `to` in a list operation's parameter: a filter's
/// name, the field where its description quotes it, and the `ordering`
/// parameter's terms.
fn rename_parameter(parameter: &mut Json, from: &str, to: &str) {
    let renamed = parameter["name"].as_str().and_then(|name| {
        let suffix = name.strip_prefix(from)?;
        (suffix.is_empty() || suffix.starts_with("__")).then(|| format!("{to}{suffix}"))
    });
    if let Some(renamed) = renamed
        && let Some(name) = parameter.get_mut("name")
    {
        *name = Json::from(renamed);
    }
    if let Some(Json::String(description)) = parameter.get_mut("description") {
        *description = rename_in_text(description, from, to);
    }
    if parameter["name"] == fw_core::api::list::ORDERING
        && let Some(schema) = parameter.get_mut("schema")
    {
        rename_terms(schema, from, to);
    }
}

/// Renames the terms `from` and `-from` of an `ordering` schema: its items'
/// `enum` and the `const`s that refuse both directions at once.
fn rename_terms(schema: &mut Json, from: &str, to: &str) {
    let rename = |term: &mut Json| {
        if term == from {
            *term = Json::from(to);
        } else if term.as_str().and_then(|term| term.strip_prefix('-')) == Some(from) {
            *term = Json::from(format!("-{to}"));
        }
    };
    if let Some(terms) = at(schema, &["items", "enum"]).and_then(Json::as_array_mut) {
        terms.iter_mut().for_each(rename);
    }
    fn consts(value: &mut Json, rename: &dyn Fn(&mut Json)) {
        match value {
            Json::Object(map) => {
                if let Some(term) = map.get_mut("const") {
                    rename(term);
                }
                map.values_mut().for_each(|item| consts(item, rename));
            }
            Json::Array(items) => items.iter_mut().for_each(|item| consts(item, rename)),
            _ => {}
        }
    }
    if let Some(not) = schema.get_mut("not") {
        consts(not, &rename);
    }
}

/// `text` with each backquoted span's comma-separated terms naming `from`
/// (or `-from`) renamed.
fn rename_in_text(text: &str, from: &str, to: &str) -> String {
    text.split('`')
        .enumerate()
        .map(|(index, part)| {
            if index % 2 == 0 {
                part.to_owned()
            } else {
                part.split(',')
                    .map(|term| match term.strip_prefix('-') {
                        Some(name) if name == from => format!("-{to}"),
                        _ if term == from => to.to_owned(),
                        _ => term.to_owned(),
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            }
        })
        .collect::<Vec<_>>()
        .join("`")
}

/// Removes the filters of field `field` from resource `name`'s operations,
/// and the field from their `ordering` parameter.
fn remove_parameters(document: &mut Json, name: &str, field: &str) {
    let Some(paths) = document.get_mut("paths").and_then(Json::as_object_mut) else {
        return;
    };
    for operation in paths
        .values_mut()
        .filter_map(Json::as_object_mut)
        .flat_map(|item| item.values_mut())
        .filter(|operation| operation["tags"].get(0).and_then(Json::as_str) == Some(name))
    {
        let Some(parameters) = operation.get_mut("parameters").and_then(Json::as_array_mut) else {
            continue;
        };
        parameters.retain(|parameter| {
            parameter["name"].as_str().is_none_or(|name| {
                name.strip_prefix(field)
                    .is_none_or(|suffix| !(suffix.is_empty() || suffix.starts_with("__")))
            })
        });
        for parameter in parameters.iter_mut() {
            if parameter["name"] == fw_core::api::list::ORDERING {
                remove_ordering_term(parameter, field);
            }
        }
    }
}

/// Removes `field` from an `ordering` parameter: its terms, its pair of
/// directions, its place in the description.
fn remove_ordering_term(parameter: &mut Json, field: &str) {
    let descending = format!("-{field}");
    if let Some(schema) = parameter.get_mut("schema") {
        let removed = match at(schema, &["items", "enum"]).and_then(Json::as_array_mut) {
            Some(terms) => {
                let before = terms.len();
                terms.retain(|term| term != field && *term != descending);
                terms.len() < before
            }
            None => false,
        };
        if removed && let Some(most) = schema.get_mut("maxItems") {
            *most = Json::from(most.as_u64().unwrap_or(1).saturating_sub(1));
        }
        if let Some(pairs) = at(schema, &["not", "anyOf"]).and_then(Json::as_array_mut) {
            pairs.retain(|pair| !pair.to_string().contains(&format!("\"const\":\"{field}\"")));
        }
    }
    if let Some(Json::String(description)) = parameter.get_mut("description") {
        let quoted = format!("`{field}`");
        *description = description
            .replace(&format!("{quoted}, "), "")
            .replace(&format!(", {quoted}"), "");
    }
}

/// Removes `value` from the enum `schema` allows, inlining a referenced
/// enum first, so that other fields of its type keep the value.
fn remove_enum_value(schema: &mut Json, value: &str, components: &Json) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or_default();
        let mut inlined = components[name].clone();
        if let (Some(mut inlined_map), Some(map)) = (
            inlined.as_object_mut().map(std::mem::take),
            schema.as_object(),
        ) {
            for (key, item) in map.iter().filter(|(key, _)| *key != "$ref") {
                inlined_map.insert(key.clone(), item.clone());
            }
            inlined = Json::Object(inlined_map);
        }
        *schema = inlined;
    }
    for path in [&["enum"][..], &["items", "enum"]] {
        if let Some(values) = at(schema, path).and_then(Json::as_array_mut) {
            values.retain(|entry| entry != value);
        }
    }
}

/// Removes operation `method path`, and the path when it has no other
/// operation, and the schemas only it used.
fn remove_operation(document: &mut Json, method: &str, path: &str) {
    let before = referenced_schemas(document);
    let method = method.to_ascii_lowercase();
    if let Some(paths) = document.get_mut("paths").and_then(Json::as_object_mut)
        && let Some(item) = paths.get_mut(path).and_then(Json::as_object_mut)
    {
        item.remove(&method);
        if item.is_empty() {
            paths.remove(path);
        }
    }
    let after = referenced_schemas(document);
    if let Some(schemas) = at(document, &["components", "schemas"]).and_then(Json::as_object_mut) {
        schemas.retain(|name, _| !before.contains(name) || after.contains(name));
    }
}

/// The schemas the paths refer to, directly or through other schemas.
fn referenced_schemas(document: &Json) -> BTreeSet<String> {
    fn refs(value: &Json, found: &mut Vec<String>) {
        match value {
            Json::Object(map) => {
                if let Some(Json::String(reference)) = map.get("$ref")
                    && let Some(name) = reference.strip_prefix("#/components/schemas/")
                {
                    found.push(name.to_owned());
                }
                map.values().for_each(|item| refs(item, found));
            }
            Json::Array(items) => items.iter().for_each(|item| refs(item, found)),
            _ => {}
        }
    }
    let schemas: &Map<String, Json> = match document["components"]["schemas"].as_object() {
        Some(schemas) => schemas,
        None => return BTreeSet::new(),
    };
    let mut pending = Vec::new();
    refs(&document["paths"], &mut pending);
    let mut seen = BTreeSet::new();
    while let Some(name) = pending.pop() {
        if seen.insert(name.clone())
            && let Some(schema) = schemas.get(&name)
        {
            refs(schema, &mut pending);
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backquoted_terms_are_renamed_in_text() {
        assert_eq!(
            rename_in_text(
                "each field at most once: `amount`, `ex_date`. Default `-amount,ex_date`.",
                "amount",
                "rate"
            ),
            "each field at most once: `rate`, `ex_date`. Default `-rate,ex_date`."
        );
    }
}
