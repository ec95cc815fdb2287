//! The watch folder: network scanners, phones and batch jobs drop images
//! here. A file is taken only when complete (size and mtime settled, and its
//! format parses to the end); its pages are spooled through the intake, and
//! only then is the file moved to `done/` (or deleted).
//!
//! `watch/KS.2010.01/x.jpg` files into that book; files at the top go to the
//! station's open book, or to the inbox when none is open. inotify (notify)
//! only wakes the loop early; a periodic listing is the ground truth, so
//! network mounts where inotify is silent still work (polling is chosen
//! automatically there). Never removes a source file before its pages are
//! committed to the spool.

mod mounts;
mod tracker;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::codec::complete::check_complete;
use crate::daemon::Handle;
use crate::intake::{natural_cmp, Submitted};
use crate::store::{filing, BookRow, STATION};
use tracker::{Listed, Tracker};

/// `[watch]` in the config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WatchConfig {
    /// More folders to watch besides `paths.watch`.
    pub folders: Vec<PathBuf>,
    pub mode: WatchMode,
    /// Seconds a file's size and mtime must stay unchanged.
    pub stable_secs: f64,
    /// Seconds between listings when polling.
    pub poll_secs: f64,
    /// Seconds an unfinished file may stay so before it is quarantined.
    pub incomplete_secs: f64,
    pub after: AfterTaking,
    pub order: Order,
}

impl Default for WatchConfig {
    fn default() -> Self {
        Self {
            folders: Vec::new(),
            mode: WatchMode::Auto,
            stable_secs: 2.0,
            poll_secs: 2.0,
            incomplete_secs: 120.0,
            after: AfterTaking::Move,
            order: Order::Name,
        }
    }
}

impl WatchConfig {
    pub fn validate(&self, errors: &mut Vec<String>) {
        for (key, v, min, max) in [
            ("stable_secs", self.stable_secs, 0.0, 3600.0),
            ("poll_secs", self.poll_secs, 0.05, 3600.0),
            ("incomplete_secs", self.incomplete_secs, 0.0, 86400.0),
        ] {
            if !(min..=max).contains(&v) {
                errors.push(format!(
                    "watch.{key}: {v} is out of range ({min} to {max} seconds)"
                ));
            }
        }
        for (i, f) in self.folders.iter().enumerate() {
            if f.as_os_str().is_empty() {
                errors.push(format!("watch.folders[{i}]: empty path"));
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WatchMode {
    Auto,
    Notify,
    Poll,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AfterTaking {
    Move,
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    Name,
    Mtime,
}

/// Names of files that are not (yet) images to take.
fn ignored(name: &str) -> bool {
    name.starts_with('.')
        || name.ends_with('~')
        || [".part", ".tmp", ".crdownload", ".partial", ".reason.txt"]
            .iter()
            .any(|s| name.ends_with(s))
        || name == ERROR_FILE
        || filing::is_temp(name)
}

/// Written into a sub-folder whose name is not a book ID.
const ERROR_FILE: &str = "_LOI_sohoa.txt";

/// Lists the files of each folder: the top level, and one level of
/// sub-folders (named by book).
fn list(folders: &[PathBuf]) -> Vec<Listed> {
    let mut out = Vec::new();
    let add = |dir: &Path, depth: u8, out: &mut Vec<Listed>, subdirs: &mut Vec<PathBuf>| {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if ignored(&name) {
                continue;
            }
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_dir() && depth == 0 {
                subdirs.push(e.path());
            } else if meta.is_file() {
                out.push(Listed {
                    path: e.path(),
                    size: meta.len(),
                    mtime: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                });
            }
        }
    };
    for folder in folders {
        let mut subdirs = Vec::new();
        add(folder, 0, &mut out, &mut subdirs);
        for sub in subdirs {
            add(&sub, 1, &mut out, &mut Vec::new());
        }
    }
    out
}

/// Runs the watch folder until the daemon stops.
pub async fn run(handle: Handle) -> anyhow::Result<()> {
    let cfg = handle.intake.config().watch.clone();
    let dirs = handle.intake.dirs().clone();
    let mut folders = vec![dirs.watch.clone()];
    for f in &cfg.folders {
        filing::create_dir_synced(f)
            .map_err(|e| anyhow::anyhow!("watch.folders: {}: {e}", f.display()))?;
        folders.push(f.clone());
    }
    let network: Vec<&PathBuf> = folders.iter().filter(|f| mounts::is_network(f)).collect();
    let use_notify = match cfg.mode {
        WatchMode::Poll => false,
        WatchMode::Notify => true,
        WatchMode::Auto => {
            if !network.is_empty() {
                tracing::info!(folders = ?network, "network file system: polling, since inotify hears nothing there");
            }
            network.is_empty()
        }
    };
    let (wake_tx, mut wake_rx) = mpsc::channel::<()>(1);
    let _watcher = if use_notify {
        start_notify(&folders, wake_tx)
    } else {
        None
    };
    let polling = _watcher.is_none();
    tracing::info!(folders = ?folders, polling, "watching");

    let settle = Duration::from_secs_f64(cfg.stable_secs);
    let poll = Duration::from_secs_f64(cfg.poll_secs);
    let mut tracker = Tracker::default();
    let mut bad_folders = std::collections::HashSet::new();
    while !handle.is_stopping() {
        let listing = {
            let folders = folders.clone();
            tokio::task::spawn_blocking(move || list(&folders)).await?
        };
        let now = Instant::now();
        let mut ready = tracker.observe(listing, now, settle);
        sort_ready(&mut ready, cfg.order);
        for file in ready {
            if handle.is_stopping() {
                break;
            }
            take(
                &handle,
                &cfg,
                &folders,
                &mut tracker,
                &mut bad_folders,
                file,
            )
            .await;
        }
        retry_changed_quarantine(&handle, &folders).await;
        // Wake for the next settle check, an inotify event, or the poll tick.
        let wait = if tracker.waiting() || polling {
            poll.min(settle.max(Duration::from_millis(100)))
        } else {
            Duration::from_secs(30)
        };
        tokio::select! {
            _ = handle.stopping() => break,
            _ = wake_rx.recv() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
    Ok(())
}

fn sort_ready(ready: &mut [Listed], order: Order) {
    ready.sort_by(|a, b| {
        let folder = a.path.parent().cmp(&b.path.parent());
        folder.then_with(|| match order {
            Order::Name => natural_cmp(&a.path.to_string_lossy(), &b.path.to_string_lossy()),
            Order::Mtime => a
                .mtime
                .cmp(&b.mtime)
                .then_with(|| natural_cmp(&a.path.to_string_lossy(), &b.path.to_string_lossy())),
        })
    });
}

fn start_notify(folders: &[PathBuf], wake: mpsc::Sender<()>) -> Option<notify::RecommendedWatcher> {
    use notify::Watcher;
    let mut watcher = match notify::recommended_watcher(move |_event| {
        let _ = wake.try_send(());
    }) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "inotify unavailable: polling instead");
            return None;
        }
    };
    for f in folders {
        if let Err(e) = watcher.watch(f, notify::RecursiveMode::Recursive) {
            tracing::warn!(folder = %f.display(), error = %e, "inotify cannot watch this folder: polling instead");
            return None;
        }
    }
    Some(watcher)
}

/// Where a file in the watch folder should go.
enum Target {
    Book(BookRow),
    Inbox,
    /// The sub-folder's name is not a book ID.
    BadFolder(PathBuf, String),
}

fn target_of(handle: &Handle, folders: &[PathBuf], path: &Path) -> anyhow::Result<Target> {
    let parent = path.parent().unwrap_or(Path::new(""));
    if folders.iter().any(|f| f == parent) {
        return Ok(match handle.intake.journal().current(STATION)? {
            Some(book) => Target::Book(book),
            None => Target::Inbox,
        });
    }
    let name = parent
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let cfg = handle.intake.config();
    match handle
        .intake
        .naming()
        .parse_book(&name, &cfg.station.locality)
    {
        Ok(id) => Ok(Target::Book(handle.intake.book(&id)?)),
        Err(e) => Ok(Target::BadFolder(parent.to_path_buf(), e.to_string())),
    }
}

async fn take(
    handle: &Handle,
    cfg: &WatchConfig,
    folders: &[PathBuf],
    tracker: &mut Tracker,
    bad_folders: &mut std::collections::HashSet<PathBuf>,
    file: Listed,
) {
    let path = file.path.clone();
    let source = path.to_string_lossy().into_owned();
    let bytes = match tokio::fs::read(&path).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(file = %source, error = %e, "cannot read; will try again");
            tracker.defer(&path, Instant::now() + Duration::from_secs(10));
            return;
        }
    };
    // Changed while we read it: wait for it to settle again.
    if bytes.len() as u64 != file.size {
        return;
    }
    if let Err(why) = check_complete(&bytes) {
        let now = Instant::now();
        if tracker.unchanged_for(&path, now).as_secs_f64() < cfg.incomplete_secs {
            tracing::debug!(file = %source, why = %why.0, "not finished yet");
            tracker.defer(&path, now + Duration::from_secs_f64(cfg.poll_secs.max(0.5)));
            return;
        }
        let reason = format!(
            "the file stayed unfinished for {:.0} s: {}",
            cfg.incomplete_secs, why.0
        );
        let intake = handle.intake.clone();
        let (s, b) = (source.clone(), bytes);
        let done =
            tokio::task::spawn_blocking(move || intake.quarantine_file(&s, &b, &reason)).await;
        if matches!(done, Ok(Ok(_))) {
            remove_source(&path).await;
            tracker.forget(&path);
            handle.notify(format!("quarantined {source}"));
        }
        return;
    }
    let target = {
        let (h, f, p) = (handle.clone(), folders.to_vec(), path.clone());
        match tokio::task::spawn_blocking(move || target_of(&h, &f, &p)).await {
            Ok(Ok(t)) => t,
            Ok(Err(e)) => {
                tracing::error!(file = %source, error = %e, "cannot choose a book; will try again");
                tracker.defer(&path, Instant::now() + Duration::from_secs(10));
                return;
            }
            Err(_) => return,
        }
    };
    match target {
        Target::BadFolder(folder, why) => {
            if bad_folders.insert(folder.clone()) {
                tracing::error!(folder = %folder.display(), %why, "folder name is not a book ID; its files wait there");
                let text = format!(
                    "Tên thư mục không phải mã quyển sổ / this folder's name is not a book ID:\n{why}\n\
                     Đổi tên thư mục (vd. KS.2010.01); các tệp vẫn được giữ nguyên.\n\
                     Rename the folder (e.g. KS.2010.01); its files are kept as they are.\n"
                );
                let _ = filing::file_atomic(&folder, ERROR_FILE, text.as_bytes());
            }
            tracker.defer(&path, Instant::now() + Duration::from_secs(30));
        }
        Target::Inbox => {
            let inbox = handle.intake.dirs().inbox.clone();
            match move_into(
                &path,
                &inbox,
                path.file_name().map(Path::new).unwrap_or(Path::new("file")),
            )
            .await
            {
                Ok(to) => {
                    tracing::info!(file = %source, inbox = %to.display(), "no book is open: kept in the inbox");
                    tracker.forget(&path);
                    handle.notify(format!("inbox {source}"));
                }
                Err(e) => tracing::error!(file = %source, error = %e, "cannot move to the inbox"),
            }
        }
        Target::Book(book) => match handle.submit(book, source.clone(), bytes).await {
            Ok(submitted) => {
                match &submitted {
                    Submitted::Spooled(p) => {
                        tracing::info!(file = %source, pages = p.len(), "spooled")
                    }
                    Submitted::Duplicate(seqs) => {
                        tracing::info!(file = %source, pages = ?seqs, "already in the book; not added again")
                    }
                    Submitted::Quarantined { reason, .. } => {
                        tracing::warn!(file = %source, %reason, "quarantined")
                    }
                }
                // The pages are committed (or the file is in quarantine): now
                // the source may go.
                let keep = !matches!(submitted, Submitted::Quarantined { .. })
                    && cfg.after == AfterTaking::Move;
                if keep {
                    let root = folders
                        .iter()
                        .find(|f| path.starts_with(f))
                        .cloned()
                        .unwrap_or_default();
                    let rel = path.strip_prefix(&root).unwrap_or(&path).to_path_buf();
                    if let Err(e) = move_into(&path, &handle.intake.dirs().done, &rel).await {
                        tracing::error!(file = %source, error = %e, "spooled, but cannot move to done/; it will be recognised as a duplicate");
                    }
                } else {
                    remove_source(&path).await;
                }
                tracker.forget(&path);
            }
            Err(e) => {
                let full = e
                    .downcast_ref::<crate::intake::IntakeError>()
                    .is_some_and(|e| e.is_disk_full());
                if full {
                    tracing::error!(file = %source, error = %e, "disk full: intake paused, the file stays in the watch folder; it resumes by itself when space returns");
                    handle
                        .notify("error disk full: intake paused / ổ đĩa đầy: tạm dừng nhận trang");
                } else {
                    tracing::error!(file = %source, error = %e, "not taken (kept in the watch folder, retried)");
                    handle.notify(format!("error {e}"));
                }
                tracker.defer(
                    &path,
                    Instant::now() + Duration::from_secs(if full { 2 } else { 10 }),
                );
            }
        },
    }
}

async fn remove_source(path: &Path) {
    if let Err(e) = tokio::fs::remove_file(path).await {
        tracing::warn!(file = %path.display(), error = %e, "cannot remove the source file");
    }
}

/// Moves `from` to `dir/rel`, renaming when the name is taken; falls back
/// to copy, fsync and remove across file systems.
async fn move_into(from: &Path, dir: &Path, rel: &Path) -> std::io::Result<PathBuf> {
    let (from, dir, rel) = (from.to_path_buf(), dir.to_path_buf(), rel.to_path_buf());
    tokio::task::spawn_blocking(move || {
        let mut to = dir.join(&rel);
        let parent = to.parent().map(Path::to_path_buf).unwrap_or(dir.clone());
        filing::create_dir_synced(&parent)?;
        if to.exists() {
            let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S%.3f");
            let name = to
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            to = parent.join(format!("{stamp}-{name}"));
        }
        if std::fs::rename(&from, &to).is_err() {
            let bytes = std::fs::read(&from)?;
            let name = to
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            filing::file_atomic(&parent, &name, &bytes)?;
            std::fs::remove_file(&from)?;
        }
        filing::sync_dir(&parent)?;
        if let Some(p) = from.parent() {
            filing::sync_dir(p)?;
        }
        Ok(to)
    })
    .await
    .map_err(std::io::Error::other)?
}

/// A quarantined watch-folder file that was changed (fixed, or rewritten in
/// place) goes back to where it came from to be tried again.
async fn retry_changed_quarantine(handle: &Handle, folders: &[PathBuf]) {
    let quarantine = handle.intake.dirs().quarantine.clone();
    let folders = folders.to_vec();
    let moved = tokio::task::spawn_blocking(move || -> Vec<PathBuf> {
        let mut moved = Vec::new();
        let Ok(rd) = std::fs::read_dir(&quarantine) else {
            return moved;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".reason.txt") || filing::is_temp(&name) {
                continue;
            }
            let reason_path = quarantine.join(format!("{name}.reason.txt"));
            let (Ok(meta), Ok(rmeta)) = (e.metadata(), std::fs::metadata(&reason_path)) else {
                continue;
            };
            let (Ok(m), Ok(rm)) = (meta.modified(), rmeta.modified()) else {
                continue;
            };
            if m <= rm {
                continue;
            }
            let Ok(reason) = std::fs::read_to_string(&reason_path) else {
                continue;
            };
            let Some(origin) = reason
                .lines()
                .find_map(|l| l.strip_prefix("file: "))
                .map(PathBuf::from)
            else {
                continue;
            };
            let from_watch = origin
                .parent()
                .is_some_and(|p| folders.iter().any(|f| p.starts_with(f)));
            if !from_watch || origin.exists() {
                continue;
            }
            if let Some(parent) = origin.parent() {
                let _ = filing::create_dir_synced(parent);
            }
            if std::fs::rename(e.path(), &origin).is_ok() {
                let _ = std::fs::remove_file(&reason_path);
                moved.push(origin);
            }
        }
        moved
    })
    .await
    .unwrap_or_default();
    for m in moved {
        tracing::info!(file = %m.display(), "quarantined file changed: trying it again");
    }
}
