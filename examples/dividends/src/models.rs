//! The brokerage's domain: securities, their dividend announcements, customer
//! accounts and the positions they hold.

use chrono::{DateTime, NaiveDate, Utc};
use fw::Ref;
use rust_decimal::Decimal;
use uuid::Uuid;

/// A listed security, identified by its ticker symbol and CUSIP.
#[derive(Clone, PartialEq)]
#[fw::model(changelog)]
pub struct Security {
    /// Surrogate key.
    pub id: i64,
    /// Ticker symbol, e.g. `ACME`.
    #[field(unique, max_length = 12, pattern = "^[A-Z][A-Z0-9.]{0,11}$")]
    pub symbol: String,
    /// The nine-character CUSIP.
    #[field(unique, min_length = 9, max_length = 9, pattern = "^[0-9A-Z]{9}$")]
    pub cusip: String,
    /// Issuer name.
    #[field(max_length = 200)]
    pub name: String,
    /// When the row was created.
    #[field(auto_now_add)]
    pub created_at: DateTime<Utc>,
    /// When the row last changed.
    #[field(auto_now)]
    pub updated_at: DateTime<Utc>,
    /// Row version, bumped by every update.
    #[field(version)]
    pub version: i64,
}

/// The kind of a dividend distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, fw::Choices)]
pub enum DividendKind {
    /// A regular cash dividend.
    Regular,
    /// A one-off special dividend.
    Special,
    /// A return of capital.
    ReturnOfCapital,
}

/// Where an announcement stands, as last reported by the clearing firm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, fw::Choices)]
pub enum DividendStatus {
    /// Announced and unchanged since.
    Announced,
    /// Corrected by the clearing firm after it was first announced.
    Changed,
    /// Withdrawn by the issuer.
    Cancelled,
}

/// A dividend announcement for a security, as delivered in the clearing firm's
/// daily file.
///
/// The clearing firm's announcement id is the identity: corrections and
/// cancellations refer to it, and an issuer may cancel an announcement and
/// re-announce the same security, ex-date and kind under a new id, so those
/// three are indexed, not unique.
#[derive(Clone, PartialEq)]
#[fw::model(
    changelog,
    index(security, ex_date),
    index(pay_date),
    index(status, ex_date)
)]
pub struct Dividend {
    /// Surrogate key.
    pub id: i64,
    /// The clearing firm's id for the announcement, e.g. `DV2026031500017`.
    #[field(unique, max_length = 20, pattern = "^[A-Z0-9]{1,20}$")]
    pub announcement_id: String,
    /// The paying security.
    #[field(on_delete = "cascade")]
    pub security: Ref<Security>,
    /// When the board declared it.
    pub declaration_date: NaiveDate,
    /// Holders before this date receive it.
    #[field(index)]
    pub ex_date: NaiveDate,
    /// Holders of record on this date receive it.
    pub record_date: NaiveDate,
    /// When it is paid.
    pub pay_date: NaiveDate,
    /// Cash paid per share.
    #[field(max_digits = 18, decimal_places = 8, min = "0")]
    pub rate: Decimal,
    /// ISO 4217 currency code.
    #[field(min_length = 3, max_length = 3, default = "USD")]
    pub currency: String,
    /// Regular, special or return of capital.
    pub kind: DividendKind,
    /// Announced, changed or cancelled.
    pub status: DividendStatus,
    /// When the row was created.
    #[field(auto_now_add)]
    pub created_at: DateTime<Utc>,
    /// When the row last changed.
    #[field(auto_now)]
    pub updated_at: DateTime<Utc>,
    /// Row version, bumped by every update.
    #[field(version)]
    pub version: i64,
}

/// A customer's brokerage account. The holder's name and tax id are personal
/// data: they never appear in logs or debug output.
#[derive(Clone, PartialEq)]
#[fw::model(changelog)]
pub struct Account {
    /// Account id, shared with the clearing firm.
    #[field(primary_key)]
    pub id: Uuid,
    /// Account number shown to the customer.
    #[field(unique, max_length = 20)]
    pub number: String,
    /// The account holder's legal name.
    #[field(sensitive, max_length = 200)]
    pub holder_name: String,
    /// The holder's tax id.
    #[field(sensitive, max_length = 20)]
    pub tax_id: String,
    /// When the row was created.
    #[field(auto_now_add)]
    pub created_at: DateTime<Utc>,
    /// Row version, bumped by every update.
    #[field(version)]
    pub version: i64,
}

/// How many shares of a security an account held on a date.
#[derive(Clone, PartialEq)]
#[fw::model(changelog, unique(account, security))]
pub struct Position {
    /// Surrogate key.
    pub id: i64,
    /// The holding account.
    #[field(on_delete = "cascade")]
    pub account: Ref<Account>,
    /// The held security.
    #[field(on_delete = "restrict")]
    pub security: Ref<Security>,
    /// Shares held; fractional shares are allowed.
    #[field(max_digits = 20, decimal_places = 6, min = "0")]
    pub quantity: Decimal,
    /// The date the quantity is as of.
    pub as_of: NaiveDate,
    /// Row version, bumped by every update.
    #[field(version)]
    pub version: i64,
}
