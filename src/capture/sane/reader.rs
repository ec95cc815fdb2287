//! Reads one page from a started device: every frame, in non-blocking mode
//! with the select fd when the backend offers them, blocking otherwise,
//! checking the cancel flag between reads.
//!
//! Never calls `sane_start` for the first frame (the batch does, since its
//! status decides whether the feeder is empty), never retries a failed read,
//! and never calls `sane_cancel`: the batch does, after it has handed the
//! error on (a backend may hang inside cancel; the operator must hear of
//! the jam first).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

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
    /// A page that gets no byte for this long is given up (`Stalled`).
    pub stall_limit: Duration,
}

/// Reads in a row that the select fd called readable but that brought
/// nothing: the stream behind it is dead (a network scanner whose host went
/// away leaves its socket readable at EOF while the backend keeps
/// answering "no data yet").
const DEAD_STREAM_READS: u32 = 200;

impl Default for ReadConfig {
    fn default() -> Self {
        ReadConfig {
            buffer_size: 1 << 20,
            non_blocking: true,
            stall_limit: Duration::from_secs(60),
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
        let params = dev.parameters()?;
        let fp = FrameParams::from_sane(&params)?;
        asm.begin_frame(fp)?;
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
        let mut last_data = Instant::now();
        let mut empty_when_ready = 0u32;
        loop {
            let dead = empty_when_ready >= DEAD_STREAM_READS;
            if dead || last_data.elapsed() > cfg.stall_limit {
                let error = if dead {
                    ScanError::DeviceGone(dev.name().to_string())
                } else {
                    ScanError::Stalled(cfg.stall_limit.as_secs())
                };
                return Err(ReadFailure {
                    error,
                    partial: asm.finish().ok(),
                });
            }
            if cancel.load(Ordering::Relaxed) {
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
                    if fd.is_some() {
                        empty_when_ready += 1;
                    }
                    if non_blocking {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                }
                Ok(ReadOutcome::Data(n)) => {
                    asm.push(&buf[..n]);
                    last_data = Instant::now();
                    empty_when_ready = 0;
                }
                Ok(ReadOutcome::Eof) => {
                    asm.end_frame();
                    break;
                }
                Err(status) => {
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
            let partial = asm.finish().ok();
            return Err(ReadFailure {
                error: ScanError::sane(Op::Start, status),
                partial,
            });
        }
    }
    Ok(asm.finish()?)
}

/// Whether a status from `sane_start` is worth retrying after a pause.
pub fn is_transient(s: Status) -> bool {
    matches!(s, Status::DeviceBusy | Status::Other(12))
}
