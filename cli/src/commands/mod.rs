//! One module per `fw` command.

pub(crate) mod forward;
pub(crate) mod new;
