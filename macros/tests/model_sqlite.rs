//! The generated SQL, binds and decoding, run against SQLite through fw's runtime:
//! insert, get, update (optimistic), patch, query, delete.

use chrono::{DateTime, Utc};
use fw::{Model, Ref};
use rust_decimal::Decimal;
use uuid::Uuid;

/// How far a dividend has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, fw::Choices)]
pub enum DividendStatus {
    /// Announced.
    Announced,
    /// Paid.
    PaidOut,
}

/// A security.
#[fw::model(table = "securities", unique(symbol, exchange))]
#[derive(Clone, PartialEq)]
pub struct Security {
    /// Key.
    pub id: i64,
    /// Ticker.
    #[field(max_length = 12)]
    pub symbol: String,
    /// Exchange.
    #[field(column = "exchange_code")]
    pub exchange: String,
    /// Rate.
    #[field(max_digits = 12, decimal_places = 6)]
    pub rate: Decimal,
    /// Status.
    pub status: DividendStatus,
    /// Secret.
    #[field(sensitive)]
    pub tax_id: String,
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

/// A dividend with a UUID key.
#[fw::model]
pub struct Dividend {
    /// Key.
    pub id: Uuid,
    /// Paying security.
    #[field(on_delete = "cascade")]
    pub security: Ref<Security>,
    /// Amount.
    pub amount: Decimal,
}

const DDL: &str = r#"
CREATE TABLE "securities" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT,
    "symbol" TEXT NOT NULL,
    "exchange_code" TEXT NOT NULL,
    "rate" TEXT NOT NULL,
    "status" TEXT NOT NULL CHECK ("status" IN ('announced', 'paid_out')),
    "tax_id" TEXT NOT NULL,
    "note" TEXT,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    CONSTRAINT "securities_symbol_exchange_code_key" UNIQUE ("symbol", "exchange_code")
);
CREATE TABLE "dividend" (
    "id" TEXT PRIMARY KEY,
    "security_id" INTEGER NOT NULL REFERENCES "securities" ("id") ON DELETE CASCADE,
    "amount" TEXT NOT NULL
);
"#;

fn new_security(symbol: &str) -> NewSecurity {
    NewSecurity {
        symbol: symbol.to_owned(),
        exchange: "XNYS".to_owned(),
        rate: Decimal::new(125, 2),
        status: DividendStatus::Announced,
        tax_id: "999-00-1111".to_owned(),
        note: None,
    }
}

#[tokio::test]
async fn round_trip_on_sqlite() -> fw::Result<()> {
    let test_db = fw::testing::TestDb::sqlite().await;
    let db = test_db.db();
    db.execute_raw(DDL).await?;

    let acme = Security::insert(db, new_security("ACME")).await?;
    assert_eq!(acme.id, 1);
    assert_eq!(acme.version, 1);
    assert_eq!(acme.rate, Decimal::new(125, 2));
    assert_eq!(acme.created_at, acme.updated_at);
    assert!(!format!("{acme:?}").contains("1111"));
    assert_eq!(Security::get(db, acme.id).await?, acme);

    let mut changed = acme.clone();
    changed.note = Some("split 2:1".to_owned());
    changed.status = DividendStatus::PaidOut;
    let updated = changed.update(db).await?;
    assert_eq!(updated.version, 2);
    assert_eq!(updated.note.as_deref(), Some("split 2:1"));
    assert_eq!(updated.created_at, acme.created_at);
    // `acme` still has version 1: a stale write.
    assert!(matches!(
        acme.update(db).await,
        Err(fw::Error::StaleVersion { .. })
    ));

    let patched = Security::patch(
        db,
        acme.id,
        SecurityPatch {
            rate: Some(Decimal::new(2, 0)),
            note: Some(None),
            ..Default::default()
        },
    )
    .await?;
    assert_eq!(
        (patched.version, patched.rate, &patched.note),
        (3, Decimal::new(2, 0), &None)
    );

    let duplicate = Security::insert(db, new_security("ACME")).await;
    match duplicate {
        Err(fw::Error::UniqueViolation { fields, .. }) => {
            assert_eq!(fields, ["symbol", "exchange"])
        }
        other => panic!("expected a unique violation, got {other:?}"),
    }

    Security::insert(db, new_security("BETA")).await?;
    let paid = Security::query()
        .filter(Security::STATUS.eq(DividendStatus::PaidOut))
        .all(db)
        .await?;
    assert_eq!(paid.len(), 1);
    let by_symbol = Security::query()
        .filter(Security::SYMBOL.starts_with("BE"))
        .order_by(Security::SYMBOL.desc())
        .all(db)
        .await?;
    assert_eq!(
        by_symbol
            .iter()
            .map(|row| row.symbol.as_str())
            .collect::<Vec<_>>(),
        ["BETA"]
    );

    let dividend = Dividend::insert(
        db,
        NewDividend {
            security: Ref::from(&patched),
            amount: Decimal::new(42, 2),
        },
    )
    .await?;
    assert_eq!(dividend.id.get_version_num(), 7);
    let of_acme = Dividend::query()
        .filter(Dividend::SECURITY.eq(Ref::<Security>::new(acme.id)))
        .all(db)
        .await?;
    assert_eq!(of_acme.len(), 1);

    Security::delete(db, acme.id).await?;
    assert!(Dividend::find(db, dividend.id).await?.is_none());
    assert!(matches!(
        Security::delete(db, acme.id).await,
        Err(fw::Error::NotFound { .. })
    ));
    Ok(())
}
