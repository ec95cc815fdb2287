//! The safe wrapper over the SANE C API: process-wide init, the device list,
//! and an open device with its options, parameters, start/read/cancel and
//! I/O mode.
//!
//! `Device` is neither `Send` nor `Sync`: every call for one device happens
//! on the thread that opened it (a batch's device thread, `adf.rs`, or a
//! button poll). Every call into the library, for any device, is also
//! serialised by one process-wide lock, since backends need not be
//! thread-safe. This file never assembles pixels and never retries;
//! callers decide.

use std::ffi::{c_void, CStr, CString};
use std::marker::PhantomData;
use std::sync::{Mutex, OnceLock};

use super::error::{Op, ScanError, Status};
use super::ffi::{self, SaneHandle, SaneParameters, Symbols};
use super::options::{Constraint, OptionDesc, OptionValue, Unit, ValueKind};

/// The loaded and initialised library, once per process.
pub struct Sane {
    sym: Symbols,
    pub version: (u8, u8, u16),
    /// Serialises every call into the library. SANE does not promise that
    /// backends are thread-safe, and some are not: the `net` backend shares
    /// one connection per host between the device list and every open
    /// device, so a device list taken while another thread scans corrupts
    /// it (seen as a crash when the host went away mid-scan). Reads wait
    /// for data outside the lock (select fd) whenever the backend allows.
    global: Mutex<()>,
    /// Devices open now (changed only under `global`).
    open_devices: std::sync::atomic::AtomicUsize,
}

static SANE: OnceLock<Result<Sane, ScanError>> = OnceLock::new();

/// One entry of the device list, copied out of SANE's memory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeviceInfo {
    pub name: String,
    pub vendor: String,
    pub model: String,
    pub kind: String,
}

fn cstr(p: *const std::ffi::c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: SANE hands out NUL-terminated strings that stay valid while
    // the descriptor/device list they belong to is valid; we copy at once.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

impl Sane {
    /// Loads libsane and calls `sane_init` the first time; later calls return
    /// the same instance (or the same error). SANE reads its environment
    /// (`SANE_CONFIG_DIR`) here, so set it before the first call.
    pub fn get() -> Result<&'static Sane, ScanError> {
        SANE.get_or_init(|| {
            let sym = Symbols::load().map_err(|e| ScanError::LibraryMissing(e.to_string()))?;
            let mut code: ffi::SaneWord = 0;
            // SAFETY: first and only sane_init of the process (OnceLock);
            // `code` is a valid out pointer; no auth callback is installed.
            let st = unsafe { (sym.init)(&mut code, None) };
            Status::check(st).map_err(|s| ScanError::sane(Op::Init, s))?;
            let c = code as u32;
            Ok(Sane {
                sym,
                version: ((c >> 24) as u8, (c >> 16) as u8, c as u16),
                global: Mutex::new(()),
                open_devices: std::sync::atomic::AtomicUsize::new(0),
            })
        })
        .as_ref()
        .map_err(Clone::clone)
    }

    /// Holds the library for one call (see `global`).
    fn serial(&self) -> std::sync::MutexGuard<'_, ()> {
        self.global.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every device SANE can reach, network backends included
    /// (`local_only = false`).
    pub fn devices(&self) -> Result<Vec<DeviceInfo>, ScanError> {
        let _g = self.serial();
        let mut list: *mut *const ffi::SaneDevice = std::ptr::null_mut();
        // SAFETY: valid out pointer; calls are serialised by `global`, and the
        // list is copied before the next call can invalidate it.
        let st = unsafe { (self.sym.get_devices)(&mut list, 0) };
        Status::check(st).map_err(|s| ScanError::sane(Op::Init, s))?;
        let mut out = Vec::new();
        if list.is_null() {
            return Ok(out);
        }
        let mut i = 0;
        loop {
            // SAFETY: the list is NULL-terminated per the SANE spec.
            let dev = unsafe { *list.add(i) };
            if dev.is_null() {
                break;
            }
            // SAFETY: non-null entries point at valid SANE_Device structs.
            let d = unsafe { &*dev };
            out.push(DeviceInfo {
                name: cstr(d.name),
                vendor: cstr(d.vendor),
                model: cstr(d.model),
                kind: cstr(d.kind),
            });
            i += 1;
        }
        Ok(out)
    }

    /// Opens a device by its SANE name. The returned device is bound to the
    /// calling thread.
    pub fn open(&'static self, name: &str) -> Result<Device, ScanError> {
        let cname = CString::new(name).map_err(|_| ScanError::NoDevice(name.replace('\0', "")))?;
        let mut h: SaneHandle = std::ptr::null_mut();
        let st = {
            let _g = self.serial();
            // SAFETY: valid C string and out pointer.
            let st = unsafe { (self.sym.open)(cname.as_ptr(), &mut h) };
            if st == 0 && !h.is_null() {
                self.open_devices
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            st
        };
        match Status::check(st) {
            Ok(()) if !h.is_null() => {}
            Ok(()) => return Err(ScanError::sane(Op::Open, Status::IoError)),
            Err(Status::Inval) => return Err(ScanError::NoDevice(name.to_string())),
            Err(s) => return Err(ScanError::sane(Op::Open, s)),
        }
        let mut dev = Device {
            sane: self,
            handle: h,
            name: name.to_string(),
            options: Vec::new(),
            scanning: false,
            _not_send: PhantomData,
        };
        dev.reload_options()?;
        Ok(dev)
    }

    /// Starts the library afresh (`sane_exit`, then `sane_init`) when no
    /// device is open; returns whether it did. Only for recovery after a
    /// scanner vanished: some backends keep dead state about it until then
    /// (the `net` backend cannot open a device again once its host went
    /// away mid-scan and came back).
    pub fn restart(&self) -> Result<bool, ScanError> {
        let _g = self.serial();
        if self.open_devices.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            return Ok(false);
        }
        let mut code: ffi::SaneWord = 0;
        // SAFETY: no device is open (counted under the same lock), no other
        // call can run meanwhile, and nothing from before (device lists,
        // descriptors) is kept: every such pointer is copied out at once.
        let st = unsafe {
            (self.sym.exit)();
            (self.sym.init)(&mut code, None)
        };
        Status::check(st).map_err(|s| ScanError::sane(Op::Init, s))?;
        Ok(true)
    }

    /// `sane_strstatus`-like text is not needed: statuses are typed.
    pub fn version_string(&self) -> String {
        format!("{}.{}.{}", self.version.0, self.version.1, self.version.2)
    }
}

/// Scan parameters of the current or next frame (`SANE_Parameters`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parameters {
    pub format: i32,
    pub last_frame: bool,
    pub bytes_per_line: i32,
    pub pixels_per_line: i32,
    pub lines: i32,
    pub depth: i32,
}

impl From<SaneParameters> for Parameters {
    fn from(p: SaneParameters) -> Parameters {
        Parameters {
            format: p.format,
            last_frame: p.last_frame != 0,
            bytes_per_line: p.bytes_per_line,
            pixels_per_line: p.pixels_per_line,
            lines: p.lines,
            depth: p.depth,
        }
    }
}

/// What `set_option` reported back (`SANE_INFO_*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetInfo {
    pub inexact: bool,
    pub reload_options: bool,
    pub reload_params: bool,
}

/// Outcome of one `sane_read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// `n` bytes were stored (0 in non-blocking mode when nothing was ready).
    Data(usize),
    /// End of the current frame.
    Eof,
}

/// An open SANE device. Closed (after cancelling any scan) on drop.
pub struct Device {
    sane: &'static Sane,
    handle: SaneHandle,
    name: String,
    options: Vec<OptionDesc>,
    scanning: bool,
    _not_send: PhantomData<*mut c_void>,
}

impl Device {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Option descriptors as last loaded (reloaded on INFO_RELOAD_OPTIONS).
    pub fn options(&self) -> &[OptionDesc] {
        &self.options
    }

    /// Finds an option by name.
    pub fn option(&self, name: &str) -> Option<&OptionDesc> {
        self.options.iter().find(|o| o.name == name)
    }

    /// Re-reads every option descriptor.
    pub fn reload_options(&mut self) -> Result<(), ScanError> {
        // Held until every descriptor is copied.
        let _g = self.sane.serial();
        let mut count: ffi::SaneWord = 0;
        // SAFETY: option 0 is always a 4-byte int holding the option count.
        let st = unsafe {
            (self.sane.sym.control_option)(
                self.handle,
                0,
                ffi::ACTION_GET_VALUE,
                &mut count as *mut _ as *mut c_void,
                std::ptr::null_mut(),
            )
        };
        Status::check(st).map_err(|s| ScanError::sane(Op::Option, s))?;
        let mut opts = Vec::new();
        for i in 1..count.max(1) {
            // SAFETY: i is within the count the backend gave; the descriptor
            // is copied before any further call on this handle.
            let p = unsafe { (self.sane.sym.get_option_descriptor)(self.handle, i) };
            if p.is_null() {
                continue;
            }
            // SAFETY: non-null descriptor pointers are valid until the next
            // option change; we copy everything now.
            let d = unsafe { &*p };
            opts.push(copy_descriptor(i, d));
        }
        self.options = opts;
        Ok(())
    }

    /// Reads an option's current value.
    pub fn get(&self, name: &str) -> Result<OptionValue, ScanError> {
        let d = self
            .option(name)
            .ok_or_else(|| bad(name, "no such option"))?;
        if !d.is_active() {
            return Err(bad(name, "inactive"));
        }
        match d.kind {
            ValueKind::Button | ValueKind::Group => return Ok(OptionValue::Button),
            _ => {}
        }
        let words = (d.size.max(4) as usize).div_ceil(4);
        let mut buf = vec![0i32; words + 1];
        let g = self.sane.serial();
        // SAFETY: the buffer holds at least `size` bytes (plus one spare word)
        // as the SANE spec requires for GET_VALUE.
        let st = unsafe {
            (self.sane.sym.control_option)(
                self.handle,
                d.index,
                ffi::ACTION_GET_VALUE,
                buf.as_mut_ptr() as *mut c_void,
                std::ptr::null_mut(),
            )
        };
        drop(g);
        Status::check(st).map_err(|s| ScanError::sane(Op::Option, s))?;
        let n = (d.size.max(0) as usize / 4).max(1);
        Ok(match d.kind {
            ValueKind::Bool => OptionValue::Bool(buf[0] != 0),
            ValueKind::Int => OptionValue::Int(buf[..n].to_vec()),
            ValueKind::Fixed => OptionValue::Fixed(buf[..n].iter().map(|&w| unfix(w)).collect()),
            ValueKind::String => {
                let bytes: Vec<u8> = buf.iter().flat_map(|w| w.to_ne_bytes()).collect();
                let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                OptionValue::Str(String::from_utf8_lossy(&bytes[..end]).into_owned())
            }
            ValueKind::Button | ValueKind::Group => OptionValue::Button,
        })
    }

    /// Sets an option. Reloads descriptors when the backend asks.
    pub fn set(&mut self, name: &str, value: &OptionValue) -> Result<SetInfo, ScanError> {
        let d = self
            .option(name)
            .ok_or_else(|| bad(name, "no such option"))?
            .clone();
        if !d.is_settable() {
            return Err(bad(name, "read-only"));
        }
        if !d.is_active() {
            return Err(bad(name, "inactive"));
        }
        let mut buf: Vec<i32> = match (&d.kind, value) {
            (ValueKind::Bool, OptionValue::Bool(b)) => vec![*b as i32],
            (ValueKind::Int, OptionValue::Int(v)) => words_for(&d, v.clone())?,
            (ValueKind::Fixed, OptionValue::Fixed(v)) => {
                words_for(&d, v.iter().map(|&f| fix(f)).collect())?
            }
            (ValueKind::Fixed, OptionValue::Int(v)) => {
                words_for(&d, v.iter().map(|&i| fix(i as f64)).collect())?
            }
            (ValueKind::String, OptionValue::Str(s)) => {
                let size = d.size.max(1) as usize;
                if s.len() + 1 > size || s.contains('\0') {
                    return Err(bad(name, "string too long"));
                }
                let mut bytes = s.as_bytes().to_vec();
                bytes.resize(size.div_ceil(4) * 4, 0);
                bytes
                    .chunks(4)
                    .map(|c| i32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
                    .collect()
            }
            (ValueKind::Button, _) => vec![0],
            _ => return Err(bad(name, "value of the wrong type")),
        };
        let mut info: ffi::SaneWord = 0;
        let g = self.sane.serial();
        // SAFETY: `buf` holds `size` bytes of the option's type (a bool is a
        // full 4-byte SANE_Word); the backend may write back a rounded value.
        let st = unsafe {
            (self.sane.sym.control_option)(
                self.handle,
                d.index,
                ffi::ACTION_SET_VALUE,
                buf.as_mut_ptr() as *mut c_void,
                &mut info,
            )
        };
        drop(g);
        Status::check(st).map_err(|s| match s {
            Status::Inval => bad(name, "value refused by the backend"),
            s => ScanError::sane(Op::Option, s),
        })?;
        self.after_set(info)
    }

    /// Lets the backend choose the value (`SANE_ACTION_SET_AUTO`).
    pub fn set_auto(&mut self, name: &str) -> Result<SetInfo, ScanError> {
        let d = self
            .option(name)
            .ok_or_else(|| bad(name, "no such option"))?;
        if !d.has_cap(ffi::CAP_AUTOMATIC) {
            return Err(bad(name, "no automatic value"));
        }
        let idx = d.index;
        let mut info: ffi::SaneWord = 0;
        let g = self.sane.serial();
        // SAFETY: SET_AUTO takes no value pointer.
        let st = unsafe {
            (self.sane.sym.control_option)(
                self.handle,
                idx,
                ffi::ACTION_SET_AUTO,
                std::ptr::null_mut(),
                &mut info,
            )
        };
        drop(g);
        Status::check(st).map_err(|s| ScanError::sane(Op::Option, s))?;
        self.after_set(info)
    }

    fn after_set(&mut self, info: i32) -> Result<SetInfo, ScanError> {
        let info = SetInfo {
            inexact: info & ffi::INFO_INEXACT != 0,
            reload_options: info & ffi::INFO_RELOAD_OPTIONS != 0,
            reload_params: info & ffi::INFO_RELOAD_PARAMS != 0,
        };
        if info.reload_options {
            self.reload_options()?;
        }
        Ok(info)
    }

    /// `sane_get_parameters`: an estimate before `start`, exact after.
    pub fn parameters(&self) -> Result<Parameters, ScanError> {
        let mut p = SaneParameters::default();
        let _g = self.sane.serial();
        // SAFETY: valid out pointer of the C layout.
        let st = unsafe { (self.sane.sym.get_parameters)(self.handle, &mut p) };
        Status::check(st).map_err(|s| ScanError::sane(Op::Parameters, s))?;
        Ok(p.into())
    }

    /// `sane_start`: begins a frame (or the next page of a batch).
    pub fn start(&mut self) -> Result<(), Status> {
        let g = self.sane.serial();
        // SAFETY: the handle is open and owned by this thread.
        let st = keep_signals(|| unsafe { (self.sane.sym.start)(self.handle) });
        drop(g);
        Status::check(st)?;
        self.scanning = true;
        Ok(())
    }

    /// `sane_read` into `buf`.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<ReadOutcome, Status> {
        let max = buf.len().min(i32::MAX as usize) as i32;
        let mut len: ffi::SaneWord = 0;
        let g = self.sane.serial();
        // SAFETY: buf is valid for `max` bytes; `len` is a valid out pointer.
        let st = keep_signals(|| unsafe {
            (self.sane.sym.read)(self.handle, buf.as_mut_ptr(), max, &mut len)
        });
        drop(g);
        match Status::check(st) {
            Ok(()) => Ok(ReadOutcome::Data((len.max(0) as usize).min(buf.len()))),
            Err(Status::Eof) => Ok(ReadOutcome::Eof),
            Err(s) => Err(s),
        }
    }

    /// `sane_cancel`: ends the scan (also required after the last page).
    pub fn cancel(&mut self) {
        let _g = self.sane.serial();
        // SAFETY: the handle is open; cancel is valid in any state.
        keep_signals(|| unsafe { (self.sane.sym.cancel)(self.handle) });
        self.scanning = false;
    }

    /// `sane_set_io_mode`; `Err(Unsupported)` when the backend can't.
    pub fn set_io_mode(&mut self, non_blocking: bool) -> Result<(), Status> {
        let _g = self.sane.serial();
        // SAFETY: valid open handle during a scan.
        let st = unsafe { (self.sane.sym.set_io_mode)(self.handle, non_blocking as i32) };
        Status::check(st)
    }

    /// `sane_get_select_fd`; `Err(Unsupported)` when the backend has none.
    pub fn select_fd(&mut self) -> Result<i32, Status> {
        let mut fd: ffi::SaneWord = -1;
        let g = self.sane.serial();
        // SAFETY: valid out pointer; the fd stays owned by the backend.
        let st = unsafe { (self.sane.sym.get_select_fd)(self.handle, &mut fd) };
        drop(g);
        Status::check(st)?;
        if fd < 0 {
            return Err(Status::Unsupported);
        }
        Ok(fd)
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        if self.scanning {
            self.cancel();
        }
        let _g = self.sane.serial();
        // SAFETY: the handle is open and is never used after this.
        unsafe { (self.sane.sym.close)(self.handle) };
        self.sane
            .open_devices
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Waits until `fd` is readable or `timeout_ms` passes. Returns true when
/// readable (or on error, so the caller reads and learns the status).
pub fn wait_readable(fd: i32, timeout_ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd; the fd belongs to the backend and stays open
    // while the scan runs.
    let r = unsafe { libc::poll(&mut p, 1, timeout_ms) };
    r != 0
}

fn bad(name: &str, reason: &str) -> ScanError {
    ScanError::BadOption {
        name: name.to_string(),
        reason: reason.to_string(),
    }
}

fn words_for(d: &OptionDesc, mut v: Vec<i32>) -> Result<Vec<i32>, ScanError> {
    let n = (d.size.max(4) as usize) / 4;
    if v.is_empty() {
        return Err(bad(&d.name, "empty value"));
    }
    if v.len() == 1 && n > 1 {
        // A single value fills the whole array, as scanimage does.
        v = vec![v[0]; n];
    }
    if v.len() != n {
        return Err(bad(&d.name, &format!("needs {n} values, got {}", v.len())));
    }
    Ok(v)
}

pub fn fix(v: f64) -> i32 {
    (v * 65536.0) as i32
}

pub fn unfix(w: i32) -> f64 {
    w as f64 / 65536.0
}

fn copy_descriptor(index: i32, d: &ffi::SaneOptionDescriptor) -> OptionDesc {
    let kind = match d.kind {
        ffi::TYPE_BOOL => ValueKind::Bool,
        ffi::TYPE_INT => ValueKind::Int,
        ffi::TYPE_FIXED => ValueKind::Fixed,
        ffi::TYPE_STRING => ValueKind::String,
        ffi::TYPE_BUTTON => ValueKind::Button,
        _ => ValueKind::Group,
    };
    let constraint = match d.constraint_type {
        // SAFETY: constraint_type says which union member is valid; SANE
        // guarantees the pointed data lives as long as the descriptor.
        ffi::CONSTRAINT_RANGE => unsafe {
            let r = d.constraint.range;
            if r.is_null() {
                Constraint::None
            } else {
                Constraint::Range {
                    min: (*r).min,
                    max: (*r).max,
                    quant: (*r).quant,
                }
            }
        },
        // SAFETY: as above; the first word is the list length.
        ffi::CONSTRAINT_WORD_LIST => unsafe {
            let w = d.constraint.word_list;
            if w.is_null() {
                Constraint::None
            } else {
                let n = (*w).max(0) as usize;
                Constraint::WordList(std::slice::from_raw_parts(w.add(1), n).to_vec())
            }
        },
        // SAFETY: as above; the list is NULL-terminated.
        ffi::CONSTRAINT_STRING_LIST => unsafe {
            let mut v = Vec::new();
            let l = d.constraint.string_list;
            if !l.is_null() {
                let mut i = 0;
                while !(*l.add(i)).is_null() {
                    v.push(cstr(*l.add(i)));
                    i += 1;
                }
            }
            Constraint::StringList(v)
        },
        _ => Constraint::None,
    };
    OptionDesc {
        index,
        name: cstr(d.name),
        title: cstr(d.title),
        desc: cstr(d.desc),
        kind,
        unit: Unit::from_raw(d.unit),
        size: d.size,
        cap: d.cap,
        constraint,
    }
}

/// Runs a SANE call and puts back the process's handlers for SIGTERM,
/// SIGINT and SIGUSR1 if the backend changed them. Backends built on
/// sanei_thread start a reader that resets SIGTERM to its default action; in
/// a threaded libsane that reset is process-wide and would turn the
/// daemon's clean stop into a kill.
fn keep_signals<T>(call: impl FnOnce() -> T) -> T {
    const SIGNALS: [libc::c_int; 3] = [libc::SIGTERM, libc::SIGINT, libc::SIGUSR1];
    // SAFETY: sigaction is plain old data; all-zero is a valid value.
    let mut saved: [libc::sigaction; 3] = unsafe { std::mem::zeroed() };
    for (sig, old) in SIGNALS.iter().zip(saved.iter_mut()) {
        // SAFETY: a null new action only reads the current one into `old`.
        unsafe { libc::sigaction(*sig, std::ptr::null(), old) };
    }
    let result = call();
    for (sig, old) in SIGNALS.iter().zip(saved.iter()) {
        // SAFETY: as above, zeroed POD, then filled by sigaction.
        let mut now: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: reads the current action into `now`.
        unsafe { libc::sigaction(*sig, std::ptr::null(), &mut now) };
        // Only undo a reset to the default action; a handler installed
        // meanwhile by this program stays.
        if now.sa_sigaction == libc::SIG_DFL && old.sa_sigaction != libc::SIG_DFL {
            // SAFETY: re-installs exactly the action read before the call.
            unsafe { libc::sigaction(*sig, old, std::ptr::null_mut()) };
        }
    }
    result
}
