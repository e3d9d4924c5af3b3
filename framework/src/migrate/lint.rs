//! The deploy-safety lint (expand/contract).
//!
//! A deploy runs migrations before the new release starts, while the previous
//! release still serves traffic. Every operation that would break that release, or
//! lock a busy table on PostgreSQL, is a [`Finding`] that `migrate` refuses until
//! the migration file acknowledges it.

use std::collections::BTreeSet;
use std::fmt;

use super::column::Column;
use super::operation::Operation;
use super::state::SchemaState;
use crate::schema::{self, Constraint, Constraints, SqlType};

/// One deploy-safety problem of a migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What acknowledges it: `rule:target`, for example `drop_column:security.cusip`.
    pub key: String,
    /// What the operation does.
    pub what: String,
    /// Why that breaks the release still serving, or locks.
    pub why: String,
    /// The safe way to make the change, in steps.
    pub recipe: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}: {}", self.key, self.what)?;
        writeln!(f, "  why: {}", self.why)?;
        write!(f, "  safe recipe: {}", self.recipe)
    }
}

/// The findings of one migration's operations, applied to `before`.
pub(crate) fn lint(before: &SchemaState, operations: &[Operation]) -> Vec<Finding> {
    let mut state = before.clone();
    // Tables created by this migration have no old code using them and no rows.
    let mut new_tables = BTreeSet::new();
    let mut findings = Vec::new();
    for operation in operations {
        lint_operation(&state, &mut new_tables, operation, &mut findings);
        // The file was validated by replay already; a failure here only means the
        // following findings may be incomplete.
        let _ = state.apply(operation);
    }
    findings
}

fn lint_operation(
    state: &SchemaState,
    new_tables: &mut BTreeSet<String>,
    operation: &Operation,
    findings: &mut Vec<Finding>,
) {
    let mut report = |key: String, what: String, why: &str, recipe: String| {
        findings.push(Finding {
            key,
            what,
            why: why.to_owned(),
            recipe,
        });
    };
    match operation {
        Operation::CreateTable { table, .. } => {
            new_tables.insert(table.clone());
        }
        Operation::RenameTable { from, to } => {
            if new_tables.remove(from) {
                new_tables.insert(to.clone());
            } else {
                report(
                    format!("rename_table:{from}"),
                    format!("renames table `{from}` to `{to}`"),
                    "the release still serving queries the old name and fails until it stops",
                    format!(
                        "create the new model `{to}` beside `{from}`, write to both and backfill \
                         `{to}` with a data migration, switch reads to `{to}`, then drop `{from}` \
                         in a later release (see drop_table)"
                    ),
                );
            }
        }
        _ if operation_table(operation).is_some_and(|table| new_tables.contains(table)) => {}
        Operation::DropTable {
            table,
            keep_in_database: false,
        } => report(
            format!("drop_table:{table}"),
            format!("drops table `{table}` and its data"),
            "the release still serving reads and writes it until it stops, and those requests fail",
            format!(
                "1. remove the model and ship this operation with `keep_in_database = true`, \
                 so the table outlives the old release; 2. in a later release drop it with \
                 `op = \"run_sql\"`, `sql = 'DROP TABLE \"{table}\"'`"
            ),
        ),
        Operation::DropColumn {
            table,
            column,
            keep_in_database: false,
        } => report(
            format!("drop_column:{table}.{column}"),
            format!("drops column `{table}.{column}` and its data"),
            "the release still serving selects and writes the column by name, and those \
             requests fail until it stops",
            format!(
                "1. if the column is NOT NULL without a default, first make the field an \
                 `Option` (or give it a default) and deploy that; 2. remove the field and ship \
                 this operation with `keep_in_database = true`; 3. in a later release drop it \
                 with `op = \"run_sql\"`, `sql = 'ALTER TABLE \"{table}\" DROP COLUMN \"{column}\"'`"
            ),
        ),
        Operation::RenameColumn { table, from, to } => report(
            format!("rename_column:{table}.{from}"),
            format!("renames column `{table}.{from}` to `{to}`"),
            "the release still serving selects and writes the old name, and those requests \
             fail until it stops",
            format!(
                "add `{to}` as a new nullable field, write both fields and backfill `{to}` \
                 with a data migration, switch reads to `{to}`, then drop `{from}` in a later \
                 release (see drop_column)"
            ),
        ),
        Operation::AddColumn { table, column } if !column.nullable && column.default.is_none() => {
            report(
                format!("not_null:{table}.{}", column.name),
                format!(
                    "adds NOT NULL column `{table}.{}` without a default",
                    column.name
                ),
                "existing rows have no value for it, so the migration fails on a non-empty \
                 table, and inserts from the release still serving leave it out and fail",
                "give the field a default (`#[field(default = ...)]`; PostgreSQL adds a column \
                 with a constant default without rewriting the table), or add it as an \
                 `Option`, backfill it with a data migration, and make it required in a later \
                 release"
                    .to_owned(),
            );
        }
        Operation::AlterColumn { table, column } => {
            let Some(old) = state.table(table).and_then(|t| t.column(&column.name)) else {
                return;
            };
            lint_alter_column(table, old, column, &mut report);
        }
        Operation::AlterSensitivity {
            table,
            column,
            sealed,
            searchable,
        } => {
            let Some(old) = state.table(table) else {
                return;
            };
            let was_sealed = old.column(column).is_some_and(|c| c.sealed);
            let had_digest = old
                .columns
                .iter()
                .any(|c| c.digest_of.as_deref() == Some(column.as_str()));
            let (key, what, why, recipe) =
                sensitivity_finding(table, column, was_sealed, *sealed, had_digest, *searchable);
            report(key, what, &why, recipe);
        }
        Operation::Reseal {
            table,
            column,
            from_table,
            from_column,
        } => {
            let digest = state
                .table(table)
                .and_then(|t| {
                    t.columns
                        .iter()
                        .find(|c| c.digest_of.as_deref() == Some(column.as_str()))
                })
                .map(|c| format!(", and recomputes its digest `{}`", c.name))
                .unwrap_or_default();
            report(
                format!("reseal:{table}.{column}"),
                format!(
                    "re-seals every value of `{table}.{column}`, sealed as \
                     `{from_table}.{from_column}` before the rename{digest}: rewrites every row \
                     of `{table}`"
                ),
                &format!(
                    "not expand/contract safe: a sealed value and its digest are bound to their \
                     table and column, so the release still serving cannot open the re-sealed \
                     values nor find them by digest, and values it writes meanwhile are sealed \
                     as `{from_table}.{from_column}`, which this release cannot open; {}",
                    held_rows(table)
                ),
                format!(
                    "{MAINTENANCE_WINDOW}; or, without downtime, do not rename sealed data in \
                     place: add the new name as a new `#[field(sensitive)]` field (a new model, \
                     for a table) beside `{from_table}.{from_column}`, write both, backfill it \
                     through the model, switch reads to it, and drop the old one in a later \
                     release (see drop_column)"
                ),
            );
        }
        Operation::AddIndex {
            table,
            name,
            concurrently: false,
            ..
        } => report(
            format!("index_not_concurrent:{name}"),
            format!("builds index `{name}` on existing table `{table}` in a transaction"),
            "on PostgreSQL, CREATE INDEX blocks every write to the table until the index is \
             built",
            "set `concurrently = true` on this operation and move it to a migration file of \
             its own (makemigrations does both by itself)"
                .to_owned(),
        ),
        Operation::AddUnique { table, name, .. } => report(
            format!("add_unique:{name}"),
            format!("adds unique constraint `{name}` to existing table `{table}`"),
            "it fails if existing rows have duplicates, the release still serving may insert \
             duplicates, and on PostgreSQL building it blocks writes to the table",
            "1. deploy code that avoids duplicates and remove existing ones with a data \
             migration; 2. on a large PostgreSQL table build the index first, in a migration \
             of its own, with `run_sql`: `CREATE UNIQUE INDEX CONCURRENTLY`, then `ALTER TABLE \
             ... ADD CONSTRAINT ... UNIQUE USING INDEX`"
                .to_owned(),
        ),
        _ => {}
    }
}

/// What deploying an operation that stops the old release from reading a
/// column takes.
const MAINTENANCE_WINDOW: &str =
    "deploy with a maintenance window: stop the old release, run `migrate`, start this one";

/// Why a row-by-row rewrite of `table` blocks.
fn held_rows(table: &str) -> String {
    format!(
        "the rewrite holds every row of `{table}` (on SQLite, the whole database) until the \
         migration commits"
    )
}

/// The recipe for changing how `column` is stored: a maintenance window, or a
/// new field written beside it.
fn swap_recipe(column: &str, new_field: &str) -> String {
    format!(
        "{MAINTENANCE_WINDOW}; or, without downtime: 1. add a new {new_field} field beside \
         `{column}` and write both; 2. backfill the new field through the model (a data \
         migration or a batch job, so each row is written as the model writes it); 3. switch \
         reads to the new field; 4. drop `{column}` in a later release (see drop_column)"
    )
}

/// The finding of an `alter_sensitivity` operation: key, what, why, recipe.
fn sensitivity_finding(
    table: &str,
    column: &str,
    was_sealed: bool,
    sealed: bool,
    had_digest: bool,
    searchable: bool,
) -> (String, String, String, String) {
    let target = format!("{table}.{column}");
    let digest = schema::digest_column_name(column);
    let held = held_rows(table);
    let swap = |new_field: &str| swap_recipe(column, new_field);
    match (was_sealed, sealed) {
        (false, true) => (
            format!("seal:{target}"),
            format!(
                "seals every value of `{target}`{}: rewrites every row of `{table}`",
                if searchable {
                    format!(" and fills its digest column `{digest}`")
                } else {
                    String::new()
                }
            ),
            format!(
                "not expand/contract safe: the release still serving reads `{column}` as clear \
                 text, so it serves the sealed text (`fw1:...`) as the value, and writes clear \
                 values that this release cannot open; {held}"
            ),
            swap("`#[field(sensitive)]`"),
        ),
        (true, false) => (
            format!("open:{target}"),
            format!(
                "opens every sealed value of `{target}`{}: rewrites every row of `{table}`",
                if had_digest {
                    format!(" and drops its digest column `{digest}`")
                } else {
                    String::new()
                }
            ),
            format!(
                "not expand/contract safe: the release still serving opens `{column}` and fails \
                 on every clear value, and writes sealed values that this release reads as the \
                 value; {held}"
            ),
            swap("plain (not `sensitive`)"),
        ),
        _ if searchable => (
            format!("add_digest:{target}"),
            format!(
                "fills the new digest column `{table}.{digest}` from every opened value of \
                 `{column}`: rewrites every row of `{table}`"
            ),
            format!(
                "the release still serving does not write the digest, so rows it writes \
                 meanwhile are not found by equality filters (nor kept unique) until their \
                 digest is filled; {held}"
            ),
            format!(
                "run the app's `rotate-keys` once the old release has stopped: it fills every \
                 missing digest; or {MAINTENANCE_WINDOW}"
            ),
        ),
        _ => (
            format!("drop_digest:{target}"),
            format!("drops the digest column `{table}.{digest}` of `{column}`"),
            "the release still serving writes the digest column and filters by it, and those \
             requests fail until it stops"
                .to_owned(),
            format!(
                "{MAINTENANCE_WINDOW}; the digest holds nothing the sealed column does not, so the old \
                 release's failures are its only cost"
            ),
        ),
    }
}

fn operation_table(operation: &Operation) -> Option<&str> {
    match operation {
        Operation::DropTable { table, .. }
        | Operation::AddColumn { table, .. }
        | Operation::DropColumn { table, .. }
        | Operation::RenameColumn { table, .. }
        | Operation::AlterColumn { table, .. }
        | Operation::AddIndex { table, .. }
        | Operation::DropIndex { table, .. }
        | Operation::AddUnique { table, .. }
        | Operation::DropUnique { table, .. }
        | Operation::AlterSensitivity { table, .. }
        | Operation::Reseal { table, .. } => Some(table),
        _ => None,
    }
}

fn lint_alter_column(
    table: &str,
    old: &Column,
    new: &Column,
    report: &mut impl FnMut(String, String, &str, String),
) {
    let target = format!("{table}.{}", new.name);
    if let Some(why) = type_change(old, new) {
        report(
            format!("change_type:{target}"),
            format!(
                "changes the type of `{target}` from {} to {}",
                describe_type(old),
                describe_type(new)
            ),
            why,
            format!(
                "add a new field with the new type, write both and backfill it with a data \
                 migration, switch reads to it, then drop `{}` in a later release",
                new.name
            ),
        );
    }
    if new.sql_type == old.sql_type
        && let Some(max) = new.constraints.max_length()
        && Constraint::MaxLength(max).tightens(&old.constraints)
    {
        report(
            format!("narrow_column:{target}"),
            format!("limits `{target}` to {max} characters"),
            "the release still serving may write longer values, which then fail, and existing \
             longer rows make the migration fail",
            "1. deploy validation of the new limit; 2. shorten existing rows with a data \
             migration; 3. then narrow the column"
                .to_owned(),
        );
    }
    if old.nullable && !new.nullable {
        report(
            format!("not_null:{target}"),
            format!("makes `{target}` NOT NULL"),
            "the release still serving may write NULL, which then fails; existing NULLs make \
             the migration fail unless the field has a default; PostgreSQL scans the table \
             under an exclusive lock",
            "1. deploy code that always writes the field; 2. backfill NULLs with a data \
             migration (or give the field a default, which NULL rows take); 3. then make it \
             required"
                .to_owned(),
        );
    }
    if checks_tightened(old, new) {
        report(
            format!("add_check:{target}"),
            format!("adds or tightens the CHECK constraint of `{target}`"),
            "the release still serving may write values it rejects, existing rows that break \
             it make the migration fail, and PostgreSQL validates every row under an exclusive \
             lock",
            "1. deploy validation of the new rule; 2. fix existing rows with a data migration; \
             3. then add the check"
                .to_owned(),
        );
    }
    if let Some(foreign_key) = new.foreign_key()
        && old
            .foreign_key()
            .is_none_or(|old| old.table != foreign_key.table)
    {
        report(
            format!("add_foreign_key:{target}"),
            format!("makes `{target}` reference `{}`", foreign_key.table),
            "existing rows or writes from the release still serving may point nowhere, which \
             fails, and PostgreSQL validates every row under a lock on both tables",
            "1. deploy code that only writes valid references; 2. remove or fix dangling ones \
             with a data migration; 3. then add the reference"
                .to_owned(),
        );
    }
}

fn describe_type(column: &Column) -> String {
    let constraints = &column.constraints[..];
    match (
        column.sql_type,
        constraints.max_digits(),
        constraints.decimal_places(),
    ) {
        (SqlType::Decimal, Some(digits), places) => {
            format!("decimal({digits},{})", places.unwrap_or(0))
        }
        (sql_type, ..) => sql_type.name().to_owned(),
    }
}

/// Why a type change is unsafe, if it is.
fn type_change(old: &Column, new: &Column) -> Option<&'static str> {
    const REWRITE: &str = "PostgreSQL rewrites the whole table under an ACCESS EXCLUSIVE \
                           lock, blocking reads and writes for as long as it takes";
    if old.sql_type != new.sql_type {
        let widening = integer_width(old.sql_type) < integer_width(new.sql_type)
            && integer_width(old.sql_type) > 0;
        return Some(if widening {
            REWRITE
        } else {
            "existing values may not convert, and the release still serving writes and reads \
             the old type, which then fails; PostgreSQL also rewrites the whole table under \
             an ACCESS EXCLUSIVE lock"
        });
    }
    if old.sql_type == SqlType::Decimal {
        let (old, new) = (&old.constraints[..], &new.constraints[..]);
        let scale_changed = old.decimal_places() != new.decimal_places();
        let digits_narrowed = match (old.max_digits(), new.max_digits()) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(old), Some(new)) => new < old,
        };
        if scale_changed || digits_narrowed {
            return Some(
                "existing values may be rounded or overflow, and the release still serving may \
                 write values that no longer fit; PostgreSQL rewrites the whole table under an \
                 ACCESS EXCLUSIVE lock",
            );
        }
    }
    None
}

fn integer_width(sql_type: SqlType) -> u8 {
    match sql_type {
        SqlType::SmallInt => 2,
        SqlType::Int => 4,
        SqlType::BigInt => 8,
        _ => 0,
    }
}

/// Whether `new`'s CHECK rejects a value `old`'s accepted (a maximum length is
/// its own rule, with its own recipe).
fn checks_tightened(old: &Column, new: &Column) -> bool {
    new.constraints.iter().any(|constraint| {
        constraint.is_check()
            && !matches!(constraint, Constraint::MaxLength(_))
            && constraint.tightens(&old.constraints)
    })
}
