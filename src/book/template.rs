//! Naming templates such as `{type}.{year}.{book:02}`: parsing the template,
//! rendering it from values, and matching a name back into values.
//!
//! Written by hand because the syntax is tiny and the matcher must know that
//! `{type}` draws from the code table and numbers are digits, which a
//! general format or regex crate does not express. Never touches files.

use std::collections::BTreeMap;

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    /// A field, with a minimum width for zero padding (numbers only).
    Field {
        name: String,
        width: usize,
    },
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub source: String,
    pub segments: Vec<Segment>,
}

/// A value for rendering.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    Text(&'a str),
    Number(u64),
}

impl Template {
    /// Parses `text`, allowing only the `allowed` field names.
    pub fn parse(text: &str, allowed: &[&str]) -> Result<Template, String> {
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '{' => {
                    let mut spec = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some('{') | None => return Err(format!("unclosed '{{' in \"{text}\"")),
                            Some(c) => spec.push(c),
                        }
                    }
                    let (name, width) = match spec.split_once(':') {
                        None => (spec.as_str(), 0),
                        Some((name, w)) => {
                            let width = w.parse::<usize>().ok().filter(|w| *w <= 9).ok_or_else(|| {
                                format!("bad width \"{w}\" in {{{spec}}}: write a zero-padded width such as {{{name}:03}}")
                            })?;
                            (name, width)
                        }
                    };
                    if !allowed.contains(&name) {
                        return Err(format!(
                            "unknown field {{{name}}}; this template may use {}",
                            field_list(allowed)
                        ));
                    }
                    if !literal.is_empty() {
                        segments.push(Segment::Literal(std::mem::take(&mut literal)));
                    }
                    segments.push(Segment::Field {
                        name: name.to_string(),
                        width,
                    });
                }
                '}' => return Err(format!("stray '}}' in \"{text}\"")),
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            segments.push(Segment::Literal(literal));
        }
        Ok(Template {
            source: text.to_string(),
            segments,
        })
    }

    /// Whether the template uses field `name`.
    pub fn has(&self, name: &str) -> bool {
        self.segments
            .iter()
            .any(|s| matches!(s, Segment::Field { name: n, .. } if n == name))
    }

    /// The literal text of the template.
    pub fn literals(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Literal(l) => Some(l.as_str()),
            Segment::Field { .. } => None,
        })
    }

    /// Renders with `lookup` giving each field's value.
    pub fn render<'a>(&self, lookup: impl Fn(&str) -> Value<'a>) -> String {
        let mut out = String::new();
        for seg in &self.segments {
            match seg {
                Segment::Literal(l) => out.push_str(l),
                Segment::Field { name, width } => match lookup(name) {
                    Value::Text(t) => out.push_str(t),
                    Value::Number(n) => out.push_str(&format!("{n:0width$}", width = *width)),
                },
            }
        }
        out
    }

    /// Matches `text` against the template. `text_choices` gives, for a text
    /// field, the values it may take (None: any non-empty text); other fields
    /// are decimal numbers. Returns the captured field texts.
    pub fn matches(
        &self,
        text: &str,
        text_choices: &dyn Fn(&str) -> Option<Vec<String>>,
    ) -> Option<BTreeMap<String, String>> {
        let mut captures = BTreeMap::new();
        if match_from(&self.segments, text, text_choices, &mut captures) {
            Some(captures)
        } else {
            None
        }
    }
}

fn field_list(allowed: &[&str]) -> String {
    allowed
        .iter()
        .map(|a| format!("{{{a}}}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Backtracking matcher: tries every split a field could take.
fn match_from(
    segments: &[Segment],
    text: &str,
    choices: &dyn Fn(&str) -> Option<Vec<String>>,
    captures: &mut BTreeMap<String, String>,
) -> bool {
    let Some((first, rest)) = segments.split_first() else {
        return text.is_empty();
    };
    match first {
        Segment::Literal(l) => text
            .strip_prefix(l.as_str())
            .is_some_and(|t| match_from(rest, t, choices, captures)),
        Segment::Field { name, .. } => {
            let candidates: Vec<usize> = match choices(name) {
                Some(values) => values
                    .iter()
                    .filter(|v| text.starts_with(v.as_str()))
                    .map(|v| v.len())
                    .collect(),
                // A year is always four digits; other numbers take any length.
                None if name == "year" => {
                    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
                    if digits >= 4 {
                        vec![4]
                    } else {
                        vec![]
                    }
                }
                None if is_number_field(name) => {
                    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
                    (1..=digits).rev().collect()
                }
                None => text
                    .char_indices()
                    .skip(1)
                    .map(|(i, _)| i)
                    .chain([text.len()])
                    .collect(),
            };
            for len in candidates {
                if len == 0 {
                    continue;
                }
                let (head, tail) = text.split_at(len);
                // The same field twice must take the same value.
                if captures.get(name).is_some_and(|prev| prev != head) {
                    continue;
                }
                let fresh = captures.insert(name.clone(), head.to_string()).is_none();
                if match_from(rest, tail, choices, captures) {
                    return true;
                }
                if fresh {
                    captures.remove(name);
                }
            }
            false
        }
    }
}

fn is_number_field(name: &str) -> bool {
    matches!(name, "year" | "book" | "case" | "page")
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOOK: &[&str] = &["type", "year", "book", "locality"];

    #[test]
    fn parses_and_renders_with_padding() {
        let t = Template::parse("{type}.{year}.{book:02}", BOOK).unwrap();
        let s = t.render(|f| match f {
            "type" => Value::Text("KS"),
            "year" => Value::Number(2010),
            _ => Value::Number(1),
        });
        assert_eq!(s, "KS.2010.01");
    }

    #[test]
    fn rejects_bad_templates_with_reasons() {
        assert!(Template::parse("{type}.{nam}", BOOK)
            .unwrap_err()
            .contains("unknown field {nam}"));
        assert!(Template::parse("{type", BOOK)
            .unwrap_err()
            .contains("unclosed"));
        assert!(Template::parse("type}", BOOK)
            .unwrap_err()
            .contains("stray"));
        assert!(Template::parse("{book:x2}", BOOK)
            .unwrap_err()
            .contains("bad width"));
    }

    #[test]
    fn matches_adjacent_fields_by_backtracking() {
        let t = Template::parse("{type}{year}{book:02}", BOOK).unwrap();
        let codes = |f: &str| (f == "type").then(|| vec!["KS".to_string(), "KSX".to_string()]);
        let m = t.matches("KS201001", &codes).unwrap();
        assert_eq!(m["type"], "KS");
        assert_eq!(m["year"], "2010");
        assert_eq!(m["book"], "01");
        assert!(t.matches("ZZ201001", &codes).is_none());
    }
}
