//! One HTTP/1.1 exchange (GET, HEAD or POST with an empty body) over an established (TLS)
//! stream, and the comparison of its answer with the endpoint's expectation.
//!
//! A completed handshake only shows that the server holds some key; whether it is the real
//! service shows in what it answers (Defender endpoints answer 200 "OK", an interceptor's block
//! page or a captive portal does not). The server is not trusted: every odd behaviour ends as an
//! [`Answer`] or an [`HttpError`], at most [`MAX_ANSWER`] bytes are read ([`get_body`], which
//! fetches a document such as a PAC file, reads as many as its caller allows), and nothing here
//! panics.
//! There is no timeout inside: the caller bounds the whole exchange with its own deadline.

use std::io::ErrorKind;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::endpoint::Method;

/// Most bytes of an answer that are read (head + body); the rest is ignored.
pub const MAX_ANSWER: usize = 64 * 1024;

/// Largest answer head (status line and headers) accepted.
const HEAD_LIMIT: usize = 16 * 1024;
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

/// Sends `{method} {path} HTTP/1.1` with `Host: {host_header}`,
/// `User-Agent: pinprobe/<CARGO_PKG_VERSION>`, `Accept: */*`, `Connection: close` (and
/// `Content-Length: 0` for POST, whose body is empty; GET and HEAD send neither body nor
/// length), then reads the answer. The answer to HEAD is read without a body, whatever its
/// Content-Length or Transfer-Encoding say (RFC 9110 9.3.2): reading on would wait for bytes
/// that never come.
///
/// An empty `path` is sent as `/`. A `path` or `host_header` holding anything but visible ASCII
/// is refused with [`HttpError::Send`], since it would change the request's framing.
pub async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    method: Method,
    host_header: &str,
    path: &str,
) -> Result<Answer, HttpError> {
    send(stream, method, host_header, path).await?;
    let mut reader = Reader {
        stream,
        buf: Vec::new(),
        limit: MAX_ANSWER,
    };
    let (head, body_start) = read_head(&mut reader, method).await?;
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

/// Sends the request [`exchange`] sends for [`Method::Get`] and returns the status and the raw
/// body, keeping up to `max_bytes` of it (reading stops soon after). Framing, interim answers
/// and malformed answers are handled as in [`exchange`]; there is no timeout inside either.
pub async fn get_body<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    host_header: &str,
    path: &str,
    max_bytes: usize,
) -> Result<Body, HttpError> {
    send(stream, Method::Get, host_header, path).await?;
    let mut reader = Reader {
        stream,
        buf: Vec::new(),
        // room for the largest head, and one byte more than wanted to tell "exactly
        // max_bytes" from "more"
        limit: HEAD_LIMIT.saturating_add(max_bytes).saturating_add(1),
    };
    let (head, body_start) = read_head(&mut reader, Method::Get).await?;
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
    method: Method,
    host_header: &str,
    path: &str,
) -> Result<(), HttpError> {
    let request = request(method, host_header, path).map_err(HttpError::Send)?;
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
fn request(method: Method, host_header: &str, path: &str) -> std::io::Result<String> {
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
    // the empty body of a POST is announced: without a length it is empty by RFC 9112 6.3,
    // but some servers answer 411 Length Required; GET and HEAD carry no body, so no length
    let length = match method {
        Method::Post => "Content-Length: 0\r\n",
        Method::Get | Method::Head => "",
    };
    Ok(format!(
        "{method} {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: pinprobe/{}\r\n\
         Accept: */*\r\n{length}Connection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    ))
}

mod read;

/// Room for every header of `head`, for httparse, which needs its slots before it parses.
///
/// Each header takes a line, so there are never more headers than line ends: the only limit
/// on the headers of an answer is then the byte limit of its head (16 KiB for both readers,
/// this one and the CONNECT exchange's), never a count of its own. A server that sends 70
/// `Set-Cookie` headers, or a proxy whose 407 carries 100, is read like any other. The lines
/// are counted up to the blank line that ends the head, in bytes the callers keep within the
/// head's limit, and a header line takes at least three bytes (`a:` and its end), so the slots
/// stay within 5,462 (about 170 KiB) even for a head built to cost the most.
pub(crate) fn header_slots<'h>(head: &[u8]) -> Vec<httparse::Header<'h>> {
    // httparse skips empty lines before the status line
    let start = head
        .iter()
        .position(|byte| !matches!(byte, b'\r' | b'\n'))
        .unwrap_or(head.len());
    let mut lines = 0;
    let mut blank = true;
    for &byte in &head[start..] {
        match byte {
            b'\n' if blank => break,
            b'\n' => {
                lines += 1;
                blank = true;
            }
            b'\r' => {}
            _ => blank = false,
        }
    }
    vec![httparse::EMPTY_HEADER; lines.min(head.len() / 3 + 1)]
}

use read::{read_body, read_head, Reader};

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
mod tests;
