//! One module per subcommand: argument handling and output formatting only;
//! the work itself lives in the library.

pub mod check_config;
pub mod daemon;
pub mod finish;
pub mod ingest;
pub mod process;
pub mod report;
pub mod scan;

/// Logs to stderr with tracing: plain text without colours when stderr is
/// not a terminal (the systemd journal), level from `RUST_LOG` (default info).
pub fn init_logging() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// The config (file or built-in defaults) and the book named on the command
/// line, validated; `what` names the argument in errors (`--book`).
pub fn config_and_book(
    config: Option<&std::path::Path>,
    book: &str,
    locality: Option<&str>,
    what: &str,
) -> anyhow::Result<(sohoa::config::Config, sohoa::book::BookId)> {
    init_logging();
    let cfg = sohoa::config::Config::load(config)?;
    let locality = locality.unwrap_or(&cfg.station.locality).to_string();
    let book_id = cfg
        .naming()
        .parse_book(book, &locality)
        .map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
    Ok((cfg, book_id))
}
