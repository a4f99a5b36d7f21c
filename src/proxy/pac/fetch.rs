//! Getting the text of a PAC file: from disk, or with one plain HTTP GET (as WPAD serves it),
//! bounded in size and time, names resolved through the probe's [`Resolver`].

use std::path::Path;

use tokio::net::TcpStream;

use super::{seconds_text, Limits, PacErrorKind};
use crate::error::Error;
use crate::input;
use crate::net::http;
use crate::net::resolve::Resolver;

/// Reads a PAC file of at most `max_bytes`.
pub(super) async fn read_file(path: &Path, max_bytes: usize) -> Result<String, PacErrorKind> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let limit = input::Limit {
            bytes: max_bytes as u64,
            ..input::PAC
        };
        match input::read_bounded(&path, limit) {
            Ok(bytes) => Ok(text(bytes)),
            Err(Error::TooLarge { .. }) => Err(PacErrorKind::TooLarge(max_bytes)),
            Err(Error::Read { source, .. }) => Err(PacErrorKind::Read(source.to_string())),
            Err(other) => Err(PacErrorKind::Read(other.to_string())),
        }
    })
    .await
    .map_err(|e| PacErrorKind::Read(e.to_string()))?
}

/// Fetches `url` (http:// only) within `limits.fetch_time`.
pub(super) async fn fetch(
    url: &str,
    resolver: &Resolver,
    limits: &Limits,
) -> Result<String, PacErrorKind> {
    let (host, port, host_header, path) = target(url)?;
    let exchange = async {
        let (addrs, _) = resolver
            .resolve(&host, port)
            .await
            .map_err(PacErrorKind::Fetch)?;
        let mut stream = None;
        let mut failures = Vec::new();
        for addr in &addrs {
            match TcpStream::connect(addr).await {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => failures.push(format!("{addr}: {e}")),
            }
        }
        let Some(mut stream) = stream else {
            return Err(PacErrorKind::Fetch(format!(
                "cannot connect ({})",
                failures.join("; ")
            )));
        };
        http::get_body(&mut stream, &host_header, &path, limits.max_bytes)
            .await
            .map_err(|e| PacErrorKind::Fetch(e.to_string()))
    };
    let body = tokio::time::timeout(limits.fetch_time, exchange)
        .await
        .map_err(|_| {
            PacErrorKind::Fetch(format!(
                "no complete answer within {}",
                seconds_text(limits.fetch_time)
            ))
        })??;
    if body.status != 200 {
        return Err(PacErrorKind::Status {
            status: body.status,
            reason: body.reason,
        });
    }
    if body.truncated {
        return Err(PacErrorKind::TooLarge(limits.max_bytes));
    }
    Ok(text(body.bytes))
}

/// Where an `http://` PAC URL points: the host and port to connect to, the `Host` header and
/// the path with its query.
fn target(url: &str) -> Result<(String, u16, String, String), PacErrorKind> {
    let parsed = url::Url::parse(url)
        .map_err(|e| PacErrorKind::Fetch(format!("not a URL ({e}); expected http://HOST/PATH")))?;
    match parsed.scheme() {
        "http" => {}
        "https" => {
            return Err(PacErrorKind::Fetch(
                "only plain http:// PAC URLs are fetched (as WPAD serves them); download the file and give its path"
                    .into(),
            ))
        }
        other => {
            return Err(PacErrorKind::Fetch(format!(
                "the scheme {other}:// is not supported; give an http:// URL or a file path"
            )))
        }
    }
    let host = match parsed.host() {
        Some(url::Host::Domain(d)) => d.to_string(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err(PacErrorKind::Fetch("the URL has no host".into())),
    };
    let port = parsed.port().unwrap_or(80);
    let host_header = match (parsed.host_str(), parsed.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        (None, _) => host.clone(),
    };
    let path = match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_string(),
    };
    Ok((host, port, host_header, path))
}

/// The script as text: UTF-8 without a byte order mark; other bytes are replaced, since PAC
/// files are ASCII in practice and a stray Latin-1 byte in a comment should not stop them.
fn text(bytes: Vec<u8>) -> String {
    let bytes = bytes
        .strip_prefix(b"\xef\xbb\xbf")
        .map(<[u8]>::to_vec)
        .unwrap_or(bytes);
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}
