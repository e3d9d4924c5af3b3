//! A minimal HTTP/1.1 keep-alive client over a tokio `TcpStream`: enough for
//! the load generator (one request in flight per connection) and nothing more,
//! so the client's own cost stays small and predictable.

use std::net::SocketAddr;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// One request: method, path with query, and an optional JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: &'static str,
    /// The path and query string.
    pub path: String,
    /// A JSON body, sent with `Content-Type: application/json`.
    pub body: Option<Vec<u8>>,
}

impl Request {
    /// A `GET` of `path`.
    pub fn get(path: impl Into<String>) -> Request {
        Request {
            method: "GET",
            path: path.into(),
            body: None,
        }
    }

    /// A `POST` of `body` to `path`.
    pub fn post_json(path: impl Into<String>, body: &serde_json::Value) -> Request {
        Request {
            method: "POST",
            path: path.into(),
            body: Some(body.to_string().into_bytes()),
        }
    }

    fn encode(&self, authorization: Option<&str>, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(self.method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.path.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: application/json\r\n");
        if let Some(authorization) = authorization {
            out.extend_from_slice(b"authorization: ");
            out.extend_from_slice(authorization.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        if let Some(body) = &self.body {
            out.extend_from_slice(b"content-type: application/json\r\ncontent-length: ");
            out.extend_from_slice(body.len().to_string().as_bytes());
            out.extend_from_slice(b"\r\n\r\n");
            out.extend_from_slice(body);
        } else {
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// A response's status, challenge and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The `WWW-Authenticate` header of a 401.
    pub challenge: Option<String>,
    /// The body bytes.
    pub body: Vec<u8>,
}

/// One keep-alive connection to a server on loopback, sending the same
/// credential (or none) with every request.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    authorization: Option<String>,
    buffer: Vec<u8>,
    request: Vec<u8>,
}

impl Connection {
    /// Connects to `address`, which must be a loopback address; every request
    /// sent on it carries `authorization` as its `Authorization` header.
    ///
    /// # Errors
    ///
    /// When `address` is not loopback or nothing listens there.
    pub async fn open(
        address: SocketAddr,
        authorization: Option<&str>,
    ) -> anyhow::Result<Connection> {
        if !address.ip().is_loopback() {
            bail!("the load generator only targets loopback, not {address}");
        }
        let stream = TcpStream::connect(address)
            .await
            .with_context(|| format!("connecting to {address}"))?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream,
            authorization: authorization.map(str::to_owned),
            buffer: Vec::with_capacity(16 * 1024),
            request: Vec::with_capacity(1024),
        })
    }

    /// Sends `request` and reads the whole response.
    ///
    /// # Errors
    ///
    /// When the connection fails or the response is not HTTP/1.1 with a
    /// `content-length` or chunked body.
    pub async fn send(&mut self, request: &Request) -> anyhow::Result<Response> {
        request.encode(self.authorization.as_deref(), &mut self.request);
        self.stream.write_all(&self.request).await?;
        self.buffer.clear();
        let header_end = loop {
            if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                break end + 4;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buffer[..header_end]).context("non-UTF-8 header")?;
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|status| status.parse().ok())
            .context("no status line")?;
        let mut content_length = None;
        let mut chunked = false;
        let mut challenge = None;
        for line in head.split("\r\n").skip(1) {
            if let Some((name, value)) = line.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    content_length = Some(value.parse::<usize>()?);
                } else if name.eq_ignore_ascii_case("transfer-encoding")
                    && value.eq_ignore_ascii_case("chunked")
                {
                    chunked = true;
                } else if name.eq_ignore_ascii_case("www-authenticate") {
                    challenge = Some(value.to_owned());
                }
            }
        }
        let body = if chunked {
            self.read_chunked(header_end).await?
        } else {
            let length = if status == 304 || status == 204 {
                0
            } else {
                content_length.context("response without content-length")?
            };
            while self.buffer.len() < header_end + length {
                self.fill().await?;
            }
            self.buffer[header_end..header_end + length].to_vec()
        };
        Ok(Response {
            status,
            challenge,
            body,
        })
    }

    async fn fill(&mut self) -> anyhow::Result<()> {
        let mut chunk = [0_u8; 16 * 1024];
        let read = self.stream.read(&mut chunk).await?;
        if read == 0 {
            bail!("the server closed the connection");
        }
        self.buffer.extend_from_slice(&chunk[..read]);
        Ok(())
    }

    async fn read_chunked(&mut self, mut position: usize) -> anyhow::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(end) = find(&self.buffer[position..], b"\r\n") {
                    break position + end;
                }
                self.fill().await?;
            };
            let size_text = std::str::from_utf8(&self.buffer[position..line_end])?;
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)?;
            position = line_end + 2;
            while self.buffer.len() < position + size + 2 {
                self.fill().await?;
            }
            body.extend_from_slice(&self.buffer[position..position + size]);
            position += size + 2;
            if size == 0 {
                return Ok(body);
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
