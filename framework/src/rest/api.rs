//! [`Api`]: the resources and handlers an application serves, and the OpenAPI
//! document assembled from the same registrations.

use std::future::Future;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use serde_json::Value as Json;

use super::handlers::{action_router, not_found, resource_router, unsupported_method};
use super::{ApiError, RequestContext, Resource, ResourceSpec};
use crate::context::AppContext;
use crate::openapi;

/// An application's HTTP API: resources, custom actions and plain handlers, each
/// registered once, which mounts its routes and documents it in the OpenAPI
/// document served at `/openapi.json` (with a docs page at `/docs`).
///
/// The document is built from the registrations when it is first asked for,
/// not when the API is assembled: a server keeps only its bytes, and only once
/// a client has fetched it.
///
/// ```ignore
/// let api = fw::Api::new("Dividends", "1.0.0")
///     .resource::<DividendResource>()
///     .action::<DividendResource, _, _>("cancel", cancel);
/// ```
#[derive(Clone)]
pub struct Api {
    documentation: Documentation,
    router: Router<AppContext>,
    resources: Vec<Registered>,
}

/// What the OpenAPI document is built from: its title and version, and every
/// registration in order.
#[derive(Clone)]
struct Documentation {
    title: String,
    version: String,
    registrations: Vec<Documented>,
}

/// One registration, as the OpenAPI document shows it.
#[derive(Clone)]
enum Documented {
    Resource(&'static ResourceSpec),
    Action {
        spec: &'static ResourceSpec,
        name: &'static str,
        summary: &'static str,
    },
    Path {
        path: &'static str,
        operations: Arc<dyn Fn() -> Json + Send + Sync>,
    },
}

/// A registered resource and the routes mounted for it, for its snapshot.
#[derive(Clone)]
struct Registered {
    spec: &'static ResourceSpec,
    routes: Vec<String>,
    paths: Vec<String>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("title", &self.documentation.title)
            .field("version", &self.documentation.version)
            .finish_non_exhaustive()
    }
}

impl Default for Api {
    fn default() -> Self {
        Api::new("API", "0.1.0")
    }
}

impl Api {
    /// An API with nothing registered; `title` and `version` head its OpenAPI document.
    pub fn new(title: impl Into<String>, version: impl Into<String>) -> Api {
        Api {
            documentation: Documentation {
                title: title.into(),
                version: version.into(),
                registrations: Vec::new(),
            },
            router: Router::new(),
            resources: Vec::new(),
        }
    }

    /// Registers resource `R`: its routes and its OpenAPI operations and schemas.
    pub fn resource<R: Resource>(mut self) -> Api {
        let (router, routes) = resource_router::<R>();
        self.router = self.router.merge(router);
        self.documentation
            .registrations
            .push(Documented::Resource(R::SPEC));
        self.resources.push(Registered {
            spec: R::SPEC,
            routes,
            paths: vec![
                R::SPEC.path.to_owned(),
                R::SPEC.item_path(),
                R::SPEC.history_path(),
            ],
        });
        self
    }

    /// Registers a custom action on one row of `R`: `POST {path}/{id}/{name}`
    /// runs `action` with the row (scoped like every other read of `R`) and
    /// answers with the row it returns.
    ///
    /// A request's `If-Match` is checked against the row before `action` runs
    /// (400 when malformed, 412 when it names another version). The row is read
    /// outside any transaction, so an action that writes it should write with
    /// [`Model::patch_if_version`](crate::Model::patch_if_version) at the row's
    /// version: a writer that got in between is then a 412 (`?` turns its
    /// [`Error::StaleVersion`](crate::Error::StaleVersion) into one), not overwritten.
    pub fn action<R, F, Fut>(mut self, name: &'static str, summary: &'static str, action: F) -> Api
    where
        R: Resource,
        F: Fn(RequestContext, R::Model) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<R::Model, ApiError>> + Send + 'static,
    {
        let (router, route) = action_router::<R, F, Fut>(name, action);
        self.router = self.router.merge(router);
        self.documentation.registrations.push(Documented::Action {
            spec: R::SPEC,
            name,
            summary,
        });
        let path = format!("{}/{name}", R::SPEC.item_path());
        match self
            .resources
            .iter_mut()
            .find(|registered| registered.spec.name == R::SPEC.name)
        {
            Some(registered) => {
                registered.routes.push(route);
                registered.paths.push(path);
            }
            None => self.resources.push(Registered {
                spec: R::SPEC,
                routes: vec![route],
                paths: vec![path],
            }),
        }
        self
    }

    /// Mounts a plain axum handler beside the resources, sharing the database
    /// through [`AppContext`] state, and documents it with `operations`: a
    /// function returning the OpenAPI path item (`{"get": {...}}`) for `path`,
    /// called when the document is built.
    pub fn route(
        self,
        path: &'static str,
        handler: MethodRouter<AppContext>,
        operations: impl Fn() -> Json + Send + Sync + 'static,
    ) -> Api {
        let mut api = self.document_path(path, operations);
        api.router = api.router.route(path, handler);
        api
    }

    /// Documents `path` without mounting anything: for routes the application's
    /// router adds itself.
    pub(crate) fn document_path(
        mut self,
        path: &'static str,
        operations: impl Fn() -> Json + Send + Sync + 'static,
    ) -> Api {
        self.documentation.registrations.push(Documented::Path {
            path,
            operations: Arc::new(operations),
        });
        self
    }

    /// Whether any registered operation writes: a resource that creates,
    /// updates or deletes, or a custom action. Those accept an `Idempotency-Key`.
    pub(crate) fn writes(&self) -> bool {
        self.documentation
            .registrations
            .iter()
            .any(|registration| match registration {
                Documented::Resource(spec) => spec.writes(),
                Documented::Action { .. } => true,
                Documented::Path { .. } => false,
            })
    }

    /// The OpenAPI 3.1 document of everything registered.
    pub fn openapi(&self) -> utoipa::openapi::OpenApi {
        serde_json::from_value(self.openapi_json()).unwrap_or_else(|_| {
            utoipa::openapi::OpenApi::new(
                utoipa::openapi::Info::new(
                    self.documentation.title.clone(),
                    self.documentation.version.clone(),
                ),
                utoipa::openapi::Paths::new(),
            )
        })
    }

    /// The OpenAPI document as JSON, exactly as `/openapi.json` serves it.
    pub fn openapi_json(&self) -> Json {
        self.documentation.build()
    }

    /// The API cut into reviewable pieces, each named for a snapshot:
    /// `api_<resource>` for every resource (its routes as `METHOD path`, its
    /// OpenAPI path items and the schemas they use), and `api_handlers` for
    /// the documented plain handlers. `fw::assert_api_snapshots!` (feature
    /// `testing`) pins them.
    pub fn snapshots(&self) -> Vec<(String, Json)> {
        let document = self.openapi_json();
        let mut snapshots = Vec::new();
        let mut owned = Vec::new();
        for registered in &self.resources {
            let mut fragment = openapi::fragment(&document, &registered.paths);
            fragment["routes"] = Json::from(registered.routes.clone());
            snapshots.push((
                format!("api_{}", snake_case(registered.spec.name)),
                fragment,
            ));
            owned.extend(registered.paths.iter().cloned());
        }
        let handler_paths: Vec<String> = document["paths"]
            .as_object()
            .map(|paths| {
                paths
                    .keys()
                    .filter(|path| !owned.contains(path))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        if !handler_paths.is_empty() {
            snapshots.push((
                "api_handlers".to_owned(),
                openapi::fragment(&document, &handler_paths),
            ));
        }
        snapshots
    }

    /// The router: every registration, `/openapi.json`, `/docs`, and a
    /// problem+json 404 for any other path and 405 for any other method.
    pub fn into_router(self, app: AppContext) -> Router {
        let title = self.documentation.title.clone();
        let documentation = Arc::new(self.documentation);
        let document = Arc::new(OnceLock::<Bytes>::new());
        self.router
            .route(
                "/openapi.json",
                get(move || {
                    let bytes = document
                        .get_or_init(|| {
                            serde_json::to_vec_pretty(&documentation.build())
                                .unwrap_or_default()
                                .into()
                        })
                        .clone();
                    let mut response = bytes.into_response();
                    response.headers_mut().insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    );
                    std::future::ready(response)
                }),
            )
            .route("/docs", get(move || std::future::ready(docs_page(&title))))
            .fallback(not_found)
            .method_not_allowed_fallback(unsupported_method)
            .with_state(app)
    }
}

impl Documentation {
    fn build(&self) -> Json {
        let mut document = openapi::empty_document(&self.title, &self.version);
        for registration in &self.registrations {
            match registration {
                Documented::Resource(spec) => openapi::add_resource(&mut document, spec),
                Documented::Action {
                    spec,
                    name,
                    summary,
                } => openapi::add_action(&mut document, spec, name, summary),
                Documented::Path { path, operations } => {
                    openapi::add_path(&mut document, path, operations());
                }
            }
        }
        openapi::add_server_refusals(&mut document);
        document
    }
}

/// A self-contained docs page: it fetches `/openapi.json` and renders every
/// operation with plain DOM code, so it works with no network access.
fn docs_page(title: &str) -> Response {
    let title = title.replace('<', "&lt;");
    Html(include_str!("docs.html").replace("{{title}}", &title)).into_response()
}

/// `SecurityResource` -> `security_resource`.
fn snake_case(name: &str) -> String {
    let mut snake = String::new();
    for (index, character) in name.chars().enumerate() {
        if character.is_uppercase() {
            if index > 0 {
                snake.push('_');
            }
            snake.extend(character.to_lowercase());
        } else {
            snake.push(character);
        }
    }
    snake
}
