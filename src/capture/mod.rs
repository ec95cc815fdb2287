//! Page sources: SANE scanners (runtime-loaded libsane), scanner buttons and
//! the watch folder. Sources hand raw pages to the intake; they never decode,
//! process or file pages themselves.

pub mod sane;
pub mod scanner;
pub mod watch;
