//! A safe binding over the SANE 1.0 C API, loading `libsane.so.1` at run time
//! (no SANE headers or libclang at build time; a PC without libsane still
//! runs everything else and gets `ScanError::LibraryMissing`).
//!
//! Hand-written rather than the `sane-scan` crate, which links libsane at
//! build time, hides the handle (no non-blocking read, select fd or cancel),
//! lists local devices only and passes bools as 1 byte where SANE reads 4.
//!
//! The only module of sohoa with `unsafe`, all of it in `ffi.rs`,
//! `device.rs` and `signals.rs` (stop signals kept safe from backends),
//! every block with a `// SAFETY:` line. All calls for one
//! device run on one thread (`adf::Batch` spawns it); never on the async
//! runtime.

pub mod adf;
pub mod buttons;
pub mod device;
pub mod error;
pub mod ffi;
pub mod frame;
pub mod identity;
pub mod options;
pub mod profile;
pub mod reader;
pub mod signals;

pub use adf::{Batch, BatchConfig, Canceller, Feed, Page, Side};
pub use buttons::{ButtonPress, ButtonSource, SanePoller};
pub use device::{Device, DeviceInfo, Sane};
pub use error::{ScanError, Status};
pub use frame::{Completeness, RawPage};
pub use identity::Identity;
pub use options::{OptionDesc, OptionValue, Setting};
pub use profile::ScanProfile;
