//! `fw::testing::factory` on the models of the example (references, choices,
//! decimals, dates, patterns, sensitive fields, a unique pair) and of the
//! starter template; `factories_sqlite.rs` and `factories_postgres.rs` run each
//! case on their own database, which has the tables of both applications.

use std::collections::HashSet;

use example_dividends::models::{
    Account, Dividend, DividendKind, DividendStatus, Position, Security,
};
use fw::testing::{TestDb, factory};
use fw::{Db, Model, Ref};
use rust_decimal::Decimal;

async fn with_tables(test_db: TestDb, case: impl AsyncFnOnce(&Db)) {
    let example = example_dividends::app();
    let starter = app::app();
    let mut models: Vec<&'static fw::schema::ModelSchema> = example.models().to_vec();
    for model in starter.models() {
        if !models.iter().any(|known| known.table == model.table) {
            models.push(model);
        }
    }
    fw::testing::create_tables(test_db.db(), &models)
        .await
        .expect("create the tables of both applications");
    case(test_db.db()).await;
}

/// One line makes a valid row of each model, its references included: the
/// rows are stored as returned, and every constraint the database checks
/// held.
async fn a_valid_row_of_every_model_in_one_line(db: &Db) {
    let dividend = factory::<Dividend>().create(db).await;
    assert_eq!(
        Dividend::get(db, dividend.id).await.expect("stored"),
        dividend
    );
    let security = Security::get(db, *dividend.security.key())
        .await
        .expect("the referenced security was created");
    assert_eq!(security.version, 1);

    let position = factory::<Position>().create(db).await;
    Account::get(db, *position.account.key())
        .await
        .expect("the referenced account was created");
    assert_ne!(
        position.security, dividend.security,
        "each row gets its own referenced rows"
    );

    let note = factory::<app::models::Note>().create(db).await;
    assert!(!note.title.is_empty(), "`min_length = 1` holds");
    assert_eq!(note.body, "", "the declared default");
}

/// Declared defaults, the first choice, the lowest valid numbers and dates
/// within the year: values a reader can predict.
async fn values_follow_the_model_s_declaration(db: &Db) {
    let dividend = factory::<Dividend>().create(db).await;
    assert_eq!(dividend.currency, "USD", "`default = \"USD\"`");
    assert_eq!(
        dividend.status,
        DividendStatus::Announced,
        "`default = \"announced\"`"
    );
    assert_eq!(dividend.kind, DividendKind::Regular, "the first choice");
    assert!(dividend.rate > Decimal::ZERO, "`exclusive_min = \"0\"`");
    assert!(
        dividend.declaration_date <= dividend.ex_date && dividend.ex_date <= dividend.pay_date,
        "one date for every date field"
    );
    let security = Security::get(db, *dividend.security.key())
        .await
        .expect("the security");
    assert!(
        security
            .symbol
            .starts_with(|c: char| c.is_ascii_uppercase()),
        "`pattern = \"^[A-Z][A-Z0-9.]{{0,11}}$\"`: {}",
        security.symbol
    );
    assert_eq!(security.cusip.len(), 9, "`min_length = 9, max_length = 9`");

    let account = factory::<Account>().create(db).await;
    let opened = Account::get(db, account.id).await.expect("the account");
    assert_eq!(
        opened.holder_name, account.holder_name,
        "a sensitive field is sealed and opened again"
    );
}

/// Unique fields (and fields of a unique index) differ from row to row, so a
/// test makes as many rows as it needs; here more than the 26 letters a
/// one-character symbol has.
async fn unique_values_differ_row_by_row(db: &Db) {
    let mut symbols = HashSet::new();
    let mut cusips = HashSet::new();
    for _ in 0..40 {
        let security = factory::<Security>().create(db).await;
        assert!(security.symbol.len() <= 12, "{}", security.symbol);
        symbols.insert(security.symbol);
        cusips.insert(security.cusip);
    }
    assert_eq!((symbols.len(), cusips.len()), (40, 40));

    let account = factory::<Account>().create(db).await;
    for _ in 0..3 {
        factory::<Position>()
            .set(Position::ACCOUNT, &account)
            .create(db)
            .await;
    }
    let held = Position::query()
        .filter(Position::ACCOUNT.eq(Ref::from(&account)))
        .all(db)
        .await
        .expect("the account's positions");
    assert_eq!(held.len(), 3, "`unique(account, security)` held");
}

/// Any field can be set, with its own type: a reference by its row, a
/// choice, a decimal, text; what is set is what is stored.
async fn any_field_can_be_set(db: &Db) {
    let security = factory::<Security>()
        .set(Security::SYMBOL, "ACME")
        .set(Security::NAME, "Acme Corporation")
        .create(db)
        .await;
    let rate = Decimal::new(12_345, 4);
    let dividend = factory::<Dividend>()
        .set(Dividend::SECURITY, &security)
        .set(Dividend::RATE, rate)
        .set(Dividend::STATUS, DividendStatus::Cancelled)
        .create(db)
        .await;
    let stored = Dividend::get(db, dividend.id).await.expect("stored");
    assert_eq!(stored.security, Ref::from(&security));
    assert_eq!(stored.rate, rate);
    assert_eq!(stored.status, DividendStatus::Cancelled);
    assert_eq!(
        Security::query().count(db).await.expect("count"),
        1,
        "no security was made for the dividend"
    );
}

fw::testing::database_suite! {
    database: crate::DATABASE,
    run: with_tables,
    cases: [
        a_valid_row_of_every_model_in_one_line,
        values_follow_the_model_s_declaration,
        unique_values_differ_row_by_row,
        any_field_can_be_set,
    ],
}
