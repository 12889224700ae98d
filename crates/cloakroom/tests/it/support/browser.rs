//! A tiny W3C WebDriver client driving headless Chromium through chromedriver, for tests where a
//! person would use a browser (Keycloak's login and device-verification pages).
//!
//! Needs the Debian packages `chromium` and `chromium-driver`
//! (`apt-get update && apt-get install -y chromium chromium-driver`). Without them the test
//! fails with that instruction; it never skips.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
const INSTALL: &str = "apt-get update && apt-get install -y chromium chromium-driver";

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

/// One headless Chromium session. Dropping it ends the session and kills chromedriver.
pub struct Browser {
    http: reqwest::Client,
    session_url: String,
    driver: Child,
    profile: PathBuf,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a headless session.
    pub async fn start() -> Browser {
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
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .no_proxy()
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let profile =
            std::env::temp_dir().join(format!("cloakroom-chromium-{}-{port}", std::process::id()));
        let mut browser = Browser {
            http,
            session_url: String::new(),
            driver,
            profile,
        };
        let started = Instant::now();
        loop {
            let ready = browser
                .http
                .get(format!("{base}/status"))
                .send()
                .await
                .ok()
                .map(|r| r.status().is_success())
                .unwrap_or(false);
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
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={}", browser.profile.display()),
                ],
            },
        }}});
        let v: Value = browser
            .http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .expect("new WebDriver session")
            .json()
            .await
            .expect("WebDriver session answer");
        let id = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromedriver refused the session: {v}"));
        browser.session_url = format!("{base}/session/{id}");
        browser
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.session_url);
        let mut rb = self.http.request(method, &url);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let v: Value = rb
            .send()
            .await
            .unwrap_or_else(|e| panic!("WebDriver {path}: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("WebDriver {path}: unreadable answer: {e}"));
        v["value"].clone()
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) {
        let v = self
            .call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
        assert!(v.get("error").is_none(), "navigating to {url}: {v}");
    }

    /// The current URL.
    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page's HTML.
    pub async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The element matching `css`, if there is one now.
    pub async fn find(&self, css: &str) -> Option<String> {
        let v = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v.get(ELEMENT_KEY)
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// Waits up to `timeout` for an element matching `css`.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> String {
        let started = Instant::now();
        loop {
            if let Some(e) = self.find(css).await {
                return e;
            }
            if started.elapsed() > timeout {
                let url = self.url().await;
                let src = self.source().await;
                let excerpt: String = src.chars().take(3000).collect();
                panic!("no element `{css}` after {timeout:?} on {url}:\n{excerpt}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types `text` into the element matching `css` (waits for it up to 20 s).
    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.wait_for(css, Duration::from_secs(20)).await;
        let v = self
            .call(
                reqwest::Method::POST,
                &format!("/element/{e}/value"),
                Some(json!({"text": text})),
            )
            .await;
        assert!(v.get("error").is_none(), "typing into {css}: {v}");
    }

    /// Clicks the element matching `css` (waits for it up to 20 s).
    pub async fn click(&self, css: &str) {
        let e = self.wait_for(css, Duration::from_secs(20)).await;
        let v = self
            .call(
                reqwest::Method::POST,
                &format!("/element/{e}/click"),
                Some(json!({})),
            )
            .await;
        assert!(v.get("error").is_none(), "clicking {css}: {v}");
    }

    /// Ends the session, stops chromedriver and removes the profile.
    pub async fn quit(mut self) {
        let _ = self
            .http
            .delete(&self.session_url)
            .timeout(Duration::from_secs(20))
            .send()
            .await;
        self.stop_driver();
    }

    fn stop_driver(&mut self) {
        if self.driver.try_wait().ok().flatten().is_none() {
            let _ = self.driver.kill();
            let _ = self.driver.wait();
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.stop_driver();
    }
}

/// A loopback HTTP listener that catches the OAuth redirect: answers every request with a short
/// page and hands over the first request target starting with `path`.
pub struct RedirectCatcher {
    /// The redirect URI to register (`http://127.0.0.1:<port><path>`).
    pub redirect_uri: String,
    rx: tokio::sync::mpsc::UnboundedReceiver<String>,
    task: tokio::task::JoinHandle<()>,
}

impl RedirectCatcher {
    /// Binds a free loopback port.
    pub async fn start(path: &'static str) -> RedirectCatcher {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 65536 {
                        match tokio::time::timeout(Duration::from_secs(10), sock.read(&mut chunk))
                            .await
                        {
                            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                            _ => return,
                        }
                    }
                    let head = String::from_utf8_lossy(&buf);
                    let target = head
                        .lines()
                        .next()
                        .and_then(|l| l.split(' ').nth(1))
                        .unwrap_or("")
                        .to_owned();
                    let body =
                        "<html><body>You are logged in. You may close this window.</body></html>";
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = sock.write_all(answer.as_bytes()).await;
                    if target.starts_with(path) {
                        let _ = tx.send(target);
                    }
                });
            }
        });
        RedirectCatcher {
            redirect_uri: format!("http://127.0.0.1:{port}{path}"),
            rx,
            task,
        }
    }

    /// Waits for the redirect and returns its request target (`/callback?code=…&state=…`).
    pub async fn wait(&mut self, timeout: Duration) -> String {
        tokio::time::timeout(timeout, self.rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no redirect to {} within {timeout:?}", self.redirect_uri))
            .expect("redirect listener stopped")
    }
}

impl Drop for RedirectCatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}
