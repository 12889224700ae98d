//! Secrets never reach the terminal: the main CLI flows run at the highest verbosity
//! (`-vv` and `CLOAKROOM_LOG=trace`, which also turns on reqwest's, hyper's and rustls's own
//! tracing), and every byte they print is searched for the password, the client secret and
//! the access and refresh tokens. The one exception is the stdout of `token`, whose job is to
//! print the access token. (Cache permissions and the refusal of a group-readable cache are
//! tested in `token.rs`.)

use std::process::Output;

use predicates::prelude::*;
use serde_json::{Value, json};

use crate::support::{Env, assert_success};

const PASSWORD: &str = "Alice-Pw-7731-secret";
const CLIENT_SECRET: &str = "svc-Secret-9931-xyzzy";
const OPS_PASSWORD: &str = "Ops-Pw-5521-realm-admin";

/// One captured run: what it was and what it printed.
struct Run {
    what: String,
    out: Output,
    token_command: bool,
}

fn traced(mut c: assert_cmd::Command) -> assert_cmd::Command {
    c.arg("-vv").env("CLOAKROOM_LOG", "trace");
    c
}

fn run(runs: &mut Vec<Run>, what: &str, token_command: bool, mut c: assert_cmd::Command) -> Output {
    let out = c.output().expect("run cloakroom");
    runs.push(Run {
        what: what.to_owned(),
        out: out.clone(),
        token_command,
    });
    out
}

#[test]
fn verbose_output_of_the_main_flows_holds_no_secret() {
    // One realm with alice, an operator `ops` (realm-admin of this realm; the harness's master
    // admin password is too short to search for) and the confidential client `svc`.
    let admin = Env::new();
    let r = crate::support::unique("sec");
    admin.ok(&[
        "api",
        "POST",
        "/admin/realms",
        "--data",
        &json!({
            "realm": r,
            "enabled": true,
            "users": [
                {"username": "alice", "enabled": true, "email": "alice@example.com",
                 "firstName": "Alice", "lastName": "A",
                 "credentials": [{"type": "password", "value": PASSWORD, "temporary": false}]},
                {"username": "ops", "enabled": true, "email": "ops@example.com",
                 "firstName": "Ops", "lastName": "O",
                 "credentials": [{"type": "password", "value": OPS_PASSWORD, "temporary": false}],
                 "clientRoles": {"realm-management": ["realm-admin"]}},
            ],
            "clients": [{
                "clientId": "svc",
                "publicClient": false,
                "serviceAccountsEnabled": true,
                "secret": CLIENT_SECRET,
            }],
        })
        .to_string(),
    ]);
    let _cleanup = crate::support::Realm {
        env: &admin,
        name: r.clone(),
    };
    let mut runs = Vec::new();

    // alice: password grant (password from the environment), then the cache, then an API call
    // that the server refuses (an error path).
    let alice = Env::new();
    let as_alice = || {
        let mut c = traced(alice.bare());
        c.args([
            "--server",
            &alice.server.url,
            "--auth-realm",
            &r,
            "--user",
            "alice",
        ])
        .env("CLOAKROOM_PASSWORD", PASSWORD);
        c
    };
    let mut c = as_alice();
    c.args(["token", "--fresh"]);
    let out = run(&mut runs, "alice token --fresh", true, c);
    assert_success(&out, &["token", "--fresh"]);
    let access = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(access.split('.').count(), 3, "a JWT: {access}");
    let mut c = as_alice();
    c.args(["token", "--format", "json"]);
    let out = run(&mut runs, "alice token (cache)", true, c);
    assert_success(&out, &["token", "--format", "json"]);
    let mut c = as_alice();
    c.args(["api", "GET", &format!("/admin/realms/{r}/users")]);
    let out = run(&mut runs, "alice api GET users (forbidden)", false, c);
    assert!(!out.status.success(), "alice is no admin");
    let mut c = as_alice();
    c.env("CLOAKROOM_PASSWORD", "wrong-password-x")
        .args(["token", "--fresh"]);
    let out = run(&mut runs, "alice token with a wrong password", false, c);
    assert!(!out.status.success());

    // The refresh token from alice's cache file (it lives there, mode 0600, and nowhere else).
    let cache: Value = serde_json::from_str(
        &std::fs::read_to_string(crate::token::session_file(alice.config_dir())).unwrap(),
    )
    .unwrap();
    let refresh = find_string(&cache, "refresh_token").expect("a refresh token in the cache");
    assert!(refresh.len() > 20);

    // svc: client credentials with the secret from the environment.
    let svc = Env::new();
    let mut c = traced(svc.bare());
    c.args([
        "--server",
        &svc.server.url,
        "--auth-realm",
        &r,
        "--client-id",
        "svc",
    ])
    .env("CLOAKROOM_CLIENT_SECRET", CLIENT_SECRET)
    .args(["token", "--fresh", "--format", "json"]);
    let out = run(&mut runs, "svc token (client credentials)", true, c);
    assert_success(&out, &["token"]);
    let svc_access = serde_json::from_slice::<Value>(&out.stdout).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // The operator: export and apply of the realm (secrets included in the file on request).
    let ops = Env::new();
    let as_ops = || {
        let mut c = traced(ops.bare());
        c.args([
            "--server",
            &ops.server.url,
            "--auth-realm",
            &r,
            "--user",
            "ops",
        ])
        .env("CLOAKROOM_PASSWORD", OPS_PASSWORD);
        c
    };
    let file = ops.dir.path().join("realm.json");
    let mut c = as_ops();
    c.args([
        "realm",
        "export",
        &r,
        "--include-secrets",
        "--file",
        file.to_str().unwrap(),
    ]);
    let out = run(&mut runs, "admin realm export", false, c);
    assert_success(&out, &["realm", "export"]);
    let mut c = as_ops();
    c.args(["realm", "apply", file.to_str().unwrap()]);
    let out = run(&mut runs, "admin realm apply", false, c);
    assert_success(&out, &["realm", "apply"]);

    // The scan.
    let everywhere: [(&str, &str); 5] = [
        ("alice's password", PASSWORD),
        ("the client secret", CLIENT_SECRET),
        ("alice's refresh token", &refresh),
        ("the svc access token", &svc_access),
        ("the operator's password", OPS_PASSWORD),
    ];
    let mut scanned = 0usize;
    for run in &runs {
        let stderr = String::from_utf8_lossy(&run.out.stderr);
        let stdout = String::from_utf8_lossy(&run.out.stdout);
        scanned += stderr.len() + stdout.len();
        for (name, secret) in everywhere {
            assert!(
                !stderr.contains(secret),
                "{name} in the stderr of `{}`:\n{stderr}",
                run.what
            );
            if !(run.token_command && name == "the svc access token") {
                assert!(
                    !stdout.contains(secret),
                    "{name} in the stdout of `{}`",
                    run.what
                );
            }
        }
        assert!(
            !stderr.contains(&access),
            "alice's access token in the stderr of `{}`:\n{stderr}",
            run.what
        );
        if !run.token_command {
            assert!(
                !stdout.contains(&access),
                "alice's access token in the stdout of `{}`",
                run.what
            );
        }
    }
    // Tracing really was on (the scan is not vacuous): every run logged something.
    for run in &runs {
        assert!(
            !run.out.stderr.is_empty(),
            "`{}` printed nothing on stderr at trace level",
            run.what
        );
    }
    assert!(scanned > 10_000, "only {scanned} bytes captured");
}

/// The first string value under `key`, anywhere in `v`.
fn find_string(v: &Value, key: &str) -> Option<String> {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(s)) = m.get(key) {
                return Some(s.clone());
            }
            m.values().find_map(|x| find_string(x, key))
        }
        Value::Array(a) => a.iter().find_map(|x| find_string(x, key)),
        _ => None,
    }
}

/// Reads one HTTP request head from `stream` and answers 401 `invalid_grant`.
fn refuse_token_request(mut stream: std::net::TcpStream) -> String {
    use std::io::{Read, Write};
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
        head.push(byte[0]);
    }
    let body = r#"{"error":"invalid_grant","error_description":"refused by the test"}"#;
    let _ = write!(
        stream,
        "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    String::from_utf8_lossy(&head).to_lowercase()
}

/// `--header` and Cloudflare Access's CF_ACCESS_CLIENT_ID/SECRET reach the server on every
/// request (here the token request, seen by a loopback listener, since Keycloak cannot show
/// what it received), and the values never appear in the output.
#[test]
fn extra_headers_and_cloudflare_access_are_sent_and_never_printed() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let head = refuse_token_request(stream);
            sink.lock().unwrap().push(head);
        }
    });
    let env = Env::new();
    let cf_secret = "cf-Secret-4471-plugh";
    let out = traced(env.bare())
        .args(["--server", &url, "--user", "someone", "--no-cache"])
        .args(["--header", "X-Env: staging-42", "token"])
        .env("CLOAKROOM_PASSWORD", PASSWORD)
        .env("CF_ACCESS_CLIENT_ID", "cf-id-1.access")
        .env("CF_ACCESS_CLIENT_SECRET", cf_secret)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let heads = seen.lock().unwrap().clone();
    let head = heads
        .first()
        .expect("the token request reached the listener");
    assert!(
        head.starts_with("post /realms/master/protocol/openid-connect/token"),
        "{head}"
    );
    assert!(head.contains("x-env: staging-42"), "{head}");
    assert!(
        head.contains("cf-access-client-id: cf-id-1.access"),
        "{head}"
    );
    assert!(head.contains(&format!(
        "cf-access-client-secret: {}",
        cf_secret.to_lowercase()
    )));
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for secret in [cf_secret, "staging-42", PASSWORD] {
        assert!(!printed.contains(secret), "{secret} printed:\n{printed}");
    }
    // Half a Cloudflare pair, or a header without a colon: usage errors naming no value.
    env.bare()
        .args(["--server", &url, "--user", "someone", "token"])
        .env("CF_ACCESS_CLIENT_ID", "cf-id-1.access")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("needs both CF_ACCESS_CLIENT_ID"));
    env.bare()
        .args([
            "--server",
            &url,
            "--header",
            "no-colon-secretvalue",
            "token",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--header takes NAME:VALUE"))
        .stderr(predicates::str::contains("secretvalue").not());
}
