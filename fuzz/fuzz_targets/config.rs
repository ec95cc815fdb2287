//! Any text as a config file: a clear error or a valid config, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(cfg) = sohoa::config::Config::parse(text) {
            let _ = cfg.naming();
            let _ = cfg.dirs();
        }
    }
});
