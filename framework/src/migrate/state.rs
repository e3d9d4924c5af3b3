//! The owned schema state that migrations describe: tables, columns, indexes.
//!
//! Two states are ever compared: the one replayed from the committed migration
//! files, and the one built from the models' static metadata. Both are built from
//! the same types, so equality means "in sync".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::column::{Column, GeneratedKind, Index, Literal};
use super::operation::Operation;
use crate::schema::{
    self, Constraint, DefaultValue, Generated, ModelSchema, SqlType, index_name,
    unique_constraint_name,
};

/// The database schema a set of models (or a migration history) describes: every
/// table with its columns, primary key, indexes, unique constraints, foreign keys
/// and checks, in portable terms.
///
/// It is plain data: it serializes with serde and compares with `==`.
///
/// ```
/// use fw::migrate::SchemaState;
/// let state = SchemaState::from_models(&[]).unwrap();
/// assert_eq!(state.table_names().count(), 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaState {
    pub(crate) tables: BTreeMap<String, Table>,
}

/// One table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Table {
    pub(crate) name: String,
    /// In declaration order (columns added later come last).
    pub(crate) columns: Vec<Column>,
    /// Indexes and unique constraints, sorted by name.
    pub(crate) indexes: Vec<Index>,
}

impl Table {
    pub(crate) fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|column| column.name == name)
    }

    fn sort_indexes(&mut self) {
        self.indexes.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

impl SchemaState {
    /// The schema the given models describe.
    ///
    /// # Errors
    ///
    /// [`MigrateError::InvalidModels`](super::MigrateError::InvalidModels) when two
    /// models use the same table, or an index or reference names something that does
    /// not exist.
    pub fn from_models(models: &[&ModelSchema]) -> Result<SchemaState, super::MigrateError> {
        let mut state = SchemaState::default();
        for model in models {
            let table = table_of_model(model);
            if state.tables.insert(table.name.clone(), table).is_some() {
                return Err(super::MigrateError::InvalidModels {
                    message: format!("two models use the table `{}`", model.table),
                });
            }
        }
        state
            .validate()
            .map_err(|message| super::MigrateError::InvalidModels { message })?;
        Ok(state)
    }

    /// The names of the tables, in alphabetical order.
    pub fn table_names(&self) -> impl Iterator<Item = &str> {
        self.tables.keys().map(String::as_str)
    }

    pub(crate) fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    /// Checks references and index names across the whole schema.
    fn validate(&self) -> Result<(), String> {
        let mut index_owners = BTreeMap::new();
        for table in self.tables.values() {
            if table.columns.iter().filter(|c| c.primary_key).count() != 1 {
                return Err(format!(
                    "table `{}` needs exactly one primary-key column",
                    table.name
                ));
            }
            for column in &table.columns {
                column.validate()?;
                self.check_reference(table, column)?;
                check_digest(table, column)?;
            }
            for index in &table.indexes {
                check_index_columns(table, index)?;
                if let Some(other) = index_owners.insert(index.name.as_str(), table.name.as_str()) {
                    return Err(format!(
                        "index name `{}` is used by both `{other}` and `{}`; index names are unique per database",
                        index.name, table.name
                    ));
                }
            }
        }
        Ok(())
    }

    fn check_reference(&self, table: &Table, column: &Column) -> Result<(), String> {
        let Some(foreign_key) = column.foreign_key() else {
            return Ok(());
        };
        let target = if foreign_key.table == table.name {
            Some(table)
        } else {
            self.tables.get(foreign_key.table)
        };
        match target.and_then(|target| target.column(foreign_key.column)) {
            Some(target) if target.primary_key => Ok(()),
            Some(_) => Err(format!(
                "`{}.{}` references `{}`, which is not a primary key",
                table.name,
                column.name,
                column.references.as_deref().unwrap_or_default()
            )),
            None => Err(format!(
                "`{}.{}` references `{}`, which does not exist",
                table.name,
                column.name,
                column.references.as_deref().unwrap_or_default()
            )),
        }
    }

    fn index_name_taken(&self, name: &str) -> bool {
        self.tables
            .values()
            .any(|table| table.indexes.iter().any(|index| index.name == name))
    }

    fn table_mut(&mut self, name: &str) -> Result<&mut Table, String> {
        self.tables
            .get_mut(name)
            .ok_or_else(|| format!("table `{name}` does not exist at this point"))
    }

    /// The columns of other tables that reference `table.column`.
    pub(crate) fn referencing(&self, table: &str, column: Option<&str>) -> Vec<(String, String)> {
        let mut found = Vec::new();
        for other in self.tables.values() {
            for referencing in &other.columns {
                if let Some(foreign_key) = referencing.foreign_key()
                    && foreign_key.table == table
                    && column.is_none_or(|column| column == foreign_key.column)
                    && other.name != table
                {
                    found.push((other.name.clone(), referencing.name.clone()));
                }
            }
        }
        found
    }

    /// Applies one operation, or says why it cannot apply to this state.
    pub(crate) fn apply(&mut self, operation: &Operation) -> Result<(), String> {
        match operation {
            Operation::CreateTable {
                table,
                columns,
                indexes,
            } => {
                if self.tables.contains_key(table) {
                    return Err(format!("table `{table}` already exists"));
                }
                let mut names = std::collections::BTreeSet::new();
                for column in columns {
                    if !names.insert(column.name.as_str()) {
                        return Err(format!("column `{}` is listed twice", column.name));
                    }
                }
                for index in indexes {
                    if self.index_name_taken(&index.name) {
                        return Err(format!("index name `{}` is already used", index.name));
                    }
                }
                let mut new_table = Table {
                    name: table.clone(),
                    columns: columns.clone(),
                    indexes: indexes.clone(),
                };
                new_table.sort_indexes();
                self.tables.insert(table.clone(), new_table);
                self.validate()
            }
            Operation::DropTable { table, .. } => {
                self.table_mut(table)?;
                if let Some((other, column)) = self.referencing(table, None).first() {
                    return Err(format!(
                        "table `{table}` is still referenced by `{other}.{column}`; drop or alter that column first"
                    ));
                }
                self.tables.remove(table);
                Ok(())
            }
            Operation::RenameTable { from, to } => {
                if self.tables.contains_key(to) {
                    return Err(format!("table `{to}` already exists"));
                }
                let mut table = self
                    .tables
                    .remove(from)
                    .ok_or_else(|| format!("table `{from}` does not exist at this point"))?;
                table.name = to.clone();
                let prefix = format!("{from}_");
                for index in &mut table.indexes {
                    if let Some(rest) = index.name.strip_prefix(&prefix) {
                        index.name = format!("{to}_{rest}");
                    }
                }
                table.sort_indexes();
                self.tables.insert(to.clone(), table);
                for other in self.tables.values_mut() {
                    for column in &mut other.columns {
                        if let Some(foreign_key) = column.foreign_key()
                            && foreign_key.table == from
                        {
                            column.references = Some(format!("{to}.{}", foreign_key.column));
                        }
                    }
                }
                self.validate()
            }
            Operation::AddColumn { table, column } => {
                let target = self.table_mut(table)?;
                if target.column(&column.name).is_some() {
                    return Err(format!("column `{table}.{}` already exists", column.name));
                }
                if column.primary_key {
                    return Err(format!(
                        "column `{table}.{}`: a primary key cannot be added to an existing table",
                        column.name
                    ));
                }
                target.columns.push(column.clone());
                self.validate()
            }
            Operation::DropColumn { table, column, .. } => {
                let target = self.table_mut(table)?;
                let Some(position) = target.columns.iter().position(|c| &c.name == column) else {
                    return Err(format!("column `{table}.{column}` does not exist"));
                };
                if target.columns[position].primary_key {
                    return Err(format!(
                        "column `{table}.{column}` is the primary key and cannot be dropped"
                    ));
                }
                target.columns.remove(position);
                target
                    .indexes
                    .retain(|index| !index.columns.iter().any(|c| c == column));
                Ok(())
            }
            Operation::RenameColumn { table, from, to } => {
                let target = self.table_mut(table)?;
                if target.column(to).is_some() {
                    return Err(format!("column `{table}.{to}` already exists"));
                }
                let Some(renamed) = target.columns.iter_mut().find(|c| &c.name == from) else {
                    return Err(format!("column `{table}.{from}` does not exist"));
                };
                renamed.name = to.clone();
                for digest in &mut target.columns {
                    if digest.digest_of.as_ref() == Some(from) {
                        digest.digest_of = Some(to.clone());
                    }
                }
                for index in &mut target.indexes {
                    if !index.columns.contains(from) {
                        continue;
                    }
                    let old_columns: Vec<&str> = index.columns.iter().map(String::as_str).collect();
                    let new_columns: Vec<&str> = old_columns
                        .iter()
                        .map(|c| if c == from { to.as_str() } else { c })
                        .collect();
                    if index.name == index_name(table, &old_columns) {
                        index.name = index_name(table, &new_columns);
                    } else if index.name == unique_constraint_name(table, &old_columns) {
                        index.name = unique_constraint_name(table, &new_columns);
                    }
                    index.columns = new_columns.into_iter().map(str::to_owned).collect();
                }
                target.sort_indexes();
                for other in self.tables.values_mut() {
                    for column in &mut other.columns {
                        if let Some(foreign_key) = column.foreign_key()
                            && foreign_key.table == table
                            && foreign_key.column == from
                        {
                            column.references = Some(format!("{table}.{to}"));
                        }
                    }
                }
                self.validate()
            }
            Operation::AlterColumn { table, column } => {
                let target = self.table_mut(table)?;
                let Some(existing) = target.columns.iter_mut().find(|c| c.name == column.name)
                else {
                    return Err(format!("column `{table}.{}` does not exist", column.name));
                };
                if existing.primary_key != column.primary_key {
                    return Err(format!(
                        "column `{table}.{}`: changing which column is the primary key is not supported; \
                         create a new table and copy the data with `run_sql`",
                        column.name
                    ));
                }
                *existing = column.clone();
                self.validate()
            }
            Operation::AddIndex {
                table,
                name,
                columns,
                ..
            } => self.add_index(table, name, columns, false),
            Operation::AddUnique {
                table,
                name,
                columns,
            } => self.add_index(table, name, columns, true),
            Operation::DropIndex { table, name } => self.drop_index(table, name, false),
            Operation::DropUnique { table, name } => self.drop_index(table, name, true),
            Operation::AlterSensitivity {
                table,
                column,
                sealed,
                searchable,
            } => self.alter_sensitivity(table, column, *sealed, *searchable),
            Operation::Reseal {
                table,
                column,
                from_table,
                from_column,
            } => self.reseal(table, column, from_table, from_column),
            Operation::RunSql { .. } | Operation::RunDataMigration { .. } => Ok(()),
        }
    }

    /// Checks a `reseal`, which changes no schema: its column is sealed now and
    /// its old names are other names.
    fn reseal(
        &self,
        table: &str,
        column: &str,
        from_table: &str,
        from_column: &str,
    ) -> Result<(), String> {
        let target = self
            .table(table)
            .ok_or_else(|| format!("table `{table}` does not exist"))?;
        let Some(existing) = target.column(column) else {
            return Err(format!("column `{table}.{column}` does not exist"));
        };
        if !existing.sealed || existing.digest_of.is_some() {
            return Err(format!(
                "`{table}.{column}` is not a sealed column; only sealed values are bound to their names"
            ));
        }
        if (from_table, from_column) == (table, column) {
            return Err(format!(
                "`{table}.{column}`: `from_table` and `from_column` are its current names; \
                 give the names its values were sealed under before the rename"
            ));
        }
        if from_table.is_empty() || from_column.is_empty() {
            return Err(format!(
                "`{table}.{column}`: `from_table` and `from_column` must name the table and column its values were sealed under"
            ));
        }
        bindable_key(target, column)
    }

    fn alter_sensitivity(
        &mut self,
        table: &str,
        column: &str,
        sealed: bool,
        searchable: bool,
    ) -> Result<(), String> {
        if searchable && !sealed {
            return Err(format!(
                "`{table}.{column}`: `searchable = true` needs `sealed = true` (a digest is kept only for a sealed column)"
            ));
        }
        let target = self.table_mut(table)?;
        let Some(existing) = target.column(column) else {
            return Err(format!("column `{table}.{column}` does not exist"));
        };
        bindable_key(target, column)?;
        let digest = target
            .columns
            .iter()
            .position(|c| c.digest_of.as_deref() == Some(column));
        if existing.sealed == sealed && digest.is_some() == searchable {
            let what = match (sealed, searchable) {
                (true, true) => "sealed and searchable",
                (true, false) => "sealed without a digest",
                (false, _) => "clear",
            };
            return Err(format!(
                "`{table}.{column}` is already {what}; remove this operation"
            ));
        }
        if sealed && !existing.sealed && !existing.constraints.is_empty() {
            return Err(format!(
                "`{table}.{column}` has constraints, which a sealed value would break; \
                 remove them with an `alter_column` before this operation"
            ));
        }
        let existing = target
            .columns
            .iter_mut()
            .find(|c| c.name == column)
            .ok_or_else(|| format!("column `{table}.{column}` does not exist"))?;
        existing.sealed = sealed;
        match digest {
            Some(position) if !searchable => {
                let name = target.columns.remove(position).name;
                target
                    .indexes
                    .retain(|index| !index.columns.contains(&name));
            }
            None if searchable => {
                let digest = digest_column(column);
                if target.column(&digest.name).is_some() {
                    return Err(format!(
                        "`{table}.{column}`: its digest column `{}` is taken by another column; rename that column first",
                        digest.name
                    ));
                }
                target.columns.push(digest);
            }
            _ => {}
        }
        self.validate()
    }

    fn add_index(
        &mut self,
        table: &str,
        name: &str,
        columns: &[String],
        unique: bool,
    ) -> Result<(), String> {
        if self.index_name_taken(name) {
            return Err(format!("index name `{name}` is already used"));
        }
        let target = self.table_mut(table)?;
        let index = Index {
            name: name.to_owned(),
            columns: columns.to_vec(),
            unique,
        };
        check_index_columns(target, &index)?;
        target.indexes.push(index);
        target.sort_indexes();
        Ok(())
    }

    fn drop_index(&mut self, table: &str, name: &str, unique: bool) -> Result<(), String> {
        let target = self.table_mut(table)?;
        let kind = if unique { "unique constraint" } else { "index" };
        let Some(position) = target
            .indexes
            .iter()
            .position(|index| index.name == name && index.unique == unique)
        else {
            return Err(format!("table `{table}` has no {kind} `{name}`"));
        };
        target.indexes.remove(position);
        Ok(())
    }
}

/// Sealed values of `table.column` are bound to their row's primary key
/// text, so the key must have one.
fn bindable_key(table: &Table, column: &str) -> Result<(), String> {
    let key = table.columns.iter().find(|c| c.primary_key);
    if key.is_some_and(|key| {
        !(key.sql_type.is_integer() || matches!(key.sql_type, SqlType::Text | SqlType::Uuid))
    }) {
        return Err(format!(
            "`{}.{column}`: sealed values are bound to their row's primary key, which must be an integer, text or a UUID",
            table.name
        ));
    }
    Ok(())
}

/// The nullable digest column of sealed column `sealed` (an erased value's
/// digest is NULL).
pub(crate) fn digest_column(sealed: &str) -> Column {
    Column {
        name: schema::digest_column_name(sealed),
        sql_type: SqlType::Text,
        nullable: true,
        primary_key: false,
        generated: None,
        default: None,
        constraints: Vec::new(),
        references: None,
        on_delete: None,
        sealed: false,
        digest_of: Some(sealed.to_owned()),
    }
}

/// A digest column names a sealed column of its table.
fn check_digest(table: &Table, column: &Column) -> Result<(), String> {
    let Some(sealed) = &column.digest_of else {
        return Ok(());
    };
    match table.column(sealed) {
        Some(target) if target.sealed => Ok(()),
        _ => Err(format!(
            "`{}.{}` is the digest of `{sealed}`, which is not a sealed column of the table",
            table.name, column.name
        )),
    }
}

fn check_index_columns(table: &Table, index: &Index) -> Result<(), String> {
    if index.columns.is_empty() {
        return Err(format!("index `{}` lists no columns", index.name));
    }
    for column in &index.columns {
        if table.column(column).is_none() {
            return Err(format!(
                "index `{}` names column `{}.{column}`, which does not exist",
                index.name, table.name
            ));
        }
    }
    Ok(())
}

fn table_of_model(model: &ModelSchema) -> Table {
    let mut indexes = Vec::new();
    let mut columns = Vec::with_capacity(model.fields.len());
    for field in model.fields {
        columns.push(column_of_field(field));
        // A searchable sealed field is compared, made unique and indexed
        // through its digest: the sealed text differs on every write.
        let digest = field.digest_column();
        if digest.is_some() {
            columns.push(digest_column(field.column));
        }
        let indexed = digest.as_deref().unwrap_or(field.column);
        if field.unique && !field.primary_key {
            indexes.push(Index {
                name: unique_constraint_name(model.table, &[indexed]),
                columns: vec![indexed.to_owned()],
                unique: true,
            });
        }
        if field.index {
            indexes.push(Index {
                name: schema::index_name(model.table, &[indexed]),
                columns: vec![indexed.to_owned()],
                unique: false,
            });
        }
    }
    for index in model.indexes {
        indexes.push(Index {
            name: index.name.to_owned(),
            columns: index.columns.iter().map(|&c| c.to_owned()).collect(),
            unique: index.unique,
        });
    }
    let mut table = Table {
        name: model.table.to_owned(),
        columns,
        indexes,
    };
    table.sort_indexes();
    table.indexes.dedup();
    table
}

/// The column of `field`. A sealed field's constraints validate the clear value
/// in the API and are not the column's: its column is text without checks.
fn column_of_field(field: &schema::FieldSchema) -> Column {
    let sealed = field.sensitivity.is_sealed();
    Column {
        name: field.column.to_owned(),
        sql_type: field.sql_type,
        nullable: field.nullable,
        primary_key: field.primary_key,
        generated: match field.generated {
            Generated::AutoIncrement => Some(GeneratedKind::AutoIncrement),
            _ => None,
        },
        default: field.default.map(|default| match default {
            DefaultValue::Int(value) => Literal::Int(value),
            DefaultValue::Bool(value) => Literal::Bool(value),
            DefaultValue::Text(value) => Literal::Text(value.to_owned()),
        }),
        constraints: if sealed {
            Vec::new()
        } else {
            field
                .constraints
                .iter()
                .map(Constraint::to_owned_constraint)
                .collect()
        },
        references: field
            .foreign_key
            .map(|foreign_key| format!("{}.{}", foreign_key.table, foreign_key.column)),
        on_delete: field.foreign_key.map(|foreign_key| foreign_key.on_delete),
        sealed,
        digest_of: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::{file, sql};
    use crate::schema::{FieldSchema, Sensitivity};
    use fw_core::Dialect;

    const PATIENT_FIELDS: [FieldSchema; 3] = [
        FieldSchema {
            primary_key: true,
            generated: Generated::AutoIncrement,
            ..FieldSchema::plain("id", SqlType::BigInt, false)
        },
        FieldSchema {
            sensitivity: Sensitivity::Sealed { searchable: true },
            unique: true,
            constraints: &[Constraint::MaxLength(11)],
            ..FieldSchema::plain("insurance_number", SqlType::Text, false)
        },
        FieldSchema {
            sensitivity: Sensitivity::Sealed { searchable: false },
            ..FieldSchema::plain("name", SqlType::Text, true)
        },
    ];
    const PATIENT: ModelSchema = ModelSchema {
        name: "Patient",
        table: "patient",
        renamed_from: None,
        fields: &PATIENT_FIELDS,
        indexes: &[],
    };

    #[test]
    fn a_sealed_field_is_unchecked_text_and_a_searchable_one_is_unique_through_its_digest() {
        let state = SchemaState::from_models(&[&PATIENT]).unwrap();
        let table = state.table("patient").unwrap();
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["id", "insurance_number", "insurance_number_digest", "name"]
        );
        let sealed = table.column("insurance_number").unwrap();
        assert!(sealed.sealed && sealed.constraints.is_empty());
        let digest = table.column("insurance_number_digest").unwrap();
        assert_eq!(digest.digest_of.as_deref(), Some("insurance_number"));
        assert_eq!(table.indexes[0].name, "patient_insurance_number_digest_key");

        let ddl = sql::create_table(table, Dialect::Postgres).join(";\n");
        assert!(!ddl.contains("CHECK"), "{ddl}");
        assert!(
            ddl.contains(r#"UNIQUE ("insurance_number_digest")"#),
            "{ddl}"
        );

        let operations = [Operation::CreateTable {
            table: "patient".to_owned(),
            columns: table.columns.clone(),
            indexes: table.indexes.clone(),
        }];
        let text = file::render(&SchemaState::default(), &operations, &[]);
        assert!(text.contains("sealed = true"), "{text}");
        assert!(text.contains(r#"digest_of = "insurance_number""#), "{text}");
        let parsed =
            file::parse(std::path::Path::new("0001_patient.toml"), text.as_bytes()).unwrap();
        let mut replayed = SchemaState::default();
        for operation in &parsed.operations {
            replayed.apply(operation).unwrap();
        }
        assert_eq!(replayed, state);
    }

    #[test]
    fn a_digest_must_name_a_sealed_column() {
        let state = SchemaState::from_models(&[&PATIENT]).unwrap();
        let mut table = state.table("patient").unwrap().clone();
        table.columns[2].digest_of = Some("id".to_owned());
        let operation = Operation::CreateTable {
            table: "patient".to_owned(),
            columns: table.columns,
            indexes: table.indexes,
        };
        let error = SchemaState::default().apply(&operation).unwrap_err();
        assert!(error.contains("not a sealed column"), "{error}");
    }
}
