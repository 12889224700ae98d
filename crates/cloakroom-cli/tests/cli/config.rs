use predicates::prelude::*;

use crate::support::Env;

#[test]
fn profiles_set_get_list_use_delete() {
    let env = Env::new();
    env.bare()
        .args(["config", "set", "server", "http://kc.example.test:8080"])
        .assert()
        .success();
    env.bare()
        .args(["--profile", "default", "config", "set", "user", "alice"])
        .assert()
        .success();
    env.bare()
        .args(["config", "get", "server"])
        .assert()
        .success()
        .stdout("http://kc.example.test:8080\n");
    // A second profile, then switch to it.
    env.bare()
        .args(["config", "set", "realm", "acme"])
        .env("CLOAKROOM_PROFILE", "default")
        .assert()
        .success();
    let cfg = std::fs::read_to_string(env.config_dir().join("config.toml")).unwrap();
    assert!(cfg.contains("[profiles.default]"), "{cfg}");
    env.bare()
        .args(["--profile", "other", "config", "get", "server"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("no profile named `other`"));
    // `config set` on a new profile creates it.
    let mut f = std::fs::read_to_string(env.config_dir().join("config.toml")).unwrap();
    f.push_str("\n[profiles.other]\nserver = \"http://other.test\"\n");
    std::fs::write(env.config_dir().join("config.toml"), f).unwrap();
    env.bare()
        .args(["config", "use", "other"])
        .assert()
        .success();
    env.bare()
        .args(["config", "get", "server"])
        .assert()
        .success()
        .stdout("http://other.test\n");
    let list = env
        .bare()
        .args(["--output", "json", "config", "list"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[1]["name"], "other");
    assert_eq!(v[1]["current"], true);
    env.bare()
        .args(["config", "delete", "other"])
        .assert()
        .success();
    env.bare()
        .args(["config", "use", "other"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("no profile named `other`"));
}

#[test]
fn secrets_are_refused_and_bad_values_are_usage_errors() {
    let env = Env::new();
    env.bare()
        .args(["config", "set", "password", "hunter2"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("never stored in a profile"));
    env.bare()
        .args(["config", "set", "server", "not a url"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid server URL"));
    env.bare()
        .args(["config", "set", "colour", "blue"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown profile key `colour`"));
    // A broken config file is reported, not silently replaced.
    std::fs::write(env.config_dir().join("config.toml"), "current = [").unwrap();
    env.bare()
        .args(["config", "list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("malformed configuration"));
}

#[test]
fn usage_errors_exit_2() {
    let env = Env::new();
    env.bare().args(["frobnicate"]).assert().code(2);
    env.bare()
        .args(["api", "GET"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("PATH"));
}

#[test]
fn completions_and_manpage() {
    let env = Env::new();
    env.bare()
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("_cloakroom()"));
    env.bare()
        .args(["completions", "zsh"])
        .assert()
        .success()
        .stdout(predicate::str::contains("#compdef cloakroom"));
    env.bare()
        .args(["manpage"])
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH cloakroom"));
}

#[test]
fn environment_variables_configure_everything() {
    let env = Env::new();
    let realm = env.realm("envs");
    // CLOAKROOM_* for options; KEYCLOAK_URL / KEYCLOAK_USER and kcadm's KC_CLI_PASSWORD as fallbacks.
    env.bare()
        .env("KEYCLOAK_URL", &env.server.url)
        .env("KEYCLOAK_USER", &env.server.admin_user)
        .env("KC_CLI_PASSWORD", &env.server.admin_password)
        .env("CLOAKROOM_REALM", &realm.name)
        .env("CLOAKROOM_OUTPUT", "csv")
        .args(["get", "clients", "--fields", "clientId", "--limit", "1"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("clientId\r\n"));
    // A profile's values are overridden by the environment, which is overridden by flags.
    env.bare()
        .args(["config", "set", "server", "http://127.0.0.1:1"])
        .assert()
        .success();
    env.bare()
        .args(["config", "set", "user", &env.server.admin_user])
        .assert()
        .success();
    env.bare()
        .env("CLOAKROOM_SERVER", &env.server.url)
        .env("CLOAKROOM_PASSWORD", &env.server.admin_password)
        .args(["api", "GET", &format!("/admin/realms/{}", realm.name)])
        .assert()
        .success();
    env.bare()
        .env("CLOAKROOM_SERVER", &env.server.url)
        .env("CLOAKROOM_PASSWORD", &env.server.admin_password)
        .args([
            "--server",
            "http://127.0.0.1:1",
            "--no-cache",
            "api",
            "GET",
            "/admin/realms",
        ])
        .assert()
        .code(6);
}
