//! The autodetector: the operations that turn the replayed state into the models'.
//!
//! Renames are never guessed. A table or column is renamed only when its model or
//! field says `renamed_from`; otherwise a column that disappeared and a new one are
//! a drop and an add.

use std::collections::{BTreeMap, BTreeSet};

use super::column::{Column, Index};
use super::operation::Operation;
use super::state::{SchemaState, Table};
use crate::schema::ModelSchema;

/// The operations, in a deterministic order that applies cleanly:
/// renames, re-seals of renamed sealed columns, dropped indexes, new tables (referenced ones first), added, altered and
/// dropped columns, new indexes, dropped tables (referencing ones first).
///
/// # Errors
///
/// A message when an operation cannot apply (for example a changed primary key).
pub(crate) fn diff(
    replayed: &SchemaState,
    models: &[&ModelSchema],
) -> Result<Vec<Operation>, String> {
    let target = SchemaState::from_models(models).map_err(|error| error.to_string())?;
    let mut current = replayed.clone();
    let mut operations = Vec::new();
    let mut push = |current: &mut SchemaState, operation: Operation| -> Result<(), String> {
        current
            .apply(&operation)
            .map_err(|error| format!("{}: {error}", operation.describe()))?;
        operations.push(operation);
        Ok(())
    };

    // The names each renamed table and column had, for re-sealing their values.
    let mut old_table_names = BTreeMap::new();
    let mut old_column_names = BTreeMap::new();
    for model in models {
        if let Some(from) = model.renamed_from
            && current.table(from).is_some()
            && current.table(model.table).is_none()
        {
            let rename = Operation::RenameTable {
                from: from.to_owned(),
                to: model.table.to_owned(),
            };
            push(&mut current, rename)?;
            old_table_names.insert(model.table, from);
        }
    }
    for model in models {
        for field in model.fields {
            let Some(from) = field.renamed_from else {
                continue;
            };
            let Some(table) = current.table(model.table) else {
                continue;
            };
            if table.column(from).is_some() && table.column(field.column).is_none() {
                // A searchable field's digest column is named after it and
                // follows it, with its unique constraint or index.
                let digest = field.digest_column().and_then(|to| {
                    let from = table
                        .columns
                        .iter()
                        .find(|column| column.digest_of.as_deref() == Some(from))?;
                    Some((from.name.clone(), to))
                });
                let rename = Operation::RenameColumn {
                    table: model.table.to_owned(),
                    from: from.to_owned(),
                    to: field.column.to_owned(),
                };
                push(&mut current, rename)?;
                old_column_names.insert((model.table, field.column), from);
                if let Some((from, to)) = digest {
                    let rename = Operation::RenameColumn {
                        table: model.table.to_owned(),
                        from,
                        to,
                    };
                    push(&mut current, rename)?;
                }
            }
        }
    }

    // Sealed values are bound to their table and column names: every sealed
    // column whose names changed is re-sealed under the new ones, before any
    // change of its sensitivity opens it under them. A column the models drop
    // is left as it is.
    let mut reseals = Vec::new();
    for table in current.tables.values() {
        let kept = |column: &&Column| {
            target
                .table(&table.name)
                .is_some_and(|t| t.column(&column.name).is_some())
        };
        for column in table
            .columns
            .iter()
            .filter(|c| c.sealed && c.digest_of.is_none())
            .filter(kept)
        {
            let from_table = old_table_names.get(table.name.as_str()).copied();
            let from_column = old_column_names
                .get(&(table.name.as_str(), column.name.as_str()))
                .copied();
            if from_table.is_none() && from_column.is_none() {
                continue;
            }
            reseals.push(Operation::Reseal {
                table: table.name.clone(),
                column: column.name.clone(),
                from_table: from_table.unwrap_or(&table.name).to_owned(),
                from_column: from_column.unwrap_or(&column.name).to_owned(),
            });
        }
    }
    for reseal in reseals {
        push(&mut current, reseal)?;
    }

    let kept: Vec<String> = current
        .table_names()
        .filter(|name| target.table(name).is_some())
        .map(str::to_owned)
        .collect();

    // Indexes that disappear or change go first, so their names can be reused.
    for name in &kept {
        let new = &target.tables[name];
        let dropped: Vec<Operation> = current.tables[name]
            .indexes
            .iter()
            .filter(|index| !new.indexes.contains(index))
            .map(|index| drop_index(name, index))
            .collect();
        for drop in dropped {
            push(&mut current, drop)?;
        }
    }

    let created = creation_order(&current, &target);
    let mut deferred_references = Vec::new();
    for name in &created {
        let mut table = target.tables[name].clone();
        // A reference to a table created later (a cycle) is added afterwards.
        for column in &mut table.columns {
            if let Some(foreign_key) = column.foreign_key()
                && foreign_key.table != name
                && current.table(foreign_key.table).is_none()
            {
                deferred_references.push((name.clone(), column.clone()));
                column.references = None;
                column.on_delete = None;
            }
        }
        let create = Operation::CreateTable {
            table: table.name,
            columns: table.columns,
            indexes: table.indexes,
        };
        push(&mut current, create)?;
    }
    for (table, column) in deferred_references {
        push(&mut current, Operation::AlterColumn { table, column })?;
    }

    for name in &kept {
        for alter in sensitivity_changes(&current.tables[name], &target.tables[name]) {
            push(&mut current, alter)?;
        }
    }
    for name in &kept {
        let new = &target.tables[name];
        for column in &new.columns {
            if current.tables[name].column(&column.name).is_none() {
                let add = Operation::AddColumn {
                    table: name.clone(),
                    column: column.clone(),
                };
                push(&mut current, add)?;
            }
        }
    }
    for name in &kept {
        let new = &target.tables[name];
        for column in &new.columns {
            if current.tables[name].column(&column.name) != Some(column) {
                let alter = Operation::AlterColumn {
                    table: name.clone(),
                    column: column.clone(),
                };
                push(&mut current, alter)?;
            }
        }
    }
    for name in &kept {
        let dropped: Vec<String> = current.tables[name]
            .columns
            .iter()
            .filter(|column| target.tables[name].column(&column.name).is_none())
            .map(|column| column.name.clone())
            .collect();
        for column in dropped {
            let drop = Operation::DropColumn {
                table: name.clone(),
                column,
                keep_in_database: false,
            };
            push(&mut current, drop)?;
        }
    }
    for name in &kept {
        let new = &target.tables[name];
        for index in &new.indexes {
            if !current.tables[name].indexes.contains(index) {
                push(&mut current, add_index(name, index))?;
            }
        }
    }

    for name in drop_order(&current, &target) {
        let drop = Operation::DropTable {
            table: name,
            keep_in_database: false,
        };
        push(&mut current, drop)?;
    }
    Ok(operations)
}

/// The `alter_sensitivity` operations of the columns `new` seals, opens, or
/// gives or takes a digest, each after an `alter_column` that removes what a
/// sealed value would break (constraints, a default) from a column about to be
/// sealed. A column that is opened gets its constraints back from the later
/// alter pass.
fn sensitivity_changes(old: &Table, new: &Table) -> Vec<Operation> {
    let has_digest = |table: &Table, column: &str| {
        table
            .columns
            .iter()
            .any(|c| c.digest_of.as_deref() == Some(column))
    };
    let mut operations = Vec::new();
    for column in new.columns.iter().filter(|c| c.digest_of.is_none()) {
        let Some(existing) = old.column(&column.name) else {
            continue;
        };
        let searchable = has_digest(new, &column.name);
        if existing.sealed == column.sealed && has_digest(old, &column.name) == searchable {
            continue;
        }
        if column.sealed && !existing.sealed {
            let unconstrained = Column {
                sql_type: column.sql_type,
                default: None,
                constraints: Vec::new(),
                ..existing.clone()
            };
            if &unconstrained != existing {
                operations.push(Operation::AlterColumn {
                    table: new.name.clone(),
                    column: unconstrained,
                });
            }
        }
        operations.push(Operation::AlterSensitivity {
            table: new.name.clone(),
            column: column.name.clone(),
            sealed: column.sealed,
            searchable,
        });
    }
    operations
}

fn drop_index(table: &str, index: &Index) -> Operation {
    let (table, name) = (table.to_owned(), index.name.clone());
    if index.unique {
        Operation::DropUnique { table, name }
    } else {
        Operation::DropIndex { table, name }
    }
}

/// An index on a table that already exists: built concurrently, so it does not
/// block writes on PostgreSQL. Unique constraints are flagged by the lint instead.
fn add_index(table: &str, index: &Index) -> Operation {
    if index.unique {
        Operation::AddUnique {
            table: table.to_owned(),
            name: index.name.clone(),
            columns: index.columns.clone(),
        }
    } else {
        Operation::AddIndex {
            table: table.to_owned(),
            name: index.name.clone(),
            columns: index.columns.clone(),
            concurrently: true,
        }
    }
}

fn references_of(table: &Table) -> BTreeSet<&str> {
    table
        .columns
        .iter()
        .filter_map(Column::foreign_key)
        .map(|foreign_key| foreign_key.table)
        .filter(|referenced| *referenced != table.name)
        .collect()
}

/// New tables, each after the tables it references (alphabetical among equals;
/// a cycle is broken at the alphabetically first table).
fn creation_order(current: &SchemaState, target: &SchemaState) -> Vec<String> {
    let mut pending: BTreeMap<&str, BTreeSet<&str>> = target
        .tables
        .values()
        .filter(|table| current.table(&table.name).is_none())
        .map(|table| (table.name.as_str(), references_of(table)))
        .collect();
    let mut order = Vec::new();
    while !pending.is_empty() {
        let ready = pending
            .iter()
            .find(|(_, references)| references.iter().all(|r| !pending.contains_key(r)))
            .map(|(name, _)| *name)
            .or_else(|| pending.keys().next().copied());
        let Some(ready) = ready else { break };
        pending.remove(ready);
        order.push(ready.to_owned());
    }
    order
}

/// Dropped tables, each before the tables it references.
fn drop_order(current: &SchemaState, target: &SchemaState) -> Vec<String> {
    let mut pending: BTreeMap<&str, BTreeSet<&str>> = current
        .tables
        .values()
        .filter(|table| target.table(&table.name).is_none())
        .map(|table| (table.name.as_str(), references_of(table)))
        .collect();
    let mut order = Vec::new();
    while !pending.is_empty() {
        // A table no other pending table references can go.
        let ready = pending
            .keys()
            .find(|name| {
                !pending
                    .values()
                    .any(|references| references.contains(*name))
            })
            .copied()
            .or_else(|| pending.keys().next().copied());
        let Some(ready) = ready else { break };
        pending.remove(ready);
        order.push(ready.to_owned());
    }
    order
}
