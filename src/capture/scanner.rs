//! The daemon's scanner source: finds SANE scanners, polls their buttons,
//! and runs ADF batches into the scanner's open book (else the station's,
//! else the inbox), reporting every state to the operator page.
//!
//! Everything here runs on plain threads (SANE calls block); pages reach
//! the intake through the daemon's async `Handle` with `block_on`, never
//! the other way round. A missing libsane turns scanning off and nothing
//! else. A page cut short is held in the spool, flagged, never filed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::api::scanners::{ScannerState, ScannerStatus};
use crate::capture::sane::buttons::run_poller;
use crate::capture::sane::identity::{device_lock, find_by_name};
use crate::capture::sane::profile::{Mode, PageSize, Source};
use crate::capture::sane::{
    Batch, BatchConfig, DeviceInfo, Identity, Sane, SanePoller, ScanError, ScanProfile,
};
use crate::daemon::Handle;
use crate::store::{filing, BookRow, STATION};

/// `[scanner]` in the config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScannerConfig {
    /// Use SANE scanners when libsane is installed.
    pub enabled: bool,
    /// A SANE device name or "VENDOR MODEL"; empty means every scanner found.
    pub device: String,
    pub mode: Mode,
    pub resolution: u32,
    pub source: Source,
    /// "a4", "a3", or "" for the scanner's full area.
    pub page: String,
    /// How often scanner buttons are read, milliseconds.
    pub button_poll_ms: u64,
    /// How often to look for scanners plugged in or out, seconds.
    pub rescan_secs: u64,
}

impl Default for ScannerConfig {
    fn default() -> Self {
        ScannerConfig {
            enabled: true,
            device: String::new(),
            mode: Mode::Gray,
            resolution: 300,
            source: Source::Adf,
            page: "a4".into(),
            button_poll_ms: 500,
            rescan_secs: 30,
        }
    }
}

impl ScannerConfig {
    pub fn validate(&self, errors: &mut Vec<String>) {
        if !(50..=1200).contains(&self.resolution) {
            errors.push(format!(
                "scanner.resolution: {} is out of range (50 to 1200 dpi)",
                self.resolution
            ));
        }
        if !matches!(self.page.as_str(), "a4" | "a3" | "") {
            errors.push(format!(
                "scanner.page: \"{}\" is not one of \"a4\", \"a3\" or \"\" (full area)",
                self.page
            ));
        }
        if !(50..=60_000).contains(&self.button_poll_ms) {
            errors.push(format!(
                "scanner.button_poll_ms: {} is out of range (50 to 60000)",
                self.button_poll_ms
            ));
        }
        if !(1..=3600).contains(&self.rescan_secs) {
            errors.push(format!(
                "scanner.rescan_secs: {} is out of range (1 to 3600)",
                self.rescan_secs
            ));
        }
    }

    fn profile(&self) -> ScanProfile {
        let page = match self.page.as_str() {
            "a4" => Some(PageSize::A4),
            "a3" => Some(PageSize::A3),
            _ => None,
        };
        ScanProfile {
            mode: self.mode,
            resolution: self.resolution,
            source: self.source,
            page,
        }
    }
}

/// What the scanner source is asked to do.
#[derive(Debug, Clone)]
pub enum Request {
    /// Start a batch on this device (a SANE name; empty: the first one).
    Scan(String),
    /// Look for scanners again (one was plugged in or out).
    Rescan,
}

/// Starts the scanner source on its own thread, taking requests from
/// `requests`; `wake` is the sending end it uses to wake itself. Scanning
/// off: no thread.
pub fn start(handle: Handle, requests: Receiver<Request>, wake: Sender<Request>) {
    let cfg = handle.intake.config().scanner.clone();
    if !cfg.enabled {
        tracing::info!("scanning is off in the config ([scanner] enabled = false)");
        return;
    }
    let sane = match Sane::get() {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "scanning is off; the watch folder and ingest still work");
            return;
        }
    };
    // SIGUSR1 from the udev rule: look for scanners again.
    {
        let (h, wake) = (handle.clone(), wake.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = h.devices_changed.notified() => { let _ = wake.send(Request::Rescan); }
                    _ = h.stopping() => {
                        // Wake the manager so it sees the stop and lets go
                        // of its handle (the work queue closes after that).
                        let _ = wake.send(Request::Rescan);
                        break;
                    }
                }
            }
        });
    }
    let rt = tokio::runtime::Handle::current();
    let spawned = std::thread::Builder::new()
        .name("scanners".into())
        .spawn(move || manage(handle, rt, sane, cfg, requests));
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the scanner thread; scanning is off");
    }
}

/// A scanner being served: its button poller and the way to stop it.
struct Served {
    info: DeviceInfo,
    stop: Arc<AtomicBool>,
}

fn manage(
    handle: Handle,
    rt: tokio::runtime::Handle,
    sane: &'static Sane,
    cfg: ScannerConfig,
    requests: Receiver<Request>,
) {
    let mut served: HashMap<String, Served> = HashMap::new();
    let mut look = true;
    let mut vanished = false;
    while !handle.is_stopping() {
        if look {
            refresh(&handle, &rt, sane, &cfg, &mut served, &mut vanished);
            look = false;
        }
        match requests.recv_timeout(Duration::from_secs(cfg.rescan_secs)) {
            Ok(Request::Rescan) | Err(RecvTimeoutError::Timeout) => look = !handle.is_stopping(),
            Ok(Request::Scan(name)) => {
                let info = served
                    .values()
                    .map(|s| s.info.clone())
                    .find(|i| name.is_empty() || i.name == name);
                match info {
                    Some(info) => {
                        let (h, rt, cfg) = (handle.clone(), rt.clone(), cfg.clone());
                        let _ = std::thread::Builder::new()
                            .name(format!("batch:{}", info.name))
                            .spawn(move || run_batch(&h, &rt, sane, &info, &cfg));
                    }
                    None => handle.notify(format!("error no scanner named \"{name}\"")),
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    for s in served.values() {
        s.stop.store(true, Ordering::Relaxed);
    }
}

/// Serves new scanners and marks vanished ones.
fn refresh(
    handle: &Handle,
    rt: &tokio::runtime::Handle,
    sane: &'static Sane,
    cfg: &ScannerConfig,
    served: &mut HashMap<String, Served>,
    vanished: &mut bool,
) {
    let devices = match list_devices() {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list scanners");
            return;
        }
    };
    let wanted: Vec<DeviceInfo> = if cfg.device.is_empty() {
        devices
    } else {
        find_by_name(&devices, &cfg.device).into_iter().collect()
    };
    let gone: Vec<String> = served
        .keys()
        .filter(|n| !wanted.iter().any(|d| &d.name == *n))
        .cloned()
        .collect();
    for name in gone {
        if let Some(s) = served.remove(&name) {
            s.stop.store(true, Ordering::Relaxed);
            tracing::warn!(scanner = %name, "scanner disconnected");
            handle.scanners.remove(&name);
            handle.notify(format!("scanner {name} gone"));
            *vanished = true;
        }
    }
    // A scanner vanished earlier: start SANE afresh before serving what is
    // there now, so no backend keeps dead state about it (done as soon as
    // no device is open; until then, tried again at each look).
    if *vanished && wanted.iter().any(|d| !served.contains_key(&d.name)) {
        match sane.restart() {
            Ok(true) => {
                tracing::info!("SANE restarted after a scanner came back");
                *vanished = false;
            }
            Ok(false) => tracing::info!("SANE restart waits until no scanner is in use"),
            Err(e) => tracing::warn!(error = %e, "cannot restart SANE"),
        }
    }
    for info in wanted {
        if served.contains_key(&info.name) {
            continue;
        }
        tracing::info!(scanner = %info.name, vendor = %info.vendor, model = %info.model, "scanner found");
        let mut status = ScannerStatus::ready(&info.name, &info.vendor, &info.model);
        status.book = current_book(handle, &info).map(|b| b.name);
        handle.set_scanner(status);
        let stop = Arc::new(AtomicBool::new(false));
        let (h, rt2, i, c, st) = (
            handle.clone(),
            rt.clone(),
            info.clone(),
            cfg.clone(),
            stop.clone(),
        );
        let _ = std::thread::Builder::new().name(format!("buttons:{}", info.name)).spawn(move || {
            let lock = device_lock(&Identity::of(&i, None).key());
            let mut poller = SanePoller::new(sane, &i.name, lock);
            run_poller(&mut poller, Duration::from_millis(c.button_poll_ms), &st, |press| {
                tracing::info!(scanner = %press.device, button = %press.button, "button pressed");
                run_batch(&h, &rt2, sane, &i, &c);
            });
        });
        served.insert(info.name.clone(), Served { info, stop });
    }
}

/// How long a device listing may take before it is given up.
const LIST_LIMIT: Duration = Duration::from_secs(90);

/// The device list, taken in a child process (`sohoa devices --list
/// --json`, this same binary). Some backends crash the whole process inside
/// `sane_get_devices` once a device has vanished (libsane-net 1.1.1 frees
/// an invalid pointer after its host went away mid-scan); such a crash, or
/// a backend that hangs while probing the network, must not take the
/// daemon down with it.
fn list_devices() -> Result<Vec<DeviceInfo>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find sohoa itself: {e}"))?;
    let mut child = std::process::Command::new(&exe)
        .args(["devices", "--list", "--json"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {} devices: {e}", exe.display()))?;
    // Read the output while waiting, so a long list cannot fill the pipe.
    let (mut so, mut se) = (child.stdout.take(), child.stderr.take());
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let (mut out, mut err) = (Vec::new(), String::new());
        if let Some(s) = so.as_mut() {
            let _ = s.read_to_end(&mut out);
        }
        if let Some(s) = se.as_mut() {
            let _ = s.read_to_string(&mut err);
        }
        (out, err)
    });
    let started = std::time::Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > LIST_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "listing scanners took over {} s (a backend hangs); gave up",
                    LIST_LIMIT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("cannot wait for the device list: {e}")),
        }
    };
    let (stdout, stderr) = reader
        .join()
        .map_err(|_| "the device list reader failed".to_string())?;
    if !status.success() {
        return Err(format!(
            "the device list failed ({status}): {}",
            stderr.trim()
        ));
    }
    serde_json::from_slice(&stdout).map_err(|e| format!("bad device list: {e}"))
}

/// The `current_books` key of one scanner: stable across replugs.
pub fn scanner_key(info: &DeviceInfo) -> String {
    format!("scanner:{}", Identity::of(info, None).key())
}

/// The scanner's own open book, else the station's.
fn current_book(handle: &Handle, info: &DeviceInfo) -> Option<BookRow> {
    let j = handle.intake.journal();
    j.current(&scanner_key(info))
        .ok()
        .flatten()
        .or_else(|| j.current(STATION).ok().flatten())
}

fn set_state(handle: &Handle, name: &str, f: impl FnOnce(&mut ScannerStatus)) {
    handle.scanners.update(name, f);
    handle.notify(format!("scanner {name}"));
}

/// Puts the scanner's DPI in a PNM comment, so it survives the spool.
pub fn with_dpi(pnm: Vec<u8>, dpi: Option<f64>) -> Vec<u8> {
    let Some(dpi) = dpi.filter(|d| *d > 0.0) else {
        return pnm;
    };
    let mut out = Vec::with_capacity(pnm.len() + 16);
    out.extend_from_slice(&pnm[..3.min(pnm.len())]);
    out.extend_from_slice(format!("# dpi={}\n", dpi.round()).as_bytes());
    out.extend_from_slice(&pnm[3.min(pnm.len())..]);
    out
}

/// One ADF batch into the scanner's book (or the inbox).
pub fn run_batch(
    handle: &Handle,
    rt: &tokio::runtime::Handle,
    sane: &'static Sane,
    info: &DeviceInfo,
    cfg: &ScannerConfig,
) {
    let name = info.name.clone();
    let book = current_book(handle, info);
    let book_name = book.as_ref().map(|b| b.name.clone());
    set_state(handle, &name, |s| {
        s.state = ScannerState::Scanning;
        s.page = Some(1);
        s.book = book_name.clone();
        s.message_vi.clear();
        s.message_en.clear();
    });
    let lock = device_lock(&Identity::of(info, None).key());
    let batch_cfg = BatchConfig {
        profile: Some(cfg.profile()),
        ..BatchConfig::default()
    };
    let stamp = chrono::Local::now().format("%Y%m%dT%H%M%S");
    let mut taken = 0u32;
    let result = Batch::start(sane, &name, lock, batch_cfg).and_then(|batch| {
        for item in batch {
            if handle.is_stopping() {
                return Err(ScanError::Cancelled);
            }
            let page = item?;
            let source = format!("{name}#{stamp}-{:04}", page.number);
            let bytes = with_dpi(page.intake_pnm()?, page.dpi);
            set_state(handle, &name, |s| s.page = Some(page.number + 1));
            if !page.is_whole() {
                hold_cut_short(
                    handle,
                    book.as_ref(),
                    &source,
                    &bytes,
                    &format!("{:?}", page.raw.completeness),
                );
                continue; // the error that cut it short follows and ends the batch
            }
            match &book {
                Some(b) => {
                    if let Err(e) =
                        rt.block_on(handle.submit_captured(b.clone(), source.clone(), bytes))
                    {
                        tracing::error!(%source, error = %e, "scanned page not taken");
                        return Err(ScanError::Frame(format!(
                            "the page could not be stored: {e}"
                        )));
                    }
                }
                None => {
                    let inbox = handle.intake.dirs().inbox.clone();
                    let file = format!("{}.pnm", source.replace([':', '/', '#'], "_"));
                    if let Err(e) = filing::file_atomic(&inbox, &file, &bytes) {
                        return Err(ScanError::Frame(format!(
                            "the page could not be kept in the inbox: {e}"
                        )));
                    }
                }
            }
            taken += 1;
        }
        Ok(())
    });
    match result {
        Ok(()) => {
            tracing::info!(scanner = %name, pages = taken, book = ?book_name, "batch done");
            set_state(handle, &name, |s| {
                s.state = ScannerState::Ready;
                s.page = None;
                s.message_vi = format!("đã quét {taken} trang");
                s.message_en = format!("{taken} pages scanned");
            });
        }
        Err(e) => {
            tracing::warn!(scanner = %name, code = e.code(), error = %e, pages = taken, "batch stopped");
            let _ = handle.intake.journal().record(
                "scanner_error",
                book.as_ref().map(|b| b.id),
                None,
                &format!("{name}: {}", e.code()),
            );
            set_state(handle, &name, |s| {
                s.state = ScannerState::Error;
                s.message_vi = e.message_vi();
                s.message_en = e.message_en();
            });
        }
    }
}

fn hold_cut_short(handle: &Handle, book: Option<&BookRow>, source: &str, bytes: &[u8], why: &str) {
    let reason = format!("the scanner cut this page short ({why}); rescan it");
    let kept = match book {
        Some(b) => handle
            .intake
            .hold_cut_short(b, source, bytes, &reason)
            .map(|_| ()),
        None => handle
            .intake
            .quarantine_file(source, bytes, &reason)
            .map(|_| ()),
    };
    match kept {
        Ok(()) => tracing::warn!(%source, "page cut short: kept in the spool, flagged, not filed"),
        Err(e) => tracing::error!(%source, error = %e, "page cut short and could not be kept"),
    }
}
