//! Image files in and out: decoding every format a page may arrive in, and
//! encoding processed pages per the output profile.
//!
//! Codecs work on bytes in memory; they never open, write or rename files
//! (the store does that), and never panic on hostile input.

pub mod budget;
pub mod complete;
pub mod decode;
pub mod encode;
pub mod g4tiff;
pub mod icc;
pub mod jpeg;
pub mod layers;
pub mod pdf;
pub mod pdf_extract;
pub mod resample;

pub use decode::{decode, decode_frame, probe_format, DecodeError, Format, Frame};
pub use encode::{encode, EncodeError, Encoded, OutputConfig, PageKind, Profile};
