//! Backend-agnostic cases for the change log; `changes_sqlite.rs` and
//! `changes_postgres.rs` run each of them against their own database.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use fw::changes::{self, Change, FieldChange, Operation};
use fw::{Db, Model, Ref};
use serde_json::json;
use uuid::Uuid;

use super::models::*;
use crate::http::{
    bad_change_log_parameters_are_400_naming_them, changes_are_served_in_pages_with_next_links,
    requests_record_their_actor_and_request_id, the_change_log_and_history_need_their_permissions,
    the_change_log_api_is_in_the_openapi_document, the_live_tail_streams_new_changes_and_resumes,
};

fn new_security(symbol: &str) -> NewSecurity {
    NewSecurity {
        symbol: symbol.to_owned(),
        name: format!("{symbol} Corp"),
        note: None,
    }
}

async fn all_changes(db: &Db) -> Vec<Change> {
    changes::after(0)
        .fetch(db)
        .await
        .expect("read the change log")
}

fn field<'c>(change: &'c Change, name: &str) -> &'c FieldChange {
    change
        .fields
        .iter()
        .find(|field| field.field == name)
        .unwrap_or_else(|| panic!("`{name}` is not among the changed fields of {change:?}"))
}

fn field_names(change: &Change) -> Vec<&str> {
    change
        .fields
        .iter()
        .map(|field| field.field.as_str())
        .collect()
}

pub(crate) async fn every_kind_of_write_is_recorded(db: &Db) {
    let acme = Security::insert(db, new_security("ACME")).await.unwrap();
    let mut renamed = acme.clone();
    renamed.name = "Acme Holdings".to_owned();
    let renamed = renamed.update(db).await.unwrap();
    let patched = Security::patch(
        db,
        acme.id,
        SecurityPatch {
            note: Some(Some("watch".to_owned())),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // An empty patch and an unchanged upsert write nothing, so record nothing.
    Security::patch(db, acme.id, SecurityPatch::default())
        .await
        .unwrap();
    let unchanged = NewSecurity {
        symbol: "ACME".to_owned(),
        name: "Acme Holdings".to_owned(),
        note: Some("watch".to_owned()),
    };
    Security::upsert(db, unchanged, Security::SYMBOL)
        .await
        .unwrap();
    let upserted = Security::upsert(db, new_security("ACME"), Security::SYMBOL)
        .await
        .unwrap();
    let inserted_by_upsert = Security::upsert(db, new_security("BOLT"), Security::SYMBOL)
        .await
        .unwrap();
    let many = Security::insert_many(db, vec![new_security("CORE"), new_security("DYNA")])
        .await
        .unwrap();
    Security::delete(db, acme.id).await.unwrap();

    let log = all_changes(db).await;
    let summary: Vec<(i64, Operation, String, Option<i64>)> = log
        .iter()
        .map(|c| (c.seq, c.operation, c.key.clone(), c.version))
        .collect();
    let id = |row: &Security| row.id.to_string();
    assert_eq!(
        summary,
        vec![
            (1, Operation::Insert, id(&acme), Some(1)),
            (2, Operation::Update, id(&acme), Some(2)),
            (3, Operation::Update, id(&acme), Some(3)),
            (4, Operation::Update, id(&acme), Some(4)),
            (5, Operation::Insert, id(&inserted_by_upsert), Some(1)),
            (6, Operation::Insert, id(&many[0]), Some(1)),
            (7, Operation::Insert, id(&many[1]), Some(1)),
            (8, Operation::Delete, id(&acme), Some(4)),
        ],
        "one record per written row, numbered from 1 without gaps"
    );
    assert!(log.iter().all(|c| c.model == "security"));

    // Inserts and deletes carry the whole row (the version has its own column).
    assert_eq!(
        field_names(&log[0]),
        ["id", "symbol", "name", "note", "updated_at"]
    );
    assert_eq!(field(&log[0], "symbol").new, Some(json!("ACME")));
    assert_eq!(field(&log[0], "symbol").old, None);
    assert_eq!(field(&log[0], "note").new, Some(json!(null)));
    assert_eq!(field_names(&log[7]), field_names(&log[0]));
    assert_eq!(field(&log[7], "name").old, Some(json!("ACME Corp")));
    assert_eq!(field(&log[7], "name").new, None);

    // Updates carry only what changed, old and new.
    assert_eq!(field_names(&log[1]), ["name", "updated_at"]);
    assert_eq!(field(&log[1], "name").old, Some(json!("ACME Corp")));
    assert_eq!(field(&log[1], "name").new, Some(json!("Acme Holdings")));
    assert_eq!(
        field(&log[1], "updated_at").new,
        Some(
            renamed
                .updated_at
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
                .into()
        )
    );
    assert_eq!(field_names(&log[2]), ["note", "updated_at"]);
    assert_eq!(field(&log[2], "note").old, Some(json!(null)));
    assert_eq!(field(&log[2], "note").new, Some(json!("watch")));
    assert_eq!(patched.version, 3);
    assert_eq!(field_names(&log[3]), ["name", "note", "updated_at"]);
    assert_eq!(field(&log[3], "note").new, Some(json!(null)));
    assert_eq!(upserted.version, 4);
}

pub(crate) async fn rollback_leaves_nothing(db: &Db) {
    let mut tx = db.begin().await.unwrap();
    Security::insert(&mut tx, new_security("GONE"))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    {
        let mut tx = db.begin().await.unwrap();
        Security::insert(&mut tx, new_security("DROP"))
            .await
            .unwrap();
        // dropped without commit
    }
    // All or nothing: the second row violates the unique symbol.
    Security::insert_many(db, vec![new_security("DUPE"), new_security("DUPE")])
        .await
        .expect_err("a duplicate symbol");
    let kept = Security::insert(db, new_security("KEPT")).await.unwrap();
    // A failed update is no change either.
    let mut stale = kept.clone();
    stale.version = 7;
    stale.update(db).await.expect_err("a stale version");
    Security::delete(db, 404).await.expect_err("no such row");

    let log = all_changes(db).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        (log[0].seq, log[0].key.as_str()),
        (1, kept.id.to_string().as_str()),
        "rolled-back transactions return their numbers"
    );
}

pub(crate) async fn a_transaction_commits_its_records_together(db: &Db) {
    let mut tx = db.begin().await.unwrap();
    let first = Security::insert(&mut tx, new_security("ONE"))
        .await
        .unwrap();
    Security::insert(&mut tx, new_security("TWO"))
        .await
        .unwrap();
    Security::patch(
        &mut tx,
        first.id,
        SecurityPatch {
            name: Some("One Inc".to_owned()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(
        all_changes(db).await.is_empty(),
        "nothing is visible before the commit"
    );
    tx.commit().await.unwrap();
    let log = all_changes(db).await;
    let seqs: Vec<i64> = log.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert_eq!(
        log.iter().map(|c| c.operation).collect::<Vec<_>>(),
        [Operation::Insert, Operation::Insert, Operation::Update]
    );
}

/// More records than a transaction holds in memory (a thousand) keep every
/// promise: invisible before the commit, numbered densely in the order they
/// were made and in commit order with the transactions around them, and all
/// gone with a rollback.
pub(crate) async fn a_large_transaction_keeps_every_guarantee(db: &Db) {
    const ROWS: usize = 2_500;
    let rows = |prefix: &str| -> Vec<NewSecurity> {
        (0..ROWS)
            .map(|index| new_security(&format!("{prefix}{index}")))
            .collect()
    };

    let mut rolled_back = db.begin().await.unwrap();
    Security::insert_many(&mut rolled_back, rows("R"))
        .await
        .unwrap();
    rolled_back.rollback().await.unwrap();

    let mut tx = db.begin().await.unwrap();
    let inserted = Security::insert_many(&mut tx, rows("L")).await.unwrap();
    Security::patch(
        &mut tx,
        inserted[0].id,
        SecurityPatch {
            name: Some("First of many".to_owned()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(
        all_changes(db).await.is_empty(),
        "nothing is visible before the commit"
    );
    // On PostgreSQL another writer commits while the large transaction is
    // open, and so takes the first number. (SQLite's one writer waits.)
    let small = if db.dialect() == fw::Dialect::Postgres {
        Some(Security::insert(db, new_security("SMALL")).await.unwrap())
    } else {
        None
    };
    tx.commit().await.unwrap();

    let mut log: Vec<Change> = Vec::new();
    loop {
        let after = log.last().map_or(0, |change| change.seq);
        let page = changes::after(after).limit(1000).fetch(db).await.unwrap();
        if page.is_empty() {
            break;
        }
        log.extend(page);
    }
    let seqs: Vec<i64> = log.iter().map(|change| change.seq).collect();
    let expected = ROWS + 1 + usize::from(small.is_some());
    assert_eq!(
        seqs,
        (1..=expected as i64).collect::<Vec<_>>(),
        "dense, and the rollback returned its numbers"
    );
    let large = match &small {
        Some(small) => {
            assert_eq!(log[0].key, small.id.to_string(), "in commit order");
            &log[1..]
        }
        None => &log[..],
    };
    let keys: Vec<String> = large.iter().map(|change| change.key.clone()).collect();
    let mut made: Vec<String> = inserted.iter().map(|row| row.id.to_string()).collect();
    made.push(inserted[0].id.to_string());
    assert_eq!(keys, made, "in the order the writes were made");
    assert_eq!(large[ROWS].operation, Operation::Update);
    assert_eq!(
        field(&large[ROWS], "name").new,
        Some(json!("First of many"))
    );
}

pub(crate) async fn sensitive_fields_are_recorded_without_values(db: &Db) {
    let account = Account::insert(
        db,
        NewAccount {
            tax_id: "123-45-6789".to_owned(),
            nickname: "savings".to_owned(),
        },
    )
    .await
    .unwrap();
    Account::patch(
        db,
        account.id,
        AccountPatch {
            tax_id: Some("987-65-4321".to_owned()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    Account::delete(db, account.id).await.unwrap();

    let log = all_changes(db).await;
    assert_eq!(log.len(), 3);
    for change in &log {
        let tax_id = field(change, "tax_id");
        assert!(tax_id.sensitive && tax_id.old.is_none() && tax_id.new.is_none());
        let line = serde_json::to_string(change).unwrap();
        assert!(
            !line.contains("6789") && !line.contains("4321"),
            "a sensitive value reached the log: {line}"
        );
    }
    assert_eq!(field_names(&log[1]), ["tax_id"], "recorded as changed");
    assert_eq!(field(&log[0], "nickname").new, Some(json!("savings")));
    assert_eq!(log[0].key, account.id.to_string());
}

pub(crate) async fn history_lists_one_rows_changes(db: &Db) {
    let acme = Security::insert(db, new_security("ACME")).await.unwrap();
    let other = Security::insert(db, new_security("BOLT")).await.unwrap();
    for name in ["Acme 2", "Acme 3"] {
        Security::patch(
            db,
            acme.id,
            SecurityPatch {
                name: Some(name.to_owned()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    let history = Security::history(db, acme.id).await.unwrap();
    let versions: Vec<Option<i64>> = history.iter().map(|c| c.version).collect();
    assert_eq!(versions, [Some(1), Some(2), Some(3)]);
    assert_eq!(Security::history(db, other.id).await.unwrap().len(), 1);
    assert!(Security::history(db, 404).await.unwrap().is_empty());

    let account = Account::insert(
        db,
        NewAccount {
            tax_id: "1".to_owned(),
            nickname: "n".to_owned(),
        },
    )
    .await
    .unwrap();
    assert_eq!(Account::history(db, account.id).await.unwrap().len(), 1);
    assert!(
        Account::history(db, Uuid::now_v7())
            .await
            .unwrap()
            .is_empty()
    );
}

pub(crate) async fn pages_follow_the_cursor_and_filter_by_model(db: &Db) {
    for index in 0..5 {
        Security::insert(db, new_security(&format!("S{index}")))
            .await
            .unwrap();
        Account::insert(
            db,
            NewAccount {
                tax_id: format!("T{index}"),
                nickname: format!("A{index}"),
            },
        )
        .await
        .unwrap();
    }
    let mut seen = Vec::new();
    let mut last = 0;
    loop {
        let page = changes::after(last).limit(3).fetch(db).await.unwrap();
        assert!(page.len() <= 3);
        let Some(tail) = page.last() else { break };
        last = tail.seq;
        seen.extend(page.iter().map(|c| c.seq));
    }
    assert_eq!(seen, (1..=10).collect::<Vec<_>>());

    let accounts = changes::after(2)
        .model(Account::TABLE)
        .fetch(db)
        .await
        .unwrap();
    assert_eq!(
        accounts.iter().map(|c| c.seq).collect::<Vec<_>>(),
        [4, 6, 8, 10]
    );
    assert!(accounts.iter().all(|c| c.model == "account"));
}

pub(crate) async fn models_without_changelog_record_nothing(db: &Db) {
    let note = Note::insert(
        db,
        NewNote {
            text: "hello".to_owned(),
        },
    )
    .await
    .unwrap();
    Note::delete(db, note.id).await.unwrap();
    assert!(all_changes(db).await.is_empty());
}

pub(crate) async fn actor_and_request_id_are_recorded(db: &Db) {
    Security::insert(db, new_security("ANON")).await.unwrap();
    changes::with_actor(
        Some("user:42".to_owned()),
        Some("req-1".to_owned()),
        async {
            let mut tx = db.begin().await.unwrap();
            Security::insert(&mut tx, new_security("MINE"))
                .await
                .unwrap();
            tx.commit().await.unwrap();
        },
    )
    .await;
    let log = all_changes(db).await;
    assert_eq!(
        (log[0].actor.as_deref(), log[0].request_id.as_deref()),
        (None, None)
    );
    assert_eq!(
        (log[1].actor.as_deref(), log[1].request_id.as_deref()),
        (Some("user:42"), Some("req-1"))
    );
}

/// The hard guarantee: writers commit concurrently and out of order (each holds
/// its transaction open for a while after writing, and some roll back), while a
/// consumer polls "everything after the last number I saw". It must see every
/// committed change exactly once, in an order where each row's versions rise.
pub(crate) async fn a_polling_reader_sees_every_change_exactly_once(db: &Db) {
    const WRITERS: usize = 8;
    const TRANSACTIONS_EACH: usize = 25;
    const SHARED_ROWS: usize = 4;
    let mut shared = Vec::new();
    for index in 0..SHARED_ROWS {
        let row = Security::insert(db, new_security(&format!("SH{index}")))
            .await
            .unwrap();
        shared.push(row.id);
    }
    let committed = Arc::new(AtomicUsize::new(SHARED_ROWS));
    let writing = Arc::new(AtomicBool::new(true));

    let reader = {
        let db = db.clone();
        let writing = writing.clone();
        tokio::spawn(async move {
            let mut seen: Vec<Change> = Vec::new();
            let mut last = 0;
            loop {
                let done = !writing.load(Ordering::SeqCst);
                let page = changes::after(last).limit(7).fetch(&db).await.unwrap();
                match page.last() {
                    Some(tail) => last = tail.seq,
                    // Writers had finished before this empty read began: drained.
                    None if done => break,
                    None => tokio::time::sleep(Duration::from_millis(1)).await,
                }
                seen.extend(page);
            }
            seen
        })
    };

    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let db = db.clone();
        let shared = shared.clone();
        let committed = committed.clone();
        writers.push(tokio::spawn(async move {
            for round in 0..TRANSACTIONS_EACH {
                let mut tx = db.begin().await.unwrap();
                let mut changes_made = 0;
                if round % 2 == 0 {
                    Security::insert(&mut tx, new_security(&format!("W{writer}R{round}")))
                        .await
                        .unwrap();
                    changes_made += 1;
                }
                let row = shared[(writer + round) % SHARED_ROWS];
                Security::patch(
                    &mut tx,
                    row,
                    SecurityPatch {
                        name: Some(format!("writer {writer} round {round}")),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
                changes_made += 1;
                // Keep the transaction open, so commits interleave in every order.
                tokio::time::sleep(Duration::from_millis(((writer * 7 + round * 3) % 4) as u64))
                    .await;
                if (writer + round) % 5 == 0 {
                    tx.rollback().await.unwrap();
                } else {
                    tx.commit().await.unwrap();
                    committed.fetch_add(changes_made, Ordering::SeqCst);
                }
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    writing.store(false, Ordering::SeqCst);
    let seen = reader.await.unwrap();

    let total = committed.load(Ordering::SeqCst);
    let seqs: Vec<i64> = seen.iter().map(|c| c.seq).collect();
    let unique: HashSet<i64> = seqs.iter().copied().collect();
    assert_eq!(unique.len(), seqs.len(), "a change was seen twice");
    let logged: Vec<i64> = all_changes(db).await.iter().map(|c| c.seq).collect();
    let skipped: Vec<i64> = logged
        .iter()
        .copied()
        .filter(|seq| !unique.contains(seq))
        .collect();
    assert!(skipped.is_empty(), "the reader skipped {skipped:?}");
    assert_eq!(seqs, logged, "seen in log order");
    assert_eq!(
        seqs,
        (1..=total as i64).collect::<Vec<_>>(),
        "one number per committed change, without gaps"
    );
    let mut versions: BTreeMap<String, i64> = BTreeMap::new();
    for change in &seen {
        let version = change.version.expect("versioned model");
        let previous = versions.insert(change.key.clone(), version);
        assert!(
            previous.is_none_or(|previous| previous + 1 == version),
            "row {} went from version {previous:?} to {version}",
            change.key
        );
    }
}

/// One acknowledged transaction of [`many_writers_and_two_consumers_agree_on_every_acknowledged_write`]:
/// the writes it made, as `(key, version)` in the order it made them, and
/// the ticks of a clock shared by all writers taken right before its commit
/// began and right after it returned.
struct Acknowledged {
    writes: Vec<(String, i64)>,
    commit_began: usize,
    commit_returned: usize,
}

/// Reads the log from the start until, after the writers are done, a read
/// finds nothing new; every page read while they write.
async fn consume(db: Db, page_size: u32, writing: Arc<AtomicBool>) -> Vec<Change> {
    let mut seen: Vec<Change> = Vec::new();
    loop {
        let done = !writing.load(Ordering::SeqCst);
        let after = seen.last().map_or(0, |change| change.seq);
        let page = changes::after(after)
            .limit(page_size)
            .fetch(&db)
            .await
            .unwrap();
        if page.is_empty() {
            // The writers had finished before this empty read began: drained.
            if done {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        seen.extend(page);
    }
}

/// Sixty-four writers commit concurrently (some transactions rolled back,
/// several writers on the same rows) while two consumers page through the log
/// with different page sizes, and on PostgreSQL a background sequencer runs
/// too. Against every acknowledged write: each consumer saw it exactly once,
/// and nothing else; positions are dense from 1; both consumers saw the same
/// log; each row's versions rise one by one; a transaction's writes are in the
/// order it made them; and a transaction whose commit returned before another's
/// began comes first.
pub(crate) async fn many_writers_and_two_consumers_agree_on_every_acknowledged_write(db: &Db) {
    const WRITERS: usize = 64;
    const TRANSACTIONS_EACH: usize = 6;
    const SHARED_ROWS: usize = 8;
    let mut initial = Vec::new();
    for index in 0..SHARED_ROWS {
        initial.push(
            Security::insert(db, new_security(&format!("SH{index}")))
                .await
                .unwrap(),
        );
    }
    let shared: Vec<i64> = initial.iter().map(|row| row.id).collect();
    let clock = Arc::new(AtomicUsize::new(0));
    let writing = Arc::new(AtomicBool::new(true));
    let (stop_sequencer, sequencer_stopped) = tokio::sync::oneshot::channel::<()>();
    let sequencer = tokio::spawn(changes::keep_sequenced(db.clone(), async {
        let _ = sequencer_stopped.await;
    }));
    let consumers =
        [5, 64].map(|page_size| tokio::spawn(consume(db.clone(), page_size, writing.clone())));

    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let db = db.clone();
        let shared = shared.clone();
        let clock = clock.clone();
        writers.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for round in 0..TRANSACTIONS_EACH {
                let mut tx = db.begin().await.unwrap();
                let mut writes = Vec::new();
                if (writer + round) % 2 == 0 {
                    let row =
                        Security::insert(&mut tx, new_security(&format!("W{writer}R{round}")))
                            .await
                            .unwrap();
                    writes.push((row.id.to_string(), row.version));
                }
                let row = Security::patch(
                    &mut tx,
                    shared[(writer * 3 + round) % SHARED_ROWS],
                    SecurityPatch {
                        name: Some(format!("writer {writer} round {round}")),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
                writes.push((row.id.to_string(), row.version));
                if (writer + round) % 7 == 0 {
                    tx.rollback().await.unwrap();
                    continue;
                }
                let commit_began = clock.fetch_add(1, Ordering::SeqCst);
                tx.commit().await.unwrap();
                let commit_returned = clock.fetch_add(1, Ordering::SeqCst);
                acknowledged.push(Acknowledged {
                    writes,
                    commit_began,
                    commit_returned,
                });
            }
            acknowledged
        }));
    }
    let mut acknowledged = Vec::new();
    for writer in writers {
        acknowledged.extend(writer.await.unwrap());
    }
    writing.store(false, Ordering::SeqCst);
    let [first, second] = consumers;
    let (first, second) = (first.await.unwrap(), second.await.unwrap());
    // On SQLite the sequencer has nothing to do and is gone already.
    let _ = stop_sequencer.send(());
    sequencer.await.unwrap();

    let summary = |log: &[Change]| -> Vec<(i64, String, i64)> {
        log.iter()
            .map(|change| (change.seq, change.key.clone(), change.version.unwrap()))
            .collect()
    };
    assert_eq!(
        summary(&first),
        summary(&second),
        "the consumers saw one log"
    );
    let mut expected: Vec<(String, i64)> = initial
        .iter()
        .map(|row| (row.id.to_string(), row.version))
        .collect();
    expected.extend(
        acknowledged
            .iter()
            .flat_map(|ack| ack.writes.iter().cloned()),
    );
    let seqs: Vec<i64> = first.iter().map(|change| change.seq).collect();
    assert_eq!(
        seqs,
        (1..=expected.len() as i64).collect::<Vec<_>>(),
        "one position per acknowledged write, dense from 1"
    );
    let position: BTreeMap<(String, i64), i64> = first
        .iter()
        .map(|change| ((change.key.clone(), change.version.unwrap()), change.seq))
        .collect();
    assert_eq!(position.len(), first.len(), "a write was recorded twice");
    let mut recorded: Vec<&(String, i64)> = position.keys().collect();
    let mut wanted: Vec<&(String, i64)> = expected.iter().collect();
    recorded.sort();
    wanted.sort();
    assert_eq!(
        recorded, wanted,
        "the log holds exactly the acknowledged writes"
    );

    let mut versions: BTreeMap<&str, i64> = BTreeMap::new();
    for change in &first {
        let version = change.version.unwrap();
        let previous = versions.insert(&change.key, version);
        assert!(
            previous.is_none_or(|previous| previous + 1 == version),
            "row {} went from version {previous:?} to {version}",
            change.key
        );
    }
    // Each transaction's positions, in the order it made its writes.
    let positions: Vec<Vec<i64>> = acknowledged
        .iter()
        .map(|ack| ack.writes.iter().map(|write| position[write]).collect())
        .collect();
    for made in &positions {
        assert!(
            made.is_sorted(),
            "a transaction's writes out of order: {made:?}"
        );
    }
    // Walking the transactions in the order their commits began, the highest
    // position of those whose commit had returned by then is below the
    // lowest of the one beginning.
    let mut by_return: Vec<usize> = (0..acknowledged.len()).collect();
    by_return.sort_by_key(|&index| acknowledged[index].commit_returned);
    let mut by_begin: Vec<usize> = (0..acknowledged.len()).collect();
    by_begin.sort_by_key(|&index| acknowledged[index].commit_began);
    let (mut returned, mut highest_returned) = (0, 0);
    for index in by_begin {
        while returned < by_return.len()
            && acknowledged[by_return[returned]].commit_returned < acknowledged[index].commit_began
        {
            highest_returned = highest_returned.max(
                positions[by_return[returned]][..]
                    .iter()
                    .copied()
                    .max()
                    .unwrap(),
            );
            returned += 1;
        }
        let lowest = positions[index].iter().copied().min().unwrap();
        assert!(
            highest_returned < lowest,
            "a transaction committed after one that returned earlier got position {lowest}, below {highest_returned}"
        );
    }
}

pub(crate) async fn pages_and_follow_stream_the_log(db: &Db) {
    use futures_util::StreamExt as _;

    for symbol in ["ACME", "BOLT", "CORE", "DYNA", "EPIC"] {
        Security::insert(db, new_security(symbol)).await.unwrap();
    }
    let seqs = |page: &[Change]| page.iter().map(|c| c.seq).collect::<Vec<_>>();

    let pages: Vec<Vec<i64>> = changes::after(1)
        .limit(2)
        .pages(db.clone())
        .map(|page| seqs(&page.expect("read a page")))
        .collect()
        .await;
    assert_eq!(
        pages,
        [vec![2, 3], vec![4, 5]],
        "pages end at the end of the log"
    );

    let mut follow = std::pin::pin!(
        changes::after(3)
            .limit(2)
            .follow(db.clone(), Duration::from_millis(20))
    );
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(10), follow.next())
            .await
            .expect("a page in time")
            .expect("the tail never ends")
            .expect("read a page")
    };
    assert_eq!(seqs(&next().await), [4, 5]);
    Security::insert(db, new_security("FLUX")).await.unwrap();
    assert_eq!(
        seqs(&next().await),
        [6],
        "new changes arrive as they commit"
    );
    Security::insert_many(db, vec![new_security("GRIT"), new_security("HALO")])
        .await
        .unwrap();
    assert_eq!(seqs(&next().await), [7, 8]);
}

async fn quote_of(db: &Db, security: &Security) -> Quote {
    let new = NewQuote {
        security: Ref::from(security),
        price: 1234,
    };
    Quote::insert(db, new).await.unwrap()
}

async fn alert_on(db: &Db, security: &Security) -> Alert {
    let new = NewAlert {
        security: Some(Ref::from(security)),
        text: "above 12".to_owned(),
    };
    Alert::insert(db, new).await.unwrap()
}

/// Deleting a security records what its foreign keys do, before its own
/// delete: the lots of its holdings removed (the holdings record nothing), its
/// quotes removed, its alerts' reference cleared as an update.
pub(crate) async fn deletes_record_what_their_foreign_keys_do(db: &Db) {
    let db = &super::models::app().attach(db);
    let acme = Security::insert(db, new_security("ACME")).await.unwrap();
    let bolt = Security::insert(db, new_security("BOLT")).await.unwrap();
    let holding = |security: &Security, shares| {
        Holding::insert(
            db,
            NewHolding {
                security: Ref::from(security),
                shares,
            },
        )
    };
    let first = holding(&acme, 100).await.unwrap();
    let second = holding(&acme, 50).await.unwrap();
    let kept = holding(&bolt, 10).await.unwrap();
    let lot = |holding: &Holding| {
        Lot::insert(
            db,
            NewLot {
                holding: Ref::from(holding),
                shares: 10,
            },
        )
    };
    let removed_lot = lot(&first).await.unwrap();
    let kept_lot = lot(&kept).await.unwrap();
    let quote = quote_of(db, &acme).await;
    let alert = alert_on(db, &acme).await;
    let before = all_changes(db).await.len();

    Security::delete(db, acme.id).await.unwrap();

    let log = all_changes(db).await;
    let written: Vec<(&str, Operation, String, Option<i64>)> = log[before..]
        .iter()
        .map(|c| (c.model.as_str(), c.operation, c.key.clone(), c.version))
        .collect();
    assert_eq!(
        written,
        vec![
            ("lot", Operation::Delete, removed_lot.id.to_string(), None),
            ("quote", Operation::Delete, quote.id.to_string(), None),
            ("alert", Operation::Update, alert.id.to_string(), Some(2)),
            ("security", Operation::Delete, acme.id.to_string(), Some(1)),
        ]
    );
    let cleared = &log[before + 2];
    assert_eq!(field_names(cleared), ["security"]);
    assert_eq!(field(cleared, "security").old, Some(json!(acme.id)));
    assert_eq!(field(cleared, "security").new, Some(json!(null)));
    assert_eq!(field(&log[before], "shares").old, Some(json!(10)));

    let alert_now = Alert::get(db, alert.id).await.unwrap();
    assert_eq!((alert_now.security, alert_now.version), (None, 2));
    for gone in [first.id, second.id] {
        assert!(Holding::find(db, gone).await.unwrap().is_none());
    }
    assert!(Lot::find(db, removed_lot.id).await.unwrap().is_none());
    assert!(Quote::find(db, quote.id).await.unwrap().is_none());
    assert_eq!(Lot::get(db, kept_lot.id).await.unwrap(), kept_lot);
}

/// A delete that a `restrict` foreign key refuses leaves its cascades
/// unwritten and unrecorded.
pub(crate) async fn a_refused_delete_records_none_of_its_cascades(db: &Db) {
    let db = &super::models::app().attach(db);
    let acme = Security::insert(db, new_security("ACME")).await.unwrap();
    let alert = alert_on(db, &acme).await;
    let quote = quote_of(db, &acme).await;
    Trade::insert(
        db,
        NewTrade {
            security: Ref::from(&acme),
        },
    )
    .await
    .unwrap();
    let before = all_changes(db).await;

    let refused = Security::delete(db, acme.id).await.unwrap_err();

    assert!(
        matches!(refused, fw::Error::ForeignKeyViolation { .. }),
        "{refused:?}"
    );
    assert_eq!(all_changes(db).await, before);
    assert_eq!(Alert::get(db, alert.id).await.unwrap(), alert);
    assert_eq!(Quote::get(db, quote.id).await.unwrap(), quote);
}

/// Runs `case` on a fresh database with the test models' tables.
async fn with_tables(test_db: fw::testing::TestDb, case: impl AsyncFnOnce(&Db)) {
    fw::testing::create_tables(test_db.db(), &all())
        .await
        .expect("create the test tables");
    case(test_db.db()).await;
}

fw::testing::database_suite! {
    database: crate::DATABASE,
    run: with_tables,
    cases: [
        every_kind_of_write_is_recorded,
        rollback_leaves_nothing,
        a_transaction_commits_its_records_together,
        a_large_transaction_keeps_every_guarantee,
        sensitive_fields_are_recorded_without_values,
        history_lists_one_rows_changes,
        pages_follow_the_cursor_and_filter_by_model,
        models_without_changelog_record_nothing,
        deletes_record_what_their_foreign_keys_do,
        a_refused_delete_records_none_of_its_cascades,
        actor_and_request_id_are_recorded,
        a_polling_reader_sees_every_change_exactly_once,
        many_writers_and_two_consumers_agree_on_every_acknowledged_write,
        pages_and_follow_stream_the_log,
        changes_are_served_in_pages_with_next_links,
        bad_change_log_parameters_are_400_naming_them,
        the_live_tail_streams_new_changes_and_resumes,
        requests_record_their_actor_and_request_id,
        the_change_log_api_is_in_the_openapi_document,
        the_change_log_and_history_need_their_permissions,
    ],
}
