//! The subcommands' entry points, one module each: the subcommand's options as plain values
//! (the binary turns its flags into them) and its `run`, which validates them, does the work
//! through the domain modules and returns the summary the exit status is made from.
//!
//! Each `Options` holds only what its subcommand reads, so an option cannot be given and then
//! ignored. Options that several subcommands share are one type each
//! ([`crate::config::Network`]); their defaults are the consts of [`crate::config`].

pub mod convert;
pub mod demo;
pub mod inspect;
pub mod pin;
pub mod serve;
pub mod test;
