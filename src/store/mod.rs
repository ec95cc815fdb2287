//! Durable state: the SQLite journal, the spool of raw pages, and atomic
//! filing into the archive. Nothing here decodes or processes images
//! (`bundle` assembles case PDFs and the book bundle through `codec`).

pub mod bundle;
pub mod filing;
pub mod finish;
pub mod journal;
pub mod moves;
pub mod ops;
pub mod spool;

pub use journal::{BookRow, Journal, JournalError, PageRow, PageState, STATION};
