//! The app runner's command line: built-in commands and application commands,
//! driven through `App::run_with` with a private migrations directory and
//! database per test.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use fw::{App, AppContext, Model};

#[fw::model]
struct Note {
    id: i64,
    #[field(max_length = 80)]
    text: String,
}

/// A model with a sealed field: the app needs keys to run any command.
#[fw::model]
struct Patient {
    id: i64,
    #[field(sensitive)]
    name: String,
}

static LAST_SUM: AtomicI64 = AtomicI64::new(0);

#[derive(Debug, clap::Subcommand)]
enum Commands {
    /// Adds two numbers and stores a note saying so.
    Add {
        a: i64,
        b: i64,
        #[arg(long)]
        note: Option<String>,
    },
}

impl fw::Commands for Commands {
    async fn run(self, app: AppContext) -> anyhow::Result<()> {
        match self {
            Commands::Add { a, b, note } => {
                LAST_SUM.store(a + b, Ordering::SeqCst);
                if let Some(text) = note {
                    Note::insert(&app.db, NewNote { text }).await?;
                }
            }
        }
        Ok(())
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    database_url: String,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temporary directory");
        let database_url = format!("sqlite://{}/app.db", dir.path().display());
        Fixture { dir, database_url }
    }

    fn with_database(database_url: String) -> Fixture {
        let dir = tempfile::tempdir().expect("temporary directory");
        Fixture { dir, database_url }
    }

    fn app(&self) -> App {
        App::new("notes", self.dir.path())
            .default_database_url(self.database_url.clone())
            .model::<Note>()
            .commands::<Commands>()
    }

    async fn run(&self, args: &[&str]) -> ExitCode {
        run_command_line(self.app(), args).await
    }

    /// As [`Fixture::run`], for the app with a sealed model too.
    async fn run_sealed(&self, args: &[&str]) -> ExitCode {
        run_command_line(self.app().model::<Patient>(), args).await
    }

    /// As [`Fixture::run`], for an executable with [`EMBEDDED`] compiled in.
    async fn run_embedded(&self, args: &[&str]) -> ExitCode {
        run_command_line(self.app().embedded_migrations(EMBEDDED), args).await
    }

    fn migration_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path().join("migrations"))
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|entry| entry.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

#[tokio::test]
async fn makemigrations_writes_the_initial_migration_and_check_then_passes() {
    let fixture = Fixture::new();
    assert_eq!(
        fixture.run(&["makemigrations", "--check"]).await,
        ExitCode::FAILURE
    );
    assert!(
        fixture.migration_files().is_empty(),
        "--check writes nothing"
    );

    assert_eq!(fixture.run(&["makemigrations"]).await, ExitCode::SUCCESS);
    assert_eq!(fixture.migration_files(), ["0001_initial.toml"]);
    assert_eq!(
        fixture.run(&["makemigrations", "--check"]).await,
        ExitCode::SUCCESS
    );
    assert_eq!(fixture.run(&["makemigrations"]).await, ExitCode::SUCCESS);
    assert_eq!(
        fixture.migration_files().len(),
        1,
        "no changes, no new file"
    );
}

#[tokio::test]
async fn check_fails_until_migrations_are_applied() {
    let fixture = Fixture::new();
    assert_eq!(fixture.run(&["makemigrations"]).await, ExitCode::SUCCESS);
    assert_eq!(fixture.run(&["check"]).await, ExitCode::FAILURE);
    assert_eq!(fixture.run(&["migrate", "--plan"]).await, ExitCode::SUCCESS);
    assert_eq!(
        fixture.run(&["check"]).await,
        ExitCode::FAILURE,
        "--plan applies nothing"
    );
    assert_eq!(fixture.run(&["migrate"]).await, ExitCode::SUCCESS);
    assert_eq!(fixture.run(&["check"]).await, ExitCode::SUCCESS);
}

#[tokio::test]
async fn application_commands_get_typed_arguments_and_the_database() {
    let fixture = Fixture::new();
    assert_eq!(fixture.run(&["makemigrations"]).await, ExitCode::SUCCESS);
    assert_eq!(fixture.run(&["migrate"]).await, ExitCode::SUCCESS);
    let code = fixture.run(&["add", "40", "2", "--note", "answer"]).await;
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(LAST_SUM.load(Ordering::SeqCst), 42);

    let db = fw::Db::connect(&fixture.database_url)
        .await
        .expect("database");
    let notes = Note::query().all(&db).await.expect("notes");
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].text, "answer");
    db.close().await;
}

#[tokio::test]
async fn bad_command_lines_exit_with_usage_errors() {
    let fixture = Fixture::new();
    assert_eq!(fixture.run(&["add", "forty", "2"]).await, ExitCode::from(2));
    assert_eq!(fixture.run(&["no-such-command"]).await, ExitCode::from(2));
    assert_eq!(fixture.run(&["--help"]).await, ExitCode::SUCCESS);
}

#[tokio::test]
async fn a_failing_command_exits_non_zero() {
    let fixture = Fixture::new();
    // No migration applied: the table is missing, so the insert fails.
    let code = fixture.run(&["add", "1", "1", "--note", "x"]).await;
    assert_eq!(code, ExitCode::FAILURE);
}

async fn run_command_line(app: App, args: &[&str]) -> ExitCode {
    let command_line = std::iter::once("notes").chain(args.iter().copied());
    app.run_with(command_line).await
}

/// What `makemigrations` writes for `Note`, compiled in as `fw::app!()` compiles
/// in an application's `migrations/`.
const EMBEDDED: fw::migrate::EmbeddedMigrations =
    fw::embed_migrations!("tests/app_embedded/migrations");

#[test]
fn embed_migrations_compiles_in_every_file_in_name_order() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/app_embedded/migrations");
    assert_eq!(std::path::Path::new(EMBEDDED.dir), dir);
    let names: Vec<&str> = EMBEDDED.files.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, ["0001_initial.toml"]);
    let on_disk = std::fs::read(dir.join("0001_initial.toml")).expect("the fixture");
    assert_eq!(EMBEDDED.files[0].1, on_disk.as_slice());
}

/// An executable deployed without its source tree migrates from the files
/// compiled into it, and `check` finds models and migrations in agreement.
async fn embedded_migrations_apply_without_the_directory(fixture: Fixture) {
    assert_eq!(
        fixture.run(&["migrate"]).await,
        ExitCode::FAILURE,
        "no directory, nothing embedded"
    );
    assert_eq!(fixture.run_embedded(&["migrate"]).await, ExitCode::SUCCESS);
    assert_eq!(fixture.run_embedded(&["check"]).await, ExitCode::SUCCESS);
    assert_eq!(
        fixture
            .run_embedded(&["add", "1", "2", "--note", "deployed"])
            .await,
        ExitCode::SUCCESS,
        "the embedded migration created the table"
    );
    assert!(fixture.migration_files().is_empty(), "nothing written");
    // Writing a migration (here: the one dropping `note`) needs the source tree.
    let refused = fw::migrate::makemigrations(EMBEDDED, &[], fw::migrate::MakeOptions::default())
        .expect_err("embedded migrations are read-only")
        .to_string();
    assert!(refused.contains("cannot be written"), "{refused}");
}

/// Where the migrations directory is, it is read rather than the embedded
/// files: it is where `makemigrations` writes, and may be newer than the build.
async fn the_directory_wins_over_embedded_migrations(fixture: Fixture) {
    assert_eq!(fixture.run(&["makemigrations"]).await, ExitCode::SUCCESS);
    std::fs::write(
        fixture.dir.path().join("migrations/0002_extra.toml"),
        "[[operations]]\nop = \"run_sql\"\nsql = \"CREATE TABLE extra (id INTEGER)\"\n",
    )
    .expect("write a second migration");
    assert_eq!(fixture.run_embedded(&["migrate"]).await, ExitCode::SUCCESS);
    let db = fw::Db::connect(&fixture.database_url)
        .await
        .expect("connect");
    db.execute_raw("INSERT INTO extra (id) VALUES (1)")
        .await
        .expect("the directory's second migration was applied");
}

/// On a server the executable was deployed to alone, `makemigrations` checks
/// the models against the embedded files and refuses to write, rather than
/// creating the source tree's path there.
#[tokio::test]
async fn makemigrations_without_the_source_tree_writes_nothing() {
    let fixture = Fixture::new();
    let source = fixture.dir.path().join("not-deployed");
    let deployed = || {
        App::new("notes", &source)
            .default_database_url(fixture.database_url.clone())
            .embedded_migrations(EMBEDDED)
    };
    assert_eq!(
        run_command_line(deployed().model::<Note>(), &["makemigrations", "--check"]).await,
        ExitCode::SUCCESS,
        "the models agree with the embedded migrations"
    );
    assert_eq!(
        run_command_line(deployed().model::<Note>(), &["makemigrations"]).await,
        ExitCode::SUCCESS,
        "nothing to write"
    );
    assert_eq!(
        run_command_line(deployed(), &["makemigrations"]).await,
        ExitCode::FAILURE,
        "dropping `note` needs a new migration, which only the source tree can take"
    );
    assert!(
        !source.exists(),
        "nothing written where the source would be"
    );
}

/// `serve` on a database that lacks the app's migrations refuses to start
/// (rather than listening, which would not end), until `serve --migrate`.
async fn serve_refuses_a_database_with_pending_migrations(fixture: Fixture) {
    assert_eq!(fixture.run(&["makemigrations"]).await, ExitCode::SUCCESS);
    let serve = tokio::time::timeout(Duration::from_secs(30), fixture.run(&["serve"]));
    let code = serve
        .await
        .expect("`serve` started on a database without its tables");
    assert_eq!(code, ExitCode::FAILURE);
    let db = fw::Db::connect(&fixture.database_url)
        .await
        .expect("database");
    let pending = fw::migrate::pending(&db, fixture.dir.path().join("migrations"))
        .await
        .expect("pending migrations");
    assert_eq!(pending, ["0001_initial"], "nothing was applied");
    db.close().await;
}

#[tokio::test]
async fn serve_refuses_a_database_with_pending_migrations_on_sqlite() {
    serve_refuses_a_database_with_pending_migrations(Fixture::new()).await;
}

#[tokio::test]
async fn serve_refuses_a_database_with_pending_migrations_on_postgres() {
    let test_db = fw::testing::TestDb::postgres().await;
    serve_refuses_a_database_with_pending_migrations(Fixture::with_database(test_db.url())).await;
}

#[tokio::test]
async fn embedded_migrations_apply_without_the_directory_on_sqlite() {
    embedded_migrations_apply_without_the_directory(Fixture::new()).await;
}

#[tokio::test]
async fn embedded_migrations_apply_without_the_directory_on_postgres() {
    let test_db = fw::testing::TestDb::postgres().await;
    embedded_migrations_apply_without_the_directory(Fixture::with_database(test_db.url())).await;
}

#[tokio::test]
async fn the_directory_wins_over_embedded_migrations_on_sqlite() {
    the_directory_wins_over_embedded_migrations(Fixture::new()).await;
}

#[tokio::test]
async fn the_directory_wins_over_embedded_migrations_on_postgres() {
    let test_db = fw::testing::TestDb::postgres().await;
    the_directory_wins_over_embedded_migrations(Fixture::with_database(test_db.url())).await;
}

/// Without configured keys, an app with a sealed model on its default SQLite
/// database creates a development key file, readable by its owner only, and
/// keeps using it; its rows are sealed with it.
#[tokio::test]
async fn a_sealing_app_on_its_default_sqlite_database_makes_a_development_key() {
    let fixture = Fixture::new();
    let key_file = fixture.dir.path().join("secret-keys");
    assert_eq!(
        fixture.run_sealed(&["makemigrations"]).await,
        ExitCode::SUCCESS
    );
    let created = std::fs::read_to_string(&key_file).expect("the key file");
    assert!(created.starts_with("dev:"), "{created}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(fixture.run_sealed(&["migrate"]).await, ExitCode::SUCCESS);
    assert_eq!(
        std::fs::read_to_string(&key_file).expect("the key file"),
        created,
        "the file is kept"
    );
    let keyring = Arc::new(fw::sensitive::Keyring::parse(created.trim()).expect("keys"));
    let db = fw::Db::connect(&fixture.database_url)
        .await
        .expect("database")
        .with_keyring(keyring);
    let patient = Patient::insert(
        &db,
        NewPatient {
            name: "Ada".to_owned(),
        },
    )
    .await
    .expect("insert");
    assert_eq!(
        Patient::get(&db, patient.id).await.expect("read").name,
        "Ada"
    );
    db.close().await;
}

/// Without configured keys on any other database, every command of an app
/// with a sealed model stops before it starts; an app without one runs.
#[tokio::test]
async fn a_sealing_app_without_keys_stops_on_another_database() {
    // Never reached: the app stops before it connects.
    let fixture = Fixture::with_database("postgres://nobody@127.0.0.1:1/none".to_owned());
    for command in [
        &["migrate"][..],
        &["makemigrations"],
        &["serve"],
        &["add", "1", "2"],
    ] {
        assert_eq!(
            fixture.run_sealed(command).await,
            ExitCode::FAILURE,
            "{command:?}"
        );
    }
    assert!(!fixture.dir.path().join("secret-keys").exists());
    assert_eq!(fixture.run(&["makemigrations"]).await, ExitCode::SUCCESS);
}

/// `generate-key` prints an entry and needs no keys; a bad id is refused.
#[tokio::test]
async fn generate_key_needs_no_keys_and_checks_the_id() {
    let fixture = Fixture::with_database("postgres://nobody@127.0.0.1:1/none".to_owned());
    assert_eq!(
        fixture.run_sealed(&["generate-key"]).await,
        ExitCode::SUCCESS
    );
    assert_eq!(
        fixture
            .run_sealed(&["generate-key", "--id", "2026-q1"])
            .await,
        ExitCode::SUCCESS
    );
    assert_eq!(
        fixture
            .run_sealed(&["generate-key", "--id", "not an id"])
            .await,
        ExitCode::FAILURE
    );
}
