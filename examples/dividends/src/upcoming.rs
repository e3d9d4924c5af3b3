//! `GET /accounts/{id}/upcoming-dividends`: what an account will be paid, per
//! dividend, from the positions it holds. A plain axum handler mounted beside the
//! resources and documented in the same OpenAPI document.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, Query, State};
use axum::routing::get;
use chrono::{NaiveDate, Utc};
use fw::{ApiError, AppContext, Model};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::models::{Account, DividendStatus};

/// The route's path, shared by the router and the OpenAPI document.
pub const PATH: &str = "/accounts/{id}/upcoming-dividends";

/// One dividend the account will be paid.
#[derive(Debug, Serialize)]
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
    pub rate: Decimal,
    /// Shares held.
    pub quantity: Decimal,
    /// `quantity × rate`, exact.
    pub amount: Decimal,
    /// ISO 4217 currency code.
    pub currency: String,
    /// `announced` or `changed`; cancelled dividends are not paid.
    pub status: DividendStatus,
}

/// The account's upcoming payments and their totals per currency.
#[derive(Debug, Serialize)]
pub struct UpcomingDividends {
    /// The account.
    pub account: Uuid,
    /// Payments on or after this date are listed.
    pub from: NaiveDate,
    /// The payments, by pay date.
    pub payments: Vec<Payment>,
    /// The sum of `amount` per currency.
    pub totals: BTreeMap<String, Decimal>,
}

/// Serves [`PATH`].
pub fn route() -> axum::routing::MethodRouter<AppContext> {
    get(upcoming_dividends)
}

/// An account's (`$1`) payments from a date (`$2`) on, leaving out dividends in
/// status `$3` (cancelled): one join, which the model query API cannot express.
/// Amounts are multiplied in Rust: decimals are text on SQLite, where arithmetic
/// on them in SQL would not be exact.
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

/// The OpenAPI path item of [`PATH`].
pub fn operations() -> serde_json::Value {
    let decimal =
        json!({"type": "string", "format": "decimal", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"});
    let date = json!({"type": "string", "format": "date"});
    let payment = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["dividend", "symbol", "ex_date", "pay_date", "rate", "quantity", "amount", "currency", "status"],
        "properties": {
            "dividend": {"type": "integer", "format": "int64", "description": "The dividend announcement."},
            "symbol": {"type": "string", "description": "The paying security's ticker symbol."},
            "ex_date": date,
            "pay_date": date,
            "rate": decimal,
            "quantity": decimal,
            "amount": decimal,
            "currency": {"type": "string", "minLength": 3, "maxLength": 3},
            "status": {"type": "string", "enum": ["announced", "changed"]},
        },
    });
    json!({
        "get": {
            "operationId": "account_upcoming_dividends",
            "summary": "An account's upcoming dividend payments",
            "description": "Every dividend paid on or after `from` on a security the account holds, with the amount (shares held × rate, exact) and totals per currency. Cancelled dividends are left out.",
            "tags": ["Accounts"],
            "parameters": [
                {"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}},
                {"name": "from", "in": "query", "required": false, "description": "First pay date to include; default today (UTC).", "schema": date},
            ],
            "responses": {
                "200": {
                    "description": "The account's upcoming payments.",
                    "content": {"application/json": {"schema": {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["account", "from", "payments", "totals"],
                        "properties": {
                            "account": {"type": "string", "format": "uuid"},
                            "from": date,
                            "payments": {"type": "array", "items": payment},
                            "totals": {"type": "object", "additionalProperties": decimal},
                        },
                    }}},
                },
                "400": {"$ref": "#/components/responses/400"},
                "404": {"$ref": "#/components/responses/404"},
                "406": {"$ref": "#/components/responses/406"},
            },
        }
    })
}
