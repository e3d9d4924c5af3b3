//! Models shared by the database test suites.

use chrono::{DateTime, NaiveDate, Utc};
use fw::{Json, Ref};
use rust_decimal::Decimal;
use uuid::Uuid;

#[derive(Clone, PartialEq)]
#[fw::model]
pub struct Security {
    pub id: i64,
    #[field(unique, max_length = 12)]
    pub symbol: String,
    #[field(unique, min_length = 9, max_length = 9)]
    pub cusip: String,
    pub name: String,
    #[field(auto_now_add)]
    pub created_at: DateTime<Utc>,
    #[field(auto_now)]
    pub updated_at: DateTime<Utc>,
    #[field(version)]
    pub version: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, fw::Choices)]
pub enum DividendStatus {
    Announced,
    Changed,
    Cancelled,
}

#[derive(Clone, PartialEq)]
#[fw::model(unique(security, ex_date), index(pay_date, status))]
pub struct Dividend {
    pub id: i64,
    #[field(on_delete = "cascade")]
    pub security: Ref<Security>,
    pub ex_date: NaiveDate,
    pub pay_date: NaiveDate,
    pub record_date: Option<NaiveDate>,
    #[field(max_digits = 18, decimal_places = 8, min = "0")]
    pub rate: Decimal,
    #[field(max_length = 3, default = "USD")]
    pub currency: String,
    pub status: DividendStatus,
    #[field(version)]
    pub version: i64,
}

#[derive(Clone, PartialEq)]
#[fw::model]
pub struct Account {
    #[field(primary_key)]
    pub id: Uuid,
    #[field(sensitive)]
    pub holder_name: String,
    #[field(sensitive, unique)]
    pub tax_id: String,
    #[field(default = true)]
    pub active: bool,
    pub settings: Json<serde_json::Value>,
    #[field(min = 0, max = 100)]
    pub risk_score: Option<i16>,
}

#[derive(Clone, PartialEq)]
#[fw::model(unique(account, security))]
pub struct Position {
    pub id: i32,
    #[field(on_delete = "cascade")]
    pub account: Ref<Account>,
    #[field(on_delete = "restrict")]
    pub security: Ref<Security>,
    #[field(max_digits = 20, decimal_places = 6)]
    pub quantity: Decimal,
    pub as_of: NaiveDate,
    #[field(on_delete = "set_null")]
    pub last_dividend: Option<Ref<Dividend>>,
}

pub(crate) fn all() -> [&'static fw::schema::ModelSchema; 4] {
    use fw::Model;
    [
        Security::SCHEMA,
        Dividend::SCHEMA,
        Account::SCHEMA,
        Position::SCHEMA,
    ]
}
