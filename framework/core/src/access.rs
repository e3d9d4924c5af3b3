//! Who may run an operation: the vocabulary of permissions `#[resource]`
//! checks at compile time and the runtime enforces and documents.
//!
//! A permission is a name, `view_dividend` or `import_dividends`. Every model
//! has four, Django's: [`ModelPermission`] names them from the model's name.
//! An application declares its own with `App::permission`, and roles
//! (`App::role`) grant them.

use crate::api::Action;
use crate::names::snake_case;

/// Who may run an operation. Nothing is public by omission: every operation
/// fw serves has one of these, and its OpenAPI operation says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Anyone, with or without credentials (bad credentials are still a 401).
    Public,
    /// Any authenticated, active user, whatever their permissions.
    Authenticated,
    /// An authenticated, active user holding this permission through one of
    /// their roles (and, for a token with scopes, within them), or a superuser.
    Permission(&'static str),
}

impl Access {
    /// The permission it requires, if any.
    pub const fn permission(self) -> Option<&'static str> {
        match self {
            Access::Permission(permission) => Some(permission),
            Access::Public | Access::Authenticated => None,
        }
    }

    /// Whether it requires credentials.
    pub const fn requires_authentication(self) -> bool {
        !matches!(self, Access::Public)
    }
}

/// The four permissions every model has, Django's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelPermission {
    /// Read rows: list, retrieve, history.
    View,
    /// Create rows.
    Add,
    /// Update rows, wholly or partly.
    Change,
    /// Delete rows.
    Delete,
}

impl ModelPermission {
    /// Every model permission, in the order documentation lists them.
    pub const ALL: [ModelPermission; 4] = [
        ModelPermission::View,
        ModelPermission::Add,
        ModelPermission::Change,
        ModelPermission::Delete,
    ];

    /// The word used in `#[resource(permissions(...))]`: `view`, `add`,
    /// `change`, `delete`.
    pub const fn name(self) -> &'static str {
        match self {
            ModelPermission::View => "view",
            ModelPermission::Add => "add",
            ModelPermission::Change => "change",
            ModelPermission::Delete => "delete",
        }
    }

    /// The model permission called `name`, if any.
    pub fn from_name(name: &str) -> Option<ModelPermission> {
        ModelPermission::ALL
            .into_iter()
            .find(|permission| permission.name() == name)
    }

    /// The model permission an action needs by default: `view` to read,
    /// `add` to create, `change` to update, `delete` to delete.
    pub const fn of_action(action: Action) -> ModelPermission {
        match action {
            Action::List | Action::Retrieve | Action::History => ModelPermission::View,
            Action::Create => ModelPermission::Add,
            Action::Update | Action::PartialUpdate => ModelPermission::Change,
            Action::Destroy => ModelPermission::Delete,
        }
    }

    /// This permission's name for the model named `model` (its struct's
    /// name): `view_dividend` for `View` of `Dividend`.
    pub fn of_model(self, model: &str) -> String {
        format!("{}_{}", self.name(), snake_case(model))
    }
}

/// The permission that reads the change log (`/changes` and its live tail):
/// every model's changes, so none of the models' own.
pub const VIEW_CHANGES: &str = "view_changes";

/// The longest permission or role name.
pub const MAX_NAME_LENGTH: usize = 64;

/// Whether `name` can name a permission or a role: lowercase ASCII letters,
/// digits and underscores, starting with a letter, at most
/// [`MAX_NAME_LENGTH`] characters (`import_dividends`).
pub fn is_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    name.len() <= MAX_NAME_LENGTH
        && bytes.next().is_some_and(|first| first.is_ascii_lowercase())
        && bytes.all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_permissions_are_named_from_the_model() {
        assert_eq!(ModelPermission::View.of_model("Dividend"), "view_dividend");
        assert_eq!(
            ModelPermission::Change.of_model("DividendAnnouncement"),
            "change_dividend_announcement"
        );
        for permission in ModelPermission::ALL {
            assert_eq!(
                ModelPermission::from_name(permission.name()),
                Some(permission)
            );
        }
        assert_eq!(ModelPermission::from_name("veiw"), None);
    }

    #[test]
    fn every_action_needs_a_model_permission() {
        assert_eq!(
            ModelPermission::of_action(Action::History),
            ModelPermission::View
        );
        assert_eq!(
            ModelPermission::of_action(Action::PartialUpdate),
            ModelPermission::Change
        );
        assert_eq!(
            ModelPermission::of_action(Action::Destroy),
            ModelPermission::Delete
        );
    }

    #[test]
    fn names_are_lowercase_identifiers() {
        assert!(is_name("import_dividends"));
        assert!(is_name(VIEW_CHANGES));
        assert!(!is_name("Import"));
        assert!(!is_name("1st"));
        assert!(!is_name("view-changes"));
        assert!(!is_name(""));
        assert!(!is_name(&"a".repeat(MAX_NAME_LENGTH + 1)));
    }
}
