//! The columns and indexes of a migration file, in portable terms: what
//! [`Operation`](super::operation::Operation)s carry and a
//! [`SchemaState`](super::SchemaState)'s tables hold.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::schema::{OnDelete, SqlType};

/// One column, in the portable terms a migration file uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Column {
    pub(crate) name: String,
    #[serde(rename = "type", with = "sql_type_name")]
    pub(crate) sql_type: SqlType,
    #[serde(default)]
    pub(crate) nullable: bool,
    #[serde(default)]
    pub(crate) primary_key: bool,
    #[serde(default)]
    pub(crate) generated: Option<GeneratedKind>,
    #[serde(default)]
    pub(crate) default: Option<Literal>,
    #[serde(default)]
    pub(crate) max_length: Option<u32>,
    #[serde(default)]
    pub(crate) min_length: Option<u32>,
    #[serde(default)]
    pub(crate) min_value: Option<String>,
    #[serde(default)]
    pub(crate) max_value: Option<String>,
    #[serde(default)]
    pub(crate) pattern: Option<String>,
    #[serde(default)]
    pub(crate) max_digits: Option<u32>,
    #[serde(default)]
    pub(crate) decimal_places: Option<u32>,
    #[serde(default)]
    pub(crate) choices: Vec<String>,
    /// `table.column` of the referenced primary key.
    #[serde(default)]
    pub(crate) references: Option<String>,
    #[serde(default, with = "on_delete_name")]
    pub(crate) on_delete: Option<OnDelete>,
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
        for (key, value) in [
            ("min_value", &self.min_value),
            ("max_value", &self.max_value),
        ] {
            if let Some(value) = value
                && value.parse::<Decimal>().is_err()
            {
                return Err(format!(
                    "column `{name}`: `{key} = \"{value}\"` is not a number; write it as \"10\" or \"0.5\""
                ));
            }
        }
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
