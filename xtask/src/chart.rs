//! `bench/results/latest.svg`: the benchmark results as a self-contained SVG, drawn from the
//! same JSON value as `latest.json`. No dependencies: the markup is written by hand.
//!
//! Panel 1: ratio to the baseline (median time / baseline median) per timed scenario, one bar
//! per contender, with the 1.0 line. Further panels: one per `extra` section (token requests in
//! the stampede, peak RSS, …), bars in that section's unit. Missing keys, NaN and empty input
//! give fewer bars, never a panic.

use std::fmt::Write as _;

use serde_json::Value;

const WIDTH: f64 = 900.0;
const LABEL_W: f64 = 250.0;
const BAR_H: f64 = 14.0;
const GAP: f64 = 8.0;
const PLOT_W: f64 = WIDTH - LABEL_W - 150.0;

/// Fixed colours per contender (others get a grey).
fn colour(contender: &str) -> &'static str {
    match contender {
        "baseline" => "#7f7f7f",
        "cloakroom" => "#1f77b4",
        "cloakroom-blocking" => "#17becf",
        "python-keycloak" => "#ff7f0e",
        "ts-admin-client" => "#2ca02c",
        "keycloak-crate" => "#d62728",
        "kcadm.sh" => "#9467bd",
        "cloakroom CLI" => "#1f77b4",
        "cloakroom (signature only)" => "#aec7e8",
        "openssl" => "#8c564b",
        "bash + curl" => "#7f7f7f",
        _ => "#bcbd22",
    }
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn median(xs: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let k = v.len();
    Some(if k % 2 == 1 {
        v[k / 2]
    } else {
        (v[k / 2 - 1] + v[k / 2]) / 2.0
    })
}

/// One group of bars: a title and (label, value, colour key) rows.
struct Group {
    title: String,
    bars: Vec<(String, f64)>,
}

fn fmt_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e9 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Draws one panel at `y`; returns the y below it.
fn panel(
    svg: &mut String,
    y: f64,
    heading: &str,
    unit: &str,
    groups: &[Group],
    reference: Option<f64>,
) -> f64 {
    let max = groups
        .iter()
        .flat_map(|g| g.bars.iter().map(|b| b.1))
        .chain(reference)
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold(0.0_f64, f64::max);
    let scale = if max > 0.0 { PLOT_W / max } else { 0.0 };
    let mut y = y;
    let _ = writeln!(
        svg,
        r#"<text x="10" y="{:.1}" font-size="15" font-weight="bold">{}</text>"#,
        y + 15.0,
        esc(heading)
    );
    y += 28.0;
    let top = y;
    for g in groups {
        let _ = writeln!(
            svg,
            r#"<text x="10" y="{:.1}" font-size="12" font-weight="bold">{}</text>"#,
            y + 11.0,
            esc(&g.title)
        );
        y += 16.0;
        for (label, v) in &g.bars {
            let w = if v.is_finite() && *v > 0.0 {
                v * scale
            } else {
                0.0
            };
            let _ = writeln!(
                svg,
                r#"<g><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text><rect x="{LABEL_W:.1}" y="{:.1}" width="{w:.1}" height="{BAR_H:.1}" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="11">{}</text></g>"#,
                LABEL_W - 6.0,
                y + 11.0,
                esc(label),
                y,
                colour(label),
                LABEL_W + w + 4.0,
                y + 11.0,
                esc(&if v.is_finite() {
                    format!("{} {unit}", fmt_value(*v))
                } else {
                    "n/a".to_string()
                }),
            );
            y += BAR_H + 3.0;
        }
        y += GAP;
    }
    if let Some(r) = reference.filter(|_| scale > 0.0) {
        let x = LABEL_W + r * scale;
        let _ = writeln!(
            svg,
            r##"<g><line x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{:.1}" stroke="#333" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}" font-size="10">baseline = 1.0</text></g>"##,
            y - GAP,
            x + 3.0,
            top - 2.0
        );
    }
    y + 10.0
}

/// The chart of a finished `latest.json` value.
pub fn chart_svg(latest: &Value) -> String {
    let mut body = String::new();
    let mut y = 10.0;
    let generated = latest["generated_at"].as_str().unwrap_or("");
    let _ = writeln!(
        body,
        r#"<text x="10" y="{:.1}" font-size="18" font-weight="bold">cloakroom benchmarks {}</text>"#,
        y + 18.0,
        esc(generated)
    );
    y += 30.0;

    // Panel 1: ratio to the baseline per scenario.
    let results = latest["results"].as_array().cloned().unwrap_or_default();
    let med = |r: &Value| -> Option<f64> {
        let xs: Vec<f64> = r["samples_seconds"]
            .as_array()?
            .iter()
            .filter_map(Value::as_f64)
            .collect();
        median(&xs).or_else(|| r["stats"]["median_seconds"].as_f64())
    };
    let mut scenarios: Vec<String> = Vec::new();
    for r in &results {
        if let Some(s) = r["scenario"].as_str()
            && !scenarios.iter().any(|x| x == s)
        {
            scenarios.push(s.to_string());
        }
    }
    let mut groups = Vec::new();
    for s in &scenarios {
        let rows: Vec<&Value> = results.iter().filter(|r| r["scenario"] == **s).collect();
        let base = rows
            .iter()
            .find(|r| r["contender"] == "baseline")
            .and_then(|r| med(r))
            .filter(|b| *b > 0.0);
        let bars = rows
            .iter()
            .map(|r| {
                let ratio = match (med(r), base) {
                    (Some(m), Some(b)) => m / b,
                    _ => f64::NAN,
                };
                (r["contender"].as_str().unwrap_or("?").to_string(), ratio)
            })
            .collect();
        groups.push(Group {
            title: s.clone(),
            bars,
        });
    }
    if !groups.is_empty() {
        y = panel(
            &mut body,
            y,
            "Time relative to the bare reqwest baseline (median; lower is faster)",
            "×",
            &groups,
            Some(1.0),
        );
    }

    // Further panels: the `extra` rows, by section and unit (one scale per panel).
    let extra = latest["extra"].as_array().cloned().unwrap_or_default();
    let key = |r: &Value| {
        (
            r["section"].as_str().unwrap_or("other").to_string(),
            r["unit"].as_str().unwrap_or("").to_string(),
        )
    };
    let mut sections: Vec<(String, String)> = Vec::new();
    for r in &extra {
        let k = key(r);
        if !sections.contains(&k) {
            sections.push(k);
        }
    }
    for (sec, unit) in &sections {
        let rows: Vec<&Value> = extra
            .iter()
            .filter(|r| key(r) == (sec.clone(), unit.clone()))
            .collect();
        let mut names: Vec<String> = Vec::new();
        for r in &rows {
            let s = r["scenario"].as_str().unwrap_or("").to_string();
            if !names.contains(&s) {
                names.push(s);
            }
        }
        let groups: Vec<Group> = names
            .iter()
            .map(|n| Group {
                title: n.clone(),
                bars: rows
                    .iter()
                    .filter(|r| r["scenario"].as_str().unwrap_or("") == n)
                    .map(|r| {
                        (
                            r["contender"].as_str().unwrap_or("?").to_string(),
                            r["value"].as_f64().unwrap_or(f64::NAN),
                        )
                    })
                    .collect(),
            })
            .collect();
        y = panel(
            &mut body,
            y,
            &format!("{sec} ({unit})"),
            unit,
            &groups,
            None,
        );
    }
    y = new_sections(&mut body, y, latest);
    if groups_empty(&scenarios, &sections) && latest["sections"].as_object().is_none() {
        let _ = writeln!(
            body,
            r#"<text x="10" y="{:.1}" font-size="12">no results</text>"#,
            y + 12.0
        );
        y += 24.0;
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH:.0}\" height=\"{:.0}\" viewBox=\"0 0 {WIDTH:.0} {:.0}\" font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{body}</svg>\n",
        y + 10.0,
        y + 10.0
    )
}

/// Panels of the sections measured without the server (`sections.stub`, `sections.verify`):
/// client CPU per call relative to the bare loop, and verifications per second next to openssl.
fn new_sections(body: &mut String, mut y: f64, latest: &Value) -> f64 {
    let rows = |name: &str| {
        latest["sections"][name]["rows"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let stub = rows("stub");
    let mut names: Vec<String> = Vec::new();
    for r in &stub {
        if let Some(s) = r["scenario"].as_str()
            && !names.iter().any(|x| x == s)
        {
            names.push(s.to_string());
        }
    }
    let groups: Vec<Group> = names
        .iter()
        .map(|n| {
            let of = |r: &&Value| r["scenario"].as_str() == Some(n);
            let floor = stub
                .iter()
                .filter(of)
                .find(|r| r["contender"] == "baseline")
                .and_then(|r| r["cpu_us_per_call"].as_f64());
            Group {
                title: n.clone(),
                bars: stub
                    .iter()
                    .filter(of)
                    .map(|r| {
                        let v = r["cpu_us_per_call"].as_f64().unwrap_or(f64::NAN);
                        (
                            r["contender"].as_str().unwrap_or("?").to_string(),
                            floor.map_or(f64::NAN, |f| v / f),
                        )
                    })
                    .collect(),
            }
        })
        .collect();
    if !groups.is_empty() {
        y = panel(
            body,
            y,
            "Client CPU per call against the stub server, relative to the bare loop (lower is cheaper)",
            "×",
            &groups,
            Some(1.0),
        );
    }
    let verify: Vec<Group> = rows("verify")
        .iter()
        .filter(|r| r["alg"].is_string() && r["threads"].is_number())
        .map(|r| Group {
            title: format!(
                "{}, {} thread(s)",
                r["alg"].as_str().unwrap_or("?"),
                r["threads"]
            ),
            bars: vec![
                (
                    "cloakroom".into(),
                    r["cloakroom_per_second"].as_f64().unwrap_or(f64::NAN),
                ),
                (
                    "openssl".into(),
                    r["openssl_per_second"].as_f64().unwrap_or(f64::NAN),
                ),
            ],
        })
        .collect();
    if !verify.is_empty() {
        y = panel(
            body,
            y,
            "Whole JwtVerifier::verify vs openssl speed (verifications/s)",
            "/s",
            &verify,
            None,
        );
    }
    y
}

fn groups_empty<T>(scenarios: &[String], sections: &[T]) -> bool {
    scenarios.is_empty() && sections.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn balanced(svg: &str) {
        for tag in ["svg", "g", "text"] {
            let open =
                svg.matches(&format!("<{tag} ")).count() + svg.matches(&format!("<{tag}>")).count();
            let close = svg.matches(&format!("</{tag}>")).count();
            assert_eq!(open, close, "<{tag}> balanced in\n{svg}");
        }
    }

    #[test]
    fn committed_results_draw_every_scenario_and_contender() {
        let path = crate::repo_root().join("bench/results/latest.json");
        let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let svg = chart_svg(&v);
        balanced(&svg);
        for r in v["results"].as_array().unwrap() {
            assert!(svg.contains(&esc(r["scenario"].as_str().unwrap())));
            assert!(svg.contains(&format!(">{}<", r["contender"].as_str().unwrap())));
        }
    }

    #[test]
    fn odd_input_never_panics() {
        for v in [
            json!({}),
            json!(null),
            json!({"results": "nope", "extra": 3}),
            json!({"results": [{"scenario": "s <&>", "contender": "x", "samples_seconds": []}]}),
            json!({"results": [
                {"scenario": "s", "contender": "baseline", "samples_seconds": [0.0]},
                {"scenario": "s", "contender": "cloakroom", "samples_seconds": [1.0, "x"]}
            ]}),
            json!({"extra": [{"section": "memory", "scenario": "m", "contender": "c", "value": null}]}),
        ] {
            let svg = chart_svg(&v);
            balanced(&svg);
            assert!(svg.starts_with("<svg"));
            assert!(!svg.contains("NaN"));
            assert!(!svg.contains("<&>"));
        }
    }

    #[test]
    fn ratios_and_extra_panels() {
        let v = json!({
            "results": [
                {"scenario": "create", "contender": "baseline", "samples_seconds": [1.0, 2.0, 3.0]},
                {"scenario": "create", "contender": "cloakroom", "samples_seconds": [2.2, 2.0, 2.4]}
            ],
            "extra": [{"section": "stampede", "scenario": "100 calls", "contender": "cloakroom", "value": 1.0, "unit": "token requests"}]
        });
        let svg = chart_svg(&v);
        assert!(svg.contains("1.10 ×"), "{svg}");
        assert!(svg.contains("stampede (token requests)"));
        assert!(svg.contains("1 token requests"));
        assert!(svg.contains("baseline = 1.0"));
    }
}
