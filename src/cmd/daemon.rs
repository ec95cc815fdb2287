//! `sohoa daemon`: the service, on the config file or built-in defaults.

use std::path::Path;
use std::process::ExitCode;

use sohoa::capture::sane::signals::take_stop_signals;
use sohoa::config::Config;

pub fn run(config: Option<&Path>) -> anyhow::Result<ExitCode> {
    // First, while this is the only thread: see capture::sane::signals.
    let (tx, signals) = tokio::sync::mpsc::unbounded_channel();
    take_stop_signals(move |s| {
        let _ = tx.send(s);
    })
    .map_err(|e| anyhow::anyhow!("cannot set up signal handling: {e}"))?;
    super::init_logging();
    let cfg = Config::load(config)?;
    if config.is_none() {
        tracing::info!(
            "no --config given: running on built-in defaults under ./{}",
            cfg.paths.data.display()
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(sohoa::daemon::run(cfg, signals))?;
    Ok(ExitCode::SUCCESS)
}
