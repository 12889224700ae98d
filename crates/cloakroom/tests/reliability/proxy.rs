//! A fault-injecting HTTP/1.1 proxy on 127.0.0.1: one request per connection (it forwards
//! each request with `Connection: close` and closes the client's connection after the answer),
//! so every request the client makes is one connection here and can be counted and faulted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What happens to the next `/admin/` requests.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// Reset the connection after reading the request (nothing forwarded).
    Reset,
    /// Forward the request, then reset the connection instead of answering.
    ResetAfterForward,
    /// Answer 503 without forwarding.
    Unavailable,
    /// Wait this long, then forward.
    Delay(Duration),
}

#[derive(Default)]
struct State {
    faults: Vec<Fault>,
    /// Requests seen, by method, for `/admin/` paths.
    seen: HashMap<String, u32>,
}

#[derive(Clone)]
pub struct Proxy {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl Proxy {
    pub async fn start(upstream: &str) -> Proxy {
        let upstream = upstream
            .strip_prefix("http://")
            .expect("an http:// upstream")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (st, up) = (st.clone(), upstream.clone());
                tokio::spawn(async move {
                    let _ = handle(sock, &up, &st).await;
                });
            }
        });
        Proxy { url, state }
    }

    /// Queues faults for the next `/admin/` requests, in order.
    pub fn inject(&self, faults: &[Fault]) {
        let mut s = self.state.lock().unwrap();
        s.faults = faults.to_vec();
        s.seen.clear();
    }

    /// `/admin/` requests seen with `method` since the last `inject`.
    pub fn seen(&self, method: &str) -> u32 {
        *self.state.lock().unwrap().seen.get(method).unwrap_or(&0)
    }
}

fn find(h: &[u8], needle: &[u8]) -> Option<usize> {
    h.windows(needle.len()).position(|w| w == needle)
}

/// Reads one message head (up to the blank line) and returns (head, bytes after it).
async fn read_head(sock: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..i + 4]).into_owned();
            return Ok((head, buf[i + 4..].to_vec()));
        }
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The head with any `Connection` header replaced by `Connection: close`.
fn closing(head: &str) -> String {
    let mut out = String::new();
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    out
}

fn reset(sock: TcpStream) {
    let _ = sock.set_zero_linger();
    drop(sock);
}

async fn handle(mut client: TcpStream, upstream: &str, st: &Mutex<State>) -> std::io::Result<()> {
    let (head, mut body) = read_head(&mut client).await?;
    let len: usize = head
        .split("\r\n")
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while body.len() < len {
        let mut chunk = vec![0u8; len - body.len()];
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let mut words = head.split_whitespace();
    let (method, path) = (
        words.next().unwrap_or("").to_owned(),
        words.next().unwrap_or(""),
    );
    let fault = if path.starts_with("/admin/") {
        let mut s = st.lock().unwrap();
        *s.seen.entry(method.clone()).or_default() += 1;
        (!s.faults.is_empty()).then(|| s.faults.remove(0))
    } else {
        None
    };
    match fault {
        Some(Fault::Reset) => {
            reset(client);
            return Ok(());
        }
        Some(Fault::Unavailable) => {
            client
                .write_all(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\
                      Content-Length: 28\r\nConnection: close\r\n\r\n{\"error\":\"proxy: try later\"}",
                )
                .await?;
            return client.shutdown().await;
        }
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(Fault::ResetAfterForward) | None => {}
    }
    let mut up = TcpStream::connect(upstream).await?;
    up.write_all(closing(&head).as_bytes()).await?;
    up.write_all(&body).await?;
    let (rhead, rest) = read_head(&mut up).await?;
    if matches!(fault, Some(Fault::ResetAfterForward)) {
        eprintln!(
            "proxy: answer lost on purpose: {}",
            rhead.lines().next().unwrap_or("")
        );
        // Let the server finish the work, then lose the answer.
        let mut sink = Vec::new();
        let _ = up.read_to_end(&mut sink).await;
        reset(client);
        return Ok(());
    }
    client.write_all(closing(&rhead).as_bytes()).await?;
    client.write_all(&rest).await?;
    tokio::io::copy(&mut up, &mut client).await?;
    client.shutdown().await
}
