//! A small blocking HTTP/1.1 client over `std::net::TcpStream`: the scenarios need to
//! see exactly what goes over the wire (and when), including connections the service
//! refuses or closes, without a client library's retries and pools in between.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long any one request may take before the client gives up on it. Longer than any
/// answer the service should ever take, so a hang shows up as a failed assertion.
pub(crate) const CLIENT_TIMEOUT: Duration = Duration::from_secs(15);

/// One HTTP answer.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    /// The body as JSON, or `Value::Null` when it is not JSON.
    pub(crate) body: Value,
}

impl Answer {
    pub(crate) fn error_code(&self) -> Option<&str> {
        self.body["error_code"].as_str()
    }
}

/// Sends one request on a fresh connection (`Connection: close`).
pub(crate) fn request(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> io::Result<Answer> {
    request_with_token(port, method, path, body, None)
}

/// [`request`], with `token` (when given) as the `Hold-Token` header.
pub(crate) fn request_with_token(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
    token: Option<&str>,
) -> io::Result<Answer> {
    let mut connection = Connection::new(port);
    connection.keep_alive = false;
    connection.send_with_token(method, path, body, token)
}

/// `GET path` on a fresh connection, answering the status and the body as text.
pub(crate) fn get_text(port: u16, path: &str) -> io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(5),
    )?;
    let head = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes())?;
    let (status, _, body) = read_answer(&mut stream, Instant::now() + CLIENT_TIMEOUT)?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// A connection to the service reused across requests (keep-alive), reopened after
/// any failure.
#[derive(Debug)]
pub(crate) struct Connection {
    address: SocketAddr,
    stream: Option<TcpStream>,
    keep_alive: bool,
}

impl Connection {
    pub(crate) fn new(port: u16) -> Self {
        Self {
            address: SocketAddr::from(([127, 0, 0, 1], port)),
            stream: None,
            keep_alive: true,
        }
    }

    /// Sends a request and reads its answer within [`CLIENT_TIMEOUT`]. On any error the
    /// connection is dropped (the next request opens a new one); nothing is retried.
    pub(crate) fn send(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> io::Result<Answer> {
        self.send_with_token(method, path, body, None)
    }

    /// [`send`](Self::send), with `token` (when given) as the `Hold-Token` header.
    pub(crate) fn send_with_token(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&str>,
        token: Option<&str>,
    ) -> io::Result<Answer> {
        let result = self.exchange(method, path, body, token);
        if result.is_err() || !self.keep_alive {
            self.stream = None;
        }
        result
    }

    fn exchange(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&str>,
        token: Option<&str>,
    ) -> io::Result<Answer> {
        let deadline = Instant::now() + CLIENT_TIMEOUT;
        if self.stream.is_none() {
            let stream = TcpStream::connect_timeout(&self.address, Duration::from_secs(5))?;
            stream.set_nodelay(true)?;
            self.stream = Some(stream);
        }
        let Some(stream) = self.stream.as_mut() else {
            unreachable!("opened above");
        };
        let body = body.unwrap_or("");
        let connection = if self.keep_alive {
            "keep-alive"
        } else {
            "close"
        };
        let token = token
            .map(|token| format!("Hold-Token: {token}\r\n"))
            .unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: {connection}\r\n\
             {token}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
        stream.write_all(head.as_bytes())?;
        stream.write_all(body.as_bytes())?;
        let (status, close, body) = read_answer(stream, deadline)?;
        if close {
            self.stream = None;
        }
        Ok(Answer {
            status,
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        })
    }
}

/// Reads one answer: its status, whether the server closes the connection, its body.
pub(crate) fn read_answer(
    stream: &mut TcpStream,
    deadline: Instant,
) -> io::Result<(u16, bool, Vec<u8>)> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(end) = find(&buffer, b"\r\n\r\n") {
            break end + 4;
        }
        read_some(stream, &mut buffer, &mut chunk, deadline)?;
    };
    let head = String::from_utf8_lossy(&buffer[..header_end]).to_ascii_lowercase();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no status line"))?;
    let header = |name: &str| {
        head.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .map(str::trim)
            .map(str::to_owned)
    };
    let close = header("connection").is_some_and(|value| value == "close");
    match header("content-length").and_then(|length| length.parse::<usize>().ok()) {
        Some(length) => {
            while buffer.len() < header_end + length {
                read_some(stream, &mut buffer, &mut chunk, deadline)?;
            }
            Ok((
                status,
                close,
                buffer[header_end..header_end + length].to_vec(),
            ))
        }
        None => {
            // No length: the body runs to the end of the connection.
            while read_some(stream, &mut buffer, &mut chunk, deadline).is_ok() {}
            Ok((status, true, buffer[header_end..].to_vec()))
        }
    }
}

fn read_some(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    chunk: &mut [u8],
    deadline: Instant,
) -> io::Result<()> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(io::Error::new(io::ErrorKind::TimedOut, "no answer in time"));
    }
    stream.set_read_timeout(Some(left))?;
    let read = stream.read(chunk)?;
    if read == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed before the answer ended",
        ));
    }
    buffer.extend_from_slice(&chunk[..read]);
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
