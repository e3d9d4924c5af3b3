//! The model the change log's own tests write: it records its changes.

#[derive(Clone, PartialEq)]
#[crate::model(changelog)]
pub(crate) struct Lot {
    pub(crate) id: i64,
    pub(crate) label: String,
}
