//! The in-process API the intake uses: an ADF batch with a scan profile
//! yields whole pages with pixels and dpi, then ends; button polls never
//! wait for a running batch; cancel stops a slow batch without a whole page.
//!
//! One test function: SANE is initialised once per process and reads
//! SANE_CONFIG_DIR at that moment. Needs Debian package `libsane1`.

use std::time::{Duration, Instant};

use sohoa::capture::sane::adf::{Batch, BatchConfig};
use sohoa::capture::sane::buttons::{ButtonSource, SanePoller};
use sohoa::capture::sane::identity::{device_lock, Identity};
use sohoa::capture::sane::options::Setting;
use sohoa::capture::sane::profile::{Mode, PageSize, ScanProfile, Source};
use sohoa::capture::sane::{Sane, ScanError};

#[test]
fn batch_api_buttons_and_cancel() {
    let cfg = tempfile::tempdir().expect("tempdir");
    std::fs::write(cfg.path().join("dll.conf"), "test\n").expect("dll.conf");
    // Single-threaded at this point: the only test in this binary.
    std::env::set_var("SANE_CONFIG_DIR", cfg.path());
    let sane = match Sane::get() {
        Ok(s) => s,
        Err(e) => {
            let msg = format!("SKIPPED: {e}; install Debian package libsane1");
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{msg}");
            }
            eprintln!("\n!!!!!!!! {msg} !!!!!!!!\n");
            return;
        }
    };
    let devices = sane.devices().expect("device list");
    let info = devices
        .iter()
        .find(|d| d.name == "test:0")
        .expect("test:0")
        .clone();
    let lock = device_lock(&Identity::of(&info, None).key());

    // 1. Profile mapped onto the test backend's own names, ADF to the end.
    let profile = ScanProfile {
        mode: Mode::Gray,
        resolution: 50,
        source: Source::Adf,
        page: Some(PageSize {
            width_mm: 20.0,
            height_mm: 15.0,
        }),
    };
    let cfg_batch = BatchConfig {
        profile: Some(profile),
        ..BatchConfig::default()
    };
    let batch = Batch::start(sane, &info.name, lock.clone(), cfg_batch).expect("start");
    let mut numbers = Vec::new();
    for item in batch {
        let page = item.expect("page");
        assert!(page.is_whole());
        assert_eq!(page.dpi, Some(50.0));
        let img = page.to_image().expect("pixels").into_luma8();
        assert_eq!((img.width(), img.height()), (39, 29));
        assert!(page
            .pnm()
            .starts_with(b"P5\n# SANE data follows\n39 29\n255\n"));
        numbers.push(page.number);
    }
    assert_eq!(numbers, (1..=10).collect::<Vec<u32>>());

    // 2. Button poll: the sensors of the backend are found and read.
    let mut poller = SanePoller::new(sane, &info.name, lock.clone());
    poller.setup = vec![(
        "enable-test-options".into(),
        Setting::Text(Some("yes".into())),
    )];
    assert_eq!(poller.poll().expect("poll"), vec![]);
    assert_eq!(
        poller.states().get("bool-hard-select-soft-detect"),
        Some(&false)
    );

    // 3. A slow batch: polls during it return at once; cancel is prompt.
    let slow = BatchConfig {
        settings: [
            ("resolution", "300"),
            ("br-x", "200"),
            ("br-y", "200"),
            ("read-delay", "yes"),
            ("read-delay-duration", "200000"),
        ]
        .iter()
        .map(|(n, v)| (n.to_string(), Setting::Text(Some(v.to_string()))))
        .collect(),
        ..BatchConfig::default()
    };
    let mut batch = Batch::start(sane, &info.name, lock.clone(), slow).expect("start");
    std::thread::sleep(Duration::from_millis(500));
    let t = Instant::now();
    assert_eq!(poller.poll().expect("poll during scan"), vec![]);
    assert!(
        t.elapsed() < Duration::from_millis(100),
        "a poll waited for the scan: {:?}",
        t.elapsed()
    );
    let cancel_at = Instant::now();
    batch.canceller().cancel();
    let mut last = None;
    for item in batch.by_ref() {
        match item {
            Ok(p) => assert!(!p.is_whole(), "a cancelled page came out whole"),
            Err(e) => last = Some(e),
        }
    }
    assert_eq!(last, Some(ScanError::Cancelled));
    assert!(cancel_at.elapsed() < Duration::from_secs(2));
    eprintln!("cancelled in {:?}", cancel_at.elapsed());
}
