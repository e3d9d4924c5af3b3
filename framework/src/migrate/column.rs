//! The columns and indexes of a migration file, in portable terms: what
//! [`Operation`](super::operation::Operation)s carry and a
//! [`SchemaState`](super::SchemaState)'s tables hold.

use std::collections::BTreeMap;

use fw_core::constraint::{OwnedConstraint, Setting};
use serde::{Deserialize, Serialize};

use crate::schema::{OnDelete, SqlType};

/// One column, in the portable terms a migration file uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ColumnFile", into = "ColumnFile")]
pub(crate) struct Column {
    pub(crate) name: String,
    pub(crate) sql_type: SqlType,
    pub(crate) nullable: bool,
    pub(crate) primary_key: bool,
    pub(crate) generated: Option<GeneratedKind>,
    pub(crate) default: Option<Literal>,
    /// In the order of [`Constraint`](crate::schema::Constraint)'s variants, so equal sets compare equal.
    pub(crate) constraints: Vec<OwnedConstraint>,
    /// `table.column` of the referenced primary key.
    pub(crate) references: Option<String>,
    pub(crate) on_delete: Option<OnDelete>,
    /// The column holds sealed values (a `#[field(sensitive)]` field): text with
    /// no constraint, since what is stored is not what the application wrote.
    pub(crate) sealed: bool,
    /// The sealed column whose keyed digest this column holds (a
    /// `#[field(sensitive(searchable))]` field's `<column>_digest`).
    pub(crate) digest_of: Option<String>,
}

/// A [`Column`] as a file writes it: each constraint is a key of its own
/// (`max_length = 12`), read and written by
/// [`Constraint`](crate::schema::Constraint).
#[derive(Serialize, Deserialize)]
struct ColumnFile {
    name: String,
    #[serde(rename = "type", with = "sql_type_name")]
    sql_type: SqlType,
    #[serde(default)]
    nullable: bool,
    #[serde(default)]
    primary_key: bool,
    #[serde(default)]
    generated: Option<GeneratedKind>,
    #[serde(default)]
    default: Option<Literal>,
    #[serde(default)]
    references: Option<String>,
    #[serde(default, with = "on_delete_name")]
    on_delete: Option<OnDelete>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    sealed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    digest_of: Option<String>,
    /// Every other key: the constraints (serde cannot deny unknown keys beside
    /// a flattened map, so [`Column::try_from`] does).
    #[serde(flatten)]
    constraints: BTreeMap<String, SettingValue>,
}

/// A constraint's value in a file, as TOML gives it.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum SettingValue {
    Count(u32),
    Text(String),
    List(Vec<String>),
}

impl TryFrom<ColumnFile> for Column {
    type Error = String;

    fn try_from(file: ColumnFile) -> Result<Column, String> {
        let name = &file.name;
        let mut constraints = Vec::with_capacity(file.constraints.len());
        for (key, value) in file.constraints {
            let setting = match value {
                SettingValue::Count(count) => Setting::Count(count),
                SettingValue::Text(text) => Setting::Text(text),
                SettingValue::List(values) => Setting::List(values),
            };
            match OwnedConstraint::from_setting(&key, setting) {
                Ok(Some(constraint)) => constraints.push(constraint),
                Ok(None) => {
                    return Err(format!(
                        "column `{name}`: unknown key `{key}`, expected a column setting \
                         (`type`, `nullable`, `default`, `references`, ...) or a constraint \
                         (`max_length`, `min_value`, `pattern`, ...)"
                    ));
                }
                Err(error) => return Err(format!("column `{name}`: {error}")),
            }
        }
        constraints.sort();
        Ok(Column {
            name: file.name,
            sql_type: file.sql_type,
            nullable: file.nullable,
            primary_key: file.primary_key,
            generated: file.generated,
            default: file.default,
            constraints,
            references: file.references,
            on_delete: file.on_delete,
            sealed: file.sealed,
            digest_of: file.digest_of,
        })
    }
}

impl From<Column> for ColumnFile {
    fn from(column: Column) -> ColumnFile {
        let constraints = column
            .constraints
            .iter()
            .map(|constraint| {
                let value = match constraint.setting() {
                    Setting::Count(count) => SettingValue::Count(count),
                    Setting::Text(text) => SettingValue::Text(text.to_owned()),
                    Setting::List(values) => {
                        SettingValue::List(values.into_iter().map(str::to_owned).collect())
                    }
                };
                (constraint.key().to_owned(), value)
            })
            .collect();
        ColumnFile {
            name: column.name,
            sql_type: column.sql_type,
            nullable: column.nullable,
            primary_key: column.primary_key,
            generated: column.generated,
            default: column.default,
            references: column.references,
            on_delete: column.on_delete,
            sealed: column.sealed,
            digest_of: column.digest_of,
            constraints,
        }
    }
}

/// How the database fills a column. Only kinds that change the DDL are recorded:
/// the other [`Generated`] kinds are filled in by fw, not by the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum GeneratedKind {
    AutoIncrement,
}

/// A column default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum Literal {
    Bool(bool),
    Int(i64),
    Text(String),
}

/// An index or a unique constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Index {
    pub(crate) name: String,
    pub(crate) columns: Vec<String>,
    #[serde(default)]
    pub(crate) unique: bool,
}

/// A foreign key, as read from a [`Column`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ForeignKey<'a> {
    pub(crate) table: &'a str,
    pub(crate) column: &'a str,
    pub(crate) on_delete: OnDelete,
}

impl Column {
    pub(crate) fn foreign_key(&self) -> Option<ForeignKey<'_>> {
        let (table, column) = self.references.as_deref()?.split_once('.')?;
        Some(ForeignKey {
            table,
            column,
            on_delete: self.on_delete.unwrap_or(OnDelete::Restrict),
        })
    }

    pub(crate) fn is_auto_increment(&self) -> bool {
        self.generated == Some(GeneratedKind::AutoIncrement)
    }

    /// Problems a hand-edited definition can have that would otherwise surface as
    /// broken SQL.
    pub(super) fn validate(&self) -> Result<(), String> {
        let name = &self.name;
        match (&self.references, self.foreign_key(), self.on_delete) {
            (Some(references), None, _) => {
                return Err(format!(
                    "column `{name}`: `references = \"{references}\"` must be written as \"table.column\""
                ));
            }
            (None, _, Some(_)) => {
                return Err(format!(
                    "column `{name}`: `on_delete` needs `references = \"table.column\"`"
                ));
            }
            _ => {}
        }
        if self.is_auto_increment() && !(self.primary_key && self.sql_type.is_integer()) {
            return Err(format!(
                "column `{name}`: `generated = \"auto_increment\"` needs an integer primary key"
            ));
        }
        if self.on_delete == Some(OnDelete::SetNull) && !self.nullable {
            return Err(format!(
                "column `{name}`: `on_delete = \"set_null\"` needs `nullable = true`"
            ));
        }
        if self.primary_key && self.nullable {
            return Err(format!("column `{name}`: a primary key cannot be nullable"));
        }
        if self.sealed || self.digest_of.is_some() {
            let what = if self.sealed {
                "`sealed = true`"
            } else {
                "`digest_of`"
            };
            if self.sql_type != SqlType::Text {
                return Err(format!("column `{name}`: {what} needs `type = \"text\"`"));
            }
            if self.primary_key
                || self.references.is_some()
                || self.default.is_some()
                || !self.constraints.is_empty()
            {
                return Err(format!(
                    "column `{name}`: {what} cannot be a primary key, a reference, or have a default or constraints (what is stored is not what the application wrote)"
                ));
            }
        }
        if self.sealed && self.digest_of.is_some() {
            return Err(format!(
                "column `{name}`: a digest column holds digests, not sealed values; remove `sealed` or `digest_of`"
            ));
        }
        Ok(())
    }
}

/// `SqlType` as its [`SqlType::name`] in files.
mod sql_type_name {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    use crate::schema::SqlType;

    pub(crate) const ALL: [SqlType; 10] = [
        SqlType::SmallInt,
        SqlType::Int,
        SqlType::BigInt,
        SqlType::Bool,
        SqlType::Text,
        SqlType::Decimal,
        SqlType::Date,
        SqlType::Timestamp,
        SqlType::Uuid,
        SqlType::Json,
    ];

    pub(crate) fn serialize<S: Serializer>(
        value: &SqlType,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(value.name())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<SqlType, D::Error> {
        let name = String::deserialize(deserializer)?;
        ALL.into_iter().find(|t| t.name() == name).ok_or_else(|| {
            let names: Vec<&str> = ALL.iter().map(|t| t.name()).collect();
            D::Error::custom(format!(
                "unknown column type `{name}`, expected one of {}",
                names.join(", ")
            ))
        })
    }
}

/// `Option<OnDelete>` as its [`OnDelete::name`] in files.
mod on_delete_name {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    use crate::schema::OnDelete;

    pub(crate) fn serialize<S: Serializer>(
        value: &Option<OnDelete>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => serializer.serialize_str(value.name()),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<OnDelete>, D::Error> {
        let name = String::deserialize(deserializer)?;
        OnDelete::from_name(&name).map(Some).ok_or_else(|| {
            D::Error::custom(format!(
                "unknown `on_delete` action `{name}`, expected restrict, cascade or set_null"
            ))
        })
    }
}
