//! Printing data as JSON, YAML, a table or CSV.

use std::io::{IsTerminal, Write};

use serde_json::{Map, Value};

use crate::cli::{GlobalArgs, OutputFormat};
use crate::exit::{CliError, CliResult};

/// How to print.
#[derive(Clone, Debug)]
pub struct Out {
    pub format: OutputFormat,
    /// Whether the user chose the format (else it is the TTY-dependent default).
    pub explicit: bool,
    pub color: bool,
    pub quiet: bool,
}

/// Whether colour is allowed on stderr/stdout: a terminal, no `--no-color`, no `NO_COLOR`.
pub fn color_allowed(no_color_flag: bool, tty: bool) -> bool {
    let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    tty && !no_color_flag && !no_color_env
}

impl Out {
    /// The output settings; `-o FILE` (not a format) gives the default format here, since
    /// only `realm export` accepts a file name (see [`crate::commands::run`]).
    pub fn new(g: &GlobalArgs) -> Self {
        let stdout_tty = std::io::stdout().is_terminal();
        let chosen = g.output.as_ref().and_then(|o| o.format().ok());
        Out {
            format: chosen.unwrap_or(if stdout_tty {
                OutputFormat::Table
            } else {
                OutputFormat::Json
            }),
            explicit: chosen.is_some(),
            color: color_allowed(g.no_color, stdout_tty),
            quiet: g.quiet,
        }
    }

    /// A status line on stderr (suppressed by `--quiet`).
    pub fn note(&self, msg: impl std::fmt::Display) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }

    /// Prints `v` in the chosen format. `columns` are the default table/CSV columns for lists.
    pub fn print(&self, v: &Value, columns: &[&str]) -> CliResult {
        let mut text = render(v, self.format, columns, self.color)?;
        if !text.ends_with('\n') && !text.is_empty() {
            text.push('\n');
        }
        write_stdout(text.as_bytes())
    }
}

/// Writes to standard output: the one way the CLI prints data. A closed pipe (`| head`) ends
/// the program quietly with exit code 0, since the reader has all it wanted.
pub fn write_stdout(bytes: &[u8]) -> CliResult {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => closed_pipe_exit(),
        Err(e) => Err(CliError::other(format!("cannot write output: {e}"))),
    }
}

/// Prints one line of text on standard output (see [`write_stdout`]).
pub fn line(text: impl std::fmt::Display) -> CliResult {
    write_stdout(format!("{text}\n").as_bytes())
}

/// Ends the program after the reader of standard output went away.
pub fn closed_pipe_exit() -> ! {
    std::process::exit(0)
}

/// Whether a panic message is std's "failed printing to stdout" on a closed pipe: a `println!`
/// that bypassed [`write_stdout`] must not look like an internal error.
pub fn is_closed_pipe_panic(msg: &str) -> bool {
    msg.starts_with("failed printing to stdout")
        && msg.contains(&std::io::Error::from_raw_os_error(EPIPE).to_string())
}

/// EPIPE on Linux and macOS.
const EPIPE: i32 = 32;

/// Looks up a dotted path (`attributes.dept`, `access.manage`) in a JSON value.
pub fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    if let Some(x) = v.get(path) {
        return Some(x);
    }
    let mut cur = v;
    for part in path.split('.') {
        cur = match cur {
            Value::Object(m) => m.get(part)?,
            Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Keeps only `fields` (dotted paths) of each object, in that order.
pub fn select_fields(v: &Value, fields: &[String]) -> Value {
    if fields.is_empty() {
        return v.clone();
    }
    let pick = |item: &Value| -> Value {
        let mut m = Map::new();
        for f in fields {
            m.insert(f.clone(), lookup(item, f).cloned().unwrap_or(Value::Null));
        }
        Value::Object(m)
    };
    match v {
        Value::Array(items) => Value::Array(items.iter().map(pick).collect()),
        Value::Object(_) => pick(v),
        other => other.clone(),
    }
}

pub fn render(v: &Value, format: OutputFormat, columns: &[&str], color: bool) -> CliResult<String> {
    Ok(match format {
        OutputFormat::Json => {
            serde_json::to_string_pretty(v).map_err(|e| CliError::other(e.to_string()))? + "\n"
        }
        OutputFormat::Yaml => {
            serde_norway::to_string(v).map_err(|e| CliError::other(e.to_string()))?
        }
        OutputFormat::Table => {
            let (header, rows) = tabulate(v, columns);
            table(&header, &rows, color)
        }
        OutputFormat::Csv => {
            let (header, rows) = tabulate(v, columns);
            csv(&header, &rows)
        }
    })
}

/// A cell's text: strings as they are, null empty, anything else as compact JSON.
pub fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Turns a value into a header and rows.
pub fn tabulate(v: &Value, columns: &[&str]) -> (Vec<String>, Vec<Vec<String>>) {
    match v {
        Value::Array(items) if items.iter().all(Value::is_object) && !items.is_empty() => {
            let cols: Vec<String> = if !columns.is_empty() {
                columns.iter().map(|c| (*c).to_owned()).collect()
            } else {
                let mut seen: Vec<String> = Vec::new();
                for item in items.iter().take(50) {
                    if let Value::Object(m) = item {
                        for (k, val) in m {
                            let scalar = !matches!(val, Value::Object(_) | Value::Array(_));
                            if scalar && !seen.contains(k) {
                                seen.push(k.clone());
                            }
                        }
                    }
                }
                seen.truncate(10);
                seen
            };
            let rows = items
                .iter()
                .map(|item| cols.iter().map(|c| cell(lookup(item, c))).collect())
                .collect();
            (cols, rows)
        }
        Value::Array(items) if items.is_empty() => (
            columns.iter().map(|c| (*c).to_owned()).collect(),
            Vec::new(),
        ),
        Value::Array(items) => (
            vec!["value".to_owned()],
            items.iter().map(|i| vec![cell(Some(i))]).collect(),
        ),
        Value::Object(m) => (
            vec!["key".to_owned(), "value".to_owned()],
            m.iter()
                .map(|(k, val)| vec![k.clone(), cell(Some(val))])
                .collect(),
        ),
        other => (vec!["value".to_owned()], vec![vec![cell(Some(other))]]),
    }
}

const MAX_CELL: usize = 60;

fn clip(s: &str) -> String {
    let one_line = s.replace(['\n', '\r'], " ");
    if one_line.chars().count() <= MAX_CELL {
        one_line
    } else {
        let mut t: String = one_line.chars().take(MAX_CELL - 1).collect();
        t.push('…');
        t
    }
}

pub fn table(header: &[String], rows: &[Vec<String>], color: bool) -> String {
    if header.is_empty() {
        return String::new();
    }
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| clip(c)).collect())
        .collect();
    let upper: Vec<String> = header.iter().map(|h| h.to_uppercase()).collect();
    let mut widths: Vec<usize> = upper.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cells: &[String]| -> String {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                let pad = widths[i].saturating_sub(c.chars().count());
                s.push_str(c);
                s.push_str(&" ".repeat(pad + 2));
            }
        }
        s.trim_end().to_owned()
    };
    let mut out = String::new();
    let h = line(&upper);
    if color {
        out.push_str(&format!("\x1b[1m{h}\x1b[0m\n"));
    } else {
        out.push_str(&h);
        out.push('\n');
    }
    for r in &rows {
        out.push_str(&line(r));
        out.push('\n');
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

pub fn csv(header: &[String], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let join = |cells: &[String]| {
        cells
            .iter()
            .map(|c| csv_field(c))
            .collect::<Vec<_>>()
            .join(",")
    };
    if !header.is_empty() {
        out.push_str(&join(header));
        out.push_str("\r\n");
    }
    for r in rows {
        out.push_str(&join(r));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table_of_objects_uses_given_columns() {
        let v = json!([{"id":"1","username":"alice","enabled":true},{"id":"2","username":"bob"}]);
        let t = render(&v, OutputFormat::Table, &["username", "enabled"], false).unwrap();
        assert_eq!(t, "USERNAME  ENABLED\nalice     true\nbob\n");
    }

    #[test]
    fn csv_quotes_when_needed() {
        let v = json!([{"a":"x,y","b":"say \"hi\""}]);
        let t = render(&v, OutputFormat::Csv, &[], false).unwrap();
        assert_eq!(t, "a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\r\n");
    }

    #[test]
    fn fields_pick_dotted_paths() {
        let v = json!([{"username":"a","attributes":{"dept":["x"]}}]);
        let s = select_fields(&v, &["username".into(), "attributes.dept".into()]);
        assert_eq!(s, json!([{"username":"a","attributes.dept":["x"]}]));
    }

    #[test]
    fn closed_pipe_panics_are_recognised() {
        let msg = format!(
            "failed printing to stdout: {}",
            std::io::Error::from_raw_os_error(EPIPE)
        );
        assert!(is_closed_pipe_panic(&msg));
        assert!(!is_closed_pipe_panic("index out of bounds"));
    }

    #[test]
    fn object_renders_as_key_value() {
        let v = json!({"realm":"acme","enabled":true});
        let t = render(&v, OutputFormat::Table, &[], false).unwrap();
        assert!(t.starts_with("KEY"), "{t}");
        assert!(t.contains("realm    acme"), "{t}");
    }
}
