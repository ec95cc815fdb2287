//! Scanner buttons: the backend's sensor options (hard-select, soft-detect
//! bools such as `scan`, `email`, `copy`) polled at an interval. The device
//! is opened only for the poll, under the scanner's lock taken with
//! `try_lock`: while a batch holds the lock the poll is skipped, so a poll
//! never blocks a scan.
//!
//! `ButtonSource` is the seam the daemon wires to its intake; a press means
//! "start a batch into this scanner's current book, or the inbox". This
//! module never starts batches itself.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::adf::apply;
use super::device::{Device, Sane};
use super::error::ScanError;
use super::identity::DeviceLock;
use super::options::{OptionDesc, OptionValue, Setting, ValueKind};

/// A button went down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ButtonPress {
    /// SANE device name at the time of the press.
    pub device: String,
    /// The sensor option, e.g. `scan`, `email`.
    pub button: String,
}

/// Anything that reports button presses when polled.
pub trait ButtonSource {
    /// Presses since the last poll (edges, not levels). An empty list when
    /// the scanner is busy scanning.
    fn poll(&mut self) -> Result<Vec<ButtonPress>, ScanError>;
}

/// Where a press sends the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Book(String),
    Inbox,
}

/// A press goes to the scanner's open book, else to the inbox.
pub fn destination(current_book: Option<&str>) -> Destination {
    match current_book {
        Some(b) => Destination::Book(b.to_string()),
        None => Destination::Inbox,
    }
}

/// The sensors among a device's options: active bool (or int) options the
/// hardware sets and software only reads.
pub fn sensors(opts: &[OptionDesc]) -> Vec<&OptionDesc> {
    opts.iter()
        .filter(|o| {
            o.is_active() && o.is_sensor() && matches!(o.kind, ValueKind::Bool | ValueKind::Int)
        })
        .collect()
}

fn pressed(v: &OptionValue) -> bool {
    match v {
        OptionValue::Bool(b) => *b,
        OptionValue::Int(v) => v.first().is_some_and(|&i| i != 0),
        _ => false,
    }
}

/// Edge detection: a press is a sensor that reads "on" now and read "off"
/// (or was unknown) before. Updates `last`.
pub fn edges(last: &mut HashMap<String, bool>, now: &[(String, bool)]) -> Vec<String> {
    let mut out = Vec::new();
    for (name, on) in now {
        let before = last.insert(name.clone(), *on).unwrap_or(false);
        if *on && !before {
            out.push(name.clone());
        }
    }
    out
}

/// Reads every sensor of an open device.
pub fn read_sensors(dev: &Device) -> Vec<(String, bool)> {
    sensors(dev.options())
        .into_iter()
        .filter_map(|o| dev.get(&o.name).ok().map(|v| (o.name.clone(), pressed(&v))))
        .collect()
}

/// Polls one SANE scanner's sensors.
pub struct SanePoller {
    sane: &'static Sane,
    device: String,
    lock: DeviceLock,
    /// Settings applied after each open (e.g. options that enable sensors).
    pub setup: Vec<(String, Setting)>,
    last: HashMap<String, bool>,
}

impl SanePoller {
    pub fn new(sane: &'static Sane, device: &str, lock: DeviceLock) -> SanePoller {
        SanePoller {
            sane,
            device: device.to_string(),
            lock,
            setup: Vec::new(),
            last: HashMap::new(),
        }
    }

    /// Follows the scanner to a new SANE name (after a replug).
    pub fn set_device(&mut self, device: &str) {
        self.device = device.to_string();
    }

    /// The sensor names and states of the last successful poll.
    pub fn states(&self) -> &HashMap<String, bool> {
        &self.last
    }
}

impl ButtonSource for SanePoller {
    fn poll(&mut self) -> Result<Vec<ButtonPress>, ScanError> {
        let Ok(_guard) = self.lock.try_lock() else {
            return Ok(Vec::new()); // a batch is running: never wait for it
        };
        let now = {
            let mut dev = self.sane.open(&self.device)?;
            apply(&mut dev, &self.setup)?;
            read_sensors(&dev)
        };
        Ok(edges(&mut self.last, &now)
            .into_iter()
            .map(|button| ButtonPress {
                device: self.device.clone(),
                button,
            })
            .collect())
    }
}

/// Polls `source` every `interval` until `stop`, handing presses to
/// `on_press`. Errors are logged and polling goes on (the scanner may be
/// unplugged and come back).
pub fn run_poller(
    source: &mut dyn ButtonSource,
    interval: Duration,
    stop: &AtomicBool,
    mut on_press: impl FnMut(ButtonPress),
) {
    while !stop.load(Ordering::Relaxed) {
        match source.poll() {
            Ok(presses) => presses.into_iter().for_each(&mut on_press),
            Err(e) => tracing::debug!(error = %e, "button poll failed"),
        }
        let end = std::time::Instant::now() + interval;
        while std::time::Instant::now() < end && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(20).min(interval));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presses_are_edges_not_levels() {
        let mut last = HashMap::new();
        let s = |a: bool, b: bool| vec![("scan".to_string(), a), ("email".to_string(), b)];
        assert!(edges(&mut last, &s(false, false)).is_empty());
        assert_eq!(edges(&mut last, &s(true, false)), vec!["scan"]);
        assert!(
            edges(&mut last, &s(true, false)).is_empty(),
            "held, not pressed again"
        );
        assert_eq!(edges(&mut last, &s(false, true)), vec!["email"]);
        assert_eq!(edges(&mut last, &s(true, true)), vec!["scan"]);
    }

    #[test]
    fn destination_is_book_or_inbox() {
        assert_eq!(destination(None), Destination::Inbox);
        assert_eq!(
            destination(Some("KS.2024.01")),
            Destination::Book("KS.2024.01".into())
        );
    }
}
