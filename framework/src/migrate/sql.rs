//! Renders operations to each dialect's SQL, at apply time.
//!
//! The type mapping follows how the runtime stores values (`db/sqlite.rs`,
//! `field.rs`): on SQLite decimals, dates, timestamps and JSON are text, UUIDs are
//! blobs and booleans are integers.

use fw_core::constraint::OwnedConstraint;
use rust_decimal::Decimal;

use super::column::{Column, Index, Literal};
use super::operation::Operation;
use super::state::{SchemaState, Table};
use crate::db::{Dialect, quote_ident};
use crate::schema::{
    Constraints, OnDelete, SqlType, check_constraint_name, foreign_key_constraint_name,
    primary_key_constraint_name,
};

/// One thing `migrate` does for an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// A single SQL statement, without the trailing semicolon.
    Sql(String),
    /// A registered Rust data-migration function.
    DataMigration(String),
    /// The row-by-row rewrite of an `alter_sensitivity` or `reseal` operation.
    Reseal(Reseal),
}

/// How an `alter_sensitivity` or `reseal` operation rewrites a column's
/// stored values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reseal {
    pub(crate) table: String,
    /// The primary key column, whose value binds each sealed value to its row.
    pub(crate) key: String,
    pub(crate) key_type: SqlType,
    pub(crate) column: String,
    /// The table and column names the stored values were sealed under: the
    /// old names after a rename, else `table` and `column`.
    pub(crate) sealed_as: (String, String),
    /// The stored values are sealed before the rewrite.
    pub(crate) opens: bool,
    /// The stored values are sealed after the rewrite.
    pub(crate) seals: bool,
    /// A digest column to fill from the clear values.
    pub(crate) digest: Option<String>,
}

impl Reseal {
    /// Rows read and rewritten per statement batch.
    pub(crate) const BATCH_SIZE: u32 = 500;

    /// Whether the stored values were sealed under other names, so each is
    /// sealed again under the current ones.
    pub(crate) fn moves(&self) -> bool {
        self.sealed_as.0 != self.table || self.sealed_as.1 != self.column
    }

    /// What the step does, for plans and errors.
    pub(crate) fn describe(&self) -> String {
        let Reseal {
            table,
            column,
            sealed_as: (from_table, from_column),
            opens,
            seals,
            digest,
            ..
        } = self;
        let mut what = match (opens, seals) {
            (false, true) => format!("seal every value of `{table}.{column}`"),
            (true, false) => format!("open every value of `{table}.{column}`"),
            _ if self.moves() => format!(
                "re-seal every value of `{table}.{column}` sealed as `{from_table}.{from_column}`"
            ),
            _ => format!("read every value of `{table}.{column}`"),
        };
        if let Some(digest) = digest {
            what.push_str(&format!(" and write its digest to `{digest}`"));
        }
        what.push_str(&format!(
            ", {} rows at a time by primary key",
            Reseal::BATCH_SIZE
        ));
        what
    }
}

/// The suffix of the temporary table a SQLite rebuild copies rows into.
const REBUILD_SUFFIX: &str = "__fw_rebuild";

/// The steps that carry out `operation`, which turns state `before` into `after`.
///
/// # Errors
///
/// A message when a `run_sql` operation has no SQL for `dialect`, or when
/// `before` and `after` are not the states around `operation`.
pub(crate) fn render(
    operation: &Operation,
    before: &SchemaState,
    after: &SchemaState,
    dialect: Dialect,
) -> Result<Vec<Step>, String> {
    let missing = |name: &str| format!("fw bug: table `{name}` is missing from the replayed state");
    let table_before = |name: &str| before.table(name).ok_or_else(|| missing(name));
    let table_after = |name: &str| after.table(name).ok_or_else(|| missing(name));
    let statements = match operation {
        Operation::CreateTable { table, .. } => create_table(table_after(table)?, dialect),
        Operation::DropTable {
            keep_in_database: true,
            ..
        }
        | Operation::DropColumn {
            keep_in_database: true,
            ..
        } => Vec::new(),
        Operation::DropTable { table, .. } => vec![format!("DROP TABLE {}", quote_ident(table))],
        Operation::RenameTable { from, to } => {
            rename_table(table_before(from)?, table_after(to)?, dialect)
        }
        Operation::AddColumn { table, column } => {
            add_column(table_before(table)?, table_after(table)?, column, dialect)
        }
        Operation::DropColumn { table, column, .. } => {
            drop_column(table_before(table)?, table_after(table)?, column, dialect)
        }
        Operation::RenameColumn { table, from, to } => {
            rename_column(table_before(table)?, table_after(table)?, from, to, dialect)
        }
        Operation::AlterColumn { table, column } => {
            let table_before = table_before(table)?;
            let old = table_before
                .column(&column.name)
                .ok_or_else(|| missing(&format!("{table}.{}", column.name)))?;
            match dialect {
                Dialect::Postgres => postgres_alter_column(table, old, column),
                Dialect::Sqlite => {
                    let table_after = table_after(table)?;
                    // SQLite stores many types alike (int and bigint are both
                    // INTEGER): a change it cannot see needs no rebuild.
                    let same =
                        create_table(table_before, dialect) == create_table(table_after, dialect);
                    if same {
                        Vec::new()
                    } else {
                        sqlite_rebuild(table_after, table_before)
                    }
                }
            }
        }
        Operation::AddIndex {
            table,
            name,
            columns,
            concurrently,
        } => {
            let index = Index {
                name: name.clone(),
                columns: columns.clone(),
                unique: false,
            };
            vec![create_index(
                table,
                &index,
                *concurrently && dialect == Dialect::Postgres,
            )]
        }
        Operation::AddUnique {
            table,
            name,
            columns,
        } => {
            let index = Index {
                name: name.clone(),
                columns: columns.clone(),
                unique: true,
            };
            match dialect {
                Dialect::Postgres => vec![format!(
                    "ALTER TABLE {} ADD {}",
                    quote_ident(table),
                    unique_constraint(&index)
                )],
                Dialect::Sqlite => vec![create_index(table, &index, false)],
            }
        }
        Operation::DropIndex { name, .. } => vec![format!("DROP INDEX {}", quote_ident(name))],
        Operation::DropUnique { table, name } => match dialect {
            Dialect::Postgres => vec![format!(
                "ALTER TABLE {} DROP CONSTRAINT {}",
                quote_ident(table),
                quote_ident(name)
            )],
            Dialect::Sqlite => vec![format!("DROP INDEX {}", quote_ident(name))],
        },
        Operation::RunSql {
            sql,
            sqlite,
            postgres,
        } => {
            let for_dialect = match dialect {
                Dialect::Sqlite => sqlite,
                Dialect::Postgres => postgres,
            };
            let Some(text) = for_dialect.as_ref().or(sql.as_ref()) else {
                return Err(format!(
                    "`run_sql` has no SQL for {0}; add `{0} = \"...\"` (or `sql = \"...\"` for both databases)",
                    dialect.name()
                ));
            };
            let text = text.trim().trim_end_matches(';').trim();
            if text.is_empty() {
                Vec::new()
            } else {
                vec![text.to_owned()]
            }
        }
        Operation::RunDataMigration { function } => {
            return Ok(vec![Step::DataMigration(function.clone())]);
        }
        Operation::AlterSensitivity { table, column, .. } => {
            return alter_sensitivity(table_before(table)?, table_after(table)?, column, dialect);
        }
        Operation::Reseal {
            table,
            column,
            from_table,
            from_column,
        } => {
            let table = table_after(table)?;
            let digest = table
                .columns
                .iter()
                .find(|c| c.digest_of.as_deref() == Some(column.as_str()))
                .map(|c| c.name.clone());
            let key = primary_key(table)?;
            return Ok(vec![Step::Reseal(Reseal {
                table: table.name.clone(),
                key: key.name.clone(),
                key_type: key.sql_type,
                column: column.clone(),
                sealed_as: (from_table.clone(), from_column.clone()),
                opens: true,
                seals: true,
                digest,
            })]);
        }
    };
    Ok(statements.into_iter().map(Step::Sql).collect())
}

/// Adds the digest column a sealed column gains, rewrites the rows, then drops
/// the digest column it loses.
fn alter_sensitivity(
    before: &Table,
    after: &Table,
    column: &str,
    dialect: Dialect,
) -> Result<Vec<Step>, String> {
    let sealed = |table: &Table| table.column(column).is_some_and(|c| c.sealed);
    let digest_of = |table: &Table| {
        table
            .columns
            .iter()
            .find(|c| c.digest_of.as_deref() == Some(column))
            .map(|c| c.name.clone())
    };
    let key = primary_key(after)?;
    let (opens, seals) = (sealed(before), sealed(after));
    let added_digest = digest_of(after).filter(|_| digest_of(before).is_none());
    let mut steps = Vec::new();
    if let Some(digest) = &added_digest
        && let Some(definition) = after.column(digest)
    {
        steps.extend(
            add_column(before, after, definition, dialect)
                .into_iter()
                .map(Step::Sql),
        );
    }
    if opens != seals || added_digest.is_some() {
        steps.push(Step::Reseal(Reseal {
            table: after.name.clone(),
            key: key.name.clone(),
            key_type: key.sql_type,
            column: column.to_owned(),
            sealed_as: (after.name.clone(), column.to_owned()),
            opens,
            seals,
            digest: added_digest,
        }));
    }
    if let Some(digest) = digest_of(before).filter(|_| digest_of(after).is_none()) {
        steps.extend(
            drop_column(before, after, &digest, dialect)
                .into_iter()
                .map(Step::Sql),
        );
    }
    Ok(steps)
}

/// The primary key column that binds a sealed value to its row.
fn primary_key(table: &Table) -> Result<&Column, String> {
    table
        .columns
        .iter()
        .find(|c| c.primary_key)
        .ok_or_else(|| format!("fw bug: table `{}` has no primary key", table.name))
}

/// The column type for `dialect`.
pub(crate) fn column_type(column: &Column, dialect: Dialect) -> String {
    match dialect {
        Dialect::Sqlite => match column.sql_type {
            SqlType::SmallInt | SqlType::Int | SqlType::BigInt | SqlType::Bool => "INTEGER",
            SqlType::Uuid => "BLOB",
            _ => "TEXT",
        }
        .to_owned(),
        Dialect::Postgres => match column.sql_type {
            SqlType::SmallInt => "SMALLINT".to_owned(),
            SqlType::Int => "INTEGER".to_owned(),
            SqlType::BigInt => "BIGINT".to_owned(),
            SqlType::Bool => "BOOLEAN".to_owned(),
            // Lengths are CHECK constraints rather than VARCHAR(n), so a value that
            // is too long is the same typed error on both databases.
            SqlType::Text => "TEXT".to_owned(),
            SqlType::Decimal => match (
                column.constraints.max_digits(),
                column.constraints.decimal_places(),
            ) {
                (Some(digits), places) => format!("NUMERIC({digits},{})", places.unwrap_or(0)),
                (None, _) => "NUMERIC".to_owned(),
            },
            SqlType::Date => "DATE".to_owned(),
            SqlType::Timestamp => "TIMESTAMPTZ".to_owned(),
            SqlType::Uuid => "UUID".to_owned(),
            SqlType::Json => "JSONB".to_owned(),
        },
    }
}

/// A SQL string literal.
fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The column's default as a SQL literal, stored the way the runtime stores values.
fn default_literal(column: &Column, dialect: Dialect) -> Option<String> {
    let literal = column.default.as_ref()?;
    let boolean = |value: bool| match dialect {
        Dialect::Postgres => if value { "TRUE" } else { "FALSE" }.to_owned(),
        Dialect::Sqlite => if value { "1" } else { "0" }.to_owned(),
    };
    let stored_as_text =
        dialect == Dialect::Sqlite && matches!(column.sql_type, SqlType::Decimal | SqlType::Text);
    Some(match literal {
        Literal::Bool(value) => boolean(*value),
        Literal::Int(value) if column.sql_type == SqlType::Bool => boolean(*value != 0),
        Literal::Int(value) if stored_as_text => quote_literal(&value.to_string()),
        Literal::Int(value) => value.to_string(),
        // SQLite stores decimals as canonical text (`1.50` is stored as `1.5`).
        Literal::Text(text) if stored_as_text && column.sql_type == SqlType::Decimal => {
            match text.parse::<Decimal>() {
                Ok(value) => quote_literal(&value.normalize().to_string()),
                Err(_) => quote_literal(text),
            }
        }
        Literal::Text(text) => quote_literal(text),
    })
}

/// The condition of the column's CHECK constraint: all of its checks AND-ed, or
/// `None` when it has none in `dialect`.
pub(crate) fn check_condition(column: &Column, dialect: Dialect) -> Option<String> {
    let mut constraints: Vec<&OwnedConstraint> = column.constraints.iter().collect();
    constraints.sort_by_key(|constraint| constraint.check_order());
    let conditions: Vec<String> = constraints
        .into_iter()
        .filter_map(|constraint| constraint.sql_check(&column.name, column.sql_type, dialect))
        .collect();
    (!conditions.is_empty()).then(|| conditions.join(" AND "))
}

fn references(column: &Column) -> Option<String> {
    let foreign_key = column.foreign_key()?;
    let action = match foreign_key.on_delete {
        OnDelete::Restrict => "RESTRICT",
        OnDelete::Cascade => "CASCADE",
        OnDelete::SetNull => "SET NULL",
    };
    Some(format!(
        "REFERENCES {} ({}) ON DELETE {action}",
        quote_ident(foreign_key.table),
        quote_ident(foreign_key.column)
    ))
}

/// `"name" TYPE [NOT NULL] [DEFAULT ...]`, with the column's own CHECK and
/// REFERENCES constraints when `inline_constraints` (for `ADD COLUMN`).
fn column_definition(table: &str, column: &Column, dialect: Dialect, inline: bool) -> String {
    let mut sql = format!(
        "{} {}",
        quote_ident(&column.name),
        column_type(column, dialect)
    );
    if column.primary_key {
        match (dialect, column.is_auto_increment()) {
            (Dialect::Sqlite, true) => sql.push_str(" PRIMARY KEY AUTOINCREMENT"),
            (Dialect::Sqlite, false) => sql.push_str(" NOT NULL PRIMARY KEY"),
            (Dialect::Postgres, true) => {
                sql.push_str(" GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
            }
            (Dialect::Postgres, false) => sql.push_str(" PRIMARY KEY"),
        }
    } else if !column.nullable {
        sql.push_str(" NOT NULL");
    }
    if let Some(default) = default_literal(column, dialect) {
        sql.push_str(&format!(" DEFAULT {default}"));
    }
    if inline {
        if let Some(condition) = check_condition(column, dialect) {
            sql.push_str(&format!(
                " CONSTRAINT {} CHECK ({condition})",
                quote_ident(&check_constraint_name(table, &column.name))
            ));
        }
        if let Some(references) = references(column) {
            sql.push_str(&format!(
                " CONSTRAINT {} {references}",
                quote_ident(&foreign_key_constraint_name(table, &column.name))
            ));
        }
    }
    sql
}

fn unique_constraint(index: &Index) -> String {
    format!(
        "CONSTRAINT {} UNIQUE ({})",
        quote_ident(&index.name),
        quoted_list(&index.columns)
    )
}

fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|name| quote_ident(name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `CREATE TABLE` named `physical_name`, with the constraints named after the
/// table's own name (they differ during a SQLite rebuild).
fn create_table_statement(physical_name: &str, table: &Table, dialect: Dialect) -> String {
    let mut lines: Vec<String> = table
        .columns
        .iter()
        .map(|column| column_definition(&table.name, column, dialect, false))
        .collect();
    for column in &table.columns {
        if let Some(references) = references(column) {
            lines.push(format!(
                "CONSTRAINT {} FOREIGN KEY ({}) {references}",
                quote_ident(&foreign_key_constraint_name(&table.name, &column.name)),
                quote_ident(&column.name)
            ));
        }
        if let Some(condition) = check_condition(column, dialect) {
            lines.push(format!(
                "CONSTRAINT {} CHECK ({condition})",
                quote_ident(&check_constraint_name(&table.name, &column.name))
            ));
        }
    }
    if dialect == Dialect::Postgres {
        for index in table.indexes.iter().filter(|index| index.unique) {
            lines.push(unique_constraint(index));
        }
    }
    format!(
        "CREATE TABLE {} (\n    {}\n)",
        quote_ident(physical_name),
        lines.join(",\n    ")
    )
}

pub(crate) fn create_index(table: &str, index: &Index, concurrently: bool) -> String {
    format!(
        "CREATE {}INDEX {}{} ON {} ({})",
        if index.unique { "UNIQUE " } else { "" },
        if concurrently { "CONCURRENTLY " } else { "" },
        quote_ident(&index.name),
        quote_ident(table),
        quoted_list(&index.columns)
    )
}

/// The indexes created next to a table: on PostgreSQL unique ones are table
/// constraints instead.
fn table_indexes(table: &Table, dialect: Dialect) -> Vec<String> {
    table
        .indexes
        .iter()
        .filter(|index| dialect == Dialect::Sqlite || !index.unique)
        .map(|index| create_index(&table.name, index, false))
        .collect()
}

pub(crate) fn create_table(table: &Table, dialect: Dialect) -> Vec<String> {
    let mut statements = vec![create_table_statement(&table.name, table, dialect)];
    statements.extend(table_indexes(table, dialect));
    statements
}

/// SQLite's way to make changes its `ALTER TABLE` cannot: create the new table,
/// copy the rows, drop the old table, rename the new one into place and recreate
/// the indexes. `migrate` turns foreign keys off around the transaction and runs
/// `PRAGMA foreign_key_check` before committing.
///
/// `physical` is the table as it exists when the rebuild starts.
fn sqlite_rebuild(table: &Table, physical: &Table) -> Vec<String> {
    let temporary = format!("{}{REBUILD_SUFFIX}", table.name);
    let mut targets = Vec::new();
    let mut sources = Vec::new();
    for column in &table.columns {
        let Some(old) = physical.column(&column.name) else {
            continue;
        };
        targets.push(quote_ident(&column.name));
        let name = quote_ident(&column.name);
        sources.push(match default_literal(column, Dialect::Sqlite) {
            // Rows that were NULL take the default of a column that became NOT NULL.
            Some(default) if old.nullable && !column.nullable => {
                format!("COALESCE({name}, {default})")
            }
            _ => name,
        });
    }
    let mut statements = vec![
        create_table_statement(&temporary, table, Dialect::Sqlite),
        format!(
            "INSERT INTO {} ({}) SELECT {} FROM {}",
            quote_ident(&temporary),
            targets.join(", "),
            sources.join(", "),
            quote_ident(&physical.name)
        ),
        format!("DROP TABLE {}", quote_ident(&physical.name)),
        format!(
            "ALTER TABLE {} RENAME TO {}",
            quote_ident(&temporary),
            quote_ident(&table.name)
        ),
    ];
    statements.extend(table_indexes(table, Dialect::Sqlite));
    statements
}

/// Whether a column can be added with SQLite's `ALTER TABLE ADD COLUMN`.
fn sqlite_can_add_column(column: &Column) -> bool {
    let has_default = column.default.is_some();
    let not_null_ok = column.nullable || has_default;
    let foreign_key_ok = column.references.is_none() || !has_default;
    not_null_ok && foreign_key_ok
}

fn add_column(before: &Table, after: &Table, column: &Column, dialect: Dialect) -> Vec<String> {
    if dialect == Dialect::Sqlite && !sqlite_can_add_column(column) {
        return sqlite_rebuild(after, before);
    }
    vec![format!(
        "ALTER TABLE {} ADD COLUMN {}",
        quote_ident(&after.name),
        column_definition(&after.name, column, dialect, true)
    )]
}

fn drop_column(before: &Table, after: &Table, name: &str, dialect: Dialect) -> Vec<String> {
    let drop = format!(
        "ALTER TABLE {} DROP COLUMN {}",
        quote_ident(&before.name),
        quote_ident(name)
    );
    if dialect == Dialect::Postgres {
        // PostgreSQL drops the column's indexes and constraints with it.
        return vec![drop];
    }
    let constrained = before
        .column(name)
        .is_some_and(|c| c.references.is_some() || check_condition(c, dialect).is_some());
    if constrained {
        return sqlite_rebuild(after, before);
    }
    let mut statements: Vec<String> = before
        .indexes
        .iter()
        .filter(|index| index.columns.iter().any(|c| c == name))
        .map(|index| format!("DROP INDEX {}", quote_ident(&index.name)))
        .collect();
    statements.push(drop);
    statements
}

/// Indexes whose names changed between `before` and `after` of one rename, matched
/// by position in creation terms (same columns after the rename).
fn renamed_indexes<'a>(
    before: &'a Table,
    after: &'a Table,
    renamed_column: Option<(&str, &str)>,
) -> Vec<(&'a Index, &'a Index)> {
    let mut pairs = Vec::new();
    for old in &before.indexes {
        let columns: Vec<&str> = old
            .columns
            .iter()
            .map(|c| match renamed_column {
                Some((from, to)) if c == from => to,
                _ => c.as_str(),
            })
            .collect();
        let new = after
            .indexes
            .iter()
            .find(|index| index.unique == old.unique && index.columns == columns);
        if let Some(new) = new
            && new.name != old.name
        {
            pairs.push((old, new));
        }
    }
    pairs
}

fn postgres_rename_indexes(table: &str, pairs: &[(&Index, &Index)]) -> Vec<String> {
    pairs
        .iter()
        .map(|(old, new)| {
            if old.unique {
                format!(
                    "ALTER TABLE {} RENAME CONSTRAINT {} TO {}",
                    quote_ident(table),
                    quote_ident(&old.name),
                    quote_ident(&new.name)
                )
            } else {
                format!(
                    "ALTER INDEX {} RENAME TO {}",
                    quote_ident(&old.name),
                    quote_ident(&new.name)
                )
            }
        })
        .collect()
}

fn rename_constraint(table: &str, from: &str, to: &str) -> String {
    format!(
        "ALTER TABLE {} RENAME CONSTRAINT {} TO {}",
        quote_ident(table),
        quote_ident(from),
        quote_ident(to)
    )
}

/// Constraint and index names follow the table name, so they are renamed with it.
fn rename_table(before: &Table, after: &Table, dialect: Dialect) -> Vec<String> {
    let mut statements = vec![format!(
        "ALTER TABLE {} RENAME TO {}",
        quote_ident(&before.name),
        quote_ident(&after.name)
    )];
    let (from, to) = (&before.name, &after.name);
    match dialect {
        Dialect::Postgres => {
            statements.push(rename_constraint(
                to,
                &primary_key_constraint_name(from),
                &primary_key_constraint_name(to),
            ));
            for column in &after.columns {
                if column.references.is_some() {
                    statements.push(rename_constraint(
                        to,
                        &foreign_key_constraint_name(from, &column.name),
                        &foreign_key_constraint_name(to, &column.name),
                    ));
                }
                if check_condition(column, dialect).is_some() {
                    statements.push(rename_constraint(
                        to,
                        &check_constraint_name(from, &column.name),
                        &check_constraint_name(to, &column.name),
                    ));
                }
            }
            statements.extend(postgres_rename_indexes(
                to,
                &renamed_indexes(before, after, None),
            ));
        }
        Dialect::Sqlite => {
            // SQLite keeps constraint names inside the table's definition: rebuild
            // it so they follow the new name.
            let named = !after.indexes.is_empty()
                || after
                    .columns
                    .iter()
                    .any(|c| c.references.is_some() || check_condition(c, dialect).is_some());
            if named {
                statements.extend(sqlite_rebuild(after, after));
            }
        }
    }
    statements
}

fn rename_column(
    before: &Table,
    after: &Table,
    from: &str,
    to: &str,
    dialect: Dialect,
) -> Vec<String> {
    let table = &after.name;
    let mut statements = vec![format!(
        "ALTER TABLE {} RENAME COLUMN {} TO {}",
        quote_ident(table),
        quote_ident(from),
        quote_ident(to)
    )];
    let (references, checked) = after.column(to).map_or((false, false), |column| {
        (
            column.references.is_some(),
            check_condition(column, dialect).is_some(),
        )
    });
    let indexes = renamed_indexes(before, after, Some((from, to)));
    match dialect {
        Dialect::Postgres => {
            if references {
                statements.push(rename_constraint(
                    table,
                    &foreign_key_constraint_name(table, from),
                    &foreign_key_constraint_name(table, to),
                ));
            }
            if checked {
                statements.push(rename_constraint(
                    table,
                    &check_constraint_name(table, from),
                    &check_constraint_name(table, to),
                ));
            }
            statements.extend(postgres_rename_indexes(table, &indexes));
        }
        Dialect::Sqlite => {
            if references || checked {
                statements.extend(sqlite_rebuild(after, after));
            } else {
                for (old, new) in indexes {
                    statements.push(format!("DROP INDEX {}", quote_ident(&old.name)));
                    statements.push(create_index(table, new, false));
                }
            }
        }
    }
    statements
}

fn postgres_alter_column(table: &str, old: &Column, new: &Column) -> Vec<String> {
    let alter = |change: String| format!("ALTER TABLE {} {change}", quote_ident(table));
    let name = quote_ident(&new.name);
    let check_name = quote_ident(&check_constraint_name(table, &new.name));
    let foreign_key_name = quote_ident(&foreign_key_constraint_name(table, &new.name));
    let (old_type, new_type) = (
        column_type(old, Dialect::Postgres),
        column_type(new, Dialect::Postgres),
    );
    let type_changed = old_type != new_type;
    let old_check = check_condition(old, Dialect::Postgres);
    let new_check = check_condition(new, Dialect::Postgres);
    let check_changed = old_check != new_check;
    let foreign_key_changed = old.foreign_key() != new.foreign_key();
    let old_default = default_literal(old, Dialect::Postgres);
    let new_default = default_literal(new, Dialect::Postgres);

    let mut statements = Vec::new();
    // ALTER COLUMN TYPE keeps an unchanged check; only a changed one is replaced.
    if old_check.is_some() && check_changed {
        statements.push(alter(format!("DROP CONSTRAINT {check_name}")));
    }
    if old.references.is_some() && foreign_key_changed {
        statements.push(alter(format!("DROP CONSTRAINT {foreign_key_name}")));
    }
    if old.is_auto_increment() && !new.is_auto_increment() {
        statements.push(alter(format!("ALTER COLUMN {name} DROP IDENTITY")));
    }
    if old_default.is_some() && (type_changed || new_default.is_none()) {
        statements.push(alter(format!("ALTER COLUMN {name} DROP DEFAULT")));
    }
    if type_changed {
        // Integers widen implicitly; other changes say how to convert.
        let using = if old.sql_type.is_integer() && new.sql_type.is_integer()
            || old.sql_type == new.sql_type
        {
            String::new()
        } else {
            format!(" USING {name}::{new_type}")
        };
        statements.push(alter(format!("ALTER COLUMN {name} TYPE {new_type}{using}")));
    }
    if let Some(default) = &new_default
        && (type_changed || old_default.as_ref() != Some(default))
    {
        statements.push(alter(format!("ALTER COLUMN {name} SET DEFAULT {default}")));
    }
    if old.nullable && !new.nullable {
        if let Some(default) = &new_default {
            statements.push(format!(
                "UPDATE {} SET {name} = {default} WHERE {name} IS NULL",
                quote_ident(table)
            ));
        }
        statements.push(alter(format!("ALTER COLUMN {name} SET NOT NULL")));
    } else if !old.nullable && new.nullable {
        statements.push(alter(format!("ALTER COLUMN {name} DROP NOT NULL")));
    }
    if !old.is_auto_increment() && new.is_auto_increment() {
        statements.push(alter(format!(
            "ALTER COLUMN {name} ADD GENERATED BY DEFAULT AS IDENTITY"
        )));
        // Start numbering after the rows that already exist.
        statements.push(format!(
            "SELECT setval(pg_get_serial_sequence({}, {}), COALESCE(MAX({name}), 0) + 1, false) FROM {}",
            quote_literal(&quote_ident(table)),
            quote_literal(&new.name),
            quote_ident(table)
        ));
    }
    if let Some(condition) = &new_check
        && check_changed
    {
        statements.push(alter(format!(
            "ADD CONSTRAINT {check_name} CHECK ({condition})"
        )));
    }
    if let Some(references) = references(new)
        && foreign_key_changed
    {
        statements.push(alter(format!(
            "ADD CONSTRAINT {foreign_key_name} FOREIGN KEY ({name}) {references}"
        )));
    }
    statements
}
