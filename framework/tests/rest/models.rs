//! Models and resources shared by the HTTP test suites.

use chrono::{DateTime, NaiveDate, Utc};
use fw::{ApiError, Filter, Hooks, Model, Ref, RequestContext, Tx};
use rust_decimal::Decimal;

#[derive(Clone, PartialEq)]
#[fw::model]
pub(crate) struct Security {
    pub(crate) id: i64,
    #[field(unique, max_length = 12, pattern = "^[A-Z][A-Z0-9.]{0,11}$")]
    pub(crate) symbol: String,
    #[field(max_length = 40)]
    pub(crate) name: String,
    pub(crate) note: Option<String>,
    #[field(auto_now_add)]
    pub(crate) created_at: DateTime<Utc>,
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
#[fw::model]
pub(crate) struct Dividend {
    pub(crate) id: i64,
    #[field(on_delete = "restrict")]
    pub(crate) security: Ref<Security>,
    pub(crate) ex_date: NaiveDate,
    pub(crate) pay_date: NaiveDate,
    pub(crate) record_date: Option<NaiveDate>,
    #[field(max_digits = 18, decimal_places = 8, min = "0")]
    pub(crate) rate: Decimal,
    #[field(default = "announced")]
    pub(crate) status: DividendStatus,
    #[field(version)]
    pub(crate) version: i64,
}

#[derive(Clone, PartialEq)]
#[fw::model]
pub(crate) struct Note {
    pub(crate) id: i64,
    #[field(max_length = 20)]
    pub(crate) owner: String,
    #[field(min_length = 1, max_length = 200)]
    pub(crate) text: String,
    #[field(version)]
    pub(crate) version: i64,
}

/// A draft its author alone may see and change: the owner-only scope on the
/// authenticated caller.
#[derive(Clone, PartialEq)]
#[fw::model]
pub(crate) struct Draft {
    pub(crate) id: i64,
    /// Set to the caller's user id on create, whatever the body says.
    #[field(default = 0)]
    pub(crate) owner: i64,
    #[field(min_length = 1, max_length = 200)]
    pub(crate) text: String,
    #[field(version)]
    pub(crate) version: i64,
}

/// What hooks did, written in the same transaction as the change.
#[derive(Clone, PartialEq)]
#[fw::model]
pub(crate) struct Audit {
    pub(crate) id: i64,
    #[field(max_length = 100)]
    pub(crate) entry: String,
}

/// A watchlist entry, whose resources state no field the model states.
#[derive(Clone, PartialEq)]
#[fw::model]
pub(crate) struct Watch {
    pub(crate) id: i64,
    /// The watched ticker.
    #[field(max_length = 12)]
    pub(crate) symbol: String,
    /// The price that raises an alert. Its column is `alert_price`: the
    /// column's name is not the API's.
    #[field(column = "alert_price", max_digits = 18, decimal_places = 8, min = "0")]
    pub(crate) target: Option<Decimal>,
    /// Whether alerts are on.
    #[field(default = true)]
    pub(crate) active: bool,
    /// Where the entry sorts among the owner's.
    #[field(default = 1)]
    pub(crate) rank: i32,
    #[field(version)]
    pub(crate) version: i64,
}

/// Every field of a watch, none restated: the key and the version are
/// read-only as fw fills them.
#[fw::resource(
    model = Watch,
    path = "/watches",
    fields = all,
    actions(list, retrieve, create, update, partial_update),
    permissions(model),
    filter(target(isnull, gte)),
    ordering(target, rank)
)]
pub(crate) struct WatchResource;

/// Some fields of a watch, one under a name of its own: a create gives the
/// others their defaults.
#[fw::resource(
    model = Watch,
    path = "/watch-summaries",
    fields(id, symbol, active),
    actions(retrieve, create, update),
    permissions(model)
)]
pub(crate) struct WatchSummaryResource {
    /// The watched ticker.
    #[field(rename = "ticker")]
    pub(crate) symbol: String,
}

/// How a payment was made, as the API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, fw::Choices)]
pub(crate) enum PaymentKind {
    Card,
    Transfer,
    /// Imported from the old system, which the API never writes.
    Legacy,
}

/// The old system's codes, which the table keeps: any other is `Legacy`.
impl From<i16> for PaymentKind {
    fn from(code: i16) -> PaymentKind {
        match code {
            1 => PaymentKind::Card,
            2 => PaymentKind::Transfer,
            _ => PaymentKind::Legacy,
        }
    }
}

impl TryFrom<PaymentKind> for i16 {
    type Error = &'static str;

    fn try_from(kind: PaymentKind) -> Result<i16, &'static str> {
        match kind {
            PaymentKind::Card => Ok(1),
            PaymentKind::Transfer => Ok(2),
            PaymentKind::Legacy => Err("`legacy` payments come from the old system only"),
        }
    }
}

#[derive(Clone, PartialEq)]
#[fw::model]
pub(crate) struct Payment {
    pub(crate) id: i64,
    #[field(max_digits = 12, decimal_places = 2, min = "0")]
    pub(crate) amount: Decimal,
    /// The old system's code for how it was paid.
    #[field(min = 1, max = 9)]
    pub(crate) kind: i16,
    /// How many instalments it is paid in: shown as `i64`, stored as `i32`.
    #[field(default = 1)]
    pub(crate) instalments: i32,
    pub(crate) due_on: NaiveDate,
    pub(crate) paid_on: Option<NaiveDate>,
    #[field(version)]
    pub(crate) version: i64,
}

/// Days between the due date and the payment; `null` while unpaid.
pub(crate) fn days_late(payment: &Payment) -> Option<i64> {
    payment
        .paid_on
        .map(|paid_on| (paid_on - payment.due_on).num_days())
}

/// The amount in words a statement prints, computed in the resource.
pub(crate) fn amount_label(payment: &Payment) -> String {
    format!("{} due {}", payment.amount, payment.due_on)
}

/// A payment, with a kind of the API's own and what is computed from it.
#[fw::resource(
    model = Payment,
    path = "/payments",
    fields = all,
    actions(list, retrieve, create, update, partial_update),
    permissions(model),
    filter(due_on(gte)),
    ordering(kind, due_on),
    default_ordering = "kind"
)]
pub(crate) struct PaymentResource {
    /// How it was paid.
    pub(crate) kind: PaymentKind,
    #[field(rename = "instalmentCount")]
    pub(crate) instalments: i64,
    /// Days between the due date and the payment; `null` while unpaid.
    #[field(computed = days_late)]
    pub(crate) days_late: Option<i64>,
    #[field(computed = amount_label, rename = "label")]
    pub(crate) amount_label: String,
}

/// The payments written out in full, the due date under another name.
#[fw::resource(
    model = Payment,
    path = "/payment-dates",
    actions(retrieve),
    permissions(model)
)]
pub(crate) struct PaymentDateResource {
    pub(crate) id: i64,
    #[field(rename = "due")]
    pub(crate) due_on: NaiveDate,
    /// Days between the due date and the payment; `null` while unpaid.
    #[field(computed = days_late)]
    pub(crate) days_late: Option<i64>,
}

pub(crate) fn all() -> [&'static fw::schema::ModelSchema; 13] {
    let [idempotency_keys] = fw::idempotency::tables();
    let [changes, change_counter, change_draws] = fw::changes::tables();
    [
        changes,
        change_counter,
        change_draws,
        Security::SCHEMA,
        Dividend::SCHEMA,
        Note::SCHEMA,
        Draft::SCHEMA,
        Audit::SCHEMA,
        Holder::SCHEMA,
        Watch::SCHEMA,
        Payment::SCHEMA,
        fw::sensitive::SensitiveRead::SCHEMA,
        idempotency_keys,
    ]
}

/// An account holder, with personal data: a name and a tax id (searchable
/// by exact value).
#[derive(Clone, PartialEq)]
#[fw::model(changelog)]
pub(crate) struct Holder {
    pub(crate) id: i64,
    #[field(max_length = 30)]
    pub(crate) branch: String,
    #[field(sensitive, max_length = 100)]
    pub(crate) name: String,
    #[field(
        sensitive(searchable),
        unique,
        max_length = 11,
        pattern = "^[0-9]{3}-[0-9]{2}-[0-9]{4}$"
    )]
    pub(crate) tax_id: Option<String>,
    #[field(version)]
    pub(crate) version: i64,
}

/// Holders: support sees the branch; the name and the tax id each need their
/// own permission.
#[fw::resource(
    model = Holder,
    path = "/holders",
    actions(list, retrieve, create, update, partial_update, history),
    permissions(authenticated),
    read_only(id, version),
    filter(branch, tax_id(exact, in))
)]
pub(crate) struct HolderResource {
    pub(crate) id: i64,
    pub(crate) branch: String,
    #[field(reveal = "view_holder_name")]
    pub(crate) name: String,
    #[field(reveal = "view_holder_tax_id")]
    pub(crate) tax_id: Option<String>,
    pub(crate) version: i64,
}

/// A listed security.
#[fw::resource(
    model = Security,
    path = "/securities",
    actions(list, retrieve, create, update, partial_update, destroy),
    permissions(model),
    read_only(id, version, created_at),
    filter(symbol(exact, in, startswith), name(contains, icontains), note(isnull)),
    search(symbol, name),
    ordering(symbol, name),
    default_ordering = "symbol",
    page_size = 2,
    max_page_size = 3,
    hooks = SecurityHooks
)]
pub(crate) struct SecurityResource {
    pub(crate) id: i64,
    /// Ticker symbol.
    pub(crate) symbol: String,
    #[field(rename = "issuer")]
    pub(crate) name: String,
    pub(crate) note: Option<String>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) version: i64,
}

pub(crate) struct SecurityHooks;

impl Hooks<Security> for SecurityHooks {
    async fn before_create(
        _request: &RequestContext,
        _tx: &mut Tx,
        new: &mut NewSecurity,
    ) -> Result<(), ApiError> {
        if new.name == new.symbol {
            return Err(ApiError::invalid(
                "/issuer",
                "same_as_symbol",
                "the issuer name must differ from the symbol",
            ));
        }
        new.name = new.name.trim().to_owned();
        Ok(())
    }

    async fn after_create(
        _request: &RequestContext,
        tx: &mut Tx,
        row: &Security,
    ) -> Result<(), ApiError> {
        Audit::insert(
            tx,
            NewAudit {
                entry: format!("created {}", row.symbol),
            },
        )
        .await?;
        Ok(())
    }

    /// Fails after the row was written, as a server fault would: the write
    /// rolls back.
    async fn after_update(
        _request: &RequestContext,
        _tx: &mut Tx,
        row: &Security,
    ) -> Result<(), ApiError> {
        if row.note.as_deref() == Some("fault") {
            return Err(ApiError::internal("a fault the tests inject"));
        }
        Ok(())
    }

    async fn before_delete(
        _request: &RequestContext,
        _tx: &mut Tx,
        current: &Security,
    ) -> Result<(), ApiError> {
        if current.symbol == "LOCKED" {
            return Err(ApiError::Forbidden {
                detail: "`LOCKED` cannot be deleted".to_owned(),
            });
        }
        Ok(())
    }

    async fn after_delete(
        _request: &RequestContext,
        tx: &mut Tx,
        deleted: &Security,
    ) -> Result<(), ApiError> {
        Audit::insert(
            tx,
            NewAudit {
                entry: format!("deleted {}", deleted.symbol),
            },
        )
        .await?;
        Ok(())
    }
}

/// A dividend announcement.
#[fw::resource(
    model = Dividend,
    path = "/dividends",
    actions(list, retrieve, create, update, partial_update, destroy),
    permissions(model, destroy = "purge_dividends"),
    read_only(id, version),
    filter(
        security(exact, in),
        ex_date(exact, gt, gte, lt, lte),
        record_date(isnull, gte),
        rate(gte, lte),
        status(exact, in),
        symbol = security.symbol(exact, in, startswith),
        security_note = security.note(isnull)
    ),
    ordering(ex_date, pay_date, rate),
    default_ordering = "-ex_date",
    page_size = 2,
    max_page_size = 10
)]
pub(crate) struct DividendResource {
    pub(crate) id: i64,
    pub(crate) security: Ref<Security>,
    pub(crate) ex_date: NaiveDate,
    pub(crate) pay_date: NaiveDate,
    pub(crate) record_date: Option<NaiveDate>,
    pub(crate) rate: Decimal,
    pub(crate) status: DividendStatus,
    pub(crate) version: i64,
}

/// `POST /dividends/{id}/cancel`: no body.
pub(crate) struct Cancel;

impl fw::RowAction for Cancel {
    type Resource = DividendResource;
    type Body = ();
    const NAME: &'static str = "cancel";
    const SUMMARY: &'static str = "Cancel a dividend";
    const ACCESS: fw::Access = fw::Access::Permission("cancel_dividend");

    async fn run(
        _request: &RequestContext,
        tx: &mut Tx,
        dividend: Dividend,
        _body: (),
    ) -> Result<Dividend, ApiError> {
        if dividend.status == DividendStatus::Cancelled {
            return Err(ApiError::conflict("the dividend is already cancelled"));
        }
        let patch = DividendPatch {
            status: Some(DividendStatus::Cancelled),
            ..Default::default()
        };
        Ok(Dividend::patch(tx, dividend.id, patch).await?)
    }
}

/// A later pay date, and why.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Postponement {
    /// The new pay date, not before the ex-date.
    #[schema(value_type = String, format = Date)]
    pub(crate) pay_date: NaiveDate,
    /// Why, for the holders.
    #[schema(min_length = 1, max_length = 40, pattern = "^[^<>]*$")]
    pub(crate) reason: String,
    /// Labels for the back office.
    #[expect(dead_code, reason = "only its bounds are tested")]
    #[serde(default)]
    #[schema(max_items = 3)]
    pub(crate) labels: Vec<String>,
    /// How many days late the issuer said it would be.
    #[expect(dead_code, reason = "only its bounds are tested")]
    #[serde(default)]
    #[schema(minimum = 1, maximum = 365)]
    pub(crate) days: Option<i32>,
}

impl fw::Validate for Postponement {
    fn validate(&self) -> Vec<fw::FieldError> {
        if self.reason.trim().is_empty() {
            return vec![fw::FieldError::new(
                "/reason",
                "blank",
                "must say something besides spaces",
            )];
        }
        Vec::new()
    }
}

/// `POST /dividends/{id}/postpone`: a body, and a rule on the row.
pub(crate) struct Postpone;

impl fw::RowAction for Postpone {
    type Resource = DividendResource;
    type Body = Postponement;
    const NAME: &'static str = "postpone";
    const SUMMARY: &'static str = "Postpone a dividend's payment";
    const ACCESS: fw::Access = fw::Access::Permission("change_dividend");

    async fn run(
        _request: &RequestContext,
        tx: &mut Tx,
        dividend: Dividend,
        postponement: Postponement,
    ) -> Result<Dividend, ApiError> {
        if postponement.pay_date < dividend.ex_date {
            return Err(ApiError::invalid(
                "/pay_date",
                "before_ex_date",
                "must not be before the ex-date",
            ));
        }
        let patch = DividendPatch {
            pay_date: Some(postponement.pay_date),
            status: Some(DividendStatus::Changed),
            ..Default::default()
        };
        Ok(Dividend::patch(tx, dividend.id, patch).await?)
    }
}

/// `POST /dividends/{id}/misbehave`: writes, then fails with a status it
/// does not declare.
pub(crate) struct Misbehave;

impl fw::RowAction for Misbehave {
    type Resource = DividendResource;
    type Body = ();
    const NAME: &'static str = "misbehave";
    const SUMMARY: &'static str = "Fail after writing";
    const ACCESS: fw::Access = fw::Access::Permission("change_dividend");

    async fn run(
        _request: &RequestContext,
        tx: &mut Tx,
        dividend: Dividend,
        _body: (),
    ) -> Result<Dividend, ApiError> {
        let patch = DividendPatch {
            status: Some(DividendStatus::Changed),
            ..Default::default()
        };
        Dividend::patch(tx, dividend.id, patch).await?;
        Err(ApiError::UnsupportedMediaType)
    }
}

/// Which security's announced dividends to cancel.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SecurityCancellation {
    /// The security.
    #[schema(minimum = 1)]
    pub(crate) security: i64,
}

impl fw::Validate for SecurityCancellation {}

/// How many rows an action changed.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Changed {
    /// The rows changed.
    pub(crate) changed: usize,
}

/// `POST /dividends/cancel-security`: on the collection, declaring a status
/// of its own.
pub(crate) struct CancelSecurity;

impl fw::CollectionAction for CancelSecurity {
    type Resource = DividendResource;
    type Body = SecurityCancellation;
    type Output = Changed;
    const NAME: &'static str = "cancel-security";
    const SUMMARY: &'static str = "Cancel a security's announced dividends";
    const ACCESS: fw::Access = fw::Access::Permission("cancel_dividend");
    const ERRORS: &'static [axum::http::StatusCode] = &[axum::http::StatusCode::GONE];

    async fn run(
        _request: &RequestContext,
        tx: &mut Tx,
        body: SecurityCancellation,
    ) -> Result<Changed, ApiError> {
        let announced = Dividend::query()
            .filter(Dividend::SECURITY.eq(Ref::new(body.security)))
            .filter(Dividend::STATUS.eq(DividendStatus::Announced))
            .for_update()
            .all(&mut *tx)
            .await?;
        if announced.is_empty() {
            return Err(ApiError::refused(
                axum::http::StatusCode::GONE,
                "the security has no announced dividends",
            ));
        }
        for dividend in &announced {
            let patch = DividendPatch {
                status: Some(DividendStatus::Cancelled),
                ..Default::default()
            };
            Dividend::patch(&mut *tx, dividend.id, patch).await?;
        }
        Ok(Changed {
            changed: announced.len(),
        })
    }
}

/// A note visible only to its owner (the `X-Owner` header).
#[fw::resource(
    model = Note,
    path = "/notes",
    actions(list, retrieve, create, partial_update, destroy),
    permissions(authenticated),
    read_only(id, version),
    scope = own_notes
)]
pub(crate) struct NoteResource {
    pub(crate) id: i64,
    pub(crate) owner: String,
    pub(crate) text: String,
    pub(crate) version: i64,
}

fn own_notes(request: &RequestContext) -> Result<Filter<Note>, ApiError> {
    let owner = request.header("x-owner").ok_or(ApiError::Unauthenticated {
        challenge: "X-Owner".to_owned(),
    })?;
    Ok(Note::OWNER.eq(owner.to_owned()))
}

/// A draft of the caller's own.
#[fw::resource(
    model = Draft,
    path = "/drafts",
    actions(list, retrieve, create, partial_update, destroy),
    permissions(authenticated),
    read_only(id, version),
    create_only(owner),
    scope = own_drafts,
    hooks = DraftHooks
)]
pub(crate) struct DraftResource {
    pub(crate) id: i64,
    pub(crate) owner: i64,
    pub(crate) text: String,
    pub(crate) version: i64,
}

/// Owner only: every read and write of a draft is restricted to the caller's
/// rows, so another user's draft is a 404, as if it did not exist.
fn own_drafts(request: &RequestContext) -> Result<Filter<Draft>, ApiError> {
    Ok(Draft::OWNER.eq(request.caller.user()?.user_id))
}

pub(crate) struct DraftHooks;

impl Hooks<Draft> for DraftHooks {
    /// A new draft is the caller's.
    async fn before_create(
        request: &RequestContext,
        _tx: &mut Tx,
        new: &mut NewDraft,
    ) -> Result<(), ApiError> {
        new.owner = request.caller.user()?.user_id;
        Ok(())
    }
}

/// The public face of the securities: anyone may read them.
#[fw::resource(
    model = Security,
    path = "/listings",
    actions(list, retrieve),
    permissions(public),
    read_only(id)
)]
pub(crate) struct ListingResource {
    pub(crate) id: i64,
    pub(crate) symbol: String,
}

/// The API under test, with plain handlers beside the resources.
pub(crate) fn api() -> fw::Api {
    use axum::routing::get;
    fw::Api::new("Test API", "1.0.0")
        .resource::<SecurityResource>()
        .resource::<DividendResource>()
        .resource::<NoteResource>()
        .resource::<DraftResource>()
        .resource::<ListingResource>()
        .resource::<HolderResource>()
        .resource::<WatchResource>()
        .resource::<WatchSummaryResource>()
        .resource::<PaymentResource>()
        .resource::<PaymentDateResource>()
        .row_action::<Cancel>()
        .row_action::<Postpone>()
        .row_action::<Misbehave>()
        .collection_action::<CancelSecurity>()
        .route(
            "/health",
            fw::Access::Public,
            get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
            || serde_json::json!({"get": {"summary": "Health check", "responses": {"200": {"description": "Healthy."}}}}),
        )
        .route(
            "/audit",
            fw::Access::Permission("view_audit"),
            get(|| async { axum::Json(serde_json::json!({"entries": []})) }),
            || serde_json::json!({"get": {"summary": "The audit trail", "responses": {"200": {"description": "The entries."}}}}),
        )
}
