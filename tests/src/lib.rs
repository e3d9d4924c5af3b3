//! Workspace-level tests of fw live in `tests/`; this crate has no library code.
