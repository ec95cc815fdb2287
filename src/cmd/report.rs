//! `sohoa report [--from DATE] [--to DATE] [--format csv|json|summary|text]`:
//! progress by day, week and book from the journal, printed to stdout.

use std::path::Path;
use std::process::ExitCode;

use sohoa::config::Config;
use sohoa::report;
use sohoa::store::Journal;

pub fn run(
    from: Option<&str>,
    to: Option<&str>,
    format: &str,
    config: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let date = |v: Option<&str>, flag: &str| {
        v.map(|s| report::parse_date(s).map_err(|e| anyhow::anyhow!("{flag}: {e}")))
            .transpose()
    };
    let (from, to) = (date(from, "--from")?, date(to, "--to")?);
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            anyhow::bail!("--from {f} is after --to {t}");
        }
    }
    if !matches!(format, "csv" | "json" | "summary" | "text") {
        anyhow::bail!("--format: \"{format}\" is not one of csv, json, summary, text");
    }
    let cfg = Config::load(config)?;
    let path = cfg.dirs().journal();
    if !path.is_file() {
        anyhow::bail!(
            "no journal at {}: nothing was captured here yet (run sohoa in the folder that holds sohoa-data, or pass --config)",
            path.display()
        );
    }
    let journal = Journal::open(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let r = report::build(&journal, &cfg.station.name, &cfg.station.locality, from, to)?;
    let out = match format {
        "json" => serde_json::to_string_pretty(&r)? + "\n",
        "summary" => report::summary_csv(&r),
        "text" => report::summary_text(&r),
        _ => report::to_csv(&r),
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}
