//! Backend-agnostic cases for `rotate-keys` and erasure. Rows are written here
//! in SQL, sealed as the runtime seals them but with a key the test chooses
//! (the runtime always seals with the current one).

use std::ops::ControlFlow;
use std::sync::Arc;

use fw::sensitive::{
    Erased, Erasure, Keyring, Place, RotateOptions, SealedModel, TableRotation, erase,
    export_erasures, replay_erasures, rotate_keys,
};
use fw::testing::TestDb;
use fw::{Db, Model};

const OLD: &str = "old:HxwdHhsaGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA";
pub(crate) const NEW: &str = "new:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

#[derive(Clone)]
#[fw::model(changelog)]
pub(crate) struct Patient {
    pub(crate) id: i64,
    #[field(sensitive(searchable))]
    pub(crate) tax_id: String,
    #[field(sensitive)]
    pub(crate) note: Option<String>,
    pub(crate) name: String,
    #[field(version)]
    pub(crate) version: i64,
}

pub(crate) fn keyring(keys: &str) -> Arc<Keyring> {
    Arc::new(Keyring::parse(keys).unwrap())
}

fn model() -> SealedModel {
    SealedModel::of::<Patient>().expect("sealed fields")
}

fn place(column: &'static str, id: i64) -> (&'static str, String) {
    (column, id.to_string())
}

async fn with_tables(test_db: TestDb, case: impl AsyncFnOnce(&Db)) {
    let db = test_db.db();
    let mut tables = vec![Patient::SCHEMA, Erasure::SCHEMA];
    tables.extend(fw::changes::tables());
    fw::testing::create_tables(db, &tables).await.unwrap();
    case(db).await;
}

/// Writes row `id` as the runtime would with `keys`: sealed, with its digest.
pub(crate) async fn write(db: &Db, keys: &Keyring, id: i64, tax_id: &str, note: Option<&str>) {
    let seal = |column, value: &str| {
        let (column, row) = place(column, id);
        keys.seal(
            &Place {
                table: "patient",
                column,
                row: &row,
            },
            value,
        )
        .unwrap()
    };
    let mut tx = db.begin().await.unwrap();
    fw::sql(
        "INSERT INTO patient (id, tax_id, tax_id_digest, note, name, version) \
         VALUES ($1, $2, $3, $4, 'someone', 1) \
         ON CONFLICT (id) DO UPDATE SET tax_id = excluded.tax_id, \
         tax_id_digest = excluded.tax_id_digest, note = excluded.note, \
         version = patient.version + 1",
    )
    .bind(id)
    .bind(seal("tax_id", tax_id))
    .bind(keys.digest("patient", "tax_id", tax_id))
    .bind(note.map(|note| seal("note", note)))
    .fetch_all(&mut tx, |_| Ok(()))
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// The stored `(tax_id, tax_id_digest, note)` of every row, by id.
pub(crate) async fn stored(db: &Db) -> Vec<(i64, String, Option<String>, Option<String>)> {
    fw::sql("SELECT id, tax_id, tax_id_digest, note FROM patient ORDER BY id")
        .fetch_all(db, |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })
        .await
        .unwrap()
}

/// Opens every row with `keys` alone; the clear tax ids, by id.
async fn open_all(db: &Db, keys: &Keyring) -> Vec<(i64, String)> {
    stored(db)
        .await
        .into_iter()
        .map(|(id, tax_id, digest, note)| {
            let row = id.to_string();
            let at = |column| Place {
                table: "patient",
                column,
                row: &row,
            };
            let clear = keys.open(&at("tax_id"), &tax_id).unwrap();
            assert_eq!(digest, Some(keys.digest("patient", "tax_id", &clear)));
            if let Some(note) = note {
                keys.open(&at("note"), &note).unwrap();
            }
            (id, clear)
        })
        .collect()
}

async fn rotate(db: &Db, batch_size: u32) -> fw::sensitive::RotationReport {
    rotate_keys(db, &[model()], RotateOptions { batch_size }, |_| {
        ControlFlow::Continue(())
    })
    .await
    .unwrap()
}

pub(crate) async fn rotation_rewrites_every_stale_value_and_the_old_key_can_go(db: &Db) {
    let old = keyring(OLD);
    for id in 1..=25 {
        let note = (id % 2 == 0).then(|| format!("note {id}"));
        write(db, &old, id, &format!("TAX-{id}"), note.as_deref()).await;
    }
    let db = db.with_keyring(keyring(&format!("{NEW},{OLD}")));
    let report = rotate(&db, 10).await;
    assert!(report.finished);
    assert_eq!(
        report.tables,
        [TableRotation {
            table: "patient",
            rewritten: 25,
            skipped: 0,
            left: 0
        }]
    );
    assert_eq!(
        rotate(&db, 10).await.tables[0].rewritten,
        0,
        "nothing stale"
    );
    let opened = open_all(&db, &keyring(NEW)).await;
    assert_eq!(opened.len(), 25);
    assert!(
        opened
            .iter()
            .all(|(id, tax_id)| *tax_id == format!("TAX-{id}"))
    );
}

pub(crate) async fn an_interrupted_rotation_resumes_where_it_stopped(db: &Db) {
    let old = keyring(OLD);
    for id in 1..=30 {
        write(db, &old, id, &format!("TAX-{id}"), None).await;
    }
    let db = db.with_keyring(keyring(&format!("{NEW},{OLD}")));
    let mut batches = 0;
    let stopped = rotate_keys(&db, &[model()], RotateOptions { batch_size: 10 }, |_| {
        batches += 1;
        ControlFlow::Break(())
    })
    .await
    .unwrap();
    assert_eq!(batches, 1);
    assert!(!stopped.finished);
    assert_eq!(stopped.tables[0].rewritten, 10);
    assert_eq!(stopped.tables[0].left, 20);
    let resumed = rotate(&db, 10).await;
    assert!(resumed.finished);
    assert_eq!(resumed.tables[0].rewritten, 20, "only what was still stale");
    assert_eq!(open_all(&db, &keyring(NEW)).await.len(), 30);
}

pub(crate) async fn rotation_under_concurrent_writes_loses_no_write(db: &Db) {
    let old = keyring(OLD);
    let rows = 200;
    for id in 1..=rows {
        write(db, &old, id, &format!("TAX-{id}"), Some("kept")).await;
    }
    let both = keyring(&format!("{NEW},{OLD}"));
    let db = db.with_keyring(both.clone());
    let writer = {
        let (db, both) = (db.clone(), both.clone());
        tokio::spawn(async move {
            // The app, configured with both keys, rewrites rows as rotation runs.
            for round in 0..3 {
                for id in (1..=rows).rev().step_by(7) {
                    write(&db, &both, id, &format!("W{round}-{id}"), None).await;
                }
            }
        })
    };
    let report = rotate(&db, 20).await;
    writer.await.unwrap();
    assert!(report.finished);
    assert_eq!(
        rotate(&db, 20).await.tables[0].rewritten,
        0,
        "nothing left stale"
    );
    for (id, tax_id) in open_all(&db, &keyring(NEW)).await {
        let expected = if (rows - id) % 7 == 0 {
            format!("W2-{id}")
        } else {
            format!("TAX-{id}")
        };
        assert_eq!(tax_id, expected, "row {id}");
    }
}

/// A write lands between rotation's read of a batch and its update: the
/// writer's transaction holds row 5 (SQLite: the database's writer) until
/// rotation has read the batch and waits on it. Rotation's compare-and-set
/// then finds a value it did not read and skips the row; the writer's wins.
pub(crate) async fn rotation_skips_a_row_written_after_it_read(db: &Db) {
    let old = keyring(OLD);
    for id in 1..=10 {
        write(db, &old, id, &format!("TAX-{id}"), None).await;
    }
    let both = keyring(&format!("{NEW},{OLD}"));
    let db = db.with_keyring(both.clone());
    let place = Place {
        table: "patient",
        column: "tax_id",
        row: "5",
    };
    let mut writer = db.begin().await.unwrap();
    fw::sql("UPDATE patient SET tax_id = $1, tax_id_digest = $2 WHERE id = 5")
        .bind(both.seal(&place, "WRITER-5").unwrap())
        .bind(both.digest("patient", "tax_id", "WRITER-5"))
        .fetch_all(&mut writer, |_| Ok(()))
        .await
        .unwrap();
    let rotation = tokio::spawn({
        let db = db.clone();
        async move { rotate(&db, 20).await }
    });
    // Ten rows rotate in milliseconds: still running after this, rotation
    // has read its batch and waits on the writer.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(!rotation.is_finished(), "rotation waits on the writer");
    writer.commit().await.unwrap();
    let report = rotation.await.unwrap();
    let table = &report.tables[0];
    assert_eq!((table.rewritten, table.skipped), (9, 1), "{report:?}");
    assert_eq!(
        rotate(&db, 20).await.tables[0].rewritten,
        0,
        "nothing stale"
    );
    for (id, tax_id) in open_all(&db, &keyring(NEW)).await {
        let expected = if id == 5 {
            "WRITER-5".to_owned()
        } else {
            format!("TAX-{id}")
        };
        assert_eq!(tax_id, expected, "row {id}");
    }
}

pub(crate) async fn erasure_leaves_no_clear_value_and_is_idempotent(db: &Db) {
    let keys = keyring(NEW);
    let db = db.with_keyring(keys.clone());
    write(&db, &keys, 1, "123-45-6789", Some("allergic to penicillin")).await;
    write(&db, &keys, 2, "987-65-4321", None).await;
    let outcome = fw::changes::with_actor(Some("user:dpo".to_owned()), None, async {
        erase::<Patient>(&db, 1).await
    })
    .await
    .unwrap();
    assert_eq!(outcome, Erased::Overwritten);
    let rows = stored(&db).await;
    assert_eq!(
        rows[0],
        (1, String::new(), None, None),
        "the raw row holds its erased form"
    );
    assert!(rows[1].1.starts_with("fw1:new:"), "other rows untouched");
    let patient = Patient::get(&db, 1).await.unwrap();
    assert_eq!((patient.tax_id.as_str(), patient.note), ("", None));
    assert_eq!(patient.version, 2, "an erasure is a write");
    let history = Patient::history(&db, 1).await.unwrap();
    let erasure = history.last().unwrap();
    let text = serde_json::to_string(&history).unwrap();
    assert!(
        !text.contains("123-45-6789") && !text.contains("penicillin"),
        "{text}"
    );
    assert_eq!(
        erasure
            .fields
            .iter()
            .map(|field| field.field.as_str())
            .collect::<Vec<_>>(),
        ["tax_id", "note"]
    );
    assert_eq!(erasure.actor.as_deref(), Some("user:dpo"));

    assert_eq!(
        erase::<Patient>(&db, 1).await.unwrap(),
        Erased::AlreadyErased
    );
    assert_eq!(Patient::get(&db, 1).await.unwrap().version, 2);
    assert!(matches!(
        erase::<Patient>(&db, 99).await,
        Err(fw::Error::NotFound { .. })
    ));
    // Two erased rows do not collide on the digest's unique constraint.
    erase::<Patient>(&db, 2).await.unwrap();

    let mut export = Vec::new();
    assert_eq!(export_erasures(&db, &mut export).await.unwrap(), 2);
    let export = String::from_utf8(export).unwrap();
    let first: serde_json::Value = serde_json::from_str(export.lines().next().unwrap()).unwrap();
    assert_eq!(first["table"], "patient");
    assert_eq!(first["row"], "1");
    assert_eq!(first["actor"], "user:dpo");
}

pub(crate) async fn replay_erases_rows_a_restore_brought_back(db: &Db) {
    let keys = keyring(NEW);
    let db = db.with_keyring(keys.clone());
    write(&db, &keys, 1, "123-45-6789", Some("note")).await;
    write(&db, &keys, 2, "987-65-4321", None).await;
    let backup = stored(&db).await;
    erase::<Patient>(&db, 1).await.unwrap();
    let mut ledger = Vec::new();
    export_erasures(&db, &mut ledger).await.unwrap();

    // A restore from the backup: the old sealed values, no ledger entry.
    let mut tx = db.begin().await.unwrap();
    for (id, tax_id, digest, note) in backup {
        fw::sql("UPDATE patient SET tax_id = $2, tax_id_digest = $3, note = $4 WHERE id = $1")
            .bind(id)
            .bind(tax_id)
            .bind(digest)
            .bind(note)
            .fetch_all(&mut tx, |_| Ok(()))
            .await
            .unwrap();
    }
    fw::sql("DELETE FROM fw_erasure")
        .fetch_all(&mut tx, |_| Ok(()))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(stored(&db).await[0].1.starts_with("fw1:"), "restored");

    let report = replay_erasures(&db, &[model()], ledger.as_slice())
        .await
        .unwrap();
    assert_eq!(report.erased, 1);
    assert_eq!(stored(&db).await[0].1, "");
    assert!(stored(&db).await[1].1.starts_with("fw1:"));
    let again = replay_erasures(&db, &[model()], ledger.as_slice())
        .await
        .unwrap();
    assert_eq!(again.already_erased, 1);

    let bad = replay_erasures(&db, &[model()], &b"{\"table\":\"nope\"}\n"[..]).await;
    assert!(bad.unwrap_err().to_string().contains("line 1"));
}

fw::testing::database_suite! {
    database: crate::DATABASE,
    run: with_tables,
    cases: [
        rotation_rewrites_every_stale_value_and_the_old_key_can_go,
        an_interrupted_rotation_resumes_where_it_stopped,
        rotation_under_concurrent_writes_loses_no_write,
        rotation_skips_a_row_written_after_it_read,
        erasure_leaves_no_clear_value_and_is_idempotent,
        replay_erases_rows_a_restore_brought_back,
    ],
}
