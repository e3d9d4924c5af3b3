//! [`SealedModel`]: a model with sealed fields as the operations over every
//! such model (`rotate-keys`, `erase`) see it.

use crate::db::Row;
use crate::error::Result;
use crate::field::Field;
use crate::model::Model;
use crate::schema::{FieldSchema, ModelSchema};
use crate::value::Value;

/// A model with sealed fields, type-erased, as [`App::model`](crate::App::model)
/// registers it for the app's `rotate-keys` and `erase` commands.
#[derive(Debug, Clone, Copy)]
pub struct SealedModel {
    pub(crate) schema: &'static ModelSchema,
    pub(crate) changelog: bool,
    decode_key: fn(&Row<'_>, usize) -> Result<Value>,
}

impl SealedModel {
    /// `M`, if it has sealed fields.
    pub fn of<M: Model>() -> Option<SealedModel> {
        M::SCHEMA
            .fields
            .iter()
            .any(|field| field.sensitivity.is_sealed())
            .then_some(SealedModel {
                schema: M::SCHEMA,
                changelog: M::CHANGELOG,
                decode_key: |row, index| M::Key::decode(row, index).map(|key| key.to_value()),
            })
    }

    /// The model's schema.
    pub fn schema(&self) -> &'static ModelSchema {
        self.schema
    }

    pub(crate) fn sealed_fields(&self) -> impl Iterator<Item = &'static FieldSchema> {
        self.schema
            .fields
            .iter()
            .filter(|field| field.sensitivity.is_sealed())
    }

    pub(crate) fn decode_key(&self, row: &Row<'_>, index: usize) -> Result<Value> {
        (self.decode_key)(row, index)
    }
}
