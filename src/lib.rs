//! sohoa: capture-workstation daemon for digitizing civil-status registers.
//!
//! The library holds everything the `sohoa` binary does, so integration tests
//! and benchmarks reach the same code paths as the CLI. See `DESIGN.md` in the
//! shared folder for the picture; the module docs say what each part must
//! never do.

pub mod api;
pub mod book;
pub mod capture;
pub mod codec;
pub mod config;
pub mod daemon;
pub mod edit;
pub mod imaging;
pub mod intake;
pub mod pipeline;
pub mod report;
pub mod store;
