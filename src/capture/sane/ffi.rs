//! The SANE 1.0 C ABI: its types and constants, and the table of entry points
//! loaded from `libsane.so.1` at run time with `libloading`.
//!
//! Written by hand (no bindgen) so the build needs neither SANE headers nor
//! libclang. This file only declares; it never calls into the library. The
//! safe wrapper in `device.rs` is the only caller.

use std::ffi::{c_char, c_int, c_void};

use libloading::Library;

pub type SaneWord = c_int;
pub type SaneStatus = c_int;
pub type SaneHandle = *mut c_void;

pub const STATUS_GOOD: SaneStatus = 0;

pub const TYPE_BOOL: c_int = 0;
pub const TYPE_INT: c_int = 1;
pub const TYPE_FIXED: c_int = 2;
pub const TYPE_STRING: c_int = 3;
pub const TYPE_BUTTON: c_int = 4;
pub const TYPE_GROUP: c_int = 5;

pub const CONSTRAINT_RANGE: c_int = 1;
pub const CONSTRAINT_WORD_LIST: c_int = 2;
pub const CONSTRAINT_STRING_LIST: c_int = 3;

pub const ACTION_GET_VALUE: c_int = 0;
pub const ACTION_SET_VALUE: c_int = 1;
pub const ACTION_SET_AUTO: c_int = 2;

pub const CAP_SOFT_SELECT: i32 = 1 << 0;
pub const CAP_HARD_SELECT: i32 = 1 << 1;
pub const CAP_SOFT_DETECT: i32 = 1 << 2;
pub const CAP_EMULATED: i32 = 1 << 3;
pub const CAP_AUTOMATIC: i32 = 1 << 4;
pub const CAP_INACTIVE: i32 = 1 << 5;
pub const CAP_ADVANCED: i32 = 1 << 6;

pub const INFO_INEXACT: i32 = 1 << 0;
pub const INFO_RELOAD_OPTIONS: i32 = 1 << 1;
pub const INFO_RELOAD_PARAMS: i32 = 1 << 2;

/// `SANE_Device`.
#[repr(C)]
pub struct SaneDevice {
    pub name: *const c_char,
    pub vendor: *const c_char,
    pub model: *const c_char,
    pub kind: *const c_char,
}

/// `SANE_Range`.
#[repr(C)]
pub struct SaneRange {
    pub min: SaneWord,
    pub max: SaneWord,
    pub quant: SaneWord,
}

/// The constraint union of `SANE_Option_Descriptor`.
#[repr(C)]
pub union SaneConstraint {
    pub string_list: *const *const c_char,
    pub word_list: *const SaneWord,
    pub range: *const SaneRange,
}

/// `SANE_Option_Descriptor`.
#[repr(C)]
pub struct SaneOptionDescriptor {
    pub name: *const c_char,
    pub title: *const c_char,
    pub desc: *const c_char,
    pub kind: c_int,
    pub unit: c_int,
    pub size: SaneWord,
    pub cap: SaneWord,
    pub constraint_type: c_int,
    pub constraint: SaneConstraint,
}

/// `SANE_Parameters`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct SaneParameters {
    pub format: c_int,
    pub last_frame: SaneWord,
    pub bytes_per_line: SaneWord,
    pub pixels_per_line: SaneWord,
    pub lines: SaneWord,
    pub depth: SaneWord,
}

pub type AuthCallback = Option<unsafe extern "C" fn(*const c_char, *mut c_char, *mut c_char)>;

/// Every entry point of the SANE 1.0 API, resolved once. The `Library` is
/// kept alongside so the pointers stay valid for the life of the table.
pub struct Symbols {
    pub init: unsafe extern "C" fn(*mut SaneWord, AuthCallback) -> SaneStatus,
    pub exit: unsafe extern "C" fn(),
    pub get_devices: unsafe extern "C" fn(*mut *mut *const SaneDevice, SaneWord) -> SaneStatus,
    pub open: unsafe extern "C" fn(*const c_char, *mut SaneHandle) -> SaneStatus,
    pub close: unsafe extern "C" fn(SaneHandle),
    pub get_option_descriptor:
        unsafe extern "C" fn(SaneHandle, SaneWord) -> *const SaneOptionDescriptor,
    pub control_option:
        unsafe extern "C" fn(SaneHandle, SaneWord, c_int, *mut c_void, *mut SaneWord) -> SaneStatus,
    pub get_parameters: unsafe extern "C" fn(SaneHandle, *mut SaneParameters) -> SaneStatus,
    pub start: unsafe extern "C" fn(SaneHandle) -> SaneStatus,
    pub read: unsafe extern "C" fn(SaneHandle, *mut u8, SaneWord, *mut SaneWord) -> SaneStatus,
    pub cancel: unsafe extern "C" fn(SaneHandle),
    pub set_io_mode: unsafe extern "C" fn(SaneHandle, SaneWord) -> SaneStatus,
    pub get_select_fd: unsafe extern "C" fn(SaneHandle, *mut SaneWord) -> SaneStatus,
    _lib: Library,
}

/// The file name the SANE 1.0 ABI is published under on Debian and others.
pub const LIBRARY_NAME: &str = "libsane.so.1";

impl Symbols {
    /// Loads `libsane.so.1` and resolves every entry point.
    pub fn load() -> Result<Symbols, libloading::Error> {
        // SAFETY: loading libsane runs its ELF constructors; libsane has none
        // with preconditions beyond a normal process environment.
        let lib = unsafe { Library::new(LIBRARY_NAME) }?;
        macro_rules! sym {
            ($name:literal) => {{
                // SAFETY: the symbol's type is declared above exactly as in
                // sane.h of SANE 1.0; the pointer is copied out and kept valid
                // by storing `lib` in the same struct.
                let s = unsafe { lib.get(concat!($name, "\0").as_bytes()) }?;
                *s
            }};
        }
        Ok(Symbols {
            init: sym!("sane_init"),
            exit: sym!("sane_exit"),
            get_devices: sym!("sane_get_devices"),
            open: sym!("sane_open"),
            close: sym!("sane_close"),
            get_option_descriptor: sym!("sane_get_option_descriptor"),
            control_option: sym!("sane_control_option"),
            get_parameters: sym!("sane_get_parameters"),
            start: sym!("sane_start"),
            read: sym!("sane_read"),
            cancel: sym!("sane_cancel"),
            set_io_mode: sym!("sane_set_io_mode"),
            get_select_fd: sym!("sane_get_select_fd"),
            _lib: lib,
        })
    }
}
