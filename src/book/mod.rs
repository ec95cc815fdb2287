//! Books (quyển sổ): the register code table, validated book IDs, and the
//! names of books, cases and pages rendered from the config's templates.
//!
//! Every name that reaches the file system passes through here, so this is
//! where anything that could escape the archive or confuse a file system is
//! refused. Never touches files itself.

pub mod template;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use template::{Template, Value};

/// Register types: code -> Vietnamese display name (`[registers]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Registers(pub BTreeMap<String, String>);

impl Default for Registers {
    fn default() -> Self {
        let table = [
            ("KS", "Khai sinh"),
            ("KT", "Khai tử"),
            ("KH", "Kết hôn"),
            ("CMC", "Nhận cha, mẹ, con"),
            ("GH", "Giám hộ"),
            ("TĐCC", "Thay đổi, cải chính hộ tịch"),
            ("XNHN", "Xác nhận tình trạng hôn nhân"),
        ];
        Registers(
            table
                .iter()
                .map(|(c, n)| (c.to_string(), n.to_string()))
                .collect(),
        )
    }
}

impl Registers {
    pub fn validate(&self, errors: &mut Vec<String>) {
        if self.0.is_empty() {
            errors.push(
                "registers: the code table is empty; at least one register type is needed".into(),
            );
        }
        for code in self.0.keys() {
            if code.is_empty() || !code.chars().all(char::is_alphabetic) {
                errors.push(format!(
                    "registers.{code}: a register code is letters only (like KS or TĐCC)"
                ));
            } else if code.nfc().collect::<String>() != *code || code.to_uppercase() != *code {
                errors.push(format!(
                    "registers.{code}: write the code in upper case (NFC), like {}",
                    code.to_uppercase()
                ));
            }
        }
    }

    /// The configured code for `input`: exact, case-insensitive, or its
    /// ASCII-folded form (TDCC for TĐCC).
    pub fn lookup(&self, input: &str) -> Option<&str> {
        let upper = input.to_uppercase();
        let folded = fold_ascii(&upper);
        self.0
            .keys()
            .find(|code| **code == upper)
            .or_else(|| self.0.keys().find(|code| fold_ascii(code) == folded))
            .map(String::as_str)
    }
}

/// `[naming]`: templates for every name the archive holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NamingConfig {
    pub book: String,
    pub case_pdf: String,
    pub page: String,
    /// Folder of a book, relative to the archive root.
    pub folder: String,
    /// Fold file and folder names to ASCII (TĐCC -> TDCC, Đông Hà -> Dong Ha).
    pub ascii_names: bool,
}

impl Default for NamingConfig {
    fn default() -> Self {
        Self {
            book: "{type}.{year}.{book:02}".into(),
            case_pdf: "{type}.{year}.{book:02}.{case:03}.pdf".into(),
            page: "{type}.{year}.{book:02}.p{page:04}.{ext}".into(),
            folder: "{locality}/{type}/{year}/{book_id}".into(),
            ascii_names: false,
        }
    }
}

/// `[books]`: what a valid book ID may hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BooksConfig {
    pub year_min: u16,
    /// Latest year accepted; 0 means the current year.
    pub year_max: u16,
    pub number_max: u32,
}

impl Default for BooksConfig {
    fn default() -> Self {
        Self {
            year_min: 1900,
            year_max: 0,
            number_max: 9999,
        }
    }
}

impl BooksConfig {
    pub fn validate(&self, errors: &mut Vec<String>) {
        if !(1000..=9999).contains(&self.year_min) {
            errors.push(format!(
                "books.year_min: {} is not a four-digit year",
                self.year_min
            ));
        }
        if self.year_max != 0 && (self.year_max < self.year_min || self.year_max > 9999) {
            errors.push(format!(
                "books.year_max: {} must be a four-digit year not before books.year_min ({}), or 0 for the current year",
                self.year_max, self.year_min
            ));
        }
        if self.number_max == 0 {
            errors.push("books.number_max: must be at least 1".into());
        }
    }

    fn year_max(&self) -> u16 {
        if self.year_max == 0 {
            use chrono::Datelike;
            chrono::Local::now().year().clamp(1000, 9999) as u16
        } else {
            self.year_max
        }
    }
}

/// A validated book: register type, year, book number and locality.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BookId {
    /// Register code as configured (e.g. "TĐCC").
    pub register: String,
    pub year: u16,
    pub number: u32,
    /// Locality keeping the book, NFC (e.g. "Đông Hà").
    pub locality: String,
}

impl fmt::Display for BookId {
    /// The canonical key used by the journal: `LOCALITY/TYPE.YEAR.NN`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}.{}.{:02}",
            self.locality, self.register, self.year, self.number
        )
    }
}

/// Why a book ID or a name part was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookIdError {
    #[error(
        "\"{input}\" does not match the book name pattern \"{template}\" (for example {example})"
    )]
    Pattern {
        input: String,
        template: String,
        example: String,
    },
    #[error("unknown register type \"{code}\"; known: {known}")]
    UnknownType { code: String, known: String },
    #[error("year {year} is outside {min}..{max}")]
    Year { year: String, min: u16, max: u16 },
    #[error("book number \"{number}\" must be between 1 and {max}")]
    Number { number: String, max: u32 },
    #[error("{what} \"{value}\" {problem}")]
    Unsafe {
        what: &'static str,
        value: String,
        problem: &'static str,
    },
}

/// Refuses text that could escape the archive or confuse a file system.
pub fn check_name_part(what: &'static str, value: &str) -> Result<(), BookIdError> {
    let bad = |problem| {
        Err(BookIdError::Unsafe {
            what,
            value: value.escape_debug().to_string(),
            problem,
        })
    };
    if value.is_empty() {
        return bad("is empty");
    }
    if value.chars().count() > 100 {
        return bad("is longer than 100 characters");
    }
    if value.chars().any(|c| c == '/' || c == '\\') {
        return bad("contains a path separator (/ or \\)");
    }
    if value.contains("..") {
        return bad("contains \"..\"");
    }
    if value.chars().any(char::is_control) {
        return bad("contains a control character");
    }
    if value
        .chars()
        .any(|c| matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*'))
    {
        return bad(
            "contains one of < > : \" | ? * which Windows and many receiving systems refuse",
        );
    }
    if value.starts_with('.') || value.starts_with('-') {
        return bad("starts with '.' or '-'");
    }
    if value.trim() != value {
        return bad("starts or ends with a space");
    }
    Ok(())
}

/// Folds Vietnamese (and any) text to ASCII for file names: Đ -> D, ô -> o.
pub fn fold_ascii(text: &str) -> String {
    deunicode::deunicode(text)
}

/// Book, case and page names, from validated templates.
#[derive(Debug, Clone)]
pub struct Naming {
    book: Template,
    case_pdf: Template,
    page: Template,
    folder: Template,
    ascii: bool,
    registers: Registers,
    books: BooksConfig,
}

const BOOK_FIELDS: &[&str] = &["type", "year", "book", "locality"];
const CASE_FIELDS: &[&str] = &["type", "year", "book", "locality", "case"];
const PAGE_FIELDS: &[&str] = &["type", "year", "book", "locality", "page", "ext"];
const FOLDER_FIELDS: &[&str] = &["type", "year", "book", "locality", "book_id"];

impl Naming {
    /// Validates the templates; problems are reported as `naming.KEY: ...`.
    pub fn new(
        cfg: &NamingConfig,
        registers: &Registers,
        books: &BooksConfig,
    ) -> Result<Naming, Vec<String>> {
        let mut errors = Vec::new();
        let mut parse = |key: &str,
                         text: &str,
                         fields: &[&str],
                         required: &[&str],
                         folder: bool| {
            let t = Template::parse(text, fields).map_err(|e| format!("naming.{key}: {e}"));
            let t = match t {
                Ok(t) => t,
                Err(e) => {
                    errors.push(e);
                    return None;
                }
            };
            for r in required {
                if !t.has(r) {
                    errors.push(format!(
                        "naming.{key}: \"{text}\" must use {{{r}}}, or names would collide"
                    ));
                }
            }
            let lits: String = t.literals().collect();
            if t.literals().any(|l| l.contains(".."))
                || lits.contains('\\')
                || lits.chars().any(char::is_control)
                || (!folder && lits.contains('/'))
            {
                errors.push(format!(
                    "naming.{key}: \"{text}\" has a path separator, \"..\" or a control character"
                ));
            }
            if folder && text.split('/').any(|part| part.is_empty() || part == ".") {
                errors.push(format!(
                    "naming.{key}: \"{text}\" has an empty or \".\" folder level"
                ));
            }
            if folder && (text.starts_with('/') || text.ends_with('/')) {
                errors.push(format!("naming.{key}: \"{text}\" must be relative to the archive root, without leading or trailing '/'"));
            }
            Some(t)
        };
        let book = parse(
            "book",
            &cfg.book,
            BOOK_FIELDS,
            &["type", "year", "book"],
            false,
        );
        let case_pdf = parse("case_pdf", &cfg.case_pdf, CASE_FIELDS, &["case"], false);
        let page = parse("page", &cfg.page, PAGE_FIELDS, &["page", "ext"], false);
        let folder = parse("folder", &cfg.folder, FOLDER_FIELDS, &[], true);
        match (book, case_pdf, page, folder) {
            (Some(book), Some(case_pdf), Some(page), Some(folder)) if errors.is_empty() => {
                Ok(Naming {
                    book,
                    case_pdf,
                    page,
                    folder,
                    ascii: cfg.ascii_names,
                    registers: registers.clone(),
                    books: books.clone(),
                })
            }
            _ => Err(errors),
        }
    }

    pub fn registers(&self) -> &Registers {
        &self.registers
    }

    /// Builds a book ID from parts, validating each one.
    pub fn book_id(
        &self,
        register: &str,
        year: u16,
        number: u32,
        locality: &str,
    ) -> Result<BookId, BookIdError> {
        let locality: String = locality.trim().nfc().collect();
        check_name_part("locality", &locality)?;
        let register =
            self.registers
                .lookup(register.trim())
                .ok_or_else(|| BookIdError::UnknownType {
                    code: register.to_string(),
                    known: self
                        .registers
                        .0
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
        let (min, max) = (self.books.year_min, self.books.year_max());
        if !(min..=max).contains(&year) {
            return Err(BookIdError::Year {
                year: year.to_string(),
                min,
                max,
            });
        }
        if number == 0 || number > self.books.number_max {
            return Err(BookIdError::Number {
                number: number.to_string(),
                max: self.books.number_max,
            });
        }
        Ok(BookId {
            register: register.to_string(),
            year,
            number,
            locality,
        })
    }

    /// Parses a book name such as `KS.2010.01` (per `naming.book`). The
    /// locality comes from the name when the template holds it, else from
    /// `default_locality`.
    pub fn parse_book(&self, input: &str, default_locality: &str) -> Result<BookId, BookIdError> {
        let input: String = input.trim().nfc().collect();
        check_name_part("book ID", &input)?;
        let mut codes: Vec<String> = self.registers.0.keys().cloned().collect();
        codes.extend(self.registers.0.keys().map(|c| fold_ascii(c)));
        codes.extend(codes.clone().iter().map(|c| c.to_lowercase()));
        let choices = |field: &str| (field == "type").then(|| codes.clone());
        let pattern_err = || BookIdError::Pattern {
            input: input.clone(),
            template: self.book.source.clone(),
            example: self.render_book(&BookId {
                register: "KS".into(),
                year: 2010,
                number: 1,
                locality: default_locality.into(),
            }),
        };
        let Some(found) = self.book.matches(&input, &choices) else {
            // Say which part is wrong when the shape is right but the code is unknown.
            let any_code = |_: &str| None;
            if let Some(m) = self.book.matches(&input, &any_code) {
                if let Some(code) = m.get("type") {
                    if self.registers.lookup(code).is_none() {
                        return Err(BookIdError::UnknownType {
                            code: code.clone(),
                            known: self
                                .registers
                                .0
                                .keys()
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", "),
                        });
                    }
                }
            }
            return Err(pattern_err());
        };
        let year_text = &found["year"];
        let year: u16 = year_text.parse().map_err(|_| BookIdError::Year {
            year: year_text.clone(),
            min: self.books.year_min,
            max: self.books.year_max(),
        })?;
        let number_text = &found["book"];
        let number: u32 = number_text.parse().map_err(|_| BookIdError::Number {
            number: number_text.clone(),
            max: self.books.number_max,
        })?;
        let locality = found
            .get("locality")
            .map(String::as_str)
            .unwrap_or(default_locality);
        self.book_id(&found["type"], year, number, locality)
    }

    fn fields<'a>(
        &self,
        id: &'a BookId,
        register: &'a str,
        locality: &'a str,
    ) -> impl Fn(&str) -> Value<'a> + 'a {
        let (year, number) = (id.year, id.number);
        move |f: &str| match f {
            "type" => Value::Text(register),
            "year" => Value::Number(year as u64),
            "book" => Value::Number(number as u64),
            _ => Value::Text(locality),
        }
    }

    /// The book's display name, e.g. `TĐCC.2010.01` (never folded).
    pub fn render_book(&self, id: &BookId) -> String {
        self.book
            .render(self.fields(id, &id.register, &id.locality))
    }

    /// Folds a rendered file or folder name when `ascii_names` is on.
    fn file_text(&self, text: String) -> String {
        if self.ascii {
            fold_ascii(&text)
        } else {
            text
        }
    }

    /// The book's folder relative to the archive root.
    pub fn book_dir(&self, id: &BookId) -> PathBuf {
        let book_id = self.render_book(id);
        let base = self.fields(id, &id.register, &id.locality);
        let rendered = self.folder.render(|f| {
            if f == "book_id" {
                Value::Text(&book_id)
            } else {
                base(f)
            }
        });
        PathBuf::from(self.file_text(rendered))
    }

    /// File name of page `page` (1-based) with extension `ext`.
    pub fn page_file(&self, id: &BookId, page: u32, ext: &str) -> String {
        let base = self.fields(id, &id.register, &id.locality);
        self.file_text(self.page.render(|f| match f {
            "page" => Value::Number(page as u64),
            "ext" => Value::Text(ext),
            other => base(other),
        }))
    }

    /// File name of case `case` (1-based) of the book.
    pub fn case_file(&self, id: &BookId, case: u32) -> String {
        let base = self.fields(id, &id.register, &id.locality);
        self.file_text(self.case_pdf.render(|f| {
            if f == "case" {
                Value::Number(case as u64)
            } else {
                base(f)
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naming(cfg: NamingConfig) -> Naming {
        Naming::new(&cfg, &Registers::default(), &BooksConfig::default()).unwrap()
    }

    #[test]
    fn default_names_round_trip() {
        let n = naming(NamingConfig::default());
        let id = n.parse_book("KS.2010.01", "Đông Hà").unwrap();
        assert_eq!(
            id,
            BookId {
                register: "KS".into(),
                year: 2010,
                number: 1,
                locality: "Đông Hà".into()
            }
        );
        assert_eq!(n.render_book(&id), "KS.2010.01");
        assert_eq!(n.parse_book(&n.render_book(&id), "Đông Hà").unwrap(), id);
        assert_eq!(n.book_dir(&id), PathBuf::from("Đông Hà/KS/2010/KS.2010.01"));
        assert_eq!(n.page_file(&id, 7, "jpg"), "KS.2010.01.p0007.jpg");
        assert_eq!(n.case_file(&id, 12), "KS.2010.01.012.pdf");
    }

    #[test]
    fn vietnamese_codes_and_localities_survive() {
        let n = naming(NamingConfig::default());
        let id = n.parse_book("TĐCC.1999.12", "Đông Hà").unwrap();
        assert_eq!(id.register, "TĐCC");
        assert_eq!(
            n.book_dir(&id),
            PathBuf::from("Đông Hà/TĐCC/1999/TĐCC.1999.12")
        );
        // Decomposed input (as macOS writes it) is the same book.
        let nfd: String = "TĐCC.1999.12".nfd().collect();
        assert_eq!(n.parse_book(&nfd, "Đông Hà").unwrap(), id);
        // Lower case and the folded spelling name the same register.
        assert_eq!(n.parse_book("tđcc.1999.12", "Đông Hà").unwrap(), id);
        assert_eq!(n.parse_book("TDCC.1999.12", "Đông Hà").unwrap(), id);
    }

    #[test]
    fn ascii_folding_applies_to_file_names_only() {
        let n = naming(NamingConfig {
            ascii_names: true,
            ..NamingConfig::default()
        });
        let id = n.parse_book("TĐCC.1999.12", "Đông Hà").unwrap();
        assert_eq!(n.render_book(&id), "TĐCC.1999.12");
        assert_eq!(
            n.book_dir(&id),
            PathBuf::from("Dong Ha/TDCC/1999/TDCC.1999.12")
        );
        assert_eq!(n.page_file(&id, 1, "tif"), "TDCC.1999.12.p0001.tif");
        assert_eq!(n.case_file(&id, 1), "TDCC.1999.12.001.pdf");
    }

    #[test]
    fn custom_template_with_locality_round_trips() {
        let n = naming(NamingConfig {
            book: "{locality}_{type}-{year}-{book:03}".into(),
            ..NamingConfig::default()
        });
        let id = n.parse_book("Đông Hà_KH-1987-004", "ignored").unwrap();
        assert_eq!(
            (
                id.locality.as_str(),
                id.register.as_str(),
                id.year,
                id.number
            ),
            ("Đông Hà", "KH", 1987, 4)
        );
        assert_eq!(n.render_book(&id), "Đông Hà_KH-1987-004");
    }

    #[test]
    fn every_rejection_says_why() {
        let n = naming(NamingConfig::default());
        let err = |s: &str, loc: &str| n.parse_book(s, loc).unwrap_err().to_string();
        assert!(err("KS/2010.01", "X").contains("path separator"));
        assert!(err("KS\\2010.01", "X").contains("path separator"));
        assert!(err("KS..2010.01", "X").contains(".."));
        assert!(err("KS.2010.01\u{1b}", "X").contains("control character"));
        assert!(err("KS.20\u{7}10.01", "X").contains("control character"));
        assert!(err("ZZ.2010.01", "X").contains("unknown register type \"ZZ\""));
        assert!(err("KS.1700.01", "X").contains("year 1700"));
        assert!(err("KS.9000.01", "X").contains("year 9000"));
        assert!(err("KS.2010.00", "X").contains("book number"));
        assert!(err("KS.2010", "X").contains("does not match"));
        assert!(err("", "X").contains("is empty"));
        assert!(err("KS.2010.01", "../etc").contains("locality"));
        assert!(err("KS.2010.01", "a/b").contains("path separator"));
        assert!(err("KS.2010.01", "x\0y").contains("control character"));
        assert!(err("KS.2010.01", "Đông:Hà").contains("Windows"));
        assert!(err("KS.2010.01", ".hidden").contains("starts with '.'"));
    }

    #[test]
    fn bad_templates_and_codes_are_config_errors() {
        let bad = NamingConfig {
            page: "{type}.{year}.p{page}".into(),
            folder: "../{type}".into(),
            ..NamingConfig::default()
        };
        let errs = Naming::new(&bad, &Registers::default(), &BooksConfig::default()).unwrap_err();
        assert!(
            errs.iter()
                .any(|e| e.starts_with("naming.page:") && e.contains("{ext}")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.starts_with("naming.folder:") && e.contains("..")),
            "{errs:?}"
        );
        let mut regs = Registers::default();
        regs.0.insert("K/S".into(), "x".into());
        regs.0.insert("ks".into(), "x".into());
        let mut errs = Vec::new();
        regs.validate(&mut errs);
        assert!(
            errs.iter().any(|e| e.starts_with("registers.K/S:")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.starts_with("registers.ks:") && e.contains("upper case")),
            "{errs:?}"
        );
    }
}
