//! Names: the constant names of fields, and the "did you mean" suggestion for
//! misspelled names. Table names, identifier rules and how messages list names
//! are `fw_core::names`, which the runtime shares.

pub(crate) use fw_core::names::backticked;
use fw_core::names::snake_case;

/// `ex_date` -> `EX_DATE`, `exDate` -> `EX_DATE`.
pub(crate) fn screaming_snake_case(name: &str) -> String {
    snake_case(name).to_uppercase()
}

/// The candidate closest to a misspelled `name`, if one is close enough to be
/// what the user meant.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
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
    fn screaming_snake_case_of_field_names() {
        assert_eq!(screaming_snake_case("ex_date"), "EX_DATE");
        assert_eq!(screaming_snake_case("id"), "ID");
    }

    #[test]
    fn closest_suggests_near_misses_only() {
        let options = ["max_length", "min_length", "unique"];
        assert_eq!(closest("max_len", options), Some("max_length"));
        assert_eq!(closest("uniqe", options), Some("unique"));
        assert_eq!(closest("colour", options), None);
        assert_eq!(closest("tabel", ["table", "index"]), Some("table"));
    }
}
