//! [`Api`]: the resources and handlers an application serves, and the OpenAPI
//! document assembled from the same registrations.

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use fw_core::names::snake_case;
use serde_json::Value as Json;

use super::access::RequireAccess;
use super::action::{self, CollectionAction, RowAction};
use super::handlers::{not_found, resource_router, unsupported_method};
use super::routes::{self, Route};
use super::{Action, ApiError, Resource, ResourceSpec};
use crate::context::AppContext;
use crate::openapi;
use crate::version::document::document_of;
use crate::version::edge::{Answer, EdgeRoute, EdgeTable};
use crate::version::{Edit, Versions};
use fw_core::access::Access;

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
///     .row_action::<CancelDividend>();
/// ```
#[derive(Clone)]
pub struct Api {
    documentation: Documentation,
    router: Router<AppContext>,
    resources: Vec<Registered>,
    /// Every operation on a resource's rows, for the versions' edge.
    edge_routes: Vec<EdgeRoute>,
}

/// What the OpenAPI document is built from: its title and version, every
/// registration in order, and the API's dated versions when it has them.
#[derive(Clone)]
struct Documentation {
    title: String,
    version: String,
    registrations: Vec<Documented>,
    versions: Option<Versions>,
}

/// One registration, as the OpenAPI document shows it.
#[derive(Clone)]
enum Documented {
    Resource(&'static ResourceSpec),
    /// A custom action, which adds its operation and schemas.
    Action {
        document: fn(&mut Json),
    },
    Path {
        path: &'static str,
        access: Access,
        operations: Arc<dyn Fn() -> Json + Send + Sync>,
    },
}

/// A registered resource and the routes mounted for it, for its snapshot.
#[derive(Clone)]
struct Registered {
    spec: &'static ResourceSpec,
    routes: Vec<Route>,
}

impl Registered {
    /// Its paths, each once, in the order they were mounted.
    fn paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = Vec::new();
        for route in &self.routes {
            let path = route.target.path(self.spec);
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
        paths
    }
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
                versions: None,
            },
            router: Router::new(),
            resources: Vec::new(),
            edge_routes: Vec::new(),
        }
    }

    /// Serves the API in dated `versions` (see [`Versions`] and
    /// [the versioning guide](crate::docs::versions)): each request in the
    /// version its `Api-Version` header names, else the newest; one OpenAPI
    /// document per version, each version's document's `info.version` its
    /// date (instead of the version given to [`Api::new`]).
    ///
    /// # Panics
    ///
    /// When an edit adds or removes an endpoint the API does not serve; call
    /// it after registering everything.
    pub fn versions(mut self, versions: Versions) -> Api {
        let documented = self.documentation.build_full();
        for edit in versions
            .all()
            .iter()
            .flat_map(|version| version.changes)
            .flat_map(|change| change.edits)
        {
            if let Edit::EndpointAdded(endpoint) | Edit::EndpointRemoved(endpoint) = edit {
                let method = endpoint.method.to_ascii_lowercase();
                assert!(
                    documented["paths"][endpoint.path].get(&method).is_some(),
                    "an API version adds or removes `{} {}`, which the API does not serve; \
                     name the method and path as the document writes them, after \
                     registering the route",
                    endpoint.method,
                    endpoint.path
                );
            }
        }
        self.documentation.versions = Some(versions);
        self
    }

    /// Registers resource `R`: its routes and its OpenAPI operations and schemas.
    ///
    /// # Panics
    ///
    /// When another resource registered has the same name (its schemas' and
    /// tag's): the document would show one schema for both.
    pub fn resource<R: Resource>(mut self) -> Api {
        if let Some(other) = self
            .resources
            .iter()
            .find(|other| other.spec.name == R::SPEC.name && other.spec.path != R::SPEC.path)
        {
            panic!(
                "the resources at `{}` and `{}` are both named `{}`: give one of them \
                 `name = \"...\"` in `#[fw::resource]`, so that each has schemas of its own",
                other.spec.path,
                R::SPEC.path,
                R::SPEC.name
            );
        }
        self.router = self.router.merge(resource_router::<R>());
        self.documentation
            .registrations
            .push(Documented::Resource(R::SPEC));
        for (action, route) in routes::resource_routes(R::SPEC) {
            let answer = match action {
                Action::List => Answer::Page,
                Action::Create | Action::Retrieve | Action::Update | Action::PartialUpdate => {
                    Answer::Row
                }
                Action::History => Answer::Records,
                Action::Destroy => Answer::Other,
            };
            self.edge_routes.push(EdgeRoute {
                method: route.method.clone(),
                template: route.target.path(R::SPEC),
                resource: R::SPEC,
                reads_row: matches!(
                    action,
                    Action::Create | Action::Update | Action::PartialUpdate
                ),
                answer,
            });
        }
        let routes = routes::resource_routes(R::SPEC).map(|(_, route)| route.clone());
        self.registered(R::SPEC).routes.extend(routes);
        // Compliance reads the audit of what a revealing resource showed.
        let audit = crate::sensitive::reads::SensitiveReadResource::SPEC;
        if R::SPEC.reveals() && !self.serves(audit.path) {
            self = self.resource::<crate::sensitive::reads::SensitiveReadResource>();
        }
        self
    }

    /// Registers row action `A` (see [`RowAction`]): `POST {path}/{id}/{name}`
    /// on the rows of its resource, served and documented like the built-in
    /// actions. An action whose name is not a path segment fw accepts, or is
    /// `history`, does not compile.
    pub fn row_action<A: RowAction>(mut self) -> Api {
        let (route, router) = action::row_action_router::<A>();
        self.router = self.router.merge(router);
        self.documentation.registrations.push(Documented::Action {
            document: action::document_row_action::<A>,
        });
        let spec = <A::Resource as Resource>::SPEC;
        self.edge_routes.push(EdgeRoute {
            method: route.method.clone(),
            template: route.target.path(spec),
            resource: spec,
            reads_row: false,
            answer: Answer::Row,
        });
        self.registered(spec).routes.push(route);
        self
    }

    /// Registers collection action `A` (see [`CollectionAction`]):
    /// `POST {path}/{name}` on its resource's collection, served and
    /// documented like the built-in actions. An action whose name is not a
    /// path segment fw accepts does not compile.
    pub fn collection_action<A: CollectionAction>(mut self) -> Api {
        let (route, router) = action::collection_action_router::<A>();
        self.router = self.router.merge(router);
        self.documentation.registrations.push(Documented::Action {
            document: action::document_collection_action::<A>,
        });
        self.registered(<A::Resource as Resource>::SPEC)
            .routes
            .push(route);
        self
    }

    /// The registration of resource `spec`, made on its first route.
    fn registered(&mut self, spec: &'static ResourceSpec) -> &mut Registered {
        let index = match self
            .resources
            .iter()
            .position(|registered| registered.spec.name == spec.name)
        {
            Some(index) => index,
            None => {
                self.resources.push(Registered {
                    spec,
                    routes: Vec::new(),
                });
                self.resources.len() - 1
            }
        };
        &mut self.resources[index]
    }

    /// Mounts a plain axum handler beside the resources, sharing the database
    /// through [`AppContext`] state, and documents it with `operations`: a
    /// function returning the OpenAPI path item (`{"get": {...}}`) for `path`,
    /// called when the document is built. [`Api::route_documented`] builds it
    /// from the types the handler answers with instead.
    ///
    /// Every method of `handler` requires `access`: a caller it does not admit
    /// gets a 401 or 403 without the handler running, and each operation of
    /// the path item is given the matching `security`, `x-fw-permission` and
    /// 401/403 responses.
    pub fn route(
        self,
        path: &'static str,
        access: Access,
        handler: MethodRouter<AppContext>,
        operations: impl Fn() -> Json + Send + Sync + 'static,
    ) -> Api {
        let mut api = self.document_path(path, access, operations);
        let handler = match access {
            Access::Public => handler,
            Access::Authenticated | Access::Permission(_) => {
                handler.route_layer(RequireAccess(access))
            }
        };
        api.router = api.router.route(path, handler);
        api
    }

    /// Mounts a plain axum handler beside the resources, as [`Api::route`]
    /// does, documented with utoipa's typed path item: `operations` builds it
    /// when the document is built, with schemas from types that derive
    /// [`utoipa::ToSchema`], so their fields, docs and enums are the
    /// document's and cannot drift from what the handler returns. The
    /// framework's error responses are referred to by status
    /// (`Ref::from_response_name("404")`); decimals, which fw writes as exact
    /// strings, are documented with [`decimal_schema`](crate::openapi::decimal_schema).
    ///
    /// The application depends on the `utoipa` version fw uses (6), with its
    /// `chrono` and `uuid` features for fields of those types.
    ///
    /// ```
    /// use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
    /// use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    /// use utoipa::PartialSchema as _;
    ///
    /// /// Whether the service is up.
    /// #[derive(serde::Serialize, utoipa::ToSchema)]
    /// struct Health {
    ///     /// Always `ok` when it answers.
    ///     status: String,
    /// }
    ///
    /// let api = fw::Api::new("Health", "1.0.0").route_documented(
    ///     "/health",
    ///     fw::Access::Public,
    ///     axum::routing::get(|| async { axum::Json(Health { status: "ok".into() }) }),
    ///     || {
    ///         let ok = ResponseBuilder::new().description("Up.").content(
    ///             "application/json",
    ///             ContentBuilder::new().schema(Some(Health::schema())).build(),
    ///         );
    ///         let operation = OperationBuilder::new()
    ///             .operation_id(Some("health"))
    ///             .response("200", ok)
    ///             .response("400", Ref::from_response_name("400"));
    ///         PathItem::new(HttpMethod::Get, operation)
    ///     },
    /// );
    /// let document = api.openapi_json();
    /// let schema = &document["paths"]["/health"]["get"]["responses"]["200"]["content"]
    ///     ["application/json"]["schema"];
    /// assert_eq!(schema["description"], "Whether the service is up.");
    /// assert_eq!(schema["required"], serde_json::json!(["status"]));
    /// ```
    pub fn route_documented(
        self,
        path: &'static str,
        access: Access,
        handler: MethodRouter<AppContext>,
        operations: impl Fn() -> utoipa::openapi::PathItem + Send + Sync + 'static,
    ) -> Api {
        self.route(path, access, handler, move || {
            // utoipa's model is plain data with text keys, which always serializes.
            serde_json::to_value(operations()).expect("a utoipa path item serializes to JSON")
        })
    }

    /// Documents `path`, whose operations require `access`, without mounting
    /// anything: for routes the application's router adds itself.
    pub(crate) fn document_path(
        mut self,
        path: &'static str,
        access: Access,
        operations: impl Fn() -> Json + Send + Sync + 'static,
    ) -> Api {
        self.documentation.registrations.push(Documented::Path {
            path,
            access,
            operations: Arc::new(operations),
        });
        self
    }

    /// Whether a resource of the API shows sensitive fields (to callers with
    /// the permission that reveals them), so that reads are audited.
    pub(crate) fn reveals(&self) -> bool {
        self.documentation.registrations.iter().any(
            |registration| matches!(registration, Documented::Resource(spec) if spec.reveals()),
        )
    }

    /// Whether the API serves the resource at `path`.
    pub(crate) fn serves(&self, path: &str) -> bool {
        self.documentation.registrations.iter().any(
            |registration| matches!(registration, Documented::Resource(spec) if spec.path == path),
        )
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

    /// The OpenAPI 3.1 document of everything registered, as utoipa's typed
    /// model, to merge with other utoipa documents or inspect by type.
    ///
    /// The model is read from [`openapi_json`](Api::openapi_json), the document
    /// `/openapi.json` serves; JSON Schema keywords utoipa does not model (the
    /// `ordering` parameter's `not`, say) are not in it, so publish that one.
    ///
    /// # Errors
    ///
    /// When utoipa cannot read the document: a plain handler's path item
    /// that is not a valid OpenAPI path item (see [`Api::route`]).
    ///
    /// ```
    /// # fn main() -> Result<(), serde_json::Error> {
    /// let document = fw::Api::new("Notes", "1.0.0").openapi()?;
    /// assert_eq!(document.info.title, "Notes");
    /// # Ok(())
    /// # }
    /// ```
    pub fn openapi(&self) -> Result<utoipa::openapi::OpenApi, serde_json::Error> {
        serde_json::from_value(self.openapi_json())
    }

    /// The OpenAPI document as JSON, exactly as `/openapi.json` serves it:
    /// the newest version's.
    pub fn openapi_json(&self) -> Json {
        self.documentation.build(0)
    }

    /// The API's dated versions, when it has them.
    pub fn api_versions(&self) -> Option<&Versions> {
        self.documentation.versions.as_ref()
    }

    /// The OpenAPI document of version `date`, as `/openapi/{date}.json`
    /// serves it; `None` when the API has no such version.
    pub fn openapi_json_of(&self, date: &str) -> Option<Json> {
        let position = self.documentation.versions?.position(date)?;
        Some(self.documentation.build(position))
    }

    /// What the versions' edge knows of the API; `None` without versions.
    pub(crate) fn edge_table(&self) -> Option<EdgeTable> {
        let versions = self.documentation.versions?;
        Some(EdgeTable {
            versions,
            routes: self.edge_routes.clone(),
            endpoint_edits: versions.has_endpoint_edits(),
        })
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
            let paths = registered.paths();
            let mut fragment = openapi::fragment(&document, &paths);
            fragment["routes"] = Json::from(routes::listing(registered.spec, &registered.routes));
            snapshots.push((
                format!("api_{}", snake_case(registered.spec.name)),
                fragment,
            ));
            owned.extend(paths);
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

    /// The router: every registration, `/openapi.json` (and with versions,
    /// `/openapi/{date}.json` for each), `/docs`, and a problem+json 404 for
    /// any other path and 405 for any other method.
    pub fn into_router(self, app: AppContext) -> Router {
        let title = self.documentation.title.clone();
        let documentation = Arc::new(self.documentation);
        let mut router = self
            .router
            .route("/openapi.json", document_route(&documentation, 0));
        let mut documents = vec![("latest".to_owned(), "/openapi.json".to_owned())];
        if let Some(versions) = &documentation.versions {
            documents.clear();
            for (position, version) in versions.all().iter().enumerate() {
                let path = version_document_path(version.date);
                router = router.route(&path, document_route(&documentation, position));
                documents.push((version.date.to_owned(), path));
            }
        }
        router
            .merge(docs_routes(&title, documents))
            .fallback(not_found)
            .method_not_allowed_fallback(unsupported_method)
            .with_state(app)
    }
}

/// Where version `date`'s document is served.
pub(crate) fn version_document_path(date: &str) -> String {
    format!("/openapi/{date}.json")
}

/// Serves version `position`'s document, built on its first request.
fn document_route(documentation: &Arc<Documentation>, position: usize) -> MethodRouter<AppContext> {
    let documentation = Arc::clone(documentation);
    let document = Arc::new(OnceLock::<Bytes>::new());
    get(move || {
        let bytes = document
            .get_or_init(|| {
                serde_json::to_vec_pretty(&documentation.build(position))
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
    })
}

impl Documentation {
    /// Version `position`'s document (0 the newest), or the one document of
    /// an API without versions.
    fn build(&self, position: usize) -> Json {
        let full = self.build_full();
        match &self.versions {
            Some(versions) => document_of(&full, versions, position),
            None => full,
        }
    }

    /// The document of everything registered, in the newest shape.
    fn build_full(&self) -> Json {
        let mut document = openapi::empty_document(&self.title, &self.version);
        for registration in &self.registrations {
            match registration {
                Documented::Resource(spec) => openapi::add_resource(&mut document, spec),
                Documented::Action { document: add } => add(&mut document),
                Documented::Path {
                    path,
                    access,
                    operations,
                } => {
                    openapi::add_path(&mut document, path, *access, operations());
                }
            }
        }
        openapi::add_health(&mut document);
        openapi::add_server_refusals(&mut document);
        let dates = self
            .versions
            .map(|versions| versions.all().iter().map(|version| version.date).collect());
        openapi::add_api_version_schema(&mut document, dates);
        document
    }
}

/// Where the docs page is served, and its files under it.
const DOCS_PATH: &str = "/docs";

/// The `/docs` page: Swagger UI, its files compiled into the executable
/// (nothing is fetched from elsewhere), reading `documents` (name, path):
/// `/openapi.json`, or one document per version, newest first, which the
/// page's top bar switches between. "Try it out" is on, with an "Authorize"
/// button that takes an API token. Its files are served under `/docs/`.
fn docs_routes(title: &str, documents: Vec<(String, String)>) -> Router<AppContext> {
    let documents = Arc::new(documents);
    let page = docs_page(title);
    Router::new()
        .route(
            DOCS_PATH,
            get(move || std::future::ready(page.clone().into_response())),
        )
        .route(
            &format!("{DOCS_PATH}/{{*file}}"),
            get(
                move |axum::extract::Path(file): axum::extract::Path<String>| {
                    std::future::ready(docs_file(&file, &documents))
                },
            ),
        )
}

/// Swagger UI's page, titled after the API, its relative addresses resolved
/// under `/docs/`.
fn docs_page(title: &str) -> Html<String> {
    let page = utoipa_swagger_ui::serve(
        "index.html",
        Arc::new(utoipa_swagger_ui::Config::new(["/openapi.json"])),
    )
    .ok()
    .flatten()
    .map(|file| String::from_utf8_lossy(&file.bytes).into_owned())
    .unwrap_or_default();
    let title = title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    Html(
        page.replacen(
            "<head>",
            &format!("<head>\n    <base href=\"{DOCS_PATH}/\">"),
            1,
        )
        .replacen(
            "<title>Swagger UI</title>",
            &format!("<title>{title}: API documentation</title>"),
            1,
        ),
    )
}

/// One of Swagger UI's files, or a 404.
fn docs_file(file: &str, documents: &[(String, String)]) -> Response {
    // Made per request from borrowed names: the page's files are fetched
    // once per visit, and the configuration borrows what it lists.
    let urls = documents
        .iter()
        .map(|(name, path)| utoipa_swagger_ui::Url::new(name, path));
    let config = utoipa_swagger_ui::Config::new(urls)
        .try_it_out_enabled(true)
        .display_request_duration(true)
        .filter(true)
        // The badge would send the document to a validator elsewhere.
        .validator_url("none");
    match utoipa_swagger_ui::serve(file, Arc::new(config)) {
        Ok(Some(file)) => {
            let content_type = HeaderValue::from_str(&file.content_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream"));
            let mut response = file.bytes.into_owned().into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, content_type);
            response
        }
        Ok(None) => ApiError::NotFound.into_response(),
        Err(error) => ApiError::internal(error.to_string()).into_response(),
    }
}
