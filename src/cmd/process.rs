//! `sohoa process` and `sohoa inspect`: run the page pipeline (or only its
//! analysis) on image files and print one line per page.
//!
//! Argument handling and output only; the work is `sohoa::pipeline`. An
//! unreadable input prints an error line naming it and the others still run;
//! the exit code is then non-zero.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{json, Value};
use sohoa::codec;
use sohoa::config::Config;
use sohoa::imaging::BlankAction;
use sohoa::pipeline::{self, PageReport};

pub fn process(
    inputs: &[PathBuf],
    out: &Path,
    config: Option<&Path>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let cfg = Config::load(config)?;
    std::fs::create_dir_all(out)
        .map_err(|e| anyhow::anyhow!("{}: cannot create folder: {e}", out.display()))?;
    run(inputs, json, |input, page, pages, frame| {
        let processed =
            pipeline::process(frame, &cfg.imaging, &cfg.output).map_err(|e| e.to_string())?;
        let report = processed.report;
        if report.blank && cfg.imaging.blank == BlankAction::Drop {
            return Ok((None, report));
        }
        let stem = input
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "page".into());
        let name = if pages > 1 {
            format!("{stem}-{:03}.{}", page + 1, processed.encoded.ext)
        } else {
            format!("{stem}.{}", processed.encoded.ext)
        };
        let path = out.join(name);
        write_atomic(&path, &processed.encoded.bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok((Some(path), report))
    })
}

pub fn inspect(inputs: &[PathBuf], config: Option<&Path>, json: bool) -> anyhow::Result<ExitCode> {
    let cfg = Config::load(config)?;
    run(inputs, json, |_, _, _, frame| {
        Ok((None, pipeline::inspect(&frame, &cfg.imaging, &cfg.output)))
    })
}

/// What a page step returns: the file written (if any) and the report.
type PageResult = Result<(Option<PathBuf>, PageReport), String>;

/// Reads and decodes every input, hands each page to `page_fn`, prints.
fn run(
    inputs: &[PathBuf],
    json: bool,
    mut page_fn: impl FnMut(&Path, usize, usize, codec::Frame) -> PageResult,
) -> anyhow::Result<ExitCode> {
    let mut failed = false;
    for input in inputs {
        let frames = std::fs::read(input)
            .map_err(|e| format!("cannot read: {e}"))
            .and_then(|bytes| codec::decode(&bytes).map_err(|e| e.to_string()));
        let frames = match frames {
            Ok(f) => f,
            Err(e) => {
                failed = true;
                print_error(input, None, &e, json);
                continue;
            }
        };
        let pages = frames.len();
        for (i, frame) in frames.into_iter().enumerate() {
            let page = (pages > 1).then_some(i + 1);
            match page_fn(input, i, pages, frame) {
                Ok((output, report)) => print_page(input, page, output.as_deref(), &report, json),
                Err(e) => {
                    failed = true;
                    print_error(input, page, &e, json);
                }
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn print_page(
    input: &Path,
    page: Option<usize>,
    output: Option<&Path>,
    r: &PageReport,
    json: bool,
) {
    if json {
        #[derive(serde::Serialize)]
        struct Line<'a> {
            input: String,
            output: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            page: Option<usize>,
            #[serde(flatten)]
            report: &'a PageReport,
        }
        let line = Line {
            input: input.display().to_string(),
            output: output.map(|p| p.display().to_string()),
            page,
            report: r,
        };
        match serde_json::to_string(&line) {
            Ok(text) => println!("{text}"),
            Err(e) => eprintln!("sohoa: {}: cannot format the report: {e}", input.display()),
        }
    } else {
        let page = page.map(|p| format!(" page {p}")).unwrap_or_default();
        let out = output
            .map(|p| format!(" -> {}", p.display()))
            .unwrap_or_default();
        println!(
            "{}{page}{out}: skew {:.2} deg (confidence {:.2}{}), orientation {}, crop {:?}, {}ink {:.2}%, {}x{} at {} dpi, {} bytes{}, {:.1} ms",
            input.display(),
            r.skew_deg,
            r.confidence,
            if r.rotated { ", rotated" } else { "" },
            r.orientation,
            r.crop,
            if r.blank { "BLANK, " } else { "" },
            r.ink * 100.0,
            r.width,
            r.height,
            r.dpi,
            r.bytes,
            r.quality
                .map(|q| format!(" (JPEG q{q})"))
                .unwrap_or_default(),
            r.ms
        );
    }
}

fn print_error(input: &Path, page: Option<usize>, error: &str, json: bool) {
    let page_txt = page.map(|p| format!(" page {p}")).unwrap_or_default();
    eprintln!("sohoa: {}{page_txt}: {error}", input.display());
    if json {
        let mut v = json!({ "input": input.display().to_string(), "output": null, "error": error });
        if let (Some(p), Value::Object(map)) = (page, &mut v) {
            map.insert("page".into(), json!(p));
        }
        println!("{v}");
    }
}

/// Writes to a temporary name in the same folder, then renames.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("out")
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
