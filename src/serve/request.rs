//! One HTTP/1.1 request head read from a client, within a size and a time limit, parsed with
//! httparse; and the answer written back.
//!
//! The exporter answers one request per connection and closes it, so nothing after the head
//! is read: a body, a second request or a slow client costs no more than the head's bounds.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Most header lines a request may carry; more is answered 431.
const MAX_HEADERS: usize = 64;

/// Longest the exporter waits for a client to close after the answer.
const LINGER: Duration = Duration::from_secs(2);

/// Most bytes read and dropped after the answer.
const LINGER_BYTES: usize = 64 * 1024;

/// A request head, as far as the exporter reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Request {
    /// the method, as sent (`GET`)
    pub(super) method: String,
    /// the path of the request target, without its query
    pub(super) path: String,
    /// the query, without the `?` (empty when there is none)
    pub(super) query: String,
}

/// What reading a request head came to.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Read {
    /// a whole head
    Request(Request),
    /// the client closed, or sent nothing in time: nothing to answer
    Gone,
    /// a head that is refused, with the status and the one-line reason to answer
    Refused(u16, String),
}

/// Reads one request head of at most `limit` bytes, within `deadline`.
///
/// A head whose request line does not end within `limit` is refused with 414 (URI Too Long),
/// one whose header lines do not with 431 (Request Header Fields Too Large), like one with
/// more than 64 header lines; a head not complete at the deadline with 408, bytes that are not
/// an HTTP request with 400.
pub(super) async fn read<R: AsyncRead + Unpin>(
    reader: &mut R,
    limit: usize,
    deadline: Duration,
) -> Read {
    let until = tokio::time::Instant::now() + deadline;
    let mut head: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let room = limit.saturating_sub(head.len()).min(chunk.len());
        if room == 0 {
            return if line_ended(&head) {
                Read::Refused(
                    431,
                    format!("the request head is longer than {limit} bytes"),
                )
            } else {
                Read::Refused(
                    414,
                    format!("the request line is longer than {limit} bytes"),
                )
            };
        }
        let n = match tokio::time::timeout_at(until, reader.read(&mut chunk[..room])).await {
            Ok(Ok(n)) => n,
            Ok(Err(_)) => return Read::Gone,
            Err(_) if head.is_empty() => return Read::Gone,
            Err(_) => {
                return Read::Refused(
                    408,
                    format!(
                        "the request head did not arrive within {} s",
                        deadline.as_secs()
                    ),
                )
            }
        };
        if n == 0 {
            return Read::Gone;
        }
        head.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Request::new(&mut headers);
        match parsed.parse(&head) {
            Ok(httparse::Status::Complete(_)) => {
                let method = parsed.method.unwrap_or_default().to_string();
                let target = parsed.path.unwrap_or_default();
                return match split_target(target) {
                    Some((path, query)) => Read::Request(Request {
                        method,
                        path: path.to_string(),
                        query: query.to_string(),
                    }),
                    None => Read::Refused(
                        400,
                        "the request target must be a path such as /probe?target=https://host/"
                            .into(),
                    ),
                };
            }
            Ok(httparse::Status::Partial) => {}
            Err(httparse::Error::TooManyHeaders) => {
                return Read::Refused(
                    431,
                    format!("the request has more than {MAX_HEADERS} header lines"),
                )
            }
            Err(e) => return Read::Refused(400, format!("not an HTTP/1.1 request: {e}")),
        }
    }
}

/// The request line has ended (a line feed was read).
fn line_ended(head: &[u8]) -> bool {
    head.contains(&b'\n')
}

/// The path and the query of an origin-form request target (`/probe?target=...`).
fn split_target(target: &str) -> Option<(&str, &str)> {
    if !target.starts_with('/') {
        return None;
    }
    Some(target.split_once('?').unwrap_or((target, "")))
}

/// An answer: status, content type, body, and an `Allow` header for 405.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) content_type: &'static str,
    pub(super) body: Vec<u8>,
}

/// The plain text type of messages.
const TEXT: &str = "text/plain; charset=utf-8";

impl Answer {
    /// A one-line message: the body is `message` and a line feed.
    pub(super) fn message(status: u16, message: &str) -> Answer {
        // a message may quote the request (a parameter's name or value): its control
        // characters are shown escaped, so the answer stays one line
        let mut body = crate::report::Shown(message).to_string();
        body.push('\n');
        Answer {
            status,
            content_type: TEXT,
            body: body.into_bytes(),
        }
    }

    /// A plain text body, as it is.
    pub(super) fn text(status: u16, body: &str) -> Answer {
        Answer {
            status,
            content_type: TEXT,
            body: body.as_bytes().to_vec(),
        }
    }

    /// A body of metrics in the exposition format.
    pub(super) fn metrics(body: Vec<u8>) -> Answer {
        Answer {
            status: 200,
            content_type: crate::report::prometheus::CONTENT_TYPE,
            body,
        }
    }

    /// The answer's bytes: status line, headers, body; the connection closes after it.
    pub(super) fn bytes(&self) -> Vec<u8> {
        let mut out = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len()
        );
        if self.status == 405 {
            out.push_str("Allow: GET\r\n");
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }

    /// Writes the answer within `deadline` and closes the sending side, then reads what the
    /// client still sends (the rest of a refused head, a body) until it closes too, at most
    /// [`LINGER_BYTES`] within [`LINGER`]: a socket closed with unread bytes sends a reset,
    /// which can destroy the answer before the client has read it.
    pub(super) async fn send<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        stream: &mut S,
        deadline: Duration,
    ) {
        let bytes = self.bytes();
        let sent = tokio::time::timeout(deadline, async {
            stream.write_all(&bytes).await?;
            stream.shutdown().await
        })
        .await;
        if !matches!(sent, Ok(Ok(()))) {
            return;
        }
        let _ = tokio::time::timeout(LINGER, async {
            let mut chunk = [0u8; 2048];
            let mut read = 0;
            while read < LINGER_BYTES {
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => read += n,
                }
            }
        })
        .await;
    }
}

/// The reason phrase of each status the exporter answers with.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}
