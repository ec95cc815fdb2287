//! sohoa process and sohoa inspect
use std::path::Path;
use std::process::ExitCode;
pub fn process(
    _inputs: &[std::path::PathBuf],
    _out: &Path,
    _config: Option<&Path>,
    _json: bool,
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
pub fn inspect(
    _inputs: &[std::path::PathBuf],
    _config: Option<&Path>,
    _json: bool,
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
