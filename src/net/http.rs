//! One HTTP/1.1 GET over an established (TLS) stream, and the comparison of its answer with the
//! endpoint's expectation.
//!
//! A completed handshake only shows that the server holds some key; whether it is the real
//! service shows in what it answers (Defender endpoints answer 200 "OK", an interceptor's block
//! page or a captive portal does not). The server is not trusted: every odd behaviour ends as an
//! [`Answer`] or an [`HttpError`], at most [`MAX_ANSWER`] bytes are read ([`get_body`], which
//! fetches a document such as a PAC file, reads as many as its caller allows), and nothing here
//! panics.
//! There is no timeout inside: the caller bounds the whole exchange with its own deadline.

use std::io::ErrorKind;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Most bytes of an answer that are read (head + body); the rest is ignored.
pub const MAX_ANSWER: usize = 64 * 1024;

/// Largest answer head (status line and headers) accepted.
const HEAD_LIMIT: usize = 16 * 1024;
/// Most headers in one answer head; more is an error from httparse.
const MAX_HEADERS: usize = 64;
/// Characters of the body kept in an [`Answer`]: enough to recognise a block page in a report.
const BODY_CHARS: usize = 1024;
/// Bytes asked for by one read.
const READ_CHUNK: usize = 8 * 1024;
/// Escaped characters of a rejected answer shown in the error.
const SHOWN_START: usize = 40;
/// Characters of a body or reason shown in a mismatch message.
const SHOWN_TEXT: usize = 60;

/// The HTTP answer as far as it was read.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Answer {
    pub status: u16,
    pub reason: String,
    /// selected headers useful in evidence: Server, Via, Content-Type (name, value), in order
    pub headers: Vec<(String, String)>,
    /// body as text (lossy UTF-8), at most 1024 characters kept for reports
    pub body: String,
    /// true when the body was cut at MAX_ANSWER or at the 1024 char limit
    pub truncated: bool,
}

/// Why no answer could be read.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("the request could not be sent: {0}")]
    Send(#[source] std::io::Error),
    #[error("the connection failed while reading the answer: {0}")]
    Read(#[source] std::io::Error),
    #[error("the server closed the connection without an HTTP answer")]
    NoAnswer,
    #[error("the answer is not HTTP: {0}")]
    Malformed(String),
    #[error("the answer head is larger than {0} bytes")]
    HeadTooLarge(usize),
}

/// Sends `GET {path} HTTP/1.1` with `Host: {host_header}`, `User-Agent: pinprobe/<CARGO_PKG_VERSION>`,
/// `Accept: */*`, `Connection: close`, then reads the answer.
///
/// An empty `path` is sent as `/`. A `path` or `host_header` holding anything but visible ASCII
/// is refused with [`HttpError::Send`], since it would change the request's framing.
pub async fn get<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    host_header: &str,
    path: &str,
) -> Result<Answer, HttpError> {
    send(stream, host_header, path).await?;
    let mut reader = Reader {
        stream,
        buf: Vec::new(),
        limit: MAX_ANSWER,
    };
    let (head, body_start) = read_head(&mut reader).await?;
    let (bytes, cut) = read_body(&mut reader, body_start, head.framing).await?;

    let text = String::from_utf8_lossy(&bytes);
    let (body, cut_chars) = match text.char_indices().nth(BODY_CHARS) {
        Some((end, _)) => (text[..end].to_string(), true),
        None => (text.into_owned(), false),
    };
    Ok(Answer {
        status: head.status,
        reason: head.reason,
        headers: head.headers,
        body,
        truncated: cut || cut_chars,
    })
}

/// An answer whose body is a document to use (a PAC file), not evidence to show.
#[derive(Clone, Debug)]
pub struct Body {
    pub status: u16,
    pub reason: String,
    /// the body's bytes, at most the `max_bytes` asked for
    pub bytes: Vec<u8>,
    /// true when the server sent more than `max_bytes`; `bytes` is then cut there
    pub truncated: bool,
}

/// Sends the same request as [`get`] and returns the status and the raw body, keeping up to
/// `max_bytes` of it (reading stops soon after). Framing, interim answers and malformed answers
/// are handled as in [`get`]; there is no timeout inside either.
pub async fn get_body<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    host_header: &str,
    path: &str,
    max_bytes: usize,
) -> Result<Body, HttpError> {
    send(stream, host_header, path).await?;
    let mut reader = Reader {
        stream,
        buf: Vec::new(),
        // room for the largest head, and one byte more than wanted to tell "exactly
        // max_bytes" from "more"
        limit: HEAD_LIMIT.saturating_add(max_bytes).saturating_add(1),
    };
    let (head, body_start) = read_head(&mut reader).await?;
    let (mut bytes, cut) = read_body(&mut reader, body_start, head.framing).await?;
    let truncated = cut || bytes.len() > max_bytes;
    bytes.truncate(max_bytes);
    Ok(Body {
        status: head.status,
        reason: head.reason,
        bytes,
        truncated,
    })
}

async fn send<S: AsyncWrite + Unpin>(
    stream: &mut S,
    host_header: &str,
    path: &str,
) -> Result<(), HttpError> {
    let request = request(host_header, path).map_err(HttpError::Send)?;
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(HttpError::Send)?;
    stream.flush().await.map_err(HttpError::Send)
}

/// Why the answer does not meet the expectation, or None when it does. `status` None = any status; `body` None = any body; body compared after trimming ASCII white space on both sides.
pub fn mismatch(answer: &Answer, status: Option<u16>, body: Option<&str>) -> Option<String> {
    let mut why = Vec::new();
    if let Some(want) = status.filter(|&want| want != answer.status) {
        why.push(if answer.reason.is_empty() {
            format!("status {}, expected {want}", answer.status)
        } else {
            format!(
                "status {} {}, expected {want}",
                answer.status,
                shorten(&answer.reason)
            )
        });
    }
    if let Some(want) = body.filter(|want| want.trim_ascii() != answer.body.trim_ascii()) {
        why.push(format!(
            "body \"{}\" ({} bytes{}), expected \"{}\"",
            shorten(&answer.body),
            answer.body.len(),
            if answer.truncated { ", truncated" } else { "" },
            want.escape_debug()
        ));
    }
    (!why.is_empty()).then(|| why.join("; "))
}

/// The request text, or why it cannot be sent.
fn request(host_header: &str, path: &str) -> std::io::Result<String> {
    // A CR, LF or space in either would let the caller's input end the request line or add
    // headers; the values come from configuration, so this is refused rather than escaped.
    for (what, value) in [("the Host header", host_header), ("the path", path)] {
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(std::io::Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "{what} \"{}\" holds a character that is not visible ASCII",
                    value.escape_debug()
                ),
            ));
        }
    }
    let path = if path.is_empty() { "/" } else { path };
    Ok(format!(
        "GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: pinprobe/{}\r\n\
         Accept: */*\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    ))
}

/// The stream and every byte read from it; `buf.len()` is what is held against `limit`
/// ([`MAX_ANSWER`] for [`get`]).
struct Reader<'a, S> {
    stream: &'a mut S,
    buf: Vec<u8>,
    limit: usize,
}

/// What one read brought.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fill {
    /// some bytes were appended
    More,
    /// the server closed the connection (with or without TLS close_notify)
    Closed,
    /// the reader's limit of bytes has been read; nothing more will be
    Full,
}

impl<S: AsyncRead + Unpin> Reader<'_, S> {
    async fn fill(&mut self) -> std::io::Result<Fill> {
        let room = self.limit.saturating_sub(self.buf.len()).min(READ_CHUNK);
        if room == 0 {
            return Ok(Fill::Full);
        }
        let start = self.buf.len();
        self.buf.resize(start + room, 0);
        loop {
            let result = self.stream.read(&mut self.buf[start..]).await;
            let got = match &result {
                Ok(n) => *n,
                Err(_) => 0,
            };
            self.buf.truncate(start + got);
            return match result {
                Ok(0) => Ok(Fill::Closed),
                Ok(_) => Ok(Fill::More),
                Err(e) if e.kind() == ErrorKind::Interrupted => {
                    self.buf.resize(start + room, 0);
                    continue;
                }
                // rustls reports a close without close_notify this way; many servers do that,
                // so it counts as a close and the callers decide what a close means where
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => Ok(Fill::Closed),
                Err(e) => Err(e),
            };
        }
    }
}

/// How the body of an answer ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    /// no body (204, 304, 101)
    Empty,
    Length(u64),
    Chunked,
    UntilClose,
}

/// The parts of the final answer head that are kept or needed.
#[derive(Debug)]
struct Head {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    framing: Framing,
    /// length of the head in bytes
    len: usize,
}

/// Reads up to the final answer head, skipping interim 1xx answers; returns it and where the
/// body starts in the reader's buffer.
async fn read_head<S: AsyncRead + Unpin>(
    reader: &mut Reader<'_, S>,
) -> Result<(Head, usize), HttpError> {
    // where the head being read begins, after any interim answers
    let mut start = 0;
    let mut parse_now = false;
    let mut ended = None;
    loop {
        let pending = &reader.buf[start..];
        // A head can only be completed by a line end, so parsing again only when one arrived
        // keeps a server that trickles a 16 KiB head byte by byte from costing quadratic time;
        // the first bytes are always parsed so that a non-HTTP answer is named at once.
        if parse_now || ended.is_some() || pending.len() >= HEAD_LIMIT {
            if let Some(head) = parse_head(pending)? {
                if is_interim(head.status) {
                    start += head.len;
                    parse_now = true;
                    continue;
                }
                let body_start = start + head.len;
                return Ok((head, body_start));
            }
        }
        if let Some(end) = ended {
            return Err(match end {
                Fill::Closed if reader.buf.is_empty() => HttpError::NoAnswer,
                Fill::Closed if pending.is_empty() => HttpError::Malformed(
                    "the connection closed after an interim answer, before the final one".into(),
                ),
                Fill::Closed => HttpError::Malformed(
                    "the connection closed in the middle of the answer head".into(),
                ),
                _ => HttpError::Malformed(format!(
                    "no final answer head within the first {} bytes",
                    reader.limit
                )),
            });
        }
        let before = reader.buf.len();
        match reader.fill().await.map_err(HttpError::Read)? {
            Fill::More => {
                parse_now = before == start || reader.buf[before..].contains(&b'\n');
            }
            end => ended = Some(end),
        }
    }
}

/// 1xx answers other than 101 precede the real one; 101 switches the connection to another
/// protocol, so it is the last HTTP answer there will be and is reported as it is.
fn is_interim(status: u16) -> bool {
    (100..200).contains(&status) && status != 101
}

/// Parses one answer head at the start of `pending`; None when more bytes are needed.
fn parse_head(pending: &[u8]) -> Result<Option<Head>, HttpError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut slots);
    let len = match response.parse(pending) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => {
            // a head that is not complete at the limit can only end beyond it
            if pending.len() >= HEAD_LIMIT {
                return Err(HttpError::HeadTooLarge(HEAD_LIMIT));
            }
            return Ok(None);
        }
        Err(e) => {
            return Err(HttpError::Malformed(format!(
                "{e}; the answer starts with \"{}\"",
                show_start(pending)
            )))
        }
    };
    if len > HEAD_LIMIT {
        return Err(HttpError::HeadTooLarge(HEAD_LIMIT));
    }
    let Some(status) = response.code else {
        return Err(HttpError::Malformed("the answer has no status code".into()));
    };
    let reason = response.reason.unwrap_or_default().to_string();

    let mut headers = Vec::new();
    let mut lengths = Vec::new();
    let mut codings = Vec::new();
    for header in response.headers.iter() {
        let name = header.name;
        if ["server", "via", "content-type"]
            .iter()
            .any(|kept| name.eq_ignore_ascii_case(kept))
        {
            headers.push((
                name.to_string(),
                String::from_utf8_lossy(header.value).into_owned(),
            ));
        } else if name.eq_ignore_ascii_case("content-length") {
            lengths.push(header.value);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            codings.extend(
                header
                    .value
                    .split(|&b| b == b',')
                    .map(<[u8]>::trim_ascii)
                    .filter(|coding| !coding.is_empty()),
            );
        }
    }

    let framing = if status == 204 || status == 304 || (100..200).contains(&status) {
        Framing::Empty
    } else if let Some(last) = codings.last() {
        // RFC 9112 6.3: Transfer-Encoding overrides Content-Length, and a body whose last coding
        // is not chunked ends with the connection
        if last.eq_ignore_ascii_case(b"chunked") {
            Framing::Chunked
        } else {
            Framing::UntilClose
        }
    } else {
        match content_length(&lengths)? {
            Some(length) => Framing::Length(length),
            None => Framing::UntilClose,
        }
    };
    Ok(Some(Head {
        status,
        reason,
        headers,
        framing,
        len,
    }))
}

/// The Content-Length of the answer, None when absent. Repeated equal values (as lists or as
/// repeated headers) are accepted, as RFC 9110 8.6 allows; differing ones are an error, since
/// either could be the framing the server meant.
fn content_length(values: &[&[u8]]) -> Result<Option<u64>, HttpError> {
    let mut length = None;
    for value in values {
        for item in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
            let parsed = std::str::from_utf8(item)
                .ok()
                .filter(|text| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|text| text.parse::<u64>().ok());
            let Some(parsed) = parsed else {
                return Err(HttpError::Malformed(format!(
                    "invalid Content-Length \"{}\"",
                    show_start(value)
                )));
            };
            if length.is_some_and(|known| known != parsed) {
                return Err(HttpError::Malformed(
                    "conflicting Content-Length values".into(),
                ));
            }
            length = Some(parsed);
        }
    }
    Ok(length)
}

/// Where the chunked decoder is.
#[derive(Clone, Copy, Debug)]
enum Chunk {
    /// expecting a chunk size line
    Size,
    /// inside chunk data, with this many bytes to go
    Data(u64),
    /// expecting the line end after chunk data
    DataEnd,
}

/// Reads the body that starts at `body_start`; returns its bytes and whether it was cut at the
/// reader's limit. A close before the framing says the body is complete ends the body: servers
/// often close early, and what was received is still evidence.
async fn read_body<S: AsyncRead + Unpin>(
    reader: &mut Reader<'_, S>,
    body_start: usize,
    framing: Framing,
) -> Result<(Vec<u8>, bool), HttpError> {
    match framing {
        Framing::Empty => Ok((Vec::new(), false)),
        Framing::Length(length) => {
            let want = body_start.saturating_add(usize::try_from(length).unwrap_or(usize::MAX));
            loop {
                if reader.buf.len() >= want {
                    return Ok((reader.buf[body_start..want].to_vec(), false));
                }
                let fill = reader.fill().await.map_err(HttpError::Read)?;
                if fill != Fill::More {
                    return Ok((reader.buf[body_start..].to_vec(), fill == Fill::Full));
                }
            }
        }
        Framing::UntilClose => loop {
            let fill = reader.fill().await.map_err(HttpError::Read)?;
            if fill != Fill::More {
                return Ok((reader.buf[body_start..].to_vec(), fill == Fill::Full));
            }
        },
        Framing::Chunked => read_chunked(reader, body_start).await,
    }
}

/// Decodes a chunked body; trailers are not read, since nothing in them is used.
async fn read_chunked<S: AsyncRead + Unpin>(
    reader: &mut Reader<'_, S>,
    body_start: usize,
) -> Result<(Vec<u8>, bool), HttpError> {
    let mut body = Vec::new();
    let mut at = body_start;
    let mut state = Chunk::Size;
    loop {
        let rest = &reader.buf[at..];
        // decode as far as the bytes at hand go, then read more
        match state {
            Chunk::Size => match httparse::parse_chunk_size(rest) {
                Ok(httparse::Status::Complete((_, 0))) => return Ok((body, false)),
                Ok(httparse::Status::Complete((used, size))) => {
                    at += used;
                    state = Chunk::Data(size);
                    continue;
                }
                Ok(httparse::Status::Partial) => {}
                Err(e) => {
                    return Err(HttpError::Malformed(format!(
                        "{e} in the chunked body at \"{}\"",
                        show_start(rest)
                    )))
                }
            },
            Chunk::Data(left) => {
                if !rest.is_empty() {
                    let take =
                        usize::try_from(left).map_or(rest.len(), |left| left.min(rest.len()));
                    body.extend_from_slice(&rest[..take]);
                    at += take;
                    // take <= left, so this cannot underflow
                    let left = left.saturating_sub(take as u64);
                    state = if left == 0 {
                        Chunk::DataEnd
                    } else {
                        Chunk::Data(left)
                    };
                    continue;
                }
            }
            Chunk::DataEnd => {
                // a bare LF is accepted too: being lenient here loses nothing
                let end = if rest.starts_with(b"\r\n") {
                    Some(2)
                } else if rest.starts_with(b"\n") {
                    Some(1)
                } else if rest.is_empty() || rest == b"\r" {
                    None
                } else {
                    return Err(HttpError::Malformed(format!(
                        "chunk data not followed by a line end, at \"{}\"",
                        show_start(rest)
                    )));
                };
                if let Some(end) = end {
                    at += end;
                    state = Chunk::Size;
                    continue;
                }
            }
        }
        match reader.fill().await.map_err(HttpError::Read)? {
            Fill::More => {}
            // a missing last chunk is common with servers that just close
            Fill::Closed => return Ok((body, false)),
            Fill::Full => return Ok((body, true)),
        }
    }
}

/// The first bytes, escaped, at most [`SHOWN_START`] characters (then "...").
fn show_start(bytes: &[u8]) -> String {
    let mut shown = String::new();
    for byte in bytes {
        let escaped = byte.escape_ascii().to_string();
        if shown.len() + escaped.len() > SHOWN_START {
            shown.push_str("...");
            break;
        }
        shown.push_str(&escaped);
    }
    shown
}

/// At most [`SHOWN_TEXT`] characters of `text`, escaped (then "...").
fn shorten(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(SHOWN_TEXT).collect();
    let mut shown = head.escape_debug().to_string();
    if chars.next().is_some() {
        shown.push_str("...");
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use std::time::Duration;
    use tokio::io::{DuplexStream, ReadBuf};
    use tokio::task::JoinHandle;

    /// Runs a test body with a deadline, so that a hang fails instead of blocking the suite.
    async fn bounded<F: Future>(test: F) -> F::Output {
        tokio::time::timeout(Duration::from_secs(5), test)
            .await
            .expect("the test did not finish in time")
    }

    /// Reads the request on the server side, up to its blank line.
    async fn read_request(server: &mut DuplexStream) -> Vec<u8> {
        let mut request = Vec::new();
        let mut byte = [0u8; 1];
        while !request.ends_with(b"\r\n\r\n") && request.len() < 4096 {
            match server.read(&mut byte).await {
                Ok(1) => request.push(byte[0]),
                _ => break,
            }
        }
        request
    }

    /// A server that reads the request, writes `answer` in pieces of `piece` bytes and closes;
    /// its task returns the request it received.
    fn serve_in_pieces(answer: Vec<u8>, piece: usize) -> (DuplexStream, JoinHandle<Vec<u8>>) {
        let (client, mut server) = tokio::io::duplex(piece.max(1));
        let task = tokio::spawn(async move {
            let request = read_request(&mut server).await;
            for part in answer.chunks(piece.max(1)) {
                // the client may stop reading at MAX_ANSWER and drop its end
                if server.write_all(part).await.is_err() {
                    break;
                }
            }
            request
        });
        (client, task)
    }

    fn serve(answer: impl Into<Vec<u8>>) -> (DuplexStream, JoinHandle<Vec<u8>>) {
        serve_in_pieces(answer.into(), 4096)
    }

    /// A client stream that counts the bytes read and can report a close as `UnexpectedEof`,
    /// as rustls does when the server omits close_notify.
    struct Probe {
        inner: DuplexStream,
        read: usize,
        eof_as_error: bool,
    }

    impl AsyncRead for Probe {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            let before = buf.filled().len();
            let eof_as_error = self.eof_as_error;
            match Pin::new(&mut self.inner).poll_read(cx, buf) {
                Poll::Ready(Ok(())) => {
                    let got = buf.filled().len() - before;
                    self.read += got;
                    if got == 0 && buf.remaining() > 0 && eof_as_error {
                        Poll::Ready(Err(std::io::Error::new(
                            ErrorKind::UnexpectedEof,
                            "peer closed connection without sending TLS close_notify",
                        )))
                    } else {
                        Poll::Ready(Ok(()))
                    }
                }
                other => other,
            }
        }
    }

    impl AsyncWrite for Probe {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            Pin::new(&mut self.inner).poll_write(cx, buf)
        }
        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.inner).poll_flush(cx)
        }
        fn poll_shutdown(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<std::io::Result<()>> {
            Pin::new(&mut self.inner).poll_shutdown(cx)
        }
    }

    async fn fetch(answer: impl Into<Vec<u8>>) -> Result<Answer, HttpError> {
        let (mut client, _server) = serve(answer);
        get(&mut client, "lab.test", "/").await
    }

    #[tokio::test]
    async fn reads_a_content_length_answer_and_keeps_selected_headers() {
        bounded(async {
            let answer = fetch(
                "HTTP/1.1 200 OK\r\nServer: lab\r\nX-Other: no\r\ncontent-type: text/plain\r\n\
                 Via: 1.1 proxy\r\nContent-Length: 2\r\n\r\nOKextra bytes not in the body",
            )
            .await
            .unwrap();
            assert_eq!(answer.status, 200);
            assert_eq!(answer.reason, "OK");
            assert_eq!(answer.body, "OK");
            assert!(!answer.truncated);
            let expected = [
                ("Server", "lab"),
                ("content-type", "text/plain"),
                ("Via", "1.1 proxy"),
            ]
            .map(|(n, v)| (n.to_string(), v.to_string()));
            assert_eq!(answer.headers, expected);
        })
        .await;
    }

    #[tokio::test]
    async fn decodes_a_chunked_answer() {
        bounded(async {
            let answer = fetch(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 99\r\n\r\n\
                 5;ext=1\r\nHello\r\n7\r\n, world\r\n0\r\nTrailer: x\r\n\r\n",
            )
            .await
            .unwrap();
            assert_eq!(answer.body, "Hello, world");
            assert!(!answer.truncated);
        })
        .await;
    }

    #[tokio::test]
    async fn decodes_a_chunked_answer_that_arrives_byte_by_byte() {
        bounded(async {
            let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n\
                        2\r\nOK\r\n1\r\n!\r\n0\r\n\r\n";
            let (mut client, _server) = serve_in_pieces(text.into(), 1);
            let answer = get(&mut client, "lab.test", "/").await.unwrap();
            assert_eq!(answer.body, "OK!");
        })
        .await;
    }

    #[tokio::test]
    async fn tolerates_a_missing_last_chunk() {
        bounded(async {
            let answer = fetch("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nOK\r\n")
                .await
                .unwrap();
            assert_eq!(answer.body, "OK");
            assert!(!answer.truncated);
        })
        .await;
    }

    #[tokio::test]
    async fn rejects_an_invalid_chunk_size() {
        bounded(async {
            let err = fetch("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nOK\r\n")
                .await
                .unwrap_err();
            assert!(
                matches!(&err, HttpError::Malformed(m) if m.contains("invalid chunk size")),
                "{err}"
            );
        })
        .await;
    }

    #[tokio::test]
    async fn reads_until_close_without_framing() {
        bounded(async {
            let answer = fetch("HTTP/1.0 403 Forbidden\r\n\r\nBlocked by policy\n")
                .await
                .unwrap();
            assert_eq!(answer.status, 403);
            assert_eq!(answer.reason, "Forbidden");
            assert_eq!(answer.body, "Blocked by policy\n");
        })
        .await;
    }

    #[tokio::test]
    async fn skips_100_continue() {
        bounded(async {
            let answer = fetch(
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n\
                 HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK",
            )
            .await
            .unwrap();
            assert_eq!((answer.status, answer.body.as_str()), (200, "OK"));
        })
        .await;
    }

    #[tokio::test]
    async fn a_close_after_an_interim_answer_is_malformed() {
        bounded(async {
            let err = fetch("HTTP/1.1 100 Continue\r\n\r\n").await.unwrap_err();
            assert!(
                matches!(&err, HttpError::Malformed(m) if m.contains("interim")),
                "{err}"
            );
        })
        .await;
    }

    #[tokio::test]
    async fn no_body_for_204_and_304() {
        bounded(async {
            for status in ["204 No Content", "304 Not Modified"] {
                let answer = fetch(format!(
                    "HTTP/1.1 {status}\r\nContent-Length: 5\r\n\r\nhello"
                ))
                .await
                .unwrap();
                assert_eq!(answer.body, "");
            }
        })
        .await;
    }

    #[tokio::test]
    async fn a_body_larger_than_max_answer_is_cut_and_reading_stops() {
        bounded(async {
            let big = vec![b'a'; 4 * MAX_ANSWER];
            let heads = [
                format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", big.len()),
                "HTTP/1.1 200 OK\r\n\r\n".to_string(),
                format!(
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
                    big.len()
                ),
            ];
            for head in heads {
                let mut text = head.into_bytes();
                text.extend_from_slice(&big);
                let (inner, server) = serve(text);
                let mut client = Probe {
                    inner,
                    read: 0,
                    eof_as_error: false,
                };
                let answer = get(&mut client, "lab.test", "/").await.unwrap();
                assert!(answer.truncated);
                assert_eq!(answer.body.chars().count(), BODY_CHARS);
                assert!(client.read <= MAX_ANSWER, "read {} bytes", client.read);
                // the server is still writing; dropping our end ends its task
                drop(client);
                server.await.unwrap();
            }
        })
        .await;
    }

    #[tokio::test]
    async fn a_long_body_is_cut_at_1024_characters() {
        bounded(async {
            let body = "é".repeat(2000);
            let answer = fetch(format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ))
            .await
            .unwrap();
            assert!(answer.truncated);
            assert_eq!(answer.body, "é".repeat(BODY_CHARS));
        })
        .await;
    }

    #[tokio::test]
    async fn garbage_is_malformed() {
        bounded(async {
            let err =
                fetch(b"\x15\x03\x03\x00\x02\x02\x28 this is not HTTP at all, really not".to_vec())
                    .await
                    .unwrap_err();
            let HttpError::Malformed(message) = &err else {
                panic!("{err:?}");
            };
            assert!(message.starts_with("invalid HTTP version"), "{message}");
            assert!(message.contains(r#"\x15\x03\x03"#), "{message}");
            assert!(message.ends_with("...\""), "{message}");
        })
        .await;
    }

    #[tokio::test]
    async fn an_immediate_close_is_no_answer() {
        bounded(async {
            let err = fetch(Vec::new()).await.unwrap_err();
            assert!(matches!(err, HttpError::NoAnswer), "{err:?}");

            // the same when the close is reported as a missing close_notify
            let (inner, _server) = serve(Vec::new());
            let mut client = Probe {
                inner,
                read: 0,
                eof_as_error: true,
            };
            let err = get(&mut client, "lab.test", "/").await.unwrap_err();
            assert!(matches!(err, HttpError::NoAnswer), "{err:?}");
        })
        .await;
    }

    #[tokio::test]
    async fn a_close_in_the_middle_of_the_head_is_malformed() {
        bounded(async {
            let err = fetch("HTTP/1.1 200 OK\r\nServer: la").await.unwrap_err();
            assert!(
                matches!(&err, HttpError::Malformed(m)
                    if m == "the connection closed in the middle of the answer head"),
                "{err:?}"
            );
        })
        .await;
    }

    #[tokio::test]
    async fn unexpected_eof_after_the_head_ends_the_body() {
        bounded(async {
            let (inner, _server) =
                serve("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nOK".to_string());
            let mut client = Probe {
                inner,
                read: 0,
                eof_as_error: true,
            };
            let answer = get(&mut client, "lab.test", "/").await.unwrap();
            assert_eq!(answer.body, "OK");
            assert!(!answer.truncated);
        })
        .await;
    }

    #[tokio::test]
    async fn a_huge_head_is_refused() {
        bounded(async {
            let mut text = b"HTTP/1.1 200 OK\r\nServer: ".to_vec();
            text.extend(std::iter::repeat_n(b'x', 2 * HEAD_LIMIT));
            text.extend_from_slice(b"\r\n\r\nOK");
            let (inner, server) = serve(text);
            let mut client = Probe {
                inner,
                read: 0,
                eof_as_error: false,
            };
            let err = get(&mut client, "lab.test", "/").await.unwrap_err();
            assert!(
                matches!(err, HttpError::HeadTooLarge(HEAD_LIMIT)),
                "{err:?}"
            );
            assert!(client.read < 2 * HEAD_LIMIT, "read {} bytes", client.read);
            drop(client);
            server.await.unwrap();
        })
        .await;
    }

    #[tokio::test]
    async fn conflicting_content_lengths_are_malformed() {
        bounded(async {
            let err = fetch("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nOK")
                .await
                .unwrap_err();
            assert!(matches!(err, HttpError::Malformed(_)), "{err:?}");
            let answer = fetch("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nOK!")
                .await
                .unwrap();
            assert_eq!(answer.body, "OK");
        })
        .await;
    }

    #[tokio::test]
    async fn sends_the_request_line_and_headers() {
        bounded(async {
            let (mut client, server) = serve("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK");
            get(&mut client, "lab.test:8443", "/health?x=1")
                .await
                .unwrap();
            let request = String::from_utf8(server.await.unwrap()).unwrap();
            let mut lines = request.split("\r\n");
            assert_eq!(lines.next(), Some("GET /health?x=1 HTTP/1.1"));
            assert_eq!(lines.next(), Some("Host: lab.test:8443"));
            let version = format!("User-Agent: pinprobe/{}", env!("CARGO_PKG_VERSION"));
            let rest: Vec<&str> = lines.collect();
            assert_eq!(rest, [&version, "Accept: */*", "Connection: close", "", ""]);
        })
        .await;
    }

    #[tokio::test]
    async fn refuses_a_path_that_would_change_the_request() {
        bounded(async {
            let (mut client, _server) = serve(Vec::new());
            let err = get(&mut client, "lab.test", "/\r\nX-Injected: 1")
                .await
                .unwrap_err();
            assert!(matches!(err, HttpError::Send(_)), "{err:?}");
        })
        .await;
    }

    #[tokio::test]
    async fn get_body_keeps_raw_bytes_and_stops_at_max_bytes() {
        bounded(async {
            // bytes that are not UTF-8 come back as they were sent, chunked or not
            let (mut client, _server) = serve(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n\xff\x00a\r\n0\r\n\r\n"
                    .to_vec(),
            );
            let body = get_body(&mut client, "lab.test", "/wpad.dat", 10)
                .await
                .unwrap();
            assert_eq!(
                (body.status, body.bytes.as_slice()),
                (200, &b"\xff\x00a"[..])
            );
            assert!(!body.truncated);

            // exactly max_bytes is not truncated
            let body = get_body(
                &mut serve("HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope").0,
                "lab.test",
                "/",
                4,
            )
            .await
            .unwrap();
            assert_eq!((body.status, body.reason.as_str()), (404, "Not Found"));
            assert_eq!(
                (body.bytes.as_slice(), body.truncated),
                (&b"nope"[..], false)
            );

            // a body far larger than max_bytes is cut, and reading stops soon after
            let max = 100 * 1024;
            for head in [
                format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", 8 * max),
                "HTTP/1.0 200 OK\r\n\r\n".to_string(),
            ] {
                let mut text = head.into_bytes();
                text.extend(std::iter::repeat_n(b'x', 8 * max));
                let (inner, server) = serve(text);
                let mut client = Probe {
                    inner,
                    read: 0,
                    eof_as_error: false,
                };
                let body = get_body(&mut client, "lab.test", "/", max).await.unwrap();
                assert!(body.truncated);
                assert_eq!(body.bytes.len(), max);
                assert!(
                    client.read <= max + HEAD_LIMIT + 1,
                    "read {} bytes",
                    client.read
                );
                drop(client);
                server.await.unwrap();
            }
        })
        .await;
    }

    fn answer(status: u16, reason: &str, body: &str) -> Answer {
        Answer {
            status,
            reason: reason.into(),
            headers: Vec::new(),
            body: body.into(),
            truncated: false,
        }
    }

    /// answer, expected status, expected body, the message mismatch() must give
    type Case<'a> = (Answer, Option<u16>, Option<&'a str>, Option<&'a str>);

    #[test]
    fn mismatch_table() {
        let long = "x".repeat(100);
        let long_shown = format!(
            "body \"{}...\" (100 bytes), expected \"OK\"",
            "x".repeat(60)
        );
        let cases: [Case; 8] = [
            (answer(200, "OK", "OK"), Some(200), Some("OK"), None),
            (
                answer(503, "Service Unavailable", "OK"),
                Some(200),
                Some("OK"),
                Some("status 503 Service Unavailable, expected 200"),
            ),
            (
                answer(200, "OK", "Forbidden"),
                Some(200),
                Some("OK"),
                Some("body \"Forbidden\" (9 bytes), expected \"OK\""),
            ),
            (
                answer(200, "OK", " \r\nOK\n\t"),
                Some(200),
                Some("OK"),
                None,
            ),
            (answer(418, "", "anything"), None, None, None),
            (
                answer(500, "", "a\"b\n"),
                Some(200),
                Some("OK"),
                Some("status 500, expected 200; body \"a\\\"b\\n\" (4 bytes), expected \"OK\""),
            ),
            (
                answer(200, "OK", &long),
                None,
                Some("OK"),
                Some(&long_shown),
            ),
            (answer(200, "OK", ""), Some(200), None, None),
        ];
        for (answer, status, body, expected) in cases {
            assert_eq!(
                mismatch(&answer, status, body).as_deref(),
                expected,
                "{answer:?}"
            );
        }
    }
}
