//! API versions the Stripe way: dated versions, newest first, each with the
//! changes that made it from the one before; handlers know only the newest
//! shape, and the [edge](edge) turns requests in an older shape into the
//! newest and responses back, step by step. See
//! [the versioning guide](crate::docs::versions).
//!
//! Everything here is `const`: a version list out of order, a date that is
//! not one, or a change naming a field its resource does not have is a
//! compile error, not a failure at start.

pub(crate) mod document;
pub(crate) mod edge;
pub(crate) mod shape;

use serde_json::{Map, Value as Json};

use crate::rest::ResourceSpec;

/// The request header naming the version a client speaks, and the response
/// header naming the version it was answered in.
pub const API_VERSION_HEADER: &str = "api-version";

/// The versions of an API, newest first; the first is the one handlers speak.
///
/// ```
/// # #[fw::model] pub struct Note { pub id: i64, pub title: String }
/// # #[fw::resource(model = Note, path = "/notes", fields = all,
/// #     actions(list, retrieve), permissions(public))]
/// # pub struct NoteResource;
/// /// Notes have a title; they had a `subject` before.
/// const TITLE: fw::VersionChange = fw::VersionChange::new(
///     "A note's `subject` is called `title`.",
///     &[fw::Edit::renamed(fw::field!(NoteResource, title), "subject")],
/// );
///
/// const VERSIONS: fw::Versions = fw::Versions::new(&[
///     fw::Version::new("2026-12-01", "Notes have titles.", &[TITLE]),
///     fw::Version::first("2026-06-01", "The first release."),
/// ]);
/// assert_eq!(VERSIONS.latest().date, "2026-12-01");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Versions {
    versions: &'static [Version],
}

impl Versions {
    /// The versions `versions`, newest first.
    ///
    /// # Panics
    ///
    /// At compile time, in a `const`: when there is no version, when the
    /// dates are not strictly newest first, or when the oldest version
    /// declares changes (there is nothing older for them to change).
    pub const fn new(versions: &'static [Version]) -> Versions {
        assert!(
            !versions.is_empty(),
            "an API has at least one version: the first release, `fw::Version::first(...)`"
        );
        let mut index = 1;
        while index < versions.len() {
            assert!(
                date_before(versions[index].date, versions[index - 1].date),
                "API versions are listed newest first, each date before the one above it"
            );
            index += 1;
        }
        assert!(
            versions[versions.len() - 1].changes.is_empty(),
            "the oldest API version has nothing older to change: declare it with \
             `fw::Version::first(date, description)`"
        );
        Versions { versions }
    }

    /// Every version, newest first.
    pub fn all(&self) -> &'static [Version] {
        self.versions
    }

    /// The newest version, the one handlers speak.
    pub fn latest(&self) -> &'static Version {
        &self.versions[0]
    }

    /// The position of version `date`, 0 for the newest; `None` when there is
    /// no such version.
    pub fn position(&self, date: &str) -> Option<usize> {
        self.versions
            .iter()
            .position(|version| version.date == date)
    }

    /// The dates, newest first, comma-separated: what a refusal lists.
    pub(crate) fn dates(&self) -> String {
        self.versions
            .iter()
            .map(|version| version.date)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The changes that lead from the newest version back to version
    /// `position`, newest first: what downgrades a response to it.
    pub(crate) fn downgrades(&self, position: usize) -> impl Iterator<Item = &'static Edit> {
        self.versions[..position]
            .iter()
            .flat_map(|version| version.changes)
            .flat_map(|change| change.edits.iter().rev())
    }

    /// Whether the endpoint `method path` is served in version `position`:
    /// not before the version that added it, not from the version that
    /// removed it on.
    pub(crate) fn serves(&self, position: usize, method: &str, path: &str) -> bool {
        self.versions.iter().enumerate().all(|(at, version)| {
            version
                .changes
                .iter()
                .flat_map(|change| change.edits)
                .all(|edit| match edit {
                    Edit::EndpointAdded(endpoint) => !(endpoint.is(method, path) && position > at),
                    Edit::EndpointRemoved(endpoint) => {
                        !(endpoint.is(method, path) && position <= at)
                    }
                    _ => true,
                })
        })
    }

    /// Whether some version adds or removes an endpoint, so that routes must
    /// be matched even for the newest version.
    pub(crate) fn has_endpoint_edits(&self) -> bool {
        self.versions
            .iter()
            .flat_map(|version| version.changes)
            .flat_map(|change| change.edits)
            .any(|edit| matches!(edit, Edit::EndpointAdded(_) | Edit::EndpointRemoved(_)))
    }
}

/// One dated version: what it changed from the version before, in the
/// changes that make old requests new and new responses old.
#[derive(Debug, Clone, Copy)]
pub struct Version {
    /// The date, `YYYY-MM-DD`: what clients send in `Api-Version`.
    pub date: &'static str,
    /// What changed, for the version's document and the docs page.
    pub description: &'static str,
    /// The changes from the version before, each a small declared step.
    pub changes: &'static [VersionChange],
    /// Whether the version may still change in ways that break its clients
    /// (`openapi --accept-breaking`): it has not been released yet.
    pub unreleased: bool,
}

impl Version {
    /// Version `date` (`YYYY-MM-DD`), made from the one before it by `changes`.
    ///
    /// # Panics
    ///
    /// At compile time, in a `const`, when `date` is not a date.
    pub const fn new(
        date: &'static str,
        description: &'static str,
        changes: &'static [VersionChange],
    ) -> Version {
        assert!(
            is_date(date),
            "an API version is a date, `YYYY-MM-DD` (e.g. \"2026-12-01\")"
        );
        Version {
            date,
            description,
            changes,
            unreleased: false,
        }
    }

    /// The first version, which changes nothing.
    ///
    /// # Panics
    ///
    /// At compile time, in a `const`, when `date` is not a date.
    pub const fn first(date: &'static str, description: &'static str) -> Version {
        Version::new(date, description, &[])
    }

    /// The same version, not released yet: its document may still change in
    /// ways that break clients, with `openapi --accept-breaking`.
    pub const fn unreleased(self) -> Version {
        Version {
            unreleased: true,
            ..self
        }
    }
}

/// One change between a version and the one before it, declared next to the
/// resources it concerns: a description and its edits.
#[derive(Debug, Clone, Copy)]
pub struct VersionChange {
    /// What changed, in a sentence a client's developer reads.
    pub description: &'static str,
    /// The edits, applied in order to responses going back and in reverse
    /// order to requests coming forward.
    pub edits: &'static [Edit],
}

impl VersionChange {
    /// A change described by `description`, made of `edits`.
    pub const fn new(description: &'static str, edits: &'static [Edit]) -> VersionChange {
        VersionChange { description, edits }
    }
}

/// A field of a resource as the newest version names it, checked at compile
/// time: made by [`field!`](crate::field).
#[derive(Debug, Clone, Copy)]
pub struct FieldRef {
    /// The resource.
    pub resource: &'static ResourceSpec,
    /// The field's JSON name in the newest version.
    pub name: &'static str,
}

impl FieldRef {
    /// Field `name` of `resource`.
    ///
    /// # Panics
    ///
    /// At compile time, in a `const`, with `missing` as the message, when
    /// `resource` has no field `name`. [`field!`](crate::field) calls it.
    #[doc(hidden)]
    pub const fn checked(
        resource: &'static ResourceSpec,
        name: &'static str,
        missing: &'static str,
    ) -> FieldRef {
        let mut index = 0;
        while index < resource.fields.len() {
            if same(resource.fields[index].name, name) {
                return FieldRef { resource, name };
            }
            index += 1;
        }
        panic!("{}", missing)
    }
}

/// Field `name` of resource `R`, named as the newest version's JSON names it:
/// a compile error when the resource has no such field.
///
/// ```compile_fail
/// # #[fw::model] pub struct Note { pub id: i64, pub title: String }
/// # #[fw::resource(model = Note, path = "/notes", fields = all,
/// #     actions(list), permissions(public))]
/// # pub struct NoteResource;
/// const TITLE: fw::FieldRef = fw::field!(NoteResource, titel);
/// ```
#[macro_export]
macro_rules! field {
    ($resource:ty, $field:ident) => {{
        const FIELD: $crate::FieldRef = $crate::FieldRef::checked(
            <$resource as $crate::Resource>::SPEC,
            ::core::stringify!($field),
            ::core::concat!(
                "`",
                ::core::stringify!($field),
                "` is not a field of `",
                ::core::stringify!($resource),
                "`: name a field as the newest version's JSON names it"
            ),
        );
        FIELD
    }};
}

/// An endpoint, as its route's method and path template say it
/// (`"POST"`, `"/dividends/{id}/cancel"`).
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// The method, upper case.
    pub method: &'static str,
    /// The path template, as the document writes it.
    pub path: &'static str,
}

impl Endpoint {
    fn is(&self, method: &str, path: &str) -> bool {
        self.method == method && self.path == path
    }
}

/// What one edit does to a request body on its way to the newest version,
/// given the body's object.
pub type UpgradeBody = fn(&mut Map<String, Json>) -> Result<(), crate::FieldError>;

/// One edit of a [`VersionChange`]: how a request in the older shape becomes
/// the newer one, how a response goes back, and what the older document
/// said.
#[derive(Debug, Clone, Copy)]
pub enum Edit {
    /// The field was called `was` before.
    Renamed {
        /// The field, as it is called now.
        field: FieldRef,
        /// Its name before.
        was: &'static str,
    },
    /// The field is new: older clients never see it, and may not send it.
    Added {
        /// The new field.
        field: FieldRef,
    },
    /// Field `name` existed before and is gone: older clients still read it,
    /// computed from the row as the newest version shows it, and what they
    /// send in it is dropped.
    Removed {
        /// The resource that had it.
        resource: &'static ResourceSpec,
        /// Its name.
        name: &'static str,
        /// Its JSON Schema, as the older document showed it.
        schema: fn() -> Json,
        /// Its value for older clients, from the row's newest shape.
        read: fn(&Map<String, Json>) -> Json,
    },
    /// The field's enum gained `value`, which older clients read as `was`.
    EnumValueAdded {
        /// The field.
        field: FieldRef,
        /// The new value.
        value: &'static str,
        /// What older clients read instead.
        was: &'static str,
    },
    /// The field's type or format changed: older clients send and read the
    /// old one.
    Converted {
        /// The field.
        field: FieldRef,
        /// Its JSON Schema before.
        schema: fn() -> Json,
        /// An older client's value in the newest form; `Err` names what is
        /// wrong, answered as a 422 on the field.
        up: fn(&Json) -> Result<Json, String>,
        /// The newest value in the older form.
        down: fn(&Json) -> Json,
    },
    /// The endpoint is new: older clients get a 404, and their documents do
    /// not list it.
    EndpointAdded(Endpoint),
    /// The endpoint is gone from this version on; older clients keep it.
    EndpointRemoved(Endpoint),
    /// Anything else, on one resource's bodies: `request` upgrades a request
    /// body, `response` downgrades a row, `document` makes the older
    /// document.
    Custom {
        /// The resource whose bodies change.
        resource: &'static ResourceSpec,
        /// A request body in the older shape, made newer.
        request: UpgradeBody,
        /// A row in the newer shape, made older.
        response: fn(&mut Map<String, Json>),
        /// The newer document, made older.
        document: fn(&mut Json),
    },
}

impl Edit {
    /// `field` was called `was` before.
    pub const fn renamed(field: FieldRef, was: &'static str) -> Edit {
        Edit::Renamed { field, was }
    }

    /// `field` is new.
    pub const fn added(field: FieldRef) -> Edit {
        Edit::Added { field }
    }

    /// `method path` is a new endpoint.
    pub const fn endpoint_added(method: &'static str, path: &'static str) -> Edit {
        Edit::EndpointAdded(Endpoint { method, path })
    }

    /// `method path` is served only to versions before this one.
    pub const fn endpoint_removed(method: &'static str, path: &'static str) -> Edit {
        Edit::EndpointRemoved(Endpoint { method, path })
    }

    /// The resource whose bodies the edit changes; `None` for an endpoint's.
    pub(crate) fn resource(&self) -> Option<&'static ResourceSpec> {
        match self {
            Edit::Renamed { field, .. }
            | Edit::Added { field }
            | Edit::EnumValueAdded { field, .. }
            | Edit::Converted { field, .. } => Some(field.resource),
            Edit::Removed { resource, .. } | Edit::Custom { resource, .. } => Some(resource),
            Edit::EndpointAdded(_) | Edit::EndpointRemoved(_) => None,
        }
    }
}

/// The version a request is served in, in its extensions.
#[derive(Debug, Clone, Copy)]
pub struct ApiVersion(pub &'static Version);

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut index = 0;
    while index < a.len() {
        if a[index] != b[index] {
            return false;
        }
        index += 1;
    }
    true
}

/// Whether `text` is a date `YYYY-MM-DD` with a month 01–12 and a day 01–31.
const fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    let mut index = 0;
    while index < 10 {
        if index != 4 && index != 7 && !bytes[index].is_ascii_digit() {
            return false;
        }
        index += 1;
    }
    let month = (bytes[5] - b'0') * 10 + (bytes[6] - b'0');
    let day = (bytes[8] - b'0') * 10 + (bytes[9] - b'0');
    month >= 1 && month <= 12 && day >= 1 && day <= 31
}

/// Whether date `a` is before date `b` (both `YYYY-MM-DD`, which sort as text).
const fn date_before(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut index = 0;
    while index < a.len() && index < b.len() {
        if a[index] != b[index] {
            return a[index] < b[index];
        }
        index += 1;
    }
    a.len() < b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_checked_and_ordered() {
        assert!(is_date("2026-12-01"));
        assert!(!is_date("2026-13-01"));
        assert!(!is_date("2026-12-00"));
        assert!(!is_date("2026-1-01"));
        assert!(!is_date("20261201xx"));
        assert!(date_before("2026-06-01", "2026-12-01"));
        assert!(!date_before("2026-12-01", "2026-12-01"));
    }
}
