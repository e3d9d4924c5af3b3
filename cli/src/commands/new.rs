//! `fw new`: writes a new application from the starter template.
//!
//! The template is a real crate in this repository (`starter-template/`) that
//! builds and passes its tests where it stands. Its files are compiled into the
//! `fw` binary, so an installed `fw` needs no checkout; `fw new` writes them out
//! unchanged except for the manifest, whose package name and `fw` dependency it
//! edits with a TOML editor. The code never names the package (its library is
//! always `app`), so nothing else needs rewriting.
//!
//! `--no-sample` leaves the sample model out: the files that mention it are
//! replaced by those of `starter-template/no-sample/`, and its migration and
//! OpenAPI document are not written; the new application writes its own, so
//! they hold no trace of the sample.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use toml_edit::{DocumentMut, InlineTable, Item, Table, Value};

/// The template's files: path relative to the application, and contents.
///
/// Every file of `starter-template/` except build output, local state and
/// `no-sample/` ([`WITHOUT_SAMPLE`]) is listed; a test checks this list and
/// that one against the directory.
const TEMPLATE: &[(&str, &str)] = &[
    (MANIFEST, TEMPLATE_MANIFEST),
    (
        "README.md",
        include_str!("../../../starter-template/README.md"),
    ),
    (
        ".gitignore",
        include_str!("../../../starter-template/.gitignore"),
    ),
    (
        ".env.example",
        include_str!("../../../starter-template/.env.example"),
    ),
    (
        ".dockerignore",
        include_str!("../../../starter-template/.dockerignore"),
    ),
    (
        "Dockerfile",
        include_str!("../../../starter-template/Dockerfile"),
    ),
    (
        "deploy/app.service",
        include_str!("../../../starter-template/deploy/app.service"),
    ),
    (
        ".cargo/config.toml",
        include_str!("../../../starter-template/.cargo/config.toml"),
    ),
    (
        "src/main.rs",
        include_str!("../../../starter-template/src/main.rs"),
    ),
    (
        "src/lib.rs",
        include_str!("../../../starter-template/src/lib.rs"),
    ),
    (
        "src/models.rs",
        include_str!("../../../starter-template/src/models.rs"),
    ),
    (
        "src/resources.rs",
        include_str!("../../../starter-template/src/resources.rs"),
    ),
    (
        "openapi.json",
        include_str!("../../../starter-template/openapi.json"),
    ),
    (
        "migrations/0001_initial.toml",
        include_str!("../../../starter-template/migrations/0001_initial.toml"),
    ),
    (
        "tests/migrations.rs",
        include_str!("../../../starter-template/tests/migrations.rs"),
    ),
    (
        "tests/api.rs",
        include_str!("../../../starter-template/tests/api.rs"),
    ),
    (
        "tests/openapi.rs",
        include_str!("../../../starter-template/tests/openapi.rs"),
    ),
];

/// With `--no-sample`, the files written instead of the template's, from
/// `starter-template/no-sample/`: the same paths, without the sample model.
const WITHOUT_SAMPLE: &[(&str, &str)] = &[
    (
        "src/lib.rs",
        include_str!("../../../starter-template/no-sample/src/lib.rs"),
    ),
    (
        "src/models.rs",
        include_str!("../../../starter-template/no-sample/src/models.rs"),
    ),
    (
        "src/resources.rs",
        include_str!("../../../starter-template/no-sample/src/resources.rs"),
    ),
    (
        "tests/api.rs",
        include_str!("../../../starter-template/no-sample/tests/api.rs"),
    ),
];

/// The template's files generated from its models and API: with
/// `--no-sample`, the new application writes them itself.
const GENERATED: &[&str] = &["migrations/0001_initial.toml", "openapi.json"];

/// The application commands that write [`GENERATED`]'s files.
const WRITE_GENERATED: &[&[&str]] = &[&["makemigrations"], &["openapi"]];

const MANIFEST: &str = "Cargo.toml";
const TEMPLATE_MANIFEST: &str = include_str!("../../../starter-template/Cargo.toml");

/// The framework crate of the checkout this `fw` was built from: the default
/// `fw` dependency of new applications.
const BUILT_FROM_FRAMEWORK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../framework");

/// Create a new fw application: a model, its REST resource, migration, OpenAPI
/// document and tests.
///
/// The new application runs with no set-up: `cd <name> && fw serve --migrate`
/// creates a SQLite database under `data/`, applies the migrations, and serves on
/// http://127.0.0.1:8000, with the API's documentation at `/docs`.
#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    /// The application's name, a crate name such as `blog` or `order-book`
    /// (lowercase letters, digits, `-` and `_`, starting with a letter).
    name: String,

    /// The directory to create [default: ./<NAME>]. It must not exist yet.
    #[arg(long, value_name = "DIR")]
    path: Option<PathBuf>,

    /// The database used in development. `postgres` writes a `.env` whose
    /// DATABASE_URL points at a local PostgreSQL database named after the
    /// application (create it with `createdb`); tests use SQLite either way.
    #[arg(long, value_enum, default_value_t = Database::Sqlite)]
    db: Database,

    /// Depend on the framework in this local checkout (its root or its
    /// `framework/` directory) [default: the checkout this `fw` was built from].
    #[arg(long, value_name = "PATH", group = "fw_source")]
    fw_path: Option<PathBuf>,

    /// Depend on the framework from this git repository.
    #[arg(long, value_name = "URL", group = "fw_source")]
    fw_git: Option<String>,

    /// With `--fw-git`: the commit (or tag) to use [default: the default branch's head].
    #[arg(long, value_name = "REV", requires = "fw_git")]
    fw_rev: Option<String>,

    /// Depend on this version of the framework from crates.io, e.g. `0.1`.
    #[arg(long, value_name = "VERSION", group = "fw_source")]
    fw_version: Option<String>,

    /// Start without the sample model (`Note`), its resource and its tests.
    /// The application is then built once, showing cargo's progress (the
    /// first build takes minutes), to write its first migration and its
    /// OpenAPI document: they hold fw's own tables and endpoints, no history.
    #[arg(long)]
    no_sample: bool,
}

/// The database a new application uses in development.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Database {
    /// A SQLite file under `data/`, created on first run: no set-up.
    Sqlite,
    /// A local PostgreSQL database named after the application.
    Postgres,
}

/// Where the new application's `fw` dependency comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FrameworkSource {
    Path(PathBuf),
    Git { url: String, rev: Option<String> },
    Version(String),
}

/// Writes the application and prints what to do next.
pub(crate) fn run(args: &NewArgs) -> anyhow::Result<()> {
    check_name(&args.name)?;
    let dir = args
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    if dir.exists() {
        bail!(
            "{} already exists; choose another name, or pass `--path` with a directory \
             that does not exist yet",
            dir.display()
        );
    }
    let source = framework_source(args)?;
    let manifest = manifest(&args.name, &source)?;
    let mut files: Vec<(&str, String)> = TEMPLATE
        .iter()
        .filter(|(path, _)| !(args.no_sample && GENERATED.contains(path)))
        .map(|&(path, contents)| {
            let replaced = WITHOUT_SAMPLE
                .iter()
                .find(|(replaced, _)| args.no_sample && *replaced == path);
            let contents = match replaced {
                _ if path == MANIFEST => manifest.clone(),
                Some((_, without_sample)) => (*without_sample).to_owned(),
                None => contents.to_owned(),
            };
            (path, contents)
        })
        .collect();
    if args.db == Database::Postgres {
        files.push((".env", postgres_env(&args.name)));
    }
    write_all(&dir, &files)?;
    if args.no_sample {
        write_generated(&dir)?;
    }

    println!(
        "Created the fw application `{}` in {}.",
        args.name,
        dir.display()
    );
    println!();
    println!("Next:");
    println!("    cd {}", dir.display());
    if args.db == Database::Postgres {
        println!(
            "    createdb {}    # the database .env names",
            database_name(&args.name)
        );
    }
    println!("    fw serve --migrate    # applies the migrations, serves http://127.0.0.1:8000");
    if args.no_sample {
        println!("    curl http://127.0.0.1:8000/openapi.json    # its documentation is at /docs");
    } else {
        println!(
            "    curl http://127.0.0.1:8000/notes    # the API; its documentation is at /docs"
        );
    }
    println!("    cargo test");
    println!();
    println!("README.md shows how to add a model and its resource, and how applications");
    println!("can share one build directory so that each does not compile fw again.");
    Ok(())
}

/// Accepts names cargo accepts as package names and that fit the template: not a
/// Rust keyword, not a reserved crate name, not the name of one of the template's
/// own dependencies (a package cannot depend on a crate with its own name).
fn check_name(name: &str) -> anyhow::Result<()> {
    const HINT: &str = "use lowercase letters, digits, `-` and `_`, starting with a letter, \
                        e.g. `blog` or `order-book`";
    let problem = if name.is_empty() {
        Some("it is empty".to_owned())
    } else if name.len() > 64 {
        Some("it is longer than 64 characters".to_owned())
    } else if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        Some("it must start with a lowercase letter".to_owned())
    } else if let Some(bad) = name
        .chars()
        .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'))
    {
        Some(format!("`{bad}` is not allowed in a crate name"))
    } else {
        let ident = name.replace('-', "_");
        if RUST_KEYWORDS.contains(&ident.as_str()) {
            Some("it is a Rust keyword".to_owned())
        } else if RESERVED_NAMES.contains(&ident.as_str()) {
            Some("the name is reserved by Rust or by the template".to_owned())
        } else if template_dependencies()
            .iter()
            .any(|dependency| dependency.replace('-', "_") == ident)
        {
            Some("a dependency of every fw application has that name".to_owned())
        } else {
            None
        }
    };
    match problem {
        Some(problem) => bail!("`{name}` is not a valid application name: {problem}; {HINT}"),
        None => Ok(()),
    }
}

const RUST_KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Crate names cargo or the toolchain reserve, names Windows cannot use as a
/// file, and `app`, the template's library name.
const RESERVED_NAMES: &[&str] = &[
    "alloc",
    "core",
    "proc_macro",
    "std",
    "test",
    "build",
    "deps",
    "examples",
    "incremental",
    "con",
    "prn",
    "aux",
    "nul",
    "com1",
    "lpt1",
    "app",
];

/// The names of the template's dependencies, read from its manifest.
fn template_dependencies() -> Vec<String> {
    let Ok(document) = TEMPLATE_MANIFEST.parse::<DocumentMut>() else {
        return Vec::new();
    };
    ["dependencies", "dev-dependencies"]
        .into_iter()
        .filter_map(|section| document.get(section).and_then(Item::as_table_like))
        .flat_map(|table| table.iter().map(|(name, _)| name.to_owned()))
        .collect()
}

fn framework_source(args: &NewArgs) -> anyhow::Result<FrameworkSource> {
    if let Some(url) = &args.fw_git {
        return Ok(FrameworkSource::Git {
            url: url.clone(),
            rev: args.fw_rev.clone(),
        });
    }
    if let Some(version) = &args.fw_version {
        return Ok(FrameworkSource::Version(version.clone()));
    }
    match &args.fw_path {
        Some(path) => framework_dir(path).map(FrameworkSource::Path),
        None => framework_dir(Path::new(BUILT_FROM_FRAMEWORK))
            .map(FrameworkSource::Path)
            .context(
                "the fw checkout this `fw` was built from is gone; pass `--fw-path` with a \
                 checkout, `--fw-git` with a repository, or `--fw-version` with a release",
            ),
    }
}

/// The framework crate's directory, absolute, given a checkout's root or the
/// crate's own directory.
fn framework_dir(path: &Path) -> anyhow::Result<PathBuf> {
    let is_framework = |dir: &Path| {
        std::fs::read_to_string(dir.join(MANIFEST))
            .ok()
            .and_then(|text| text.parse::<DocumentMut>().ok())
            .is_some_and(|manifest| {
                manifest
                    .get("package")
                    .and_then(|package| package.get("name"))
                    .and_then(Item::as_str)
                    == Some("fw")
            })
    };
    let dir = [path.join("framework"), path.to_path_buf()]
        .into_iter()
        .find(|dir| is_framework(dir))
        .with_context(|| {
            format!(
                "{} is not an fw checkout: neither it nor its `framework/` directory holds \
                 the `fw` crate's Cargo.toml",
                path.display()
            )
        })?;
    dir.canonicalize()
        .with_context(|| format!("cannot resolve {}", dir.display()))
}

/// The template's manifest with the application's name, the framework source, an
/// empty `[workspace]` so the application is its own workspace even when created
/// inside another one's directory, and fw's release profile (the template is a
/// member of fw's workspace, where a member's profile would be ignored).
fn manifest(name: &str, source: &FrameworkSource) -> anyhow::Result<String> {
    let mut document: DocumentMut = TEMPLATE_MANIFEST
        .parse()
        .context("the embedded template's Cargo.toml is not valid TOML")?;
    document["package"]["name"] = toml_edit::value(name);
    let dependency = match source {
        FrameworkSource::Path(path) => {
            let path = path
                .to_str()
                .with_context(|| format!("{} is not valid UTF-8", path.display()))?;
            inline([("path", path)])
        }
        FrameworkSource::Git { url, rev: None } => inline([("git", url.as_str())]),
        FrameworkSource::Git {
            url,
            rev: Some(rev),
        } => inline([("git", url.as_str()), ("rev", rev.as_str())]),
        FrameworkSource::Version(version) => Value::from(version.as_str()),
    };
    document["dependencies"]["fw"] = Item::Value(dependency);
    let mut workspace = Table::new();
    workspace.decor_mut().set_prefix(
        "\n# Its own workspace, so the application builds alone even inside another\n\
         # project's directory.\n",
    );
    document.insert("workspace", Item::Table(workspace));
    document.insert("profile", Item::Table(profiles()));
    Ok(document.to_string())
}

/// The application's profiles: `deploy`, the release build with fw's own
/// release settings, and `dev` as fw's workspace sets it. `release` stays
/// cargo's: a one-file release rebuild of a new app is about 120 CPU seconds
/// spread over 16 codegen units without whole-program LTO, and 168 seconds on
/// one core with it (BENCHMARKS.md, "The release profile").
fn profiles() -> Table {
    let mut deploy = Table::new();
    deploy.decor_mut().set_prefix(
        "\n# What gets deployed (`cargo build --profile deploy`, as the Dockerfile\n\
         # builds): one codegen unit and whole-program LTO merge the copies of the\n\
         # same generic code that each crate instantiates, for a fifth less memory\n\
         # in every server process, less CPU per request and a third smaller\n\
         # executable, at almost three minutes for a rebuild after a one-file change\n\
         # on 2 cores. `cargo build --release` keeps cargo's settings, whose\n\
         # rebuild spreads over 16 codegen units.\n",
    );
    deploy.insert("inherits", toml_edit::value("release"));
    deploy.insert("lto", toml_edit::value("fat"));
    deploy.insert("codegen-units", toml_edit::value(1));
    let mut profile = Table::new();
    profile.set_implicit(true);
    profile.insert("deploy", Item::Table(deploy));
    profile.insert("dev", Item::Table(dev_profile()));
    profile
}

/// The dependencies built without debug info, and `argon2` and `blake2`
/// optimized, as in fw's own workspace: debug info for a few hundred crates
/// an application does not step through makes every debug build slower to
/// link and several times larger; unoptimized, Argon2 takes over a second per
/// password, and every login and test that signs in would crawl.
fn dev_profile() -> Table {
    let mut packages = Table::new();
    packages.set_implicit(true);
    let mut dependencies = Table::new();
    dependencies.decor_mut().set_prefix(
        "\n# Dependencies without debug info: debug builds link faster and take a\n\
         # fraction of the disk; the application's own code keeps it.\n",
    );
    dependencies.insert("debug", toml_edit::value(false));
    packages.insert("*", Item::Table(dependencies));
    for (index, crate_name) in ["argon2", "blake2"].into_iter().enumerate() {
        let mut optimized = Table::new();
        if index == 0 {
            optimized.decor_mut().set_prefix(
                "\n# Password hashing is slow on purpose, and unoptimized over a second per\n\
                 # password: optimized even in debug builds, so logins and tests stay quick.\n",
            );
        }
        optimized.insert("opt-level", toml_edit::value(3));
        packages.insert(crate_name, Item::Table(optimized));
    }
    let mut dev = Table::new();
    dev.set_implicit(true);
    dev.insert("package", Item::Table(packages));
    dev
}

fn inline<const N: usize>(entries: [(&str, &str); N]) -> Value {
    let mut table = InlineTable::new();
    for (key, value) in entries {
        table.insert(key, Value::from(value));
    }
    Value::InlineTable(table)
}

/// PostgreSQL's database names are identifiers: `order-book` becomes `order_book`.
fn database_name(name: &str) -> String {
    name.replace('-', "_")
}

fn postgres_env(name: &str) -> String {
    format!(
        "# Local settings (not committed; see .env.example). Created by `fw new --db postgres`.\n\
         DATABASE_URL=postgres://postgres@127.0.0.1:5432/{}\n",
        database_name(name)
    )
}

/// Has the application in `dir` write [`GENERATED`]'s files from its own
/// models and API, building it first; on failure removes `dir`, so a failed
/// `fw new` leaves nothing behind.
fn write_generated(dir: &Path) -> anyhow::Result<()> {
    println!(
        "Building the application to write its first migration and its OpenAPI document \
         (the first build takes a few minutes)."
    );
    for &command in WRITE_GENERATED {
        let written = super::forward::run_in(dir, command);
        if !matches!(&written, Ok(code) if *code == ExitCode::SUCCESS) {
            let _ = std::fs::remove_dir_all(dir);
            let reason = match written {
                Err(error) => format!("{error:#}"),
                Ok(_) => "it failed, as printed above".to_owned(),
            };
            bail!(
                "`{}` in the new application: {reason}; nothing was kept, fix the cause and \
                 run `fw new` again",
                command.join(" ")
            );
        }
    }
    Ok(())
}

/// Creates `dir` (which must not exist) and writes `files` into it; on failure
/// removes what it wrote, so a failed `fw new` leaves nothing behind.
fn write_all(dir: &Path, files: &[(&str, String)]) -> anyhow::Result<()> {
    if let Some(parent) = dir.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::create_dir(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let written = files.iter().try_for_each(|(path, contents)| {
        let file = dir.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&file, contents).with_context(|| format!("cannot write {}", file.display()))
    });
    if written.is_err() {
        let _ = std::fs::remove_dir_all(dir);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_template_lists_every_file_of_starter_template() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../starter-template");
        let mut on_disk = Vec::new();
        collect_files(&root, &root, &mut on_disk);
        on_disk.sort();
        let mut embedded: Vec<String> = TEMPLATE
            .iter()
            .map(|(path, _)| (*path).to_owned())
            .chain(
                WITHOUT_SAMPLE
                    .iter()
                    .map(|(path, _)| format!("no-sample/{path}")),
            )
            .collect();
        embedded.sort();
        assert_eq!(
            embedded, on_disk,
            "update `TEMPLATE` or `WITHOUT_SAMPLE` in cli/src/commands/new.rs"
        );
    }

    /// Without the sample, every file but the generated ones is written, each
    /// replaced one at the template's own path.
    #[test]
    fn without_the_sample_only_template_files_are_replaced_or_left_out() {
        let template: Vec<&str> = TEMPLATE.iter().map(|(path, _)| *path).collect();
        for (path, _) in WITHOUT_SAMPLE {
            assert!(template.contains(path), "{path} is not a template file");
            assert!(!GENERATED.contains(path), "{path} is generated");
        }
        for path in GENERATED {
            assert!(template.contains(path), "{path} is not a template file");
        }
        assert_eq!(WRITE_GENERATED.len(), GENERATED.len());
    }

    /// The template's files, skipping what its `.gitignore` keeps out of version
    /// control (build output, the development database, local settings).
    fn collect_files(root: &Path, dir: &Path, files: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("read starter-template") {
            let path = entry.expect("directory entry").path();
            let relative = path
                .strip_prefix(root)
                .expect("inside the template")
                .to_string_lossy()
                .replace('\\', "/");
            if ["target", "data", ".env", "Cargo.lock"].contains(&relative.as_str()) {
                continue;
            }
            if path.is_dir() {
                collect_files(root, &path, files);
            } else {
                files.push(relative);
            }
        }
    }

    #[test]
    fn names_cargo_would_reject_or_that_clash_are_refused() {
        for name in [
            "", "Blog", "1blog", "-blog", "my app", "blög", "fn", "self", "test", "std", "app",
            "fw", "tokio", "my.app",
        ] {
            assert!(check_name(name).is_err(), "`{name}` was accepted");
        }
        for name in ["blog", "order-book", "order_book", "app2", "notes"] {
            assert!(check_name(name).is_ok(), "`{name}` was refused");
        }
    }

    #[test]
    fn the_manifest_gets_the_name_the_framework_source_and_its_own_workspace() {
        let manifest = manifest(
            "blog",
            &FrameworkSource::Git {
                url: "https://example.invalid/fw.git".to_owned(),
                rev: Some("abc123".to_owned()),
            },
        )
        .expect("manifest");
        let document: DocumentMut = manifest.parse().expect("valid TOML");
        assert_eq!(document["package"]["name"].as_str(), Some("blog"));
        let fw = document["dependencies"]["fw"]
            .as_inline_table()
            .expect("inline table");
        assert_eq!(
            fw.get("git").and_then(Value::as_str),
            Some("https://example.invalid/fw.git")
        );
        assert_eq!(fw.get("rev").and_then(Value::as_str), Some("abc123"));
        assert!(fw.get("path").is_none());
        assert!(
            document["workspace"]
                .as_table()
                .is_some_and(Table::is_empty)
        );
        assert_eq!(
            document["lib"]["name"].as_str(),
            Some("app"),
            "the code never names the package"
        );
        assert_eq!(document["profile"]["deploy"]["lto"].as_str(), Some("fat"));
        assert_eq!(
            document["profile"]["deploy"]["codegen-units"].as_integer(),
            Some(1)
        );
        assert!(manifest.contains("\n[profile.deploy]\n"), "{manifest}");
        assert!(
            document["profile"].get("release").is_none(),
            "release builds keep cargo's settings"
        );
        assert_eq!(
            document["profile"]["dev"]["package"]["argon2"]["opt-level"].as_integer(),
            Some(3)
        );
        assert!(
            manifest.contains("\n[profile.dev.package.blake2]\n"),
            "{manifest}"
        );

        let manifest = manifest_for_version("0.1");
        assert!(manifest.contains("fw = \"0.1\""), "{manifest}");
    }

    /// A new application is deployed built as fw's own workspace builds for
    /// release, the profile its benchmarks measure, and its dependencies are
    /// built for debugging as fw's are.
    #[test]
    fn the_profiles_are_the_workspace_s() {
        let workspace: DocumentMut = include_str!("../../../Cargo.toml")
            .parse()
            .expect("the workspace's Cargo.toml");
        let written = profiles();
        let settings = |table: &Table| -> Vec<(String, String)> {
            table
                .iter()
                .map(|(key, item)| (key.to_owned(), item.to_string().trim().to_owned()))
                .collect()
        };
        let table = |item: &Item| item.as_table().expect("a table").clone();
        // The deployed build is the one fw's benchmarks measure: the
        // workspace's release profile.
        let mut deployed = settings(&table(&written["deploy"]));
        assert_eq!(
            deployed.remove(0),
            ("inherits".to_owned(), "\"release\"".to_owned())
        );
        assert_eq!(deployed, settings(&table(&workspace["profile"]["release"])));
        let packages = |item: &Item| -> Vec<(String, Vec<(String, String)>)> {
            table(item)
                .iter()
                .map(|(name, settings_of)| (name.to_owned(), settings(&table(settings_of))))
                .collect()
        };
        assert_eq!(
            packages(&written["dev"]["package"]),
            packages(&workspace["profile"]["dev"]["package"])
        );
    }

    fn manifest_for_version(version: &str) -> String {
        manifest("blog", &FrameworkSource::Version(version.to_owned())).expect("manifest")
    }
}
