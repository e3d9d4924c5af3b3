//! The data a fresh installation starts with, so `cargo run -p example-dividends`
//! shows something with no set-up: the bundled sample days from the clearing firm
//! and a demo customer account holding some of those securities.

use std::path::Path;

use fw::{Db, Model, Ref};
use rust_decimal::Decimal;

use crate::import::{ImportOptions, import_file};
use crate::models::{Account, NewAccount, NewPosition, Security};

/// The sample files, in the order the clearing firm delivered them.
const SAMPLE_DAYS: [&str; 2] = ["2026-03-16-normal.txt", "2026-03-17-corrections.txt"];

/// The demo account's number (account numbers are unique).
pub const DEMO_ACCOUNT_NUMBER: &str = "DEMO-0001";

/// Shares the demo account holds, by symbol.
const DEMO_HOLDINGS: [(&str, &str); 4] = [
    ("AAPL", "120"),
    ("MSFT", "35.5"),
    ("KO", "200"),
    ("ENB", "80"),
];

/// Loads the sample days and the demo account into an empty database; does
/// nothing when the database already has securities.
///
/// # Errors
///
/// When a sample file does not import or a row cannot be written.
pub async fn load_if_empty(db: &Db) -> anyhow::Result<()> {
    // The change log says who wrote these rows.
    fw::changes::with_actor(Some(ACTOR.to_owned()), None, load(db)).await
}

/// The change log's actor for the sample data.
pub const ACTOR: &str = "sample-data";

async fn load(db: &Db) -> anyhow::Result<()> {
    if Security::query().exists(db).await? {
        return Ok(());
    }
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    for day in SAMPLE_DAYS {
        let summary = import_file(db, &samples.join(day), ImportOptions::default()).await?;
        tracing::info!(
            file = day,
            new = summary.new,
            updated = summary.updated,
            cancelled = summary.cancelled,
            unchanged = summary.unchanged,
            "imported a sample file"
        );
    }
    let mut tx = db.begin().await?;
    let account = Account::insert(
        &mut tx,
        NewAccount {
            number: DEMO_ACCOUNT_NUMBER.to_owned(),
            holder_name: "Ada Lovelace".to_owned(),
            tax_id: "000-00-0000".to_owned(),
        },
    )
    .await?;
    for (symbol, quantity) in DEMO_HOLDINGS {
        let Some(security) = Security::query()
            .filter(Security::SYMBOL.eq(symbol))
            .first(&mut tx)
            .await?
        else {
            anyhow::bail!("the sample files have no security `{symbol}`");
        };
        crate::models::Position::insert(
            &mut tx,
            NewPosition {
                account: Ref::from(&account),
                security: Ref::from(&security),
                quantity: Decimal::from_str_exact(quantity)?,
                as_of: chrono::NaiveDate::from_ymd_opt(2026, 3, 17)
                    .ok_or_else(|| anyhow::anyhow!("invalid as-of date"))?,
            },
        )
        .await?;
    }
    tx.commit().await?;
    tracing::info!(
        account = %account.id,
        number = DEMO_ACCOUNT_NUMBER,
        "created the demo account"
    );
    Ok(())
}
