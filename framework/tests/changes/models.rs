//! Models of the change-log suites: two that record changes, one that does not.

use chrono::{DateTime, Utc};
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

pub(crate) fn all() -> Vec<&'static fw::schema::ModelSchema> {
    use fw::Model;
    let mut all = vec![Security::SCHEMA, Account::SCHEMA, Note::SCHEMA];
    all.extend(fw::changes::tables());
    all
}
