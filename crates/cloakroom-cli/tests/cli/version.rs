use crate::support::Env;

#[test]
fn version_reports_the_server_its_features_and_capabilities() {
    let env = Env::new();
    let v = env.json(&["version"]);
    assert_eq!(v["cloakroom"], env!("CARGO_PKG_VERSION"), "{v}");
    assert_eq!(v["server"]["version"], "26.7.3", "{v}");
    let enabled = v["features"]["enabled"].as_array().unwrap();
    assert!(enabled.iter().any(|f| f == "ORGANIZATION"), "{v}");
    let caps = &v["capabilities"];
    assert_eq!(caps["census_knows_version"], true, "{v}");
    assert_eq!(caps["typed_not_served_count"], 0, "{v}");
    assert!(caps["typed_operations"].as_u64().unwrap() >= 400, "{v}");
    assert_eq!(caps["organizations"], true, "{v}");

    let text = env.ok(&["--output", "table", "version"]);
    assert!(text.contains("server    Keycloak 26.7.3 at "), "{text}");
    assert!(
        text.contains("typed operations are served by this version"),
        "{text}"
    );
    assert!(text.contains("organizations: yes"), "{text}");
}
