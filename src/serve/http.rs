//! A small blocking HTTP/1.1 client, enough for the endpoint's contract, and the HTTP
//! [`Transport`] of a [`crate::serve::Predictor`].

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Mutex;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::serve::predictor::Transport;

/// An HTTP response.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header names (lowercase) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One keep-alive HTTP/1.1 connection: a small blocking client, enough for the endpoint's
/// contract (fixed-length and chunked bodies). Used by [`HttpEndpoint`], the tests and the
/// load generator of `benches/serve.sh`.
pub struct HttpConnection {
    reader: BufReader<TcpStream>,
    host: String,
    reusable: bool,
}

impl HttpConnection {
    /// Connect to `addr` with `timeout` for connecting, reading and writing.
    pub fn connect(addr: SocketAddr, timeout: Duration) -> std::io::Result<Self> {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        Ok(HttpConnection {
            reader: BufReader::with_capacity(64 * 1024, stream),
            host: addr.to_string(),
            reusable: true,
        })
    }

    /// Whether the server allows another request on this connection.
    pub fn is_reusable(&self) -> bool {
        self.reusable
    }

    /// Send one request and read the whole response.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<HttpResponse> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.host,
            body.len()
        );
        for (k, v) in headers {
            head.push_str(k);
            head.push_str(": ");
            head.push_str(v);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        let mut msg = Vec::with_capacity(head.len() + body.len());
        msg.extend_from_slice(head.as_bytes());
        msg.extend_from_slice(body);
        let stream = self.reader.get_mut();
        if let Err(e) = stream.write_all(&msg) {
            // A server may answer (413) and close before reading a large body: read on.
            if e.kind() != std::io::ErrorKind::BrokenPipe
                && e.kind() != std::io::ErrorKind::ConnectionReset
            {
                return Err(e);
            }
            self.reusable = false;
        }
        self.read_response(method == "HEAD")
    }

    fn read_line(&mut self) -> std::io::Result<String> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed before the response ended",
            ));
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }

    fn read_response(&mut self, head_only: bool) -> std::io::Result<HttpResponse> {
        let invalid = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidData, m);
        let status_line = self.read_line()?;
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid(format!("bad status line `{status_line}`")))?;
        let mut headers = Vec::new();
        loop {
            let line = self.read_line()?;
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let get = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.to_ascii_lowercase())
        };
        if get("connection").is_some_and(|v| v.contains("close")) {
            self.reusable = false;
        }
        let mut body = Vec::new();
        if head_only || status == 204 || status == 304 || (100..200).contains(&status) {
        } else if get("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            loop {
                let size_line = self.read_line()?;
                let size =
                    usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                        .map_err(|_| invalid(format!("bad chunk size `{size_line}`")))?;
                if size == 0 {
                    // Trailers, then the blank line.
                    while !self.read_line()?.is_empty() {}
                    break;
                }
                let start = body.len();
                body.resize(start + size, 0);
                self.reader.read_exact(&mut body[start..])?;
                self.read_line()?;
            }
        } else if let Some(len) = get("content-length") {
            let len: usize = len
                .parse()
                .map_err(|_| invalid(format!("bad content-length `{len}`")))?;
            body.resize(len, 0);
            self.reader.read_exact(&mut body)?;
        } else {
            self.reader.read_to_end(&mut body)?;
            self.reusable = false;
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// The HTTP transport: `POST {url}/invocations` on the local server or any server with the
/// SageMaker container's contract. Keeps idle connections for reuse; a request that fails on
/// a reused connection (closed by the server meanwhile) is retried once on a new one.
pub struct HttpEndpoint {
    url: String,
    addr: SocketAddr,
    timeout: Duration,
    idle: Mutex<Vec<HttpConnection>>,
}

impl HttpEndpoint {
    /// An endpoint at `url` (`http://host:port`, a trailing `/` allowed). Requests time out
    /// after 60 s.
    pub fn new(url: &str) -> Result<Self> {
        let bad = |reason: &str| Error::InvalidSetting {
            name: "endpoint url".into(),
            reason: format!("`{url}`: {reason}"),
        };
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| bad("must start with http:// (TLS is not supported locally)"))?;
        let hostport = rest.trim_end_matches('/');
        if hostport.contains('/') {
            return Err(bad("give the server's root; /invocations is added"));
        }
        let addr = hostport
            .to_socket_addrs()
            .map_err(|e| bad(&e.to_string()))?
            .next()
            .ok_or_else(|| bad("resolves to no address"))?;
        Ok(HttpEndpoint {
            url: format!("http://{hostport}"),
            addr,
            timeout: Duration::from_secs(60),
            idle: Mutex::new(Vec::new()),
        })
    }

    /// Change the connect/read/write timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// `GET /ping`: whether the server answers 200 (model loaded).
    pub fn ping(&self) -> bool {
        self.call("GET", "/ping", &[], b"")
            .is_ok_and(|r| r.status == 200)
    }

    fn connection(&self) -> std::io::Result<(HttpConnection, bool)> {
        if let Some(c) = self.idle.lock().expect("pool").pop() {
            return Ok((c, true));
        }
        Ok((HttpConnection::connect(self.addr, self.timeout)?, false))
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<HttpResponse> {
        let io_err = |e: std::io::Error| Error::Endpoint {
            endpoint: self.url.clone(),
            status: None,
            message: e.to_string(),
        };
        let (mut conn, reused) = self.connection().map_err(io_err)?;
        let response = match conn.request(method, path, headers, body) {
            Ok(r) => r,
            Err(_) if reused => {
                conn = HttpConnection::connect(self.addr, self.timeout).map_err(io_err)?;
                conn.request(method, path, headers, body).map_err(io_err)?
            }
            Err(e) => return Err(io_err(e)),
        };
        if conn.is_reusable() {
            self.idle.lock().expect("pool").push(conn);
        }
        Ok(response)
    }
}

impl Transport for HttpEndpoint {
    fn invoke(
        &self,
        body: &[u8],
        content_type: &str,
        accept: &str,
        options: crate::serve::predictor::Invoke<'_>,
    ) -> Result<Vec<u8>> {
        let mut headers = vec![("Content-Type", content_type), ("Accept", accept)];
        if let Some(a) = options.custom_attributes {
            headers.push(("X-Amzn-SageMaker-Custom-Attributes", a));
        }
        if let Some(id) = options.inference_id {
            headers.push(("X-Amzn-SageMaker-Inference-Id", id));
        }
        let r = self.call("POST", "/invocations", &headers, body)?;
        if r.status != 200 {
            return Err(Error::Endpoint {
                endpoint: self.url.clone(),
                status: Some(r.status),
                message: r.text().trim().to_string(),
            });
        }
        Ok(r.body)
    }

    fn describe(&self) -> String {
        self.url.clone()
    }
}
