//! TLS against a real HTTPS Keycloak: a CA, a server certificate for 127.0.0.1 and a client
//! certificate are made here with the `openssl` CLI, and a second Keycloak is started with
//! HTTPS and `--https-client-auth=required`.
//!
//! `https-client-auth` is a build-time option, so this server runs from a private copy of the
//! distribution `cargo xtask keycloak fetch` unpacked (re-augmenting the shared one would
//! rewrite it under the test server that is running from it). One start for the whole file.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cloakroom::error::TransportKind;
use cloakroom::{Client, Credentials, Error};

const VERSION: &str = "26.7.3";
/// Exactly the feature list `xtask/src/keycloak.rs` builds the shared distribution with.
const FEATURES: &str =
    "--features=token-exchange:v1,admin-fine-grained-authz:v1,client-types,client-secret-rotation";
const ADMIN: (&str, &str) = ("tls-admin", "tls-admin-password");

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run(dir: &Path, args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", args[0]));
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// CA, server certificate (SAN IP:127.0.0.1), client certificate, and a PKCS#12 truststore
/// with the CA for Keycloak to check client certificates against.
fn make_certs(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut ca = vec!["openssl", "req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=cloakroom test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    run(dir, &ca);
    for (name, ext) in [
        (
            "server",
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        ),
        (
            "client",
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
             extendedKeyUsage=clientAuth\n",
        ),
    ] {
        std::fs::write(dir.join(format!("{name}.ext")), ext).unwrap();
        let (key, csr, pem, extfile) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
            format!("{name}.ext"),
        );
        let subj = format!("/CN={name}");
        let mut req = vec!["openssl", "req"];
        req.extend(ec);
        req.extend(["-keyout", &key, "-out", &csr, "-subj", &subj]);
        run(dir, &req);
        run(
            dir,
            &[
                "openssl",
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &pem,
                "-days",
                "2",
                "-extfile",
                &extfile,
            ],
        );
    }
    // The JDK's own keytool when the Temurin 25 Keycloak runs on is there, else the one on PATH.
    let keytool = java()
        .map(|h| h.join("bin/keytool"))
        .filter(|k| k.is_file())
        .map_or_else(|| "keytool".to_owned(), |k| k.display().to_string());
    run(
        dir,
        &[
            &keytool,
            "-importcert",
            "-noprompt",
            "-alias",
            "ca",
            "-file",
            "ca.pem",
            "-keystore",
            "trust.p12",
            "-storetype",
            "PKCS12",
            "-storepass",
            "changeit",
        ],
    );
}

/// The HTTPS Keycloak: its process group is stopped and its directory removed when this is
/// dropped, on panic too.
struct Https {
    dir: PathBuf,
    child: Child,
    watchdog: Option<Child>,
    https: String,
    log: PathBuf,
}

impl Drop for Https {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-TERM", "--", &group])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn java() -> Option<PathBuf> {
    let temurin = Path::new("/usr/lib/jvm/temurin-25-jdk-amd64");
    temurin.join("bin/java").is_file().then(|| temurin.into())
}

fn start_https_keycloak() -> Https {
    let dist = repo_root().join(format!(".cache/keycloak/keycloak-{VERSION}"));
    assert!(
        dist.join("bin/kc.sh").is_file(),
        "no Keycloak distribution at {}: run `cargo xtask keycloak fetch` (or `cargo xtask test`)",
        dist.display()
    );
    let dir = std::env::temp_dir().join(format!("cloakroom-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    make_certs(&dir);
    let home = dir.join("keycloak");
    run(
        &dir,
        &["cp", "-a", dist.to_str().unwrap(), home.to_str().unwrap()],
    );
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let (http_port, mgmt_port, https_port) = (free_port(), free_port(), free_port());
    let log = dir.join("keycloak.log");
    let out = std::fs::File::create(&log).unwrap();
    let p = |f: &str| dir.join(f).display().to_string();
    let mut cmd = Command::new("setsid");
    cmd.arg(home.join("bin/kc.sh"))
        .arg("start-dev")
        .arg("--http-host=127.0.0.1")
        .arg(format!("--http-port={http_port}"))
        .arg(format!("--http-management-port={mgmt_port}"))
        .arg(format!("--https-port={https_port}"))
        .arg(format!("--https-certificate-file={}", p("server.pem")))
        .arg(format!("--https-certificate-key-file={}", p("server.key")))
        .arg(format!("--https-trust-store-file={}", p("trust.p12")))
        .arg("--https-trust-store-password=changeit")
        .arg("--https-client-auth=required")
        .arg("--health-enabled=true")
        .arg("--metrics-enabled=true")
        .arg(FEATURES)
        .arg(format!("-Dkc.db-url-path={}", dir.display()))
        .arg(format!(
            "-Dquarkus.transaction-manager.object-store.directory={}",
            data.join("transaction-logs").display()
        ))
        .env("KC_BOOTSTRAP_ADMIN_USERNAME", ADMIN.0)
        .env("KC_BOOTSTRAP_ADMIN_PASSWORD", ADMIN.1)
        .env("JAVA_OPTS_KC_HEAP", "-Xms256m -Xmx768m")
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out);
    if let Some(home) = java() {
        cmd.env("JAVA", home.join("bin/java"))
            .env("JAVA_HOME", home);
    }
    let child = cmd.spawn().expect("starting kc.sh");
    // If this test process dies without unwinding (SIGKILL), the server goes with it.
    let watchdog = Command::new("sh")
        .arg("-c")
        .arg(
            "while kill -0 \"$1\" 2>/dev/null; do sleep 2; done; kill -TERM -- \"-$2\" 2>/dev/null",
        )
        .arg("cloakroom-tls-watchdog")
        .arg(std::process::id().to_string())
        .arg(child.id().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok();
    let mut server = Https {
        dir,
        child,
        watchdog,
        https: format!("https://127.0.0.1:{https_port}"),
        log,
    };
    // Ready when the plain-HTTP listener answers for the master realm.
    let deadline = Instant::now() + Duration::from_secs(300);
    let url = format!("http://127.0.0.1:{http_port}/realms/master");
    loop {
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("Keycloak exited with {status}:\n{}", server.log_tail());
        }
        if Instant::now() > deadline {
            panic!("Keycloak not ready in 300 s:\n{}", server.log_tail());
        }
        if http_get_ok(&url) {
            return server;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

impl Https {
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

fn http_get_ok(url: &str) -> bool {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let Ok(mut s) = std::net::TcpStream::connect(host) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if write!(
        s,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 16];
    let n = std::io::Read::read(&mut s, &mut buf).unwrap_or(0);
    buf[..n].starts_with(b"HTTP/1.1 200")
}

/// Captures what the library logs.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);
impl Write for Logs {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn builder(url: &str) -> cloakroom::ClientBuilder {
    Client::builder(url)
        .credentials(Credentials::password(ADMIN.0, ADMIN.1))
        .timeout(Duration::from_secs(30))
}

async fn admin_call(kc: &Client) -> cloakroom::Result<usize> {
    let realms = kc.realms().list().brief_representation(true).send().await?;
    Ok(realms.len())
}

fn transport_kind(e: &Error) -> Option<TransportKind> {
    match e {
        Error::Transport(t) => Some(t.kind),
        _ => None,
    }
}

#[tokio::test]
async fn https_keycloak_verification_custom_ca_mtls_and_the_danger_switch() {
    let t0 = Instant::now();
    let server = tokio::task::spawn_blocking(start_https_keycloak)
        .await
        .unwrap();
    eprintln!(
        "HTTPS Keycloak ready in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let url = server.https.clone();
    let read = |f: &str| std::fs::read(server.dir.join(f)).unwrap();
    let ca = read("ca.pem");
    let mut identity = read("client.pem");
    identity.extend(read("client.key"));
    let identity = String::from_utf8(identity).unwrap();

    // 1. The default client does not trust the self-signed CA: a typed TLS error, not retried.
    let started = Instant::now();
    let e = admin_call(&builder(&url).build().unwrap())
        .await
        .unwrap_err();
    assert_eq!(transport_kind(&e), Some(TransportKind::Tls), "{e:?}");
    assert!(!e.is_retryable());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "TLS failures are not retried"
    );

    // 2. The CA trusted and the client certificate presented: a token and an Admin API call.
    let kc = builder(&url)
        .add_root_certificate_pem(ca.clone())
        .client_identity_pem(identity.clone())
        .build()
        .unwrap();
    assert!(admin_call(&kc).await.unwrap() >= 1);
    assert!(!kc.access_token().await.unwrap().expose_secret().is_empty());

    // 3. The server requires a client certificate: without one, the CA alone is not enough.
    let e = admin_call(
        &builder(&url)
            .add_root_certificate_pem(ca.clone())
            .build()
            .unwrap(),
    )
    .await
    .unwrap_err();
    eprintln!("without a client certificate: {e}");
    assert_eq!(transport_kind(&e), Some(TransportKind::Tls), "{e:?}");
    // A client certificate from another CA is refused too.
    let other = tempdir_certs(&server.dir);
    let e = admin_call(
        &builder(&url)
            .add_root_certificate_pem(ca.clone())
            .client_identity_pem(other)
            .build()
            .unwrap(),
    )
    .await
    .unwrap_err();
    eprintln!("with a stranger's client certificate: {e}");
    assert_eq!(transport_kind(&e), Some(TransportKind::Tls), "{e:?}");

    // 4. `danger_accept_invalid_certs` skips verification, and says so in the log.
    let logs = Logs::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    let insecure = tracing::subscriber::with_default(subscriber, || {
        builder(&url)
            .client_identity_pem(identity.clone())
            .danger_accept_invalid_certs(true)
            .build()
            .unwrap()
    });
    assert!(admin_call(&insecure).await.unwrap() >= 1);
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("WARN") && logged.contains("TLS certificate verification is OFF"),
        "{logged}"
    );
    // Nothing else turns verification off: `danger_accept_invalid_certs(false)` still checks.
    let e = admin_call(
        &builder(&url)
            .client_identity_pem(identity)
            .danger_accept_invalid_certs(false)
            .build()
            .unwrap(),
    )
    .await
    .unwrap_err();
    assert_eq!(transport_kind(&e), Some(TransportKind::Tls), "{e:?}");
    drop(server);
    eprintln!("whole test {:.1} s", t0.elapsed().as_secs_f64());
}

/// A client certificate and key from a CA the server does not trust.
fn tempdir_certs(dir: &Path) -> String {
    let d = dir.join("other");
    std::fs::create_dir_all(&d).unwrap();
    run(
        &d,
        &[
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "k.pem",
            "-out",
            "c.pem",
            "-days",
            "2",
            "-subj",
            "/CN=stranger",
        ],
    );
    let mut pem = std::fs::read_to_string(d.join("c.pem")).unwrap();
    pem.push_str(&std::fs::read_to_string(d.join("k.pem")).unwrap());
    pem
}
