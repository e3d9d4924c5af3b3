//! The application: its models, their REST resources, its roles, and its
//! commands.

pub mod models;
pub mod resources;

/// The application. With no command it applies pending migrations and serves, so
/// a fresh checkout runs with no set-up.
///
/// Identity is on (`auth()`): every request but login needs a user's token or
/// session, and each operation a permission. Register each model here with
/// `.model::<...>()`, and grant its permissions to roles with `.role(...)`.
pub fn app() -> fw::App {
    fw::app!()
        .default_command(&["serve", "--migrate"])
        .auth()
        .api(api())
}

/// The REST API, served with its OpenAPI document at `/openapi.json` and its
/// documentation at `/docs`. The title and version head that document; add
/// each resource with `.resource::<...>()`.
pub fn api() -> fw::Api {
    fw::Api::new("API", "0.1.0")
}
