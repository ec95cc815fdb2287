//! Stable scanner identity: a configured scanner is found again after a
//! replug by vendor and model (and serial where the backend exposes one),
//! never by its bus address (`libusb:001:007` changes on every replug).
//!
//! Also the per-scanner lock shared by capture and button polling.
//! Matching is pure; `resolve` and `wait_for` call the device list only.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::device::{DeviceInfo, Sane};
use super::error::ScanError;
use super::options::OptionValue;

/// Names of read-only options backends use for a serial number.
pub const SERIAL_OPTIONS: &[&str] = &["serial", "serial-number", "serial_number", "device-serial"];

/// How a scanner is named in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Identity {
    pub vendor: String,
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
}

fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

impl Identity {
    pub fn of(info: &DeviceInfo, serial: Option<String>) -> Identity {
        Identity {
            vendor: info.vendor.trim().to_string(),
            model: info.model.trim().to_string(),
            serial,
        }
    }

    /// Same vendor and model (case and spacing ignored).
    pub fn same_model(&self, info: &DeviceInfo) -> bool {
        norm(&self.vendor) == norm(&info.vendor) && norm(&self.model) == norm(&info.model)
    }

    /// The key of the lock shared by capture and button polling.
    pub fn key(&self) -> String {
        format!(
            "{}|{}|{}",
            norm(&self.vendor),
            norm(&self.model),
            self.serial.as_deref().map(norm).unwrap_or_default()
        )
    }
}

/// Picks the device matching `id` among `devices`. `serial_of` reads the
/// serial of a candidate (by opening it) and is only called when a serial is
/// configured. With no serial and several identical models the first is
/// taken, as the list order of SANE is stable for one bus.
pub fn pick<'a>(
    id: &Identity,
    devices: &'a [DeviceInfo],
    mut serial_of: impl FnMut(&DeviceInfo) -> Option<String>,
) -> Option<&'a DeviceInfo> {
    let mut candidates = devices.iter().filter(|d| id.same_model(d));
    match &id.serial {
        None => candidates.next(),
        Some(want) => candidates.find(|d| serial_of(d).is_some_and(|s| norm(&s) == norm(want))),
    }
}

/// Reads the serial of a device, if the backend exposes one as an option.
pub fn read_serial(sane: &'static Sane, name: &str) -> Option<String> {
    let dev = sane.open(name).ok()?;
    SERIAL_OPTIONS.iter().find_map(|o| match dev.get(o) {
        Ok(OptionValue::Str(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    })
}

/// Finds the current SANE name of a scanner by identity.
pub fn resolve(sane: &'static Sane, id: &Identity) -> Result<DeviceInfo, ScanError> {
    let devices = sane.devices()?;
    pick(id, &devices, |d| read_serial(sane, &d.name))
        .cloned()
        .ok_or_else(|| ScanError::DeviceGone(format!("{} {}", id.vendor, id.model)))
}

/// Looks for a scanner until it is back (after an unplug), polling the
/// device list every `every` until `timeout`.
pub fn wait_for(
    sane: &'static Sane,
    id: &Identity,
    every: Duration,
    timeout: Duration,
) -> Result<DeviceInfo, ScanError> {
    let end = Instant::now() + timeout;
    loop {
        match resolve(sane, id) {
            Ok(d) => return Ok(d),
            Err(e) if Instant::now() >= end => return Err(e),
            Err(_) => std::thread::sleep(every),
        }
    }
}

/// Finds a device given on the command line: an exact SANE name, or
/// `VENDOR MODEL` as the device list shows them.
pub fn find_by_name(devices: &[DeviceInfo], wanted: &str) -> Option<DeviceInfo> {
    devices
        .iter()
        .find(|d| d.name == wanted)
        .or_else(|| {
            devices
                .iter()
                .find(|d| norm(&format!("{} {}", d.vendor, d.model)) == norm(wanted))
        })
        .cloned()
}

/// The lock one scanner's capture and button polls share: capture holds it
/// for a whole batch, a poll only takes it when free.
pub type DeviceLock = Arc<Mutex<()>>;

static LOCKS: OnceLock<Mutex<HashMap<String, DeviceLock>>> = OnceLock::new();

/// The process-wide lock for a scanner key (see `Identity::key`).
pub fn device_lock(key: &str) -> DeviceLock {
    let map = LOCKS.get_or_init(Default::default);
    let mut m = map.lock().unwrap_or_else(|p| p.into_inner());
    m.entry(key.to_string()).or_default().clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(name: &str, vendor: &str, model: &str) -> DeviceInfo {
        DeviceInfo {
            name: name.into(),
            vendor: vendor.into(),
            model: model.into(),
            kind: "sheetfed scanner".into(),
        }
    }

    #[test]
    fn found_again_after_replug_under_a_new_bus_address() {
        let id = Identity {
            vendor: "FUJITSU".into(),
            model: "fi-7160".into(),
            serial: None,
        };
        let before = [dev("fujitsu:libusb:001:004", "FUJITSU", "fi-7160")];
        let after = [
            dev("epson2:libusb:001:003", "Epson", "DS-530"),
            dev("fujitsu:libusb:001:009", "Fujitsu ", "FI-7160"),
        ];
        assert_eq!(pick(&id, &before, |_| None).unwrap().name, before[0].name);
        assert_eq!(pick(&id, &after, |_| None).unwrap().name, after[1].name);
        assert!(pick(&id, &after[..1], |_| None).is_none());
    }

    #[test]
    fn serial_tells_twins_apart() {
        let id = Identity {
            vendor: "Canon".into(),
            model: "DR-C225".into(),
            serial: Some("B2".into()),
        };
        let list = [
            dev("canon_dr:libusb:002:002", "Canon", "DR-C225"),
            dev("canon_dr:libusb:002:005", "Canon", "DR-C225"),
        ];
        let got = pick(&id, &list, |d| {
            Some(if d.name.ends_with("002") { "A1" } else { "B2" }.into())
        });
        assert_eq!(got.unwrap().name, "canon_dr:libusb:002:005");
        assert_ne!(
            id.key(),
            Identity {
                serial: None,
                ..id.clone()
            }
            .key()
        );
    }

    #[test]
    fn locks_are_shared_per_key() {
        let a = device_lock("x|y|");
        let b = device_lock("x|y|");
        let _g = a.lock().unwrap();
        assert!(b.try_lock().is_err());
        assert!(device_lock("other").try_lock().is_ok());
    }
}
