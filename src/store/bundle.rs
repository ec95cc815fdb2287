//! Finishing a book: one PDF per case and the book bundle, a zip holding
//! the case PDFs, `manifest.csv` (file, case, pages, bytes, sha256) and an
//! `.xlsx` sheet with one row per case for data entry.
//!
//! Plain data in, results out: the caller (`sohoa book finish`) reads the
//! journal and passes the cases; this module reads the page image files,
//! builds the documents in memory and hands every output file to the
//! `write` function it is given (the store's atomic filing), so it never
//! creates, renames or deletes files itself and never touches the journal.
//! The bundle of a large book is built in memory (about the size of its
//! PDFs).

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, FixedOffset, Timelike};
use rust_xlsxwriter::{Format, Workbook};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::codec::encode::{OutputConfig, SOFTWARE};
use crate::codec::g4tiff::{self, G4Page};
use crate::codec::pdf::{self, DocMeta, PageData, PdfPage};

/// The book being finished.
#[derive(Debug, Clone, PartialEq)]
pub struct BookMeta {
    /// Validated book ID (no separators), e.g. `KS.2024.01`.
    pub book_id: String,
    /// Locality that keeps the book.
    pub locality: String,
}

/// One page image file of a case, in page order.
#[derive(Debug, Clone, PartialEq)]
pub struct PageFile {
    /// JPEG, G4 TIFF (embedded as they are) or any format `codec::decode`
    /// reads (re-encoded per `BundleOptions::output`).
    pub path: PathBuf,
    /// Resolution to use, overriding what the file says.
    pub dpi: Option<f32>,
}

/// One case (trường hợp) of the book.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseInput {
    pub case_no: u32,
    /// PDF file name, e.g. `KS.2024.01.003.pdf`: no folders.
    pub file_name: String,
    /// When the case was captured (its first page).
    pub captured: DateTime<FixedOffset>,
    pub pages: Vec<PageFile>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct BundleOptions {
    /// Profile used for pages that must be re-encoded (PNG and the like);
    /// `case_tiff` also writes a multi-page G4 TIFF next to each case PDF
    /// whose pages are all bilevel.
    pub output: OutputConfig,
}

/// What was written for one case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseEntry {
    pub case_no: u32,
    pub file: String,
    pub pages: u32,
    pub bytes: u64,
    /// Lower-case hex.
    pub sha256: String,
    /// The multi-page TIFF, when one was written.
    pub tiff: Option<String>,
}

/// What finishing the book produced.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleResult {
    pub cases: Vec<CaseEntry>,
    /// The zip, in the output folder.
    pub bundle: PathBuf,
    pub bundle_bytes: u64,
    pub bundle_sha256: String,
    /// Every file handed to `write`, in order.
    pub written: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("the book has no cases to finish")]
    NoCases,
    #[error("bad book ID {0:?}: it must be non-empty with no path separators or '..'")]
    BadBookId(String),
    #[error("case {case}: bad file name {name:?} (a plain name ending in .pdf, no folders)")]
    BadFileName { case: u32, name: String },
    #[error("case {0} appears twice")]
    DuplicateCase(u32),
    #[error("file name {0:?} is used by two cases")]
    DuplicateFile(String),
    #[error("case {0} has no pages")]
    EmptyCase(u32),
    #[error("case {case}, page {page} ({path}): cannot read: {source}")]
    Read {
        case: u32,
        page: usize,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("case {case}, page {page} ({path}): {source}")]
    Page {
        case: u32,
        page: usize,
        path: PathBuf,
        source: pdf::PdfError,
    },
    #[error("case {case}: {source}")]
    Pdf { case: u32, source: pdf::PdfError },
    #[error("case {0}: the thread reading its pages stopped without an answer")]
    Worker(u32),
    #[error("case {case}: multi-page TIFF: {detail}")]
    Tiff { case: u32, detail: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot build the bundle: {0}")]
    Zip(String),
    #[error("cannot build the data sheet: {0}")]
    Sheet(String),
}

fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains(['/', '\\', '\0'])
        && !name.contains("..")
        && !name.starts_with('.')
        && !name.chars().any(char::is_control)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Builds the case PDFs and the book bundle, handing each file to `write`
/// (path inside `out_dir`, bytes).
pub fn finish_book(
    book: &BookMeta,
    cases: &[CaseInput],
    opts: &BundleOptions,
    out_dir: &Path,
    write: &mut dyn FnMut(&Path, &[u8]) -> std::io::Result<()>,
) -> Result<BundleResult, BundleError> {
    validate(book, cases)?;
    let mut written = Vec::new();
    let mut emit = |name: &str, bytes: &[u8], written: &mut Vec<PathBuf>| {
        let path = out_dir.join(name);
        write(&path, bytes).map_err(|source| BundleError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
        Ok::<(), BundleError>(())
    };
    let mut entries = Vec::with_capacity(cases.len());
    let mut pdfs: Vec<(String, Vec<u8>)> = Vec::with_capacity(cases.len());
    for (case, pages) in cases.iter().zip(load_all(cases, &opts.output)) {
        let pages = pages?;
        let meta = DocMeta {
            book_id: book.book_id.clone(),
            case_no: case.case_no,
            locality: book.locality.clone(),
            captured: case.captured,
            software: SOFTWARE.to_string(),
        };
        let bytes = pdf::case_pdf(&meta, &pages).map_err(|source| BundleError::Pdf {
            case: case.case_no,
            source,
        })?;
        emit(&case.file_name, &bytes, &mut written)?;
        let tiff = if opts.output.case_tiff {
            case_tiff(case, &pages)?
                .map(|t| {
                    let name = tiff_name(&case.file_name);
                    emit(&name, &t, &mut written).map(|_| name)
                })
                .transpose()?
        } else {
            None
        };
        entries.push(CaseEntry {
            case_no: case.case_no,
            file: case.file_name.clone(),
            pages: pages.len() as u32,
            bytes: bytes.len() as u64,
            sha256: hex(&Sha256::digest(&bytes)),
            tiff,
        });
        pdfs.push((case.file_name.clone(), bytes));
    }
    let manifest = manifest_csv(&entries);
    let stamp = cases.iter().map(|c| c.captured).max().unwrap_or_default();
    let sheet = sheet_xlsx(book, &entries, &stamp)?;
    let zip = bundle_zip(book, &pdfs, &manifest, &sheet, &stamp)?;
    let zip_name = format!("{}.zip", book.book_id);
    emit(&zip_name, &zip, &mut written)?;
    Ok(BundleResult {
        cases: entries,
        bundle: out_dir.join(zip_name),
        bundle_bytes: zip.len() as u64,
        bundle_sha256: hex(&Sha256::digest(&zip)),
        written,
    })
}

fn validate(book: &BookMeta, cases: &[CaseInput]) -> Result<(), BundleError> {
    if !plain_name(&book.book_id) {
        return Err(BundleError::BadBookId(book.book_id.clone()));
    }
    if cases.is_empty() {
        return Err(BundleError::NoCases);
    }
    let mut seen_case = std::collections::HashSet::new();
    let mut seen_file = std::collections::HashSet::new();
    for c in cases {
        let lower = c.file_name.to_ascii_lowercase();
        if !plain_name(&c.file_name) || !lower.ends_with(".pdf") || lower == "manifest.csv" {
            return Err(BundleError::BadFileName {
                case: c.case_no,
                name: c.file_name.clone(),
            });
        }
        if !seen_case.insert(c.case_no) {
            return Err(BundleError::DuplicateCase(c.case_no));
        }
        if !seen_file.insert(lower) {
            return Err(BundleError::DuplicateFile(c.file_name.clone()));
        }
        if c.pages.is_empty() {
            return Err(BundleError::EmptyCase(c.case_no));
        }
    }
    Ok(())
}

/// The pages of every case, in case order, read (and layered, which takes
/// ~0.1 s a page) on every core: the slow part of finishing a book. Each
/// case's result is its own, so the first error in case order is reported
/// as before.
fn load_all(cases: &[CaseInput], output: &OutputConfig) -> Vec<Result<Vec<PdfPage>, BundleError>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, cases.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut slots: Vec<Option<Result<Vec<PdfPage>, BundleError>>> =
        cases.iter().map(|_| None).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(case) = cases.get(i) else {
                            return done;
                        };
                        done.push((i, load_pages(case, output)));
                    }
                })
            })
            .collect();
        for h in handles {
            for (i, r) in h.join().unwrap_or_default() {
                slots[i] = Some(r);
            }
        }
    });
    slots
        .into_iter()
        .zip(cases)
        .map(|(r, c)| r.unwrap_or(Err(BundleError::Worker(c.case_no))))
        .collect()
}

fn load_pages(case: &CaseInput, output: &OutputConfig) -> Result<Vec<PdfPage>, BundleError> {
    let mut pages = Vec::with_capacity(case.pages.len());
    for (i, p) in case.pages.iter().enumerate() {
        let bytes = std::fs::read(&p.path).map_err(|source| BundleError::Read {
            case: case.case_no,
            page: i + 1,
            path: p.path.clone(),
            source,
        })?;
        let got =
            PdfPage::from_file(&bytes, p.dpi, output).map_err(|source| BundleError::Page {
                case: case.case_no,
                page: i + 1,
                path: p.path.clone(),
                source,
            })?;
        pages.extend(got);
    }
    Ok(pages)
}

fn tiff_name(pdf_name: &str) -> String {
    let stem = &pdf_name[..pdf_name.len().saturating_sub(4)];
    format!("{stem}.tif")
}

/// A multi-page G4 TIFF of the case, when every page is bilevel.
fn case_tiff(case: &CaseInput, pages: &[PdfPage]) -> Result<Option<Vec<u8>>, BundleError> {
    let mut g4 = Vec::with_capacity(pages.len());
    for p in pages {
        match &p.data {
            PageData::G4 { data, black_is_1 } => g4.push(G4Page {
                width: p.width,
                height: p.height,
                dpi: p.dpi,
                data: data.clone(),
                black_is_1: *black_is_1,
            }),
            PageData::Jpeg { .. } | PageData::Layered(_) => return Ok(None),
        }
    }
    g4tiff::tiff(&g4, SOFTWARE)
        .map(Some)
        .map_err(|e| BundleError::Tiff {
            case: case.case_no,
            detail: e.to_string(),
        })
}

/// `file,case,pages,bytes,sha256`, one line per case PDF.
pub fn manifest_csv(entries: &[CaseEntry]) -> String {
    let mut s = String::from("file,case,pages,bytes,sha256\n");
    for e in entries {
        s.push_str(&format!(
            "{},{},{},{},{}\n",
            csv_field(&e.file),
            e.case_no,
            e.pages,
            e.bytes,
            e.sha256
        ));
    }
    s
}

/// The data sheet. Its creation date is the book's last capture time, not
/// the clock, so finishing the same book twice gives the same bytes.
fn sheet_xlsx(
    book: &BookMeta,
    entries: &[CaseEntry],
    stamp: &DateTime<FixedOffset>,
) -> Result<Vec<u8>, BundleError> {
    let err = |e: rust_xlsxwriter::XlsxError| BundleError::Sheet(e.to_string());
    let mut wb = Workbook::new();
    let created = rust_xlsxwriter::ExcelDateTime::from_timestamp(stamp.timestamp()).map_err(err)?;
    wb.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&created));
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name("Cases").map_err(err)?;
    let headers = [
        "Sổ (book)",
        "Trường hợp (case)",
        "Tệp (file)",
        "Số trang (pages)",
        "Họ tên (name)",
        "Ngày đăng ký (registered)",
        "Ghi chú (notes)",
    ];
    for (col, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, col as u16, *h, &bold)
            .map_err(err)?;
    }
    for (i, e) in entries.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, &book.book_id).map_err(err)?;
        ws.write_number(row, 1, e.case_no as f64).map_err(err)?;
        ws.write_string(row, 2, &e.file).map_err(err)?;
        ws.write_number(row, 3, e.pages as f64).map_err(err)?;
    }
    for (col, width) in [
        (0u16, 14.0),
        (1, 16.0),
        (2, 26.0),
        (3, 16.0),
        (4, 28.0),
        (5, 22.0),
        (6, 30.0),
    ] {
        ws.set_column_width(col, width).map_err(err)?;
    }
    ws.set_freeze_panes(1, 0).map_err(err)?;
    wb.save_to_buffer().map_err(err)
}

fn zip_time(t: &DateTime<FixedOffset>) -> zip::DateTime {
    zip::DateTime::from_date_and_time(
        t.year().clamp(1980, 2107) as u16,
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second().min(58) as u8,
    )
    .unwrap_or_default()
}

fn bundle_zip(
    book: &BookMeta,
    pdfs: &[(String, Vec<u8>)],
    manifest: &str,
    sheet: &[u8],
    stamp: &DateTime<FixedOffset>,
) -> Result<Vec<u8>, BundleError> {
    let err = |e: zip::result::ZipError| BundleError::Zip(e.to_string());
    let io = |e: std::io::Error| BundleError::Zip(e.to_string());
    let opts = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(zip_time(stamp))
        .unix_permissions(0o644);
    let total: usize = pdfs.iter().map(|p| p.1.len()).sum::<usize>() + sheet.len() + manifest.len();
    let mut z = ZipWriter::new(Cursor::new(Vec::with_capacity(total + 4096)));
    for (name, bytes) in pdfs {
        z.start_file(name.as_str(), opts).map_err(err)?;
        z.write_all(bytes).map_err(io)?;
    }
    z.start_file("manifest.csv", opts).map_err(err)?;
    z.write_all(manifest.as_bytes()).map_err(io)?;
    z.start_file(format!("{}.xlsx", book.book_id), opts)
        .map_err(err)?;
    z.write_all(sheet).map_err(io)?;
    Ok(z.finish().map_err(err)?.into_inner())
}
