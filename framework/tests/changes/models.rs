//! Models of the change-log suites: two that record changes, one that does not,
//! and around `Security` the models whose foreign keys act when it is deleted.

use chrono::{DateTime, Utc};
use fw::Ref;
use uuid::Uuid;

#[derive(Clone, PartialEq)]
#[fw::model(changelog)]
pub(crate) struct Security {
    pub(crate) id: i64,
    #[field(unique, max_length = 12)]
    pub(crate) symbol: String,
    pub(crate) name: String,
    pub(crate) note: Option<String>,
    #[field(auto_now)]
    pub(crate) updated_at: DateTime<Utc>,
    #[field(version)]
    pub(crate) version: i64,
}

#[derive(Clone, PartialEq)]
#[fw::model(changelog)]
pub(crate) struct Account {
    #[field(primary_key)]
    pub(crate) id: Uuid,
    #[field(sensitive)]
    pub(crate) tax_id: String,
    pub(crate) nickname: String,
    #[field(version)]
    pub(crate) version: i64,
}

#[derive(Clone, PartialEq)]
#[fw::model]
pub(crate) struct Note {
    pub(crate) id: i64,
    pub(crate) text: String,
}

/// A holding of a security, removed with it; it records nothing, but its lots do.
#[derive(Clone, PartialEq)]
#[fw::model]
pub(crate) struct Holding {
    pub(crate) id: i64,
    #[field(on_delete = "cascade")]
    pub(crate) security: Ref<Security>,
    pub(crate) shares: i64,
}

/// A tax lot of a holding, removed with it, and so with its security.
#[derive(Clone, PartialEq)]
#[fw::model(changelog)]
pub(crate) struct Lot {
    pub(crate) id: i64,
    #[field(on_delete = "cascade")]
    pub(crate) holding: Ref<Holding>,
    pub(crate) shares: i64,
}

/// A price quote of a security, removed with it.
#[derive(Clone, PartialEq)]
#[fw::model(changelog)]
pub(crate) struct Quote {
    pub(crate) id: i64,
    #[field(on_delete = "cascade")]
    pub(crate) security: Ref<Security>,
    pub(crate) price: i64,
}

/// A price alert, kept when its security is deleted, with the reference cleared.
#[derive(Clone, PartialEq)]
#[fw::model(changelog)]
pub(crate) struct Alert {
    pub(crate) id: i64,
    #[field(on_delete = "set_null")]
    pub(crate) security: Option<Ref<Security>>,
    pub(crate) text: String,
    #[field(version)]
    pub(crate) version: i64,
}

/// A trade, which keeps its security from being deleted; it records nothing.
#[derive(Clone, PartialEq)]
#[fw::model]
pub(crate) struct Trade {
    pub(crate) id: i64,
    #[field(on_delete = "restrict")]
    pub(crate) security: Ref<Security>,
}

pub(crate) fn all() -> Vec<&'static fw::schema::ModelSchema> {
    app().models().to_vec()
}

/// A security and its history, which needs the model's view permission.
#[fw::resource(
    model = Security,
    path = "/listed",
    actions(retrieve, history),
    permissions(model)
)]
pub(crate) struct SecurityResource {
    pub(crate) id: i64,
    pub(crate) symbol: String,
}

/// Every model of the suites, registered as an application registers them.
pub(crate) fn app() -> fw::App {
    fw::App::new("changes", env!("CARGO_MANIFEST_DIR"))
        .model::<Security>()
        .model::<Account>()
        .model::<Note>()
        .model::<Holding>()
        .model::<Lot>()
        .model::<Quote>()
        .model::<Alert>()
        .model::<Trade>()
}
