//! The HTTP check: one request with the endpoint's method (GET, HEAD or POST) over the same TLS
//! stream, its answer compared with what the endpoint expects.

use std::time::Instant;

use tokio::net::TcpStream;
use tokio::time::timeout_at;
use tokio_rustls::client::TlsStream;

use super::result::{ms, HttpReport, ProbeResult};
use super::{seconds, Deadlines};
use crate::endpoint::Endpoint;
use crate::net::http::{self, HttpError};
use crate::verdict::{HttpFailure, HttpProblem};

/// Sends the endpoint's request, records the answer on the result, and says what was wrong with
/// it, if anything; every message names the request (`HEAD /packages: ...`). The stream is
/// closed politely afterwards.
pub(super) async fn check(
    tls: &mut TlsStream<TcpStream>,
    endpoint: &Endpoint,
    clock: &Deadlines,
    r: &mut ProbeResult,
) -> Option<HttpFailure> {
    let t = Instant::now();
    let expect = &endpoint.expect;
    let method = endpoint.method;
    let answer = timeout_at(
        clock.probe,
        http::exchange(tls, method, &endpoint.authority(), &endpoint.path),
    )
    .await;
    r.timings_ms.http = Some(ms(t));
    let mut report = HttpReport {
        method,
        answer: None,
        error: None,
        expect_status: expect.status,
        expect_body: expect.body.clone(),
    };
    let mut problem = None;
    match answer {
        Err(_) => {
            let detail = format!(
                "phase http: no complete answer to {method} {} before the {} deadline",
                endpoint.path,
                seconds(clock.probe_limit)
            );
            report.error = Some(detail.clone());
            problem = Some(HttpFailure {
                problem: HttpProblem::Timeout,
                detail,
            });
        }
        Ok(Err(e)) => {
            let kind = match e {
                HttpError::NoAnswer => HttpProblem::NoAnswer,
                HttpError::Malformed(_) | HttpError::HeadTooLarge(_) => HttpProblem::Malformed,
                HttpError::Send(_) => HttpProblem::Send,
                HttpError::Read(_) => HttpProblem::Read,
            };
            let detail = format!("{method} {}: {e}", endpoint.path);
            report.error = Some(detail.clone());
            problem = Some(HttpFailure {
                problem: kind,
                detail,
            });
        }
        Ok(Ok(answer)) => {
            let expect = &endpoint.expect;
            if let Some(why) = http::mismatch(&answer, expect.status, expect.body.as_deref()) {
                problem = Some(HttpFailure {
                    problem: HttpProblem::Unexpected,
                    detail: format!("{method} {}: {why}", endpoint.path),
                });
            }
            report.answer = Some(answer);
        }
    }
    r.http = Some(report);
    // a polite close; the answer is already read, so its outcome does not matter
    let _ = timeout_at(clock.probe, tokio::io::AsyncWriteExt::shutdown(tls)).await;
    problem
}
