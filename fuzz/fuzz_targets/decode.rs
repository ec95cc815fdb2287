//! Any bytes through the decoders and the completeness check: errors are
//! fine, panics and runaway allocations are bugs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = sohoa::codec::complete::check_complete(data);
    if let Ok(frames) = sohoa::codec::decode(data) {
        for f in frames.iter().take(2) {
            let _ = (f.image.width(), f.image.height());
        }
    }
});
