//! `If-Match` and `If-None-Match` (RFC 9110, section 13.1): read byte by byte
//! as the RFC's grammar says, so a precondition the server cannot read is a
//! 400 and never a write made as if the client had sent none.

use axum::http::{HeaderMap, HeaderName, header};

use super::error::ApiError;

/// A precondition header's value: `*`, or a list of entity tags.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Condition<'h> {
    /// `*`: whatever the current version is.
    Any,
    /// The listed tags; an empty list (an empty header) lists no version, so it
    /// matches nothing.
    Tags(Vec<EntityTag<'h>>),
}

/// One entity tag, `"3"` or weak `W/"3"`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct EntityTag<'h> {
    weak: bool,
    /// The bytes between the quotes.
    opaque: &'h [u8],
}

/// How tags are compared (RFC 9110, section 8.8.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Comparison {
    /// `If-Match`: a weak tag never matches, since a write needs the exact version.
    Strong,
    /// `If-None-Match`: weak and strong tags alike.
    Weak,
}

impl Condition<'_> {
    /// Whether the condition holds for the row at `version`.
    pub(crate) fn matches(&self, version: i64, comparison: Comparison) -> bool {
        match self {
            Condition::Any => true,
            Condition::Tags(tags) => {
                let version = version.to_string();
                tags.iter().any(|tag| {
                    tag.opaque == version.as_bytes()
                        && (comparison == Comparison::Weak || !tag.weak)
                })
            }
        }
    }
}

/// The request's `If-Match`, if it sent one.
///
/// # Errors
///
/// 400 when the header is not `*` or a list of entity tags.
pub(crate) fn if_match(headers: &HeaderMap) -> Result<Option<Condition<'_>>, ApiError> {
    parse(headers, &header::IF_MATCH)
}

/// The request's `If-None-Match`, if it sent one.
///
/// # Errors
///
/// 400 when the header is not `*` or a list of entity tags.
pub(crate) fn if_none_match(headers: &HeaderMap) -> Result<Option<Condition<'_>>, ApiError> {
    parse(headers, &header::IF_NONE_MATCH)
}

/// `name`'s value, every line of it taken together as one list.
fn parse<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Result<Option<Condition<'h>>, ApiError> {
    let mut lines = headers.get_all(name).iter().peekable();
    if lines.peek().is_none() {
        return Ok(None);
    }
    let malformed = || {
        ApiError::bad_request(format!(
            "`{name}` must be `*` or a comma-separated list of entity tags such as \
             `\"3\"` (RFC 9110); send the `ETag` of the version you read"
        ))
    };
    let mut tags = Vec::new();
    let mut any = false;
    let mut count = 0;
    for line in lines {
        count += 1;
        let value = trim_whitespace(line.as_bytes());
        if value == b"*" {
            any = true;
        } else {
            parse_tags(value, &mut tags).ok_or_else(malformed)?;
        }
    }
    // `*` stands alone: a list with it, or a second line, is not the grammar.
    match (any, count) {
        (false, _) => Ok(Some(Condition::Tags(tags))),
        (true, 1) => Ok(Some(Condition::Any)),
        (true, _) => Err(malformed()),
    }
}

/// Appends the tags of `#entity-tag` in `value`: elements separated by commas,
/// with optional whitespace around them and empty elements allowed. `None` when
/// `value` is not such a list.
fn parse_tags<'h>(mut value: &'h [u8], tags: &mut Vec<EntityTag<'h>>) -> Option<()> {
    loop {
        value = trim_whitespace(value);
        match value.first() {
            None => return Some(()),
            Some(b',') => {
                value = &value[1..];
                continue;
            }
            Some(_) => {}
        }
        let (weak, rest) = match value.strip_prefix(b"W/") {
            Some(rest) => (true, rest),
            None => (false, value),
        };
        let rest = rest.strip_prefix(b"\"")?;
        let end = rest.iter().position(|&byte| byte == b'"')?;
        let opaque = &rest[..end];
        // etagc: `!`, `#` to `~`, and obs-text (bytes from 0x80).
        if !opaque
            .iter()
            .all(|&byte| byte == 0x21 || (0x23..=0x7e).contains(&byte) || byte >= 0x80)
        {
            return None;
        }
        tags.push(EntityTag { weak, opaque });
        value = trim_whitespace(&rest[end + 1..]);
        match value.first() {
            None => return Some(()),
            Some(b',') => value = &value[1..],
            Some(_) => return None,
        }
    }
}

/// `value` without the spaces and tabs around it (HTTP's optional whitespace).
fn trim_whitespace(value: &[u8]) -> &[u8] {
    let is_whitespace = |byte: &u8| *byte == b' ' || *byte == b'\t';
    let start = value
        .iter()
        .position(|byte| !is_whitespace(byte))
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|byte| !is_whitespace(byte))
        .map_or(start, |last| last + 1);
    &value[start..end]
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    /// A request's headers with one `If-Match` line per value.
    fn if_match_lines(values: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                header::IF_MATCH,
                HeaderValue::from_bytes(value).expect("a header value"),
            );
        }
        headers
    }

    fn tags(tags: &[(bool, &'static [u8])]) -> Option<Option<Condition<'static>>> {
        let tags = tags
            .iter()
            .map(|&(weak, opaque)| EntityTag { weak, opaque })
            .collect();
        Some(Some(Condition::Tags(tags)))
    }

    #[test]
    fn reads_lists_of_strong_and_weak_tags() {
        let parsed = |values: &[&[u8]]| {
            let headers = if_match_lines(values);
            format!("{:?}", if_match(&headers).ok())
        };
        let expected = |condition: Option<Option<Condition<'_>>>| format!("{condition:?}");
        assert_eq!(parsed(&[]), expected(Some(None)));
        assert_eq!(parsed(&[b"*"]), expected(Some(Some(Condition::Any))));
        assert_eq!(parsed(&[b" * "]), expected(Some(Some(Condition::Any))));
        assert_eq!(
            parsed(&[b"\"1\", W/\"2\" ,\"\"", b"\"x\""]),
            expected(tags(&[
                (false, b"1"),
                (true, b"2"),
                (false, b""),
                (false, b"x")
            ]))
        );
        // Empty elements are allowed and list nothing (RFC 9110, 5.6.1).
        assert_eq!(parsed(&[b", \"1\",,"]), expected(tags(&[(false, b"1")])));
        assert_eq!(parsed(&[b""]), expected(tags(&[])));
        // obs-text inside the quotes is part of the grammar (and names no version).
        assert_eq!(
            parsed(&[b"\"\xc3\xa9\""]),
            expected(tags(&[(false, b"\xc3\xa9")]))
        );
    }

    #[test]
    fn refuses_what_is_not_the_grammar() {
        for malformed in [
            &[&b"1"[..]][..],
            &[b"\"1"],
            &[b"\"1\" \"2\""],
            &[b"w/\"1\""],
            &[b"W/ \"1\""],
            &[b"\"a b\""],
            &[b"\xff"],
            &[b"*, \"1\""],
            &[b"**"],
            &[b"*", b"\"1\""],
            &[b"*", b"*"],
        ] {
            let headers = if_match_lines(malformed);
            assert!(if_match(&headers).is_err(), "{malformed:?}");
        }
    }

    /// The OpenAPI document's pattern admits exactly the text values the
    /// parser reads.
    #[test]
    fn the_documented_pattern_is_the_grammar() {
        let pattern = regex::Regex::new(crate::openapi::ENTITY_TAGS_PATTERN).expect("a regex");
        for value in [
            "*",
            " * ",
            "",
            "\"1\"",
            "W/\"1\"",
            "\"1\", W/\"2\"",
            ",\"1\",,",
            "\"\"",
            "\"a\" ,\t\"b\"",
            "1",
            "\"1",
            "\"1\" \"2\"",
            "w/\"1\"",
            "W/ \"1\"",
            "\"a b\"",
            "*, \"1\"",
            "**",
            "\"1\"\"2\"",
        ] {
            let headers = if_match_lines(&[value.as_bytes()]);
            assert_eq!(
                pattern.is_match(value),
                if_match(&headers).is_ok(),
                "{value:?}"
            );
        }
    }

    #[test]
    fn compares_strongly_or_weakly() {
        let condition = Condition::Tags(vec![
            EntityTag {
                weak: true,
                opaque: b"2",
            },
            EntityTag {
                weak: false,
                opaque: b"3",
            },
        ]);
        assert!(condition.matches(3, Comparison::Strong));
        assert!(!condition.matches(2, Comparison::Strong));
        assert!(condition.matches(2, Comparison::Weak));
        assert!(!condition.matches(4, Comparison::Weak));
        assert!(Condition::Any.matches(7, Comparison::Strong));
        assert!(!Condition::Tags(Vec::new()).matches(1, Comparison::Weak));
    }
}
