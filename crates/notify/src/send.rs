//! One POST, retried a bounded number of times within a bounded time.

use canary_core::http::is_loopback_host;
use std::io::Read;
use std::time::{Duration, Instant};

/// Limits of one send.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// One attempt, connection to last byte.
    pub timeout: Duration,
    /// Attempts after the first.
    pub retries: u32,
    /// All attempts and back-off together.
    pub budget: Duration,
}

/// First pause between attempts; doubled each time, cut to what the budget leaves.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// A send that did not succeed.
#[derive(Debug, Clone, PartialEq)]
pub struct Failed {
    pub attempts: u32,
    pub why: String,
}

/// What one attempt gave.
enum Attempt {
    Ok,
    /// Worth another try: a transport error, a timeout, 5xx, 408, 429.
    Transient(String),
    /// Another try would be refused the same way (4xx).
    Permanent(String),
}

/// POST `body` as JSON to `url`; `Ok(attempts)` on a 2xx answer.
pub fn post(url: &str, body: &[u8], policy: &Policy) -> Result<u32, Failed> {
    let started = Instant::now();
    let mut attempts = 0;
    let mut why = String::from("no attempt fitted in the retry budget");
    loop {
        let remaining = policy.budget.saturating_sub(started.elapsed());
        if remaining.is_zero() {
            break;
        }
        attempts += 1;
        match attempt(url, body, policy.timeout.min(remaining)) {
            Attempt::Ok => return Ok(attempts),
            Attempt::Permanent(w) => {
                return Err(Failed { attempts, why: w });
            }
            Attempt::Transient(w) => why = w,
        }
        if attempts > policy.retries {
            break;
        }
        let backoff = FIRST_BACKOFF.saturating_mul(1 << (attempts - 1).min(6));
        let remaining = policy.budget.saturating_sub(started.elapsed());
        if remaining.is_zero() {
            break;
        }
        std::thread::sleep(backoff.min(remaining));
    }
    Err(Failed {
        attempts,
        why: format!(
            "{why} (after {attempts} attempt(s) in {:.1?})",
            started.elapsed()
        ),
    })
}

fn attempt(url: &str, body: &[u8], timeout: Duration) -> Attempt {
    let host = url
        .parse::<ureq::http::Uri>()
        .ok()
        .and_then(|u| u.host().map(str::to_owned))
        .unwrap_or_default();
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        // A redirected POST is not the request that was asked for.
        .max_redirects(0)
        .user_agent(concat!("canary-kit-notify/", env!("CARGO_PKG_VERSION")));
    // An operator's HTTP(S)_PROXY must never capture a loopback receiver.
    if is_loopback_host(&host) {
        config = config.proxy(None);
    }
    let agent: ureq::Agent = config.build().into();
    let response = agent
        .post(url)
        .header("content-type", "application/json")
        .send(body);
    match response {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let mut snippet = Vec::new();
            let _ = resp
                .into_body()
                .into_reader()
                .take(512)
                .read_to_end(&mut snippet);
            let text: String = String::from_utf8_lossy(&snippet)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .take(200)
                .collect();
            match status {
                200..=299 => Attempt::Ok,
                408 | 429 | 500..=599 => Attempt::Transient(format!("HTTP {status}: {text}")),
                _ => Attempt::Permanent(format!("HTTP {status}: {text}")),
            }
        }
        Err(ureq::Error::Timeout(_)) => Attempt::Transient(format!("no answer within {timeout:?}")),
        Err(e) => {
            let text = e.to_string();
            if text.contains("timeout") || text.contains("timed out") {
                Attempt::Transient(format!("no answer within {timeout:?}"))
            } else {
                Attempt::Transient(text)
            }
        }
    }
}
