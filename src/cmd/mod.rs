//! One module per subcommand: argument handling and output formatting only;
//! the work itself lives in the library.

pub mod check_config;
pub mod daemon;
pub mod finish;
pub mod ingest;
pub mod process;
pub mod report;
pub mod scan;
