//! One module per `fw` command.

pub(crate) mod forward;
