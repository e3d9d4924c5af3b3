//! `GET /accounts/{id}/upcoming-dividends`: what an account will be paid, per
//! dividend, from the positions it holds. A plain axum handler mounted beside the
//! resources and documented in the same OpenAPI document, its schemas derived
//! from the types it answers with.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, Query, State};
use axum::routing::get;
use chrono::{NaiveDate, Utc};
use fw::{ApiError, AppContext, Model};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{ContentBuilder, Ref, Required, ResponseBuilder};
use utoipa::{PartialSchema as _, ToSchema};
use uuid::Uuid;

use crate::models::{Account, DividendStatus};

/// The route's path, shared by the router and the OpenAPI document.
pub const PATH: &str = "/accounts/{id}/upcoming-dividends";

/// Who may read an account's upcoming dividends: whoever may view its
/// positions, which the answer is made of.
pub const ACCESS: fw::Access = fw::Access::Permission("view_position");

/// One dividend the account will be paid.
#[derive(Debug, Serialize, ToSchema)]
// Serialization ignores it; `ToSchema` reads it: the object has no other fields.
#[serde(deny_unknown_fields)]
pub struct Payment {
    /// The dividend announcement.
    pub dividend: i64,
    /// The paying security's ticker symbol.
    pub symbol: String,
    /// Holders before this date receive it.
    pub ex_date: NaiveDate,
    /// When it is paid.
    pub pay_date: NaiveDate,
    /// Cash per share.
    #[schema(schema_with = fw::openapi::decimal_schema)]
    pub rate: Decimal,
    /// Shares held.
    #[schema(schema_with = fw::openapi::decimal_schema)]
    pub quantity: Decimal,
    /// `quantity × rate`, exact.
    #[schema(schema_with = fw::openapi::decimal_schema)]
    pub amount: Decimal,
    /// ISO 4217 currency code.
    #[schema(min_length = 3, max_length = 3)]
    pub currency: String,
    /// Where the dividend stands.
    #[schema(schema_with = fw::openapi::choices_schema::<PaymentStatus>)]
    pub status: PaymentStatus,
}

/// Where a dividend that will be paid stands: [`DividendStatus`] without
/// `cancelled`, as a cancelled dividend is not paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, fw::Choices)]
pub enum PaymentStatus {
    /// Announced and unchanged since.
    Announced,
    /// Corrected by the clearing firm after it was first announced.
    Changed,
}

/// The account's upcoming payments and their totals per currency.
#[derive(Debug, Serialize, ToSchema)]
// Serialization ignores it; `ToSchema` reads it: the object has no other fields.
#[serde(deny_unknown_fields)]
pub struct UpcomingDividends {
    /// The account.
    pub account: Uuid,
    /// Payments on or after this date are listed.
    pub from: NaiveDate,
    /// The payments, by pay date.
    #[schema(inline)]
    pub payments: Vec<Payment>,
    /// The sum of `amount` per currency.
    #[schema(schema_with = totals_schema)]
    pub totals: BTreeMap<String, Decimal>,
}

/// `totals`: a decimal per currency code.
fn totals_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(fw::openapi::decimal_schema()))
}

/// Serves [`PATH`].
pub fn route() -> axum::routing::MethodRouter<AppContext> {
    get(upcoming_dividends)
}

/// An account's (`$1`) payments from a date (`$2`) on, leaving out dividends in
/// status `$3` (cancelled), so every status read is a [`PaymentStatus`]: one
/// join, which the model query API cannot express. Amounts are multiplied in
/// Rust: decimals are text on SQLite, where arithmetic on them in SQL would not
/// be exact.
const PAYMENTS: &str = "SELECT d.id, s.symbol, d.ex_date, d.pay_date, d.rate, p.quantity, \
     d.currency, d.status \
     FROM position p \
     JOIN dividend d ON d.security_id = p.security_id \
     JOIN security s ON s.id = p.security_id \
     WHERE p.account_id = $1 AND d.pay_date >= $2 AND d.status <> $3 \
     ORDER BY d.pay_date, d.id";

async fn upcoming_dividends(
    State(app): State<AppContext>,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<axum::Json<UpcomingDividends>, ApiError> {
    let from = parse_params(&params)?;
    // An id that is not a UUID names no account.
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    // Existence only: the account's row holds personal data this answer never shows.
    let exists = Account::query()
        .filter(Account::ID.eq(id))
        .exists(&app.db)
        .await
        .map_err(ApiError::internal)?;
    if !exists {
        return Err(ApiError::NotFound);
    }
    let payments = fw::sql(PAYMENTS)
        .bind(id)
        .bind(from)
        .bind(DividendStatus::Cancelled)
        .fetch_all(&app.db, |row| {
            let rate: Decimal = row.get(4)?;
            let quantity: Decimal = row.get(5)?;
            Ok(Payment {
                dividend: row.get(0)?,
                symbol: row.get(1)?,
                ex_date: row.get(2)?,
                pay_date: row.get(3)?,
                rate,
                quantity,
                amount: quantity * rate,
                currency: row.get(6)?,
                status: row.get(7)?,
            })
        })
        .await
        .map_err(ApiError::internal)?;

    let mut totals = BTreeMap::<String, Decimal>::new();
    for payment in &payments {
        *totals.entry(payment.currency.clone()).or_default() += payment.amount;
    }
    Ok(axum::Json(UpcomingDividends {
        account: id,
        from,
        payments,
        totals,
    }))
}

/// `from` (default today, UTC) is the only parameter; anything else is a 400
/// naming it, as on the resources.
fn parse_params(params: &HashMap<String, String>) -> Result<NaiveDate, ApiError> {
    if let Some(unknown) = params.keys().find(|name| name.as_str() != "from") {
        return Err(ApiError::bad_request(format!(
            "unknown query parameter `{unknown}`; this endpoint accepts `from`"
        )));
    }
    match params.get("from") {
        None => Ok(Utc::now().date_naive()),
        Some(text) => text.parse().map_err(|_| {
            ApiError::bad_request(format!(
                "query parameter `from` must be a date like 2026-03-17, not `{text}`"
            ))
        }),
    }
}

/// The OpenAPI path item of [`PATH`]: the answer's schema is
/// [`UpcomingDividends`]'s, fields, docs and enums included.
pub fn operations() -> PathItem {
    let string = |format: KnownFormat| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(format)))
    };
    let id = ParameterBuilder::new()
        .name("id")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(Some(string(KnownFormat::Uuid)));
    let from = ParameterBuilder::new()
        .name("from")
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some("First pay date to include; default today (UTC)."))
        .schema(Some(string(KnownFormat::Date)));
    let ok = ResponseBuilder::new()
        .description("The account's upcoming payments.")
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(UpcomingDividends::schema()))
                .build(),
        );
    let operation = OperationBuilder::new()
        .operation_id(Some("account_upcoming_dividends"))
        .summary(Some("An account's upcoming dividend payments"))
        .description(Some(
            "Every dividend paid on or after `from` on a security the account holds, with \
             the amount (shares held × rate, exact) and totals per currency. Cancelled \
             dividends are left out.",
        ))
        .tag("Accounts")
        .parameter(id)
        .parameter(from)
        .response("200", ok)
        .response("400", Ref::from_response_name("400"))
        .response("404", Ref::from_response_name("404"));
    PathItem::new(HttpMethod::Get, operation)
}
