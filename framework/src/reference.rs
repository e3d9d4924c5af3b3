//! [`Ref`]: a field that holds the primary key of another model's row.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::db::{Arguments, Row};
use crate::error::Result;
use crate::field::Field;
use crate::model::Model;
use crate::schema::SqlType;
use crate::value::Value;

/// A typed foreign key: the primary key of a row of model `M`.
///
/// A `Ref<Security>` cannot be given the id of a `Dividend`: the model is part of
/// the type. It serializes as the bare key.
///
/// ```
/// #[fw::model]
/// pub struct Security {
///     pub id: i64,
/// }
///
/// #[fw::model]
/// pub struct Dividend {
///     pub id: i64,
///     #[field(on_delete = "cascade")]
///     pub security: fw::Ref<Security>,
/// }
///
/// let security = fw::Ref::<Security>::new(7);
/// assert_eq!(*security.key(), 7);
/// ```
pub struct Ref<M: Model> {
    key: M::Key,
    model: PhantomData<fn() -> M>,
}

impl<M: Model> Ref<M> {
    /// A reference to the row of `M` with primary key `key`.
    pub const fn new(key: M::Key) -> Self {
        Ref {
            key,
            model: PhantomData,
        }
    }

    /// The referenced row's primary key.
    pub fn key(&self) -> &M::Key {
        &self.key
    }

    /// Consumes the reference, returning the key.
    pub fn into_key(self) -> M::Key {
        self.key
    }
}

impl<M: Model> From<&M> for Ref<M> {
    fn from(row: &M) -> Self {
        Ref::new(row.key().clone())
    }
}

impl<M: Model> Clone for Ref<M> {
    fn clone(&self) -> Self {
        Ref::new(self.key.clone())
    }
}

impl<M: Model> Copy for Ref<M> where M::Key: Copy {}

impl<M: Model> PartialEq for Ref<M>
where
    M::Key: PartialEq,
{
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl<M: Model> Eq for Ref<M> where M::Key: Eq {}

impl<M: Model> Hash for Ref<M>
where
    M::Key: Hash,
{
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

impl<M: Model> fmt::Debug for Ref<M>
where
    M::Key: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ref<{}>({:?})", M::SCHEMA.name, self.key)
    }
}

impl<M: Model> Serialize for Ref<M>
where
    M::Key: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.key.serialize(serializer)
    }
}

impl<'de, M: Model> Deserialize<'de> for Ref<M>
where
    M::Key: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        M::Key::deserialize(deserializer).map(Ref::new)
    }
}

impl<M: Model> Field for Ref<M> {
    const SQL_TYPE: SqlType = <M::Key as Field>::SQL_TYPE;
    const REFERENCES: Option<(&'static str, &'static str)> =
        Some((M::TABLE, M::PRIMARY_KEY_COLUMN));
    type Scalar = Ref<M>;

    fn bind(&self, args: &mut Arguments) -> Result<()> {
        self.key.bind(args)
    }

    fn decode(row: &Row<'_>, index: usize) -> Result<Self> {
        M::Key::decode(row, index).map(Ref::new)
    }

    fn to_value(&self) -> Value {
        self.key.to_value()
    }

    fn represent<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.key.represent(serializer)
    }
}
