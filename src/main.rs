//! The `sohoa` command line: parses arguments and hands each subcommand to
//! its module under `cmd/`. Holds no logic of its own.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

#[derive(Parser)]
#[command(
    name = "sohoa",
    version,
    about = "Capture daemon for digitizing civil-status registers (số hóa sổ hộ tịch)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service: scanners, watch folder, operator page.
    Daemon {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Run the page pipeline on image files and write the results to DIR.
    Process {
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Analyse image files (skew, orientation, crop, blank); write nothing.
    Inspect {
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// File a folder of images into a book.
    Ingest {
        dir: PathBuf,
        #[arg(long)]
        book: String,
        /// Locality keeping the book (default: station.locality).
        #[arg(long)]
        locality: Option<String>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Scan one ADF batch into a book.
    Scan {
        #[arg(long)]
        device: Option<String>,
        #[arg(long)]
        book: String,
        #[arg(long)]
        locality: Option<String>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Capture raw frames as PNM (page-0001.pnm ...), no processing.
    Capture {
        #[arg(long)]
        device: String,
        #[arg(long)]
        out: PathBuf,
        /// Backend option, NAME=VALUE (repeatable).
        #[arg(long = "opt")]
        opts: Vec<String>,
    },
    /// Books: finish (case PDFs and bundle).
    Book {
        #[command(subcommand)]
        action: BookAction,
    },
    /// List scanners, their options and buttons.
    Devices {
        #[arg(long)]
        json: bool,
        /// Only the device list (name, vendor, model, kind): no device is
        /// opened, so it is quick and never disturbs a scan.
        #[arg(long)]
        list: bool,
    },
    /// Progress report by day and week.
    Report {
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        #[arg(long, default_value = "csv")]
        format: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Validate a config file and explain it.
    CheckConfig { file: PathBuf },
}

#[derive(Subcommand)]
enum BookAction {
    /// Produce the case PDFs and the book bundle.
    Finish {
        book: String,
        #[arg(long)]
        locality: Option<String>,
        #[arg(long)]
        config: Option<PathBuf>,
        /// Finish although some files were quarantined (after checking them).
        #[arg(long)]
        accept_quarantined: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Daemon { config } => cmd::daemon::run(config.as_deref()),
        Command::Process {
            inputs,
            out,
            config,
            json,
        } => cmd::process::process(&inputs, &out, config.as_deref(), json),
        Command::Inspect {
            inputs,
            config,
            json,
        } => cmd::process::inspect(&inputs, config.as_deref(), json),
        Command::Ingest {
            dir,
            book,
            locality,
            config,
        } => cmd::ingest::run(&dir, &book, locality.as_deref(), config.as_deref()),
        Command::Scan {
            device,
            book,
            locality,
            config,
        } => cmd::scan::scan(
            device.as_deref(),
            &book,
            locality.as_deref(),
            config.as_deref(),
        ),
        Command::Capture { device, out, opts } => cmd::scan::capture(&device, &out, &opts),
        Command::Devices { json, list } => cmd::scan::devices(json, list),
        Command::Book {
            action:
                BookAction::Finish {
                    book,
                    locality,
                    config,
                    accept_quarantined,
                },
        } => cmd::finish::run(
            &book,
            locality.as_deref(),
            config.as_deref(),
            accept_quarantined,
        ),
        Command::Report {
            from,
            to,
            format,
            config,
        } => cmd::report::run(from.as_deref(), to.as_deref(), &format, config.as_deref()),
        Command::CheckConfig { file } => cmd::check_config::run(&file),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sohoa: {e:#}");
            ExitCode::FAILURE
        }
    }
}
