//! Papercuts found by trying the CLI as a new user (issue 14 item 8), each with its test.

use std::process::{Command, Stdio};

use predicates::prelude::*;

use crate::support::Env;

/// Runs `args` with a reader that has gone away before the first write (the harshest
/// `| head`): every write meets EPIPE. Returns the exit code and stderr.
fn closed_pipe(env: &Env, args: &[&str]) -> (Option<i32>, String) {
    let mut cmd = Command::new(crate::support::cloakroom_bin());
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("CLOAKROOM_CONFIG_DIR", env.config_dir())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_quiet(what: &str, (code, stderr): (Option<i32>, String)) {
    assert_eq!(code, Some(0), "{what}: exit {code:?}, stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert!(!stderr.contains("Broken pipe"), "{what}: {stderr}");
    assert!(!stderr.contains("internal error"), "{what}: {stderr}");
}

#[test]
fn a_closed_pipe_ends_any_command_quietly() {
    let env = Env::new();
    assert_quiet(
        "completions bash",
        closed_pipe(&env, &["completions", "bash"]),
    );
    assert_quiet("manpage", closed_pipe(&env, &["manpage"]));
    assert_quiet("config path", closed_pipe(&env, &["config", "path"]));
    // Log in once (the password is in the environment), then print from the cache.
    env.admin().arg("login").assert().success();
    let server = env.server.url.as_str();
    let user = env.server.admin_user.as_str();
    let login = [
        "--server", server, "--user", user, "login", "--format", "json",
    ];
    assert_quiet("login --format json", closed_pipe(&env, &login));
    let get = [
        "--server", server, "--user", user, "-o", "json", "get", "realms",
    ];
    assert_quiet("get realms", closed_pipe(&env, &get));
    // A small realm of its own: master's export grows with every realm the suite creates
    // (its admin role's composites), and once came back cut short mid-run (see the note).
    let realm = env.realm("pipe");
    let export = [
        "--server",
        server,
        "--user",
        user,
        "realm",
        "export",
        realm.name.as_str(),
    ];
    assert_quiet("realm export", closed_pipe(&env, &export));
}

#[test]
fn sessions_are_kept_per_identity() {
    let admin = Env::new();
    let realm = admin.realm("sess");
    realm.user("dev-user", "dev-pw-1");
    admin.ok(&[
        "--realm",
        &realm.name,
        "create",
        "clients",
        "-s",
        "clientId=dev-app",
        "-s",
        "publicClient=true",
        "-s",
        "directAccessGrantsEnabled=true",
    ]);
    let env = Env::new();
    // The profile's admin session.
    env.admin().arg("login").assert().success();
    // A one-off login as another user of another realm through another client.
    env.bare()
        .args(["--server", &env.server.url, "--auth-realm", &realm.name])
        .args(["--client-id", "dev-app", "--user", "dev-user", "login"])
        .env("CLOAKROOM_PASSWORD", "dev-pw-1")
        .assert()
        .success();
    // The admin session is still there: no password needed.
    env.bare()
        .args([
            "--server",
            &env.server.url,
            "--user",
            &env.server.admin_user,
        ])
        .args(["-v", "get", "realms", &realm.name])
        .assert()
        .success()
        .stderr(predicate::str::contains("token cache hit"));
    // So is the one-off session.
    env.bare()
        .args(["--server", &env.server.url, "--auth-realm", &realm.name])
        .args([
            "--client-id",
            "dev-app",
            "--user",
            "dev-user",
            "-v",
            "token",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("token cache hit"));
    // An identity never logged in is told so, by name.
    env.bare()
        .args(["--server", &env.server.url, "--auth-realm", &realm.name])
        .args(["--user", "nobody", "token"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!(
            "not logged in as `nobody` in realm `{}` through client `admin-cli`",
            realm.name
        )));
    // An expired session says that it expired.
    let dir = env.config_dir().join("tokens/default");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if v["principal"] == "dev-user" {
            v["expires_at"] = 1.into();
            v["refresh_expires_at"] = 2.into();
            std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
        }
    }
    env.bare()
        .args(["--server", &env.server.url, "--auth-realm", &realm.name])
        .args(["--client-id", "dev-app", "--user", "dev-user", "token"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!(
            "the session of `dev-user` in realm `{}` through client `dev-app`",
            realm.name
        )))
        .stderr(predicate::str::contains("expired"));
}
