//! sohoa ingest
use std::path::Path;
use std::process::ExitCode;
pub fn run(
    _dir: &Path,
    _book: &str,
    _locality: Option<&str>,
    _config: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
