//! sohoa daemon
use std::path::Path;
use std::process::ExitCode;
pub fn run(_config: Option<&Path>) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
