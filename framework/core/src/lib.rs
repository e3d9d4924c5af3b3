//! The vocabulary `fw`'s macros and its runtime share, so that neither keeps a copy
//! of the other's facts: the static schema types `#[model]` emits, the field
//! constraints (each kind with its validation, JSON Schema, SQL CHECK and
//! tightening rule), the SQL dialects, the rules that name and quote what fw
//! puts in a database, the statements it writes rows with, and the REST
//! vocabulary (actions, lookups, list parameters, permissions).
//!
//! `fw-macros` runs these at compile time and `fw` re-exports them; applications
//! use them through `fw` (`fw::schema`, `fw::Dialect`), never directly.

pub mod access;
pub mod api;
pub mod constraint;
pub mod names;
pub mod schema;
mod sql;
pub mod statement;

pub use sql::{Dialect, placeholder, push_placeholder, push_quoted_ident, quote_ident};
