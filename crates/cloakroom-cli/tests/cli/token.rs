use std::process::Stdio;

use predicates::prelude::*;
use serde_json::Value;

use crate::support::{Env, cloakroom_bin};

/// The one session file of the default profile (one file per server, realm, client and user).
pub fn session_file(config_dir: &std::path::Path) -> std::path::PathBuf {
    let files: Vec<_> = std::fs::read_dir(config_dir.join("tokens/default"))
        .expect("a session folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().expect("one")
}

/// An environment logged in (password grant) as `user` of a fresh realm.
fn user_cmd(env: &Env, realm: &str, user: &str) -> assert_cmd::Command {
    let mut c = env.bare();
    c.args([
        "--server",
        &env.server.url,
        "--auth-realm",
        realm,
        "--user",
        user,
    ]);
    c
}

#[test]
fn token_password_grant_formats_and_cache() {
    let admin = Env::new();
    let realm = admin.realm("tok");
    realm.user("alice", "alice-pw-1");
    let env = Env::new();
    // Raw token, obtained with the password from a file.
    let pw = env.dir.path().join("pw");
    std::fs::write(&pw, "alice-pw-1\n").unwrap();
    let out = user_cmd(&env, &realm.name, "alice")
        .args(["--password-file", pw.to_str().unwrap(), "token"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let raw = String::from_utf8(out.stdout).unwrap();
    assert_eq!(raw.trim().split('.').count(), 3, "{raw}");
    // The cache is private.
    let cache = session_file(env.config_dir());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // Second call: cache hit, no password needed; JSON with unverified claims.
    let out = user_cmd(&env, &realm.name, "alice")
        .args(["-v", "login", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("token cache hit"));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["source"], "cache");
    assert_eq!(v["access_token"].as_str().unwrap(), raw.trim());
    assert_eq!(v["claims_unverified"]["azp"], "admin-cli");
    assert!(
        v["claims_unverified"]["iss"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/realms/{}", realm.name))
    );
    user_cmd(&env, &realm.name, "alice")
        .args(["token", "--format", "header"])
        .assert()
        .success()
        .stdout(format!("Authorization: Bearer {}\n", raw.trim()));
    // Password from stdin, forcing a new login.
    user_cmd(&env, &realm.name, "alice")
        .args(["--password-stdin", "token", "--fresh"])
        .write_stdin("alice-pw-1\n")
        .assert()
        .success();
    // A group-readable cache is refused.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o644)).unwrap();
        user_cmd(&env, &realm.name, "alice")
            .arg("token")
            .assert()
            .code(2)
            .stderr(predicate::str::contains("refusing to read the token cache"))
            .stderr(predicate::str::contains("chmod 600"));
    }
}

#[test]
fn token_failures() {
    let admin = Env::new();
    let realm = admin.realm("tokfail");
    realm.user("bob", "bob-pw-1");
    let env = Env::new();
    // Bad credentials: 3 with Keycloak's description.
    user_cmd(&env, &realm.name, "bob")
        .arg("token")
        .env("CLOAKROOM_PASSWORD", "bad-pw")
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!(
            "could not obtain a token from realm `{}` (password grant): invalid_grant: Invalid user credentials",
            realm.name
        )))
        .stderr(predicate::str::contains("bad-pw").not());
    // No password at all and no terminal: 3 with a hint, never a hang.
    user_cmd(&env, &realm.name, "bob")
        .arg("token")
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!(
            "not logged in as `bob` in realm `{}` through client `admin-cli`",
            realm.name
        )))
        .stderr(predicate::str::contains("no password is available"));
    // Missing realm: Keycloak answers 404 on the token endpoint, which is an auth failure.
    user_cmd(&env, "no-such-realm-xyz", "bob")
        .arg("token")
        .env("CLOAKROOM_PASSWORD", "x")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("Realm does not exist"));
    // Client credentials without a secret: 3.
    env.bare()
        .args(["--server", &env.server.url, "--client-id", "svc", "token"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("needs a client secret"));
    // Unreachable server: 6.
    env.bare()
        .args(["--server", "http://127.0.0.1:1", "--user", "bob", "token"])
        .env("CLOAKROOM_PASSWORD", "x")
        .assert()
        .code(6);
}

#[test]
fn client_credentials_grant() {
    let admin = Env::new();
    let realm = admin.realm("tokcc");
    admin.ok(&[
        "api",
        "POST",
        &format!("/admin/realms/{}/clients", realm.name),
        "--data",
        &serde_json::json!({
            "clientId": "svc",
            "publicClient": false,
            "serviceAccountsEnabled": true,
            "secret": "svc-secret-123",
        })
        .to_string(),
    ]);
    let env = Env::new();
    let secret = env.dir.path().join("secret");
    std::fs::write(&secret, "svc-secret-123").unwrap();
    let out = env
        .bare()
        .args(["--server", &env.server.url, "--auth-realm", &realm.name])
        .args([
            "--client-id",
            "svc",
            "--client-secret-file",
            secret.to_str().unwrap(),
        ])
        .args(["token", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["grant"], "client-credentials");
    assert_eq!(v["claims_unverified"]["azp"], "svc");
    env.bare()
        .args(["--server", &env.server.url, "--auth-realm", &realm.name])
        .args(["--client-id", "svc", "--no-cache", "token"])
        .env("CLOAKROOM_CLIENT_SECRET", "wrong")
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains("unauthorized_client")
                .or(predicate::str::contains("invalid_client")),
        );
}

/// Two processes with an expired cache: exactly one refreshes, the other waits on the lock and
/// finds the fresh token.
#[test]
fn parallel_invocations_refresh_once() {
    let admin = Env::new();
    let realm = admin.realm("tokpar");
    realm.user("carol", "carol-pw-1");
    let env = Env::new();
    user_cmd(&env, &realm.name, "carol")
        .arg("token")
        .env("CLOAKROOM_PASSWORD", "carol-pw-1")
        .assert()
        .success();
    // Expire the cached access token (the refresh token stays good).
    let cache = session_file(env.config_dir());
    let mut entry: Value = serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    entry["expires_at"] = Value::from(1u64);
    std::fs::write(&cache, serde_json::to_vec(&entry).unwrap()).unwrap();

    let spawn = || {
        let mut c = std::process::Command::new(cloakroom_bin());
        for (k, _) in std::env::vars() {
            if k.starts_with("CLOAKROOM_") || k.starts_with("KEYCLOAK_") || k.starts_with("KC_CLI_")
            {
                c.env_remove(k);
            }
        }
        c.env("CLOAKROOM_CONFIG_DIR", env.config_dir())
            // The first process keeps the lock a while after refreshing, so the second one
            // certainly runs into it.
            .env("CLOAKROOM_DEBUG_LOCK_HOLD_MS", "1500")
            .args([
                "--server",
                &env.server.url,
                "--auth-realm",
                &realm.name,
                "--user",
                "carol",
            ])
            .args(["-v", "token"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let a = spawn();
    let b = spawn();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        a.status.success() && b.status.success(),
        "a: {}\nb: {}",
        err(&a),
        err(&b)
    );
    let all = err(&a) + &err(&b);
    assert_eq!(all.matches("token refreshed").count(), 1, "{all}");
    assert_eq!(all.matches("token cache hit").count(), 1, "{all}");
    assert_eq!(all.matches("token granted").count(), 0, "{all}");
    assert_eq!(a.stdout, b.stdout, "both print the one refreshed token");
}

/// Authorization code + PKCE end to end: the CLI listens on a loopback port, curl plays the
/// browser (login form, redirect to the CLI).
#[test]
fn auth_code_pkce_login_with_loopback_redirect() {
    use std::io::{BufRead, BufReader};
    let curl_ok = std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        curl_ok,
        "this test drives the login form with curl; install curl"
    );
    let admin = Env::new();
    let realm = admin.realm("pkce");
    realm.user("erin", "erin-pw-1");
    admin.ok(&[
        "api",
        "POST",
        &format!("/admin/realms/{}/clients", realm.name),
        "--data",
        &serde_json::json!({"clientId": "cli", "publicClient": true, "standardFlowEnabled": true,
                "redirectUris": ["http://127.0.0.1/*"]})
        .to_string(),
    ]);
    let env = Env::new();
    let mut child = std::process::Command::new(cloakroom_bin())
        .env("CLOAKROOM_CONFIG_DIR", env.config_dir())
        .env("CLOAKROOM_BROWSER", "none")
        .args([
            "--server",
            &env.server.url,
            "--auth-realm",
            &realm.name,
            "--client-id",
            "cli",
        ])
        .args(["--grant", "auth-code", "token", "--format", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("the CLI printed no URL").unwrap();
        if let Some(u) = line.trim().strip_prefix("http") {
            break format!("http{u}");
        }
    };
    let jar = env.dir.path().join("cookies");
    let jar = jar.to_str().unwrap();
    let curl = |args: &[&str]| -> String {
        let o = std::process::Command::new("curl")
            .args(["-s", "-c", jar, "-b", jar])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let page = curl(&[&url]);
    let start = page.find("action=\"").expect("a login form") + "action=\"".len();
    let action = page[start..][..page[start..].find('"').unwrap()].replace("&amp;", "&");
    let redirect = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{redirect_url}",
        "-d",
        "username=erin",
        "-d",
        "password=erin-pw-1",
        &action,
    ]);
    assert!(
        redirect.starts_with("http://127.0.0.1:"),
        "login did not redirect to the CLI: {redirect}"
    );
    let answer = curl(&[&redirect]);
    assert!(answer.contains("login received"), "{answer}");
    let out = child.wait_with_output().unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(out.status.success(), "{}", rest.join("\n"));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["grant"], "auth-code");
    assert_eq!(v["claims_unverified"]["preferred_username"], "erin");
    assert_eq!(v["has_refresh_token"], true);
    // The session is cached: the next call is a cache hit, no browser needed.
    env.bare()
        .args([
            "--server",
            &env.server.url,
            "--auth-realm",
            &realm.name,
            "--client-id",
            "cli",
        ])
        .args(["--grant", "auth-code", "-v", "token"])
        .assert()
        .success()
        .stderr(predicate::str::contains("token cache hit"));
    // An admin command cannot start a browser login on its own: expired → 3, never a hang.
    let cache = session_file(env.config_dir());
    let mut entry: Value = serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    entry["expires_at"] = Value::from(1u64);
    entry["refresh_token"] = Value::from("not-a-valid-refresh-token");
    std::fs::write(&cache, serde_json::to_vec(&entry).unwrap()).unwrap();
    env.bare()
        .args([
            "--server",
            &env.server.url,
            "--auth-realm",
            &realm.name,
            "--client-id",
            "cli",
        ])
        .args(["--grant", "auth-code", "api", "GET", "/admin/realms"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "Keycloak refused to renew the session",
        ))
        .stderr(predicate::str::contains(
            "auth-code login cannot be renewed without a person",
        ));
}

/// The TOTP secret the OTP user is given. Keycloak uses the UTF-8 bytes of this value as the HMAC
/// key (it is not decoded as Base32).
const OTP_SECRET: &str = "cloakroomclitotpsecret42";

/// SHA-1 (FIPS 180-4), enough for HMAC-SHA1 in TOTP; no extra dependency.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for block in msg.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (hi, v) in h.iter_mut().zip([a, b, c, d, e]) {
            *hi = hi.wrapping_add(v);
        }
    }
    let mut out = [0u8; 20];
    for (i, v) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&v.to_be_bytes());
    }
    out
}

fn hmac_sha1(key: &[u8], msg: &[u8]) -> [u8; 20] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..20].copy_from_slice(&sha1(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    inner.extend_from_slice(msg);
    let mut outer: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    outer.extend_from_slice(&sha1(&inner));
    sha1(&outer)
}

/// RFC 6238 TOTP (HMAC-SHA1, 30 s, 6 digits) at `unix_seconds`.
fn totp_at(secret: &[u8], unix_seconds: u64) -> String {
    let mac = hmac_sha1(secret, &(unix_seconds / 30).to_be_bytes());
    let off = usize::from(mac[19] & 0x0f);
    let bin = u32::from_be_bytes([mac[off] & 0x7f, mac[off + 1], mac[off + 2], mac[off + 3]]);
    format!("{:06}", bin % 1_000_000)
}

#[test]
fn totp_matches_rfc_6238_vectors() {
    // RFC 6238 appendix B, SHA-1 key "12345678901234567890", truncated to 6 digits.
    let key = b"12345678901234567890";
    assert_eq!(totp_at(key, 59), "287082");
    assert_eq!(totp_at(key, 1_111_111_109), "081804");
    assert_eq!(totp_at(key, 1_234_567_890), "005924");
    assert_eq!(totp_at(key, 20_000_000_000), "353130");
}

/// Password + OTP against a realm whose user has a TOTP credential (given by realm import).
#[test]
fn token_password_and_otp_grant() {
    let admin = Env::new();
    let name = crate::support::unique("tokotp");
    admin.ok(&[
        "api",
        "POST",
        "/admin/realms",
        "--data",
        &serde_json::json!({
            "realm": name,
            "enabled": true,
            // admin-cli issues lightweight access tokens (no user claims): a client of our own.
            "clients": [{
                "clientId": "cli",
                "publicClient": true,
                "directAccessGrantsEnabled": true,
            }],
            "users": [{
                "username": "otto",
                "enabled": true,
                "email": "otto@example.test",
                "emailVerified": true,
                "firstName": "Otto",
                "lastName": "Otp",
                "credentials": [
                    {"type": "password", "value": "otto-pw-1", "temporary": false},
                    {
                        "type": "otp",
                        "secretData": serde_json::json!({"value": OTP_SECRET}).to_string(),
                        "credentialData": serde_json::json!({
                            "subType": "totp", "digits": 6, "counter": 0, "period": 30,
                            "algorithm": "HmacSHA1"
                        }).to_string(),
                    },
                ],
            }],
        })
        .to_string(),
    ]);
    let _cleanup = crate::support::Realm {
        env: &admin,
        name: name.clone(),
    };
    let env = Env::new();
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    // Without the code: 3, with Keycloak's message, and no secret echoed.
    user_cmd(&env, &name, "otto")
        .args(["--client-id", "cli", "--no-cache", "token"])
        .env("CLOAKROOM_PASSWORD", "otto-pw-1")
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!(
            "could not obtain a token from realm `{name}` (password grant): invalid_grant: Invalid user credentials"
        )))
        .stderr(predicate::str::contains("otto-pw-1").not());
    // `--otp` without a terminal and without CLOAKROOM_OTP: a usage error, never a hang.
    user_cmd(&env, &name, "otto")
        .args(["--client-id", "cli", "--no-cache", "--otp", "token"])
        .env("CLOAKROOM_PASSWORD", "otto-pw-1")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--otp needs a terminal to prompt on, or the code in CLOAKROOM_OTP",
        ));
    // A code from ten minutes ago: refused the same way, and the code is not echoed.
    let stale = totp_at(OTP_SECRET.as_bytes(), now() - 600);
    user_cmd(&env, &name, "otto")
        .args(["--client-id", "cli", "--no-cache", "--otp", "token"])
        .env("CLOAKROOM_PASSWORD", "otto-pw-1")
        .env("CLOAKROOM_OTP", &stale)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "invalid_grant: Invalid user credentials",
        ))
        .stderr(predicate::str::contains(stale.as_str()).not());
    // The current code: a token for otto.
    let code = totp_at(OTP_SECRET.as_bytes(), now());
    let out = user_cmd(&env, &name, "otto")
        .args(["--client-id", "cli", "--otp", "token", "--format", "json"])
        .env("CLOAKROOM_PASSWORD", "otto-pw-1")
        .env("CLOAKROOM_OTP", &code)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["grant"], "password");
    assert_eq!(v["client_id"], "cli");
    assert_eq!(v["claims_unverified"]["azp"], "cli");
    assert_eq!(v["claims_unverified"]["preferred_username"], "otto", "{v}");
    assert!(
        v["claims_unverified"]["iss"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/realms/{name}"))
    );
}

/// The device flow approved for real: `token --grant device` runs in the background, prints the
/// verification URL and user code, and a headless Chromium enters that code on Keycloak's
/// verification page, logs in and grants consent.
#[test]
fn device_flow_approved_in_a_real_browser() {
    use std::io::{BufRead, BufReader};
    use std::time::{Duration, Instant};
    let admin = Env::new();
    let name = crate::support::unique("tokdev");
    admin.ok(&[
        "api",
        "POST",
        "/admin/realms",
        "--data",
        &serde_json::json!({
            "realm": name,
            "enabled": true,
            "oauth2DevicePollingInterval": 1,
            "clients": [{
                "clientId": "tv",
                "enabled": true,
                "publicClient": true,
                "standardFlowEnabled": false,
                "attributes": {"oauth2.device.authorization.grant.enabled": "true"},
            }],
            "users": [{
                "username": "dora",
                "enabled": true,
                "email": "dora@example.test",
                "emailVerified": true,
                "firstName": "Dora",
                "lastName": "Device",
                "credentials": [{"type": "password", "value": "dora-pw-1", "temporary": false}],
            }],
        })
        .to_string(),
    ]);
    let _cleanup = crate::support::Realm {
        env: &admin,
        name: name.clone(),
    };
    let env = Env::new();
    let started = Instant::now();
    let mut child = std::process::Command::new(cloakroom_bin())
        .env("CLOAKROOM_CONFIG_DIR", env.config_dir())
        .env_remove("CLOAKROOM_PASSWORD")
        .env_remove("CLOAKROOM_USER")
        .args([
            "--server",
            &env.server.url,
            "--auth-realm",
            &name,
            "--client-id",
            "tv",
        ])
        .args(["--grant", "device", "token", "--format", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Kill the CLI if the test fails before it ends.
    struct Reap(Option<std::process::Child>);
    impl Drop for Reap {
        fn drop(&mut self) {
            if let Some(c) = self.0.as_mut() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut child = Reap(Some(child));
    // "To log in, open <verification_uri> and enter the code <user_code>"
    let (uri, code) = loop {
        let line = lines
            .next()
            .expect("the CLI ended without printing a URL and code")
            .unwrap();
        if let Some(rest) = line.strip_prefix("To log in, open ") {
            let (uri, code) = rest
                .split_once(" and enter the code ")
                .unwrap_or_else(|| panic!("unexpected prompt: {line}"));
            break (uri.to_owned(), code.trim().to_owned());
        }
    };
    assert_eq!(uri, format!("{}/realms/{name}/device", env.server.url));
    assert!(!code.is_empty());
    // Keep draining stderr so the CLI never blocks on a full pipe.
    let rest = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());

    let browser = crate::browser::Browser::start();
    browser.goto(&uri);
    browser.type_into("#device_user_code", &code);
    browser.click("#kc-login");
    browser.type_into("#username", "dora");
    browser.type_into("#password", "dora-pw-1");
    browser.click("#kc-login");
    // A consent screen ("Do you grant these access privileges?") may follow; then the CLI ends.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut consented = false;
    let status = loop {
        if let Some(s) = child.0.as_mut().unwrap().try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the CLI still waits 60 s after the login; page {}:\n{}",
            browser.url(),
            browser.source().chars().take(3000).collect::<String>()
        );
        if !consented && browser.find("[name=accept]").is_some() {
            browser.click("[name=accept]");
            consented = true;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    let page = browser.source();
    drop(browser);
    // It has ended: this only collects stdout (stderr is read by `rest`).
    let stdout = child.0.take().unwrap().wait_with_output().unwrap().stdout;
    let stderr = rest.join().unwrap().join("\n");
    assert!(
        status.success(),
        "exit {status}\nstderr: {stderr}\npage: {}",
        page.chars().take(2000).collect::<String>()
    );
    assert!(
        page.contains("Device Login Successful") || page.contains("successful"),
        "the verification page did not confirm: {}",
        page.chars().take(2000).collect::<String>()
    );
    let v: Value = serde_json::from_slice(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&stdout)));
    assert_eq!(v["grant"], "device");
    assert_eq!(v["client_id"], "tv");
    assert_eq!(v["claims_unverified"]["azp"], "tv");
    assert_eq!(v["claims_unverified"]["preferred_username"], "dora", "{v}");
    assert_eq!(v["claims_unverified"]["email"], "dora@example.test");
    assert_eq!(v["access_token"].as_str().unwrap().split('.').count(), 3);
    eprintln!("device flow approved in {:?}", started.elapsed());
    // The session is cached: the next call is a cache hit, no device login needed.
    env.bare()
        .args([
            "--server",
            &env.server.url,
            "--auth-realm",
            &name,
            "--client-id",
            "tv",
        ])
        .args(["--grant", "device", "-v", "token"])
        .assert()
        .success()
        .stderr(predicate::str::contains("token cache hit"));
}
