//! Test harness: run the real binaries over real pipes, start the simulator,
//! and parse output strictly.

#![allow(dead_code)]

use canary_core::Record;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Path of one of the workspace's binaries, built next to this test binary.
pub fn bin(name: &str) -> PathBuf {
    // Where Cargo built it: `CARGO_BIN_EXE_<tool>` is set, when the tests
    // are compiled, for every binary of the root package.
    let built = match name {
        "canary-report" => option_env!("CARGO_BIN_EXE_canary-report"),
        "canary-rules" => option_env!("CARGO_BIN_EXE_canary-rules"),
        "check-preflight" => option_env!("CARGO_BIN_EXE_check-preflight"),
        "check-profile" => option_env!("CARGO_BIN_EXE_check-profile"),
        "check-risk-env" => option_env!("CARGO_BIN_EXE_check-risk-env"),
        "daily-report" => option_env!("CARGO_BIN_EXE_daily-report"),
        "judge" => option_env!("CARGO_BIN_EXE_judge"),
        "notify" => option_env!("CARGO_BIN_EXE_notify"),
        "probe-health" => option_env!("CARGO_BIN_EXE_probe-health"),
        "rollback" => option_env!("CARGO_BIN_EXE_rollback"),
        "scrape-metrics" => option_env!("CARGO_BIN_EXE_scrape-metrics"),
        "sim-bot" => option_env!("CARGO_BIN_EXE_sim-bot"),
        _ => None,
    };
    // Else beside the test executable's directory (a target dir built
    // before, as ripgrep's tests fall back to).
    let path = built.map(PathBuf::from).unwrap_or_else(|| {
        let exe = std::env::current_exe().expect("test binary path");
        let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
        dir.join(name)
    });
    assert!(
        path.exists(),
        "binary {} not built at {}",
        name,
        path.display()
    );
    path
}

pub fn bin_dir() -> PathBuf {
    bin("judge").parent().expect("bin dir").to_path_buf()
}

/// A command with a scrubbed environment: no proxies, no colour, no locale
/// surprises; only PATH and HOME survive.
pub fn cmd(name: &str) -> Cmd {
    let mut c = Command::new(bin(name));
    c.env_clear();
    for key in ["PATH", "HOME"] {
        if let Ok(v) = std::env::var(key) {
            c.env(key, v);
        }
    }
    Cmd {
        inner: c,
        stdin: None,
        desc: name.to_owned(),
    }
}

pub struct Cmd {
    pub inner: Command,
    stdin: Option<Vec<u8>>,
    desc: String,
}

/// What a finished command produced.
#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub desc: String,
    pub elapsed: Duration,
}

impl Cmd {
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(mut self, args: I) -> Cmd {
        for a in args {
            self.desc.push(' ');
            self.desc.push_str(&a.as_ref().to_string_lossy());
            self.inner.arg(a);
        }
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Cmd {
        self.inner.env(k, v);
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Cmd {
        self.stdin = Some(bytes.into());
        self
    }

    /// Run to completion; stdin is fed from a thread so large inputs cannot deadlock.
    pub fn run(mut self) -> Output {
        let started = Instant::now();
        self.inner.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        self.inner.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = self
            .inner
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", self.desc));
        let feeder = self.stdin.take().map(|bytes| {
            let mut sink = child.stdin.take().expect("stdin piped");
            thread::spawn(move || {
                let _ = sink.write_all(&bytes);
            })
        });
        let out = child.wait_with_output().expect("waiting for child");
        if let Some(f) = feeder {
            let _ = f.join();
        }
        Output {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            desc: self.desc,
            elapsed: started.elapsed(),
        }
    }
}

impl Output {
    fn context(&self) -> String {
        format!(
            "command: {}\nstatus: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.desc, self.code, self.stdout, self.stderr
        )
    }

    /// Assert the exit code, printing everything on failure.
    pub fn code(&self, want: i32) -> &Output {
        assert_eq!(
            self.code,
            Some(want),
            "unexpected exit code\n{}",
            self.context()
        );
        self
    }

    /// Every stdout line parsed strictly as a record whose name is catalogued.
    pub fn records(&self) -> Vec<Record> {
        self.stdout
            .lines()
            .map(|line| {
                let rec: Record = serde_json::from_str(line).unwrap_or_else(|e| {
                    panic!(
                        "stdout line is not a record: {e}\nline: {line}\n{}",
                        self.context()
                    )
                });
                assert!(
                    canary_core::catalogue::lookup(&rec.name).is_some(),
                    "record name {} is not in the catalogue\n{}",
                    rec.name,
                    self.context()
                );
                rec
            })
            .collect()
    }

    /// The one record with this name.
    pub fn record(&self, name: &str) -> Record {
        let all: Vec<Record> = self
            .records()
            .into_iter()
            .filter(|r| r.name == name)
            .collect();
        assert_eq!(
            all.len(),
            1,
            "expected exactly one {name} record\n{}",
            self.context()
        );
        all.into_iter().next().expect("one")
    }
}

/// A running simulator, killed on drop.
pub struct Sim {
    child: Child,
    pub url: String,
}

impl Sim {
    pub fn start(scenario: &str) -> Sim {
        Sim::with_args(&["--scenario", scenario])
    }

    pub fn fault(fault: &str) -> Sim {
        Sim::with_args(&["--fault", fault])
    }

    pub fn with_args(args: &[&str]) -> Sim {
        Sim::on_port(0, args)
    }

    /// Start on a given port (0 picks one), e.g. to restart a bot in place.
    pub fn on_port(port: u16, args: &[&str]) -> Sim {
        let mut child = Command::new(bin("sim-bot"))
            .arg("--port")
            .arg(port.to_string())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawning sim-bot");
        let stdout = child.stdout.take().expect("stdout piped");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("reading sim-bot's URL");
        let url = line.trim().to_owned();
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "sim-bot printed {url:?}"
        );
        Sim { child, url }
    }
}

impl Sim {
    /// The port the simulator listens on.
    pub fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port in URL")
    }

    /// `127.0.0.1:PORT`, as Prometheus names the instance.
    pub fn instance(&self) -> String {
        self.url.trim_start_matches("http://").to_owned()
    }
}

/// A fresh, empty temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("canary-kit-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creating temp dir");
        TempDir(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Read everything a reader yields (for raw socket tests).
pub fn read_all(mut r: impl Read) -> Vec<u8> {
    let mut buf = Vec::new();
    let _ = r.read_to_end(&mut buf);
    buf
}

/// A loopback port nobody listens on (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A loopback HTTP server answering fixed bodies the way the bot frames
/// them (exact paths, `Connection: close`), for bodies the simulator does
/// not serve: forged, contradictory or broken ones. Stopped on drop.
pub struct Fixture {
    pub url: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

/// One route of a [`Fixture`]: path, status, content type, body.
pub type Route = (&'static str, u16, &'static str, Vec<u8>);

impl Fixture {
    pub fn serve(routes: Vec<Route>) -> Fixture {
        Fixture::slow(routes, Duration::ZERO)
    }

    /// Like `serve`, answering each request only after `delay` (one at a
    /// time, as a loaded server would); routes match the path before any `?`.
    pub fn slow(routes: Vec<Route>, delay: Duration) -> Fixture {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind fixture");
        let addr = listener.local_addr().expect("fixture addr");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                let mut line = String::new();
                let _ = BufReader::new(&conn).read_line(&mut line);
                let target = line.split_whitespace().nth(1).unwrap_or("");
                let path = target.split('?').next().unwrap_or("").to_owned();
                thread::sleep(delay);
                let (status, ctype, body) = routes
                    .iter()
                    .find(|r| r.0 == path)
                    .map(|r| (r.1, r.2, r.3.clone()))
                    .unwrap_or((
                        404,
                        "application/json",
                        b"{\"error\": \"Not found\"}".to_vec(),
                    ));
                let reason = match status {
                    200 => "OK",
                    404 => "Not Found",
                    503 => "Service Unavailable",
                    _ => "Other",
                };
                let head = format!(
                    "HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(head.as_bytes());
                let _ = conn.write_all(&body);
            }
        });
        Fixture {
            url: format!("http://{addr}"),
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = std::net::TcpStream::connect(self.url.trim_start_matches("http://"));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `tool ARGS | head -1`: the tool must exit 0 with nothing on stderr once
/// its stdout closes (it is given enough rounds to hit the closed pipe).
pub fn assert_quiet_when_stdout_closes(tool: &str, args: &str) {
    let script = format!(
        "'{}' {args} | head -1 >/dev/null; exit ${{PIPESTATUS[0]}}",
        bin(tool).display()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("bash");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{tool} {args} | head -1: stderr: {stderr}"
    );
    assert!(
        stderr.is_empty(),
        "{tool} {args} | head -1: stderr: {stderr}"
    );
}
