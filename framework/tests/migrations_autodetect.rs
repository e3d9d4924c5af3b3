//! The autodetector, the migration file format and the deploy-safety lint; no
//! database needed.

#[path = "migrations/models.rs"]
mod models;

use std::path::Path;

use fw::Dialect;
use fw::migrate::{MakeOptions, MakeOutcome, MigrateError, makemigrations, schema_sql};
use fw::schema::{DefaultValue, FieldSchema, ModelSchema, OnDelete, SqlType};
use models::*;

fn make(dir: &Path, models: &[&ModelSchema]) -> MakeOutcome {
    makemigrations(dir, models, MakeOptions::default()).unwrap_or_else(|error| panic!("{error}"))
}

fn make_error(dir: &Path, models: &[&ModelSchema]) -> MigrateError {
    makemigrations(dir, models, MakeOptions::default()).unwrap_err()
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn finding_keys(outcome: &MakeOutcome) -> Vec<String> {
    match outcome {
        MakeOutcome::Written(written) => written
            .iter()
            .flat_map(|migration| migration.findings.iter().map(|f| f.key.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

#[test]
fn ddl_postgres() {
    insta::assert_snapshot!(schema_sql(MODELS_V3, Dialect::Postgres).unwrap());
}

#[test]
fn ddl_sqlite() {
    insta::assert_snapshot!(schema_sql(MODELS_V3, Dialect::Sqlite).unwrap());
}

#[test]
fn initial_migration_creates_referenced_tables_first() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = make(dir.path(), MODELS_V1);
    insta::assert_snapshot!(
        "initial_migration_report",
        outcome
            .to_string()
            .replace(&dir.path().display().to_string(), "migrations")
    );
    insta::assert_snapshot!(
        "initial_migration_file",
        read(dir.path(), "0001_initial.toml")
    );
    assert!(matches!(
        make(dir.path(), MODELS_V1),
        MakeOutcome::NoChanges
    ));
    assert_eq!(
        make(dir.path(), MODELS_V1).to_string(),
        "No changes detected.\n"
    );
}

#[test]
fn generated_files_are_deterministic() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    for dir in [first.path(), second.path()] {
        make(dir, MODELS_V1);
        make(dir, MODELS_V2);
        make(dir, MODELS_V3);
    }
    assert_eq!(file_names(first.path()), file_names(second.path()));
    for name in file_names(first.path()) {
        assert_eq!(
            read(first.path(), &name),
            read(second.path(), &name),
            "{name}"
        );
    }
}

/// Renames come only from `renamed_from`; the findings are explained in the
/// file and left for the reviewer to acknowledge; new indexes on existing tables
/// get a concurrent file of their own.
#[test]
fn renames_alters_and_findings_are_written_for_review() {
    let dir = tempfile::tempdir().unwrap();
    make(dir.path(), MODELS_V1);
    let outcome = make(dir.path(), MODELS_V2);
    assert_eq!(finding_keys(&outcome), ACKNOWLEDGE_V2);
    assert_eq!(
        file_names(dir.path()),
        [
            "0001_initial.toml",
            "0002_rename_security_name_to_title_and_more.toml",
            "0003_add_security_isin_idx.toml"
        ]
    );
    insta::assert_snapshot!(
        "migration_with_findings",
        read(
            dir.path(),
            "0002_rename_security_name_to_title_and_more.toml"
        )
    );
    insta::assert_snapshot!(
        "concurrent_index_migration",
        read(dir.path(), "0003_add_security_isin_idx.toml")
    );

    let outcome = make(dir.path(), MODELS_V3);
    assert_eq!(finding_keys(&outcome), ACKNOWLEDGE_V3);
    insta::assert_snapshot!(
        "rename_table_migration",
        read(
            dir.path(),
            "0004_rename_account_to_brokerage_account_and_more.toml"
        )
    );
    assert!(matches!(
        make(dir.path(), MODELS_V3),
        MakeOutcome::NoChanges
    ));
}

#[test]
fn a_disappeared_and_a_new_column_are_a_drop_and_an_add() {
    const RENAMED_WITHOUT_SAYING: &[FieldSchema] = &[
        auto_id(),
        FieldSchema {
            unique: true,
            constraints: &[
                fw::schema::Constraint::MaxLength(12),
                fw::schema::Constraint::MinLength(1),
                fw::schema::Constraint::Pattern("[A-Z.]+"),
            ],
            ..field("symbol", SqlType::Text)
        },
        field("title", SqlType::Text),
        FieldSchema {
            constraints: &[fw::schema::Constraint::Choices(&["stock", "etf"])],
            default: Some(DefaultValue::Text("stock")),
            ..field("kind", SqlType::Text)
        },
        FieldSchema {
            generated: fw::schema::Generated::CreatedAt,
            ..field("created_at", SqlType::Timestamp)
        },
    ];
    const SECURITY: ModelSchema = model("Security", "security", RENAMED_WITHOUT_SAYING);
    let dir = tempfile::tempdir().unwrap();
    make(dir.path(), &[&SECURITY_V1]);
    let outcome = make(dir.path(), &[&SECURITY]);
    let report = outcome.to_string();
    assert!(report.contains("- add column `security.title`"), "{report}");
    assert!(report.contains("- drop column `security.name`"), "{report}");
    assert!(!report.contains("rename"), "{report}");
    assert_eq!(
        finding_keys(&outcome),
        ["not_null:security.title", "drop_column:security.name"]
    );
}

/// Drops of tables, columns, indexes and unique constraints; a new unique
/// constraint, NOT NULL, a narrower column, a changed type and a new reference
/// on existing tables; each flagged with its rule.
#[test]
fn drops_and_tightenings_on_existing_tables() {
    let dir = tempfile::tempdir().unwrap();
    make(dir.path(), ITEMS_BEFORE);
    let outcome = make(dir.path(), ITEMS_AFTER);
    assert_eq!(finding_keys(&outcome), ACKNOWLEDGE_ITEMS);
    let names = file_names(dir.path());
    insta::assert_snapshot!("drops_and_tightenings", read(dir.path(), &names[1]));
    assert_eq!(names[1], "0002_drop_item_code_key_and_more.toml");
    assert!(matches!(
        make(dir.path(), ITEMS_AFTER),
        MakeOutcome::NoChanges
    ));
}

/// Tables that reference each other are created without the cyclic reference,
/// which an `alter_column` adds once both exist.
#[test]
fn reference_cycles_are_broken_with_a_later_alter() {
    const A_FIELDS: &[FieldSchema] = &[
        auto_id(),
        FieldSchema {
            nullable: true,
            ..reference("b_id", SqlType::BigInt, "b", OnDelete::SetNull)
        },
    ];
    const B_FIELDS: &[FieldSchema] = &[
        auto_id(),
        reference("a_id", SqlType::BigInt, "a", OnDelete::Restrict),
    ];
    const A: ModelSchema = model("A", "a", A_FIELDS);
    const B: ModelSchema = model("B", "b", B_FIELDS);
    let dir = tempfile::tempdir().unwrap();
    let outcome = make(dir.path(), &[&B, &A]);
    let report = outcome.to_string();
    assert!(
        report.contains("  - create table `a`\n  - create table `b`\n  - alter column `a.b_id`"),
        "{report}"
    );
    assert!(
        finding_keys(&outcome).is_empty(),
        "new tables have no findings"
    );
    assert!(matches!(
        make(dir.path(), &[&A, &B]),
        MakeOutcome::NoChanges
    ));
}

#[test]
fn check_mode_lists_missing_changes_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    make(dir.path(), MODELS_V1);
    let check = MakeOptions {
        check: true,
        ..MakeOptions::default()
    };
    assert!(matches!(
        makemigrations(dir.path(), MODELS_V1, check.clone()),
        Ok(MakeOutcome::NoChanges)
    ));

    let error = makemigrations(dir.path(), MODELS_V2, check).unwrap_err();
    assert!(matches!(error, MigrateError::MissingMigrations { .. }));
    insta::assert_snapshot!(
        "check_mode_drift",
        error
            .to_string()
            .replace(&dir.path().display().to_string(), "migrations")
    );
    assert_eq!(file_names(dir.path()), ["0001_initial.toml"]);
}

#[test]
fn named_migrations_and_bad_names() {
    let dir = tempfile::tempdir().unwrap();
    let named = MakeOptions {
        name: Some("start".to_owned()),
        ..MakeOptions::default()
    };
    makemigrations(dir.path(), MODELS_V1, named).unwrap();
    assert_eq!(file_names(dir.path()), ["0001_start.toml"]);
    let bad = MakeOptions {
        name: Some("Add Things".to_owned()),
        ..MakeOptions::default()
    };
    let error = makemigrations(dir.path(), MODELS_V2, bad).unwrap_err();
    assert!(matches!(error, MigrateError::InvalidName { .. }), "{error}");
}

/// `keep_in_database = true` forgets a column in the state without dropping it.
#[test]
fn keep_in_database_drop_is_not_a_finding() {
    const WITHOUT_HOLDER: ModelSchema = ModelSchema {
        renamed_from: None,
        ..model("Account", "account", ACCOUNT_FIELDS_V3)
    };
    let dir = tempfile::tempdir().unwrap();
    make(dir.path(), &[&ACCOUNT_V1]);
    write(
        dir.path(),
        "0002_forget_holder.toml",
        "[[operations]]\nop = \"drop_column\"\ntable = \"account\"\ncolumn = \"holder\"\nkeep_in_database = true\n",
    );
    assert!(matches!(
        make(dir.path(), &[&WITHOUT_HOLDER]),
        MakeOutcome::NoChanges
    ));
}

fn error_for(file_name: &str, text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    make(dir.path(), MODELS_V1);
    write(dir.path(), file_name, text);
    make_error(dir.path(), MODELS_V1)
        .to_string()
        .replace(&dir.path().display().to_string(), "migrations")
}

#[test]
fn malformed_files_are_errors_naming_file_and_line() {
    assert_eq!(
        error_for(
            "0002_broken.toml",
            "[[operations]]\nop = \"drop_table\"\ntable = \"dividend\"\n\n[[operations]]\nop = \"add_column\"\ntable = \n"
        ),
        "migrations/0002_broken.toml:7: string values must be quoted, expected literal string"
    );
    assert_eq!(
        error_for(
            "0002_broken.toml",
            "# a comment\n\n[[operations]]\nop = \"add_colum\"\ntable = \"x\"\n"
        ),
        "migrations/0002_broken.toml:3: operation `add_colum`: unknown variant `add_colum`, expected one of \
         `create_table`, `drop_table`, `rename_table`, `add_column`, `drop_column`, `rename_column`, \
         `alter_column`, `add_index`, `drop_index`, `add_unique`, `drop_unique`, `alter_sensitivity`, `reseal`, `run_sql`, `run_data_migration`"
    );
    assert_eq!(
        error_for(
            "0002_broken.toml",
            "[[operations]]\nop = \"add_column\"\ntable = \"security\"\ncolumn = { name = \"isin\", type = \"string\", nullable = true }\n",
        ),
        "migrations/0002_broken.toml:1: operation `add_column`: unknown column type `string`, expected one of \
         smallint, int, bigint, bool, text, decimal, date, timestamp, uuid, json"
    );
    assert_eq!(
        error_for(
            "0002_broken.toml",
            "[[operations]]\nop = \"drop_table\"\ntable = \"security\"\ncolor = \"red\"\n"
        ),
        "migrations/0002_broken.toml:1: operation `drop_table`: unknown field `color`, expected `table` or `keep_in_database`"
    );
    // Well-formed, but does not apply to the schema before it.
    assert_eq!(
        error_for(
            "0002_broken.toml",
            "[[operations]]\nop = \"run_sql\"\nsql = \"\"\n\n[[operations]]\nop = \"drop_column\"\ntable = \"security\"\ncolumn = \"nope\"\n"
        ),
        "migrations/0002_broken.toml:5: `drop_column`: column `security.nope` does not exist"
    );
    assert_eq!(
        error_for(
            "0002_broken.toml",
            "[[operations]]\nop = \"add_index\"\ntable = \"security\"\nname = \"a\"\ncolumns = [\"name\"]\nconcurrently = true\n\n\
             [[operations]]\nop = \"drop_table\"\ntable = \"dividend\"\n",
        ),
        "migrations/0002_broken.toml:8: this file builds an index with `concurrently = true`, which PostgreSQL \
         cannot do inside a transaction, so the file may hold only such indexes; move this operation to a \
         migration file of its own"
    );
}

#[test]
fn numbering_gaps_duplicates_and_bad_names_are_errors() {
    let gap = error_for("0003_later.toml", "");
    assert_eq!(
        gap,
        "migrations in `migrations` are misnumbered: `0003_later` follows migration 0001, leaving a gap; \
         number it 0002, or restore the missing file"
    );
    let duplicate = error_for("0001_other.toml", "");
    assert!(
        duplicate.contains("`0001_initial` and `0001_other` have the same number"),
        "{duplicate}"
    );
    let bad_name = error_for("2_x.toml", "");
    assert!(
        bad_name.starts_with("migrations/2_x.toml: migration files are named `NNNN_name.toml`"),
        "{bad_name}"
    );
}

#[test]
fn sealing_an_existing_field_is_a_rewrite_the_file_explains() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    make(dir, &[&CLIENT_CLEAR]);
    let outcome = make(dir, &[&CLIENT_SEALED]);
    let name = "0002_drop_client_tax_id_key_and_more.toml";
    assert_eq!(file_names(dir)[1], name);
    insta::assert_snapshot!("sealing_migration_file", read(dir, name));
    assert_eq!(
        finding_keys(&outcome),
        [
            "seal:client.tax_id",
            "seal:client.name",
            "add_unique:client_tax_id_digest_key"
        ]
    );
    // The file replays to the models' state: nothing is left to migrate.
    assert!(matches!(
        make(dir, &[&CLIENT_SEALED]),
        MakeOutcome::NoChanges
    ));

    make(dir, &[&CLIENT_CLEAR]);
    insta::assert_snapshot!(
        "opening_migration_file",
        read(dir, "0003_drop_client_tax_id_digest_key_and_more.toml")
    );
    assert!(matches!(
        make(dir, &[&CLIENT_CLEAR]),
        MakeOutcome::NoChanges
    ));
}

#[test]
fn a_hand_written_alter_sensitivity_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    make(dir, &[&CLIENT_CLEAR]);
    let op = "[[operations]]\nop = \"alter_sensitivity\"\ntable = \"client\"\n";
    let cases = [
        (
            "column = \"name\"\nsealed = false\nsearchable = true\n",
            "`searchable = true` needs `sealed = true`",
        ),
        ("column = \"name\"\nsealed = false\n", "is already clear"),
        (
            "column = \"tax_id\"\nsealed = true\n",
            "remove them with an `alter_column`",
        ),
        (
            "column = \"nope\"\nsealed = true\n",
            "column `client.nope` does not exist",
        ),
    ];
    for (text, expected) in cases {
        write(dir, "0002_hand.toml", &format!("{op}{text}"));
        let error = make_error(dir, &[&CLIENT_CLEAR]).to_string();
        assert!(error.contains("0002_hand.toml:1"), "{error}");
        assert!(error.contains(expected), "{error}");
    }
}

/// A searchable sealed field renamed with `renamed_from` takes its digest
/// column, and the digest's unique constraint, along: nothing is dropped and
/// re-added, and the models then match the migrations.
#[test]
fn renaming_a_searchable_field_renames_its_digest_column() {
    const fn tax_id(name: &'static str, renamed_from: Option<&'static str>) -> FieldSchema {
        FieldSchema {
            sensitivity: fw::schema::Sensitivity::Sealed { searchable: true },
            unique: true,
            renamed_from,
            ..field(name, SqlType::Text)
        }
    }
    const BEFORE: ModelSchema = model("Client", "client", &[auto_id(), tax_id("tax_id", None)]);
    const AFTER: ModelSchema = model(
        "Client",
        "client",
        &[auto_id(), tax_id("tin", Some("tax_id"))],
    );
    let dir = tempfile::tempdir().unwrap();
    make(dir.path(), &[&BEFORE]);
    let report = make(dir.path(), &[&AFTER]).to_string();
    assert!(
        report.contains("rename column `client.tax_id` to `tin`"),
        "{report}"
    );
    assert!(
        report.contains("rename column `client.tax_id_digest` to `tin_digest`"),
        "{report}"
    );
    assert!(
        !report.contains("add column") && !report.contains("drop"),
        "{report}"
    );
    // The replayed state, digest and its unique constraint included, is the
    // models' own.
    assert!(matches!(
        make(dir.path(), &[&AFTER]),
        MakeOutcome::NoChanges
    ));
}

/// Renaming a sealed column, or a table with sealed columns, re-seals their
/// values under the new names: the files say so and replay to the models.
#[test]
fn renaming_sealed_data_reseals_it() {
    use fw::Model;

    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    make(dir, &[Client::SCHEMA]);
    let renamed_column = make(dir, &[ClientWithTin::SCHEMA]);
    assert_eq!(
        finding_keys(&renamed_column),
        [
            "rename_column:client.tax_id",
            "rename_column:client.tax_id_digest",
            "reseal:client.tin"
        ]
    );
    insta::assert_snapshot!(
        "resealing_a_renamed_column",
        read(dir, "0002_rename_client_tax_id_to_tin_and_more.toml")
    );
    assert!(matches!(
        make(dir, &[ClientWithTin::SCHEMA]),
        MakeOutcome::NoChanges
    ));

    let renamed_table = make(dir, &[Customer::SCHEMA]);
    assert_eq!(
        finding_keys(&renamed_table),
        [
            "rename_table:client",
            "reseal:customer.tin",
            "reseal:customer.name"
        ]
    );
    insta::assert_snapshot!(
        "resealing_a_renamed_table",
        read(dir, "0003_rename_client_to_customer_and_more.toml")
    );
    assert!(matches!(
        make(dir, &[Customer::SCHEMA]),
        MakeOutcome::NoChanges
    ));
}

#[test]
fn a_hand_written_reseal_is_checked() {
    use fw::Model;

    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    make(dir, &[Client::SCHEMA]);
    let op = "[[operations]]\nop = \"reseal\"\ntable = \"client\"\n";
    let cases = [
        (
            "column = \"id\"\nfrom_table = \"client\"\nfrom_column = \"key\"\n",
            "`client.id` is not a sealed column",
        ),
        (
            "column = \"tax_id_digest\"\nfrom_table = \"client\"\nfrom_column = \"tin_digest\"\n",
            "`client.tax_id_digest` is not a sealed column",
        ),
        (
            "column = \"tax_id\"\nfrom_table = \"client\"\nfrom_column = \"tax_id\"\n",
            "are its current names",
        ),
        (
            "column = \"tax_id\"\nfrom_table = \"\"\nfrom_column = \"tin\"\n",
            "must name the table and column",
        ),
        (
            "column = \"nope\"\nfrom_table = \"client\"\nfrom_column = \"tin\"\n",
            "column `client.nope` does not exist",
        ),
        (
            "column = \"tax_id\"\nfrom_table = \"client\"\n",
            "missing field `from_column`",
        ),
    ];
    for (text, expected) in cases {
        write(dir, "0002_hand.toml", &format!("{op}{text}"));
        let error = make_error(dir, &[Client::SCHEMA]).to_string();
        assert!(error.contains("0002_hand.toml:1"), "{error}");
        assert!(error.contains(expected), "{error}");
    }
}
