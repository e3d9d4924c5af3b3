//! [`Field`]: the Rust types a model field can have, and how each is stored.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize, Serializer};
use uuid::Uuid;

use crate::db::{Arguments, Row};
use crate::error::{Error, Result};
use crate::schema::{ForeignKeySchema, OnDelete, SqlType};
use crate::value::Value;

/// A Rust type that can be stored in a model field.
///
/// Implemented for `i16`, `i32`, `i64`, `bool`, `String`, [`Decimal`],
/// [`NaiveDate`], [`DateTime<Utc>`], [`Uuid`], [`Json<T>`], [`Ref<M>`](crate::Ref), enums with
/// `#[derive(fw::Choices)]`, and `Option<T>` of any of these for nullable columns.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in a model field",
    label = "unsupported field type",
    note = "supported field types: i16, i32, i64, bool, String, rust_decimal::Decimal, \
            chrono::NaiveDate, chrono::DateTime<Utc>, uuid::Uuid, fw::Json<T>, fw::Ref<Model>, \
            an enum with `#[derive(fw::Choices)]`, and Option<T> of any of these"
)]
pub trait Field: Sized + Send + Sync + 'static {
    /// The portable column type.
    const SQL_TYPE: SqlType;
    /// Whether the column is nullable (only `Option<T>`).
    const NULLABLE: bool = false;
    /// The allowed text values, for choice enums.
    const CHOICES: &'static [&'static str] = &[];
    /// The referenced model's table and key column, for [`Ref<M>`](crate::Ref).
    const REFERENCES: Option<(&'static str, &'static str)> = None;

    /// The type a filter compares this field with: `T` for both `T` and `Option<T>`.
    type Scalar: Field;

    /// Binds the value as the next statement parameter.
    ///
    /// # Errors
    ///
    /// When the driver cannot encode the value.
    fn bind(&self, args: &mut Arguments) -> Result<()>;

    /// Decodes the value from column `index` of `row`.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] when the stored value does not fit the type.
    fn decode(row: &Row<'_>, index: usize) -> Result<Self>;

    /// The value, type-erased.
    fn to_value(&self) -> Value;

    /// Writes the value as a response body shows it (the JSON of
    /// [`Value::to_json`]), straight to the serializer.
    ///
    /// # Errors
    ///
    /// Whatever the serializer returns.
    fn represent<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>;
}

/// A row decodes into fields: the database layer below knows rows, not fields.
impl Row<'_> {
    /// Decodes column `index` (0-based) as any field type: decimals, references,
    /// choices and `Option<T>` for a column that may be NULL included.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] when the column is missing or its value does not fit `T`
    /// (a NULL where `T` is not an `Option`, say).
    pub fn get<T: Field>(&self, index: usize) -> Result<T> {
        T::decode(self, index)
    }
}

/// A field value serialized through [`Field::represent`], for generated
/// resource code.
#[doc(hidden)]
#[derive(Debug)]
pub struct Represented<'a, T>(pub &'a T);

impl<T: Field> Serialize for Represented<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.represent(serializer)
    }
}

fn represent_as_serialized<T: Serialize, S: Serializer>(
    value: &T,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    value.serialize(serializer)
}

/// RFC 3339 text written in one piece: chrono's own `Serialize` writes it a
/// character at a time, each through the JSON string escaper.
fn represent_timestamp<S: Serializer>(
    value: &DateTime<Utc>,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(&value.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

/// Builds the foreign-key metadata of a field from its type, for `#[model]`.
#[doc(hidden)]
pub const fn foreign_key_of<T: Field>(on_delete: OnDelete) -> Option<ForeignKeySchema> {
    match T::REFERENCES {
        Some((table, column)) => Some(ForeignKeySchema {
            table,
            column,
            on_delete,
        }),
        None => None,
    }
}

macro_rules! native_field {
    ($($ty:ty => $sql_type:ident, $variant:ident($convert:expr), $represent:ident;)*) => {$(
        impl Field for $ty {
            const SQL_TYPE: SqlType = SqlType::$sql_type;
            type Scalar = $ty;

            #[inline]
            fn bind(&self, args: &mut Arguments) -> Result<()> {
                args.add(self)
            }

            #[inline]
            fn decode(row: &Row<'_>, index: usize) -> Result<Self> {
                row.get_native(index)
            }

            fn to_value(&self) -> Value {
                let convert: fn(&$ty) -> _ = $convert;
                Value::$variant(convert(self))
            }

            #[inline]
            fn represent<S: Serializer>(
                &self,
                serializer: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                $represent(self, serializer)
            }
        }
    )*};
}

native_field! {
    i16 => SmallInt, Int(|value| i64::from(*value)), represent_as_serialized;
    i32 => Int, Int(|value| i64::from(*value)), represent_as_serialized;
    i64 => BigInt, Int(|value| *value), represent_as_serialized;
    bool => Bool, Bool(|value| *value), represent_as_serialized;
    String => Text, Text(|value| value.clone()), represent_as_serialized;
    NaiveDate => Date, Date(|value| *value), represent_as_serialized;
    DateTime<Utc> => Timestamp, Timestamp(|value| *value), represent_timestamp;
    Uuid => Uuid, Uuid(|value| *value), represent_as_serialized;
}

impl Field for Decimal {
    const SQL_TYPE: SqlType = SqlType::Decimal;
    type Scalar = Decimal;

    fn bind(&self, args: &mut Arguments) -> Result<()> {
        args.add_decimal(self)
    }

    fn decode(row: &Row<'_>, index: usize) -> Result<Self> {
        row.get_decimal(index)?.ok_or_else(|| Error::Decode {
            column: index.to_string(),
            reason: "unexpected NULL in a non-nullable decimal column".to_owned(),
        })
    }

    fn to_value(&self) -> Value {
        Value::Decimal(*self)
    }

    fn represent<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        Serialize::serialize(self, serializer)
    }
}

impl<T: Field> Field for Option<T> {
    const SQL_TYPE: SqlType = T::SQL_TYPE;
    const NULLABLE: bool = true;
    const CHOICES: &'static [&'static str] = T::CHOICES;
    const REFERENCES: Option<(&'static str, &'static str)> = T::REFERENCES;
    type Scalar = T::Scalar;

    fn bind(&self, args: &mut Arguments) -> Result<()> {
        match self {
            Some(value) => value.bind(args),
            None => args.add_null(T::SQL_TYPE),
        }
    }

    fn decode(row: &Row<'_>, index: usize) -> Result<Self> {
        if row.is_null(index) {
            Ok(None)
        } else {
            T::decode(row, index).map(Some)
        }
    }

    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, Field::to_value)
    }

    fn represent<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Some(value) => serializer.serialize_some(&Represented(value)),
            None => serializer.serialize_none(),
        }
    }
}

/// A JSON document stored in one column (`JSONB` on PostgreSQL, text on SQLite).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Json<T>(pub T);

impl<T> Field for Json<T>
where
    T: Serialize + for<'de> Deserialize<'de> + Send + Sync + Unpin + 'static,
{
    const SQL_TYPE: SqlType = SqlType::Json;
    type Scalar = Json<T>;

    fn bind(&self, args: &mut Arguments) -> Result<()> {
        args.add(sqlx::types::Json(&self.0))
    }

    fn decode(row: &Row<'_>, index: usize) -> Result<Self> {
        row.get_native::<sqlx::types::Json<T>>(index)
            .map(|json| Json(json.0))
    }

    fn to_value(&self) -> Value {
        Value::Json(serde_json::to_value(&self.0).unwrap_or(serde_json::Value::Null))
    }

    fn represent<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// A Rust enum stored as text, with a CHECK constraint listing its values.
///
/// Implemented by `#[derive(fw::Choices)]`, which also implements [`Field`] and
/// serde for the enum using the same text values.
pub trait Choices: Sized + Copy + Send + Sync + 'static {
    /// Every value, in declaration order.
    const ALL: &'static [Self];
    /// The stored text of every value, in declaration order.
    const VALUES: &'static [&'static str];

    /// The stored text of this value.
    fn as_str(&self) -> &'static str;

    /// The value whose stored text is `text`, if any.
    fn from_str(text: &str) -> Option<Self>;
}

/// `Field::decode` for choice enums, shared by every `#[derive(Choices)]`.
#[doc(hidden)]
pub fn decode_choice<C: Choices>(row: &Row<'_>, index: usize) -> Result<C> {
    let text: String = row.get_native(index)?;
    C::from_str(&text).ok_or_else(|| Error::Decode {
        column: index.to_string(),
        reason: format!(
            "`{text}` is not one of the allowed values: {}",
            C::VALUES.join(", ")
        ),
    })
}
