//! The service: wires the intake, the processing workers, the page sources
//! (scanners, watch folder) and the local HTTP API together, and stops them
//! cleanly on SIGINT or SIGTERM.
//!
//! The async runtime only moves work around; every journal call, file write
//! and pixel operation runs on a blocking thread. The work queue is bounded,
//! so a fast source waits instead of filling memory.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::{mpsc, watch, Mutex};
use tokio::task::JoinSet;

pub use crate::api::scanners::{ScannerState, ScannerStatus, Scanners};
use crate::capture::sane::signals::StopSignal;
use crate::codec::Frame;
use crate::config::Config;
use crate::edit::Placement;
use crate::intake::{Intake, PageOutcome, Submitted};
use crate::store::journal::BookRow;

/// One page for the workers: its journal id and, when already decoded, its image.
pub type Work = (i64, Option<Frame>);

/// What sources and the API hold to reach the daemon.
#[derive(Clone)]
pub struct Handle {
    pub intake: Arc<Intake>,
    work: mpsc::Sender<Work>,
    shutdown: watch::Receiver<bool>,
    pub events: tokio::sync::broadcast::Sender<String>,
    /// Woken on SIGUSR1 (sent by the udev rule when a scanner comes or
    /// goes): scanner sources look for devices again.
    pub devices_changed: Arc<tokio::sync::Notify>,
    /// Scanners and their state, kept up to date by the scanner wiring.
    pub scanners: Scanners,
    /// Requests to the scanner source (scan now, look for devices).
    scan_requests: std::sync::mpsc::Sender<crate::capture::scanner::Request>,
    /// The receiving end, taken once by the scanner source.
    scan_inbox:
        Arc<std::sync::Mutex<Option<std::sync::mpsc::Receiver<crate::capture::scanner::Request>>>>,
}

impl Handle {
    /// A handle over `intake` with a work queue of `queue` pages. Returns the
    /// queue's receiving end (for the workers) and the stop switch.
    pub fn new(
        intake: Arc<Intake>,
        queue: usize,
    ) -> (Handle, mpsc::Receiver<Work>, watch::Sender<bool>) {
        let (work, rx) = mpsc::channel::<Work>(queue.max(1));
        let (stop, shutdown) = watch::channel(false);
        let (events, _) = tokio::sync::broadcast::channel(256);
        let (scan_requests, scan_rx) = std::sync::mpsc::channel();
        let handle = Handle {
            intake,
            work,
            shutdown,
            events,
            devices_changed: Arc::new(tokio::sync::Notify::new()),
            scanners: Scanners::default(),
            scan_requests,
            scan_inbox: Arc::new(std::sync::Mutex::new(Some(scan_rx))),
        };
        (handle, rx, stop)
    }

    /// Asks the scanner source to start a batch on `device` (a SANE name;
    /// empty: the first scanner). False when scanning is off.
    pub fn request_scan(&self, device: &str) -> bool {
        self.scan_requests
            .send(crate::capture::scanner::Request::Scan(device.to_string()))
            .is_ok()
    }

    /// Queues a spooled page for the workers.
    pub async fn enqueue(&self, id: i64, frame: Option<Frame>) -> anyhow::Result<()> {
        self.work
            .send((id, frame))
            .await
            .map_err(|_| anyhow::anyhow!("the daemon is stopping"))
    }

    /// Puts one page at `placement` in a book (replace or insert) and
    /// queues it. Returns the new page's id and number.
    pub async fn place(
        &self,
        book: i64,
        placement: Placement,
        source: String,
        bytes: Vec<u8>,
    ) -> Result<(i64, u32), crate::edit::Error> {
        let intake = self.intake.clone();
        let (id, seq, frame) = tokio::task::spawn_blocking(move || {
            crate::edit::place_page(&intake, book, placement, &source, &bytes)
        })
        .await
        .map_err(|e| crate::edit::Error::Other(e.to_string()))??;
        self.notify(format!("placed {book} {seq}"));
        self.enqueue(id, Some(frame))
            .await
            .map_err(|e| crate::edit::Error::Other(e.to_string()))?;
        Ok((id, seq))
    }

    /// Updates (or adds) a scanner's state and tells the operator page.
    pub fn set_scanner(&self, status: ScannerStatus) {
        let name = status.name.clone();
        self.scanners.set(status);
        self.notify(format!("scanner {name}"));
    }

    /// Spools a source file into a book and queues its pages. Waits when
    /// the workers are behind (backpressure).
    pub async fn submit(
        &self,
        book: BookRow,
        source: String,
        bytes: Vec<u8>,
    ) -> anyhow::Result<Submitted> {
        self.submit_checked(book, source, bytes, true).await
    }

    /// `submit` for a page a scanner just captured (no duplicate check).
    pub async fn submit_captured(
        &self,
        book: BookRow,
        source: String,
        bytes: Vec<u8>,
    ) -> anyhow::Result<Submitted> {
        self.submit_checked(book, source, bytes, false).await
    }

    async fn submit_checked(
        &self,
        book: BookRow,
        source: String,
        bytes: Vec<u8>,
        dedupe: bool,
    ) -> anyhow::Result<Submitted> {
        // A page marked for rescan takes the next single page scanned in.
        let rescan = {
            let intake = self.intake.clone();
            let id = book.id;
            tokio::task::spawn_blocking(move || intake.journal().next_rescan(id)).await??
        };
        if let Some(seq) = rescan {
            match self
                .place(
                    book.id,
                    Placement::Replace(seq),
                    source.clone(),
                    bytes.clone(),
                )
                .await
            {
                Ok((id, seq)) => return Ok(Submitted::Spooled(vec![(id, seq)])),
                // Unreadable or several pages: the usual path quarantines or appends.
                Err(crate::edit::Error::Unreadable(_) | crate::edit::Error::Pages(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let intake = self.intake.clone();
        let (submitted, frames) = tokio::task::spawn_blocking(move || {
            intake.submit_checked(&book, &source, &bytes, dedupe)
        })
        .await??;
        if let Submitted::Spooled(pages) = &submitted {
            // Large frames (phone photos) are not held in the queue: the
            // worker decodes them again, so memory stays bounded.
            let frames = frames.into_iter().map(|f| {
                (f.image.width() as u64 * f.image.height() as u64 <= 30_000_000).then_some(f)
            });
            for (&(id, _), frame) in pages
                .iter()
                .zip(frames.chain(std::iter::repeat_with(|| None)))
            {
                self.work
                    .send((id, frame))
                    .await
                    .map_err(|_| anyhow::anyhow!("the daemon is stopping"))?;
            }
        }
        Ok(submitted)
    }

    /// Resolves when the daemon is asked to stop.
    pub async fn stopping(&self) {
        let mut rx = self.shutdown.clone();
        let _ = rx.wait_for(|stop| *stop).await;
    }

    pub fn is_stopping(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Tells live listeners (the operator page) that something happened.
    pub fn notify(&self, event: impl Into<String>) {
        let _ = self.events.send(event.into());
    }
}

/// Runs the daemon until SIGINT or SIGTERM.
///
/// `signals` carries SIGTERM, SIGINT and SIGUSR1, taken by
/// `capture::sane::signals`, which the caller sets up before any thread
/// starts (libsane backends reset signal handlers, so none is installed).
pub async fn run(cfg: Config, mut signals: UnboundedReceiver<StopSignal>) -> anyhow::Result<()> {
    let threads = cfg.workers.threads();
    let listen = cfg.server.listen.clone();
    let intake = tokio::task::spawn_blocking(move || Intake::open(cfg)).await??;
    let dirs = intake.dirs().clone();
    tracing::info!(
        archive = %dirs.archive.display(),
        watch = %dirs.watch.display(),
        state = %dirs.state.display(),
        threads,
        "sohoa starting"
    );

    let (handle, work_rx, stop_tx) = Handle::new(intake.clone(), threads * 2);

    let mut workers = JoinSet::new();
    let work_rx = Arc::new(Mutex::new(work_rx));
    for _ in 0..threads {
        // Workers hold no `Handle`: the queue closes when the last sender goes.
        // A page that fails for a passing reason (disk full, journal busy) is
        // queued again later through a weak sender.
        let retry = handle.work.downgrade();
        let (rx, intake, events) = (work_rx.clone(), intake.clone(), handle.events.clone());
        let notify = move |e: String| {
            let _ = events.send(e);
        };
        workers.spawn(async move {
            loop {
                let next = rx.lock().await.recv().await;
                let Some((id, frame)) = next else { break };
                let intake = intake.clone();
                match tokio::task::spawn_blocking(move || intake.process(id, frame)).await {
                    Ok(Ok(PageOutcome::Filed { seq, path, .. })) => {
                        tracing::info!(page = seq, %path, "filed");
                        notify(format!("filed {path}"));
                    }
                    Ok(Ok(PageOutcome::Quarantined { seq, reason })) => {
                        tracing::warn!(page = ?seq, %reason, "quarantined");
                        notify(format!("quarantined {reason}"));
                    }
                    // The page stays spooled in the journal and is tried again.
                    Ok(Err(e)) => {
                        let wait = if e.is_disk_full() { Duration::from_secs(5) } else { Duration::from_secs(30) };
                        if e.is_disk_full() {
                            tracing::error!(page_id = id, error = %e, "disk full: page kept in the spool; retrying when space returns");
                        } else {
                            tracing::error!(page_id = id, error = %e, "page not filed; kept in the spool, retried in {wait:?}");
                        }
                        notify(format!("error {e}"));
                        let retry = retry.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(wait).await;
                            if let Some(tx) = retry.upgrade() {
                                let _ = tx.send((id, None)).await;
                            }
                        });
                    }
                    Err(e) => tracing::error!(page_id = id, error = %e, "page worker failed; kept in the spool for the next start"),
                }
            }
        });
    }

    // Pages a crash or stop left under way go first.
    let pending = {
        let intake = intake.clone();
        tokio::task::spawn_blocking(move || intake.journal().unfinished()).await??
    };
    if !pending.is_empty() {
        tracing::info!(pages = pending.len(), "resuming pages left unfinished");
    }
    let recovery = {
        let handle = handle.clone();
        tokio::spawn(async move {
            for page in pending {
                if handle.work.send((page.id, None)).await.is_err() {
                    break;
                }
            }
        })
    };

    let mut services = JoinSet::new();
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|e| anyhow::anyhow!("server.listen: cannot listen on {listen}: {e}"))?;
    println!("sohoa: operator page at http://{}/", listener.local_addr()?);
    {
        let handle = handle.clone();
        services.spawn(async move { crate::api::serve(listener, handle).await });
    }
    {
        let handle = handle.clone();
        services.spawn(async move { crate::capture::watch::run(handle).await });
    }
    let scan_rx = handle
        .scan_inbox
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    if let Some(rx) = scan_rx {
        crate::capture::scanner::start(handle.clone(), rx, handle.scan_requests.clone());
    }

    ready_for_systemd(&handle);
    wait_for_stop(&mut signals, &handle.devices_changed).await;
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    tracing::info!("stopping: finishing pages under way");
    let _ = stop_tx.send(true);
    recovery.abort();
    // Sources see `stopping` and return; then the queue closes and drains.
    let drain = async {
        while let Some(r) = services.join_next().await {
            if let Ok(Err(e)) = r {
                tracing::warn!(error = %e, "service stopped with an error");
            }
        }
        drop(handle);
        while workers.join_next().await.is_some() {}
    };
    if tokio::time::timeout(Duration::from_secs(60), drain)
        .await
        .is_err()
    {
        tracing::warn!(
            "pages still under way after 60 s; they stay spooled and resume at the next start"
        );
    }
    tracing::info!("stopped");
    Ok(())
}

/// Tells systemd (Type=notify) that start-up is done, and keeps its
/// watchdog fed while the runtime and the journal answer. Without systemd
/// these calls do nothing.
fn ready_for_systemd(handle: &Handle) {
    let _ = sd_notify::notify(&[
        sd_notify::NotifyState::Ready,
        sd_notify::NotifyState::Status("capturing"),
    ]);
    let Some(period) = sd_notify::watchdog_enabled() else {
        return;
    };
    let handle = handle.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(period / 2).await;
            let intake = handle.intake.clone();
            let alive = tokio::time::timeout(
                period / 2,
                tokio::task::spawn_blocking(move || intake.journal().schema_version().is_ok()),
            )
            .await;
            if matches!(alive, Ok(Ok(true))) {
                let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
            } else {
                tracing::error!(
                    "the journal does not answer; letting the systemd watchdog restart the service"
                );
            }
        }
    });
}

/// Waits for SIGTERM or SIGINT, passing SIGUSR1 (a scanner came or went)
/// on to the scanner sources meanwhile. A closed channel counts as a stop.
async fn wait_for_stop(
    signals: &mut UnboundedReceiver<StopSignal>,
    devices_changed: &tokio::sync::Notify,
) {
    while let Some(s) = signals.recv().await {
        match s {
            StopSignal::Terminate => {
                tracing::info!("SIGTERM received");
                return;
            }
            StopSignal::Interrupt => {
                tracing::info!("SIGINT received");
                return;
            }
            StopSignal::DevicesChanged => {
                tracing::info!("scanners changed (SIGUSR1): looking for devices again");
                devices_changed.notify_waiters();
            }
        }
    }
}
