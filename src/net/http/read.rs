//! Reading an answer: the head (interim answers skipped, framing decided) and the body by
//! Content-Length, chunks or until close, never past the reader's limit.

use std::io::ErrorKind;

use tokio::io::{AsyncRead, AsyncReadExt};

use super::{header_slots, show_start, HttpError, HEAD_LIMIT, READ_CHUNK};
use crate::endpoint::Method;

/// The stream and every byte read from it; `buf.len()` is what is held against `limit`
/// ([`MAX_ANSWER`](super::MAX_ANSWER) for [`exchange`](super::exchange)).
pub(super) struct Reader<'a, S> {
    pub(super) stream: &'a mut S,
    pub(super) buf: Vec<u8>,
    pub(super) limit: usize,
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
pub(super) enum Framing {
    /// no body (204, 304, 101, any answer to HEAD)
    Empty,
    Length(u64),
    Chunked,
    UntilClose,
}

/// The parts of the final answer head that are kept or needed.
#[derive(Debug)]
pub(super) struct Head {
    pub(super) status: u16,
    pub(super) reason: String,
    pub(super) headers: Vec<(String, String)>,
    pub(super) framing: Framing,
    /// length of the head in bytes
    len: usize,
}

/// Reads up to the final answer head to a `method` request, skipping interim 1xx answers;
/// returns it and where the body starts in the reader's buffer.
pub(super) async fn read_head<S: AsyncRead + Unpin>(
    reader: &mut Reader<'_, S>,
    method: Method,
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
            if let Some(head) = parse_head(pending, method)? {
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

/// Parses one answer head to a `method` request at the start of `pending`; None when more
/// bytes are needed.
fn parse_head(pending: &[u8], method: Method) -> Result<Option<Head>, HttpError> {
    // only the first HEAD_LIMIT bytes can hold the head: the slots are counted there, and a
    // head not complete within them is too large
    let within = &pending[..pending.len().min(HEAD_LIMIT)];
    let mut slots = header_slots(within);
    let mut response = httparse::Response::new(&mut slots);
    let len = match response.parse(within) {
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

    // RFC 9110 9.3.2: the answer to HEAD has no content, whatever its framing headers say (they
    // describe the answer a GET would have had), so they are not even checked
    let bodiless =
        method == Method::Head || status == 204 || status == 304 || (100..200).contains(&status);
    let framing = if bodiless {
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
pub(super) async fn read_body<S: AsyncRead + Unpin>(
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
