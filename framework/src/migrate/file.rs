//! Migration files: `migrations/NNNN_name.toml`, read and written.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use fw_core::constraint::Setting;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::column::{Column, Index, Literal};
use super::lint::Finding;
use super::operation::Operation;
use super::state::SchemaState;
use super::{EmbeddedMigrations, MigrateError};

/// One parsed migration file.
#[derive(Debug, Clone)]
pub(crate) struct MigrationFile {
    pub(crate) number: u32,
    /// The file name without `.toml`, as recorded in `fw_migrations`.
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    /// Hex SHA-256 of the file's bytes.
    pub(crate) checksum: String,
    pub(crate) acknowledged: Vec<String>,
    pub(crate) operations: Vec<Operation>,
    /// The line of each operation's `[[operations]]` header.
    pub(crate) lines: Vec<usize>,
}

impl MigrationFile {
    /// An error about operation `index` of this file.
    pub(crate) fn error_at(&self, index: usize, message: impl Into<String>) -> MigrateError {
        MigrateError::InvalidFile {
            path: self.path.clone(),
            line: self.lines.get(index).copied(),
            message: message.into(),
        }
    }

    /// Whether the file builds indexes concurrently, outside a transaction.
    pub(crate) fn is_concurrent(&self) -> bool {
        self.operations.iter().any(Operation::is_concurrent)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    acknowledge: Vec<String>,
    #[serde(default)]
    operations: Vec<toml::Spanned<toml::Table>>,
}

fn io_error(path: &Path, source: std::io::Error) -> MigrateError {
    MigrateError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Every migration file of `dir`, in number order. A missing directory holds none.
///
/// # Errors
///
/// When a file cannot be read or parsed, or numbers have a gap or a duplicate.
pub(crate) fn load_dir(dir: &Path) -> Result<Vec<MigrationFile>, MigrateError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(io_error(dir, error)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|error| io_error(dir, error))?.path();
        if path
            .extension()
            .is_some_and(|extension| extension == "toml")
        {
            let bytes = std::fs::read(&path).map_err(|error| io_error(&path, error))?;
            files.push(parse(&path, &bytes)?);
        }
    }
    in_order(dir, files)
}

/// The files compiled into the executable, checked as [`load_dir`] checks a
/// directory's.
pub(crate) fn load_embedded(
    embedded: &EmbeddedMigrations,
) -> Result<Vec<MigrationFile>, MigrateError> {
    let dir = Path::new(embedded.dir);
    let files = embedded
        .files
        .iter()
        .map(|(name, bytes)| parse(&dir.join(name), bytes))
        .collect::<Result<Vec<_>, _>>()?;
    in_order(dir, files)
}

/// `files` sorted by number, which must run from 1 without a gap or a repeat.
fn in_order(dir: &Path, mut files: Vec<MigrationFile>) -> Result<Vec<MigrationFile>, MigrateError> {
    files.sort_by(|a, b| a.number.cmp(&b.number).then_with(|| a.name.cmp(&b.name)));
    for (position, file) in files.iter().enumerate() {
        let expected = position as u32 + 1;
        if file.number == expected {
            continue;
        }
        let message = if file.number < expected {
            format!(
                "`{}` and `{}` have the same number; renumber the newer one after the last \
                 migration (the usual cause is two branches each adding a migration)",
                files[position - 1].name,
                file.name
            )
        } else {
            format!(
                "`{}` follows migration {:04}, leaving a gap; number it {expected:04}, or \
                 restore the missing file",
                file.name,
                expected - 1
            )
        };
        return Err(MigrateError::Numbering {
            dir: dir.to_owned(),
            message,
        });
    }
    Ok(files)
}

/// The number and name of `NNNN_name.toml`, or why the name is wrong.
fn file_number(path: &Path) -> Result<(u32, String), String> {
    let stem = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or_default();
    let valid = stem.len() > 5
        && stem.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        && stem.as_bytes()[4] == b'_'
        && stem[5..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid {
        return Err(
            "migration files are named `NNNN_name.toml` (four digits, then lowercase letters, \
             digits and underscores); rename the file or move it out of the migrations directory"
                .to_owned(),
        );
    }
    Ok((stem[..4].parse().unwrap_or(0), stem.to_owned()))
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Parses one file's bytes.
pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<MigrationFile, MigrateError> {
    let invalid = |line: Option<usize>, message: String| MigrateError::InvalidFile {
        path: path.to_owned(),
        line,
        message,
    };
    let (number, name) = file_number(path).map_err(|message| invalid(None, message))?;
    let text = std::str::from_utf8(bytes)
        .map_err(|_| invalid(None, "the file is not UTF-8 text".to_owned()))?;
    let raw: RawFile = toml::from_str(text).map_err(|error| {
        let line = error.span().map(|span| line_of(text, span.start));
        invalid(line, error.message().trim().to_owned())
    })?;
    let mut operations = Vec::new();
    let mut lines = Vec::new();
    for spanned in raw.operations {
        let line = line_of(text, spanned.span().start);
        let table = spanned.into_inner();
        let kind = table
            .get("op")
            .and_then(toml::Value::as_str)
            .unwrap_or("?")
            .to_owned();
        let operation: Operation = toml::Value::Table(table).try_into().map_err(|error| {
            let message = error.message().trim().to_owned();
            invalid(Some(line), format!("operation `{kind}`: {message}"))
        })?;
        operations.push(operation);
        lines.push(line);
    }
    let file = MigrationFile {
        number,
        name,
        path: path.to_owned(),
        checksum: checksum(bytes),
        acknowledged: raw.acknowledge,
        operations,
        lines,
    };
    if file.is_concurrent()
        && let Some(index) = file.operations.iter().position(|op| !op.is_concurrent())
    {
        return Err(file.error_at(
            index,
            "this file builds an index with `concurrently = true`, which PostgreSQL cannot do \
             inside a transaction, so the file may hold only such indexes; move this operation \
             to a migration file of its own",
        ));
    }
    Ok(file)
}

/// Hex SHA-256 of a file's bytes.
pub(crate) fn checksum(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// The text of a new migration file, applying to `before`.
pub(crate) fn render(
    before: &SchemaState,
    operations: &[Operation],
    findings: &[Finding],
) -> String {
    let mut out = String::new();
    if operations.iter().any(Operation::is_concurrent) {
        out.push_str(
            "# Generated by `makemigrations`. Review it like code: `migrate` applies it, in\n\
             # order, on SQLite and PostgreSQL alike.\n\
             #\n\
             # These indexes are built with CREATE INDEX CONCURRENTLY on PostgreSQL, so writes\n\
             # go on while they build. That cannot run in a transaction, which is why they\n\
             # have a migration file of their own.\n",
        );
    } else {
        out.push_str(
            "# Generated by `makemigrations`. Review it like code: `migrate` applies these\n\
             # operations in order, in one transaction, on SQLite and PostgreSQL alike.\n",
        );
    }
    if findings.is_empty() {
        out.push('\n');
    } else {
        out.push_str(
            "#\n\
             # DEPLOY SAFETY. This migration runs while the previous release still serves\n\
             # traffic, and some of its operations break that release or lock a table:\n",
        );
        for finding in findings {
            out.push_str("#\n");
            let _ = writeln!(out, "# {}", finding.key);
            wrap_comment(&mut out, "  What: ", &finding.what);
            wrap_comment(&mut out, "  Why:  ", &finding.why);
            wrap_comment(&mut out, "  Safe: ", &finding.recipe);
        }
        out.push_str(
            "#\n\
             # `migrate` refuses to apply this file until each finding is acknowledged. Make\n\
             # the change the safe way instead, or, if breaking the old release is acceptable\n\
             # (nothing serves it yet, or a short outage is fine), uncomment its line below.\n\
             acknowledge = [\n",
        );
        for finding in findings {
            let _ = writeln!(out, "    # {},", string(&finding.key));
        }
        out.push_str("]\n\n");
    }
    let mut state = before.clone();
    for operation in operations {
        render_operation(&mut out, &state, operation);
        let _ = state.apply(operation);
        out.push('\n');
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

fn wrap_comment(out: &mut String, label: &str, text: &str) {
    const WIDTH: usize = 88;
    let indent = " ".repeat(label.len());
    let mut line = format!("#{label}");
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.len() + 1 + word.len() > WIDTH {
            out.push_str(&line);
            out.push('\n');
            line = format!("#{indent}");
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(&line);
    out.push('\n');
}

/// A TOML string: a literal string when that avoids escaping backslashes.
fn string(text: &str) -> String {
    let plain = text.chars().all(|c| !c.is_control());
    if plain && text.contains('\\') && !text.contains('\'') {
        return format!("'{text}'");
    }
    let mut quoted = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            '\r' => quoted.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(quoted, "\\u{:04X}", c as u32);
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

fn string_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|item| string(item)).collect();
    format!("[{}]", items.join(", "))
}

/// A column as a one-line inline table, listing only what is set.
fn inline_column(column: &Column) -> String {
    let mut fields = vec![
        format!("name = {}", string(&column.name)),
        format!("type = {}", string(column.sql_type.name())),
    ];
    let mut push = |key: &str, value: String| fields.push(format!("{key} = {value}"));
    if column.nullable {
        push("nullable", "true".to_owned());
    }
    if column.primary_key {
        push("primary_key", "true".to_owned());
    }
    if column.generated.is_some() {
        push("generated", string("auto_increment"));
    }
    if let Some(default) = &column.default {
        push(
            "default",
            match default {
                Literal::Bool(value) => value.to_string(),
                Literal::Int(value) => value.to_string(),
                Literal::Text(text) => string(text),
            },
        );
    }
    for constraint in &column.constraints {
        push(
            constraint.key(),
            match constraint.setting() {
                Setting::Count(count) => count.to_string(),
                Setting::Text(text) => string(text),
                Setting::List(values) => {
                    let items: Vec<String> = values.into_iter().map(string).collect();
                    format!("[{}]", items.join(", "))
                }
            },
        );
    }
    if let Some(references) = &column.references {
        push("references", string(references));
        let on_delete = column
            .on_delete
            .unwrap_or(crate::schema::OnDelete::Restrict);
        push("on_delete", string(on_delete.name()));
    }
    if column.sealed {
        push("sealed", "true".to_owned());
    }
    if let Some(sealed) = &column.digest_of {
        push("digest_of", string(sealed));
    }
    format!("{{ {} }}", fields.join(", "))
}

fn inline_index(index: &Index) -> String {
    let unique = if index.unique { ", unique = true" } else { "" };
    format!(
        "{{ name = {}, columns = {}{unique} }}",
        string(&index.name),
        string_list(&index.columns)
    )
}

fn render_operation(out: &mut String, state: &SchemaState, operation: &Operation) {
    out.push_str("[[operations]]\n");
    let _ = writeln!(out, "op = {}", string(operation.kind()));
    let mut line = |key: &str, value: String| {
        let _ = writeln!(out, "{key} = {value}");
    };
    let was = |table: &str, column: &Column| {
        state
            .table(table)
            .and_then(|t| t.column(&column.name))
            .map(inline_column)
    };
    match operation {
        Operation::CreateTable {
            table,
            columns,
            indexes,
        } => {
            line("table", string(table));
            let columns: Vec<String> = columns
                .iter()
                .map(|column| format!("    {},\n", inline_column(column)))
                .collect();
            line("columns", format!("[\n{}]", columns.concat()));
            if !indexes.is_empty() {
                let indexes: Vec<String> = indexes
                    .iter()
                    .map(|index| format!("    {},\n", inline_index(index)))
                    .collect();
                line("indexes", format!("[\n{}]", indexes.concat()));
            }
        }
        Operation::DropTable {
            table,
            keep_in_database,
        } => {
            line("table", string(table));
            if *keep_in_database {
                line("keep_in_database", "true".to_owned());
            }
        }
        Operation::RenameTable { from, to } => {
            line("from", string(from));
            line("to", string(to));
        }
        Operation::AddColumn { table, column } => {
            line("table", string(table));
            line("column", inline_column(column));
        }
        Operation::DropColumn {
            table,
            column,
            keep_in_database,
        } => {
            line("table", string(table));
            line("column", string(column));
            if *keep_in_database {
                line("keep_in_database", "true".to_owned());
            }
        }
        Operation::RenameColumn { table, from, to } => {
            line("table", string(table));
            line("from", string(from));
            line("to", string(to));
        }
        Operation::AlterColumn { table, column } => {
            line("table", string(table));
            if let Some(old) = was(table, column) {
                line("# was", old);
            }
            line("column", inline_column(column));
        }
        Operation::AddIndex {
            table,
            name,
            columns,
            concurrently,
        } => {
            line("table", string(table));
            line("name", string(name));
            line("columns", string_list(columns));
            if *concurrently {
                line("concurrently", "true".to_owned());
            }
        }
        Operation::DropIndex { table, name } | Operation::DropUnique { table, name } => {
            line("table", string(table));
            line("name", string(name));
        }
        Operation::AddUnique {
            table,
            name,
            columns,
        } => {
            line("table", string(table));
            line("name", string(name));
            line("columns", string_list(columns));
        }
        Operation::RunSql {
            sql,
            sqlite,
            postgres,
        } => {
            for (key, value) in [("sql", sql), ("sqlite", sqlite), ("postgres", postgres)] {
                if let Some(value) = value {
                    line(key, string(value));
                }
            }
        }
        Operation::AlterSensitivity {
            table,
            column,
            sealed,
            searchable,
        } => {
            line("table", string(table));
            line("column", string(column));
            line("sealed", sealed.to_string());
            if *searchable {
                line("searchable", "true".to_owned());
            }
        }
        Operation::Reseal {
            table,
            column,
            from_table,
            from_column,
        } => {
            line("table", string(table));
            line("column", string(column));
            line("from_table", string(from_table));
            line("from_column", string(from_column));
        }
        Operation::RunDataMigration { function } => line("function", string(function)),
    }
}
