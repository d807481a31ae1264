//! The bot's hand-rolled HTTP server (`HealthServer._handle_request`): reads
//! only the request line, exact GET-only routing, `Connection: close`.

use crate::fault::Fault;
use crate::health::{Performance, health_response};
use crate::live::Live;
use crate::pyjson::dumps_pretty;
use crate::scenario::Bot;
use serde_json::{Value, json};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// The bot's `GPT_TRADER_HEALTH_READ_TIMEOUT` default.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
const PROMETHEUS_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Everything a request handler needs.
#[derive(Debug)]
pub struct Shared {
    pub bot: Mutex<Bot>,
    pub live: Option<Mutex<Live>>,
    /// A money scenario's clock-driven equity, breakers and orders.
    pub money: Option<Mutex<crate::money::Money>>,
    pub fault: Option<Fault>,
    pub double_cumulate: bool,
    /// Every Nth `/health` request finds the host busy.
    pub perf_flap: Option<u64>,
    /// `/health` requests served so far.
    pub health_requests: AtomicU64,
    /// When the bot started serving: the watchdog's clock.
    pub started: Instant,
}

/// Serve forever, one thread per connection.
pub fn serve(listener: TcpListener, shared: Arc<Shared>) -> io::Result<()> {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let shared = Arc::clone(&shared);
        thread::spawn(move || {
            let _ = handle(stream, &shared);
        });
    }
    Ok(())
}

fn handle(mut stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    let Some(line) = read_request_line(&mut stream)? else {
        return Ok(()); // timeout or closed: no response, like the bot
    };
    if let Some(fault) = shared.fault {
        return misbehave(stream, fault, &line);
    }
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let (code, content_type, body) = if tokens.len() < 2 {
        json_body(400, &json!({"error": "Invalid request"}))
    } else if tokens[0] != "GET" {
        json_body(405, &json!({"error": "Method not allowed"}))
    } else {
        route(tokens[1], shared)
    };
    respond(&mut stream, code, content_type, body.as_bytes())
}

fn route(path: &str, shared: &Shared) -> (u16, &'static str, String) {
    let mut bot = shared.bot.lock().unwrap_or_else(PoisonError::into_inner);
    // Only a running bot trades: before it is ready and after shutdown the
    // counters stand still.
    if let Some(live) = shared.live.as_ref().filter(|_| bot.ready()) {
        live.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .advance(&mut bot.collector);
    }
    if let Some(money) = &shared.money {
        money
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .tick(&mut bot.collector);
    }
    match path {
        "/health" => {
            let n = shared.health_requests.fetch_add(1, Ordering::Relaxed) + 1;
            let busy = shared
                .perf_flap
                .is_some_and(|every| n.is_multiple_of(every));
            let performance = if busy {
                Performance::busy_host()
            } else {
                Performance::healthy()
            };
            let state = bot.health(shared.started.elapsed(), performance);
            let (code, body) = health_response(&state, &bot.collector);
            json_body(code, &body)
        }
        "/live" => {
            let live = bot.live();
            json_body(
                if live { 200 } else { 503 },
                &json!({"status": pass(live), "live": live}),
            )
        }
        "/ready" => {
            let ready = bot.ready();
            let body = json!({"status": pass(ready), "ready": ready, "reason": bot.reason()});
            json_body(if ready { 200 } else { 503 }, &body)
        }
        "/metrics" if bot.spec.metrics_enabled => (
            200,
            PROMETHEUS_TYPE,
            bot.collector.render(shared.double_cumulate),
        ),
        "/metrics" => json_body(
            404,
            &json!({"error": "Metrics endpoint disabled", "hint": "Set GPT_TRADER_METRICS_ENDPOINT_ENABLED=1"}),
        ),
        other => json_body(404, &json!({"error": "Not found", "path": other})),
    }
}

fn pass(ok: bool) -> &'static str {
    if ok { "pass" } else { "fail" }
}

fn json_body(code: u16, body: &Value) -> (u16, &'static str, String) {
    (code, "application/json", dumps_pretty(body))
}

/// Read up to the first LF. Whatever else arrived with it (headers) is read
/// and ignored, as the bot's stream reader does, so closing never resets.
fn read_request_line(stream: &mut TcpStream) -> io::Result<Option<String>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(None),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e),
        }
        if let Some(end) = buf.iter().position(|&b| b == b'\n') {
            return Ok(Some(
                String::from_utf8_lossy(&buf[..end])
                    .trim_end_matches('\r')
                    .to_owned(),
            ));
        }
        if buf.len() > 64 * 1024 {
            return Ok(None);
        }
    }
}

fn reason_phrase(code: u16) -> &'static str {
    match code {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

fn respond(stream: &mut TcpStream, code: u16, content_type: &str, body: &[u8]) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {code} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reason_phrase(code),
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()?;
    stream.shutdown(std::net::Shutdown::Both)
}

fn misbehave(mut stream: TcpStream, fault: Fault, line: &str) -> io::Result<()> {
    let path = line.split_whitespace().nth(1).unwrap_or("/");
    match fault {
        Fault::Hang => {
            // Hold the connection until the client gives up (bounded: 10 min).
            stream.set_read_timeout(Some(Duration::from_secs(600)))?;
            let mut sink = [0u8; 1024];
            while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
            Ok(())
        }
        Fault::HugeBody => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 67108864\r\nConnection: close\r\n\r\n";
            stream.write_all(head.as_bytes())?;
            let chunk = [b' '; 64 * 1024];
            for _ in 0..1024 {
                stream.write_all(&chunk)?; // stops with EPIPE once the client hangs up
            }
            Ok(())
        }
        Fault::Truncated => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4096\r\nConnection: close\r\n\r\n";
            stream.write_all(head.as_bytes())?;
            stream.write_all(b"{\n  \"status\": \"healthy\",\n  \"live\": tr")?;
            stream.flush()?;
            stream.shutdown(std::net::Shutdown::Both)
        }
        Fault::RedirectLoop => {
            let head = format!(
                "HTTP/1.1 302 Found\r\nLocation: {path}\r\nContent-Type: application/json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(head.as_bytes())?;
            stream.shutdown(std::net::Shutdown::Both)
        }
        Fault::NotJson => respond(
            &mut stream,
            200,
            "text/html",
            b"<html><body>502 Bad Gateway</body></html>",
        ),
        Fault::WrongShape => {
            let body = dumps_pretty(
                &json!({"status": 7, "live": "yes", "checks": [1, 2], "signals": null}),
            );
            respond(&mut stream, 200, "application/json", body.as_bytes())
        }
        Fault::EmptyReply => stream.shutdown(std::net::Shutdown::Both),
    }
}
