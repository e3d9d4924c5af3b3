//! The steps a migration file is made of.

use serde::{Deserialize, Serialize};

use super::column::{Column, Index};

/// One `[[operations]]` entry of a migration file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Operation {
    CreateTable {
        table: String,
        columns: Vec<Column>,
        #[serde(default)]
        indexes: Vec<Index>,
    },
    /// `keep_in_database` forgets the table without dropping it, the first half of
    /// a deploy-safe drop (the second is a later `run_sql`).
    DropTable {
        table: String,
        #[serde(default)]
        keep_in_database: bool,
    },
    RenameTable {
        from: String,
        to: String,
    },
    AddColumn {
        table: String,
        column: Column,
    },
    /// `keep_in_database` as for [`Operation::DropTable`].
    DropColumn {
        table: String,
        column: String,
        #[serde(default)]
        keep_in_database: bool,
    },
    RenameColumn {
        table: String,
        from: String,
        to: String,
    },
    /// `column` is the complete new definition; the old one comes from replay.
    AlterColumn {
        table: String,
        column: Column,
    },
    AddIndex {
        table: String,
        name: String,
        columns: Vec<String>,
        /// Build the index without blocking writes (PostgreSQL). Such an index
        /// cannot be built inside a transaction, so a migration holding one holds
        /// nothing else.
        #[serde(default)]
        concurrently: bool,
    },
    DropIndex {
        table: String,
        name: String,
    },
    AddUnique {
        table: String,
        name: String,
        columns: Vec<String>,
    },
    DropUnique {
        table: String,
        name: String,
    },
    /// Seals (`sealed = true`) or opens the existing values of a text column,
    /// row by row in batches by primary key, and adds (`searchable = true`) or
    /// drops its digest column `<column>_digest`, filling a new one from the
    /// clear values. The keys are the database handle's.
    AlterSensitivity {
        table: String,
        column: String,
        sealed: bool,
        #[serde(default)]
        searchable: bool,
    },
    /// Re-seals every value of the sealed column `table.column` that was
    /// sealed under its names before a rename (`from_table.from_column`):
    /// each value is opened with the old names and sealed with the new, and
    /// its digest recomputed, row by row in batches by primary key. A sealed
    /// value and its digest are bound to their table and column, so a rename
    /// without it leaves every value unreadable.
    Reseal {
        table: String,
        column: String,
        from_table: String,
        from_column: String,
    },
    /// Hand-written SQL: `sql` for both dialects, or `sqlite` and `postgres`.
    RunSql {
        #[serde(default)]
        sql: Option<String>,
        #[serde(default)]
        sqlite: Option<String>,
        #[serde(default)]
        postgres: Option<String>,
    },
    /// A Rust function registered in [`DataMigrations`](super::DataMigrations).
    RunDataMigration {
        function: String,
    },
}

impl Operation {
    /// The `op = "..."` name.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Operation::CreateTable { .. } => "create_table",
            Operation::DropTable { .. } => "drop_table",
            Operation::RenameTable { .. } => "rename_table",
            Operation::AddColumn { .. } => "add_column",
            Operation::DropColumn { .. } => "drop_column",
            Operation::RenameColumn { .. } => "rename_column",
            Operation::AlterColumn { .. } => "alter_column",
            Operation::AddIndex { .. } => "add_index",
            Operation::DropIndex { .. } => "drop_index",
            Operation::AddUnique { .. } => "add_unique",
            Operation::DropUnique { .. } => "drop_unique",
            Operation::AlterSensitivity { .. } => "alter_sensitivity",
            Operation::Reseal { .. } => "reseal",
            Operation::RunSql { .. } => "run_sql",
            Operation::RunDataMigration { .. } => "run_data_migration",
        }
    }

    /// A one-line description for terminal reports.
    pub(crate) fn describe(&self) -> String {
        match self {
            Operation::CreateTable { table, .. } => format!("create table `{table}`"),
            Operation::DropTable {
                table,
                keep_in_database,
            } => format!("drop table `{table}`{}", kept(*keep_in_database)),
            Operation::RenameTable { from, to } => format!("rename table `{from}` to `{to}`"),
            Operation::AddColumn { table, column } => {
                format!("add column `{table}.{}`", column.name)
            }
            Operation::DropColumn {
                table,
                column,
                keep_in_database,
            } => format!("drop column `{table}.{column}`{}", kept(*keep_in_database)),
            Operation::RenameColumn { table, from, to } => {
                format!("rename column `{table}.{from}` to `{to}`")
            }
            Operation::AlterColumn { table, column } => {
                format!("alter column `{table}.{}`", column.name)
            }
            Operation::AddIndex {
                table,
                name,
                concurrently,
                ..
            } => {
                let how = if *concurrently { " (concurrently)" } else { "" };
                format!("add index `{name}` on `{table}`{how}")
            }
            Operation::DropIndex { table, name } => format!("drop index `{name}` on `{table}`"),
            Operation::AddUnique { table, name, .. } => {
                format!("add unique constraint `{name}` on `{table}`")
            }
            Operation::DropUnique { table, name } => {
                format!("drop unique constraint `{name}` on `{table}`")
            }
            Operation::AlterSensitivity {
                table,
                column,
                sealed,
                searchable,
            } => {
                let what = match (sealed, searchable) {
                    (true, true) => "sealed and searchable",
                    (true, false) => "sealed",
                    (false, _) => "clear",
                };
                format!("make `{table}.{column}` {what}, rewriting its rows")
            }
            Operation::Reseal {
                table,
                column,
                from_table,
                from_column,
            } => format!(
                "re-seal `{table}.{column}` from its old name `{from_table}.{from_column}`, \
                 rewriting its rows"
            ),
            Operation::RunSql { .. } => "run SQL".to_owned(),
            Operation::RunDataMigration { function } => {
                format!("run data migration `{function}`")
            }
        }
    }

    /// A fragment of an automatic migration name.
    pub(crate) fn name_fragment(&self) -> String {
        match self {
            Operation::CreateTable { table, .. } => format!("create_{table}"),
            Operation::DropTable { table, .. } => format!("drop_{table}"),
            Operation::RenameTable { from, to } => format!("rename_{from}_to_{to}"),
            Operation::AddColumn { table, column } => format!("add_{table}_{}", column.name),
            Operation::DropColumn { table, column, .. } => format!("remove_{table}_{column}"),
            Operation::RenameColumn { table, from, to } => {
                format!("rename_{table}_{from}_to_{to}")
            }
            Operation::AlterColumn { table, column } => format!("alter_{table}_{}", column.name),
            Operation::AddIndex { name, .. } | Operation::AddUnique { name, .. } => {
                format!("add_{name}")
            }
            Operation::DropIndex { name, .. } | Operation::DropUnique { name, .. } => {
                format!("drop_{name}")
            }
            Operation::AlterSensitivity {
                table,
                column,
                sealed,
                ..
            } => {
                let verb = if *sealed { "seal" } else { "open" };
                format!("{verb}_{table}_{column}")
            }
            Operation::Reseal { table, column, .. } => format!("reseal_{table}_{column}"),
            Operation::RunSql { .. } => "run_sql".to_owned(),
            Operation::RunDataMigration { function } => function.clone(),
        }
    }

    /// Whether this operation must run outside a transaction on PostgreSQL.
    pub(crate) fn is_concurrent(&self) -> bool {
        matches!(
            self,
            Operation::AddIndex {
                concurrently: true,
                ..
            }
        )
    }
}

fn kept(keep_in_database: bool) -> &'static str {
    if keep_in_database {
        " (kept in the database)"
    } else {
        ""
    }
}
