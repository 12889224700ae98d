//! TLS against a real HTTPS Keycloak: a CA, a server certificate for 127.0.0.1 and a client
//! certificate are made here with the `openssl` CLI, and a second Keycloak is started with
//! HTTPS and `--https-client-auth=required`.
//!
//! `https-client-auth` is a build-time option, so this server runs from a private copy of the
//! distribution `cargo xtask keycloak fetch` unpacked (re-augmenting the shared one would
//! rewrite it under the test server that is running from it). One start for the whole file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cloakroom::error::TransportKind;
use cloakroom::{Client, Credentials, Error};
use cloakroom_devserver::VERSION;
use cloakroom_devserver::dist::Distribution;
use cloakroom_devserver::keycloak::{Readiness, Server, ServerOptions};
use cloakroom_devserver::process::free_ports;

const ADMIN: (&str, &str) = ("tls-admin", "tls-admin-password");

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
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
    // The keytool of the JDK the launcher runs Keycloak on, else the one on PATH.
    let keytool = cloakroom_devserver::java::choose()
        .ok()
        .and_then(|j| j.home)
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

/// The HTTPS Keycloak, started by the launcher crate: its process group is stopped and its
/// directory removed when this is dropped (on panic too; the launcher's watchdog does it if
/// the test process dies without unwinding).
struct Https {
    dir: PathBuf,
    https: String,
    _server: Server,
}

fn start_https_keycloak() -> Https {
    let shared = repo_root().join(format!(".cache/keycloak/keycloak-{VERSION}"));
    let dist = Distribution::at(&shared, VERSION).unwrap_or_else(|e| {
        panic!("{e}: run `cargo xtask keycloak fetch` (or `cargo xtask test`)")
    });
    let dir = std::env::temp_dir().join(format!("cloakroom-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    make_certs(&dir);
    let copy = dist.copy_to(&dir).expect("copying the distribution");
    let ports = free_ports(&[None, None, None]).unwrap();
    let (http_port, https_port) = (ports[0], ports[2]);
    let p = |f: &str| dir.join(f).display().to_string();
    let mut opts = ServerOptions::new(copy, &dir.join("run"));
    opts.http_port = http_port;
    opts.management_port = ports[1];
    opts.admin_username = ADMIN.0.into();
    opts.admin_password = ADMIN.1.into();
    opts.heap = "-Xms256m -Xmx768m".into();
    opts.extra_args = vec![
        format!("--https-port={https_port}"),
        format!("--https-certificate-file={}", p("server.pem")),
        format!("--https-certificate-key-file={}", p("server.key")),
        format!("--https-trust-store-file={}", p("trust.p12")),
        "--https-trust-store-password=changeit".into(),
        "--https-client-auth=required".into(),
    ];
    // The management port speaks HTTPS too here: ready when plain HTTP serves the realm.
    opts.readiness = Readiness::Url(format!("http://127.0.0.1:{http_port}/realms/master"));
    opts.remove_on_stop = Some(dir.clone());
    let server = opts
        .start(&|line| eprintln!("{line}"))
        .unwrap_or_else(|e| panic!("starting the HTTPS Keycloak: {e}"));
    Https {
        dir,
        https: format!("https://127.0.0.1:{https_port}"),
        _server: server,
    }
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
