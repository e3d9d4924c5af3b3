//! Rules across the variants of a `Choices` enum.

use std::collections::HashMap;

use super::ast::{Choice, ChoiceEnum};
use crate::ctxt::Ctxt;

pub(crate) fn check(cx: &Ctxt, choices: &ChoiceEnum) {
    let mut seen: HashMap<&str, &Choice> = HashMap::new();
    for choice in &choices.variants {
        if choice.value.is_empty() {
            cx.error_at(
                choice.value_span,
                "`rename` must not be empty: an empty string is not a readable stored value",
            );
        } else if let Some(previous) = seen.insert(&choice.value, choice) {
            cx.error_at(
                choice.value_span,
                format!(
                    "variants `{}` and `{}` are both stored as \"{}\": give one of them \
                     `#[choice(rename = \"...\")]`",
                    previous.ident, choice.ident, choice.value
                ),
            );
        }
    }
}
