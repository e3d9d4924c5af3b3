//! Models shared by the database test suites.

use chrono::{DateTime, NaiveDate, Utc};
use fw::{Json, Ref};
use rust_decimal::Decimal;
use uuid::Uuid;

#[derive(Clone, PartialEq)]
#[fw::model]
pub(crate) struct Security {
    pub(crate) id: i64,
    #[field(unique, max_length = 12)]
    pub(crate) symbol: String,
    #[field(unique, min_length = 9, max_length = 9)]
    pub(crate) cusip: String,
    pub(crate) name: String,
    #[field(auto_now_add)]
    pub(crate) created_at: DateTime<Utc>,
    #[field(auto_now)]
    pub(crate) updated_at: DateTime<Utc>,
    #[field(version)]
    pub(crate) version: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, fw::Choices)]
pub(crate) enum DividendStatus {
    Announced,
    Changed,
    Cancelled,
}

#[derive(Clone, PartialEq)]
#[fw::model(unique(security, ex_date), index(pay_date, status))]
pub(crate) struct Dividend {
    pub(crate) id: i64,
    #[field(on_delete = "cascade")]
    pub(crate) security: Ref<Security>,
    pub(crate) ex_date: NaiveDate,
    pub(crate) pay_date: NaiveDate,
    pub(crate) record_date: Option<NaiveDate>,
    #[field(max_digits = 18, decimal_places = 8, min = "0")]
    pub(crate) rate: Decimal,
    #[field(max_length = 3, default = "USD")]
    pub(crate) currency: String,
    pub(crate) status: DividendStatus,
    #[field(version)]
    pub(crate) version: i64,
}

#[derive(Clone, PartialEq)]
#[fw::model]
pub(crate) struct Account {
    #[field(primary_key)]
    pub(crate) id: Uuid,
    #[field(sensitive)]
    pub(crate) holder_name: String,
    #[field(sensitive(searchable), unique)]
    pub(crate) tax_id: String,
    #[field(default = true)]
    pub(crate) active: bool,
    pub(crate) settings: Json<serde_json::Value>,
    #[field(min = 0, max = 100)]
    pub(crate) risk_score: Option<i16>,
}

/// A sealed model whose key the database assigns: its inserts reserve the key
/// before sealing, and its optional sealed field may be NULL.
#[derive(Clone, PartialEq)]
#[fw::model]
pub(crate) struct Contact {
    pub(crate) id: i64,
    #[field(sensitive(searchable))]
    pub(crate) email: Option<String>,
}

#[derive(Clone, PartialEq)]
#[fw::model(unique(account, security))]
pub(crate) struct Position {
    pub(crate) id: i32,
    #[field(on_delete = "cascade")]
    pub(crate) account: Ref<Account>,
    #[field(on_delete = "restrict")]
    pub(crate) security: Ref<Security>,
    #[field(max_digits = 20, decimal_places = 6)]
    pub(crate) quantity: Decimal,
    pub(crate) as_of: NaiveDate,
    #[field(on_delete = "set_null")]
    pub(crate) last_dividend: Option<Ref<Dividend>>,
}

/// Shipments, for keyset pages: indexed, by the ordering fields then the key,
/// for the orderings whose plans the cases check.
#[derive(Clone, PartialEq)]
#[fw::model(
    index(shipped_on, id),
    index(delivered_on, id),
    index(shipped_on, weight)
)]
pub(crate) struct Shipment {
    pub(crate) id: i64,
    pub(crate) shipped_on: NaiveDate,
    pub(crate) weight: i32,
    pub(crate) delivered_on: Option<NaiveDate>,
    #[field(max_digits = 12, decimal_places = 2)]
    pub(crate) cost: Decimal,
}

pub(crate) fn all() -> [&'static fw::schema::ModelSchema; 6] {
    use fw::Model;
    [
        Security::SCHEMA,
        Dividend::SCHEMA,
        Account::SCHEMA,
        Position::SCHEMA,
        Contact::SCHEMA,
        Shipment::SCHEMA,
    ]
}
