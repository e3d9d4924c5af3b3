#![deny(warnings)]
#![deny(missing_docs, missing_debug_implementations, unreachable_pub)]
//! A model using every supported field type and option.

use chrono::{DateTime, NaiveDate, Utc};
use fw::__private::ModelCodegen;
use fw::{Json, Model, Ref};
use rust_decimal::Decimal;
use uuid::Uuid;

/// How far a dividend announcement has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, fw::Choices)]
pub enum DividendStatus {
    /// Announced by the issuer.
    Announced,
    /// Paid out.
    Paid,
}

/// A listed security.
#[fw::model(table = "securities", renamed_from = "old_securities", unique(symbol, cusip), index(listed_on, status))]
#[derive(Clone, PartialEq)]
pub struct Security {
    /// Key.
    pub id: i64,
    /// Ticker.
    #[field(unique, max_length = 12)]
    pub symbol: String,
    /// CUSIP.
    #[field(min_length = 9, max_length = 9, pattern = "^[0-9A-Z]{9}$")]
    pub cusip: String,
    /// Rate.
    #[field(max_digits = 12, decimal_places = 6, min = "0", max = "1000.5")]
    pub rate: Decimal,
    /// The security this one replaced.
    #[field(on_delete = "set_null", index)]
    pub predecessor: Option<Ref<Security>>,
    /// A number.
    #[field(default = 0, min = -5, max = 100)]
    pub n: i32,
    /// A small number.
    #[field(exclusive_min = 0)]
    pub small: i16,
    /// Flag.
    #[field(default = true)]
    pub active: bool,
    /// Secret.
    #[field(sensitive)]
    pub tax_id: String,
    /// Renamed column.
    #[field(column = "name_col", renamed_from = "old_name", default = "unnamed")]
    pub name: String,
    /// Listing date.
    pub listed_on: NaiveDate,
    /// Extra data.
    pub extra: Json<Vec<String>>,
    /// External id.
    pub external_id: Option<Uuid>,
    /// Status.
    pub status: DividendStatus,
    /// Nullable status.
    pub previous_status: Option<DividendStatus>,
    /// Note.
    pub note: Option<String>,
    /// Created.
    #[field(auto_now_add)]
    pub created_at: DateTime<Utc>,
    /// Updated.
    #[field(auto_now)]
    pub updated_at: DateTime<Utc>,
    /// Version.
    #[field(version)]
    pub version: i64,
}

/// A dividend, referencing a security; UUID key.
#[fw::model]
pub struct Dividend {
    /// Key.
    pub id: Uuid,
    /// The paying security.
    #[field(on_delete = "cascade")]
    pub security: Ref<Security>,
    /// A holder, referencing a model with a supplied key.
    pub currency: Option<Ref<Currency>>,
}

/// A currency with a supplied text key.
#[fw::model]
pub struct Currency {
    /// ISO code.
    #[field(primary_key, max_length = 3)]
    pub code: String,
    /// Dividends in this currency reference back here: models may reference each other.
    pub example: Option<Ref<Dividend>>,
}

mod private {
    // A private model in a private module: nothing unused may warn.
    #[fw::model]
    struct Token {
        id: i32,
        value: String,
    }
}

fn main() {
    let schema = Security::SCHEMA;
    assert_eq!(schema.name, "Security");
    assert_eq!(schema.table, "securities");
    assert_eq!(schema.renamed_from, Some("old_securities"));
    assert_eq!(schema.fields.len(), 19);
    assert_eq!(schema.indexes.len(), 2);
    assert_eq!(schema.indexes[0].name, fw::schema::unique_constraint_name("securities", &["symbol", "cusip"]));
    assert_eq!(schema.indexes[1].name, fw::schema::index_name("securities", &["listed_on", "status"]));
    assert_eq!(schema.primary_key().name, "id");
    assert_eq!(schema.primary_key().generated, fw::schema::Generated::AutoIncrement);
    let name = schema.field("name").unwrap();
    assert_eq!((name.column, name.renamed_from), ("name_col", Some("old_name")));
    assert_eq!(name.default, Some(fw::schema::DefaultValue::Text("unnamed")));
    let predecessor = schema.field("predecessor").unwrap();
    assert!(predecessor.nullable && predecessor.index);
    assert_eq!(
        predecessor.foreign_key,
        Some(fw::schema::ForeignKeySchema { table: "securities", column: "id", on_delete: fw::schema::OnDelete::SetNull })
    );
    use fw::schema::{Constraint, Constraints};
    assert_eq!(schema.field("status").unwrap().constraints.choices(), ["announced", "paid"]);
    assert_eq!(schema.field("previous_status").unwrap().constraints.choices(), ["announced", "paid"]);
    assert_eq!(
        schema.field("rate").unwrap().constraints,
        [Constraint::Minimum("0"), Constraint::Maximum("1000.5"), Constraint::MaxDigits(12), Constraint::DecimalPlaces(6)]
    );
    assert_eq!(schema.field("n").unwrap().constraints, [Constraint::Minimum("-5"), Constraint::Maximum("100")]);
    assert_eq!(schema.field("small").unwrap().constraints, [Constraint::ExclusiveMinimum("0")]);
    assert_eq!(
        schema.field("cusip").unwrap().constraints,
        [Constraint::MaxLength(9), Constraint::MinLength(9), Constraint::Pattern("^[0-9A-Z]{9}$")]
    );
    assert_eq!(schema.version_field().map(|field| field.name), Some("version"));
    assert_eq!(Dividend::SCHEMA.primary_key().generated, fw::schema::Generated::AutoUuid);
    assert_eq!(Currency::SCHEMA.primary_key().generated, fw::schema::Generated::No);
    assert_eq!(Currency::PRIMARY_KEY_COLUMN, "code");

    // The typed query API.
    let _ = Security::query()
        .filter(Security::SYMBOL.eq("X"))
        .filter(Security::RATE.gte(Decimal::ONE).and(Security::NOTE.is_null(true)))
        .filter(Security::STATUS.is_in([DividendStatus::Announced]))
        .filter(Security::PREDECESSOR.eq(Ref::<Security>::new(1)))
        .order_by(Security::LISTED_ON.desc())
        .limit(10);
    let _ = Dividend::query().filter(Dividend::SECURITY.eq(Ref::new(7)));
    assert_eq!(Security::CUSIP.schema().constraints.max_length(), Some(9));

    // New and Patch.
    let new = NewSecurity {
        symbol: "ACME".into(),
        cusip: "123456789".into(),
        rate: Decimal::ONE,
        predecessor: None,
        n: 1,
        small: 2,
        active: true,
        tax_id: "999-00-1111".into(),
        name: "Acme".into(),
        listed_on: NaiveDate::from_ymd_opt(2024, 1, 2).unwrap(),
        extra: Json(vec![]),
        external_id: None,
        status: DividendStatus::Announced,
        previous_status: None,
        note: None,
    };
    let debug = format!("{new:?}");
    assert!(debug.contains("tax_id: <redacted>") && !debug.contains("1111"), "{debug}");
    let patch = SecurityPatch { tax_id: Some("secret".into()), note: Some(None), ..Default::default() };
    let debug = format!("{patch:?}");
    assert!(debug.contains("tax_id: Some(<redacted>)") && !debug.contains("secret"), "{debug}");
    assert_eq!(Security::patch_values(&patch).len(), 2);
    assert_eq!(Security::new_values(&new).len(), 15);
    let _ = NewDividend { security: Ref::new(1), currency: Some(Ref::new("USD".to_owned())) };
    let _ = CurrencyPatch { example: None };
}
