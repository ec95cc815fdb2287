//! Which watch-folder files are ready to take: unchanged in size and
//! modification time for the settle delay. Pure bookkeeping over listings
//! and instants given by the caller, so it is tested without sleeping.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// One listed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub path: PathBuf,
    pub size: u64,
    pub mtime: SystemTime,
}

#[derive(Debug)]
struct Seen {
    size: u64,
    mtime: SystemTime,
    /// When size and mtime last changed (or were first seen).
    since: Instant,
    /// Not before this instant (after a failed take).
    not_before: Option<Instant>,
}

#[derive(Debug, Default)]
pub struct Tracker {
    seen: HashMap<PathBuf, Seen>,
}

impl Tracker {
    /// Takes a fresh listing; returns the files stable for `settle`.
    pub fn observe(&mut self, listing: Vec<Listed>, now: Instant, settle: Duration) -> Vec<Listed> {
        let mut present = HashMap::with_capacity(listing.len());
        for l in listing {
            let entry = self.seen.entry(l.path.clone()).or_insert(Seen {
                size: l.size,
                mtime: l.mtime,
                since: now,
                not_before: None,
            });
            if entry.size != l.size || entry.mtime != l.mtime {
                *entry = Seen {
                    size: l.size,
                    mtime: l.mtime,
                    since: now,
                    not_before: None,
                };
            }
            present.insert(l.path.clone(), l);
        }
        self.seen.retain(|p, _| present.contains_key(p));
        let mut ready: Vec<Listed> = present
            .into_values()
            .filter(|l| {
                let s = &self.seen[&l.path];
                now.duration_since(s.since) >= settle && s.not_before.is_none_or(|t| now >= t)
            })
            .collect();
        ready.sort_by(|a, b| a.path.cmp(&b.path));
        ready
    }

    /// How long the file has been unchanged.
    pub fn unchanged_for(&self, path: &Path, now: Instant) -> Duration {
        self.seen
            .get(path)
            .map(|s| now.duration_since(s.since))
            .unwrap_or_default()
    }

    /// Puts a file aside until `until` (it was not ready to take).
    pub fn defer(&mut self, path: &Path, until: Instant) {
        if let Some(s) = self.seen.get_mut(path) {
            s.not_before = Some(until);
        }
    }

    /// Forgets a file (taken, moved away).
    pub fn forget(&mut self, path: &Path) {
        self.seen.remove(path);
    }

    /// Whether any file is still settling or deferred.
    pub fn waiting(&self) -> bool {
        !self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(name: &str, size: u64, secs: u64) -> Listed {
        Listed {
            path: PathBuf::from(name),
            size,
            mtime: SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
        }
    }

    #[test]
    fn a_growing_file_waits_until_it_settles() {
        let mut t = Tracker::default();
        let t0 = Instant::now();
        let settle = Duration::from_secs(2);
        assert!(t
            .observe(vec![listed("a.jpg", 10, 1)], t0, settle)
            .is_empty());
        // Still growing one second later.
        assert!(t
            .observe(
                vec![listed("a.jpg", 20, 2)],
                t0 + Duration::from_secs(1),
                settle
            )
            .is_empty());
        // Unchanged, but not for long enough yet.
        assert!(t
            .observe(
                vec![listed("a.jpg", 20, 2)],
                t0 + Duration::from_secs(2),
                settle
            )
            .is_empty());
        let ready = t.observe(
            vec![listed("a.jpg", 20, 2)],
            t0 + Duration::from_secs(3),
            settle,
        );
        assert_eq!(ready, vec![listed("a.jpg", 20, 2)]);
    }

    #[test]
    fn deferred_and_vanished_files() {
        let mut t = Tracker::default();
        let t0 = Instant::now();
        let s = Duration::ZERO;
        assert_eq!(t.observe(vec![listed("a", 1, 1)], t0, s).len(), 1);
        t.defer(Path::new("a"), t0 + Duration::from_secs(5));
        assert!(t
            .observe(vec![listed("a", 1, 1)], t0 + Duration::from_secs(1), s)
            .is_empty());
        assert_eq!(
            t.observe(vec![listed("a", 1, 1)], t0 + Duration::from_secs(5), s)
                .len(),
            1
        );
        // A change clears the deferral.
        t.defer(Path::new("a"), t0 + Duration::from_secs(50));
        assert_eq!(
            t.observe(vec![listed("a", 2, 2)], t0 + Duration::from_secs(6), s)
                .len(),
            1
        );
        assert!(t.observe(vec![], t0 + Duration::from_secs(7), s).is_empty());
        assert!(!t.waiting());
    }
}
