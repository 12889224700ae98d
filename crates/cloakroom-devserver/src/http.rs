//! A minimal HTTP/1.1 client over std TCP, for readiness probes and the admin login check
//! (loopback only; no TLS, no redirects).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::error::{Context, bail};
use crate::{Error, Result};

/// Whether `<management_url>/health/ready` answers 200.
pub fn health_ready(management_url: &str) -> bool {
    matches!(
        request("GET", &format!("{management_url}/health/ready"), None),
        Ok((200, _))
    )
}

/// Whether `url` answers 200 to a GET.
pub fn get_ok(url: &str) -> bool {
    matches!(request("GET", url, None), Ok((200, _)))
}

/// Password grant for `username` on the master realm's `admin-cli` client: Ok when Keycloak
/// hands out an access token.
pub fn admin_login(url: &str, username: &str, password: &str) -> Result<()> {
    let body = format!(
        "grant_type=password&client_id=admin-cli&username={}&password={}",
        form_encode(username),
        form_encode(password)
    );
    let token_url = format!("{url}/realms/master/protocol/openid-connect/token");
    let (status, text) = request(
        "POST",
        &token_url,
        Some(("application/x-www-form-urlencoded", &body)),
    )?;
    if status != 200 {
        bail!("POST {token_url} answered {status}: {}", excerpt(&text));
    }
    let json: serde_json::Value =
        serde_json::from_str(&text).ctx(|| format!("token response: {}", excerpt(&text)))?;
    if json.get("access_token").and_then(|t| t.as_str()).is_none() {
        bail!("token response has no access_token: {}", excerpt(&text));
    }
    Ok(())
}

/// One request; the status and the (de-chunked) body.
pub fn request(method: &str, url: &str, body: Option<(&str, &str)>) -> Result<(u16, String)> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| Error::new(format!("not an http:// URL: {url}")))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = authority
        .to_socket_addrs()
        .ctx(|| format!("resolving {authority}"))?
        .next()
        .ok_or_else(|| Error::new(format!("no address for {authority}")))?;
    let timeout = Duration::from_secs(10);
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nAccept: application/json\r\n"
    );
    if let Some((content_type, body)) = body {
        request.push_str(&format!(
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    if let Some((_, body)) = body {
        request.push_str(body);
    }
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| Error::new(format!("malformed HTTP response from {url}")))?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::new(format!("malformed status line from {url}")))?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok((status, body))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size_line, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
            .unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].strip_prefix("\r\n").unwrap_or(&rest[size..]);
    }
    out
}

pub fn form_encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub fn excerpt(text: &str) -> String {
    text.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies() {
        assert_eq!(
            dechunk("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
            "hello world"
        );
    }

    #[test]
    fn form_encoding() {
        assert_eq!(form_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }
}
