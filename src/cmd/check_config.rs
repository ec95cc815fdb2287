//! sohoa check-config
use std::path::Path;
use std::process::ExitCode;
pub fn run(_file: &Path) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
