//! `cloakroom-stub DIR [USERS]`: a loopback HTTP/1.1 server that answers like Keycloak 26.7.3
//! from the responses recorded in DIR (`bench/stub/recorded/`, made by `bench/stub/record.sh`),
//! so `cargo xtask bench --only stub` measures the clients with the server out of the way.
//!
//! Every answer is built once at start-up and then written as the same bytes: the token
//! response, one user (whatever the id), the 201 of a create with its `Location`, the 204 of a
//! PUT, and pages of a realm of USERS (default 10,000) synthetic users made from the recorded
//! user by changing its id, username and e-mail. One thread (a current-thread Tokio runtime),
//! keep-alive connections, no TLS. `GET /__stub/stats` answers
//! `{"requests": n, "cpu_seconds": user+sys of this process}` so the harness can subtract the
//! stub's own cost. Prints `listening on 127.0.0.1:PORT` once bound (port 0 = any free port, or
//! `STUB_PORT`).

mod cpu;
mod http;
mod recorded;

use cpu::cpu_seconds;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use recorded::Answers;

static REQUESTS: AtomicU64 = AtomicU64::new(0);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: cloakroom-stub RECORDED_DIR [USERS]");
        std::process::exit(2);
    };
    let users: usize = match args.get(1).map(|s| s.parse()) {
        None => 10_000,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("cloakroom-stub: USERS must be a number");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("a Tokio runtime");
    if let Err(e) = rt.block_on(serve(std::path::Path::new(dir), users)) {
        eprintln!("cloakroom-stub: {e}");
        std::process::exit(1);
    }
}

async fn serve(dir: &std::path::Path, users: usize) -> std::io::Result<()> {
    let port = std::env::var("STUB_PORT").unwrap_or_else(|_| "0".into());
    let listener = TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    let addr = listener.local_addr()?;
    let answers = Arc::new(
        Answers::load(dir, &format!("http://{addr}"), users).map_err(std::io::Error::other)?,
    );
    println!("listening on {addr}");
    loop {
        let (sock, _) = listener.accept().await?;
        let _ = sock.set_nodelay(true);
        let answers = answers.clone();
        tokio::spawn(async move {
            if let Err(e) = connection(sock, &answers).await {
                if e.kind() != std::io::ErrorKind::ConnectionReset {
                    eprintln!("cloakroom-stub: connection: {e}");
                }
            }
        });
    }
}

/// Serves one keep-alive connection until the peer closes it.
async fn connection(mut sock: TcpStream, answers: &Answers) -> std::io::Result<()> {
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut out: Vec<u8> = Vec::with_capacity(1024);
    loop {
        // Every complete request in the buffer is answered before reading again (pipelining).
        loop {
            match http::parse(&buf) {
                http::Parsed::Incomplete => break,
                http::Parsed::Bad(why) => {
                    sock.write_all(&http::bad_request(why)).await?;
                    return Ok(());
                }
                http::Parsed::Request { req, consumed } => {
                    REQUESTS.fetch_add(1, Ordering::Relaxed);
                    out.clear();
                    let close = req.close;
                    answers.answer(&req, &mut out, stats);
                    buf.drain(..consumed);
                    sock.write_all(&out).await?;
                    if close {
                        return Ok(());
                    }
                }
            }
        }
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(16 * 1024);
        }
        let n = sock.read_buf(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
    }
}

/// The stats document: requests served and this process's CPU time so far.
fn stats() -> String {
    format!(
        "{{\"requests\":{},\"cpu_seconds\":{:.6}}}",
        REQUESTS.load(Ordering::Relaxed),
        cpu_seconds()
    )
}
