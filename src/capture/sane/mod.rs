//! A safe binding over the SANE 1.0 C API, loading `libsane.so.1` at run time.
//!
//! The only module with `unsafe`; every block has a `// SAFETY:` line.
