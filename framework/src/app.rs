//! [`App`]: every fw application's command line: `serve`, `migrate`,
//! `makemigrations`, `check`, and the application's own commands.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{ArgMatches, Args, FromArgMatches, Subcommand};

use crate::context::{AppContext, Config};
use crate::db::{ConnectOptions, Db};
use crate::migrate::{
    self, DataMigrations, EmbeddedMigrations, MakeOptions, MigrateOptions, Migrations,
};
use crate::model::Model;
use crate::rest::{Api, Resource};
use crate::schema::ModelSchema;
use crate::settings::rate_limits::{GroupSpec, Rate};

/// Creates an [`App`] for the calling crate: named after the package, with its
/// migrations in `<crate>/migrations` (and compiled into the executable, see
/// [`App::embedded_migrations`]) and, unless `DATABASE_URL` says otherwise, its
/// SQLite database in `<crate>/data/`.
///
/// ```no_run
/// # async fn example() -> std::process::ExitCode {
/// fw::app!().run().await
/// # }
/// ```
#[macro_export]
macro_rules! app {
    () => {
        $crate::App::new(env!("CARGO_PKG_NAME"), env!("CARGO_MANIFEST_DIR"))
            .embedded_migrations($crate::embed_migrations!())
    };
}

type Routes = Arc<dyn Fn(AppContext) -> axum::Router + Send + Sync>;
/// One of the application's own layers, applied to the finished router.
type AppLayer = Arc<dyn Fn(axum::Router) -> axum::Router + Send + Sync>;

/// The routes in the request's scope, authenticated, rate-limited, each
/// request in its API version.
type AuthenticatedRoutes = crate::changes::RecordActor<
    crate::auth::Authenticate<
        crate::perimeter::RateLimit<crate::version::edge::VersionEdge<axum::Router>>,
    >,
>;
/// Everything `serve` serves: the router inside the perimeter's layers.
type Service = crate::perimeter::observe::Observe<
    crate::perimeter::ResolveClient<crate::perimeter::Perimeter<AuthenticatedRoutes>>,
>;
type CommandFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;
type Hook = Arc<dyn Fn(AppContext) -> CommandFuture + Send + Sync>;

/// The application's own commands, type-erased: how to add them to the command
/// line, and how to run the one that was chosen.
struct AppCommands {
    augment: fn(clap::Command) -> clap::Command,
    dispatch: fn(&ArgMatches, AppContext) -> Option<CommandFuture>,
}

/// An application's own commands (Django's management commands): a clap
/// `Subcommand` enum whose variants carry typed arguments.
///
/// ```no_run
/// #[derive(clap::Subcommand)]
/// enum Commands {
///     /// Greets someone.
///     Greet { name: String },
/// }
///
/// impl fw::Commands for Commands {
///     async fn run(self, _app: fw::AppContext) -> anyhow::Result<()> {
///         match self {
///             Commands::Greet { name } => println!("hello, {name}"),
///         }
///         Ok(())
///     }
/// }
/// ```
pub trait Commands: Subcommand + Send + 'static {
    /// Runs the command.
    ///
    /// # Errors
    ///
    /// Any error is printed and the process exits with status 1.
    fn run(self, app: AppContext) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// The application: its models, migrations, routes and commands.
///
/// `run` parses the command line and runs one of:
/// `serve [--migrate]`, `migrate [--plan]`, `makemigrations [--check] [--name NAME]`,
/// `check`, `openapi [--check] [--accept-breaking REASON]`,
/// `changes tail [--after SEQ] [--model TABLE] [--follow]`, with
/// [`App::auth`] the identity commands (`createuser`, `changepassword`,
/// `createtoken`, `tokens`, `revoketoken`, `roles`), with a model that has
/// sensitive fields `rotate-keys [--batch-size N]`, `erase <model> <key>`,
/// `erase --replay <file>` and `erasures --export`, or one of the
/// application's [`Commands`]. With no command it serves.
pub struct App {
    name: &'static str,
    crate_dir: PathBuf,
    default_database_url: String,
    /// Keys given in code (see [`App::secret_keys`]), ahead of configuration.
    secret_keys: Option<Arc<crate::sensitive::Keyring>>,
    default_command: Vec<&'static str>,
    models: Vec<&'static ModelSchema>,
    cascading_models: Vec<crate::changes::CascadingModel>,
    /// The registered models with sealed fields, for `rotate-keys` and `erase`.
    sealed_models: Vec<crate::sensitive::SealedModel>,
    data_migrations: DataMigrations,
    embedded_migrations: Option<EmbeddedMigrations>,
    routes: Option<Routes>,
    /// The application's own middleware, innermost first (see [`App::layer`]).
    layers: Vec<AppLayer>,
    api: Option<Api>,
    before_serve: Option<Hook>,
    commands: Option<AppCommands>,
    change_log_tables: Vec<&'static str>,
    change_log_api: bool,
    /// Whether [`App::auth`] turned identity on.
    auth: bool,
    /// The struct names of the models [`App::model`] registered, whose four
    /// permissions exist.
    permission_models: Vec<&'static str>,
    /// The application's own permissions and its roles.
    declared: crate::auth::Declared,
    /// The application's own rate-limit groups ([`App::rate_limit`]).
    rate_limit_groups: Vec<GroupSpec>,
    /// Standard input for commands, instead of the process's: see
    /// [`App::run_with_input`].
    input: Option<Vec<u8>>,
    shutdown: tokio::sync::watch::Sender<bool>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("name", &self.name)
            .field(
                "models",
                &self.models.iter().map(|m| m.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Subcommand)]
enum Builtin {
    /// Serves the application over HTTP (the default command).
    Serve(ServeArgs),
    /// Applies pending migrations, each in its own transaction.
    Migrate(MigrateArgs),
    /// Writes a new migration for the changes between the models and the
    /// migration files.
    Makemigrations(MakemigrationsArgs),
    /// Checks that the migration files match the models and are all applied.
    Check,
    /// Writes the API's OpenAPI document to `openapi.json`, or with `--check`
    /// compares it with the committed one, classifying every change.
    Openapi(crate::openapi::OpenapiArgs),
    /// Reads the change log.
    Changes {
        #[command(subcommand)]
        command: crate::changes::ChangesCommand,
    },
    /// Prints a fresh `id:key` entry for `FW_SECRET_KEYS`, the keys sensitive
    /// fields are sealed with.
    GenerateKey(GenerateKeyArgs),
}

#[derive(Debug, Args)]
struct GenerateKeyArgs {
    /// The key's id, stored with every value it seals (default: today's date,
    /// `YYYY-MM-DD`).
    #[arg(long)]
    id: Option<String>,
}

#[derive(Debug, Default, Args)]
struct ServeArgs {
    /// Apply pending migrations before serving. Without it, `serve` refuses to
    /// start while the database lacks a migration.
    #[arg(long)]
    migrate: bool,
}

#[derive(Debug, Args)]
struct MigrateArgs {
    /// Print the SQL that would run, for this database, without running it.
    #[arg(long)]
    plan: bool,
}

#[derive(Debug, Args)]
struct MakemigrationsArgs {
    /// Write nothing; exit non-zero if the models have changes without a migration.
    #[arg(long)]
    check: bool,
    /// A name for the migration (default: derived from its operations).
    #[arg(long)]
    name: Option<String>,
}

impl App {
    /// An application named `name` whose source crate is `crate_dir`. Prefer
    /// [`fw::app!()`](crate::app), which fills both in.
    pub fn new(name: &'static str, crate_dir: impl Into<PathBuf>) -> App {
        let crate_dir = crate_dir.into();
        let default_database_url = format!("sqlite://{}/data/{name}.db", crate_dir.display());
        App {
            name,
            crate_dir,
            default_database_url,
            default_command: vec!["serve"],
            models: Vec::new(),
            cascading_models: Vec::new(),
            sealed_models: Vec::new(),
            data_migrations: DataMigrations::default(),
            embedded_migrations: None,
            routes: None,
            layers: Vec::new(),
            api: None,
            before_serve: None,
            commands: None,
            change_log_tables: Vec::new(),
            change_log_api: false,
            auth: false,
            permission_models: Vec::new(),
            declared: crate::auth::Declared::default(),
            rate_limit_groups: Vec::new(),
            input: None,
            shutdown: tokio::sync::watch::Sender::new(false),
            secret_keys: None,
        }
    }

    /// Seals sensitive fields with `keyring` instead of the keys configured by
    /// `FW_SECRET_KEYS`: for an app that fetches its keys from a secret manager
    /// at start, and for tests (`fw::testing::test_keyring()`). Never build the
    /// keyring from text in the repository.
    pub fn secret_keys(mut self, keyring: Arc<crate::sensitive::Keyring>) -> App {
        self.secret_keys = Some(keyring);
        self
    }

    /// The database used when `DATABASE_URL` is not set (default: a SQLite file
    /// under the crate's `data/` directory).
    pub fn default_database_url(mut self, url: impl Into<String>) -> App {
        self.default_database_url = url.into();
        self
    }

    /// The command run when none is given (default: `serve`), for example
    /// `["serve", "--migrate"]` for an app that should start with no set-up.
    pub fn default_command(mut self, command: &[&'static str]) -> App {
        self.default_command = command.to_vec();
        self
    }

    /// Registers a model: its table is part of the schema `makemigrations` keeps
    /// in step. A model that records changes brings the change log's tables along.
    /// Its four permissions (`view_<model>`, `add_`, `change_`, `delete_`)
    /// exist from then on, for roles to grant.
    pub fn model<M: Model>(mut self) -> App {
        self.register::<M>();
        self.permission_models.push(M::SCHEMA.name);
        if M::CHANGELOG {
            self.change_log_tables.push(M::TABLE);
            // The change log's `model=` lists the tables, this one now too.
            if self.change_log_api {
                self.api = self
                    .api
                    .take()
                    .map(|api| crate::changes::document(api, &self.change_log_tables));
            }
            for table in crate::changes::tables() {
                self.add_table(table);
            }
        }
        // A model with sealed fields brings the commands over them, and the
        // ledger their erasures append to.
        if let Some(sealed) = crate::sensitive::SealedModel::of::<M>()
            && !self
                .sealed_models
                .iter()
                .any(|known| known.schema().table == M::TABLE)
        {
            self.sealed_models.push(sealed);
            self.add_table(crate::sensitive::Erasure::SCHEMA);
        }
        self
    }

    /// Adds fw's own `table` to the schema, once.
    fn add_table(&mut self, table: &'static ModelSchema) {
        if !self.models.iter().any(|model| model.table == table.table) {
            self.models.push(table);
        }
    }

    /// Adds `M`'s table to the schema, once, and its foreign keys to the
    /// deletes the change log follows.
    fn register<M: Model>(&mut self) {
        if !self.models.iter().any(|model| model.table == M::TABLE) {
            self.models.push(M::SCHEMA);
            self.cascading_models
                .push(crate::changes::CascadingModel::of::<M>());
        }
    }

    /// Turns on identity: users, roles, API tokens and browser sessions (see
    /// [the guide](crate::docs::auth)). Their tables join the app's schema,
    /// so `makemigrations` writes them into a migration; each request's
    /// `Authorization: Bearer` token or session cookie is resolved to its
    /// [`Caller`](crate::Caller), and the commands `createuser`,
    /// `changepassword`, `createtoken`, `tokens`, `revoketoken` and `roles`
    /// appear. The API gains, under the tag `auth`, `POST /auth/login`,
    /// `POST /auth/logout`, `GET /auth/me` and the caller's tokens at
    /// `/auth/tokens` (see [the guide](crate::docs::auth#endpoints)).
    ///
    /// Without it no credentials are accepted, and every operation that is
    /// not public answers 401.
    pub fn auth(mut self) -> App {
        use crate::auth::{ApiToken, Role, RolePermission, Session, User, UserRole};
        self.auth = true;
        let api = self
            .api
            .take()
            .unwrap_or_else(|| Api::new(self.name, "0.1.0"));
        self.api = Some(crate::perimeter::metrics::document(crate::auth::document(
            api,
        )));
        self.declared.permissions.push((
            crate::perimeter::metrics::VIEW_METRICS,
            "Read the server's metrics at `GET /metrics`.",
        ));
        self.register::<User>();
        self.register::<Role>();
        self.register::<RolePermission>();
        self.register::<UserRole>();
        self.register::<ApiToken>();
        self.register::<Session>();
        self
    }

    /// Declares a permission of the application's own, beside the four of
    /// each model: `name` (lowercase, `import_dividends`) and what it allows,
    /// for the `roles` command and the documentation.
    ///
    /// ```
    /// let app = fw::App::new("brokerage", ".")
    ///     .auth()
    ///     .permission("import_dividends", "Import the clearing firm's daily file.")
    ///     .role("operations", "Enters and corrects announcements.", &["import_dividends"]);
    /// app.check_permissions().unwrap();
    /// ```
    pub fn permission(mut self, name: &'static str, description: &'static str) -> App {
        self.declared.permissions.push((name, description));
        self
    }

    /// Declares a role (Django's group): `name`, what it is for, and the
    /// permissions it grants, each a model's (`view_dividend`), `view_changes`
    /// or one declared with [`App::permission`]. `migrate` and
    /// `serve --migrate` make the database's roles match the declarations;
    /// `createuser --role` gives one to a user.
    pub fn role(
        mut self,
        name: &'static str,
        description: &'static str,
        permissions: &[&'static str],
    ) -> App {
        self.declared.roles.push(crate::auth::RoleSpec {
            name,
            description,
            permissions: permissions.to_vec(),
        });
        self
    }

    /// Checks the declared permissions and roles: `serve` and `check` run it
    /// at start, and a test can too.
    ///
    /// # Errors
    ///
    /// One line per problem: a role granting a permission that does not
    /// exist (naming the closest that does), a malformed or repeated name, or
    /// roles declared without [`App::auth`].
    pub fn check_permissions(&self) -> anyhow::Result<()> {
        if !self.auth && !self.declared.roles.is_empty() {
            anyhow::bail!("roles are declared but identity is off; add `.auth()` to the `App`");
        }
        self.declared
            .check(&self.permission_models, self.change_log_api)
    }

    /// The migration files compiled into the executable
    /// ([`embed_migrations!`](crate::embed_migrations); [`fw::app!()`](crate::app)
    /// passes them). `migrate` and `serve --migrate` apply them when the crate's
    /// `migrations/` directory is not there, as on a server the executable was
    /// deployed to without its source. Where the directory is there, it is read
    /// instead: it is where `makemigrations` writes, and may be newer than the
    /// last build.
    pub fn embedded_migrations(mut self, embedded: EmbeddedMigrations) -> App {
        self.embedded_migrations = Some(embedded);
        self
    }

    /// Registers the Rust functions that data migrations call by name.
    pub fn data_migrations(mut self, data_migrations: DataMigrations) -> App {
        self.data_migrations = data_migrations;
        self
    }

    /// The HTTP routes `serve` serves.
    pub fn routes(
        mut self,
        routes: impl Fn(AppContext) -> axum::Router + Send + Sync + 'static,
    ) -> App {
        self.routes = Some(Arc::new(routes));
        self
    }

    /// Wraps everything the app serves (the API, the identity endpoints, the
    /// change log, `/openapi.json`, `/docs`, [`App::routes`] and the 404s and
    /// 405s) in a tower layer of the application's own: any
    /// [`tower::Layer`] `axum::Router::layer` accepts, such as tower-http's
    /// or one made with [`axum::middleware::from_fn`]. It runs inside fw's
    /// own layers, after authentication, so the request's
    /// [`Caller`](crate::Caller) is in its extensions; health probes and CORS
    /// preflights are answered before it (see [the production
    /// guide](crate::docs::production#the-applications-own-layers)). Each
    /// call wraps the layers of the calls before it.
    ///
    /// ```
    /// use axum::http::{HeaderName, HeaderValue};
    ///
    /// // Every response says which service answered.
    /// let app = fw::App::new("brokerage", ".").layer(axum::middleware::map_response(
    ///     |mut response: axum::response::Response| async move {
    ///         response.headers_mut().insert(
    ///             HeaderName::from_static("x-served-by"),
    ///             HeaderValue::from_static("brokerage"),
    ///         );
    ///         response
    ///     },
    /// ));
    /// # let _ = app;
    /// ```
    pub fn layer<L>(mut self, layer: L) -> App
    where
        L: tower::Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
        L::Service: tower::Service<axum::extract::Request> + Clone + Send + Sync + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Response:
            axum::response::IntoResponse + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Error:
            Into<std::convert::Infallible> + 'static,
        <L::Service as tower::Service<axum::extract::Request>>::Future: Send + 'static,
    {
        self.layers.push(Arc::new(move |router: axum::Router| {
            router.layer(layer.clone())
        }));
        self
    }

    /// The application's REST API: resources, actions and documented handlers,
    /// served beside [`App::routes`] with `/openapi.json` and `/docs`. An API
    /// with operations that write brings the table of their `Idempotency-Key`s
    /// (see [`idempotency`](crate::idempotency)) into the app's migrations; one
    /// that shows sensitive fields, the read audit (see
    /// [`SensitiveRead`](crate::sensitive::SensitiveRead)).
    pub fn api(mut self, api: Api) -> App {
        if api.writes() {
            self.add_idempotency_table();
        }
        let api = self.audit_sensitive_reads(api);
        // Whichever of `api`, `change_log_api` and `auth` comes first, all
        // are served.
        let api = if self.auth {
            crate::perimeter::metrics::document(crate::auth::document(api))
        } else {
            api
        };
        self.api = Some(if self.change_log_api {
            crate::changes::document(api, &self.change_log_tables)
        } else {
            api
        });
        self
    }

    /// Registers a resource on the application's API (see [`App::api`]).
    pub fn resource<R: Resource>(mut self) -> App {
        let api = self
            .api
            .take()
            .unwrap_or_else(|| Api::new(self.name, "0.1.0"));
        let api = api.resource::<R>();
        if api.writes() {
            self.add_idempotency_table();
        }
        self.api = Some(self.audit_sensitive_reads(api));
        self
    }

    /// When `api` shows sensitive fields, and so serves their read audit at
    /// `GET /sensitive-reads`: adds the audit's table (`fw_sensitive_read`) to
    /// the schema and declares the permission that reads it.
    fn audit_sensitive_reads(&mut self, api: Api) -> Api {
        use crate::sensitive::{SensitiveRead, VIEW_SENSITIVE_READS};
        if !api.reveals() {
            return api;
        }
        if !self
            .models
            .iter()
            .any(|model| model.table == SensitiveRead::TABLE)
        {
            self.models.push(SensitiveRead::SCHEMA);
        }
        if !self
            .declared
            .permissions
            .iter()
            .any(|(name, _)| *name == VIEW_SENSITIVE_READS)
        {
            self.declared.permissions.push((
                VIEW_SENSITIVE_READS,
                "Read the audit of who was shown which sensitive values.",
            ));
        }
        api
    }

    /// Adds the table of `Idempotency-Key`s, which every write operation of
    /// the API accepts, to the app's schema.
    fn add_idempotency_table(&mut self) {
        for table in crate::rest::idempotency::tables() {
            if !self.models.iter().any(|model| model.table == table.table) {
                self.models.push(table);
            }
        }
    }

    /// Serves the change log of the models that record changes:
    /// `GET /changes?after=<seq>&model=<table>&page_size=<n>` (pages, oldest first)
    /// and `GET /changes/stream?after=<seq>` (a live tail as server-sent events),
    /// documented in the API's OpenAPI document. See [`changes`](crate::changes).
    pub fn change_log_api(mut self) -> App {
        if self.change_log_api {
            return self;
        }
        let api = self
            .api
            .take()
            .unwrap_or_else(|| Api::new(self.name, "0.1.0"));
        self.api = Some(crate::changes::document(api, &self.change_log_tables));
        self.change_log_api = true;
        self
    }

    /// Gives the requests under `prefix` (it and the paths below it, whatever
    /// their method) a rate-limit group of their own, `name`, with `rate`
    /// for each caller, instead of the `reads` and `writes` groups (see
    /// [the guide](crate::docs::rate_limits)). `FW_RATE_LIMIT_<NAME>`
    /// changes the limit, or turns it `off`.
    ///
    /// ```
    /// use fw::Rate;
    ///
    /// let app = fw::App::new("brokerage", ".")
    ///     .rate_limit("imports", "/imports", Rate::per_hour(20))
    ///     .rate_limit("search", "/securities/search", Rate::per_minute(60));
    /// app.check_rate_limits(&fw::RateLimits::default()).unwrap();
    /// ```
    pub fn rate_limit(mut self, name: &'static str, prefix: &'static str, rate: Rate) -> App {
        self.rate_limit_groups
            .push(GroupSpec { name, prefix, rate });
        self
    }

    /// Checks the application's rate-limit groups and the configuration
    /// that names them (`limits`): `serve` and `check` run it at start, and
    /// a test can too.
    ///
    /// # Errors
    ///
    /// One line per problem: a malformed or repeated group, or an
    /// `FW_RATE_LIMIT_<GROUP>` that names none of them.
    pub fn check_rate_limits(&self, limits: &crate::RateLimits) -> anyhow::Result<()> {
        limits.check(&self.rate_limit_groups)
    }

    /// The application's API, if it has one: its OpenAPI document is
    /// [`Api::openapi`].
    pub fn api_spec(&self) -> Option<&Api> {
        self.api.as_ref()
    }

    /// Everything `serve` serves, as a router to test or to wrap in more layers:
    /// the API (when there is one) and the routes, each request authenticated
    /// (with [`App::auth`]) and run with its actor and request id (see
    /// [`changes`](crate::changes)), inside the perimeter `app.config.edge`
    /// describes: the health probes, CORS, security headers and compression
    /// (see [the production guide](crate::docs::production)).
    pub fn router(&self, app: AppContext) -> axum::Router {
        let app = AppContext {
            db: self.attach_keys(&app.db, &app.config),
            config: app.config,
        };
        let scrape = self.scrape(&app);
        axum::Router::new().fallback_service(self.service(app, &scrape))
    }

    /// The API's version dates, newest first; empty without versions.
    fn version_dates(&self) -> Vec<&'static str> {
        self.api
            .as_ref()
            .and_then(Api::api_versions)
            .map(|versions| versions.all().iter().map(|version| version.date).collect())
            .unwrap_or_default()
    }

    /// What `/metrics` reads of `app` besides the recorded metrics.
    fn scrape(&self, app: &AppContext) -> crate::perimeter::metrics::Scrape {
        crate::perimeter::metrics::Scrape::new(
            app.db.clone(),
            !self.change_log_tables.is_empty(),
            crate::changes::LiveTails::default(),
        )
    }

    /// What [`App::router`] serves, with the perimeter's layers (see
    /// [`perimeter`](crate::perimeter)) wrapped once around the whole router:
    /// `Router::layer` would wrap every route in them, at the cost of a boxed,
    /// cloned service per request. `app`'s database is attached already, by
    /// [`App::connect`] or [`App::router`].
    fn service(&self, app: AppContext, scrape: &crate::perimeter::metrics::Scrape) -> Service {
        let readiness = crate::perimeter::Readiness {
            db: app.db.clone(),
            migrations: self.needed_migrations(),
            timeout: app.config.edge.ready_timeout,
            migrations_applied: std::sync::OnceLock::new(),
        };
        let config = Arc::clone(&app.config);
        let edge = crate::perimeter::wrap(
            self.authenticated_routes(app, scrape),
            &config.edge,
            readiness,
        );
        // Every answer below is observed, health probes and preflights
        // included; the client's address is known before anything else runs.
        crate::perimeter::observe::Observe::new(
            crate::perimeter::ResolveClient::new(edge, config.trusted_proxies.clone()),
            &config.observe,
        )
    }

    /// The migrations the database must have for this release to serve;
    /// `None` for an app with no models and no migrations directory, as
    /// `serve` allows.
    fn needed_migrations(&self) -> Option<Migrations> {
        match self.migrations() {
            Migrations::Dir(dir) if self.models.is_empty() && !dir.is_dir() => None,
            migrations => Some(migrations),
        }
    }

    /// The routes, with the application's own layers, in the request's scope,
    /// authenticated and rate-limited.
    fn authenticated_routes(
        &self,
        app: AppContext,
        scrape: &crate::perimeter::metrics::Scrape,
    ) -> AuthenticatedRoutes {
        let authenticator = self.auth.then(|| crate::auth::Authenticator {
            db: app.db.clone(),
            sessions: crate::auth::SessionPolicy::of(&app.config),
        });
        let limiter = crate::perimeter::Limiter::new(
            self.name,
            &app.config.rate_limits,
            &self.rate_limit_groups,
        );
        let mut router = match &self.routes {
            Some(routes) => routes(app.clone()),
            None => axum::Router::new(),
        };
        if self.change_log_api {
            let state = crate::changes::ChangeLogState {
                tables: self.change_log_tables.clone().into(),
                shutdown: self.shutdown.subscribe(),
                tails: scrape.tails().clone(),
            };
            router = router.merge(crate::changes::routes(state).with_state(app.clone()));
        }
        if self.auth {
            let state = crate::auth::AuthState::new(
                crate::auth::SessionPolicy::of(&app.config),
                self.version_dates(),
            );
            router = router.merge(crate::auth::routes(state).with_state(app.clone()));
            router = router.merge(crate::perimeter::metrics::protected_routes(scrape.clone()));
        }
        let edge = self
            .api
            .as_ref()
            .and_then(Api::edge_table)
            .map(std::sync::Arc::new);
        if let Some(api) = &self.api {
            router = api.clone().into_router(app).merge(router);
        }
        router = router.method_not_allowed_fallback(crate::rest::unsupported_method);
        // Every route labels its responses with its template, for the
        // access log and the metrics (see `perimeter::observe`): its 405s
        // too, so the layer comes after their fallback.
        if router.has_routes() {
            router = router.route_layer(crate::perimeter::observe::LabelRoutes);
        }
        // Made into routes once here: a router given no state makes its
        // handlers into routes (and labels them) per request.
        let mut router = router.with_state(());
        for layer in &self.layers {
            router = layer(router);
        }
        // Authentication runs inside the request's scope, so its 401s carry
        // the request id and the identity it finds is the changes' actor;
        // rate limiting inside authentication, so it counts by that identity.
        crate::changes::RecordActor::new(crate::auth::Authenticate::new(
            crate::perimeter::RateLimit::new(
                crate::version::edge::VersionEdge::new(router, edge),
                limiter,
            ),
            authenticator,
        ))
    }

    /// Runs before `serve` starts listening, after `--migrate`: for example to load
    /// fixture data into an empty database.
    pub fn before_serve<F, Fut>(mut self, hook: F) -> App
    where
        F: Fn(AppContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.before_serve = Some(Arc::new(move |app| Box::pin(hook(app))));
        self
    }

    /// Adds the application's own commands.
    pub fn commands<C: Commands>(mut self) -> App {
        self.commands = Some(AppCommands {
            augment: C::augment_subcommands,
            dispatch: |matches, app| {
                let command = C::from_arg_matches(matches).ok()?;
                Some(Box::pin(command.run(app)))
            },
        });
        self
    }

    /// The registered models' schemas.
    pub fn models(&self) -> &[&'static ModelSchema] {
        &self.models
    }

    /// `db`, knowing this app's models: deleting a row through it records the
    /// rows its `on_delete` foreign keys remove or clear in the models that
    /// record changes (see [`changes`](crate::changes#deletes-and-foreign-keys)).
    /// The app's commands and [`App::router`] attach their handles themselves;
    /// attach one opened with [`Db::connect`] elsewhere, as in a test.
    pub fn attach(&self, db: &Db) -> Db {
        db.with_before_delete(Arc::new(crate::changes::Cascades::new(
            &self.cascading_models,
        )))
    }

    /// `db` attached (see [`App::attach`]), sealing with `config`'s keys when
    /// it has some; else with the keys `db` has, as a test database's.
    fn attach_keys(&self, db: &Db, config: &Config) -> Db {
        let db = self.attach(db);
        match &config.secret_keys {
            Some(keyring) => db.with_keyring(Arc::clone(keyring)),
            None => db,
        }
    }

    /// Whether a registered model has sealed fields, which need keys.
    fn seals(&self) -> bool {
        self.models.iter().any(|model| {
            model
                .fields
                .iter()
                .any(|field| field.sensitivity.is_sealed())
        })
    }

    /// `config` with the keys the app runs with. Those given in code, else the
    /// configured ones; else, for
    /// an app with sealed fields on its default SQLite database (development
    /// with no set-up), the key file `secret-keys` next to the database file,
    /// created on first use; else the app stops, saying what to set.
    fn with_secret_keys(&self, mut config: Config) -> anyhow::Result<Config> {
        if let Some(keyring) = &self.secret_keys {
            config.secret_keys = Some(Arc::clone(keyring));
            return Ok(config);
        }
        if config.secret_keys.is_some() || !self.seals() {
            return Ok(config);
        }
        let dev_dir = (config.database_url == self.default_database_url)
            .then(|| sqlite_dir(&config.database_url))
            .flatten();
        let Some(dev_dir) = dev_dir else {
            anyhow::bail!(
                "{} has sensitive fields and no keys are configured: set FW_SECRET_KEYS (or \
                 FW_SECRET_KEYS_FILE) to `id:base64-key` entries; `{} generate-key` prints one",
                self.name,
                self.name
            );
        };
        config.secret_keys = Some(dev_keys(&dev_dir.join("secret-keys"))?);
        Ok(config)
    }

    /// The application's source crate, where its committed files live.
    pub(crate) fn crate_dir(&self) -> &std::path::Path {
        &self.crate_dir
    }

    fn migrations_dir(&self) -> PathBuf {
        self.crate_dir.join("migrations")
    }

    /// The migrations `migrate` applies: the directory when it is there, else
    /// the embedded files (see [`App::embedded_migrations`]).
    fn migrations(&self) -> Migrations {
        let dir = self.migrations_dir();
        match self.embedded_migrations {
            Some(embedded) if !dir.is_dir() => Migrations::Embedded(embedded),
            _ => Migrations::Dir(dir),
        }
    }

    /// Where `makemigrations` compares and writes: the crate's `migrations/`
    /// directory, created in a new application. Where the source tree is not
    /// there at all (an executable deployed alone), the embedded files: they
    /// can be checked against the models, and writing is refused rather than
    /// creating the source's path on a server.
    fn migrations_to_make(&self) -> Migrations {
        if self.crate_dir.is_dir() {
            Migrations::Dir(self.migrations_dir())
        } else {
            self.migrations()
        }
    }

    fn command_line(&self) -> clap::Command {
        let command = clap::Command::new(self.name)
            .about(format!("{}: an fw application", self.name))
            .subcommand_required(false);
        let command = Builtin::augment_subcommands(command);
        let command = if self.auth {
            crate::auth::AuthCommand::augment_subcommands(command)
        } else {
            command
        };
        let command = if self.sealed_models.is_empty() {
            command
        } else {
            crate::sensitive::SensitiveCommand::augment_subcommands(command)
        };
        match &self.commands {
            Some(commands) => (commands.augment)(command),
            None => command,
        }
    }

    /// Parses the process's command line and runs the command, returning the
    /// process's exit code. Errors are logged and printed, never panics.
    pub async fn run(self) -> ExitCode {
        self.run_with(std::env::args_os()).await
    }

    /// As [`App::run_with`], with `input` as standard input (not a terminal):
    /// for tests of commands that read a password.
    ///
    /// ```no_run
    /// # async fn example(app: fw::App) {
    /// let code = app
    ///     .run_with_input(["app", "createuser", "alice"], "correct horse battery\n")
    ///     .await;
    /// assert_eq!(code, std::process::ExitCode::SUCCESS);
    /// # }
    /// ```
    pub async fn run_with_input<I, T>(mut self, args: I, input: impl Into<Vec<u8>>) -> ExitCode
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        self.input = Some(input.into());
        self.run_with(args).await
    }

    /// As [`App::run`], with the given command line (the first item is the
    /// program name).
    pub async fn run_with<I, T>(self, args: I) -> ExitCode
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let _ = dotenvy::dotenv();
        let mut args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
        if args.len() <= 1 {
            args.extend(self.default_command.iter().map(std::ffi::OsString::from));
        }
        let matches = match self.command_line().try_get_matches_from(args) {
            Ok(matches) => matches,
            Err(error) => {
                let _ = error.print();
                return if error.use_stderr() {
                    ExitCode::from(2)
                } else {
                    ExitCode::SUCCESS
                };
            }
        };
        // Every change a command makes records it as the actor, and one request id
        // per run ties them together.
        let actor = format!("command:{}", matches.subcommand_name().unwrap_or("serve"));
        let run_id = uuid::Uuid::now_v7().to_string();
        let outcome =
            crate::changes::with_actor(Some(actor), Some(run_id), self.dispatch(&matches)).await;
        match outcome {
            Ok(code) => code,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::FAILURE
            }
        }
    }

    async fn dispatch(&self, matches: &ArgMatches) -> anyhow::Result<ExitCode> {
        let config = Config::from_env(&self.default_database_url)?;
        init_logging(&config);
        // Every command but the one that makes keys needs them.
        let config = Arc::new(match matches.subcommand_name() {
            Some("generate-key") => config,
            _ => self.with_secret_keys(config)?,
        });
        if self.auth
            && let Some(name) = matches.subcommand_name()
            && crate::auth::AuthCommand::has_subcommand(name)
        {
            let command = crate::auth::AuthCommand::from_arg_matches(matches)?;
            let app = self.connect(&config).await?;
            let known = self
                .declared
                .known(&self.permission_models, self.change_log_api);
            let mut given = self.input.as_deref();
            let mut terminal = crate::auth::Terminal {
                input: given
                    .as_mut()
                    .map(|input| input as &mut (dyn std::io::BufRead + Send)),
                output: &mut std::io::stdout(),
            };
            crate::auth::run_command(command, &app, &known, &self.version_dates(), &mut terminal)
                .await?;
            return Ok(ExitCode::SUCCESS);
        }
        if !self.sealed_models.is_empty()
            && let Some(name) = matches.subcommand_name()
            && crate::sensitive::SensitiveCommand::has_subcommand(name)
        {
            let command = crate::sensitive::SensitiveCommand::from_arg_matches(matches)?;
            let app = self.connect(&config).await?;
            crate::sensitive::run_command(
                command,
                &app.db,
                &self.sealed_models,
                &mut std::io::stdout(),
            )
            .await?;
            return Ok(ExitCode::SUCCESS);
        }
        let is_builtin = matches
            .subcommand_name()
            .is_none_or(Builtin::has_subcommand);
        if !is_builtin {
            let app = self.connect(&config).await?;
            let dispatched = self
                .commands
                .as_ref()
                .and_then(|commands| (commands.dispatch)(matches, app));
            return match dispatched {
                Some(command) => command.await.map(|()| ExitCode::SUCCESS),
                None => anyhow::bail!("unknown command"),
            };
        }
        let builtin = match matches.subcommand_name() {
            Some(_) => Builtin::from_arg_matches(matches)?,
            None => Builtin::Serve(ServeArgs::default()),
        };
        match builtin {
            Builtin::Serve(args) => {
                self.check_permissions()?;
                self.check_rate_limits(&config.rate_limits)?;
                let app = self.connect(&config).await?;
                if args.migrate {
                    let outcome = migrate::migrate(
                        &app.db,
                        self.migrations(),
                        &self.data_migrations,
                        MigrateOptions::default(),
                    )
                    .await?;
                    tracing::info!("{outcome}");
                    if let Some(synced) = self.sync_roles(&app.db).await? {
                        tracing::info!("{synced}");
                    }
                } else {
                    // Started on a database without the tables and columns it
                    // needs, the code would fail request by request, or on a
                    // SQLite built with double-quoted strings read a missing
                    // column's name as its value.
                    let pending = match migrate::pending(&app.db, self.migrations()).await {
                        Err(migrate::MigrateError::MissingDirectory { .. })
                            if self.models.is_empty() =>
                        {
                            Vec::new()
                        }
                        pending => pending?,
                    };
                    if !pending.is_empty() {
                        anyhow::bail!(
                            "the database lacks migrations this release needs: {}; apply them \
                             with `migrate` and start again, or start with `serve --migrate`",
                            pending.join(", ")
                        );
                    }
                }
                if let Some(hook) = &self.before_serve {
                    hook(app.clone()).await?;
                }
                self.serve(app).await?;
                Ok(ExitCode::SUCCESS)
            }
            Builtin::Migrate(args) => {
                let app = self.connect(&config).await?;
                let outcome = migrate::migrate(
                    &app.db,
                    self.migrations(),
                    &self.data_migrations,
                    MigrateOptions { plan: args.plan },
                )
                .await?;
                println!("{outcome}");
                if !args.plan
                    && let Some(synced) = self.sync_roles(&app.db).await?
                {
                    println!("{synced}");
                }
                Ok(ExitCode::SUCCESS)
            }
            Builtin::Makemigrations(args) => {
                let outcome = migrate::makemigrations(
                    self.migrations_to_make(),
                    &self.models,
                    MakeOptions {
                        check: args.check,
                        name: args.name,
                    },
                )?;
                println!("{outcome}");
                Ok(ExitCode::SUCCESS)
            }
            Builtin::Check => {
                self.check_permissions()?;
                self.check_rate_limits(&config.rate_limits)?;
                let outcome = migrate::makemigrations(
                    self.migrations(),
                    &self.models,
                    MakeOptions {
                        check: true,
                        name: None,
                    },
                )?;
                print!("Models and migrations agree. {outcome}");
                let app = self.connect(&config).await?;
                let plan = migrate::migrate(
                    &app.db,
                    self.migrations(),
                    &self.data_migrations,
                    MigrateOptions { plan: true },
                )
                .await?;
                match &plan {
                    migrate::MigrateOutcome::Plan(pending) if !pending.is_empty() => {
                        print!("The database has pending migrations; run `migrate`:\n{plan}");
                        Ok(ExitCode::FAILURE)
                    }
                    _ => {
                        println!("The database is up to date.");
                        Ok(ExitCode::SUCCESS)
                    }
                }
            }
            Builtin::Openapi(args) => crate::openapi::run_command(self, args),
            Builtin::GenerateKey(args) => {
                println!("{}", generate_key(args.id)?);
                Ok(ExitCode::SUCCESS)
            }
            Builtin::Changes { command } => {
                let app = self.connect(&config).await?;
                crate::changes::run_command(
                    command,
                    &app.db,
                    &mut std::io::stdout(),
                    shutdown_signal(),
                )
                .await?;
                Ok(ExitCode::SUCCESS)
            }
        }
    }

    /// Makes the database's roles match the declared ones, after migrations
    /// created their tables; says what changed. `None` without [`App::auth`].
    async fn sync_roles(&self, db: &Db) -> anyhow::Result<Option<String>> {
        if !self.auth {
            return Ok(None);
        }
        self.check_permissions()?;
        let outcome = crate::auth::sync_roles(db, &self.declared.roles).await?;
        Ok(Some(match outcome.changed {
            0 => "Roles are up to date.".to_owned(),
            changed => format!("Roles synced: {changed} roles and grants changed."),
        }))
    }

    async fn connect(&self, config: &Arc<Config>) -> anyhow::Result<AppContext> {
        let options = ConnectOptions::default().wait_timeout(config.database_wait_timeout);
        let db = Db::connect_with(&config.database_url, options)
            .await
            .map_err(|error| {
                anyhow::anyhow!(
                    "cannot open the database at {}: {error}; set DATABASE_URL to a reachable \
                 `sqlite://` or `postgres://` URL",
                    crate::db::redact_url(&config.database_url)
                )
            })?;
        Ok(AppContext {
            db: self.attach_keys(&db, config),
            config: config.clone(),
        })
    }

    async fn serve(&self, app: AppContext) -> anyhow::Result<()> {
        let scrape = self.scrape(&app);
        let service = self.service(app.clone(), &scrape);
        let metrics_server = match app.config.observe.metrics_listen {
            Some(address) => Some(self.serve_metrics(address, scrape, &app).await?),
            None => None,
        };
        let listener = tokio::net::TcpListener::bind(app.config.listen)
            .await
            .map_err(|error| {
                anyhow::anyhow!(
                    "cannot listen on {}: {error}; set FW_LISTEN to a free address",
                    app.config.listen
                )
            })?;
        tracing::info!(address = %app.config.listen, app = self.name, "serving");
        let shutdown = {
            let shutdown = self.shutdown.clone();
            async move {
                shutdown_signal().await;
                // Ends live tails, which would otherwise keep the server open.
                shutdown.send_replace(true);
            }
        };
        let sequencer = (!self.change_log_tables.is_empty()).then(|| {
            let mut stopping = self.shutdown.subscribe();
            tokio::spawn(crate::changes::keep_sequenced(app.db.clone(), async move {
                let _ = stopping.wait_for(|stopping| *stopping).await;
            }))
        });
        crate::serve::serve(listener, service, app.config.http, shutdown).await;
        if let Some(metrics_server) = metrics_server {
            let _ = metrics_server.await;
        }
        if let Some(sequencer) = sequencer {
            let _ = sequencer.await;
        }
        app.db.close().await;
        tracing::info!("stopped");
        Ok(())
    }

    /// Serves `GET /metrics`, unauthenticated, on `address`
    /// (`FW_METRICS_LISTEN`) until the server shuts down.
    async fn serve_metrics(
        &self,
        address: std::net::SocketAddr,
        scrape: crate::perimeter::metrics::Scrape,
        app: &AppContext,
    ) -> anyhow::Result<tokio::task::JoinHandle<()>> {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|error| {
                anyhow::anyhow!(
                    "cannot listen on {address}: {error}; set FW_METRICS_LISTEN to a free address"
                )
            })?;
        tracing::info!(%address, "serving the metrics");
        let mut stopping = self.shutdown.subscribe();
        let shutdown = async move {
            let _ = stopping.wait_for(|stopping| *stopping).await;
        };
        let routes = crate::perimeter::metrics::open_routes(scrape);
        Ok(tokio::spawn(crate::serve::serve(
            listener,
            routes,
            app.config.http,
            shutdown,
        )))
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM, so in-flight requests finish before
/// the process exits.
/// A fresh `FW_SECRET_KEYS` entry with the id `id`, today's date by default.
fn generate_key(id: Option<String>) -> anyhow::Result<String> {
    let id = id.unwrap_or_else(|| chrono::Utc::now().format("%Y-%m-%d").to_string());
    let entry = crate::sensitive::Keyring::generate_entry(&id)
        .map_err(|error| anyhow::anyhow!("no random numbers to make a key from: {error}"))?;
    // The id is checked as `FW_SECRET_KEYS` will check it.
    crate::sensitive::Keyring::parse(&entry).map_err(|_| {
        anyhow::anyhow!(
            "--id `{id}`: a key id is 1 to {} letters, digits, `-` or `_`",
            crate::sensitive::MAX_KEY_ID_LENGTH
        )
    })?;
    Ok(entry)
}

/// The directory of the SQLite file `url` names; `None` for another database
/// or an in-memory one.
fn sqlite_dir(url: &str) -> Option<PathBuf> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path.starts_with(":memory:") {
        return None;
    }
    Some(std::path::Path::new(path).parent()?.to_path_buf())
}

/// The development keys in `path`, created with a fresh key (readable by its
/// owner only) the first time, with a warning that they are for development.
fn dev_keys(path: &std::path::Path) -> anyhow::Result<Arc<crate::sensitive::Keyring>> {
    use std::io::Write;
    let origin = format!("the development key file {}", path.display());
    let cannot = |error: std::io::Error| anyhow::anyhow!("{origin} cannot be written: {error}");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(cannot)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            let entry = crate::sensitive::Keyring::generate_entry("dev").map_err(|error| {
                anyhow::anyhow!("no random numbers to make a key from: {error}")
            })?;
            writeln!(file, "{entry}").map_err(cannot)?;
            tracing::warn!(
                path = %path.display(),
                "no FW_SECRET_KEYS: sensitive fields are sealed with a development key created \
                 in this file; configure FW_SECRET_KEYS for any other database"
            );
        }
        // Created by an earlier run (or a concurrent one): read below.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(cannot(error)),
    }
    let text = std::fs::read_to_string(path)
        .map_err(|error| anyhow::anyhow!("{origin} cannot be read: {error}"))?;
    crate::context::parse_keys(&text, &origin)
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&config.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // A second initialisation (tests running several apps) keeps the first.
    let _ = if config.json_logs {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

#[cfg(test)]
mod tests {
    /// A fresh key's id is today's date unless given, and checked.
    #[test]
    fn generate_key_makes_an_entry_the_keys_accept() {
        let entry = super::generate_key(None).expect("an entry");
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        assert!(entry.starts_with(&format!("{today}:")), "{entry}");
        crate::sensitive::Keyring::parse(&entry).expect("well-formed");
        let error = super::generate_key(Some("a b".to_owned())).expect_err("a bad id");
        assert!(error.to_string().starts_with("--id `a b`"), "{error}");
    }

    /// Without keys, an app with sealed fields stops on a database other than
    /// its default SQLite one, naming what to set and the command that makes a key.
    #[test]
    fn a_sealing_app_without_keys_names_what_to_set() {
        #[crate::model]
        struct Person {
            id: i64,
            #[field(sensitive)]
            name: String,
        }
        let app = crate::App::new("people", "/nowhere").model::<Person>();
        let config = crate::Config {
            database_url: "postgres://db.example/people".to_owned(),
            listen: ([127, 0, 0, 1], 0).into(),
            log_filter: "warn".to_owned(),
            json_logs: false,
            http: crate::HttpLimits::default(),
            idempotency_key_ttl: crate::Config::DEFAULT_IDEMPOTENCY_KEY_TTL,
            database_wait_timeout: crate::ConnectOptions::DEFAULT_WAIT_TIMEOUT,
            session_idle_timeout: crate::Config::DEFAULT_SESSION_IDLE_TIMEOUT,
            session_max_age: crate::Config::DEFAULT_SESSION_MAX_AGE,
            edge: crate::EdgeConfig::default(),
            secret_keys: None,
            trusted_proxies: crate::TrustedProxies::default(),
            rate_limits: crate::RateLimits::default(),
            observe: crate::ObserveConfig::default(),
        };
        let error = app.with_secret_keys(config).expect_err("no keys");
        let message = error.to_string();
        assert!(message.contains("FW_SECRET_KEYS"), "{message}");
        assert!(message.contains("people generate-key"), "{message}");
    }

    /// The dev key rule applies to SQLite files only.
    #[test]
    fn the_development_key_lives_next_to_a_sqlite_file() {
        assert_eq!(
            super::sqlite_dir("sqlite:///srv/app/data/app.db?mode=rwc"),
            Some(std::path::PathBuf::from("/srv/app/data"))
        );
        assert_eq!(super::sqlite_dir("sqlite::memory:"), None);
        assert_eq!(super::sqlite_dir("postgres://db/app"), None);
    }

    /// `app!()` compiles the crate's migrations in, so that a deployed
    /// executable can apply them (this crate has none).
    #[test]
    fn the_app_macro_embeds_the_crate_s_migrations() {
        let app = crate::app!();
        let embedded = app.embedded_migrations.expect("embedded by app!()");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        assert_eq!(std::path::Path::new(embedded.dir), dir);
        assert!(embedded.files.is_empty());
    }
}
