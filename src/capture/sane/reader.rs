//! Reads one page from a started device: every frame, in non-blocking mode
//! with the select fd when the backend offers them, blocking otherwise,
//! checking the cancel flag between reads.
//!
//! Never calls `sane_start` for the first frame (the batch does, since its
//! status decides whether the feeder is empty), never retries a failed read.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::device::{wait_readable, Device, ReadOutcome};
use super::error::{Op, ScanError, Status};
use super::frame::{FrameParams, PageAssembler, RawPage, Tee};

/// How the reader talks to the device.
#[derive(Debug, Clone, Copy)]
pub struct ReadConfig {
    /// Size of each `sane_read` buffer.
    pub buffer_size: usize,
    /// Ask for non-blocking I/O and the select fd when the backend offers them.
    pub non_blocking: bool,
}

impl Default for ReadConfig {
    fn default() -> Self {
        ReadConfig {
            buffer_size: 1 << 20,
            non_blocking: true,
        }
    }
}

/// A failed page read: the error, and what had arrived (never whole).
#[derive(Debug)]
pub struct ReadFailure {
    pub error: ScanError,
    pub partial: Option<RawPage>,
}

impl From<ScanError> for ReadFailure {
    fn from(error: ScanError) -> Self {
        ReadFailure {
            error,
            partial: None,
        }
    }
}

/// Reads all frames of a page after a successful `sane_start`; with a
/// `tee`, the page's PNM is also written there as it arrives.
pub fn read_page(
    dev: &mut Device,
    cfg: &ReadConfig,
    cancel: &AtomicBool,
    tee: Option<Tee>,
) -> Result<RawPage, ReadFailure> {
    let mut asm = match tee {
        Some(t) => PageAssembler::with_tee(t),
        None => PageAssembler::new(),
    };
    let mut buf = vec![0u8; cfg.buffer_size.max(1)];
    loop {
        let params = dev.parameters().map_err(|e| fail(dev, e, None))?;
        let fp = FrameParams::from_sane(&params).map_err(|e| fail(dev, e, None))?;
        asm.begin_frame(fp).map_err(|e| fail(dev, e, None))?;
        // Non-blocking reads only together with a select fd: without one
        // they only buy busy polling, and some backends (the `test` backend
        // among them) end the frame when a non-blocking read finds no data.
        // The fd alone also lets a blocking read wait with a timeout, so
        // cancel stays prompt.
        let fd = if cfg.non_blocking {
            dev.select_fd().ok()
        } else {
            None
        };
        let non_blocking = fd.is_some() && dev.set_io_mode(true).is_ok();
        loop {
            if cancel.load(Ordering::Relaxed) {
                dev.cancel();
                return Err(ReadFailure {
                    error: ScanError::Cancelled,
                    partial: asm.finish().ok(),
                });
            }
            if let Some(fd) = fd {
                if !wait_readable(fd, 100) {
                    continue;
                }
            }
            match dev.read(&mut buf) {
                Ok(ReadOutcome::Data(0)) => {
                    if non_blocking && fd.is_none() {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                }
                Ok(ReadOutcome::Data(n)) => asm.push(&buf[..n]),
                Ok(ReadOutcome::Eof) => {
                    asm.end_frame();
                    break;
                }
                Err(status) => {
                    dev.cancel();
                    let partial = asm.finish().ok();
                    return Err(ReadFailure {
                        error: ScanError::sane(Op::Read, status),
                        partial,
                    });
                }
            }
        }
        if !asm.needs_more_frames() {
            break;
        }
        if let Err(status) = dev.start() {
            dev.cancel();
            let partial = asm.finish().ok();
            return Err(ReadFailure {
                error: ScanError::sane(Op::Start, status),
                partial,
            });
        }
    }
    let page = asm.finish().map_err(|e| fail(dev, e, None))?;
    Ok(page)
}

fn fail(dev: &mut Device, error: ScanError, partial: Option<RawPage>) -> ReadFailure {
    dev.cancel();
    ReadFailure { error, partial }
}

/// Whether a status from `sane_start` is worth retrying after a pause.
pub fn is_transient(s: Status) -> bool {
    matches!(s, Status::DeviceBusy | Status::Other(12))
}
