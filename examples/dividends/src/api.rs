//! The HTTP API: securities, and dividend announcements with the filters the
//! brokerage's apps use (by security or its symbol, ex-date and pay-date
//! ranges, status), entered by hand when the daily file is late; and customer
//! accounts, twice: without the holder's tax id for support, with it for
//! compliance.

use fw::Model as _;

use crate::models::{Dividend, DividendPatch, DividendStatus, NewDividend, dates_out_of_order};

/// A listed security.
#[fw::resource(
    model = crate::models::Security,
    path = "/securities",
    fields = all,
    actions(list, retrieve, create, update, partial_update, destroy, history),
    permissions(model),
    filter(symbol(exact, in), cusip(exact), name(icontains)),
    search(symbol, name),
    ordering(symbol, name),
    default_ordering = "symbol",
    page_size = 50,
    max_page_size = 500
)]
pub struct SecurityResource;

/// A dividend announcement, as last reported by the clearing firm. Imported
/// from the daily file; operations staff may enter one by hand before the file
/// carries it, and the file's record with the same `announcement_id` then
/// corrects it.
#[fw::resource(
    model = crate::models::Dividend,
    path = "/dividends",
    exclude(created_at),
    actions(list, retrieve, create, history),
    permissions(model),
    filter(
        security(exact, in),
        symbol = security.symbol(exact, in),
        ex_date(exact, gte, lte, gt, lt),
        pay_date(exact, gte, lte, gt, lt),
        status(exact, in),
        kind(exact, in)
    ),
    ordering(ex_date, pay_date),
    default_ordering = "-ex_date",
    page_size = 50,
    max_page_size = 500,
    hooks = DividendHooks
)]
pub struct DividendResource {
    /// Days from the ex-date to the pay date: how long a holder who buys
    /// before the ex-date waits for the cash.
    #[field(computed = days_to_payment)]
    pub days_to_payment: i64,
}

/// Days from a dividend's ex-date to its pay date, computed for every
/// response rather than stored, so a corrected date never leaves it stale.
fn days_to_payment(dividend: &Dividend) -> i64 {
    (dividend.pay_date - dividend.ex_date).num_days()
}

/// A customer's account. The holder's name and tax id are sensitive: each
/// is shown only to callers holding the permission that reveals it (support
/// sees the name, compliance both), is omitted for everyone else, and every
/// answer that shows one is recorded in the read audit (`/sensitive-reads`).
/// Compliance finds an account by its tax id (`?tax_id=`), which needs the
/// same permission.
#[fw::resource(
    model = crate::models::Account,
    path = "/accounts",
    fields = all,
    actions(list, retrieve),
    permissions(model),
    read_only(number, holder_name, tax_id),
    filter(number(exact), tax_id(exact)),
    ordering(number),
    default_ordering = "number",
    page_size = 50,
    max_page_size = 500
)]
pub struct AccountResource {
    /// The account holder's legal name.
    #[field(reveal = "view_account_holder_name")]
    pub holder_name: String,
    /// The holder's tax id.
    #[field(reveal = "view_account_tax_id")]
    pub tax_id: String,
}

/// What an operator sends to cancel an announcement by hand: its
/// announcement id again, so that a mistyped `{id}` in the path cancels
/// nothing.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Cancellation {
    /// The clearing firm's id of the announcement to cancel.
    #[schema(min_length = 1, max_length = 20, pattern = "^[A-Z0-9]{1,20}$")]
    pub announcement_id: String,
}

impl fw::Validate for Cancellation {}

/// `POST /dividends/{id}/cancel`: operations staff cancel an announcement
/// the issuer withdrew before the clearing firm's file says so. The row is
/// locked while it is checked and changed, and the change log records who
/// cancelled it; the next file's record for the announcement corrects it
/// either way.
#[derive(Debug)]
pub struct CancelDividend;

impl fw::RowAction for CancelDividend {
    type Resource = DividendResource;
    type Body = Cancellation;
    const NAME: &'static str = "cancel";
    const SUMMARY: &'static str = "Cancel an announcement by hand";
    const ACCESS: fw::Access = fw::Access::Permission("change_dividend");

    async fn run(
        _request: &fw::RequestContext,
        tx: &mut fw::Tx,
        dividend: Dividend,
        cancellation: Cancellation,
    ) -> Result<Dividend, fw::ApiError> {
        if cancellation.announcement_id != dividend.announcement_id {
            return Err(fw::ApiError::invalid(
                "/announcement_id",
                "mismatch",
                "is not the announcement id of the dividend in the path",
            ));
        }
        if dividend.status == DividendStatus::Cancelled {
            return Err(fw::ApiError::conflict(
                "the announcement is cancelled already",
            ));
        }
        let patch = DividendPatch {
            status: Some(DividendStatus::Cancelled),
            ..DividendPatch::default()
        };
        Ok(Dividend::patch(tx, dividend.id, patch).await?)
    }
}

/// The rules a dividend entered over HTTP is held to beside its fields' own:
/// the import's, so both ways in agree.
#[derive(Debug)]
pub struct DividendHooks;

impl fw::Hooks<Dividend> for DividendHooks {
    async fn before_create(
        _request: &fw::RequestContext,
        _tx: &mut fw::Tx,
        new: &mut NewDividend,
    ) -> Result<(), fw::ApiError> {
        let problems = dates_out_of_order(
            new.declaration_date,
            new.ex_date,
            new.record_date,
            new.pay_date,
        );
        if problems.is_empty() {
            return Ok(());
        }
        Err(fw::ApiError::Validation {
            errors: problems
                .iter()
                .map(|problem| {
                    let (date, _) = problem.date;
                    fw::FieldError::new(
                        format!("/{}", date.field()),
                        "date_order",
                        problem.to_string(),
                    )
                })
                .collect(),
        })
    }
}

/// What changed on 2026-12-01: the rate per share got its short name, and
/// announcements their status, which operators may now set to cancelled by
/// hand. Clients of 2026-06-01 keep `amount_per_share`, never see a status
/// and have no cancel.
const RATE_AND_STATUS: fw::VersionChange = fw::VersionChange::new(
    "A dividend's `amount_per_share` is called `rate`; dividends carry their `status`, \
     and operators cancel an announcement with `POST /dividends/{id}/cancel`.",
    &[
        fw::Edit::renamed(fw::field!(DividendResource, rate), "amount_per_share"),
        fw::Edit::added(fw::field!(DividendResource, status)),
        fw::Edit::endpoint_added("POST", "/dividends/{id}/cancel"),
    ],
);

/// The API's versions, newest first: what a client names in `Api-Version`.
pub const VERSIONS: fw::Versions = fw::Versions::new(&[
    fw::Version::new(
        "2026-12-01",
        "Rates are `rate`; dividends carry their status and can be cancelled by hand.",
        &[RATE_AND_STATUS],
    ),
    fw::Version::first("2026-06-01", "The first release."),
]);

/// The application's API.
pub fn api() -> fw::Api {
    fw::Api::new("Dividends", env!("CARGO_PKG_VERSION"))
        .resource::<SecurityResource>()
        .resource::<DividendResource>()
        .row_action::<CancelDividend>()
        .resource::<AccountResource>()
        .route_documented(
            crate::upcoming::PATH,
            crate::upcoming::ACCESS,
            crate::upcoming::route(),
            crate::upcoming::operations,
        )
        .versions(VERSIONS)
}
