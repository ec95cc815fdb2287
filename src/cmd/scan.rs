//! `sohoa devices`, `sohoa capture` and `sohoa scan`: argument handling and
//! output for the scanner commands. The work lives in `capture::sane`.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use anyhow::Context;
use serde_json::json;

use sohoa::capture::sane::adf::{Batch, BatchConfig, Canceller, PageSink};
use sohoa::capture::sane::buttons::sensors;
use sohoa::capture::sane::frame::Tee;
use sohoa::capture::sane::identity::{device_lock, find_by_name, DeviceLock, Identity};
use sohoa::capture::sane::options::{split_assignment, Setting};
use sohoa::capture::sane::signals::{take_stop_signals, StopSignal};
use sohoa::capture::sane::{DeviceInfo, Sane, ScanError, ScanProfile};
use sohoa::intake::{Intake, PageOutcome, Submitted};

/// Exit code of a scan that ended with a scanner error.
const EXIT_SCAN_ERROR: u8 = 3;
/// Exit code when scanning is off (no libsane).
const EXIT_NO_SANE: u8 = 4;
/// Exit code of a cancelled scan (as for SIGINT).
const EXIT_CANCELLED: u8 = 130;

fn sane_or_exit() -> Result<&'static Sane, ExitCode> {
    Sane::get().map_err(|e| {
        eprintln!("sohoa: {e}");
        ExitCode::from(EXIT_NO_SANE)
    })
}

fn report(e: &ScanError) -> ExitCode {
    eprintln!(
        "sohoa: scan error [{}]: {} / {}",
        e.code(),
        e.message_vi(),
        e.message_en()
    );
    if matches!(e, ScanError::Cancelled) {
        ExitCode::from(EXIT_CANCELLED)
    } else {
        ExitCode::from(EXIT_SCAN_ERROR)
    }
}

/// Takes SIGINT and SIGTERM for a batch run from the command line, the
/// daemon's way (`capture::sane::signals`: backends reset signal handlers).
/// Call first, before any thread starts. Until the batch's canceller is put
/// in the slot a signal ends the program (nothing is captured yet); then it
/// cancels the batch, so the pages already read are kept.
fn cancel_on_signal() -> Arc<OnceLock<Canceller>> {
    let slot: Arc<OnceLock<Canceller>> = Arc::default();
    let batch = slot.clone();
    let taken = take_stop_signals(move |sig| {
        if sig == StopSignal::DevicesChanged {
            return;
        }
        match batch.get() {
            Some(c) => c.cancel(),
            None => std::process::exit(EXIT_CANCELLED.into()),
        }
    });
    if let Err(e) = taken {
        eprintln!("sohoa: Ctrl-C will not cancel the scan cleanly: {e}");
    }
    slot
}

/// The device to use: a SANE name or "VENDOR MODEL", else the first one.
fn pick_device(sane: &Sane, wanted: Option<&str>) -> Result<(String, DeviceLock), ScanError> {
    if let Some(w) = wanted.filter(|w| w.contains(':')) {
        // A SANE device name ("backend:..."): opened as is, as scanimage -d
        // does, without asking every backend for its device list first.
        return Ok((w.to_string(), device_lock(w)));
    }
    let devices = sane.devices()?;
    let info: Option<DeviceInfo> = match wanted {
        Some(w) => find_by_name(&devices, w),
        None => devices.first().cloned(),
    };
    match (info, wanted) {
        (Some(d), _) => {
            let lock = device_lock(&Identity::of(&d, None).key());
            Ok((d.name, lock))
        }
        // A name the list does not show may still open (e.g. "test" or a
        // network device given as net:HOST:NAME).
        (None, Some(w)) => Ok((w.to_string(), device_lock(w))),
        (None, None) => Err(ScanError::NoDevice("(any)".into())),
    }
}

/// The `.part` file page N is streamed into while it is read; renamed to
/// its name once whole (as scanimage --batch does), so a page file is never
/// seen half-written. No fsync: this is the reference path, measured
/// against scanimage; durability is the intake's spool.
fn part_path(out: &Path, number: u32) -> std::path::PathBuf {
    out.join(format!("page-{number:04}.pnm.part"))
}

pub fn capture(device: &str, out: &Path, opts: &[String]) -> anyhow::Result<ExitCode> {
    let cancel = cancel_on_signal();
    let settings: Vec<(String, Setting)> = opts
        .iter()
        .map(|o| {
            let (n, v) = split_assignment(o);
            (n.to_string(), Setting::Text(v.map(str::to_string)))
        })
        .collect();
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let sane = match sane_or_exit() {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let (name, lock) = match pick_device(sane, Some(device)) {
        Ok(x) => x,
        Err(e) => return Ok(report(&e)),
    };
    let dir = out.to_path_buf();
    let sink = PageSink(Arc::new(move |n| {
        let f = std::fs::File::create(part_path(&dir, n))?;
        Ok(Box::new(std::io::BufWriter::with_capacity(1 << 18, f)) as Tee)
    }));
    let cfg = BatchConfig {
        settings,
        sink: Some(sink),
        ..BatchConfig::default()
    };
    let batch = match Batch::start(sane, &name, lock, cfg) {
        Ok(b) => b,
        Err(e) => return Ok(report(&e)),
    };
    let _ = cancel.set(batch.canceller());
    let mut saved = 0u32;
    let mut last = 0u32;
    for item in batch {
        if let Ok(page) = &item {
            last = page.number;
        }
        match item {
            Ok(page) if page.is_whole() => {
                let path = out.join(format!("page-{:04}.pnm", page.number));
                std::fs::rename(part_path(out, page.number), &path)
                    .with_context(|| format!("cannot rename to {}", path.display()))?;
                saved += 1;
            }
            Ok(page) => {
                let _ = std::fs::remove_file(part_path(out, page.number));
                eprintln!(
                    "sohoa: page {} cut short ({:?}): not saved",
                    page.number, page.raw.completeness
                );
            }
            Err(e) => {
                // A read that failed before handing the page over.
                let _ = std::fs::remove_file(part_path(out, last + 1));
                eprintln!("sohoa: {saved} page(s) saved in {}", out.display());
                return Ok(report(&e));
            }
        }
    }
    eprintln!("sohoa: {saved} page(s) saved in {}", out.display());
    Ok(ExitCode::SUCCESS)
}

pub fn scan(
    device: Option<&str>,
    book: &str,
    locality: Option<&str>,
    config: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let cancel = cancel_on_signal();
    let (cfg, book_id) = super::config_and_book(config, book, locality, "--book")?;
    let sane = match sane_or_exit() {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let (name, lock) = match pick_device(sane, device) {
        Ok(x) => x,
        Err(e) => return Ok(report(&e)),
    };
    let intake = Intake::open(cfg)?;
    intake.recover()?;
    let book = intake.book(&book_id)?;
    let batch_cfg = BatchConfig {
        profile: Some(ScanProfile::default()),
        ..BatchConfig::default()
    };
    let batch = match Batch::start(sane, &name, lock, batch_cfg) {
        Ok(b) => b,
        Err(e) => return Ok(report(&e)),
    };
    let _ = cancel.set(batch.canceller());
    let stamp = chrono::Local::now().format("%Y%m%dT%H%M%S");
    let mut filed = 0u32;
    for item in batch {
        let page = match item {
            Ok(p) => p,
            Err(e) => {
                println!("{filed} page(s) filed into {}", book.name);
                return Ok(report(&e));
            }
        };
        let bytes = match page.intake_pnm() {
            Ok(b) => sohoa::capture::scanner::with_dpi(b, page.dpi),
            Err(e) => return Ok(report(&e)),
        };
        let source = format!("{name}#{stamp}-{:04}", page.number);
        if !page.is_whole() {
            let reason = format!(
                "the scanner cut this page short ({:?}); rescan it",
                page.raw.completeness
            );
            intake.hold_cut_short(&book, &source, &bytes, &reason)?;
            eprintln!(
                "sohoa: page {} cut short: kept in the spool, flagged, not filed; rescan it",
                page.number
            );
            continue; // the error that cut it short follows and ends the batch
        }
        let (submitted, frames) = intake.submit_captured(&book, &source, &bytes)?;
        let Submitted::Spooled(pages) = submitted else {
            eprintln!("sohoa: page {}: {submitted:?}", page.number);
            continue;
        };
        for ((id, _), mut frame) in pages.into_iter().zip(frames) {
            if frame.dpi.is_none() {
                frame.dpi = page.dpi.map(|d| d as f32);
            }
            match intake.process(id, Some(frame))? {
                PageOutcome::Filed { seq, path, .. } => {
                    filed += 1;
                    println!("page {seq}: {path}");
                }
                PageOutcome::Quarantined { reason, .. } => {
                    eprintln!("sohoa: page {} quarantined: {reason}", page.number)
                }
            }
        }
    }
    println!("{filed} page(s) filed into {}", book.name);
    Ok(ExitCode::SUCCESS)
}

pub fn devices(as_json: bool, list_only: bool) -> anyhow::Result<ExitCode> {
    let sane = match sane_or_exit() {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let list = match sane.devices() {
        Ok(l) => l,
        Err(e) => return Ok(report(&e)),
    };
    if list_only {
        use std::fmt::Write as _;
        let mut text = String::new();
        if as_json {
            text = serde_json::to_string(&list)?;
            text.push('\n');
        }
        for d in list.iter().filter(|_| !as_json) {
            let _ = writeln!(text, "{}  {} {} ({})", d.name, d.vendor, d.model, d.kind);
        }
        return emit(&text);
    }
    let mut all = Vec::new();
    for d in &list {
        let lock = device_lock(&Identity::of(d, None).key());
        let entry = match lock.try_lock() {
            Err(_) => json!({"device": d, "error": "busy scanning"}),
            Ok(_g) => match sane.open(&d.name) {
                Err(e) => json!({"device": d, "error": e.to_string()}),
                Ok(dev) => {
                    let options: Vec<_> = dev
                        .options()
                        .iter()
                        .map(|o| {
                            let value = dev.get(&o.name).ok();
                            json!({
                                "name": o.name, "title": o.title, "type": o.kind,
                                "unit": o.unit, "cap": o.cap_names(), "size": o.size,
                                "constraint": o.constraint, "value": value,
                            })
                        })
                        .collect();
                    let buttons: Vec<&str> = sensors(dev.options())
                        .iter()
                        .map(|o| o.name.as_str())
                        .collect();
                    json!({"device": d, "options": options, "buttons": buttons})
                }
            },
        };
        all.push(entry);
    }
    use std::fmt::Write as _;
    let mut text = String::new();
    if as_json {
        text = serde_json::to_string_pretty(&all)?;
        text.push('\n');
        return emit(&text);
    }
    if all.is_empty() {
        let _ = writeln!(text, "no scanners found (SANE {})", sane.version_string());
    }
    for e in &all {
        let d = &e["device"];
        let _ = writeln!(
            text,
            "{}  {} {} ({})",
            d["name"].as_str().unwrap_or(""),
            d["vendor"].as_str().unwrap_or(""),
            d["model"].as_str().unwrap_or(""),
            d["kind"].as_str().unwrap_or("")
        );
        if let Some(err) = e["error"].as_str() {
            let _ = writeln!(text, "    error: {err}");
        }
        for o in e["options"].as_array().into_iter().flatten() {
            let name = o["name"].as_str().unwrap_or("");
            if name.is_empty() || o["type"] == "group" {
                continue;
            }
            let v = match &o["value"] {
                serde_json::Value::Null => String::from("-"),
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(a) => a
                    .iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
                v => v.to_string(),
            };
            let _ = writeln!(text, "    --{name} = {v}");
        }
        let b: Vec<&str> = e["buttons"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
            .collect();
        let _ = writeln!(
            text,
            "    buttons: {}",
            if b.is_empty() {
                "-".into()
            } else {
                b.join(", ")
            }
        );
    }
    emit(&text)
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn emit(text: &str) -> anyhow::Result<ExitCode> {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}
