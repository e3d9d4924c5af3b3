//! List query strings, DRF's names: `page_size`, `cursor`, `ordering`, `search`
//! and `field__lookup` filters. Anything the resource does not declare is a 400
//! naming the parameter.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fw_core::api::list::{self, MAX_IN_VALUES, MAX_SEARCH_LENGTH};
use fw_core::constraint::Subject;
use serde_json::{Value as Json, json};

use super::ResourceSpec;
use super::error::ApiError;
use super::input::{from_json, parse_text};
use crate::caller::Caller;
use crate::model::Model;
use crate::model::query::{Cursor, Filter, Lookup, Order, Query};
use crate::schema::{Constraint, FieldSchema};
use crate::value::Value;
use fw_core::access::Access;

/// The parameters of one list request, checked against the resource.
pub(crate) struct ListParams<M> {
    pub(crate) filters: Vec<Filter<M>>,
    pub(crate) order: Vec<Order<M>>,
    /// The effective ordering as text, stored in cursors so a cursor is only
    /// used with the ordering it was made for.
    pub(crate) ordering: String,
    pub(crate) page_size: u32,
    pub(crate) cursor: Option<Cursor>,
    /// Every parameter except `cursor`, in order, for the `next`/`previous` links.
    pub(crate) kept: Vec<(String, String)>,
}

/// The list parameters of `query`; a filter on a sensitive field is refused
/// (403) to a `caller` without the permission that reveals the field, who
/// could otherwise learn its values by probing.
pub(crate) fn parse_list<M: Model>(
    spec: &'static ResourceSpec,
    caller: &Caller,
    query: Option<&str>,
) -> Result<ListParams<M>, ApiError> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let mut filters = Vec::new();
    let mut page_size = spec.page_size;
    let mut ordering: Option<String> = None;
    let mut cursor_token: Option<String> = None;
    let mut kept: Vec<(String, String)> = Vec::new();
    for (name, raw) in pairs {
        if raw.contains('\0') {
            return Err(ApiError::bad_request(format!(
                "query parameter `{}` {}",
                name.replace('\0', "\\0"),
                super::input::NUL_CHARACTER
            )));
        }
        // Each parameter once, so a statement has at most one condition per
        // declared parameter, however long the query string.
        if kept.iter().any(|(seen, _)| *seen == name)
            || (name == list::CURSOR && cursor_token.is_some())
        {
            return Err(ApiError::bad_request(format!(
                "query parameter `{name}` is given more than once; give it once"
            )));
        }
        match name.as_str() {
            list::CURSOR => {
                cursor_token = Some(raw);
                continue;
            }
            list::PAGE_SIZE => {
                page_size = match crate::value::parse_integer::<u32>(&raw) {
                    Some(size) if (list::MIN_PAGE_SIZE..=spec.max_page_size).contains(&size) => {
                        size
                    }
                    _ => {
                        return Err(ApiError::bad_request(format!(
                            "`{}` must be an integer from {} to {}",
                            list::PAGE_SIZE,
                            list::MIN_PAGE_SIZE,
                            spec.max_page_size
                        )));
                    }
                }
            }
            list::ORDERING => ordering = Some(raw.clone()),
            list::SEARCH if !spec.search.is_empty() => {
                check_search_length(list::SEARCH, &raw)?;
                if !raw.is_empty() {
                    let any = spec.search.iter().filter_map(|field| {
                        Filter::lookup(field, Lookup::IContains, vec![Value::Text(raw.clone())])
                    });
                    filters.push(Filter::any(any));
                }
            }
            _ => filters.push(filter_param(spec, caller, &name, &raw)?),
        }
        kept.push((name, raw));
    }
    let (ordering, order) = match ordering {
        Some(ordering) => {
            let order = parse_ordering(spec, &ordering, false)?;
            (ordering, order)
        }
        None => {
            let ordering = spec.default_ordering.join(",");
            let order = if ordering.is_empty() {
                Vec::new()
            } else {
                parse_ordering(spec, &ordering, true)?
            };
            (ordering, order)
        }
    };
    let cursor = cursor_token
        .map(|token| decode_cursor::<M>(&token, &ordering, &order))
        .transpose()?;
    Ok(ListParams {
        filters,
        order,
        ordering,
        page_size,
        cursor,
        kept,
    })
}

fn filter_param<M: Model>(
    spec: &ResourceSpec,
    caller: &Caller,
    name: &str,
    raw: &str,
) -> Result<Filter<M>, ApiError> {
    let (field_name, lookup_name) = Lookup::split_parameter(name);
    let Some(declared) = spec.filters.iter().find(|filter| filter.name == field_name) else {
        return Err(unknown_parameter(spec, name));
    };
    // Before the value is read: a caller who may not see it learns nothing.
    if let Some(permission) = spec.reveal_permission(declared) {
        caller.require(Access::Permission(permission))?;
    }
    let Some(lookup) =
        Lookup::from_name(lookup_name).filter(|lookup| declared.lookups.contains(lookup))
    else {
        return Err(ApiError::bad_request(format!(
            "unknown query parameter `{name}`: `{field_name}` allows {}",
            declared
                .lookups
                .iter()
                .map(|lookup| format!("`{}`", lookup.parameter(field_name)))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    let field = declared.field;
    let invalid =
        |reason: String| ApiError::bad_request(format!("query parameter `{name}`: {reason}"));
    // The OpenAPI document gives these values the field's pattern: a value
    // outside it is refused as a body field would be, not answered with an
    // empty page.
    let parse_value = |text: &str| {
        let value = parse_text(field, text)?;
        let broken_pattern = field
            .constraints
            .iter()
            .filter(|constraint| matches!(constraint, Constraint::Pattern(_)))
            .find_map(|constraint| constraint.violation(field, Subject::Text(text)));
        match broken_pattern {
            Some(violation) => Err(violation.detail),
            None => Ok(value),
        }
    };
    let values = match lookup {
        Lookup::In => {
            if raw.split(',').nth(MAX_IN_VALUES).is_some() {
                return Err(invalid(format!(
                    "at most {MAX_IN_VALUES} comma-separated values; split the list over several requests"
                )));
            }
            raw.split(',')
                .map(parse_value)
                .collect::<Result<Vec<_>, _>>()
                .map_err(invalid)?
        }
        Lookup::IsNull => match raw {
            "true" | "1" => vec![Value::Bool(true)],
            "false" | "0" => vec![Value::Bool(false)],
            _ => return Err(invalid("expected `true` or `false`".to_owned())),
        },
        Lookup::Contains | Lookup::IContains | Lookup::StartsWith => {
            check_search_length(name, raw)?;
            vec![Value::Text(raw.to_owned())]
        }
        _ => vec![parse_value(raw).map_err(invalid)?],
    };
    let filter = match declared.through {
        Some(through) => Filter::related(through.reference, through.target, field, lookup, values),
        None => Filter::lookup(field, lookup, values),
    };
    filter.ok_or_else(|| invalid("not a valid filter".to_owned()))
}

fn check_search_length(name: &str, text: &str) -> Result<(), ApiError> {
    if text.chars().nth(MAX_SEARCH_LENGTH).is_some() {
        return Err(ApiError::bad_request(format!(
            "query parameter `{name}` is at most {MAX_SEARCH_LENGTH} characters; search for a shorter text"
        )));
    }
    Ok(())
}

fn unknown_parameter(spec: &ResourceSpec, name: &str) -> ApiError {
    let mut known = vec![
        list::CURSOR.to_owned(),
        list::PAGE_SIZE.to_owned(),
        list::ORDERING.to_owned(),
    ];
    if !spec.search.is_empty() {
        known.push(list::SEARCH.to_owned());
    }
    for filter in spec.filters {
        known.push(filter.name.to_owned());
        for lookup in filter.lookups {
            known.push(lookup.parameter(filter.name));
        }
    }
    ApiError::bad_request(format!(
        "unknown query parameter `{name}`; this resource accepts {}",
        known
            .iter()
            .map(|known| format!("`{known}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// The terms of `ordering`: comma-separated declared fields, each named once
/// (in either direction), so an ordering, and the keyset condition of its
/// cursor, has at most as many terms as the resource declares. The default
/// ordering may also name the primary key (`with_key`) without declaring it.
fn parse_ordering<M: Model>(
    spec: &ResourceSpec,
    ordering: &str,
    with_key: bool,
) -> Result<Vec<Order<M>>, ApiError> {
    let mut order: Vec<Order<M>> = Vec::new();
    for term in ordering.split(',') {
        let (descending, name) = match term.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, term),
        };
        if name.is_empty() {
            return Err(ApiError::bad_request(
                "`ordering` has an empty term; give field names separated by single commas, \
                 `-` before a name for descending order",
            ));
        }
        let field = spec
            .ordering
            .iter()
            .find(|(api_name, _)| *api_name == name)
            .map(|(_, field)| *field)
            .or_else(|| {
                let key = spec.model.primary_key();
                (with_key && spec.api_name(key.name) == name).then_some(key)
            });
        let Some(order_term) = field.and_then(|field| Order::by(field, descending)) else {
            return Err(ApiError::bad_request(format!(
                "`ordering` cannot use `{name}`; this resource orders by {}",
                spec.ordering
                    .iter()
                    .map(|(name, _)| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        if order
            .iter()
            .any(|earlier| earlier.field().name == order_term.field().name)
        {
            return Err(ApiError::bad_request(format!(
                "`ordering` names `{name}` more than once; name each field at most once"
            )));
        }
        order.push(order_term);
    }
    Ok(order)
}

/// The fields a cursor holds values for: the ordering, then the primary key
/// (as [`Query`] adds it).
fn cursor_fields<M: Model>(order: &[Order<M>]) -> Vec<&'static FieldSchema> {
    let mut fields: Vec<&'static FieldSchema> = order.iter().map(Order::field).collect();
    let key = M::SCHEMA.primary_key();
    if !fields.iter().any(|field| field.name == key.name) {
        fields.push(key);
    }
    fields
}

/// An opaque cursor token: base64url of `{"o": ordering, "b": backwards, "v": values}`.
pub(crate) fn encode_cursor<M: Model>(
    query: &Query<M>,
    ordering: &str,
    row: &M,
    backwards: bool,
) -> String {
    let values: Vec<Json> = query
        .cursor_values(row)
        .iter()
        .map(Value::to_json)
        .collect();
    let document = json!({"o": ordering, "b": backwards, "v": values});
    URL_SAFE_NO_PAD.encode(document.to_string())
}

fn decode_cursor<M: Model>(
    token: &str,
    ordering: &str,
    order: &[Order<M>],
) -> Result<Cursor, ApiError> {
    let invalid = || {
        ApiError::bad_request("`cursor` is not valid; use the `next` or `previous` link of a page")
    };
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let document: Json = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if document.get("o").and_then(Json::as_str) != Some(ordering) {
        return Err(ApiError::bad_request(
            "`cursor` was made for another `ordering`; start again without `cursor`",
        ));
    }
    let backwards = document
        .get("b")
        .and_then(Json::as_bool)
        .ok_or_else(invalid)?;
    let raw_values = document
        .get("v")
        .and_then(Json::as_array)
        .ok_or_else(invalid)?;
    let fields = cursor_fields(order);
    if raw_values.len() != fields.len() {
        return Err(invalid());
    }
    let values = fields
        .iter()
        .zip(raw_values)
        .map(|(field, json)| from_json(field, json))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(invalid)?;
    Ok(Cursor { values, backwards })
}

/// `path?kept&cursor=token`, an absolute-path link to another page.
pub(crate) fn page_link(path: &str, kept: &[(String, String)], cursor: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in kept {
        query.append_pair(name, value);
    }
    query.append_pair(list::CURSOR, cursor);
    format!("{path}?{}", query.finish())
}
