//! sohoa scan, capture and devices: scanner commands
use std::path::Path;
use std::process::ExitCode;
pub fn scan(
    _device: Option<&str>,
    _book: &str,
    _locality: Option<&str>,
    _config: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
pub fn capture(_device: &str, _out: &Path, _opts: &[String]) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
pub fn devices(_json: bool) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
