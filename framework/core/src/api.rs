//! The REST vocabulary: the actions a resource offers, the lookups its filters
//! take, and the names and bounds of list query parameters. `#[resource]` checks
//! what it is given against these and the runtime serves and documents them, so
//! a name or a bound is spelled once.

/// The operations a resource can offer, DRF's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `GET /things`: a page of rows.
    List,
    /// `GET /things/{id}`: one row.
    Retrieve,
    /// `POST /things`: a new row (201 with `Location`).
    Create,
    /// `PUT /things/{id}`: every writable field.
    Update,
    /// `PATCH /things/{id}`: the fields sent.
    PartialUpdate,
    /// `DELETE /things/{id}` (204).
    Destroy,
    /// `GET /things/{id}/history`: the row's changes, oldest first (models with
    /// `#[fw::model(changelog)]`).
    History,
}

impl Action {
    /// Every action, in the order documentation lists them.
    pub const ALL: [Action; 7] = [
        Action::List,
        Action::Retrieve,
        Action::Create,
        Action::Update,
        Action::PartialUpdate,
        Action::Destroy,
        Action::History,
    ];

    /// The name used in `#[resource(actions(...))]`: `list`, `partial_update`, ...
    pub const fn name(self) -> &'static str {
        match self {
            Action::List => "list",
            Action::Retrieve => "retrieve",
            Action::Create => "create",
            Action::Update => "update",
            Action::PartialUpdate => "partial_update",
            Action::Destroy => "destroy",
            Action::History => "history",
        }
    }

    /// The action called `name`, if any.
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|action| action.name() == name)
    }

    /// Whether the action writes rows (create, update, partial update,
    /// destroy) rather than reads them.
    pub const fn writes(self) -> bool {
        match self {
            Action::Create | Action::Update | Action::PartialUpdate | Action::Destroy => true,
            Action::List | Action::Retrieve | Action::History => false,
        }
    }
}

/// A comparison chosen at run time, by name (`ex_date__gte=...` in a query string).
///
/// The typed query API (`fw::Column`) is the way to filter in code; this is for
/// filters whose field and lookup arrive as text, after they were checked against
/// what a resource declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lookup {
    /// `field = value`.
    Exact,
    /// `field IN (values...)`.
    In,
    /// `field > value`.
    Gt,
    /// `field >= value`.
    Gte,
    /// `field < value`.
    Lt,
    /// `field <= value`.
    Lte,
    /// `field IS NULL` (value `true`) or `IS NOT NULL` (value `false`).
    IsNull,
    /// The text contains the value (case-sensitive).
    Contains,
    /// The text contains the value, ignoring ASCII case.
    IContains,
    /// The text starts with the value (case-sensitive).
    StartsWith,
}

/// What a lookup needs of the field it filters ([`Lookup::requirement`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LookupRequirement {
    /// Any field.
    Any,
    /// A field whose values are ordered (numbers, dates, timestamps).
    Ordered,
    /// A text field.
    Text,
    /// A field that can be NULL.
    Nullable,
}

impl Lookup {
    /// Every lookup, in the order documentation lists them.
    pub const ALL: &'static [Lookup] = &[
        Lookup::Exact,
        Lookup::In,
        Lookup::Gt,
        Lookup::Gte,
        Lookup::Lt,
        Lookup::Lte,
        Lookup::IsNull,
        Lookup::Contains,
        Lookup::IContains,
        Lookup::StartsWith,
    ];

    /// The name used in query strings (DRF's): `exact`, `gte`, `icontains`, ...
    pub const fn name(self) -> &'static str {
        match self {
            Lookup::Exact => "exact",
            Lookup::In => "in",
            Lookup::Gt => "gt",
            Lookup::Gte => "gte",
            Lookup::Lt => "lt",
            Lookup::Lte => "lte",
            Lookup::IsNull => "isnull",
            Lookup::Contains => "contains",
            Lookup::IContains => "icontains",
            Lookup::StartsWith => "startswith",
        }
    }

    /// The lookup called `name`, if any.
    pub fn from_name(name: &str) -> Option<Lookup> {
        Lookup::ALL
            .iter()
            .copied()
            .find(|lookup| lookup.name() == name)
    }

    /// The query parameter that filters with this lookup on the filter named
    /// `filter`: `ex_date__gte`.
    pub fn parameter(self, filter: &str) -> String {
        format!("{filter}{}{}", list::LOOKUP_SEPARATOR, self.name())
    }

    /// A query parameter's filter name and lookup name: `("ex_date", "gte")` for
    /// `ex_date__gte`, `("ex_date", "exact")` for a bare `ex_date`.
    pub fn split_parameter(parameter: &str) -> (&str, &str) {
        parameter
            .split_once(list::LOOKUP_SEPARATOR)
            .unwrap_or((parameter, Lookup::Exact.name()))
    }

    /// What the filtered field must be for this lookup to apply.
    pub const fn requirement(self) -> LookupRequirement {
        match self {
            Lookup::Exact | Lookup::In => LookupRequirement::Any,
            Lookup::Gt | Lookup::Gte | Lookup::Lt | Lookup::Lte => LookupRequirement::Ordered,
            Lookup::IsNull => LookupRequirement::Nullable,
            Lookup::Contains | Lookup::IContains | Lookup::StartsWith => LookupRequirement::Text,
        }
    }
}

/// The query parameters of list requests besides filters, DRF's names, and
/// their bounds.
pub mod list {
    /// The opaque position of a page, from a page's `next` or `previous` link.
    pub const CURSOR: &str = "cursor";
    /// Rows per page.
    pub const PAGE_SIZE: &str = "page_size";
    /// Comma-separated field names, `-` for descending.
    pub const ORDERING: &str = "ordering";
    /// Case-insensitive text search over the resource's `search` fields.
    pub const SEARCH: &str = "search";
    /// Every list parameter: no filter may take one of these names.
    pub const PARAMETERS: [&str; 4] = [CURSOR, PAGE_SIZE, ORDERING, SEARCH];

    /// Separates a filter's name from its lookup: `ex_date__gte`.
    pub const LOOKUP_SEPARATOR: &str = "__";

    /// The smallest page size a resource declares or a request asks for.
    pub const MIN_PAGE_SIZE: u32 = 1;
    /// Rows per page of a resource that declares no `page_size`.
    pub const DEFAULT_PAGE_SIZE: u32 = 50;
    /// The largest page size a request may ask of a resource that declares no
    /// `max_page_size` (or its `page_size`, when that is larger).
    pub const DEFAULT_MAX_PAGE_SIZE: u32 = 500;

    /// The most values an `__in` filter takes. Each value is a bound parameter, so
    /// the cap bounds a statement's size and its time; a client with more values
    /// asks in several requests.
    pub const MAX_IN_VALUES: usize = 100;
    /// The longest text, in characters, of `search` and of the text lookups
    /// (`contains`, `icontains`, `startswith`): far more than any search a person
    /// types, and far below SQLite's limit on a `LIKE` pattern (50,000 bytes).
    pub const MAX_SEARCH_LENGTH: usize = 200;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for action in Action::ALL {
            assert_eq!(Action::from_name(action.name()), Some(action));
        }
        for &lookup in Lookup::ALL {
            assert_eq!(Lookup::from_name(lookup.name()), Some(lookup));
        }
        assert_eq!(
            Action::from_name("partial_update"),
            Some(Action::PartialUpdate)
        );
        assert_eq!(Lookup::from_name("icontains"), Some(Lookup::IContains));
        assert_eq!(Lookup::from_name("iexact"), None);
    }

    #[test]
    fn lookup_parameters_join_and_split() {
        assert_eq!(Lookup::Gte.parameter("ex_date"), "ex_date__gte");
        assert_eq!(Lookup::split_parameter("ex_date__gte"), ("ex_date", "gte"));
        assert_eq!(Lookup::split_parameter("ex_date"), ("ex_date", "exact"));
    }

    #[test]
    fn lookups_say_what_they_need() {
        assert_eq!(Lookup::Gte.requirement(), LookupRequirement::Ordered);
        assert_eq!(Lookup::StartsWith.requirement(), LookupRequirement::Text);
        assert_eq!(Lookup::IsNull.requirement(), LookupRequirement::Nullable);
        assert_eq!(Lookup::In.requirement(), LookupRequirement::Any);
    }
}
