//! Backend-agnostic cases for the typed query API; `db_sqlite.rs` and
//! `db_postgres.rs` run each of them against their own database.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Arc;

use chrono::NaiveDate;
use fw::{Db, Error, Filter, Json, Model, Ref};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::models::*;

fn date(text: &str) -> NaiveDate {
    NaiveDate::from_str(text).expect("test dates are valid")
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).expect("test decimals are valid")
}

fn new_security(symbol: &str, cusip: &str) -> NewSecurity {
    NewSecurity {
        symbol: symbol.to_owned(),
        cusip: cusip.to_owned(),
        name: format!("{symbol} Corp"),
    }
}

async fn security(db: &Db, symbol: &str, cusip: &str) -> Security {
    Security::insert(db, new_security(symbol, cusip))
        .await
        .expect("insert security")
}

fn new_dividend(security: &Security, ex_date: &str, rate: &str) -> NewDividend {
    NewDividend {
        security: Ref::from(security),
        ex_date: date(ex_date),
        pay_date: date(ex_date) + chrono::Duration::days(14),
        record_date: None,
        rate: dec(rate),
        currency: "USD".to_owned(),
        status: DividendStatus::Announced,
    }
}

fn new_account(tax_id: &str) -> NewAccount {
    NewAccount {
        holder_name: "Ada Lovelace".to_owned(),
        tax_id: tax_id.to_owned(),
        active: true,
        settings: Json(serde_json::json!({"statements": "email"})),
        risk_score: Some(40),
    }
}

pub(crate) async fn insert_returns_the_stored_row(db: &Db) {
    let inserted = security(db, "ACME", "000000001").await;
    assert!(inserted.id > 0);
    assert_eq!(inserted.version, 1);
    assert_eq!(inserted.created_at, inserted.updated_at);
    let fetched = Security::get(db, inserted.id).await.expect("get");
    assert!(fetched == inserted, "a row reads back exactly as stored");
}

pub(crate) async fn get_of_a_missing_key_is_not_found(db: &Db) {
    let error = Security::get(db, 404).await.expect_err("no such row");
    assert!(
        matches!(error, Error::NotFound { model: "Security" }),
        "{error:?}"
    );
    assert!(Security::find(db, 404).await.expect("find").is_none());
}

pub(crate) async fn update_bumps_the_version_and_refuses_a_stale_copy(db: &Db) {
    let original = security(db, "ACME", "000000001").await;
    let mut renamed = original.clone();
    renamed.name = "Acme Holdings".to_owned();
    let updated = renamed.update(db).await.expect("update");
    assert_eq!(updated.version, 2);
    assert_eq!(updated.name, "Acme Holdings");
    assert_eq!(updated.created_at, original.created_at);
    assert!(updated.updated_at >= original.updated_at);

    let mut stale = original.clone();
    stale.name = "Lost update".to_owned();
    let error = stale.update(db).await.expect_err("stale version");
    assert!(
        matches!(
            error,
            Error::StaleVersion {
                model: "Security",
                expected: 1
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        Security::get(db, original.id).await.expect("get").name,
        "Acme Holdings"
    );
}

pub(crate) async fn patch_changes_only_the_given_fields(db: &Db) {
    let original = security(db, "ACME", "000000001").await;
    let patched = Security::patch(
        db,
        original.id,
        SecurityPatch {
            name: Some("Acme Holdings".to_owned()),
            ..SecurityPatch::default()
        },
    )
    .await
    .expect("patch");
    assert_eq!(patched.name, "Acme Holdings");
    assert_eq!(patched.symbol, "ACME");
    assert_eq!(patched.version, 2);

    let error = Security::patch_if_version(
        db,
        original.id,
        1,
        SecurityPatch {
            symbol: Some("ACM".to_owned()),
            ..SecurityPatch::default()
        },
    )
    .await
    .expect_err("version 1 is stale");
    assert!(
        matches!(error, Error::StaleVersion { expected: 1, .. }),
        "{error:?}"
    );

    let error = Security::patch(db, 404, SecurityPatch::default())
        .await
        .expect_err("missing row");
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
}

pub(crate) async fn patch_can_set_a_nullable_field_to_null(db: &Db) {
    let acme = security(db, "ACME", "000000001").await;
    let mut new = new_dividend(&acme, "2026-03-02", "0.25");
    new.record_date = Some(date("2026-03-03"));
    let dividend = Dividend::insert(db, new).await.expect("insert");
    let cleared = Dividend::patch(
        db,
        dividend.id,
        DividendPatch {
            record_date: Some(None),
            ..DividendPatch::default()
        },
    )
    .await
    .expect("patch");
    assert_eq!(cleared.record_date, None);
    assert_eq!(cleared.version, 2);
}

pub(crate) async fn delete_removes_the_row(db: &Db) {
    let acme = security(db, "ACME", "000000001").await;
    Security::delete(db, acme.id).await.expect("delete");
    assert!(Security::find(db, acme.id).await.expect("find").is_none());
    let error = Security::delete(db, acme.id)
        .await
        .expect_err("already gone");
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
}

pub(crate) async fn unique_violations_name_their_fields(db: &Db) {
    let acme = security(db, "ACME", "000000001").await;
    let error = Security::insert(db, new_security("ACME", "000000002"))
        .await
        .expect_err("duplicate symbol");
    match error {
        Error::UniqueViolation { model, fields } => {
            assert_eq!(model, "Security");
            assert_eq!(fields, vec!["symbol"]);
        }
        other => panic!("expected a unique violation, got {other:?}"),
    }

    Dividend::insert(db, new_dividend(&acme, "2026-03-02", "0.25"))
        .await
        .expect("first dividend");
    let error = Dividend::insert(db, new_dividend(&acme, "2026-03-02", "0.30"))
        .await
        .expect_err("same security and ex-date");
    match error {
        Error::UniqueViolation { fields, .. } => assert_eq!(fields, vec!["security", "ex_date"]),
        other => panic!("expected a unique violation, got {other:?}"),
    }
}

pub(crate) async fn foreign_key_violations_name_the_relation(db: &Db) {
    let missing = Ref::<Security>::new(999);
    let mut new = new_dividend(
        &security(db, "ACME", "000000001").await,
        "2026-03-02",
        "0.25",
    );
    new.security = missing;
    let error = Dividend::insert(db, new)
        .await
        .expect_err("no such security");
    match error {
        Error::ForeignKeyViolation { relation } => {
            assert_eq!(relation.table, "dividend");
            assert_eq!(relation.column.as_deref(), Some("security_id"));
            assert_eq!(relation.references.as_deref(), Some("security"));
        }
        other => panic!("expected a foreign key violation, got {other:?}"),
    }

    let held = security(db, "HELD", "000000002").await;
    let account = Account::insert(db, new_account("123-45-6789"))
        .await
        .expect("account");
    Position::insert(
        db,
        NewPosition {
            account: Ref::from(&account),
            security: Ref::from(&held),
            quantity: dec("100"),
            as_of: date("2026-01-02"),
            last_dividend: None,
        },
    )
    .await
    .expect("position");
    let error = Security::delete(db, held.id).await.expect_err("restricted");
    match error {
        Error::ForeignKeyViolation { relation } => {
            assert_eq!(relation.table, "position");
            assert_eq!(relation.column.as_deref(), Some("security_id"));
            assert_eq!(relation.references.as_deref(), Some("security"));
        }
        other => panic!("expected a foreign key violation, got {other:?}"),
    }
}

pub(crate) async fn deletes_cascade_and_set_null(db: &Db) {
    let acme = security(db, "ACME", "000000001").await;
    let dividend = Dividend::insert(db, new_dividend(&acme, "2026-03-02", "0.25"))
        .await
        .expect("dividend");
    let other = security(db, "OTHR", "000000002").await;
    let account = Account::insert(db, new_account("123-45-6789"))
        .await
        .expect("account");
    let position = Position::insert(
        db,
        NewPosition {
            account: Ref::from(&account),
            security: Ref::from(&other),
            quantity: dec("10.5"),
            as_of: date("2026-01-02"),
            last_dividend: Some(Ref::from(&dividend)),
        },
    )
    .await
    .expect("position");

    Security::delete(db, acme.id)
        .await
        .expect("delete cascades to dividends");
    assert!(
        Dividend::find(db, dividend.id)
            .await
            .expect("find")
            .is_none()
    );
    let position = Position::get(db, position.id)
        .await
        .expect("position survives");
    assert_eq!(
        position.last_dividend, None,
        "set_null cleared the reference"
    );

    Account::delete(db, account.id)
        .await
        .expect("delete cascades to positions");
    assert!(
        Position::find(db, position.id)
            .await
            .expect("find")
            .is_none()
    );
}

pub(crate) async fn check_constraints_are_typed_errors(db: &Db) {
    let acme = security(db, "ACME", "000000001").await;
    let error = Dividend::insert(db, new_dividend(&acme, "2026-03-02", "-0.25"))
        .await
        .expect_err("negative rate");
    assert!(matches!(error, Error::CheckViolation { .. }), "{error:?}");

    let mut risky = new_account("123-45-6789");
    risky.risk_score = Some(101);
    let error = Account::insert(db, risky)
        .await
        .expect_err("risk above 100");
    assert!(matches!(error, Error::CheckViolation { .. }), "{error:?}");

    let error = Security::insert(db, new_security("TOOLONGSYMBOL", "000000002"))
        .await
        .expect_err("symbol longer than 12");
    assert!(matches!(error, Error::CheckViolation { .. }), "{error:?}");
}

pub(crate) async fn every_field_type_round_trips(db: &Db) {
    let account = Account::insert(db, new_account("123-45-6789"))
        .await
        .expect("account");
    assert_ne!(account.id, Uuid::nil(), "uuid keys are generated");
    let fetched = Account::get(db, account.id).await.expect("get");
    assert!(fetched == account);
    assert_eq!(fetched.settings.0["statements"], "email");
    assert_eq!(fetched.risk_score, Some(40));

    let acme = security(db, "ACME", "000000001").await;
    for rate in ["0.00000001", "1234567890.12345678", "0.1", "3"] {
        let ex_date = format!("2026-01-{:02}", rate.len());
        let stored = Dividend::insert(db, new_dividend(&acme, &ex_date, rate))
            .await
            .expect("dividend");
        let fetched = Dividend::get(db, stored.id).await.expect("get");
        assert_eq!(fetched.rate, dec(rate), "decimals are exact");
        assert_eq!(
            fetched.rate.to_string(),
            dec(rate).normalize().to_string(),
            "decimals read back normalized, the same on both databases"
        );
        assert_eq!(fetched.status, DividendStatus::Announced);
        assert_eq!(fetched.ex_date, date(&ex_date));
    }
}

pub(crate) async fn sensitive_fields_never_appear_in_debug_output(db: &Db) {
    let account = Account::insert(db, new_account("123-45-6789"))
        .await
        .expect("account");
    let shown = format!("{account:?} {:?}", new_account("987-65-4321"));
    assert!(!shown.contains("123-45-6789"), "{shown}");
    assert!(!shown.contains("987-65-4321"), "{shown}");
    assert!(!shown.contains("Ada Lovelace"), "{shown}");
    assert!(
        shown.contains("risk_score"),
        "other fields are shown: {shown}"
    );
}

/// `is_in` binds its list as one parameter (an array on PostgreSQL, JSON for
/// `json_each` on SQLite): each field type must still compare as stored, and
/// a long list must not change the statement.
pub(crate) async fn in_lists_match_every_field_type(db: &Db) {
    let (acme, beta) = dividend_fixture(db).await;
    let count = |filter: Filter<Dividend>| Dividend::query().filter(filter).count(db);
    assert_eq!(
        count(Dividend::EX_DATE.is_in([date("2026-01-05"), date("2026-03-05")]))
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        count(Dividend::RATE.is_in([dec("0.1"), dec("2.50")]))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        count(Dividend::STATUS.is_in([DividendStatus::Announced]))
            .await
            .unwrap(),
        5
    );
    assert_eq!(
        count(Dividend::SECURITY.is_in([Ref::from(&beta)]))
            .await
            .unwrap(),
        2
    );
    // A thousand values, one parameter.
    let many: Vec<Ref<Security>> = (acme.id..acme.id + 1000).map(Ref::new).collect();
    assert_eq!(count(Dividend::SECURITY.is_in(many)).await.unwrap(), 5);
    let securities = |filter: Filter<Security>| Security::query().filter(filter).count(db);
    assert_eq!(
        securities(Security::SYMBOL.is_in(["BETA".to_owned(), "NONE".to_owned()]))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        securities(Security::CREATED_AT.is_in([acme.created_at]))
            .await
            .unwrap(),
        1
    );
    let account = Account::insert(db, new_account("123-45-6789"))
        .await
        .expect("account");
    let accounts = |filter: Filter<Account>| Account::query().filter(filter).count(db);
    assert_eq!(
        accounts(Account::ID.is_in([Uuid::nil(), account.id]))
            .await
            .unwrap(),
        1
    );
    assert_eq!(accounts(Account::ACTIVE.is_in([true])).await.unwrap(), 1);
    assert_eq!(accounts(Account::ACTIVE.is_in([false])).await.unwrap(), 0);
}

async fn dividend_fixture(db: &Db) -> (Security, Security) {
    let acme = security(db, "ACME", "000000001").await;
    let beta = security(db, "BETA", "000000002").await;
    for (security, ex_date, rate) in [
        (&acme, "2026-01-05", "0.10"),
        (&acme, "2026-02-05", "0.20"),
        (&acme, "2026-03-05", "0.30"),
        (&beta, "2026-01-05", "1.50"),
        (&beta, "2026-02-05", "2.50"),
    ] {
        Dividend::insert(db, new_dividend(security, ex_date, rate))
            .await
            .expect("dividend");
    }
    (acme, beta)
}

fn rates(dividends: &[Dividend]) -> Vec<String> {
    dividends
        .iter()
        .map(|dividend| dividend.rate.normalize().to_string())
        .collect()
}

pub(crate) async fn typed_filters_match_like_sql(db: &Db) {
    let (acme, beta) = dividend_fixture(db).await;
    let by = |filter: Filter<Dividend>| {
        Dividend::query()
            .filter(filter)
            .order_by(Dividend::RATE.asc())
            .all(db)
    };
    let acme_ref = Ref::from(&acme);
    assert_eq!(
        rates(&by(Dividend::SECURITY.eq(acme_ref)).await.unwrap()),
        ["0.1", "0.2", "0.3"]
    );
    assert_eq!(
        rates(&by(Dividend::SECURITY.ne(acme_ref)).await.unwrap()),
        ["1.5", "2.5"]
    );
    assert_eq!(
        rates(&by(Dividend::EX_DATE.lt(date("2026-02-05"))).await.unwrap()),
        ["0.1", "1.5"]
    );
    assert_eq!(
        rates(&by(Dividend::EX_DATE.lte(date("2026-02-05"))).await.unwrap()).len(),
        4
    );
    assert_eq!(
        rates(&by(Dividend::RATE.gt(dec("0.3"))).await.unwrap()),
        ["1.5", "2.5"]
    );
    assert_eq!(
        rates(&by(Dividend::RATE.gte(dec("0.3"))).await.unwrap()),
        ["0.3", "1.5", "2.5"]
    );
    assert_eq!(
        rates(
            &by(Dividend::RATE.is_in([dec("0.2"), dec("2.5"), dec("9")]))
                .await
                .unwrap()
        ),
        ["0.2", "2.5"]
    );
    assert!(
        by(Dividend::RATE.is_in(Vec::<Decimal>::new()))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        by(Dividend::RECORD_DATE.is_null(true)).await.unwrap().len(),
        5
    );
    assert_eq!(
        by(Dividend::RECORD_DATE.is_null(false))
            .await
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        rates(
            &by(Filter::any([
                Dividend::RATE.lt(dec("0.15")),
                Dividend::RATE.gt(dec("2")),
            ]))
            .await
            .unwrap()
        ),
        ["0.1", "2.5"]
    );
    assert_eq!(
        rates(
            &by(Dividend::SECURITY.eq(Ref::from(&beta)).not())
                .await
                .unwrap()
        ),
        ["0.1", "0.2", "0.3"]
    );

    let symbols = |filter: Filter<Security>| async move {
        Security::query()
            .filter(filter)
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|security| security.symbol)
            .collect::<Vec<_>>()
    };
    assert_eq!(symbols(Security::SYMBOL.contains("CM")).await, ["ACME"]);
    assert!(
        symbols(Security::SYMBOL.contains("cm")).await.is_empty(),
        "contains is case-sensitive"
    );
    assert_eq!(symbols(Security::SYMBOL.icontains("cm")).await, ["ACME"]);
    assert_eq!(symbols(Security::SYMBOL.starts_with("BE")).await, ["BETA"]);
    assert!(symbols(Security::SYMBOL.starts_with("be")).await.is_empty());
    assert!(
        symbols(Security::NAME.contains("%")).await.is_empty(),
        "wildcards are literal"
    );

    let count = Dividend::query()
        .filter(Dividend::SECURITY.eq(acme_ref))
        .count(db)
        .await
        .unwrap();
    assert_eq!(count, 3);
    assert!(
        Dividend::query()
            .filter(Dividend::RATE.gt(dec("2")))
            .exists(db)
            .await
            .unwrap()
    );
    assert!(
        !Dividend::query()
            .filter(Dividend::RATE.gt(dec("20")))
            .exists(db)
            .await
            .unwrap()
    );
}

pub(crate) async fn ordering_and_limit(db: &Db) {
    dividend_fixture(db).await;
    let newest_first = Dividend::query()
        .order_by(Dividend::EX_DATE.desc())
        .order_by(Dividend::RATE.asc())
        .limit(3)
        .all(db)
        .await
        .unwrap();
    assert_eq!(rates(&newest_first), ["0.3", "0.2", "2.5"]);
    let first = Dividend::query()
        .order_by(Dividend::RATE.desc())
        .first(db)
        .await
        .unwrap()
        .expect("a row");
    assert_eq!(first.rate, dec("2.5"));
}

pub(crate) async fn keyset_pages_walk_forward_and_back(db: &Db) {
    let (acme, beta) = dividend_fixture(db).await;
    for day in 10..=28 {
        for security in [&acme, &beta] {
            let mut new = new_dividend(security, &format!("2026-04-{day:02}"), "0.5");
            new.pay_date = date("2026-05-01");
            Dividend::insert(db, new).await.expect("dividend");
        }
    }
    let query = || Dividend::query().order_by(Dividend::PAY_DATE.desc());
    let everything: Vec<i64> = query()
        .all(db)
        .await
        .unwrap()
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(everything.len(), 43);

    let mut pages = Vec::new();
    let mut page = query().limit(10).all(db).await.unwrap();
    while !page.is_empty() {
        assert!(
            pages.len() < 5,
            "43 rows take 5 pages of 10; the cursor is not advancing"
        );
        let last = page.last().cloned().expect("non-empty page");
        pages.push(page);
        page = query().limit(10).after(&last).all(db).await.unwrap();
    }
    let walked: Vec<i64> = pages.iter().flatten().map(|d| d.id).collect();
    assert_eq!(
        walked, everything,
        "forward pages cover every row once, in order"
    );

    let last_page = pages.last().expect("pages").clone();
    let previous = query()
        .limit(10)
        .before(&last_page[0])
        .all(db)
        .await
        .unwrap();
    let expected: Vec<i64> = pages[pages.len() - 2].iter().map(|d| d.id).collect();
    assert_eq!(previous.iter().map(|d| d.id).collect::<Vec<_>>(), expected);

    // A row inserted behind the cursor does not shift the pages after it.
    let cursor = pages[1].last().cloned().expect("row");
    let mut early = new_dividend(&acme, "2026-12-31", "9");
    early.pay_date = date("2027-01-01");
    Dividend::insert(db, early).await.expect("dividend");
    let resumed = query().limit(10).after(&cursor).all(db).await.unwrap();
    assert_eq!(
        resumed.iter().map(|d| d.id).collect::<Vec<_>>(),
        pages[2].iter().map(|d| d.id).collect::<Vec<_>>()
    );
}

/// Keyset pages over a nullable field: NULLs sort first ascending and last
/// descending on both databases, and no row is skipped or repeated at the
/// boundary between NULL and non-NULL values.
pub(crate) async fn keyset_pages_over_a_nullable_field(db: &Db) {
    let (acme, _) = dividend_fixture(db).await;
    for day in 1..=12 {
        let mut new = new_dividend(&acme, &format!("2026-06-{day:02}"), "0.1");
        if day % 3 != 0 {
            new.record_date = Some(date(&format!("2026-06-{:02}", 13 - day % 4)));
        }
        Dividend::insert(db, new).await.expect("dividend");
    }
    for descending in [false, true] {
        let order = if descending {
            Dividend::RECORD_DATE.desc()
        } else {
            Dividend::RECORD_DATE.asc()
        };
        let query = || Dividend::query().order_by(order).limit(4);
        let everything = Dividend::query().order_by(order).all(db).await.unwrap();
        let nulls: Vec<bool> = everything.iter().map(|d| d.record_date.is_none()).collect();
        let first_null = nulls.iter().position(|null| *null).expect("some NULLs");
        let last_null = nulls.iter().rposition(|null| *null).expect("some NULLs");
        if descending {
            assert_eq!(last_null, nulls.len() - 1, "NULLs come last descending");
        } else {
            assert_eq!(first_null, 0, "NULLs come first ascending");
        }
        let mut pages: Vec<Vec<Dividend>> = Vec::new();
        let mut page = query().all(db).await.unwrap();
        while !page.is_empty() {
            assert!(pages.len() < 10, "the cursor is not advancing");
            let last = page.last().cloned().expect("non-empty page");
            pages.push(page);
            page = query().after(&last).all(db).await.unwrap();
        }
        let walked: Vec<i64> = pages.iter().flatten().map(|d| d.id).collect();
        let expected: Vec<i64> = everything.iter().map(|d| d.id).collect();
        assert_eq!(walked, expected, "forward pages, descending = {descending}");
        for window in pages.windows(2) {
            let previous = query().before(&window[1][0]).all(db).await.unwrap();
            let ids: Vec<i64> = previous.iter().map(|d| d.id).collect();
            let expected: Vec<i64> = window[0].iter().map(|d| d.id).collect();
            assert_eq!(ids, expected, "backward pages, descending = {descending}");
        }
    }
}

/// The orderings the keyset cases page through: one field either way, mixed
/// directions, a nullable first and a nullable later field, a decimal, the key.
fn shipment_orderings() -> Vec<Vec<fw::Order<Shipment>>> {
    vec![
        vec![Shipment::SHIPPED_ON.asc()],
        vec![Shipment::SHIPPED_ON.desc()],
        vec![Shipment::SHIPPED_ON.asc(), Shipment::WEIGHT.desc()],
        vec![
            Shipment::WEIGHT.desc(),
            Shipment::SHIPPED_ON.asc(),
            Shipment::COST.desc(),
        ],
        vec![Shipment::DELIVERED_ON.asc()],
        vec![Shipment::DELIVERED_ON.desc()],
        vec![Shipment::DELIVERED_ON.asc(), Shipment::WEIGHT.desc()],
        vec![Shipment::DELIVERED_ON.desc(), Shipment::SHIPPED_ON.desc()],
        vec![Shipment::WEIGHT.asc(), Shipment::DELIVERED_ON.desc()],
        vec![Shipment::COST.asc()],
        vec![Shipment::ID.desc()],
    ]
}

fn shipments_query(ordering: &[fw::Order<Shipment>]) -> fw::Query<Shipment> {
    ordering
        .iter()
        .fold(Shipment::query(), |query, order| query.order_by(*order))
}

/// `rows` sorted as `ordering` promises, computed here rather than by the
/// database: NULLs first ascending (as `Option`'s order has them), the key
/// last in the first term's direction.
fn sorted_as(mut rows: Vec<Shipment>, ordering: &[fw::Order<Shipment>]) -> Vec<i64> {
    use std::cmp::Ordering;
    let key_descending = ordering[0].is_descending();
    rows.sort_by(|a, b| {
        let mut order = Ordering::Equal;
        for term in ordering {
            let by_field = match term.field().name {
                "id" => a.id.cmp(&b.id),
                "shipped_on" => a.shipped_on.cmp(&b.shipped_on),
                "weight" => a.weight.cmp(&b.weight),
                "delivered_on" => a.delivered_on.cmp(&b.delivered_on),
                "cost" => a.cost.cmp(&b.cost),
                other => panic!("no oracle for `{other}`"),
            };
            order = order.then(if term.is_descending() {
                by_field.reverse()
            } else {
                by_field
            });
        }
        let by_key = a.id.cmp(&b.id);
        order.then(if key_descending {
            by_key.reverse()
        } else {
            by_key
        })
    });
    rows.iter().map(|row| row.id).collect()
}

/// Every row exactly once, in order, paging forwards and backwards through
/// every kind of ordering, whatever the page size: ties on every field,
/// NULLs on either side of a page boundary, mixed directions, and decimals
/// whose text would sort otherwise (`10.25` before `9.5`).
pub(crate) async fn keyset_pages_hold_every_row_once_in_any_ordering(db: &Db) {
    let costs = ["9.5", "10.25", "100", "0.75", "9.5"];
    for n in 0..40_u32 {
        Shipment::insert(
            db,
            NewShipment {
                shipped_on: date("2026-01-01") + chrono::Duration::days(i64::from(n % 5)),
                weight: (n % 3) as i32,
                delivered_on: (n % 4 != 0)
                    .then(|| date("2026-02-01") + chrono::Duration::days(i64::from(n % 6))),
                cost: dec(costs[(n * 7 % 5) as usize]),
            },
        )
        .await
        .expect("shipment");
    }
    let rows = Shipment::query().all(db).await.unwrap();
    for ordering in shipment_orderings() {
        let expected = sorted_as(rows.clone(), &ordering);
        let query = || shipments_query(&ordering);
        let everything: Vec<i64> = query()
            .all(db)
            .await
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(everything, expected, "one statement, ordering {ordering:?}");
        // Locked, as a page read to be written is (a range of its own each
        // for NULLs and values, locked where it is read).
        let mut tx = db.begin().await.expect("begin");
        let locked: Vec<i64> = query()
            .limit(7)
            .for_update()
            .all(&mut tx)
            .await
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect();
        tx.commit().await.expect("commit");
        assert_eq!(
            locked,
            expected[..7].to_vec(),
            "locked, ordering {ordering:?}"
        );
        for page_size in [1, 3, 7] {
            let mut walked: Vec<i64> = Vec::new();
            let mut page = query().limit(page_size).all(db).await.unwrap();
            while let Some(last) = page.last().cloned() {
                assert!(
                    walked.len() <= expected.len(),
                    "the cursor is not advancing"
                );
                walked.extend(page.iter().map(|s| s.id));
                page = query().limit(page_size).after(&last).all(db).await.unwrap();
            }
            assert_eq!(
                walked, expected,
                "forwards by {page_size}, ordering {ordering:?}"
            );

            let last = rows
                .iter()
                .find(|row| Some(&row.id) == expected.last())
                .cloned()
                .expect("the last row");
            let mut walked_back: Vec<i64> = Vec::new();
            let mut page = query()
                .limit(page_size)
                .before(&last)
                .all(db)
                .await
                .unwrap();
            while let Some(first) = page.first().cloned() {
                assert!(
                    walked_back.len() <= expected.len(),
                    "the cursor is not advancing"
                );
                walked_back.splice(0..0, page.iter().map(|s| s.id));
                page = query()
                    .limit(page_size)
                    .before(&first)
                    .all(db)
                    .await
                    .unwrap();
            }
            assert_eq!(
                walked_back,
                expected[..expected.len() - 1].to_vec(),
                "backwards by {page_size}, ordering {ordering:?}"
            );
        }
    }
}

/// A page deep in a large table is a range of the ordering's index: the
/// plan bounds every index it reads by the first ordering field, for an
/// ascending, a descending, a mixed and a nullable ordering (its NULLs and
/// its values are two ranges), from a cursor on a value and on a NULL. The
/// condition after a cursor written only as `(a > x) OR (a = x AND id > y)`
/// gives PostgreSQL no bound: it reads the index from its start and
/// filters, which this would catch.
pub(crate) async fn a_deep_page_is_a_range_of_the_orderings_index(db: &Db) {
    let seed = match crate::DATABASE {
        fw::Dialect::Postgres => {
            "INSERT INTO shipment (shipped_on, weight, delivered_on, cost) \
             SELECT DATE '2026-01-01' + n % 400, n % 10, \
                    CASE WHEN n % 5 = 0 THEN NULL ELSE DATE '2026-03-01' + n % 300 END, 1.5 \
             FROM generate_series(1, 20000) AS n"
        }
        fw::Dialect::Sqlite => {
            "WITH RECURSIVE numbers(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM numbers \
                                           WHERE n < 20000) \
             INSERT INTO shipment (shipped_on, weight, delivered_on, cost) \
             SELECT date('2026-01-01', '+' || (n % 400) || ' days'), n % 10, \
                    CASE WHEN n % 5 = 0 THEN NULL \
                         ELSE date('2026-03-01', '+' || (n % 300) || ' days') END, '1.5' \
             FROM numbers"
        }
    };
    db.execute_raw(seed).await.expect("seed the shipments");
    db.execute_raw("ANALYZE").await.expect("analyze");
    // Cursors in the middle of each ordering: shipment n ships on day n % 400
    // and, unless n % 5 = 0, is delivered on day n % 300 of its range.
    let mid_shipped = Shipment::get(db, 10_201).await.expect("shipment 10201");
    let mid_delivered = Shipment::get(db, 10_051).await.expect("shipment 10051");
    let undelivered = Shipment::get(db, 10_000).await.expect("shipment 10000");
    assert!(mid_delivered.delivered_on.is_some() && undelivered.delivered_on.is_none());
    let cases = [
        (vec![Shipment::SHIPPED_ON.asc()], &mid_shipped),
        (vec![Shipment::SHIPPED_ON.desc()], &mid_shipped),
        (
            vec![Shipment::SHIPPED_ON.asc(), Shipment::WEIGHT.desc()],
            &mid_shipped,
        ),
        (vec![Shipment::DELIVERED_ON.asc()], &mid_delivered),
        (vec![Shipment::DELIVERED_ON.desc()], &mid_delivered),
        (vec![Shipment::DELIVERED_ON.asc()], &undelivered),
        (vec![Shipment::DELIVERED_ON.desc()], &undelivered),
    ];
    for (ordering, cursor) in cases {
        let lead = ordering[0].field().column;
        for backwards in [false, true] {
            let query = shipments_query(&ordering).limit(50);
            let query = if backwards {
                query.before(cursor)
            } else {
                query.after(cursor)
            };
            let mut tx = db.begin().await.expect("begin");
            if crate::DATABASE == fw::Dialect::Postgres {
                // A table this small could be read whole; the plan asked
                // about is the one for a table too large for that.
                tx.execute_raw("SET LOCAL enable_seqscan = off")
                    .await
                    .expect("set");
            }
            let plan = query.explain(&mut tx).await.expect("explain");
            tx.rollback().await.expect("rollback");
            let unbounded = unbounded_reads(&plan, lead);
            assert!(
                unbounded.is_empty(),
                "{ordering:?} from {cursor:?}, backwards = {backwards}: these reads are \
                 not bounded by `{lead}`: {unbounded:?}\n{plan}"
            );
        }
    }
}

/// The reads of `shipment` in `plan` that no condition on `column` bounds:
/// a sequential scan, an index scan without an `Index Cond` on it
/// (PostgreSQL), a `SCAN` or a `SEARCH` whose range is on something else
/// (SQLite). SQLite's planner may read a nullable field's NULLs after a
/// cursor by a range of the key (`rowid>?`) and sort them rather than by
/// the ordering's index; that is a range too, and is allowed.
fn unbounded_reads(plan: &str, column: &str) -> Vec<String> {
    let lines: Vec<&str> = plan.lines().collect();
    let mut unbounded = Vec::new();
    let mut reads = 0;
    for (position, line) in lines.iter().enumerate() {
        let read = line.trim_start_matches([' ', '-', '>', '|', '`']);
        if read.starts_with("Seq Scan") || read.starts_with("SCAN shipment") {
            reads += 1;
            unbounded.push(read.to_owned());
        } else if read.contains("Index Scan") || read.contains("Index Only Scan") {
            reads += 1;
            let bounded = lines[position + 1..]
                .iter()
                .take_while(|detail| !detail.contains("->"))
                .any(|detail| detail.contains("Index Cond:") && detail.contains(column));
            if !bounded {
                unbounded.push(read.to_owned());
            }
        } else if read.starts_with("SEARCH shipment") {
            reads += 1;
            let on_key = read.contains("USING INTEGER PRIMARY KEY (rowid");
            if !read.contains(&format!("({column}")) && !on_key {
                unbounded.push(read.to_owned());
            }
        }
    }
    if reads == 0 {
        unbounded.push(format!("no read of `shipment` found in the plan:\n{plan}"));
    }
    unbounded
}

pub(crate) async fn upsert_inserts_updates_and_leaves_unchanged_rows_alone(db: &Db) {
    let inserted = Security::upsert(db, new_security("ACME", "000000001"), Security::CUSIP)
        .await
        .expect("insert");
    assert_eq!(inserted.version, 1);
    let unchanged = Security::upsert(db, new_security("ACME", "000000001"), Security::CUSIP)
        .await
        .expect("same values");
    assert_eq!(unchanged.id, inserted.id);
    assert_eq!(unchanged.version, 1, "an identical upsert writes nothing");
    let mut renamed = new_security("ACME", "000000001");
    renamed.name = "Acme Holdings".to_owned();
    let updated = Security::upsert(db, renamed, Security::CUSIP)
        .await
        .expect("update");
    assert_eq!(updated.id, inserted.id);
    assert_eq!(updated.version, 2);
    assert_eq!(updated.name, "Acme Holdings");
    assert_eq!(Security::query().count(db).await.unwrap(), 1);

    let acme = updated;
    let dividend = Dividend::upsert(
        db,
        new_dividend(&acme, "2026-03-02", "0.25"),
        (Dividend::SECURITY, Dividend::EX_DATE),
    )
    .await
    .expect("insert");
    let corrected = Dividend::upsert(
        db,
        new_dividend(&acme, "2026-03-02", "0.27"),
        (Dividend::SECURITY, Dividend::EX_DATE),
    )
    .await
    .expect("correction");
    assert_eq!(corrected.id, dividend.id);
    assert_eq!(corrected.rate, dec("0.27"));
    assert_eq!(corrected.version, 2);
}

pub(crate) async fn insert_many_is_all_or_nothing(db: &Db) {
    let rows = (0..20)
        .map(|n| new_security(&format!("S{n}"), &format!("{n:09}")))
        .collect();
    let inserted = Security::insert_many(db, rows).await.expect("bulk insert");
    assert_eq!(inserted.len(), 20);
    assert_eq!(inserted[7].symbol, "S7", "rows come back in input order");

    let rows = vec![
        new_security("NEW1", "100000001"),
        new_security("S3", "100000002"),
    ];
    let error = Security::insert_many(db, rows)
        .await
        .expect_err("S3 exists");
    assert!(matches!(error, Error::UniqueViolation { .. }), "{error:?}");
    assert!(
        Security::query()
            .filter(Security::SYMBOL.eq("NEW1"))
            .first(db)
            .await
            .unwrap()
            .is_none(),
        "nothing of a failed bulk insert is kept"
    );
}

pub(crate) async fn transactions_commit_or_roll_back(db: &Db) {
    let mut tx = db.begin().await.expect("begin");
    let rolled_back = Security::insert(&mut tx, new_security("GONE", "000000001"))
        .await
        .expect("insert");
    assert!(
        Security::find(&mut tx, rolled_back.id)
            .await
            .unwrap()
            .is_some()
    );
    tx.rollback().await.expect("rollback");
    assert!(Security::find(db, rolled_back.id).await.unwrap().is_none());

    let mut tx = db.begin().await.expect("begin");
    let kept = Security::insert(&mut tx, new_security("KEPT", "000000002"))
        .await
        .expect("insert");
    let count = Security::query().count(&mut tx).await.unwrap();
    assert_eq!(count, 1);
    tx.commit().await.expect("commit");
    assert!(Security::find(db, kept.id).await.unwrap().is_some());
}

/// Many tasks writing at once: SQLite must queue them, never fail with
/// "database is locked"; PostgreSQL must simply cope.
pub(crate) async fn concurrent_writers_never_fail(db: &Db) {
    const WRITERS: usize = 24;
    const WRITES_EACH: usize = 20;
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for write in 0..WRITES_EACH {
                let n = writer * WRITES_EACH + write;
                let inserted =
                    Security::insert(&db, new_security(&format!("W{n}"), &format!("{n:09}")))
                        .await?;
                if write % 2 == 0 {
                    Security::patch(
                        &db,
                        inserted.id,
                        SecurityPatch {
                            name: Some(format!("patched {n}")),
                            ..SecurityPatch::default()
                        },
                    )
                    .await?;
                }
                if write % 5 == 0 {
                    let mut tx = db.begin().await?;
                    Security::get(&mut tx, inserted.id).await?;
                    Security::delete(&mut tx, inserted.id).await?;
                    tx.commit().await?;
                }
                Security::query()
                    .filter(Security::SYMBOL.starts_with("W"))
                    .count(&db)
                    .await?;
            }
            Ok::<(), Error>(())
        }));
    }
    let mut failures = Vec::new();
    for task in tasks {
        if let Err(error) = task.await.expect("writer task panicked") {
            failures.push(error.to_string());
        }
    }
    assert!(
        failures.is_empty(),
        "{} writes failed: {failures:?}",
        failures.len()
    );
    let remaining = Security::query().count(db).await.unwrap();
    assert_eq!(remaining as usize, WRITERS * WRITES_EACH * 4 / 5);
    let symbols: HashSet<String> = Security::query()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|security| security.symbol)
        .collect();
    assert_eq!(symbols.len(), remaining as usize);
}

/// Binds `value` to `sql`, a `SELECT $1`, and decodes it back through the same
/// `Field`. Each type needs its own text: PostgreSQL prepares a text once per
/// connection, for the parameter types of its first run.
async fn round_trip<T>(db: &Db, sql: &'static str, value: T)
where
    T: fw::Field + Clone + PartialEq + std::fmt::Debug,
{
    let back: T = fw::sql(sql)
        .bind(value.clone())
        .fetch_one(db, |row| row.get(0))
        .await
        .unwrap_or_else(|error| panic!("{value:?} round trips: {error}"));
    assert_eq!(back, value);
}

pub(crate) async fn sql_binds_and_decodes_every_field_type(db: &Db) {
    let account = Account::insert(db, new_account("123-45-6789"))
        .await
        .expect("account");
    let acme = security(db, "ACME", "000000001").await;
    let dividend = Dividend::insert(
        db,
        NewDividend {
            record_date: Some(date("2026-03-16")),
            ..new_dividend(&acme, "2026-03-15", "1234567890.12345678")
        },
    )
    .await
    .expect("dividend");
    let position = Position::insert(
        db,
        NewPosition {
            account: Ref::from(&account),
            security: Ref::from(&acme),
            quantity: dec("12.5"),
            as_of: date("2026-03-01"),
            last_dividend: Some(Ref::from(&dividend)),
        },
    )
    .await
    .expect("position");

    round_trip(db, "SELECT $1 AS small_int", 7_i16).await;
    round_trip(db, "SELECT $1 AS int", -70_000_i32).await;
    round_trip(db, "SELECT $1 AS big_int", i64::MAX).await;
    round_trip(db, "SELECT $1 AS bool", true).await;
    round_trip(db, "SELECT $1 AS text", "Acme's \"quoted\" name".to_owned()).await;
    round_trip(db, "SELECT $1 AS decimal", dec("1234567890.12345678")).await;
    round_trip(db, "SELECT $1 AS date", date("2026-03-17")).await;
    round_trip(
        db,
        "SELECT $1 AS timestamp",
        "2026-03-17T09:30:00.123456Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap(),
    )
    .await;
    round_trip(db, "SELECT $1 AS uuid", account.id).await;
    round_trip(
        db,
        "SELECT $1 AS json",
        Json(serde_json::json!({"statements": ["email", "post"]})),
    )
    .await;
    round_trip(db, "SELECT $1 AS reference", Ref::from(&acme)).await;
    round_trip(db, "SELECT $1 AS choice", DividendStatus::Cancelled).await;
    round_trip(db, "SELECT $1 AS some_decimal", Some(dec("0.5"))).await;
    round_trip(db, "SELECT $1 AS no_date", None::<NaiveDate>).await;
    round_trip(db, "SELECT $1 AS no_reference", None::<Ref<Account>>).await;

    // Bound values compare equal to the stored columns: the encodings agree
    // (the sealed tax id, whose stored text is never the clear value, aside).
    let matched = fw::sql(
        "SELECT count(*) FROM position p \
         JOIN account a ON a.id = p.account_id \
         JOIN dividend d ON d.id = p.last_dividend_id \
         WHERE a.id = $1 AND a.active = $2 AND a.risk_score = $3 AND a.tax_id <> $4 \
         AND p.id = $5 AND p.security_id = $6 AND p.quantity = $7 \
         AND d.id = $8 AND d.rate = $9 AND d.status = $10 AND d.ex_date = $11 \
         AND d.record_date = $12 AND $13 IS NULL",
    )
    .bind(account.id)
    .bind(true)
    .bind(Some(40_i16))
    .bind("123-45-6789".to_owned())
    .bind(position.id)
    .bind(Ref::from(&acme))
    .bind(dec("12.500"))
    .bind(dividend.id)
    .bind(dec("1234567890.12345678"))
    .bind(DividendStatus::Announced)
    .bind(date("2026-03-15"))
    .bind(Some(date("2026-03-16")))
    .bind(None::<String>)
    .fetch_one(db, |row| row.get::<i64>(0))
    .await
    .expect("count");
    assert_eq!(matched, 1);

    let (settings, risk_score, last_dividend, created_at) = fw::sql(
        "SELECT a.settings, a.risk_score, p.last_dividend_id, s.created_at \
         FROM position p JOIN account a ON a.id = p.account_id \
         JOIN security s ON s.id = p.security_id WHERE p.id = $1",
    )
    .bind(position.id)
    .fetch_one(db, |row| {
        Ok((
            row.get::<Json<serde_json::Value>>(0)?,
            row.get::<Option<i16>>(1)?,
            row.get::<Option<Ref<Dividend>>>(2)?,
            row.get::<chrono::DateTime<chrono::Utc>>(3)?,
        ))
    })
    .await
    .expect("columns of every type decode");
    assert_eq!(settings, account.settings);
    assert_eq!(risk_score, Some(40));
    assert_eq!(last_dividend, Some(Ref::from(&dividend)));
    assert_eq!(created_at, acme.created_at);
}

pub(crate) async fn sql_placeholders_bind_by_number(db: &Db) {
    let (first, second, again) = fw::sql("SELECT $2, $1, $2")
        .bind("one".to_owned())
        .bind(2_i64)
        .fetch_one(db, |row| {
            Ok((
                row.get::<i64>(0)?,
                row.get::<String>(1)?,
                row.get::<i64>(2)?,
            ))
        })
        .await
        .expect("placeholders out of order and repeated");
    assert_eq!((first, second.as_str(), again), (2, "one", 2));
}

pub(crate) async fn sql_joins_two_models(db: &Db) {
    let (acme, beta) = dividend_fixture(db).await;
    Dividend::insert(
        db,
        NewDividend {
            status: DividendStatus::Cancelled,
            ..new_dividend(&acme, "2026-04-05", "0.40")
        },
    )
    .await
    .expect("cancelled dividend");
    let rows = fw::sql(
        "SELECT s.symbol, d.security_id, d.ex_date, d.rate, d.status \
         FROM dividend d JOIN security s ON s.id = d.security_id \
         WHERE d.status <> $1 AND d.ex_date >= $2 \
         ORDER BY s.symbol DESC, d.ex_date",
    )
    .bind(DividendStatus::Cancelled)
    .bind(date("2026-02-01"))
    .fetch_all(db, |row| {
        Ok((
            row.get::<String>(0)?,
            row.get::<Ref<Security>>(1)?,
            row.get::<NaiveDate>(2)?,
            row.get::<Decimal>(3)?.to_string(),
            row.get::<DividendStatus>(4)?,
        ))
    })
    .await
    .expect("join");
    let announced = DividendStatus::Announced;
    assert_eq!(
        rows,
        [
            (
                "BETA".to_owned(),
                Ref::from(&beta),
                date("2026-02-05"),
                "2.5".to_owned(),
                announced
            ),
            (
                "ACME".to_owned(),
                Ref::from(&acme),
                date("2026-02-05"),
                "0.2".to_owned(),
                announced
            ),
            (
                "ACME".to_owned(),
                Ref::from(&acme),
                date("2026-03-05"),
                "0.3".to_owned(),
                announced
            ),
        ]
    );
}

pub(crate) async fn sql_fetch_optional_and_one(db: &Db) {
    let acme = security(db, "ACME", "000000001").await;
    let symbol_of = |id: i64| {
        fw::sql("SELECT symbol FROM security WHERE id = $1")
            .bind(id)
            .fetch_optional(db, |row| row.get::<String>(0))
    };
    assert_eq!(symbol_of(acme.id).await.unwrap().as_deref(), Some("ACME"));
    assert_eq!(symbol_of(acme.id + 1).await.unwrap(), None);

    let count = fw::sql("SELECT count(*) FROM security WHERE symbol LIKE $1")
        .bind("AC%".to_owned())
        .fetch_one(db, |row| row.get::<i64>(0))
        .await
        .unwrap();
    assert_eq!(count, 1);
    let error = fw::sql("SELECT symbol FROM security WHERE id = $1")
        .bind(acme.id + 1)
        .fetch_one(db, |row| row.get::<String>(0))
        .await
        .expect_err("no row");
    assert!(matches!(error, Error::Database(_)), "{error:?}");
}

pub(crate) async fn sql_errors_are_errors_not_panics(db: &Db) {
    security(db, "ACME", "000000001").await;
    let error = fw::sql("SELECT symbol FROM no_such_table WHERE id = $1")
        .bind(1_i64)
        .fetch_all(db, |row| row.get::<String>(0))
        .await
        .expect_err("unknown table");
    assert!(matches!(error, Error::Database(_)), "{error:?}");
    let error = fw::sql("SELEKT 1")
        .fetch_optional(db, |row| row.get::<i64>(0))
        .await
        .expect_err("syntax error");
    assert!(matches!(error, Error::Database(_)), "{error:?}");

    let error = fw::sql("SELECT symbol, NULL FROM security")
        .fetch_all(db, |row| row.get::<String>(3))
        .await
        .expect_err("no such column");
    assert!(
        matches!(error, Error::Decode { ref column, .. } if column == "3"),
        "{error:?}"
    );
    let error = fw::sql("SELECT symbol FROM security")
        .fetch_all(db, |row| row.get::<DividendStatus>(0))
        .await
        .expect_err("not a choice");
    assert!(matches!(error, Error::Decode { .. }), "{error:?}");
    let error = fw::sql("SELECT NULL FROM security")
        .fetch_all(db, |row| row.get::<Decimal>(0))
        .await
        .expect_err("NULL into a non-nullable type");
    assert!(matches!(error, Error::Decode { .. }), "{error:?}");
}

pub(crate) async fn sql_reads_inside_a_transaction(db: &Db) {
    let count = || fw::sql("SELECT count(*) FROM security");
    let mut tx = db.begin().await.expect("begin");
    security_in(&mut tx, "ACME", "000000001").await;
    let inside = count()
        .fetch_one(&mut tx, |row| row.get::<i64>(0))
        .await
        .expect("count inside");
    assert_eq!(inside, 1, "a read in the transaction sees its writes");
    let outside = count()
        .fetch_one(db, |row| row.get::<i64>(0))
        .await
        .expect("count outside");
    assert_eq!(outside, 0, "others do not, until it commits");
    tx.rollback().await.expect("rollback");
    assert_eq!(
        count()
            .fetch_one(db, |row| row.get::<i64>(0))
            .await
            .unwrap(),
        0
    );
}

async fn security_in(tx: &mut fw::Tx, symbol: &str, cusip: &str) -> Security {
    Security::insert(tx, new_security(symbol, cusip))
        .await
        .expect("insert security")
}

/// Runs `case` on a fresh database with the test models' tables.
async fn with_tables(test_db: fw::testing::TestDb, case: impl AsyncFnOnce(&Db)) {
    fw::testing::create_tables(test_db.db(), &super::models::all())
        .await
        .expect("create the test tables");
    case(test_db.db()).await;
}

fw::testing::database_suite! {
    database: crate::DATABASE,
    run: with_tables,
    cases: [
        insert_returns_the_stored_row,
        sealed_fields_are_stored_sealed_and_found_by_digest,
        a_sealed_value_altered_or_copied_to_another_row_is_unreadable,
        an_old_key_still_opens_and_finds_while_new_writes_use_the_current_key,
        sealed_fields_are_found_by_in_lists,
        sealed_fields_round_trip_through_update_patch_and_upsert,
        a_database_assigned_key_is_reserved_before_sealing,
        a_database_without_keys_refuses_sealed_models,
        get_of_a_missing_key_is_not_found,
        update_bumps_the_version_and_refuses_a_stale_copy,
        patch_changes_only_the_given_fields,
        patch_can_set_a_nullable_field_to_null,
        delete_removes_the_row,
        unique_violations_name_their_fields,
        foreign_key_violations_name_the_relation,
        deletes_cascade_and_set_null,
        check_constraints_are_typed_errors,
        every_field_type_round_trips,
        sensitive_fields_never_appear_in_debug_output,
        typed_filters_match_like_sql,
        in_lists_match_every_field_type,
        ordering_and_limit,
        keyset_pages_walk_forward_and_back,
        keyset_pages_over_a_nullable_field,
        keyset_pages_hold_every_row_once_in_any_ordering,
        a_deep_page_is_a_range_of_the_orderings_index,
        upsert_inserts_updates_and_leaves_unchanged_rows_alone,
        insert_many_is_all_or_nothing,
        transactions_commit_or_roll_back,
        concurrent_writers_never_fail,
        sql_binds_and_decodes_every_field_type,
        sql_placeholders_bind_by_number,
        sql_joins_two_models,
        sql_fetch_optional_and_one,
        sql_errors_are_errors_not_panics,
        sql_reads_inside_a_transaction,
    ],
}

pub(crate) async fn sealed_fields_are_stored_sealed_and_found_by_digest(db: &Db) {
    let account = Account::insert(db, new_account("123-45-6789"))
        .await
        .expect("account");
    assert_eq!(account.tax_id, "123-45-6789");
    let stored = fw::sql("SELECT holder_name, tax_id FROM account")
        .fetch_all(db, |row| Ok((row.get::<String>(0)?, row.get::<String>(1)?)))
        .await
        .unwrap();
    for text in [&stored[0].0, &stored[0].1] {
        assert!(text.starts_with("fw1:"), "{text}");
        assert!(!text.contains("Ada") && !text.contains("6789"), "{text}");
    }
    let read = Account::get(db, account.id).await.expect("get");
    assert!(read == account, "a sealed row reads back as written");
    let found = Account::query()
        .filter(Account::TAX_ID.eq("123-45-6789"))
        .all(db)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let duplicate = Account::insert(db, new_account("123-45-6789")).await;
    assert!(
        matches!(duplicate, Err(Error::UniqueViolation { .. })),
        "{duplicate:?}"
    );

    // A value moved to another column does not open there.
    db.execute_raw("UPDATE account SET holder_name = tax_id")
        .await
        .unwrap();
    let moved = Account::get(db, account.id).await;
    assert!(matches!(moved, Err(Error::Unreadable { .. })), "{moved:?}");
}

fn new_account_at_risk(tax_id: &str, risk_score: i16) -> NewAccount {
    NewAccount {
        risk_score: Some(risk_score),
        ..new_account(tax_id)
    }
}

/// The stored (sealed) tax id and its digest of the account with `risk_score`.
async fn stored_tax_id(db: &Db, risk_score: i16) -> (String, String) {
    fw::sql("SELECT tax_id, tax_id_digest FROM account WHERE risk_score = $1")
        .bind(risk_score)
        .fetch_one(db, |row| Ok((row.get::<String>(0)?, row.get::<String>(1)?)))
        .await
        .expect("stored tax id")
}

pub(crate) async fn a_sealed_value_altered_or_copied_to_another_row_is_unreadable(db: &Db) {
    let first = Account::insert(db, new_account_at_risk("111-11-1111", 1))
        .await
        .unwrap();
    let second = Account::insert(db, new_account_at_risk("222-22-2222", 2))
        .await
        .unwrap();

    // One flipped character of the sealed payload fails authentication.
    let (sealed, _) = stored_tax_id(db, 1).await;
    let mut flipped = sealed.clone().into_bytes();
    let at = flipped.len() - 10;
    flipped[at] = if flipped[at] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    db.execute_raw(&format!(
        "UPDATE account SET tax_id = '{flipped}' WHERE risk_score = 1"
    ))
    .await
    .unwrap();
    let read = Account::get(db, first.id).await;
    assert!(
        matches!(
            read,
            Err(Error::Unreadable {
                table: "account",
                column: "tax_id",
                ..
            })
        ),
        "{read:?}"
    );

    // The second row's intact value, copied into the first row's same column,
    // is bound to the second row and does not open in the first.
    db.execute_raw(
        "UPDATE account SET tax_id = (SELECT tax_id FROM account WHERE risk_score = 2) \
         WHERE risk_score = 1",
    )
    .await
    .unwrap();
    let copied = Account::get(db, first.id).await;
    assert!(
        matches!(
            copied,
            Err(Error::Unreadable {
                column: "tax_id",
                ..
            })
        ),
        "{copied:?}"
    );
    let original = Account::get(db, second.id).await.expect("the source row");
    assert_eq!(original.tax_id, "222-22-2222");
}

pub(crate) async fn an_old_key_still_opens_and_finds_while_new_writes_use_the_current_key(db: &Db) {
    let old_entry = fw::sensitive::Keyring::generate_entry("old").unwrap();
    let new_entry = fw::sensitive::Keyring::generate_entry("new").unwrap();
    let keys = |text: &str| Arc::new(fw::sensitive::Keyring::parse(text).unwrap());
    let before = db.with_keyring(keys(&old_entry));
    let after = db.with_keyring(keys(&format!("{new_entry},{old_entry}")));

    let sealed_before = Account::insert(&before, new_account_at_risk("111-11-1111", 1))
        .await
        .unwrap();
    let (sealed, digest) = stored_tax_id(db, 1).await;
    assert!(sealed.starts_with("fw1:old:"), "{sealed}");
    assert!(digest.starts_with("old:"), "{digest}");

    let read = Account::get(&after, sealed_before.id)
        .await
        .expect("the old key still opens");
    assert!(read == sealed_before);
    let found = Account::query()
        .filter(Account::TAX_ID.eq("111-11-1111"))
        .all(&after)
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "found through the old key's digest");

    let sealed_after = Account::insert(&after, new_account_at_risk("222-22-2222", 2))
        .await
        .unwrap();
    let (sealed, digest) = stored_tax_id(db, 2).await;
    assert!(sealed.starts_with("fw1:new:"), "{sealed}");
    assert!(digest.starts_with("new:"), "{digest}");
    let found = Account::query()
        .filter(Account::TAX_ID.eq("222-22-2222"))
        .all(&after)
        .await
        .unwrap();
    assert!(found == [sealed_after.clone()]);

    // Keys that no longer include the new one cannot open what it sealed.
    let unreadable = Account::get(&before, sealed_after.id).await;
    assert!(
        matches!(unreadable, Err(Error::Unreadable { .. })),
        "{unreadable:?}"
    );
}

pub(crate) async fn sealed_fields_are_found_by_in_lists(db: &Db) {
    for (tax_id, risk) in [("111-11-1111", 1), ("222-22-2222", 2), ("333-33-3333", 3)] {
        Account::insert(db, new_account_at_risk(tax_id, risk))
            .await
            .unwrap();
    }
    let risks = |filter: Filter<Account>| async move {
        let mut risks: Vec<i16> = Account::query()
            .filter(filter)
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|account| account.risk_score)
            .collect();
        risks.sort_unstable();
        risks
    };
    assert_eq!(
        risks(Account::TAX_ID.is_in(["111-11-1111", "333-33-3333", "999-99-9999"])).await,
        [1, 3]
    );
    assert_eq!(
        risks(Account::TAX_ID.is_in(["999-99-9999"])).await,
        [] as [i16; 0]
    );
    assert_eq!(
        Account::query()
            .filter(Account::TAX_ID.is_in(["222-22-2222"]))
            .count(db)
            .await
            .unwrap(),
        1
    );

    for email in [Some("ada@example.com"), None] {
        Contact::insert(
            db,
            NewContact {
                email: email.map(str::to_owned),
            },
        )
        .await
        .unwrap();
    }
    let found = Contact::query()
        .filter(Contact::EMAIL.is_in(["ada@example.com", "bob@example.com"]))
        .all(db)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].email.as_deref(), Some("ada@example.com"));
}

pub(crate) async fn sealed_fields_round_trip_through_update_patch_and_upsert(db: &Db) {
    let tax_id_of = async |tax_id: &str| {
        Account::query()
            .filter(Account::TAX_ID.eq(tax_id))
            .all(db)
            .await
            .unwrap()
    };
    let original = Account::insert(db, new_account_at_risk("111-11-1111", 1))
        .await
        .unwrap();

    let mut changed = original.clone();
    changed.tax_id = "222-22-2222".to_owned();
    let updated = changed.update(db).await.expect("update");
    assert_eq!(updated.tax_id, "222-22-2222");
    assert!(Account::get(db, original.id).await.unwrap() == updated);
    assert!(tax_id_of("222-22-2222").await == [updated.clone()]);
    assert!(tax_id_of("111-11-1111").await.is_empty());

    let patched = Account::patch(
        db,
        original.id,
        AccountPatch {
            holder_name: Some("Ada King".to_owned()),
            tax_id: Some("333-33-3333".to_owned()),
            ..AccountPatch::default()
        },
    )
    .await
    .expect("patch");
    assert_eq!(
        (patched.holder_name.as_str(), patched.tax_id.as_str()),
        ("Ada King", "333-33-3333")
    );
    assert!(Account::get(db, original.id).await.unwrap() == patched);
    assert!(tax_id_of("333-33-3333").await == [patched.clone()]);
    assert!(tax_id_of("222-22-2222").await.is_empty());

    // An upsert on the sealed tax id finds the row through its digest and
    // writes it under its own key; a new tax id inserts a row.
    let upserted = Account::upsert(
        db,
        NewAccount {
            holder_name: "Augusta Ada King".to_owned(),
            ..new_account_at_risk("333-33-3333", 1)
        },
        Account::TAX_ID,
    )
    .await
    .expect("upsert of the existing row");
    assert_eq!(upserted.id, original.id);
    assert_eq!(upserted.holder_name, "Augusta Ada King");
    assert!(Account::get(db, original.id).await.unwrap() == upserted);
    let inserted = Account::upsert(db, new_account_at_risk("444-44-4444", 4), Account::TAX_ID)
        .await
        .expect("upsert of a new row");
    assert_ne!(inserted.id, original.id);
    assert!(tax_id_of("444-44-4444").await == [inserted]);
    assert_eq!(Account::query().count(db).await.unwrap(), 2);

    let (sealed, _) = stored_tax_id(db, 1).await;
    assert!(sealed.starts_with("fw1:"), "{sealed}");
}

pub(crate) async fn a_database_assigned_key_is_reserved_before_sealing(db: &Db) {
    let mut ids = Vec::new();
    for email in ["a@example.com", "b@example.com"] {
        let contact = Contact::insert(
            db,
            NewContact {
                email: Some(email.to_owned()),
            },
        )
        .await
        .unwrap();
        // Read back by key: the value opens, so it was sealed for this key.
        let read = Contact::get(db, contact.id).await.unwrap();
        assert_eq!(read.email.as_deref(), Some(email));
        ids.push(contact.id);
    }
    assert!(ids[0] < ids[1], "{ids:?}");
    // A deleted row's key is never handed out again, so no later row can open
    // a copy of its sealed values.
    Contact::delete(db, ids[1]).await.unwrap();
    let next = Contact::insert(db, NewContact { email: None })
        .await
        .unwrap();
    assert!(next.id > ids[1], "{next:?} after {ids:?}");
    assert_eq!(next.email, None);

    // Concurrent inserts each reserve their own key.
    let inserts = (0..8).map(|n| {
        Contact::insert(
            db,
            NewContact {
                email: Some(format!("{n}@example.com")),
            },
        )
    });
    let inserted = futures_util::future::try_join_all(inserts).await.unwrap();
    let keys: HashSet<i64> = inserted.iter().map(|contact| contact.id).collect();
    assert_eq!(keys.len(), 8);
    for contact in inserted {
        let read = Contact::get(db, contact.id).await.unwrap();
        assert!(read == contact);
    }
}

pub(crate) async fn a_database_without_keys_refuses_sealed_models(_: &Db) {
    // A second database of the same kind, whose URL a keyless pool connects to.
    let test_db = fw::testing::TestDb::new(crate::DATABASE).await;
    fw::testing::create_tables(test_db.db(), &super::models::all())
        .await
        .unwrap();
    let account = Account::insert(test_db.db(), new_account("111-11-1111"))
        .await
        .unwrap();
    let keyless = Db::connect(&test_db.url()).await.expect("connect");
    assert!(keyless.keyring().is_none());
    let insert = Account::insert(&keyless, new_account("222-22-2222")).await;
    assert!(
        matches!(insert, Err(Error::NoKeyring { table: "account" })),
        "{insert:?}"
    );
    let get = Account::get(&keyless, account.id).await;
    assert!(
        matches!(get, Err(Error::NoKeyring { table: "account" })),
        "{get:?}"
    );
    let found = Account::query()
        .filter(Account::TAX_ID.eq("111-11-1111"))
        .count(&keyless)
        .await;
    assert!(
        matches!(found, Err(Error::NoKeyring { table: "account" })),
        "{found:?}"
    );
    // Models without sealed fields need no keys.
    security(&keyless, "ACME", "000000001").await;
}
