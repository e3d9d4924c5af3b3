//! Backend-agnostic cases for the daily-file import; `import_sqlite.rs` and
//! `import_postgres.rs` run each of them against their own migrated database.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

use chrono::NaiveDate;
use example_dividends::import::{
    ImportError, ImportOptions, ImportSummary, MAX_REPORTED_PROBLEMS, import_file,
};
use example_dividends::models::{Dividend, DividendKind, DividendStatus, Security};
use fw::testing::TestDb;
use fw::{Db, Model};
use rust_decimal::Decimal;

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name)
}

const NORMAL_DAY: &str = "2026-03-16-normal.txt";
const CORRECTIONS_DAY: &str = "2026-03-17-corrections.txt";

fn date(text: &str) -> NaiveDate {
    NaiveDate::from_str(text).expect("test dates are valid")
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).expect("test decimals are valid")
}

async fn import(db: &Db, name: &str) -> ImportSummary {
    import_file(db, &sample(name), ImportOptions::default())
        .await
        .unwrap_or_else(|error| panic!("importing {name} failed: {error}"))
}

/// Every stored row, versions and timestamps included.
async fn snapshot(db: &Db) -> (Vec<Security>, Vec<Dividend>) {
    let securities = Security::query().all(db).await.expect("list securities");
    let dividends = Dividend::query().all(db).await.expect("list dividends");
    (securities, dividends)
}

async fn dividend(db: &Db, announcement_id: &str) -> Dividend {
    Dividend::query()
        .filter(Dividend::ANNOUNCEMENT_ID.eq(announcement_id))
        .first(db)
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("announcement {announcement_id} is stored"))
}

async fn security(db: &Db, symbol: &str) -> Security {
    Security::query()
        .filter(Security::SYMBOL.eq(symbol))
        .first(db)
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("security {symbol} is stored"))
}

/// (new, updated, cancelled, unchanged, securities new, securities updated)
fn counts(summary: &ImportSummary) -> (u64, u64, u64, u64, u64, u64) {
    (
        summary.new,
        summary.updated,
        summary.cancelled,
        summary.unchanged,
        summary.securities_new,
        summary.securities_updated,
    )
}

pub(crate) async fn a_normal_day_stores_every_announcement(test_db: &TestDb) {
    let db = test_db.db();
    let summary = import(db, NORMAL_DAY).await;
    assert_eq!(summary.business_date, date("2026-03-16"));
    assert_eq!(summary.sender, "NBCLEAR");
    assert_eq!(summary.file_sequence, 412);
    assert_eq!(summary.records, 12);
    assert_eq!(counts(&summary), (12, 0, 0, 0, 12, 0));

    let (securities, dividends) = snapshot(db).await;
    assert_eq!((securities.len(), dividends.len()), (12, 12));
    let coca_cola = dividend(db, "DV2026031600005").await;
    let ko = security(db, "KO").await;
    assert_eq!(coca_cola.security.key(), &ko.id);
    assert_eq!(ko.cusip, "191216100");
    assert_eq!(ko.name, "The Coca-Cola Company");
    assert_eq!(coca_cola.rate, dec("0.51"));
    assert_eq!(coca_cola.ex_date, date("2026-03-13"));
    assert_eq!(coca_cola.pay_date, date("2026-04-01"));
    assert_eq!(coca_cola.status, DividendStatus::Announced);
    assert_eq!(coca_cola.version, 1);
    let costco = dividend(db, "DV2026031600011").await;
    assert_eq!(costco.kind, DividendKind::Special);
    assert_eq!(costco.rate, dec("15"));
    let realty_income = dividend(db, "DV2026031600010").await;
    assert_eq!(realty_income.kind, DividendKind::ReturnOfCapital);
    assert_eq!(realty_income.rate, dec("0.2695"));
    let enbridge = dividend(db, "DV2026031600012").await;
    assert_eq!(enbridge.currency, "CAD");
}

pub(crate) async fn importing_a_file_twice_changes_nothing(test_db: &TestDb) {
    let db = test_db.db();
    import(db, NORMAL_DAY).await;
    let before = snapshot(db).await;
    let again = import(db, NORMAL_DAY).await;
    assert_eq!(counts(&again), (0, 0, 0, 12, 0, 0));
    assert!(
        snapshot(db).await == before,
        "a second import must not touch any row (versions, timestamps)"
    );

    import(db, CORRECTIONS_DAY).await;
    let before = snapshot(db).await;
    let again = import(db, CORRECTIONS_DAY).await;
    assert_eq!(counts(&again), (0, 0, 0, 9, 0, 0));
    assert!(
        snapshot(db).await == before,
        "corrections are idempotent too"
    );
}

pub(crate) async fn corrections_update_and_cancellations_are_marked(test_db: &TestDb) {
    let db = test_db.db();
    import(db, NORMAL_DAY).await;
    let summary = import(db, CORRECTIONS_DAY).await;
    // KO and PEP corrected; VZ and the old COST special cancelled; a new COST
    // special, CVX and HD announced; JPM (issuer name only) and a repeated AAPL
    // record unchanged.
    assert_eq!(counts(&summary), (3, 2, 2, 2, 2, 1));

    let coca_cola = dividend(db, "DV2026031600005").await;
    assert_eq!(coca_cola.rate, dec("0.53"));
    assert_eq!(coca_cola.status, DividendStatus::Changed);
    assert_eq!(coca_cola.version, 2);
    let pepsico = dividend(db, "DV2026031600008").await;
    assert_eq!(pepsico.pay_date, date("2026-04-15"));
    assert_eq!(pepsico.status, DividendStatus::Changed);

    let verizon = dividend(db, "DV2026031600009").await;
    assert_eq!(verizon.status, DividendStatus::Cancelled);
    assert_eq!(verizon.rate, dec("0.69"), "a cancellation keeps the terms");
    let old_costco = dividend(db, "DV2026031600011").await;
    assert_eq!(old_costco.status, DividendStatus::Cancelled);
    let new_costco = dividend(db, "DV2026031700001").await;
    assert_eq!(new_costco.status, DividendStatus::Announced);
    assert_eq!(new_costco.security, old_costco.security);
    assert_eq!(new_costco.ex_date, date("2026-04-03"));

    let jpmorgan = dividend(db, "DV2026031600007").await;
    assert_eq!(jpmorgan.status, DividendStatus::Announced);
    assert_eq!(jpmorgan.version, 1);
    let jpm = security(db, "JPM").await;
    assert_eq!(jpm.name, "JPMorgan Chase & Co.");
    assert_eq!(jpm.version, 2);
    assert_eq!(dividend(db, "DV2026031600001").await.version, 1);
    assert_eq!(security(db, "CVX").await.cusip, "166764100");

    let (securities, dividends) = snapshot(db).await;
    assert_eq!((securities.len(), dividends.len()), (14, 15));
}

/// Each broken sample, the lines it must be rejected at, and a fragment of
/// each line's reason.
const BROKEN_SAMPLES: &[(&str, &[(u64, &str)])] = &[
    (
        "broken-bad-dates.txt",
        &[
            (3, "field 9 (ex-date): `20260230` is not a calendar date"),
            (
                4,
                "field 11 (pay date): `2026-04-07` is not a date in the form YYYYMMDD",
            ),
            (
                5,
                "the pay date 2026-03-01 is before the ex-date 2026-03-20",
            ),
        ],
    ),
    (
        "broken-bad-decimal.txt",
        &[
            (2, "field 12 (rate): `0.2.6` is not a decimal amount"),
            (4, "field 12 (rate): `-1.30` is not a decimal amount"),
            (5, "field 12 (rate): `1,0568` is not a decimal amount"),
            (
                6,
                "field 12 (rate): `0.510000001` has more than 8 decimal places",
            ),
        ],
    ),
    (
        "broken-unknown-action.txt",
        &[
            (
                3,
                "field 3 (action): unknown action `UPD`, expected `NEW`, `COR` or `CAN`",
            ),
            (5, "field 3 (action): missing"),
        ],
    ),
    (
        "broken-wrong-column-count.txt",
        &[
            (3, "DTL record has 12 fields, expected 13"),
            (5, "DTL record has 14 fields, expected 13"),
        ],
    ),
    (
        "broken-missing-trailer.txt",
        &[(7, "the file ends without a trailer")],
    ),
    (
        "broken-count-mismatch.txt",
        &[(7, "the trailer counts 6 detail records but the file has 5")],
    ),
    (
        "broken-duplicate-id.txt",
        &[
            (
                4,
                "announcement id `DV2026031600001` is already used on line 2",
            ),
            (
                6,
                "announcement id `DV2026031600002` is already used on line 3",
            ),
        ],
    ),
];

fn assert_rejected(error: &ImportError, name: &str, expected: &[(u64, &str)]) {
    let ImportError::Rejected { problems, more, .. } = error else {
        panic!("{name}: expected a rejection, got {error}");
    };
    assert_eq!(*more, 0, "{name}");
    let lines: Vec<u64> = problems.iter().map(|problem| problem.line).collect();
    let expected_lines: Vec<u64> = expected.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, expected_lines, "{name}: {error}");
    for (problem, (_, reason)) in problems.iter().zip(expected) {
        assert!(
            problem.reason.contains(reason),
            "{name} line {}: {:?} should contain {reason:?}",
            problem.line,
            problem.reason
        );
    }
    let message = error.to_string();
    assert!(message.contains("nothing was imported"), "{message}");
    for line in expected_lines {
        assert!(message.contains(&format!("\n  line {line}: ")), "{message}");
    }
}

pub(crate) async fn broken_files_are_rejected_whole_with_every_bad_line(test_db: &TestDb) {
    let db = test_db.db();
    for (name, expected) in BROKEN_SAMPLES {
        let error = import_file(db, &sample(name), ImportOptions::default())
            .await
            .expect_err(name);
        assert_rejected(&error, name, expected);
    }
    let (securities, dividends) = snapshot(db).await;
    assert!(
        securities.is_empty() && dividends.is_empty(),
        "a rejected file writes nothing, not even its good lines"
    );

    import(db, NORMAL_DAY).await;
    let before = snapshot(db).await;
    for (name, _) in BROKEN_SAMPLES {
        import_file(db, &sample(name), ImportOptions::default())
            .await
            .expect_err(name);
    }
    assert!(
        snapshot(db).await == before,
        "a rejected file leaves stored rows alone"
    );
}

fn write_file(lines: &[String]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temporary file");
    for line in lines {
        writeln!(file, "{line}").expect("write");
    }
    file.flush().expect("flush");
    file
}

pub(crate) async fn a_conflict_found_while_writing_rolls_back_the_whole_file(test_db: &TestDb) {
    let db = test_db.db();
    import(db, NORMAL_DAY).await;
    let before = snapshot(db).await;
    // Line 2 is fine and is written first; line 3 gives the symbol KO to a second
    // CUSIP, which only the database can notice.
    let file = write_file(&[
        "HDR|DIVANN|1|20260318|NBCLEAR|000414".to_owned(),
        "DTL|DV2026031800001|NEW|166764100|CVX|Chevron Corporation|REG|20260317|20260519|20260519|20260610|1.71|USD".to_owned(),
        "DTL|DV2026031800002|NEW|437076102|KO|The Home Depot, Inc.|REG|20260317|20260326|20260326|20260409|2.3|USD".to_owned(),
        "TRL|2".to_owned(),
    ]);
    let error = import_file(db, file.path(), ImportOptions::default())
        .await
        .expect_err("symbol conflict");
    assert_eq!(error.problems().len(), 1, "{error}");
    assert_eq!(error.problems()[0].line, 3, "{error}");
    assert!(
        error.problems()[0]
            .reason
            .contains("symbol `KO` already belongs to a security with another CUSIP"),
        "{error}"
    );
    assert!(
        snapshot(db).await == before,
        "the transaction rolled back line 2"
    );
}

pub(crate) async fn reported_problems_are_capped(test_db: &TestDb) {
    let db = test_db.db();
    let bad_lines = MAX_REPORTED_PROBLEMS + 500;
    let mut lines = vec!["HDR|DIVANN|1|20260316|NBCLEAR|000412".to_owned()];
    lines.extend((0..bad_lines).map(|index| format!("DTL|BAD{index}|NEW")));
    lines.push(format!("TRL|{bad_lines}"));
    let file = write_file(&lines);
    let error = import_file(db, file.path(), ImportOptions::default())
        .await
        .expect_err("every detail line is short");
    let ImportError::Rejected { problems, more, .. } = &error else {
        panic!("expected a rejection, got {error}");
    };
    assert_eq!(problems.len(), MAX_REPORTED_PROBLEMS);
    assert_eq!(*more, 500);
    assert_eq!(problems[0].line, 2);
    assert!(problems.windows(2).all(|pair| pair[0].line < pair[1].line));
    assert!(error.to_string().ends_with("... and 500 more"), "{error}");
}

/// The CUSIP check digit ("double add double", modulus 10).
fn cusip(base: &str) -> String {
    let sum: u32 = base
        .bytes()
        .enumerate()
        .map(|(position, byte)| {
            let value = match byte {
                b'0'..=b'9' => u32::from(byte - b'0'),
                _ => u32::from(byte - b'A') + 10,
            } * if position % 2 == 1 { 2 } else { 1 };
            value / 10 + value % 10
        })
        .sum();
    format!("{base}{}", (10 - sum % 10) % 10)
}

/// A valid file of `records` announcements over `records / 20` securities.
fn large_file(records: usize) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temporary file");
    let mut out = std::io::BufWriter::new(file.as_file_mut());
    let securities = (records / 20).max(1);
    writeln!(out, "HDR|DIVANN|1|20260316|NBCLEAR|000999").expect("write");
    let first_ex_date = date("2026-01-05");
    for index in 0..records {
        let security = index % securities;
        let ex_date = first_ex_date + chrono::Days::new(7 * (index / securities) as u64);
        let ex = ex_date.format("%Y%m%d");
        writeln!(
            out,
            "DTL|G{index:09}|NEW|{}|X{security}|Generated Issuer {security} Inc.|REG|{}|{ex}|{ex}|{}|0.{:04}|USD",
            cusip(&format!("9{security:07}")),
            (ex_date - chrono::Days::new(10)).format("%Y%m%d"),
            (ex_date + chrono::Days::new(14)).format("%Y%m%d"),
            index % 10_000 + 1,
        )
        .expect("write");
    }
    writeln!(out, "TRL|{records}").expect("write");
    out.flush().expect("flush");
    drop(out);
    file
}

/// How many records the large-file case writes: many batches on either
/// database, fewer on PostgreSQL, where every batch is a round trip to a server.
fn large_file_records(dialect: fw::Dialect) -> usize {
    match dialect {
        fw::Dialect::Sqlite => 50_000,
        fw::Dialect::Postgres => 20_000,
    }
}

pub(crate) async fn a_large_file_is_written_one_batch_at_a_time(test_db: &TestDb) {
    let db = test_db.db();
    let records = large_file_records(db.dialect());
    let file = large_file(records);
    let batch_size = 500;
    let started = std::time::Instant::now();
    let summary = import_file(
        db,
        file.path(),
        ImportOptions {
            batch_size,
            ..ImportOptions::default()
        },
    )
    .await
    .expect("the generated file is valid");
    eprintln!("imported {records} records in {:?}", started.elapsed());
    assert_eq!(summary.records, records as u64);
    assert_eq!(
        counts(&summary),
        (records as u64, 0, 0, 0, records as u64 / 20, 0)
    );
    assert_eq!(
        summary.largest_batch, batch_size,
        "never more than one batch in memory"
    );
    assert_eq!(summary.batches, records.div_ceil(batch_size) as u64);
    assert_eq!(
        Dividend::query().count(db).await.expect("count"),
        records as u64
    );
    let last = dividend(db, &format!("G{:09}", records - 1)).await;
    assert_eq!(
        last.rate,
        dec(&format!("0.{:04}", (records - 1) % 10_000 + 1))
    );
}

/// The app as `main` runs it, on the test database. `DATABASE_URL` (from the
/// environment or a `.env` file) would win over the test database, so it must
/// not be set.
fn app_on(test_db: &TestDb) -> fw::App {
    assert!(
        std::env::var_os("DATABASE_URL").is_none(),
        "unset DATABASE_URL to run this test: the app would import into that database"
    );
    let mut directory = std::env::current_dir().ok();
    while let Some(dir) = directory {
        let dotenv = dir.join(".env");
        let text = std::fs::read_to_string(&dotenv).unwrap_or_default();
        assert!(
            !text.contains("DATABASE_URL"),
            "{} sets DATABASE_URL, which would override the test database; remove it to run this test",
            dotenv.display()
        );
        directory = dir.parent().map(Path::to_path_buf);
    }
    example_dividends::app()
        .default_database_url(test_db.url())
        .secret_keys(fw::testing::test_keyring())
}

pub(crate) async fn the_command_exits_non_zero_on_a_rejected_file(test_db: &TestDb) {
    let run = |file: PathBuf| {
        let app = app_on(test_db);
        async move {
            app.run_with([
                "example-dividends".into(),
                "import-dividends".into(),
                file.into_os_string(),
                "--operator".into(),
                OPERATOR.into(),
            ])
            .await
        }
    };
    assert_eq!(run(sample(NORMAL_DAY)).await, ExitCode::SUCCESS);
    assert_eq!(run(sample("broken-bad-dates.txt")).await, ExitCode::FAILURE);
    assert_eq!(run(sample("no-such-file.txt")).await, ExitCode::FAILURE);
    assert_eq!(
        Dividend::query().count(test_db.db()).await.expect("count"),
        12
    );
}

/// The built binary, for what it prints: the summary on stdout, every bad line
/// on stderr.
pub(crate) async fn the_command_prints_a_summary_or_every_bad_line(test_db: &TestDb) {
    let run = |file: &str| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_example-dividends"))
            .arg("import-dividends")
            .arg(sample(file))
            .args(["--operator", OPERATOR])
            .env("DATABASE_URL", test_db.url())
            .env("FW_SECRET_KEYS", fw::testing::TEST_SECRET_KEYS)
            .env("FW_LOG", "warn")
            .current_dir(std::env::temp_dir())
            .output()
            .expect("run the example binary");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, stdout, _) = run(NORMAL_DAY);
    assert_eq!(code, Some(0));
    assert_eq!(
        stdout,
        "Imported NBCLEAR file 412 for 2026-03-16: 12 records\n  \
         dividends:  12 new, 0 updated, 0 cancelled, 0 unchanged\n  \
         securities: 12 new, 0 updated\n"
    );
    let (code, stdout, _) = run(CORRECTIONS_DAY);
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("dividends:  3 new, 2 updated, 2 cancelled, 2 unchanged"),
        "{stdout}"
    );

    let (code, stdout, stderr) = run("broken-unknown-action.txt");
    assert_eq!(code, Some(1));
    assert_eq!(stdout, "");
    assert!(
        stderr.contains(
            "broken-unknown-action.txt was rejected and nothing was imported: 2 problems"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("\n  line 3: field 3 (action): unknown action `UPD`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("\n  line 5: field 3 (action): missing"),
        "{stderr}"
    );
}

/// Without a terminal, a large import prints a line for each phase, the
/// commit included, so a log shows where a long import is.
pub(crate) async fn the_command_reports_each_phase_without_a_terminal(test_db: &TestDb) {
    let file = large_file(10_000);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_example-dividends"))
        .arg("import-dividends")
        .arg(file.path())
        .args(["--operator", OPERATOR])
        .env("DATABASE_URL", test_db.url())
        .env("FW_SECRET_KEYS", fw::testing::TEST_SECRET_KEYS)
        .env("FW_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run the example binary");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // A phase that lasts more than 10 seconds adds a line of its own.
    let mut phases: Vec<&str> = stderr
        .lines()
        .filter_map(|line| line.split([':', ' ']).next())
        .collect();
    phases.dedup();
    assert_eq!(phases, ["checking", "importing", "committing"], "{stderr}");
    assert!(stderr.contains("importing: 10,000 records\n"), "{stderr}");
    assert!(stderr.contains("committing 10,000 records..."), "{stderr}");
}

/// Only a user whose roles grant `import_dividends` may import: anyone else,
/// or a user who does not exist, is refused before the file is read, and
/// nothing is written.
pub(crate) async fn the_command_imports_only_as_an_operator_who_may(test_db: &TestDb) {
    run_command(
        test_db,
        &["createuser", "sam", "--no-password", "--role", "support"],
    )
    .await;
    for operator in ["sam", "nobody"] {
        let code = app_on(test_db)
            .run_with([
                "example-dividends".into(),
                "import-dividends".into(),
                sample(NORMAL_DAY).into_os_string(),
                "--operator".into(),
                operator.into(),
            ])
            .await;
        assert_eq!(code, ExitCode::FAILURE, "importing as {operator}");
    }
    assert_eq!(
        Dividend::query().count(test_db.db()).await.expect("count"),
        0
    );
    assert_eq!(
        Security::query().count(test_db.db()).await.expect("count"),
        0
    );
}

/// The operator the commands here import as.
const OPERATOR: &str = "olivia";

/// Runs the example's command `args` on the test database; it must succeed.
async fn run_command(test_db: &TestDb, args: &[&str]) {
    let code = app_on(test_db)
        .run_with(std::iter::once("example-dividends").chain(args.iter().copied()))
        .await;
    assert_eq!(code, ExitCode::SUCCESS, "`{}`", args.join(" "));
}

/// Runs `case` on a fresh database set up as a deployment sets one up:
/// `migrate` (the example's migrations and its declared roles), then an
/// operator with the `operations` role.
async fn on_migrated(test_db: TestDb, case: impl AsyncFnOnce(&TestDb)) {
    run_command(&test_db, &["migrate"]).await;
    run_command(
        &test_db,
        &[
            "createuser",
            OPERATOR,
            "--no-password",
            "--role",
            "operations",
        ],
    )
    .await;
    case(&test_db).await;
}

fw::testing::database_suite! {
    database: crate::DATABASE,
    run: on_migrated,
    cases: [
        a_normal_day_stores_every_announcement,
        importing_a_file_twice_changes_nothing,
        corrections_update_and_cancellations_are_marked,
        broken_files_are_rejected_whole_with_every_bad_line,
        a_conflict_found_while_writing_rolls_back_the_whole_file,
        reported_problems_are_capped,
        a_large_file_is_written_one_batch_at_a_time,
        the_command_exits_non_zero_on_a_rejected_file,
        the_command_prints_a_summary_or_every_bad_line,
        the_command_reports_each_phase_without_a_terminal,
        the_command_imports_only_as_an_operator_who_may,
    ],
}
