//! A minimal W3C WebDriver client driving headless Chromium through chromedriver, for the pages a
//! person would use (Keycloak's device-verification and login pages). The wire calls go through
//! `curl`, so the CLI's tests need no HTTP client crate. Cut down from the library's
//! `crates/cloakroom/tests/it/support/browser.rs`.
//!
//! Needs the Debian packages `chromium` and `chromium-driver` (`.ci/run` installs them). Without
//! them the test fails with that instruction; it never skips.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
const INSTALL: &str = "apt-get update && apt-get install -y chromium chromium-driver curl";

fn find_driver() -> PathBuf {
    for p in ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"] {
        if std::path::Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!("chromedriver is not installed; install the browser for these tests with `{INSTALL}`");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind a loopback port")
        .local_addr()
        .unwrap()
        .port()
}

/// One WebDriver call: `method url [json body]`, returning the answer's `value`.
fn wire(method: &str, url: &str, body: Option<&Value>) -> Value {
    let mut c = Command::new("curl");
    c.args(["-s", "--noproxy", "*", "-m", "60", "-X", method]);
    if let Some(b) = body {
        c.args(["-H", "Content-Type: application/json", "-d", &b.to_string()]);
    }
    let out = c
        .arg(url)
        .output()
        .unwrap_or_else(|e| panic!("cannot run curl ({e}); install it with `{INSTALL}`"));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "WebDriver {method} {url}: unreadable answer ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    v["value"].clone()
}

/// One headless Chromium session. Dropping it ends the session and kills chromedriver.
pub struct Browser {
    session_url: String,
    driver: Child,
    profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a headless session.
    pub fn start() -> Browser {
        assert!(
            std::path::Path::new(CHROMIUM).exists(),
            "{CHROMIUM} is missing; install the browser for these tests with `{INSTALL}`"
        );
        let driver_bin = find_driver();
        let port = free_port();
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", driver_bin.display()));
        let base = format!("http://127.0.0.1:{port}");
        let mut browser = Browser {
            session_url: String::new(),
            driver,
            profile: tempfile::tempdir().expect("tempdir"),
        };
        let started = Instant::now();
        loop {
            let ready = Command::new("curl")
                .args(["-s", "-f", "--noproxy", "*", "-o", "/dev/null", "-m", "5"])
                .arg(format!("{base}/status"))
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                break;
            }
            if let Ok(Some(status)) = browser.driver.try_wait() {
                panic!("chromedriver exited at start-up ({status})");
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "chromedriver did not answer on port {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={}", browser.profile.path().display()),
                ],
            },
        }}});
        let v = wire("POST", &format!("{base}/session"), Some(&caps));
        let id = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromedriver refused the session: {v}"));
        browser.session_url = format!("{base}/session/{id}");
        browser
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        wire(
            method,
            &format!("{}{path}", self.session_url),
            body.as_ref(),
        )
    }

    /// Opens `url`.
    pub fn goto(&self, url: &str) {
        let v = self.call("POST", "/url", Some(json!({"url": url})));
        assert!(v.get("error").is_none(), "navigating to {url}: {v}");
    }

    /// The current URL.
    pub fn url(&self) -> String {
        self.call("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page's HTML.
    pub fn source(&self) -> String {
        self.call("GET", "/source", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The element matching `css`, if there is one now.
    pub fn find(&self, css: &str) -> Option<String> {
        let v = self.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v.get(ELEMENT_KEY)
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// Waits up to `timeout` for an element matching `css`.
    pub fn wait_for(&self, css: &str, timeout: Duration) -> String {
        let started = Instant::now();
        loop {
            if let Some(e) = self.find(css) {
                return e;
            }
            if started.elapsed() > timeout {
                let excerpt: String = self.source().chars().take(3000).collect();
                panic!(
                    "no element `{css}` after {timeout:?} on {}:\n{excerpt}",
                    self.url()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Types `text` into the element matching `css` (waits for it up to 20 s).
    pub fn type_into(&self, css: &str, text: &str) {
        let e = self.wait_for(css, Duration::from_secs(20));
        let v = self.call(
            "POST",
            &format!("/element/{e}/value"),
            Some(json!({"text": text})),
        );
        assert!(v.get("error").is_none(), "typing into {css}: {v}");
    }

    /// Clicks the element matching `css` (waits for it up to 20 s).
    pub fn click(&self, css: &str) {
        let e = self.wait_for(css, Duration::from_secs(20));
        let v = self.call("POST", &format!("/element/{e}/click"), Some(json!({})));
        assert!(v.get("error").is_none(), "clicking {css}: {v}");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session_url.is_empty() {
            let _ = Command::new("curl")
                .args(["-s", "--noproxy", "*", "-m", "20", "-X", "DELETE"])
                .arg(&self.session_url)
                .stdout(Stdio::null())
                .status();
        }
        if self.driver.try_wait().ok().flatten().is_none() {
            let _ = self.driver.kill();
            let _ = self.driver.wait();
        }
    }
}
