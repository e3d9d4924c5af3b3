//! The statements fw writes a model's rows with, rendered from plain inputs: a
//! table name and its columns, each with how its value is produced.
//!
//! `#[model]` renders the fixed statements ([`Table::statements`]) at compile time;
//! the runtime renders the ones that depend on a call (a patch's columns, an
//! upsert's conflict target) with the same functions, so the two never disagree
//! about which columns a write sets and how, and the runtime never takes SQL text
//! apart.

use crate::schema::{FieldSchema, Generated, OnInsert, OnUpdate};
use crate::sql::{Dialect, placeholder, quote_ident};

/// A column as the statements see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column<'a> {
    /// The column's name in the database.
    pub name: &'a str,
    /// How its value is produced.
    pub generated: Generated,
    /// Whether it is the table's primary key.
    pub primary_key: bool,
}

impl Column<'_> {
    /// Whether an update sets this column to a value the application supplies.
    pub const fn is_supplied_on_update(&self) -> bool {
        matches!(self.generated.on_update(), OnUpdate::Supplied) && !self.primary_key
    }
}

impl FieldSchema {
    /// This field's column, as the statements see it.
    pub const fn statement_column(&self) -> Column<'static> {
        Column {
            name: self.column,
            generated: self.generated,
            primary_key: self.primary_key,
        }
    }
}

/// A table: its name and its columns, in schema order (the order rows are
/// selected and decoded in).
#[derive(Debug, Clone, Copy)]
pub struct Table<'a> {
    /// The table's name in the database.
    pub name: &'a str,
    /// Every column, in schema order.
    pub columns: &'a [Column<'a>],
}

/// A model's fixed statements for one dialect; `fw::__private::ModelSql` holds them
/// as constants. Placeholders are numbered from 1 in the order documented on each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statements {
    /// `SELECT "id", "symbol", ... FROM "table"`: every column, in schema order.
    pub select: String,
    /// `<select> WHERE "pk" = ?1`.
    pub get: String,
    /// `INSERT INTO "table" ("symbol", ...) VALUES (?1, ...) RETURNING <every column>`:
    /// one parameter per column but database-assigned keys, in schema order.
    pub insert: String,
    /// [`Table::update`] of every column the application supplies, checking the
    /// version when the table has one.
    pub update: String,
    /// `DELETE FROM "table" WHERE "pk" = ?1`.
    pub delete: String,
}

/// What an upsert does when the row exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnConflict {
    /// Leave the existing row alone (and return no row).
    DoNothing,
    /// Overwrite the existing row's supplied columns when one of them differs, as
    /// an update would (timestamp, version); return no row when none differs.
    UpdateChanged,
}

impl Table<'_> {
    /// Every statement `#[model]` renders for `dialect`.
    pub fn statements(&self, dialect: Dialect) -> Statements {
        let table = quote_ident(self.name);
        let select = format!("SELECT {} FROM {table}", self.column_list());
        let key = self.quoted_key();
        let first = placeholder(dialect, 1);
        let supplied: Vec<&str> = self
            .columns
            .iter()
            .filter(|column| column.is_supplied_on_update())
            .map(|column| column.name)
            .collect();
        let has_version = self.version().is_some();
        Statements {
            get: format!("{select} WHERE {key} = {first}"),
            insert: format!("{} {}", self.insert_values(dialect), self.returning()),
            update: self.update(dialect, &supplied, has_version),
            delete: format!("DELETE FROM {table} WHERE {key} = {first}"),
            select,
        }
    }

    /// `UPDATE "table" SET <supplied> = ?1, ..., <auto_now> = ?k, "version" =
    /// "version" + 1 WHERE "pk" = ?m [AND "version" = ?m+1] RETURNING <every column>`.
    ///
    /// The parameters are: the `supplied` columns' new values, in the order given;
    /// the current time once per `auto_now` column, in schema order; the key; and
    /// with `check_version`, the version the row must still have.
    pub fn update(&self, dialect: Dialect, supplied: &[&str], check_version: bool) -> String {
        let mut parameter = 0;
        let mut next = || {
            parameter += 1;
            placeholder(dialect, parameter)
        };
        let mut assignments: Vec<String> = supplied
            .iter()
            .map(|column| format!("{} = {}", quote_ident(column), next()))
            .collect();
        for column in self.columns {
            let quoted = quote_ident(column.name);
            match column.generated.on_update() {
                OnUpdate::Now => assignments.push(format!("{quoted} = {}", next())),
                OnUpdate::Increment => assignments.push(format!("{quoted} = {quoted} + 1")),
                OnUpdate::Supplied | OnUpdate::Unchanged => {}
            }
        }
        let key = self.quoted_key();
        if assignments.is_empty() {
            // Nothing can change: a no-op assignment keeps the statement valid, so an
            // update still checks that the row exists and returns it.
            assignments.push(format!("{key} = {key}"));
        }
        let mut update = format!(
            "UPDATE {} SET {} WHERE {key} = {}",
            quote_ident(self.name),
            assignments.join(", "),
            next()
        );
        if let (true, Some(version)) = (check_version, self.version()) {
            update.push_str(&format!(" AND {} = {}", quote_ident(version.name), next()));
        }
        update.push(' ');
        update.push_str(&self.returning());
        update
    }

    /// The insert of [`Statements::insert`], with the same parameters, resolving a
    /// conflict on the unique `target` columns as `on_conflict` says:
    /// `INSERT ... ON CONFLICT (<target>) DO ... RETURNING <every column>`.
    ///
    /// An update on conflict writes what an update would: the supplied columns
    /// from the inserted values, `auto_now` columns from the insert's time, and
    /// the version incremented; and it writes only when a supplied column
    /// differs, so upserting an unchanged row keeps its version.
    pub fn upsert(&self, dialect: Dialect, target: &[&str], on_conflict: OnConflict) -> String {
        let table = quote_ident(self.name);
        let mut assignments = Vec::new();
        let mut differences = Vec::new();
        if on_conflict == OnConflict::UpdateChanged {
            for column in self.columns {
                if column.primary_key || target.contains(&column.name) {
                    continue;
                }
                let quoted = quote_ident(column.name);
                match column.generated.on_update() {
                    OnUpdate::Supplied => {
                        assignments.push(format!("{quoted} = excluded.{quoted}"));
                        differences.push(format!(
                            "{table}.{quoted} IS DISTINCT FROM excluded.{quoted}"
                        ));
                    }
                    OnUpdate::Now => assignments.push(format!("{quoted} = excluded.{quoted}")),
                    OnUpdate::Increment => {
                        assignments.push(format!("{quoted} = {table}.{quoted} + 1"));
                    }
                    OnUpdate::Unchanged => {}
                }
            }
        }
        let target = target
            .iter()
            .map(|column| quote_ident(column))
            .collect::<Vec<_>>()
            .join(", ");
        let action = if differences.is_empty() {
            "DO NOTHING".to_owned()
        } else {
            format!(
                "DO UPDATE SET {} WHERE {}",
                assignments.join(", "),
                differences.join(" OR ")
            )
        };
        format!(
            "{} ON CONFLICT ({target}) {action} {}",
            self.insert_values(dialect),
            self.returning()
        )
    }

    /// `INSERT INTO "table" (<insert_columns>) VALUES (?1, ...)`, without the
    /// `RETURNING` clause that every insert ends with.
    fn insert_values(&self, dialect: Dialect) -> String {
        let table = quote_ident(self.name);
        let count = self.inserted().count();
        if count == 0 {
            // Only a database-assigned key: both databases accept `DEFAULT VALUES`.
            return format!("INSERT INTO {table} DEFAULT VALUES");
        }
        let values: Vec<String> = (1..=count)
            .map(|index| placeholder(dialect, index))
            .collect();
        format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            quoted_list(self.inserted()),
            values.join(", ")
        )
    }

    fn inserted(&self) -> impl Iterator<Item = &Column<'_>> {
        self.columns
            .iter()
            .filter(|column| column.generated.on_insert() != OnInsert::Database)
    }

    fn column_list(&self) -> String {
        quoted_list(self.columns.iter())
    }

    fn returning(&self) -> String {
        format!("RETURNING {}", self.column_list())
    }

    /// The primary key; `#[model]` guarantees there is one.
    fn quoted_key(&self) -> String {
        self.columns
            .iter()
            .find(|column| column.primary_key)
            .map_or_else(String::new, |key| quote_ident(key.name))
    }

    fn version(&self) -> Option<&Column<'_>> {
        self.columns
            .iter()
            .find(|column| column.generated == Generated::Version)
    }
}

fn quoted_list<'a>(columns: impl Iterator<Item = &'a Column<'a>>) -> String {
    columns
        .map(|column| quote_ident(column.name))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn column(name: &str, generated: Generated) -> Column<'_> {
        Column {
            name,
            generated,
            primary_key: false,
        }
    }

    const DIVIDEND: [Column<'static>; 6] = [
        Column {
            primary_key: true,
            ..column("id", Generated::AutoIncrement)
        },
        column("security_id", Generated::No),
        column("amount", Generated::No),
        column("created_at", Generated::CreatedAt),
        column("updated_at", Generated::UpdatedAt),
        column("version", Generated::Version),
    ];

    fn dividend() -> Table<'static> {
        Table {
            name: "dividend",
            columns: &DIVIDEND,
        }
    }

    #[test]
    fn a_patch_sets_its_columns_then_the_timestamp_and_version() {
        assert_eq!(
            dividend().update(Dialect::Postgres, &["amount"], false),
            r#"UPDATE "dividend" SET "amount" = $1, "updated_at" = $2, "version" = "version" + 1 WHERE "id" = $3 RETURNING "id", "security_id", "amount", "created_at", "updated_at", "version""#
        );
        assert_eq!(
            dividend().update(Dialect::Sqlite, &["amount"], true),
            r#"UPDATE "dividend" SET "amount" = ?1, "updated_at" = ?2, "version" = "version" + 1 WHERE "id" = ?3 AND "version" = ?4 RETURNING "id", "security_id", "amount", "created_at", "updated_at", "version""#
        );
    }

    #[test]
    fn an_upsert_updates_only_changed_rows_as_an_update_would() {
        let columns = r#""id", "security_id", "amount", "created_at", "updated_at", "version""#;
        assert_eq!(
            dividend().upsert(Dialect::Sqlite, &["security_id"], OnConflict::UpdateChanged),
            format!(
                r#"INSERT INTO "dividend" ("security_id", "amount", "created_at", "updated_at", "version") VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT ("security_id") DO UPDATE SET "amount" = excluded."amount", "updated_at" = excluded."updated_at", "version" = "dividend"."version" + 1 WHERE "dividend"."amount" IS DISTINCT FROM excluded."amount" RETURNING {columns}"#
            )
        );
        assert_eq!(
            dividend().upsert(Dialect::Postgres, &["security_id"], OnConflict::DoNothing),
            format!(
                r#"INSERT INTO "dividend" ("security_id", "amount", "created_at", "updated_at", "version") VALUES ($1, $2, $3, $4, $5) ON CONFLICT ("security_id") DO NOTHING RETURNING {columns}"#
            )
        );
    }

    #[test]
    fn an_upsert_with_nothing_to_compare_does_nothing() {
        let columns = [
            column("code", Generated::No),
            column("updated_at", Generated::UpdatedAt),
        ];
        let table = Table {
            name: "currency",
            columns: &columns,
        };
        assert_eq!(
            table.upsert(Dialect::Sqlite, &["code"], OnConflict::UpdateChanged),
            r#"INSERT INTO "currency" ("code", "updated_at") VALUES (?1, ?2) ON CONFLICT ("code") DO NOTHING RETURNING "code", "updated_at""#
        );
    }
}
