//! canary_core::http against the simulator's faults: every way a GET can
//! fail is its own error, told by ureq's error type, not by its wording.

use crate::util::Sim;
use canary_core::http::{HttpError, HttpOptions, get};
use std::time::Duration;

fn opts(timeout_ms: u64, max_body: u64) -> HttpOptions {
    HttpOptions {
        timeout: Duration::from_millis(timeout_ms),
        max_body,
    }
}

fn fault(name: &str, o: HttpOptions) -> HttpError {
    let sim = Sim::fault(name);
    match get(&format!("{}/health", sim.url), &o) {
        Ok(r) => panic!("{name}: a response, status {}", r.status),
        Err(e) => e,
    }
}

#[test]
fn each_fault_is_its_own_error() {
    let o = opts(1500, 1 << 20);
    assert_eq!(fault("hang", o), HttpError::Timeout(o.timeout));
    assert_eq!(fault("huge-body", o), HttpError::TooLarge(o.max_body));
    assert_eq!(fault("redirect-loop", o), HttpError::Redirects);
    assert_eq!(fault("truncated", o), HttpError::Closed);
    assert_eq!(fault("empty-reply", o), HttpError::Closed);
}

#[test]
fn refused_and_invalid_urls() {
    // A port that was just free: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let o = opts(1500, 1 << 20);
    assert_eq!(
        get(&format!("http://127.0.0.1:{port}/health"), &o).map(|r| r.status),
        Err(HttpError::Refused)
    );
    assert!(matches!(
        get("http://[::1/health", &o),
        Err(HttpError::InvalidUrl { .. })
    ));
}

#[test]
fn a_body_exactly_at_the_cap_is_read_one_byte_over_is_not() {
    let sim = Sim::start("healthy-a");
    let url = format!("{}/health", sim.url);
    let full = get(&url, &opts(3000, 1 << 20)).expect("health").body.len() as u64;
    let at = get(&url, &opts(3000, full)).expect("exactly at the cap");
    assert_eq!(at.body.len() as u64, full);
    assert_eq!(
        get(&url, &opts(3000, full - 1)).map(|r| r.status),
        Err(HttpError::TooLarge(full - 1))
    );
}
