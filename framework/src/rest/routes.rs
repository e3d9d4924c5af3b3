//! The route table: for every action a resource can offer, and for custom
//! actions, the method and path it is served at, the status it succeeds with
//! and the steps its handler takes, each step with the refusals it may answer.
//!
//! The router ([`handlers`](super::handlers)), the OpenAPI operations
//! ([`openapi`](crate::openapi)) and the routes listed in a resource's snapshot
//! are all read from this table, so what is served, what is documented and
//! what is reviewed cannot drift apart.

use axum::http::{Method, StatusCode};

use super::{Action, ResourceSpec};

/// Where a route is served, relative to its resource's collection path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// `{path}`.
    Collection,
    /// `{path}/{id}`.
    Item,
    /// `{path}/{id}/{name}`: `history`, or a row action's name.
    ItemSubpath(&'static str),
    /// `{path}/{name}`: a collection action's name.
    CollectionSubpath(&'static str),
}

impl Target {
    /// The route's path for resource `spec`, as axum and OpenAPI write it.
    pub(crate) fn path(self, spec: &ResourceSpec) -> String {
        match self {
            Target::Collection => spec.path.to_owned(),
            Target::Item => spec.item_path(),
            Target::ItemSubpath(name) => format!("{}/{name}", spec.item_path()),
            Target::CollectionSubpath(name) => format!("{}/{name}", spec.path),
        }
    }

    /// Whether the path names one row with its `{id}` segment.
    pub(crate) fn names_row(self) -> bool {
        matches!(self, Target::Item | Target::ItemSubpath(_))
    }
}

/// What a handler does before it answers. Each step may refuse the request,
/// with the statuses of [`Step::refusals`], and the headers and query
/// parameters a step reads are its operation's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Reads the row the `{id}` segment names among those the caller may see:
    /// 404 when there is none.
    FindRow,
    /// Parses the list parameters (page, filters, search, ordering): 400 for
    /// a malformed or unknown one.
    ListQuery,
    /// Reads `If-None-Match`: 400 when malformed; a match answers 304.
    IfNoneMatch,
    /// Reads `If-Match`: 400 when malformed, 412 when it names another version.
    IfMatch,
    /// Honours an `Idempotency-Key` (see [`idempotency`](super::idempotency)):
    /// 400 when malformed, 409 while the key's first request still runs, 413
    /// for a body too large to fingerprint, 422 when the key was used with a
    /// different request.
    IdempotencyKey,
    /// Reads a JSON object body and validates its fields: 400 when it is not
    /// JSON, 413 when too large, 415 when not sent as JSON, 422 for invalid fields.
    JsonBody,
    /// Writes the row: 409 for a taken unique value, a reference to a missing
    /// row, or rows that still reference it.
    Write,
}

impl Step {
    /// The statuses this step may refuse a request with.
    pub(crate) fn refusals(self) -> &'static [u16] {
        match self {
            Step::FindRow => &[404],
            Step::ListQuery | Step::IfNoneMatch => &[400],
            Step::IfMatch => &[400, 412],
            Step::IdempotencyKey => &[400, 409, 413, 422],
            Step::JsonBody => &[400, 413, 415, 422],
            Step::Write => &[409],
        }
    }
}

/// Refusals every route may answer whatever its steps: a request whose
/// `Accept` excludes JSON (406), and a database that cannot serve (503).
const EVERY_ROUTE_REFUSES: [u16; 2] = [406, 503];

/// One route: an action's method, path, success status and handler steps.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    /// The method; a `GET` route answers `HEAD` too.
    pub(crate) method: Method,
    /// Where it is served.
    pub(crate) target: Target,
    /// The status of its answer when it succeeds.
    pub(crate) success: StatusCode,
    /// What its handler does before answering, in the order its operation
    /// lists the parameters they read.
    pub(crate) steps: &'static [Step],
}

impl Route {
    /// The methods the route answers: a `GET` route answers `HEAD` as well.
    pub(crate) fn methods(&self) -> Vec<Method> {
        if self.method == Method::GET {
            vec![Method::GET, Method::HEAD]
        } else {
            vec![self.method.clone()]
        }
    }

    /// Whether a matching `If-None-Match` answers 304 Not Modified.
    pub(crate) fn answers_not_modified(&self) -> bool {
        self.steps.contains(&Step::IfNoneMatch)
    }

    /// Every error status the route may answer, ascending: those of its steps
    /// and those of every route.
    pub(crate) fn refusals(&self) -> Vec<u16> {
        let mut statuses: Vec<u16> = self
            .steps
            .iter()
            .flat_map(|step| step.refusals().iter().copied())
            .chain(EVERY_ROUTE_REFUSES)
            .collect();
        statuses.sort_unstable();
        statuses.dedup();
        statuses
    }
}

/// The standard actions' routes, in the order they are mounted and listed:
/// the collection's, the item's, then the item's history.
static ROUTES: [(Action, Route); 7] = [
    (
        Action::List,
        Route {
            method: Method::GET,
            target: Target::Collection,
            success: StatusCode::OK,
            steps: &[Step::ListQuery],
        },
    ),
    (
        Action::Create,
        Route {
            method: Method::POST,
            target: Target::Collection,
            success: StatusCode::CREATED,
            steps: &[Step::IdempotencyKey, Step::JsonBody, Step::Write],
        },
    ),
    (
        Action::Retrieve,
        Route {
            method: Method::GET,
            target: Target::Item,
            success: StatusCode::OK,
            steps: &[Step::FindRow, Step::IfNoneMatch],
        },
    ),
    (
        Action::Update,
        Route {
            method: Method::PUT,
            target: Target::Item,
            success: StatusCode::OK,
            steps: &[
                Step::FindRow,
                Step::IfMatch,
                Step::IdempotencyKey,
                Step::JsonBody,
                Step::Write,
            ],
        },
    ),
    (
        Action::PartialUpdate,
        Route {
            method: Method::PATCH,
            target: Target::Item,
            success: StatusCode::OK,
            steps: &[
                Step::FindRow,
                Step::IfMatch,
                Step::IdempotencyKey,
                Step::JsonBody,
                Step::Write,
            ],
        },
    ),
    (
        Action::Destroy,
        Route {
            method: Method::DELETE,
            target: Target::Item,
            success: StatusCode::NO_CONTENT,
            steps: &[
                Step::FindRow,
                Step::IfMatch,
                Step::IdempotencyKey,
                Step::Write,
            ],
        },
    ),
    (
        Action::History,
        Route {
            method: Method::GET,
            target: Target::ItemSubpath("history"),
            success: StatusCode::OK,
            steps: &[Step::FindRow],
        },
    ),
];

/// The routes of the actions `spec` offers, in table order.
pub(crate) fn resource_routes(
    spec: &ResourceSpec,
) -> impl Iterator<Item = &'static (Action, Route)> {
    ROUTES.iter().filter(|(action, _)| spec.has(*action))
}

/// The route of row action `name` (see [`RowAction`](super::RowAction)):
/// `POST {path}/{id}/{name}`, answering with the row; `body` when the action
/// reads one. The action's own writes are its `Write` step.
pub(crate) fn row_action(name: &'static str, body: bool) -> Route {
    Route {
        method: Method::POST,
        target: Target::ItemSubpath(name),
        success: StatusCode::OK,
        steps: if body {
            &[
                Step::FindRow,
                Step::IfMatch,
                Step::IdempotencyKey,
                Step::JsonBody,
                Step::Write,
            ]
        } else {
            &[
                Step::FindRow,
                Step::IfMatch,
                Step::IdempotencyKey,
                Step::Write,
            ]
        },
    }
}

/// The route of collection action `name` (see
/// [`CollectionAction`](super::CollectionAction)): `POST {path}/{name}`;
/// `body` when the action reads one.
pub(crate) fn collection_action(name: &'static str, body: bool) -> Route {
    Route {
        method: Method::POST,
        target: Target::CollectionSubpath(name),
        success: StatusCode::OK,
        steps: if body {
            &[Step::IdempotencyKey, Step::JsonBody, Step::Write]
        } else {
            &[Step::IdempotencyKey, Step::Write]
        },
    }
}

/// The routes of the actions `spec` offers grouped by path, in table order:
/// each path with the routes one axum method router serves.
pub(crate) fn resource_routes_by_target(
    spec: &ResourceSpec,
) -> Vec<(Target, Vec<&'static (Action, Route)>)> {
    let mut grouped: Vec<(Target, Vec<&'static (Action, Route)>)> = Vec::new();
    for entry in resource_routes(spec) {
        let target = entry.1.target;
        match grouped.iter_mut().find(|(known, _)| *known == target) {
            Some((_, routes)) => routes.push(entry),
            None => grouped.push((target, vec![entry])),
        }
    }
    grouped
}

/// Each of `routes` as `METHOD path` for resource `spec`, `HEAD` beside `GET`:
/// the route list of a resource's snapshot.
pub(crate) fn listing<'r>(
    spec: &ResourceSpec,
    routes: impl IntoIterator<Item = &'r Route>,
) -> Vec<String> {
    routes
        .into_iter()
        .flat_map(|route| {
            let path = route.target.path(spec);
            route
                .methods()
                .into_iter()
                .map(move |method| format!("{method} {path}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every action has exactly one route, on a method the router can filter
    /// on, and no two routes share a method and a path.
    #[test]
    fn the_table_has_one_route_per_action_and_per_method_and_path() {
        for action in [
            Action::List,
            Action::Retrieve,
            Action::Create,
            Action::Update,
            Action::PartialUpdate,
            Action::Destroy,
            Action::History,
        ] {
            assert_eq!(
                ROUTES
                    .iter()
                    .filter(|(listed, _)| *listed == action)
                    .count(),
                1,
                "{action:?}"
            );
        }
        for (_, route) in &ROUTES {
            assert!(
                axum::routing::MethodFilter::try_from(route.method.clone()).is_ok(),
                "the router filters on {}",
                route.method
            );
        }
        for (index, (_, route)) in ROUTES.iter().enumerate() {
            assert!(
                ROUTES[index + 1..].iter().all(
                    |(_, other)| (&other.method, other.target) != (&route.method, route.target)
                ),
                "{} {:?} twice",
                route.method,
                route.target
            );
        }
    }

    /// The refusals are the union of the steps' and every route's, sorted,
    /// each once: a write's 400 comes from three steps and is listed once.
    #[test]
    fn refusals_are_the_steps_and_every_route_s() {
        let update = &ROUTES
            .iter()
            .find(|(action, _)| *action == Action::Update)
            .expect("update")
            .1;
        assert_eq!(
            update.refusals(),
            [400, 404, 406, 409, 412, 413, 415, 422, 503]
        );
        let history = &ROUTES
            .iter()
            .find(|(action, _)| *action == Action::History)
            .expect("history")
            .1;
        assert_eq!(history.refusals(), [404, 406, 503]);
        assert_eq!(
            row_action("cancel", false).refusals(),
            [400, 404, 406, 409, 412, 413, 422, 503]
        );
        assert_eq!(
            row_action("postpone", true).refusals(),
            [400, 404, 406, 409, 412, 413, 415, 422, 503]
        );
        assert_eq!(
            collection_action("recompute", false).refusals(),
            [400, 406, 409, 413, 422, 503]
        );
    }

    /// Every refusal a route may answer is one of the document's shared
    /// responses, which its operation refers to.
    #[test]
    fn every_refusal_is_a_shared_response() {
        let document = crate::openapi::empty_document("test", "0.1.0");
        let routes = ROUTES.iter().map(|(_, route)| route.clone()).chain([
            row_action("cancel", false),
            row_action("postpone", true),
            collection_action("recompute", true),
        ]);
        for route in routes {
            for status in route.refusals() {
                assert!(
                    document["components"]["responses"][status.to_string()]["description"]
                        .is_string(),
                    "{} {:?}: {status}",
                    route.method,
                    route.target
                );
            }
        }
    }
}
