//! The app commands over sealed data (`erase`, `erase --replay`, `erasures
//! --export`, `rotate-keys`), run through `App::run_with`. SQLite only: an app
//! reads its keys from `FW_SECRET_KEYS` alone, which a test cannot set (the
//! workspace forbids `unsafe`, which `std::env::set_var` needs), and on its
//! default SQLite database the app makes its development key; on PostgreSQL it
//! stops at start without keys. The functions behind the commands are tested on
//! both databases in `cases.rs`.

use std::process::ExitCode;

use fw::sensitive::Erasure;
use fw::testing::TestDb;
use fw::{App, Model};

use crate::cases::{NEW, Patient, keyring, stored, write};

async fn with_app(test_db: TestDb, case: impl AsyncFnOnce(&TestDb)) {
    let mut tables = vec![Patient::SCHEMA, Erasure::SCHEMA];
    tables.extend(fw::changes::tables());
    fw::testing::create_tables(test_db.db(), &tables)
        .await
        .unwrap();
    case(&test_db).await;
}

async fn run(test_db: &TestDb, args: &[&str]) -> ExitCode {
    let dir = tempfile::tempdir().unwrap();
    App::new("ops", dir.path())
        .default_database_url(test_db.url())
        .model::<Patient>()
        .run_with(std::iter::once("ops").chain(args.iter().copied()))
        .await
}

async fn ledger(test_db: &TestDb) -> Vec<(String, String, Option<String>)> {
    Erasure::query()
        .order_by(Erasure::ID.asc())
        .all(test_db.db())
        .await
        .unwrap()
        .into_iter()
        .map(|entry| (entry.table_name, entry.row_key, entry.actor))
        .collect()
}

fn ledger_file(lines: &[&str]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    for line in lines {
        std::io::Write::write_all(&mut file, format!("{line}\n").as_bytes()).unwrap();
    }
    file
}

const ROW_2: &str =
    r#"{"table":"patient","row":"2","erased_at":"2026-01-01T00:00:00Z","actor":null}"#;

pub(crate) async fn erase_and_replay_commands(test_db: &TestDb) {
    let keys = keyring(NEW);
    let db = test_db.db();
    write(db, &keys, 1, "123-45-6789", Some("a note")).await;
    write(db, &keys, 2, "987-65-4321", None).await;

    assert_eq!(
        run(test_db, &["erase", "Patient", "1"]).await,
        ExitCode::SUCCESS
    );
    let rows = stored(db).await;
    assert_eq!(rows[0], (1, String::new(), None, None));
    assert!(rows[1].1.starts_with("fw1:"));
    let erased_by_command = vec![(
        "patient".to_owned(),
        "1".to_owned(),
        Some("command:erase".to_owned()),
    )];
    assert_eq!(ledger(test_db).await, erased_by_command);
    assert_eq!(
        run(test_db, &["erase", "patient", "1"]).await,
        ExitCode::SUCCESS,
        "erasing again is no error"
    );
    assert_eq!(
        ledger(test_db).await,
        erased_by_command,
        "and writes nothing"
    );

    for bad in [
        &["erase", "patient", "99"][..],
        &["erase", "nurse", "1"],
        &["erase", "patient", "one"],
        &["erasures"],
    ] {
        assert_eq!(run(test_db, bad).await, ExitCode::FAILURE, "{bad:?}");
    }
    assert_eq!(run(test_db, &["erase", "patient"]).await, ExitCode::from(2));

    let bad = ledger_file(&[ROW_2, r#"{"table":"patient","row":"x"}"#]);
    let path = bad.path().to_str().unwrap();
    assert_eq!(
        run(test_db, &["erase", "--replay", path]).await,
        ExitCode::FAILURE
    );
    assert!(
        stored(db).await[1].1.starts_with("fw1:"),
        "a bad ledger erases nothing, not even its good lines"
    );
    assert_eq!(ledger(test_db).await.len(), 1);

    let good = ledger_file(&[ROW_2]);
    let path = good.path().to_str().unwrap();
    assert_eq!(
        run(test_db, &["erase", "--replay", path]).await,
        ExitCode::SUCCESS
    );
    assert_eq!(stored(db).await[1], (2, String::new(), None, None));
    assert_eq!(ledger(test_db).await.len(), 2);
    assert_eq!(
        run(test_db, &["erasures", "--export"]).await,
        ExitCode::SUCCESS
    );
}

/// The batch size is bounded; out of bounds is a usage error.
pub(crate) async fn rotate_keys_command_bounds_its_batch(test_db: &TestDb) {
    assert_eq!(
        run(test_db, &["rotate-keys", "--batch-size", "0"]).await,
        ExitCode::from(2)
    );
}

fw::testing::database_suite! {
    database: crate::DATABASE,
    run: with_app,
    cases: [erase_and_replay_commands, rotate_keys_command_bounds_its_batch],
}
