//! Just enough HTTP/1.1 request parsing for the stub: request line, `Content-Length` bodies,
//! chunked bodies, `Connection: close`.

/// One request, borrowed from the connection's buffer.
pub struct Request<'a> {
    pub method: &'a str,
    /// Path and query as sent.
    pub target: &'a str,
    /// The client asked to close the connection after this answer.
    pub close: bool,
}

pub enum Parsed<'a> {
    Incomplete,
    Bad(&'static str),
    Request { req: Request<'a>, consumed: usize },
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Parses the first request in `buf`, if it is all there.
pub fn parse(buf: &[u8]) -> Parsed<'_> {
    let Some(end) = find(buf, b"\r\n\r\n") else {
        return if buf.len() > 64 * 1024 {
            Parsed::Bad("request head too large")
        } else {
            Parsed::Incomplete
        };
    };
    let Ok(head) = std::str::from_utf8(&buf[..end]) else {
        return Parsed::Bad("request head is not UTF-8");
    };
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let (Some(method), Some(target), Some(version)) = (first.next(), first.next(), first.next())
    else {
        return Parsed::Bad("bad request line");
    };
    let mut close = version == "HTTP/1.0";
    let mut length = 0usize;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Parsed::Bad("bad header line");
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            match value.parse() {
                Ok(n) => length = n,
                Err(_) => return Parsed::Bad("bad content-length"),
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        }
    }
    let body_start = end + 4;
    let consumed = if chunked {
        match chunked_end(&buf[body_start..]) {
            Ok(Some(n)) => body_start + n,
            Ok(None) => return Parsed::Incomplete,
            Err(why) => return Parsed::Bad(why),
        }
    } else if buf.len() < body_start + length {
        return Parsed::Incomplete;
    } else {
        body_start + length
    };
    Parsed::Request {
        req: Request {
            method,
            target,
            close,
        },
        consumed,
    }
}

/// Length of a complete chunked body at the start of `b` (trailers included), or `None` when
/// more bytes are needed.
fn chunked_end(b: &[u8]) -> Result<Option<usize>, &'static str> {
    let mut at = 0;
    loop {
        let Some(eol) = find(&b[at..], b"\r\n") else {
            return Ok(None);
        };
        let size_text = std::str::from_utf8(&b[at..at + eol]).map_err(|_| "bad chunk size")?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| "bad chunk size")?;
        at += eol + 2;
        if size == 0 {
            // Trailers, then an empty line.
            loop {
                let Some(eol) = find(&b[at..], b"\r\n") else {
                    return Ok(None);
                };
                at += eol + 2;
                if eol == 0 {
                    return Ok(Some(at));
                }
            }
        }
        if b.len() < at + size + 2 {
            return Ok(None);
        }
        at += size + 2;
    }
}

/// A whole 400 answer that closes the connection.
pub fn bad_request(why: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{why}",
        why.len()
    )
    .into_bytes()
}

/// Appends a whole answer: status line, `headers` (each ending in CRLF), `Content-Length`, body.
pub fn response(out: &mut Vec<u8>, status: &str, headers: &str, body: &[u8]) {
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(headers.as_bytes());
    out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_length_and_chunked_bodies() {
        let r = b"PUT /a HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}GET";
        match parse(r) {
            Parsed::Request { req, consumed } => {
                assert_eq!((req.method, req.target, req.close), ("PUT", "/a", false));
                assert_eq!(consumed, r.len() - 3);
            }
            _ => panic!("not parsed"),
        }
        let c = b"POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
        assert!(matches!(parse(c), Parsed::Request { consumed, .. } if consumed == c.len()));
        assert!(matches!(parse(&c[..c.len() - 2]), Parsed::Incomplete));
        assert!(matches!(parse(b"nonsense\r\n\r\n"), Parsed::Bad(_)));
    }
}
