//! The daemon's parts in-process for tests: a real Intake on a temp folder,
//! a Handle, workers that process and file pages, and the real API router
//! on a free loopback port.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sohoa::config::Config;
use sohoa::daemon::Handle;
use sohoa::intake::{Intake, PageOutcome};

pub struct Server {
    pub handle: Handle,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub rt: tokio::runtime::Runtime,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Server {
    /// Starts on a temp data folder; `extra` is appended to the config.
    pub fn start(extra: &str) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config::parse(&format!(
            "[paths]\ndata = \"{}\"\n[station]\nname = \"may-test\"\nlocality = \"Đông Hà\"\n[workers]\nthreads = 2\n{extra}",
            dir.path().join("data").display()
        ))
        .expect("test config");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let intake = Intake::open(cfg).expect("intake");
        let (handle, mut rx, stop) = Handle::new(intake.clone(), 4);
        let events = handle.events.clone();
        let worker_intake: Arc<Intake> = intake.clone();
        rt.spawn(async move {
            while let Some((id, frame)) = rx.recv().await {
                let intake = worker_intake.clone();
                let out = tokio::task::spawn_blocking(move || intake.process(id, frame)).await;
                let msg = match out {
                    Ok(Ok(PageOutcome::Filed { path, .. })) => format!("filed {path}"),
                    Ok(Ok(PageOutcome::Quarantined { reason, .. })) => {
                        format!("quarantined {reason}")
                    }
                    other => format!("error {other:?}"),
                };
                let _ = events.send(msg);
            }
        });
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let h = handle.clone();
        rt.spawn(async move { sohoa::api::serve(listener, h).await });
        Server {
            handle,
            addr,
            dir,
            rt,
            stop,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn archive(&self) -> PathBuf {
        self.dir.path().join("data/archive")
    }

    pub fn trash(&self) -> PathBuf {
        self.dir.path().join("data/state/trash")
    }

    /// Waits until every page is filed or quarantined.
    pub fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let n = self.handle.intake.journal().unfinished().unwrap().len();
            if n == 0 {
                return;
            }
            assert!(Instant::now() < deadline, "{n} pages never got filed");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Corpus image bytes by file name.
pub fn corpus(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every file under `dir`, relative, sorted.
pub fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}
