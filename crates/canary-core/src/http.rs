//! One HTTP GET for every tool: bounded in time and size, honest about what
//! went wrong, and reading error bodies (the bot answers 503 with evidence).

use std::io::{self, Read};
use std::net::IpAddr;
use std::time::Duration;

/// Default cap on a response body. The bot's `/health` is a few KiB and its
/// `/metrics` well under 1 MiB; 8 MiB leaves room for a fleet-sized
/// Prometheus answer while bounding memory.
pub const DEFAULT_MAX_BODY: u64 = 8 * 1024 * 1024;

/// Default overall timeout of one request, matching the bot's own 5 s read timeout.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Redirects followed before giving up. The bot never redirects; a proxy in
/// front of it might, once or twice.
pub(crate) const MAX_REDIRECTS: u32 = 5;

/// Limits of one request.
#[derive(Debug, Clone, Copy)]
pub struct HttpOptions {
    /// The whole exchange, connection to last body byte.
    pub timeout: Duration,
    /// The body's cap in bytes; a longer body is [`HttpError::TooLarge`], never truncated.
    pub max_body: u64,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout: DEFAULT_TIMEOUT,
            max_body: DEFAULT_MAX_BODY,
        }
    }
}

/// A complete response, whatever its status.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The HTTP status code, whatever it is: a 503 is a response, not an error.
    pub status: u16,
    /// The `Content-Type` header as sent; `None` when absent or not visible ASCII.
    pub content_type: Option<String>,
    /// The whole body, at most [`HttpOptions::max_body`] bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The start of the body on one line, for a message: at most `max`
    /// characters, whitespace runs collapsed.
    pub fn snippet(&self, max: usize) -> String {
        let head: String = String::from_utf8_lossy(&self.body)
            .chars()
            .take(max)
            .collect();
        head.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// Why a GET produced no response.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HttpError {
    /// The URL does not parse, is not http(s), or names no host.
    #[error("invalid URL '{url}': {why}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// Nothing listens at the address.
    #[error("connection refused (is the bot running, with GPT_TRADER_HEALTH_SERVER_ENABLED=1?)")]
    Refused,
    /// No complete response within the timeout (the timeout given).
    #[error("no complete response within {0:?}")]
    Timeout(Duration),
    /// The body exceeded the cap (the cap in bytes).
    #[error("response body is over the {0}-byte cap")]
    TooLarge(u64),
    /// More redirects than the cap: a loop, most likely.
    #[error("too many redirects (more than {MAX_REDIRECTS}; a redirect loop?)")]
    Redirects,
    /// The peer closed the connection before the response was complete.
    #[error("connection closed before a complete response")]
    Closed,
    /// The host name does not resolve.
    #[error("host not found")]
    HostNotFound,
    /// Any other transport failure, in the transport's words.
    #[error("{0}")]
    Transport(String),
}

/// GET `url` with the given limits. Any status is a response; only transport
/// failures are errors.
pub fn get(url: &str, opts: &HttpOptions) -> Result<HttpResponse, HttpError> {
    let uri: ureq::http::Uri = url.parse().map_err(|e| HttpError::InvalidUrl {
        url: url.to_owned(),
        why: format!("{e}"),
    })?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        _ => {
            return Err(HttpError::InvalidUrl {
                url: url.to_owned(),
                why: "scheme must be http or https".into(),
            });
        }
    }
    let host = uri.host().unwrap_or_default();
    if host.is_empty() {
        return Err(HttpError::InvalidUrl {
            url: url.to_owned(),
            why: "no host".into(),
        });
    }
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(opts.timeout))
        .max_redirects(MAX_REDIRECTS)
        .user_agent(concat!("canary-kit/", env!("CARGO_PKG_VERSION")));
    // An operator's HTTP(S)_PROXY must never capture a loopback bot.
    if is_loopback_host(host) {
        config = config.proxy(None);
    }
    let agent: ureq::Agent = config.build().into();
    let response = agent.get(url).call().map_err(|e| classify(&e, opts))?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = read_capped(response.into_body().into_reader(), opts)?;
    Ok(HttpResponse {
        status,
        content_type,
        body,
    })
}

fn read_capped(reader: impl Read, opts: &HttpOptions) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    // One byte past the cap tells "exactly at the cap" from "over it".
    let mut limited = reader.take(opts.max_body + 1);
    limited
        .read_to_end(&mut body)
        .map_err(|e| map_io(&e, opts))?;
    if body.len() as u64 > opts.max_body {
        return Err(HttpError::TooLarge(opts.max_body));
    }
    Ok(body)
}

/// True for `localhost`, `*.localhost`, 127.0.0.0/8 and ::1.
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.eq_ignore_ascii_case("localhost") || bare.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// What went wrong, told by ureq's error variant (and, for an I/O error,
/// by the error it wraps or its kind), never by the wording of a message.
fn classify(err: &ureq::Error, opts: &HttpOptions) -> HttpError {
    match err {
        ureq::Error::Io(e) => map_io(e, opts),
        ureq::Error::Timeout(_) => HttpError::Timeout(opts.timeout),
        ureq::Error::TooManyRedirects => HttpError::Redirects,
        ureq::Error::HostNotFound => HttpError::HostNotFound,
        ureq::Error::BodyExceedsLimit(_) => HttpError::TooLarge(opts.max_body),
        ureq::Error::ConnectionFailed => HttpError::Refused,
        other => HttpError::Transport(format!("protocol error: {other}")),
    }
}

fn map_io(e: &io::Error, opts: &HttpOptions) -> HttpError {
    // ureq reports what it met while reading the body (a timeout, the cap)
    // as an I/O error wrapping its own error: classified by that error.
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<ureq::Error>()) {
        return classify(inner, opts);
    }
    match e.kind() {
        io::ErrorKind::ConnectionRefused => HttpError::Refused,
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => HttpError::Timeout(opts.timeout),
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => HttpError::Closed,
        _ => HttpError::Transport(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "127.0.0.1",
            "127.8.9.10",
            "[::1]",
            "::1",
            "bot.localhost",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in ["10.0.0.1", "example.com", "[::2]"] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn refuses_non_http_urls() {
        let err = get("ftp://127.0.0.1/x", &HttpOptions::default()).expect_err("refused");
        assert!(matches!(err, HttpError::InvalidUrl { .. }));
        let err = get("not a url", &HttpOptions::default()).expect_err("refused");
        assert!(matches!(err, HttpError::InvalidUrl { .. }));
    }
}
