//! Names: the constant names of fields. Table names, identifier rules, how
//! messages list names and the "did you mean" suggestion for misspelled ones
//! are `fw_core::names`, which the runtime shares.

use fw_core::names::snake_case;
pub(crate) use fw_core::names::{backticked, closest};

/// `ex_date` -> `EX_DATE`, `exDate` -> `EX_DATE`.
pub(crate) fn screaming_snake_case(name: &str) -> String {
    snake_case(name).to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screaming_snake_case_of_field_names() {
        assert_eq!(screaming_snake_case("ex_date"), "EX_DATE");
        assert_eq!(screaming_snake_case("id"), "ID");
    }
}
