//! One batch of pages from one scanner, run on its own device thread: open,
//! apply settings, then start/read pages until the feeder is empty
//! (`NO_DOCS`, the normal end), the operator cancels, or an error comes.
//!
//! The caller iterates `Batch` and gets `Ok(Page)` for each page, in order.
//! A page cut short is still handed over (so the operator can see it) but
//! flagged: `page.is_whole()` is false, and an `Err` with the cause always
//! follows it. After an `Err` the batch is over. `DEVICE_BUSY` at start is
//! retried with backoff. This module never files or decodes pages.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::device::{Device, Sane};
use super::error::{Op, ScanError, Status};
use super::frame::{Completeness, RawPage, Tee};
use super::identity::DeviceLock;
use super::options::parse_value;
use super::options::{OptionValue, Setting};
use super::profile::{
    classify_source, is_feeder, settings as profile_settings, ScanProfile, Source,
};
use super::reader::{is_transient, read_page, ReadConfig};

/// Whether to keep feeding after the first page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Feed {
    /// Decided from the source option: ADF/duplex feed, flatbed one page.
    #[default]
    Auto,
    Single,
    Feeder,
}

#[derive(Debug, Clone)]
pub struct BatchConfig {
    /// A profile mapped onto the backend's options, applied first.
    pub profile: Option<ScanProfile>,
    /// Option settings, applied in order after opening (and the profile).
    pub settings: Vec<(String, Setting)>,
    pub read: ReadConfig,
    pub feed: Feed,
    /// Retries of `sane_start` on DEVICE_BUSY, with doubling pauses.
    pub busy_retries: u32,
    pub busy_first_pause: Duration,
    /// Where each page's PNM is also written while it is read (by page
    /// number), so a caller that only stores pages need not wait for the
    /// whole page before writing it.
    pub sink: Option<PageSink>,
}

/// Opens the writer for page N of a batch (see `BatchConfig::sink`).
#[derive(Clone)]
pub struct PageSink(pub Arc<dyn Fn(u32) -> std::io::Result<Tee> + Send + Sync>);

impl std::fmt::Debug for PageSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageSink")
    }
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            profile: None,
            settings: Vec::new(),
            read: ReadConfig::default(),
            feed: Feed::Auto,
            busy_retries: 5,
            busy_first_pause: Duration::from_millis(250),
            sink: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Front,
    Back,
}

/// One captured page, as the scanner sent it.
#[derive(Debug, Clone)]
pub struct Page {
    /// 1-based order in the batch.
    pub number: u32,
    pub raw: RawPage,
    /// From the resolution option, when the backend has one.
    pub dpi: Option<f64>,
    /// In duplex batches, which side of the sheet.
    pub side: Option<Side>,
}

impl Page {
    pub fn is_whole(&self) -> bool {
        self.raw.is_whole()
    }
    /// PNM bytes, identical to what `scanimage --format=pnm` writes.
    pub fn pnm(&self) -> Vec<u8> {
        self.raw.pnm()
    }
    pub fn to_image(&self) -> Result<image::DynamicImage, ScanError> {
        self.raw.to_image()
    }
    /// A well-formed PNM for the intake: the scanimage bytes when lines
    /// carry no padding, else the pixels re-encoded without it.
    pub fn intake_pnm(&self) -> Result<Vec<u8>, ScanError> {
        if !self.raw.has_padding() {
            return Ok(self.raw.pnm());
        }
        let img = self.raw.to_image()?;
        let mut out = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Pnm)
            .map_err(|e| ScanError::Frame(e.to_string()))?;
        Ok(out)
    }
}

/// Cancels a running batch from any thread.
#[derive(Debug, Clone)]
pub struct Canceller(Arc<AtomicBool>);

impl Canceller {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A running batch. Iterate it for pages; dropping it cancels the scan.
pub struct Batch {
    rx: Receiver<Result<Page, ScanError>>,
    cancel: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// Closed when the device thread ends.
    ended: Receiver<()>,
    done: bool,
}

/// How long dropping a batch waits for its device thread. libsane's own
/// reader threads can deadlock inside `sane_cancel` (sanei_thread cancels
/// them asynchronously, which can leave malloc's lock taken; seen with the
/// `test` backend about once in a hundred cancels); the caller must not
/// hang with them.
const END_WAIT: Duration = Duration::from_secs(10);

impl Batch {
    /// Starts a batch on `device` (a SANE name) on a new device thread. The
    /// thread holds `lock` for the whole batch, so button polls skip it.
    pub fn start(
        sane: &'static Sane,
        device: &str,
        lock: DeviceLock,
        cfg: BatchConfig,
    ) -> Result<Batch, ScanError> {
        let cancel = Arc::new(AtomicBool::new(false));
        // Bound of 2: a slow consumer holds the scanner back instead of
        // piling pages up in memory.
        let (tx, rx) = sync_channel(2);
        let c = cancel.clone();
        let name = device.to_string();
        let (ended_tx, ended) = sync_channel::<()>(0);
        let thread = std::thread::Builder::new()
            .name(format!("sane:{name}"))
            .spawn(move || {
                let _ended = ended_tx;
                let _guard = lock.lock().unwrap_or_else(|p| p.into_inner());
                run(sane, &name, &cfg, &c, &tx);
            })
            .map_err(|e| ScanError::Frame(format!("cannot start device thread: {e}")))?;
        Ok(Batch {
            rx,
            cancel,
            thread: Some(thread),
            ended,
            done: false,
        })
    }

    pub fn canceller(&self) -> Canceller {
        Canceller(self.cancel.clone())
    }
}

impl Iterator for Batch {
    type Item = Result<Page, ScanError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.rx.recv() {
            Ok(item) => {
                if item.is_err() {
                    self.done = true;
                }
                Some(item)
            }
            Err(_) => {
                self.done = true;
                None
            }
        }
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
        // Drain so the thread is never stuck on a full channel.
        while self.rx.try_recv().is_ok() {}
        if let Some(t) = self.thread.take() {
            drop(std::mem::replace(&mut self.rx, sync_channel(0).1));
            match self.ended.recv_timeout(END_WAIT) {
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    // Left behind (detached) with the device it holds.
                    tracing::error!(
                        thread = t.thread().name().unwrap_or(""),
                        "the scanner driver did not finish within {} s; left behind",
                        END_WAIT.as_secs()
                    );
                }
                _ => {
                    let _ = t.join();
                }
            }
        }
    }
}

fn run(
    sane: &'static Sane,
    name: &str,
    cfg: &BatchConfig,
    cancel: &AtomicBool,
    tx: &SyncSender<Result<Page, ScanError>>,
) {
    let mut dev = match sane.open(name) {
        Ok(d) => d,
        Err(e) => {
            let _ = tx.send(Err(e));
            return;
        }
    };
    let from_profile = match &cfg.profile {
        Some(p) => profile_settings(p, dev.options()),
        None => Ok(Vec::new()),
    };
    if let Err(e) = from_profile
        .and_then(|s| apply(&mut dev, &s))
        .and_then(|()| apply(&mut dev, &cfg.settings))
    {
        let _ = tx.send(Err(e));
        return;
    }
    let source = source_value(&dev);
    let feeder = match cfg.feed {
        Feed::Auto => source.as_deref().is_some_and(is_feeder),
        Feed::Single => false,
        Feed::Feeder => true,
    };
    let duplex = source.as_deref().map(classify_source) == Some(Source::Duplex);
    let dpi = resolution(&dev);
    let mut number = 0u32;
    loop {
        if cancel.load(Ordering::Relaxed) {
            let _ = tx.send(Err(ScanError::Cancelled));
            break;
        }
        match start(&mut dev, cfg, cancel) {
            Ok(()) => {}
            Err(Status::NoDocs) if number > 0 => break, // normal end of the stack
            Err(s) => {
                let _ = tx.send(Err(ScanError::sane(Op::Start, s)));
                break;
            }
        }
        number += 1;
        let side = duplex.then(|| {
            if number % 2 == 1 {
                Side::Front
            } else {
                Side::Back
            }
        });
        let page = |raw| Page {
            number,
            raw,
            dpi,
            side,
        };
        let tee = match cfg.sink.as_ref().map(|s| (s.0)(number)).transpose() {
            Ok(t) => t,
            Err(e) => {
                let _ = tx.send(Err(ScanError::Output(e.to_string())));
                break;
            }
        };
        match read_page(&mut dev, &cfg.read, cancel, tee) {
            Ok(raw) => {
                let cut = match raw.completeness {
                    Completeness::CutShort { got, expected } => {
                        Some(ScanError::CutShort { got, expected })
                    }
                    Completeness::Whole => None,
                };
                if tx.send(Ok(page(raw))).is_err() {
                    break;
                }
                if let Some(e) = cut {
                    let _ = tx.send(Err(e));
                    break;
                }
            }
            Err(f) => {
                if let Some(raw) = f.partial.filter(|r| r.received() > 0) {
                    let mut raw = raw;
                    if raw.is_whole() {
                        // Cancelled after the last byte: still not handed over as whole.
                        let n = raw.received();
                        raw.completeness = Completeness::CutShort {
                            got: n,
                            expected: n + 1,
                        };
                    }
                    let _ = tx.send(Ok(page(raw)));
                }
                let _ = tx.send(Err(f.error));
                break;
            }
        }
        if !feeder {
            break;
        }
    }
    dev.cancel();
}

/// `sane_start`, retrying DEVICE_BUSY (and WARMING_UP) with doubling pauses.
fn start(dev: &mut Device, cfg: &BatchConfig, cancel: &AtomicBool) -> Result<(), Status> {
    let mut pause = cfg.busy_first_pause;
    let mut tries = 0;
    loop {
        match dev.start() {
            Err(s) if is_transient(s) && tries < cfg.busy_retries => {
                tries += 1;
                tracing::info!(device = dev.name(), ?s, tries, "scanner busy, retrying");
                let end = std::time::Instant::now() + pause;
                while std::time::Instant::now() < end {
                    if cancel.load(Ordering::Relaxed) {
                        return Err(Status::Cancelled);
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            other => return other,
        }
    }
}

/// Applies settings in order (each may reload the option list).
pub fn apply(dev: &mut Device, settings: &[(String, Setting)]) -> Result<(), ScanError> {
    for (name, s) in settings {
        match s {
            Setting::Auto => dev.set_auto(name)?,
            Setting::Value(v) => dev.set(name, v)?,
            Setting::Text(t) => {
                let d = dev.option(name).ok_or_else(|| ScanError::BadOption {
                    name: name.clone(),
                    reason: "no such option".into(),
                })?;
                match parse_value(d, t.as_deref())? {
                    Setting::Auto => dev.set_auto(name)?,
                    Setting::Value(v) => dev.set(name, &v)?,
                    Setting::Text(_) => continue,
                }
            }
        };
    }
    Ok(())
}

fn source_value(dev: &Device) -> Option<String> {
    ["source", "scan-source", "doc-source"]
        .iter()
        .find_map(|n| match dev.get(n) {
            Ok(OptionValue::Str(s)) => Some(s),
            _ => None,
        })
}

fn resolution(dev: &Device) -> Option<f64> {
    ["resolution", "y-resolution", "x-resolution"]
        .iter()
        .find_map(|n| match dev.get(n) {
            Ok(OptionValue::Fixed(v)) => v.first().copied(),
            Ok(OptionValue::Int(v)) => v.first().map(|&i| i as f64),
            _ => None,
        })
}
