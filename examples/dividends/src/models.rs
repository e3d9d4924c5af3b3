//! The brokerage's domain: securities, their dividend announcements, customer
//! accounts and the positions they hold.

use std::fmt;

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
    /// Row version, bumped by every update: the `ETag`; send it back in
    /// `If-Match` to update safely.
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
/// three are indexed, not unique. The list's default order, newest ex-date
/// first, has an index of its own, the ex-date then the key, so that every
/// page of it is one range of that index, the thousandth as the first.
#[derive(Clone, PartialEq)]
#[fw::model(
    changelog,
    index(ex_date, id),
    index(security, ex_date),
    index(pay_date),
    index(security, pay_date),
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
    pub ex_date: NaiveDate,
    /// Holders of record on this date receive it.
    pub record_date: NaiveDate,
    /// When it is paid.
    pub pay_date: NaiveDate,
    /// Cash paid per share: more than zero (a zero-rate announcement pays
    /// nothing and is a mistake in the clearing firm's file).
    #[field(max_digits = 18, decimal_places = 8, exclusive_min = "0")]
    pub rate: Decimal,
    /// ISO 4217 currency code.
    #[field(min_length = 3, max_length = 3, default = "USD")]
    pub currency: String,
    /// Regular, special or return of capital.
    pub kind: DividendKind,
    /// Announced, changed or cancelled.
    #[field(default = "announced")]
    pub status: DividendStatus,
    /// When the row was created.
    #[field(auto_now_add)]
    pub created_at: DateTime<Utc>,
    /// When the row last changed.
    #[field(auto_now)]
    pub updated_at: DateTime<Utc>,
    /// Row version, bumped by every update: the `ETag`; send it back in
    /// `If-Match` to update safely.
    #[field(version)]
    pub version: i64,
}

/// One of the dates of a dividend announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnouncementDate {
    /// When the board declared it.
    Declaration,
    /// The ex-date.
    Ex,
    /// The record date.
    Record,
    /// The pay date.
    Pay,
}

impl AnnouncementDate {
    /// The [`Dividend`] field holding the date.
    pub fn field(self) -> &'static str {
        match self {
            AnnouncementDate::Declaration => "declaration_date",
            AnnouncementDate::Ex => "ex_date",
            AnnouncementDate::Record => "record_date",
            AnnouncementDate::Pay => "pay_date",
        }
    }
}

impl fmt::Display for AnnouncementDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AnnouncementDate::Declaration => "declaration date",
            AnnouncementDate::Ex => "ex-date",
            AnnouncementDate::Record => "record date",
            AnnouncementDate::Pay => "pay date",
        })
    }
}

/// A date of an announcement that comes before one it must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateOutOfOrder {
    /// The date that comes too early, and its value.
    pub date: (AnnouncementDate, NaiveDate),
    /// The date it must not precede, and its value.
    pub follows: (AnnouncementDate, NaiveDate),
}

impl fmt::Display for DateOutOfOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ((date, value), (follows, follows_value)) = (self.date, self.follows);
        write!(
            f,
            "the {date} {value} is before the {follows} {follows_value}"
        )
    }
}

/// The order of an announcement's dates, wherever an announcement is entered
/// (the daily file, the API): declared first, paid last, and the ex-date and
/// record date in between. The ex-date and record date may come in either
/// order (they coincide under T+1 settlement).
pub fn dates_out_of_order(
    declaration: NaiveDate,
    ex: NaiveDate,
    record: NaiveDate,
    pay: NaiveDate,
) -> Vec<DateOutOfOrder> {
    use AnnouncementDate::{Declaration, Ex, Pay, Record};
    [
        ((Ex, ex), (Declaration, declaration)),
        ((Record, record), (Declaration, declaration)),
        ((Pay, pay), (Ex, ex)),
        ((Pay, pay), (Record, record)),
    ]
    .into_iter()
    .filter(|((_, later), (_, earlier))| later < earlier)
    .map(|(date, follows)| DateOutOfOrder { date, follows })
    .collect()
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
    #[field(sensitive(searchable), max_length = 20)]
    pub tax_id: String,
    /// When the row was created.
    #[field(auto_now_add)]
    pub created_at: DateTime<Utc>,
    /// Row version, bumped by every update: the `ETag`; send it back in
    /// `If-Match` to update safely.
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
    /// Row version, bumped by every update: the `ETag`; send it back in
    /// `If-Match` to update safely.
    #[field(version)]
    pub version: i64,
}
