//! The scanners the daemon knows and what each is doing, shared between the
//! scanner wiring (which writes) and the API (which reads).
//!
//! A plain in-memory registry: it holds no device handles and never talks
//! to SANE; the capture code sets entries, the operator page shows them.

use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

/// What a scanner is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScannerState {
    Ready,
    Scanning,
    Error,
}

/// One scanner as the operator page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScannerStatus {
    /// Device name (the registry key).
    pub name: String,
    pub vendor: String,
    pub model: String,
    pub state: ScannerState,
    /// The page being scanned, when scanning.
    pub page: Option<u32>,
    /// What the operator should know or do, in Vietnamese and English
    /// (e.g. "giấy bị kẹt — mở nắp máy quét và lấy giấy ra").
    pub message_vi: String,
    pub message_en: String,
    /// The book this scanner files into, by name.
    pub book: Option<String>,
}

impl ScannerStatus {
    /// A ready scanner with no message.
    pub fn ready(name: &str, vendor: &str, model: &str) -> Self {
        ScannerStatus {
            name: name.into(),
            vendor: vendor.into(),
            model: model.into(),
            state: ScannerState::Ready,
            page: None,
            message_vi: String::new(),
            message_en: String::new(),
            book: None,
        }
    }
}

/// The registry; cheap to clone, shared by reference.
#[derive(Debug, Clone, Default)]
pub struct Scanners(Arc<RwLock<Vec<ScannerStatus>>>);

impl Scanners {
    /// Adds a scanner or replaces the entry of the same name.
    pub fn set(&self, status: ScannerStatus) {
        let mut v = self.0.write().unwrap_or_else(|p| p.into_inner());
        match v.iter_mut().find(|s| s.name == status.name) {
            Some(s) => *s = status,
            None => v.push(status),
        }
    }

    /// Changes one scanner in place; false when it is unknown.
    pub fn update(&self, name: &str, f: impl FnOnce(&mut ScannerStatus)) -> bool {
        let mut v = self.0.write().unwrap_or_else(|p| p.into_inner());
        match v.iter_mut().find(|s| s.name == name) {
            Some(s) => {
                f(s);
                true
            }
            None => false,
        }
    }

    /// Forgets a scanner (unplugged).
    pub fn remove(&self, name: &str) {
        self.0
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|s| s.name != name);
    }

    pub fn list(&self) -> Vec<ScannerStatus> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replaces_by_name() {
        let r = Scanners::default();
        r.set(ScannerStatus::ready("a", "Fujitsu", "fi-7160"));
        r.set(ScannerStatus::ready("b", "Canon", "DR-C225"));
        assert!(r.update("a", |s| {
            s.state = ScannerState::Scanning;
            s.page = Some(7)
        }));
        assert!(!r.update("zz", |_| {}));
        let l = r.list();
        assert_eq!(l.len(), 2);
        assert_eq!((l[0].state, l[0].page), (ScannerState::Scanning, Some(7)));
        r.remove("a");
        assert_eq!(r.list().len(), 1);
    }
}
