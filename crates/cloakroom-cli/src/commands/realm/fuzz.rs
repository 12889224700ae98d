//! Property tests: a realm file (JSON or YAML, any bytes) is parsed and taken through the
//! offline part of `realm apply`/`realm diff` (rename, sections, diff, readable output) without
//! panicking; a malformed file is a usage error. `PROPTEST_CASES=N` runs longer.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};

use crate::commands::parse_document;
use crate::exit::Code;

fn runner(n: u32) -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(n);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

const KEYS: &[&str] = &[
    "realm",
    "enabled",
    "displayName",
    "roles",
    "client",
    "groups",
    "clients",
    "clientScopes",
    "identityProviders",
    "identityProviderMappers",
    "authenticationFlows",
    "authenticatorConfig",
    "users",
    "username",
    "clientId",
    "name",
    "alias",
    "path",
    "subGroups",
    "composites",
    "protocolMappers",
    "attributes",
    "redirectUris",
    "realmRoles",
    "clientRoles",
    "authenticationExecutions",
    "id",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop_oneof![
            Just("/realms/src/account".to_owned()),
            Just("default-roles-src".to_owned()),
            ".{0,10}"
        ]
        .prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        3 => proptest::sample::select(KEYS).prop_map(str::to_owned),
        1 => ".{0,6}",
    ];
    scalar().prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A realm-shaped document: a `realm` name and arbitrary sections.
fn realm_doc() -> impl Strategy<Value = Value> {
    (
        prop_oneof![Just(json!("src")), scalar()],
        proptest::collection::vec(
            (
                proptest::sample::select(KEYS).prop_map(str::to_owned),
                json_value(),
            ),
            0..10,
        ),
    )
        .prop_map(|(name, kv)| {
            let mut m: Map<String, Value> = kv.into_iter().collect();
            m.insert("realm".into(), name);
            Value::Object(m)
        })
}

/// What `realm apply` and `realm diff` do with a parsed document before any network call.
fn offline_pipeline(doc: &Value) {
    if let Some(source) = doc.get("realm").and_then(Value::as_str) {
        let renamed =
            super::doc::rename_realm(doc, source, "Target").expect("a parsed document renames");
        assert_eq!(renamed["realm"], json!("Target"));
        let d = super::diff::diff(doc, &renamed);
        let _ = super::diff::readable(&d, false);
        let _ = super::diff::readable(&super::diff::drop_one_sided_fields(d), true);
    }
    let _ = super::doc::sections(doc);
    let mut stripped = doc.clone();
    super::snapshot::strip(&mut stripped);
    assert!(
        super::diff::diff(doc, doc).is_empty(),
        "a document differs from itself"
    );
}

fn parse_anything(text: &str) {
    for name in ["realm.json", "realm.yaml", "-"] {
        match parse_document(text, name) {
            Ok(doc) => offline_pipeline(&doc),
            Err(e) => assert!(matches!(e.code, Code::Usage), "{:?}", e.message),
        }
    }
}

#[test]
fn realm_documents_survive_json_and_yaml_round_trips() {
    runner(256)
        .run(&realm_doc(), |doc| {
            let json = serde_json::to_string_pretty(&doc).unwrap();
            prop_assert_eq!(&parse_document(&json, "realm.json").unwrap(), &doc);
            let yaml = serde_norway::to_string(&doc).unwrap();
            // YAML reads the document back; numbers may change spelling, not structure.
            let back = parse_document(&yaml, "realm.yaml").unwrap();
            prop_assert_eq!(back.is_object(), doc.is_object());
            offline_pipeline(&doc);
            offline_pipeline(&back);
            Ok(())
        })
        .unwrap();
}

#[test]
fn realm_file_parsing_never_panics_on_mutated_or_arbitrary_text() {
    let text = prop_oneof![
        ".{0,200}",
        proptest::collection::vec(any::<u8>(), 0..200)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        // Valid JSON and YAML documents with a character flipped, cut or inserted.
        (realm_doc(), any::<bool>(), any::<usize>(), any::<char>()).prop_map(
            |(doc, yaml, at, c)| {
                let mut s: Vec<char> = if yaml {
                    serde_norway::to_string(&doc).unwrap()
                } else {
                    doc.to_string()
                }
                .chars()
                .collect();
                let i = at % (s.len() + 1);
                match at % 3 {
                    0 if i < s.len() => s[i] = c,
                    1 => s.truncate(i),
                    _ => s.insert(i, c),
                }
                s.into_iter().collect()
            }
        ),
        // YAML's own syntax: anchors, aliases, tags, merges, multi-documents.
        proptest::collection::vec(
            prop_oneof![
                Just("realm: src\n"),
                Just("&a "),
                Just("*a"),
                Just("<<: *a\n"),
                Just("!!binary "),
                Just("!tag "),
                Just("---\n"),
                Just("...\n"),
                Just("- "),
                Just("  "),
                Just("? "),
                Just(": "),
                Just("|\n"),
                Just(">-\n"),
                Just("{"),
                Just("}"),
                Just("["),
                Just("]"),
                Just(","),
                Just("\"x\""),
                Just("'y'"),
                Just("1e400"),
                Just("0x1F"),
                Just(".nan"),
                Just("~"),
                Just("\n"),
            ],
            0..40,
        )
        .prop_map(|parts| parts.concat()),
    ];
    runner(1000)
        .run(&text, |t| {
            parse_anything(&t);
            Ok(())
        })
        .unwrap();
}

#[test]
fn deeply_nested_and_aliased_documents_are_refused_not_fatal() {
    // Deep nesting must not overflow the stack (the test binary would abort, not fail).
    for depth in [200, 10_000] {
        parse_anything(&format!("{}{}", "[".repeat(depth), "]".repeat(depth)));
        parse_anything(&"- ".repeat(depth));
        parse_anything(&format!("{}1{}", "{a: ".repeat(depth), "}".repeat(depth)));
    }
    // Billion laughs: aliases expanding exponentially are refused, not expanded.
    let mut bomb = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (i, c) in "bcdefghi".chars().enumerate() {
        let prev = (b'a' + i as u8) as char;
        bomb.push_str(&format!(
            "{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
    }
    let started = std::time::Instant::now();
    parse_anything(&bomb);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}
