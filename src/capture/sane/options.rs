//! SANE option descriptors and values as owned Rust data, and the parsing of
//! `NAME=VALUE` text (CLI `--opt`, config) into a typed value.
//!
//! Pure data: never calls SANE.

use serde::Serialize;

use super::error::ScanError;
use super::ffi;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueKind {
    Bool,
    Int,
    Fixed,
    String,
    Button,
    Group,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    None,
    Pixel,
    Bit,
    Mm,
    Dpi,
    Percent,
    Microsecond,
}

impl Unit {
    pub fn from_raw(u: i32) -> Unit {
        match u {
            1 => Unit::Pixel,
            2 => Unit::Bit,
            3 => Unit::Mm,
            4 => Unit::Dpi,
            5 => Unit::Percent,
            6 => Unit::Microsecond,
            _ => Unit::None,
        }
    }
}

/// An option's constraint. Range and word-list words are raw SANE words:
/// fixed-point for `Fixed` options (use `unfix`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Constraint {
    None,
    Range { min: i32, max: i32, quant: i32 },
    WordList(Vec<i32>),
    StringList(Vec<String>),
}

/// One option descriptor, copied out of the backend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptionDesc {
    pub index: i32,
    pub name: String,
    pub title: String,
    pub desc: String,
    pub kind: ValueKind,
    pub unit: Unit,
    pub size: i32,
    pub cap: i32,
    pub constraint: Constraint,
}

impl OptionDesc {
    pub fn has_cap(&self, c: i32) -> bool {
        self.cap & c != 0
    }
    pub fn is_active(&self) -> bool {
        !self.has_cap(ffi::CAP_INACTIVE)
    }
    pub fn is_settable(&self) -> bool {
        self.has_cap(ffi::CAP_SOFT_SELECT)
    }
    /// A sensor: read-only by software, changed by the hardware (buttons).
    pub fn is_sensor(&self) -> bool {
        self.has_cap(ffi::CAP_HARD_SELECT)
            && self.has_cap(ffi::CAP_SOFT_DETECT)
            && !self.has_cap(ffi::CAP_SOFT_SELECT)
    }
    /// Number of values (arrays have more than one).
    pub fn len(&self) -> usize {
        match self.kind {
            ValueKind::Int | ValueKind::Fixed => (self.size.max(4) / 4) as usize,
            _ => 1,
        }
    }
    pub fn is_empty(&self) -> bool {
        false
    }
    /// Capability names, for listings.
    pub fn cap_names(&self) -> Vec<&'static str> {
        let all = [
            (ffi::CAP_SOFT_SELECT, "soft-select"),
            (ffi::CAP_HARD_SELECT, "hard-select"),
            (ffi::CAP_SOFT_DETECT, "soft-detect"),
            (ffi::CAP_EMULATED, "emulated"),
            (ffi::CAP_AUTOMATIC, "automatic"),
            (ffi::CAP_INACTIVE, "inactive"),
            (ffi::CAP_ADVANCED, "advanced"),
        ];
        all.iter()
            .filter(|(c, _)| self.has_cap(*c))
            .map(|(_, n)| *n)
            .collect()
    }
}

/// A typed option value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum OptionValue {
    Bool(bool),
    Int(Vec<i32>),
    Fixed(Vec<f64>),
    Str(String),
    Button,
}

impl std::fmt::Display for OptionValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OptionValue::Bool(b) => f.write_str(if *b { "yes" } else { "no" }),
            OptionValue::Int(v) => {
                let s: Vec<String> = v.iter().map(|x| x.to_string()).collect();
                f.write_str(&s.join(","))
            }
            OptionValue::Fixed(v) => {
                let s: Vec<String> = v.iter().map(|x| x.to_string()).collect();
                f.write_str(&s.join(","))
            }
            OptionValue::Str(s) => f.write_str(s),
            OptionValue::Button => f.write_str("(button)"),
        }
    }
}

/// A value to set: either a typed value or "let the backend choose".
#[derive(Debug, Clone, PartialEq)]
pub enum Setting {
    Value(OptionValue),
    Auto,
    /// Text parsed against the descriptor current when it is applied (an
    /// earlier setting may change the option list, e.g. mode=Color makes
    /// three-pass active).
    Text(Option<String>),
}

/// Splits `NAME=VALUE` (a bare `NAME` means `yes` for bools / press for
/// buttons).
pub fn split_assignment(s: &str) -> (&str, Option<&str>) {
    match s.split_once('=') {
        Some((n, v)) => (n.trim().trim_start_matches("--"), Some(v)),
        None => (s.trim().trim_start_matches("--"), None),
    }
}

/// Parses the text of a value for the option `d`.
pub fn parse_value(d: &OptionDesc, text: Option<&str>) -> Result<Setting, ScanError> {
    let bad = |reason: String| ScanError::BadOption {
        name: d.name.clone(),
        reason,
    };
    if let Some(t) = text {
        if d.has_cap(ffi::CAP_AUTOMATIC) && t.eq_ignore_ascii_case("auto") {
            return Ok(Setting::Auto);
        }
    }
    let v = match d.kind {
        ValueKind::Bool => {
            let t = text.unwrap_or("yes").trim().to_ascii_lowercase();
            match t.as_str() {
                "yes" | "y" | "true" | "on" | "1" => OptionValue::Bool(true),
                "no" | "n" | "false" | "off" | "0" => OptionValue::Bool(false),
                _ => return Err(bad(format!("not a yes/no value: {t:?}"))),
            }
        }
        ValueKind::Int => {
            let t = text.ok_or_else(|| bad("needs a value".into()))?;
            let v: Result<Vec<i32>, _> = t
                .split(',')
                .map(|x| {
                    let x = x.trim();
                    x.parse::<i32>()
                        .or_else(|_| x.parse::<f64>().map(|f| f.round() as i32))
                })
                .collect();
            OptionValue::Int(v.map_err(|_| bad(format!("not an integer list: {t:?}")))?)
        }
        ValueKind::Fixed => {
            let t = text.ok_or_else(|| bad("needs a value".into()))?;
            let v: Result<Vec<f64>, _> = t.split(',').map(|x| x.trim().parse::<f64>()).collect();
            let v = v.map_err(|_| bad(format!("not a number list: {t:?}")))?;
            if v.iter().any(|f| !f.is_finite() || f.abs() >= 32768.0) {
                return Err(bad(format!("out of the fixed-point range: {t:?}")));
            }
            OptionValue::Fixed(v)
        }
        ValueKind::String => {
            let t = text.ok_or_else(|| bad("needs a value".into()))?;
            match &d.constraint {
                // Case-insensitive, giving the backend its own spelling.
                Constraint::StringList(l) => OptionValue::Str(
                    l.iter()
                        .find(|s| s.eq_ignore_ascii_case(t))
                        .ok_or_else(|| bad(format!("{t:?} is not one of {l:?}")))?
                        .clone(),
                ),
                _ => OptionValue::Str(t.to_string()),
            }
        }
        ValueKind::Button => OptionValue::Button,
        ValueKind::Group => return Err(bad("a group title, not an option".into())),
    };
    check_numbers(d, &v).map_err(bad)?;
    Ok(Setting::Value(v))
}

/// Checks Int/Fixed values against a range or word-list constraint, as raw
/// SANE words (quantisation is left to the backend, which rounds).
fn check_numbers(d: &OptionDesc, v: &OptionValue) -> Result<(), String> {
    let words: Vec<i32> = match v {
        OptionValue::Int(v) => v.clone(),
        OptionValue::Fixed(v) => v.iter().map(|&f| (f * 65536.0) as i32).collect(),
        _ => return Ok(()),
    };
    let show = |w: i32| {
        if d.kind == ValueKind::Fixed {
            (w as f64 / 65536.0).to_string()
        } else {
            w.to_string()
        }
    };
    for w in words {
        match &d.constraint {
            Constraint::Range { min, max, .. } if w < *min || w > *max => {
                return Err(format!(
                    "{} is outside {}..{}",
                    show(w),
                    show(*min),
                    show(*max)
                ))
            }
            Constraint::WordList(l) if !l.iter().any(|x| (x - w).abs() <= 1) => {
                let l: Vec<String> = l.iter().map(|&x| show(x)).collect();
                return Err(format!("{} is not one of {}", show(w), l.join("|")));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(kind: ValueKind, size: i32, cap: i32) -> OptionDesc {
        OptionDesc {
            index: 1,
            name: "x".into(),
            title: String::new(),
            desc: String::new(),
            kind,
            unit: Unit::None,
            size,
            cap,
            constraint: Constraint::None,
        }
    }

    #[test]
    fn parses_each_type() {
        let b = desc(ValueKind::Bool, 4, ffi::CAP_SOFT_SELECT);
        assert_eq!(
            parse_value(&b, None).unwrap(),
            Setting::Value(OptionValue::Bool(true))
        );
        assert_eq!(
            parse_value(&b, Some("no")).unwrap(),
            Setting::Value(OptionValue::Bool(false))
        );
        assert!(parse_value(&b, Some("maybe")).is_err());
        let i = desc(ValueKind::Int, 12, ffi::CAP_SOFT_SELECT);
        assert_eq!(
            parse_value(&i, Some("1, 2,3")).unwrap(),
            Setting::Value(OptionValue::Int(vec![1, 2, 3]))
        );
        let f = desc(
            ValueKind::Fixed,
            4,
            ffi::CAP_SOFT_SELECT | ffi::CAP_AUTOMATIC,
        );
        assert_eq!(parse_value(&f, Some("AUTO")).unwrap(), Setting::Auto);
        assert!(parse_value(&f, Some("1e9")).is_err());
        assert_eq!(split_assignment("--mode=Color"), ("mode", Some("Color")));
        let mut depth = desc(ValueKind::Int, 4, ffi::CAP_SOFT_SELECT);
        depth.constraint = Constraint::WordList(vec![1, 8, 16]);
        assert!(parse_value(&depth, Some("12")).is_err());
        assert!(parse_value(&depth, Some("16")).is_ok());
        let mut res = desc(ValueKind::Fixed, 4, ffi::CAP_SOFT_SELECT);
        res.constraint = Constraint::Range {
            min: 1 << 16,
            max: 1200 << 16,
            quant: 1 << 16,
        };
        assert!(parse_value(&res, Some("0.5")).is_err());
        assert!(parse_value(&res, Some("50")).is_ok());
        let mut mode = desc(ValueKind::String, 8, ffi::CAP_SOFT_SELECT);
        mode.constraint = Constraint::StringList(vec!["Gray".into(), "Color".into()]);
        assert_eq!(
            parse_value(&mode, Some("color")).unwrap(),
            Setting::Value(OptionValue::Str("Color".into()))
        );
        assert!(parse_value(&mode, Some("Sepia")).is_err());
        assert_eq!(split_assignment("preview"), ("preview", None));
    }
}
