//! sohoa report
use std::path::Path;
use std::process::ExitCode;
pub fn run(
    _from: Option<&str>,
    _to: Option<&str>,
    _format: &str,
    _config: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
