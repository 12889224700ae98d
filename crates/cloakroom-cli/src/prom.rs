//! A tolerant reader of the Prometheus text exposition format (and OpenMetrics' superset of it).
//!
//! It never panics: a line it cannot read is counted in [`Parsed::skipped`] and left out.

use std::collections::BTreeMap;

/// One sample: `name{labels} value [timestamp]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Debug, Default)]
pub struct Parsed {
    pub samples: Vec<Sample>,
    /// `# TYPE` declarations by metric family.
    pub types: BTreeMap<String, String>,
    /// Lines that could not be read.
    pub skipped: usize,
}

impl Parsed {
    /// Samples with this exact name.
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| s.name == name)
    }

    /// The sum of the finite, non-negative values of samples with this name matching `pred`.
    pub fn sum_where(&self, name: &str, pred: impl Fn(&Sample) -> bool) -> Option<f64> {
        let mut found = false;
        let mut total = 0.0;
        for s in self.named(name).filter(|s| pred(s)) {
            if s.value.is_finite() && s.value >= 0.0 {
                found = true;
                total += s.value;
            }
        }
        found.then_some(total)
    }
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

fn parse_value(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        "NaN" | "nan" => Some(f64::NAN),
        _ => s.parse::<f64>().ok(),
    }
}

/// Reads `{k="v",...}` starting at `rest` (just after `{`); returns labels and the text after `}`.
fn parse_labels(rest: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut labels = Vec::new();
    let mut chars = rest.char_indices().peekable();
    loop {
        // Skip spaces and commas between labels.
        while let Some(&(_, c)) = chars.peek() {
            if c == ' ' || c == ',' || c == '\t' {
                chars.next();
            } else {
                break;
            }
        }
        let (start, c) = chars.next()?;
        if c == '}' {
            return Some((labels, &rest[start + 1..]));
        }
        if !is_name_start(c) {
            return None;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(i, c)) = chars.peek() {
            if is_name_char(c) {
                end = i + c.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        let key = rest[start..end].to_owned();
        while let Some(&(_, ' ')) = chars.peek() {
            chars.next();
        }
        if chars.next()?.1 != '=' {
            return None;
        }
        while let Some(&(_, ' ')) = chars.peek() {
            chars.next();
        }
        if chars.next()?.1 != '"' {
            return None;
        }
        let mut value = String::new();
        loop {
            let (_, c) = chars.next()?;
            match c {
                '"' => break,
                '\\' => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    '\\' => value.push('\\'),
                    '"' => value.push('"'),
                    other => {
                        value.push('\\');
                        value.push(other);
                    }
                },
                other => value.push(other),
            }
        }
        labels.push((key, value));
    }
}

fn parse_sample(line: &str) -> Option<Sample> {
    let line = line.trim();
    let first = line.chars().next()?;
    if !is_name_start(first) {
        return None;
    }
    let name_end = line
        .char_indices()
        .find(|&(_, c)| !is_name_char(c))
        .map(|(i, _)| i)
        .unwrap_or(line.len());
    let name = &line[..name_end];
    let mut rest = line[name_end..].trim_start();
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        let (l, r) = parse_labels(after)?;
        labels = l;
        rest = r.trim_start();
    }
    let mut parts = rest.split_whitespace();
    let value = parse_value(parts.next()?)?;
    // An optional timestamp may follow; more is an error.
    if let Some(ts) = parts.next() {
        ts.parse::<f64>().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// Parses exposition text. Comments other than `# TYPE` are ignored.
pub fn parse(text: &str) -> Parsed {
    let mut p = Parsed::default();
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if let Some(c) = t.strip_prefix('#') {
            let mut words = c.split_whitespace();
            if words.next() == Some("TYPE") {
                if let (Some(n), Some(ty)) = (words.next(), words.next()) {
                    p.types.insert(n.to_owned(), ty.to_owned());
                }
            }
            continue;
        }
        match parse_sample(t) {
            Some(s) => p.samples.push(s),
            None => p.skipped += 1,
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_samples_labels_and_types() {
        let p = parse(
            "# HELP x help text\n# TYPE jvm_memory_used_bytes gauge\n\
             jvm_memory_used_bytes{area=\"heap\",id=\"G1 Old Gen\"} 8.1573632E7\n\
             process_uptime_seconds 857.255 1700000000000\n\
             weird{a=\"q\\\"uote\\\\ \\n\",} +Inf\n",
        );
        assert_eq!(p.skipped, 0);
        assert_eq!(p.samples.len(), 3);
        assert_eq!(p.samples[0].label("id"), Some("G1 Old Gen"));
        assert_eq!(p.samples[0].value, 81_573_632.0);
        assert_eq!(p.samples[1].value, 857.255);
        assert_eq!(p.samples[2].label("a"), Some("q\"uote\\ \n"));
        assert!(p.samples[2].value.is_infinite());
        assert_eq!(p.types["jvm_memory_used_bytes"], "gauge");
    }

    #[test]
    fn malformed_lines_are_skipped_not_fatal() {
        let bad = [
            "no_value",
            "x{a=\"unterminated} 1",
            "x{a=unquoted} 1",
            "x{=\"v\"} 1",
            "x 1 2 3",
            "x notanumber",
            "{} 1",
            "1abc 2",
            "x{a=\"v\"",
            "x{",
            "x{a",
            "x{a=",
            "x{a=\"\\",
            "é 1",
            "x\u{0} 1",
        ];
        for b in bad {
            let p = parse(b);
            assert_eq!(p.samples.len(), 0, "{b:?} gave {:?}", p.samples);
            assert_eq!(p.skipped, 1, "{b:?}");
        }
        let p = parse("ok 1\n\u{feff}garbage ###\nok2{l=\"é\"} 2\n");
        assert_eq!(p.samples.len(), 2);
        assert_eq!(p.skipped, 1);
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        // A cheap deterministic fuzz: every prefix of a tricky text, and byte soup.
        let tricky = "a{b=\"c\\\\\\\"d\",e=\"é\"} -1.5e3 123\n# TYPE a counter\nb{} NaN\n";
        for i in 0..=tricky.len() {
            if tricky.is_char_boundary(i) {
                let _ = parse(&tricky[..i]);
            }
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let mut s = String::new();
            for _ in 0..(seed % 40) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let pool = b"ab_:{}=\",\\ \n#0.9eE+-InfNaN\t";
                s.push(pool[(seed % pool.len() as u64) as usize] as char);
            }
            let _ = parse(&s);
        }
    }

    #[test]
    fn sums_skip_negative_placeholders() {
        let p = parse("m{area=\"heap\"} -1.0\nm{area=\"heap\"} 10\nm{area=\"nonheap\"} 5\n");
        assert_eq!(
            p.sum_where("m", |s| s.label("area") == Some("heap")),
            Some(10.0)
        );
        assert_eq!(p.sum_where("missing", |_| true), None);
    }

    fn escape(v: &str) -> String {
        v.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    }

    /// proptest: any text parses without panicking, every non-comment line is either a sample
    /// or counted as skipped, and well-formed samples (escaped labels, any float) read back
    /// exactly. `PROPTEST_CASES=N` runs longer.
    #[test]
    fn property_arbitrary_text_and_well_formed_samples() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestRunner};
        let cases = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1000);
        let config = Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        };
        let text = prop_oneof![
            ".{0,200}",
            proptest::collection::vec(any::<u8>(), 0..200)
                .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
            "([a-z_:{}=\",\\\\ #0-9.eE+-]|Inf|NaN|\n|\t|é){0,60}",
        ];
        TestRunner::new(config.clone())
            .run(&text, |t| {
                let p = parse(&t);
                let lines = t
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .count();
                prop_assert_eq!(p.samples.len() + p.skipped, lines);
                Ok(())
            })
            .unwrap();

        let sample = (
            "[a-zA-Z_:][a-zA-Z0-9_:]{0,20}",
            proptest::collection::vec(("[a-zA-Z_][a-zA-Z0-9_]{0,8}", ".{0,12}"), 0..4),
            any::<f64>(),
            proptest::option::of(any::<i64>()),
        );
        TestRunner::new(config)
            .run(&sample, |(name, labels, value, ts)| {
                let l = labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                    .collect::<Vec<_>>()
                    .join(",");
                let ts = ts.map(|t| format!(" {t}")).unwrap_or_default();
                let v = if value.is_nan() {
                    "NaN".to_owned()
                } else if value.is_infinite() {
                    if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
                } else {
                    format!("{value:e}")
                };
                let line = format!("{name}{{{l}}} {v}{ts}");
                let p = parse(&format!("# TYPE {name} gauge\n{line}\n"));
                prop_assert_eq!(p.skipped, 0, "{}", line);
                let s = &p.samples[0];
                prop_assert_eq!(&s.name, &name);
                prop_assert_eq!(&s.labels, &labels, "{}", line);
                prop_assert!(
                    s.value == value || (s.value.is_nan() && value.is_nan()),
                    "{} read as {}",
                    line,
                    s.value
                );
                Ok(())
            })
            .unwrap();
    }
}
