//! The names fw derives and accepts: table names from type names, and which names
//! may name a table or a column; how error messages list them, and which one a
//! misspelled name meant.

/// `DividendStatus` -> `dividend_status`, `HTTPServer` -> `http_server`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (index, &ch) in chars.iter().enumerate() {
        if ch.is_uppercase() {
            let previous = index.checked_sub(1).map(|i| chars[i]);
            let next = chars.get(index + 1).copied();
            let starts_word = match previous {
                None | Some('_') => false,
                Some(previous) => {
                    previous.is_lowercase()
                        || previous.is_ascii_digit()
                        || (previous.is_uppercase() && next.is_some_and(char::is_lowercase))
                }
            };
            if starts_word {
                out.push('_');
            }
            out.extend(ch.to_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

/// Whether `name` is a plain SQL identifier: an ASCII letter or `_`, then ASCII
/// letters, digits or `_`. fw names tables and columns only this way so they never
/// need escaping and read the same on every database.
pub fn is_sql_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

/// `a`, `b`, `c`: a list of names or values for an error message.
pub fn backticked<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names
        .into_iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The candidate closest to a misspelled `name`, if one is close enough to be
/// what the user meant: for the "did you mean" of an error message.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .filter(|&(distance, candidate)| {
            distance < candidate.len() && distance <= (candidate.len().max(name.len()) / 3).max(2)
        })
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance, over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_suggests_near_misses_only() {
        let options = ["max_length", "min_length", "unique"];
        assert_eq!(closest("max_len", options), Some("max_length"));
        assert_eq!(closest("uniqe", options), Some("unique"));
        assert_eq!(closest("colour", options), None);
        assert_eq!(closest("tabel", ["table", "index"]), Some("table"));
        assert_eq!(
            closest("veiw_dividend", ["view_dividend", "add_dividend"]),
            Some("view_dividend")
        );
    }

    #[test]
    fn snake_case_splits_words() {
        assert_eq!(snake_case("Security"), "security");
        assert_eq!(snake_case("DividendStatus"), "dividend_status");
        assert_eq!(snake_case("HTTPServer"), "http_server");
        assert_eq!(snake_case("Account2Fa"), "account2_fa");
        assert_eq!(snake_case("ex_date"), "ex_date");
        assert_eq!(snake_case("PaidOut"), "paid_out");
    }

    #[test]
    fn sql_identifiers() {
        assert!(is_sql_identifier("old_table"));
        assert!(is_sql_identifier("_x1"));
        assert!(!is_sql_identifier(""));
        assert!(!is_sql_identifier("1x"));
        assert!(!is_sql_identifier("old name"));
        assert!(!is_sql_identifier("a\"b"));
    }
}
