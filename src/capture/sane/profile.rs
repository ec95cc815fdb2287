//! Scan profiles (mode, resolution, source, page size) mapped onto each
//! backend's own option names and values ("ADF Duplex", "Automatic Document
//! Feeder", "ADF Front", "Gray", "Grayscale", "True Gray"...).
//!
//! Pure: works on option descriptors, never calls SANE.

use serde::{Deserialize, Serialize};

use super::device::unfix;
use super::error::ScanError;
use super::options::{Constraint, OptionDesc, OptionValue, Setting, ValueKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Color,
    Gray,
    Lineart,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Flatbed,
    Adf,
    Duplex,
}

/// Page size in millimetres.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PageSize {
    pub width_mm: f64,
    pub height_mm: f64,
}

impl PageSize {
    pub const A4: PageSize = PageSize {
        width_mm: 210.0,
        height_mm: 297.0,
    };
    pub const A3: PageSize = PageSize {
        width_mm: 297.0,
        height_mm: 420.0,
    };
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanProfile {
    pub mode: Mode,
    pub resolution: u32,
    pub source: Source,
    #[serde(default)]
    pub page: Option<PageSize>,
}

impl Default for ScanProfile {
    fn default() -> Self {
        ScanProfile {
            mode: Mode::Gray,
            resolution: 300,
            source: Source::Adf,
            page: Some(PageSize::A4),
        }
    }
}

fn has(v: &str, words: &[&str]) -> bool {
    let l = v.to_lowercase();
    words.iter().any(|w| l.contains(w))
}

/// Classifies a backend's source value.
pub fn classify_source(v: &str) -> Source {
    if has(v, &["duplex", "double"]) {
        Source::Duplex
    } else if has(v, &["adf", "feeder", "automatic document", "sheet"]) {
        Source::Adf
    } else {
        Source::Flatbed
    }
}

/// Whether a source value feeds several sheets (ADF or duplex).
pub fn is_feeder(v: &str) -> bool {
    classify_source(v) != Source::Flatbed
}

fn classify_mode(v: &str) -> Option<Mode> {
    if has(v, &["color", "colour", "rgb"]) {
        Some(Mode::Color)
    } else if has(v, &["gray", "grey", "grau", "gris", "256"]) {
        Some(Mode::Gray)
    } else if has(
        v,
        &[
            "lineart",
            "line art",
            "binary",
            "black & white",
            "black and white",
            "mono",
            "bw",
        ],
    ) && !has(v, &["halftone", "dither"])
    {
        Some(Mode::Lineart)
    } else {
        None
    }
}

fn strings(d: &OptionDesc) -> &[String] {
    match &d.constraint {
        Constraint::StringList(l) => l,
        _ => &[],
    }
}

fn find<'a>(opts: &'a [OptionDesc], names: &[&str]) -> Option<&'a OptionDesc> {
    names.iter().find_map(|n| {
        opts.iter()
            .find(|o| o.name == *n && o.is_active() && o.is_settable())
    })
}

/// The backend value for a source, preferring the plainest (e.g. "ADF
/// Front" over "ADF Back" for simplex, "ADF Duplex" for duplex).
pub fn source_value(values: &[String], want: Source) -> Option<String> {
    let mut c: Vec<&String> = values
        .iter()
        .filter(|v| classify_source(v) == want)
        .collect();
    c.sort_by_key(|v| (has(v, &["back", "rear"]) as u8, v.len()));
    c.first().map(|s| s.to_string())
}

/// Numeric value of an Int or Fixed option, snapped to its constraint.
fn number(d: &OptionDesc, want: f64) -> OptionValue {
    let raw = |w: i32| {
        if d.kind == ValueKind::Fixed {
            unfix(w)
        } else {
            w as f64
        }
    };
    let v = match &d.constraint {
        Constraint::Range { min, max, .. } => want.clamp(raw(*min), raw(*max)),
        Constraint::WordList(l) if !l.is_empty() => l
            .iter()
            .map(|&w| raw(w))
            .min_by(|a, b| (a - want).abs().total_cmp(&(b - want).abs()))
            .unwrap_or(want),
        _ => want,
    };
    if d.kind == ValueKind::Fixed {
        OptionValue::Fixed(vec![v])
    } else {
        OptionValue::Int(vec![v.round() as i32])
    }
}

/// The option settings for a profile, in the order to apply them (source
/// and mode first: they change which other options exist).
pub fn settings(
    profile: &ScanProfile,
    opts: &[OptionDesc],
) -> Result<Vec<(String, Setting)>, ScanError> {
    let mut out = Vec::new();
    let bad = |name: &str, reason: String| ScanError::BadOption {
        name: name.into(),
        reason,
    };
    match find(opts, &["source", "scan-source", "doc-source"]) {
        Some(d) => {
            let v = source_value(strings(d), profile.source).ok_or_else(|| {
                bad(
                    &d.name,
                    format!("no value for {:?} among {:?}", profile.source, strings(d)),
                )
            })?;
            out.push((d.name.clone(), Setting::Value(OptionValue::Str(v))));
        }
        None if profile.source != Source::Flatbed => {
            // Some feeders have no source option but an "adf"/"duplex" bool.
            let flag = if profile.source == Source::Duplex {
                find(opts, &["duplex", "adf-duplex"])
            } else {
                find(opts, &["adf", "feeder"])
            };
            match flag {
                Some(d) if d.kind == ValueKind::Bool => {
                    out.push((d.name.clone(), Setting::Value(OptionValue::Bool(true))))
                }
                _ => {
                    return Err(bad(
                        "source",
                        format!("this scanner has no {:?} source", profile.source),
                    ))
                }
            }
        }
        None => {}
    }
    if let Some(d) = find(opts, &["mode", "scan-mode", "color-mode"]) {
        let v = strings(d)
            .iter()
            .find(|v| classify_mode(v) == Some(profile.mode))
            .ok_or_else(|| {
                bad(
                    &d.name,
                    format!("no value for {:?} among {:?}", profile.mode, strings(d)),
                )
            })?;
        out.push((d.name.clone(), Setting::Value(OptionValue::Str(v.clone()))));
    }
    if let Some(d) = find(opts, &["resolution", "scan-resolution"]) {
        out.push((
            d.name.clone(),
            Setting::Value(number(d, profile.resolution as f64)),
        ));
    } else {
        for n in ["x-resolution", "y-resolution"] {
            if let Some(d) = find(opts, &[n]) {
                out.push((
                    n.into(),
                    Setting::Value(number(d, profile.resolution as f64)),
                ));
            }
        }
    }
    if let Some(p) = profile.page {
        // Page-size options of sheet-fed scanners first, then the scan area.
        for (n, v) in [("page-width", p.width_mm), ("page-height", p.height_mm)] {
            if let Some(d) = find(opts, &[n]) {
                out.push((n.into(), Setting::Value(number(d, v))));
            }
        }
        for (n, v) in [
            ("tl-x", 0.0),
            ("tl-y", 0.0),
            ("br-x", p.width_mm),
            ("br-y", p.height_mm),
        ] {
            if let Some(d) = find(opts, &[n]) {
                out.push((n.into(), Setting::Value(number(d, v))));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::sane::ffi;
    use crate::capture::sane::options::Unit;

    fn list(name: &str, values: &[&str]) -> OptionDesc {
        OptionDesc {
            index: 1,
            name: name.into(),
            title: String::new(),
            desc: String::new(),
            kind: ValueKind::String,
            unit: Unit::None,
            size: 64,
            cap: ffi::CAP_SOFT_SELECT | ffi::CAP_SOFT_DETECT,
            constraint: Constraint::StringList(values.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn maps_backend_source_names() {
        let fujitsu = ["Flatbed", "ADF Front", "ADF Back", "ADF Duplex"];
        let v: Vec<String> = fujitsu.iter().map(|s| s.to_string()).collect();
        assert_eq!(source_value(&v, Source::Adf).as_deref(), Some("ADF Front"));
        assert_eq!(
            source_value(&v, Source::Duplex).as_deref(),
            Some("ADF Duplex")
        );
        assert_eq!(
            source_value(&v, Source::Flatbed).as_deref(),
            Some("Flatbed")
        );
        let test = vec![
            "Flatbed".to_string(),
            "Automatic Document Feeder".to_string(),
        ];
        assert_eq!(
            source_value(&test, Source::Adf).as_deref(),
            Some("Automatic Document Feeder")
        );
        assert_eq!(source_value(&test, Source::Duplex), None);
    }

    #[test]
    fn maps_mode_and_geometry() {
        let mut res = list("resolution", &[]);
        res.kind = ValueKind::Int;
        res.constraint = Constraint::WordList(vec![150, 200, 300, 600]);
        let mut brx = list("br-x", &[]);
        brx.kind = ValueKind::Fixed;
        brx.constraint = Constraint::Range {
            min: 0,
            max: 200 << 16,
            quant: 0,
        };
        let opts = vec![
            list("source", &["Flatbed", "ADF"]),
            list("mode", &["Lineart", "Halftone", "Gray", "Color"]),
            res,
            brx,
        ];
        let p = ScanProfile {
            mode: Mode::Gray,
            resolution: 280,
            source: Source::Adf,
            page: Some(PageSize::A4),
        };
        let s = settings(&p, &opts).unwrap();
        assert_eq!(
            s,
            vec![
                (
                    "source".into(),
                    Setting::Value(OptionValue::Str("ADF".into()))
                ),
                (
                    "mode".into(),
                    Setting::Value(OptionValue::Str("Gray".into()))
                ),
                (
                    "resolution".into(),
                    Setting::Value(OptionValue::Int(vec![300]))
                ),
                (
                    "br-x".into(),
                    Setting::Value(OptionValue::Fixed(vec![200.0]))
                ),
            ]
        );
        let duplex = ScanProfile {
            source: Source::Duplex,
            ..p
        };
        assert!(settings(&duplex, &opts).is_err());
    }
}
