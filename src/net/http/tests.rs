use tokio::io::AsyncReadExt;

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

/// A server that reads the request, writes `answer` and keeps its end open until the client
/// drops its own: a client that waits for more than the answer holds waits for ever.
fn serve_and_hold(answer: impl Into<Vec<u8>>) -> (DuplexStream, JoinHandle<Vec<u8>>) {
    let answer = answer.into();
    let (client, mut server) = tokio::io::duplex(4096);
    let task = tokio::spawn(async move {
        let request = read_request(&mut server).await;
        if server.write_all(&answer).await.is_ok() {
            let mut rest = Vec::new();
            let _ = server.read_to_end(&mut rest).await;
        }
        request
    });
    (client, task)
}

/// The GET most tests send.
async fn get<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    host_header: &str,
    path: &str,
) -> Result<Answer, HttpError> {
    exchange(stream, Method::Get, host_header, path).await
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
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
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
        let (inner, _server) = serve("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nOK".to_string());
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
async fn seventy_cookies_are_read_like_any_answer() {
    bounded(async {
        let mut head = String::from("HTTP/1.1 200 OK\r\nServer: lab\r\n");
        for i in 0..70 {
            head.push_str(&format!("Set-Cookie: c{i}=v; Path=/; Secure; HttpOnly\r\n"));
        }
        let answer = fetch(format!("{head}Content-Length: 2\r\n\r\nOK"))
            .await
            .unwrap();
        assert_eq!((answer.status, answer.body.as_str()), (200, "OK"));
        assert_eq!(answer.headers, [("Server".to_string(), "lab".to_string())]);
        // the empty lines httparse skips before the status line take no slot from the headers
        let answer = fetch(format!("\r\n\r\n{head}Content-Length: 2\r\n\r\nOK"))
            .await
            .unwrap();
        assert_eq!(answer.body, "OK");
    })
    .await;
}

#[tokio::test]
async fn a_head_of_short_headers_up_to_the_limit_is_read() {
    bounded(async {
        // about 3,000 headers of five bytes: no count limit, only the byte limit of the head
        let mut head = String::from("HTTP/1.1 200 OK\r\n");
        while head.len() < HEAD_LIMIT - 40 {
            head.push_str("a:\r\n");
        }
        let answer = fetch(format!("{head}Content-Length: 2\r\n\r\nOK"))
            .await
            .unwrap();
        assert_eq!(answer.body, "OK");
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
        let version = format!("User-Agent: pinprobe/{}", env!("CARGO_PKG_VERSION"));
        // GET and HEAD send no body and no length; POST says its body is empty
        let cases = [
            (Method::Get, "GET /health?x=1 HTTP/1.1", None),
            (Method::Head, "HEAD /health?x=1 HTTP/1.1", None),
            (
                Method::Post,
                "POST /health?x=1 HTTP/1.1",
                Some("Content-Length: 0"),
            ),
        ];
        for (method, line, length) in cases {
            let (mut client, server) = serve("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK");
            exchange(&mut client, method, "lab.test:8443", "/health?x=1")
                .await
                .unwrap();
            drop(client);
            let request = String::from_utf8(server.await.unwrap()).unwrap();
            let mut want = vec![line, "Host: lab.test:8443", version.as_str(), "Accept: */*"];
            want.extend(length);
            want.extend(["Connection: close", "", ""]);
            let lines: Vec<&str> = request.split("\r\n").collect();
            assert_eq!(lines, want, "{method}");
        }
    })
    .await;
}

#[tokio::test]
async fn the_answer_to_head_is_read_without_a_body() {
    bounded(async {
        // Content-Length or chunked framing describe the body a GET would have had; the server
        // sends none and keeps the connection open, so waiting for it would never end
        for head in [
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
        ] {
            let (mut client, _server) = serve_and_hold(head);
            let answer = exchange(
                &mut client,
                Method::Head,
                "lab.test",
                "/packages/?ostype=mac",
            )
            .await
            .unwrap();
            assert_eq!(
                (answer.status, answer.body.as_str(), answer.truncated),
                (200, "", false),
                "{head:?}"
            );
        }

        // the same answer to GET is still waiting for its five bytes: the server above did hold
        let (mut client, _server) = serve_and_hold("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
        let waited = tokio::time::timeout(
            Duration::from_millis(200),
            exchange(&mut client, Method::Get, "lab.test", "/"),
        )
        .await;
        assert!(waited.is_err(), "GET did not wait for the body: {waited:?}");

        // a body sent to HEAD anyway is not taken as the answer's
        let answer = {
            let (mut client, _server) = serve("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
            exchange(&mut client, Method::Head, "lab.test", "/")
                .await
                .unwrap()
        };
        assert_eq!(answer.body, "");

        // framing that would be an error for GET does not matter for HEAD
        let (mut client, _server) =
            serve_and_hold("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n");
        let answer = exchange(&mut client, Method::Head, "lab.test", "/")
            .await
            .unwrap();
        assert_eq!(answer.status, 200);
    })
    .await;
}

#[tokio::test]
async fn post_reads_the_answer_body() {
    bounded(async {
        let (mut client, _server) = serve("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK");
        let answer = exchange(&mut client, Method::Post, "lab.test", "/smartscreen")
            .await
            .unwrap();
        assert_eq!((answer.status, answer.body.as_str()), (200, "OK"));
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
