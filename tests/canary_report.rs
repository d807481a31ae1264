//! canary-report: logs recorded from the real tools and committed fixtures,
//! rendered to HTML and checked in headless Chromium (dump-dom and a
//! screenshot whose pixels must show the charts).

use crate::util::{Sim, TempDir, cmd};
use canary_report::chart::{CRIT_COLOUR, PALETTE, TARGET_COLOUR, WARN_COLOUR};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/canary-report");

fn fixture(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path.as_ref())
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.as_ref().display()))
}

// ---------------------------------------------------------------- Chromium

/// Debian's chromium, which scripts/test installs. Never skipped.
fn chromium() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("chromium"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "chromium is not installed: run scripts/test, which installs Debian's chromium \
                 package (need_tools chromium) before running the tests"
            )
        })
}

/// Run headless Chromium on a local file with `extra` arguments; return stdout.
/// Only file:// is loaded; every other request is sent to a closed loopback port.
fn run_chromium(page: &Path, extra: &[String]) -> String {
    let scratch = TempDir::new("chromium");
    let mut c = Command::new(chromium());
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &scratch.0)
        .env("XDG_CONFIG_HOME", scratch.path("config"))
        .env("XDG_CACHE_HOME", scratch.path("cache"))
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--proxy-server=127.0.0.1:9",
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost",
        ])
        .arg(format!(
            "--user-data-dir={}",
            scratch.path("profile").display()
        ))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawning chromium");
    let mut stdout = child.stdout.take().expect("stdout piped");
    let mut stderr = child.stderr.take().expect("stderr piped");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("waiting for chromium") {
            break st;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish in 120 s on {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    assert!(
        status.success(),
        "chromium failed ({status}) on {}\n--- stderr ---\n{stderr}",
        page.display()
    );
    stdout
}

/// The DOM Chromium built from the page.
fn dump_dom(page: &Path) -> String {
    let dom = run_chromium(page, &["--dump-dom".to_owned()]);
    assert!(dom.contains("<body"), "chromium dumped no DOM:\n{dom}");
    dom
}

/// An RGB screenshot of the page at 1280x2400.
struct Shot {
    pixels: Vec<[u8; 3]>,
}

fn screenshot(page: &Path, dir: &TempDir) -> Shot {
    let png_path = dir.path("shot.png");
    let _ = std::fs::remove_file(&png_path);
    run_chromium(
        page,
        &[
            format!("--screenshot={}", png_path.display()),
            "--window-size=1280,2400".to_owned(),
        ],
    );
    let bytes = std::fs::read(&png_path).expect("chromium wrote the screenshot");
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().expect("screenshot is a PNG");
    let mut buf = vec![
        0;
        reader
            .output_buffer_size()
            .expect("screenshot fits in memory")
    ];
    let info = reader
        .next_frame(&mut buf)
        .expect("decoding the screenshot");
    assert_eq!((info.width, info.height), (1280, 2400), "screenshot size");
    let channels = info.color_type.samples();
    let pixels = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| match channels {
            1 | 2 => [p[0], p[0], p[0]],
            _ => [p[0], p[1], p[2]],
        })
        .collect();
    Shot { pixels }
}

fn rgb(hex: &str) -> [u8; 3] {
    let n = u32::from_str_radix(hex.trim_start_matches('#'), 16).expect("hex colour");
    [(n >> 16) as u8, (n >> 8) as u8, n as u8]
}

impl Shot {
    /// Pixels within a small distance of `hex` (antialiasing shifts edges only).
    fn count(&self, hex: &str) -> usize {
        let want = rgb(hex);
        self.pixels
            .iter()
            .filter(|p| p.iter().zip(want).all(|(a, b)| a.abs_diff(b) <= 12))
            .count()
    }

    fn series(&self) -> usize {
        PALETTE.iter().map(|c| self.count(c)).sum()
    }

    fn not_blank(&self) -> usize {
        self.pixels
            .iter()
            .filter(|p| **p != [255, 255, 255])
            .count()
    }
}

// ------------------------------------------------------------ page checks

/// Nothing is fetched at view time: no tag names a URL, every src/href is a
/// fragment or a data: URI, no script, no external stylesheet or font.
fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    for banned in [
        "<script", "<link", "<iframe", "<object", "<embed", "<img", "@import", "url(",
    ] {
        assert!(!lower.contains(banned), "page holds {banned}");
    }
    // Text from the log is escaped, so every '<' opens one of our own tags.
    let mut rest = lower.as_str();
    while let Some(open) = rest.find('<') {
        let end = rest[open..].find('>').map_or(rest.len(), |e| open + e);
        let tag = &rest[open..end];
        for scheme in ["http:", "https:", "ftp:", "ws:", "wss:", "file:", "//"] {
            assert!(!tag.contains(scheme), "tag references {scheme}: {tag}");
        }
        for attr in [
            "src=",
            "href=",
            "action=",
            "poster=",
            "srcset=",
            "xlink:href=",
        ] {
            let mut t = tag;
            while let Some(i) = t.find(attr) {
                let v = t[i + attr.len()..].trim_start_matches(['"', '\'']);
                assert!(
                    v.starts_with('#') || v.starts_with("data:"),
                    "{attr} to something other than a fragment or data: URI: {tag}"
                );
                t = &t[i + attr.len()..];
            }
        }
        rest = &rest[end..];
    }
}

fn report_of(args: &[&str], stdin: Option<&str>) -> crate::util::Output {
    let mut c = cmd("canary-report").args(args);
    if let Some(s) = stdin {
        c = c.stdin(s.as_bytes().to_vec());
    }
    c.run()
}

/// Write `html` to a page in `dir` and return its path.
fn page(dir: &TempDir, html: &str) -> PathBuf {
    let p = dir.path("report.html");
    std::fs::write(&p, html).expect("writing the page");
    p
}

fn assert_charts_in_dom(dom: &str) {
    // Five charts, and the equity chart when the log holds equity readings.
    let equity = usize::from(dom.contains("id=\"chart-equity\""));
    assert_eq!(
        dom.matches("<svg class=\"plot\"").count(),
        5 + equity,
        "five charts"
    );
    assert_eq!(dom.matches("class=\"threshold warn\"").count(), 4);
    assert_eq!(dom.matches("class=\"threshold crit\"").count(), 4);
    assert_eq!(dom.matches("class=\"threshold target\"").count(), 1);
    assert!(dom.matches("<polyline").count() >= 5, "a line per chart");
    for id in [
        "chart-error-rate",
        "chart-retry-rate",
        "chart-latency",
        "chart-guard-trips",
        "chart-orders",
    ] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
    assert!(
        !dom.contains("<strong>no data</strong>"),
        "every chart has data"
    );
}

fn assert_charts_in_pixels(shot: &Shot) {
    // Two dashed lines 2 px thick across four plots are thousands of pixels;
    // legend swatches are a few dozen.
    let (warn, crit, target, series) = (
        shot.count(WARN_COLOUR),
        shot.count(CRIT_COLOUR),
        shot.count(TARGET_COLOUR),
        shot.series(),
    );
    assert!(warn > 1200, "WARN lines: {warn} pixels of {WARN_COLOUR}");
    assert!(crit > 1200, "CRIT lines: {crit} pixels of {CRIT_COLOUR}");
    assert!(
        target > 250,
        "order target line: {target} pixels of {TARGET_COLOUR}"
    );
    assert!(series > 800, "series lines: {series} pixels of the palette");
}

// ------------------------------------------------------------------ tests

#[test]
fn a_window_recorded_from_the_real_tools_renders_in_chromium_with_its_charts() {
    let dir = TempDir::new("report-live");
    let sim = Sim::start("live");
    let mut log = String::new();
    let probe = cmd("probe-health")
        .args(["--url", &sim.url, "--phase", "b"])
        .run();
    log.push_str(&probe.stdout);
    let scrape = cmd("scrape-metrics")
        .args(["--url", &format!("{}/metrics", sim.url)])
        .args(["--every", "1s", "--count", "5"])
        .run();
    assert!(
        scrape.stdout.contains("\"metrics.orders\""),
        "{}",
        scrape.stderr
    );
    log.push_str(&scrape.stdout);
    log.push_str(&cmd("probe-health").args(["--url", &sim.url]).run().stdout);
    drop(sim);
    let judged = cmd("judge").args(["--phase", "b"]).stdin(log.clone()).run();
    let verdicts: Vec<_> = judged
        .records()
        .into_iter()
        .filter(|r| r.name == "judge.verdict")
        .collect();
    let verdict = verdicts.last().expect("judge wrote a verdict");
    let decision = verdict.extra["decision"]
        .as_str()
        .expect("decision")
        .to_owned();
    log.push_str(&judged.stdout);
    let log_path = dir.path("window.ndjson");
    std::fs::write(&log_path, &log).expect("writing the log");

    let out_path = dir.path("report.html");
    let out = report_of(
        &[
            log_path.to_str().expect("utf8"),
            "-o",
            out_path.to_str().expect("utf8"),
        ],
        None,
    );
    out.code(0);
    assert!(out.stdout.is_empty(), "-o leaves stdout empty");
    let html = read(&out_path);
    assert_self_contained(&html);

    let dom = dump_dom(&out_path);
    assert!(
        dom.contains(&format!(">{}</div>", decision.to_uppercase())),
        "verdict {decision} shown big"
    );
    assert!(dom.contains("Phase B (micro-open)"));
    assert!(dom.contains("target 50"), "Phase B's order target");
    assert_charts_in_dom(&dom);
    assert!(dom.contains("(5m)"), "windowed rates are their own series");
    let shot = screenshot(&out_path, &dir);
    assert_charts_in_pixels(&shot);
}

#[test]
fn a_phase_a_rollback_fixture_shows_verdict_evidence_restart_and_bad_lines() {
    let dir = TempDir::new("report-fixture");
    let out = report_of(&[&fixture("phase-a-rollback.ndjson")], None);
    out.code(0);
    let html = &out.stdout;
    assert_self_contained(html);
    assert!(html.contains(">ROLLBACK</div>"));
    assert!(html.contains("decision-bad"));
    assert!(html.contains("Phase A (reduce-only)"));
    assert!(html.contains("13 of 10"), "window orders from the verdict");
    // 6 orders, a restart (the counter drops to 0), then 7 more.
    assert!(
        html.contains("counted so far: 13."),
        "orders counted like increase()"
    );
    assert!(html.contains("went down 1 time(s)"));
    assert!(html.contains("target 10"));
    assert!(html.contains("3 of 25 points are unknown"));
    assert!(html.contains("class=\"unknown\""));
    // Malformed lines: counted in the header, listed at the end, on stderr.
    assert!(html.contains("<dt>malformed lines</dt><dd>2 "));
    assert!(html.contains("phase-a-rollback.ndjson:47: not a canary-kit record"));
    assert!(out.stderr.contains("canary-report: warning: "));
    // Worst first: the verdict's crit reason, then crit evidence, ..., ok last.
    let crit_reason = html
        .find("<code>order-error-rate-crit</code>")
        .expect("reason row");
    let crit_signal = html
        .find("<code>metrics.order_error_rate</code>")
        .expect("signal row");
    let unknown = html.find("<code>metrics.fetch</code>").expect("error row");
    let warn = html
        .find("<code>broker-latency-p95-warn</code>")
        .expect("warn reason");
    let ok = html
        .find("<code>metrics.order_retry_rate</code>")
        .expect("ok row");
    assert!(crit_reason < crit_signal && crit_signal < unknown && unknown < warn && warn < ok);
    assert!(html.contains("warn ≥ 0.05, crit ≥ 0.15"));
    // Levels carry words, not only colour.
    for word in ["CRIT", "WARN", "OK", "UNKNOWN"] {
        assert!(html.contains(&format!("\">{word}</span>")), "{word} label");
    }

    let p = page(&dir, html);
    let dom = dump_dom(&p);
    assert_charts_in_dom(&dom);
    let shot = screenshot(&p, &dir);
    assert_charts_in_pixels(&shot);
}

#[test]
fn a_log_without_urls_names_no_url_at_all() {
    let log = read(fixture("phase-a-rollback.ndjson")).replace("http://127.0.0.1:8080", "bot-a");
    let out = report_of(&[], Some(&log));
    out.code(0);
    assert!(!out.stdout.contains("http://") && !out.stdout.contains("https://"));
    assert!(!out.stdout.contains("src=") && !out.stdout.contains("href="));
    assert!(out.stdout.contains("<code>bot-a</code>"));
}

#[test]
fn hostile_strings_are_escaped_everywhere() {
    let dir = TempDir::new("report-hostile");
    let out = report_of(&[&fixture("hostile.ndjson")], None);
    out.code(0);
    let html = &out.stdout;
    assert_self_contained(html);
    for raw in ["<script>", "<img", "\"><img src=x onerror=alert(1)>"] {
        assert!(!html.contains(raw), "raw {raw:?} in the page");
    }
    assert!(html.contains("&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;"));
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    // An unknown decision word is shown, escaped, in a neutral colour.
    assert!(html.contains("decision-other"));
    // Mistyped window fields are "not stated", never a made-up 0.
    assert!(html.contains("<dt>orders</dt><dd>not stated</dd>"));
    let p = page(&dir, html);
    let dom = dump_dom(&p);
    let lower = dom.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "a script element was created");
    assert!(!lower.contains("<img"), "an img element was created");
    assert!(dom.contains("&lt;script&gt;"), "the text survives as text");
}

#[test]
fn no_verdict_and_no_data_are_said_plainly_and_draw_nothing_that_looks_healthy() {
    let dir = TempDir::new("report-empty");
    let out = report_of(&[&fixture("health-only.ndjson")], None);
    out.code(0);
    let html = &out.stdout;
    assert!(html.contains("no verdict in this log: run judge"));
    assert!(!html.contains("class=\"decision decision-good"));
    assert_eq!(html.matches("<strong>no data</strong>").count(), 5);
    assert!(html.contains("no metrics.order_error_rate records in this log"));
    assert!(html.contains("no metrics.orders samples in this log"));
    assert!(html.contains("No order target"));
    assert!(!html.contains("<svg"), "no empty axes");
    assert!(
        html.contains("<code>health.broker</code>"),
        "checks still tabled"
    );

    let p = page(&dir, html);
    let dom = dump_dom(&p);
    assert!(dom.contains("no verdict in this log: run judge"));
    let shot = screenshot(&p, &dir);
    // The control for the pixel checks above: a page without charts has
    // none of the chart colours, yet it did render.
    assert!(shot.not_blank() > 10_000, "the page rendered");
    assert_eq!(shot.count(WARN_COLOUR), 0);
    assert_eq!(shot.count(CRIT_COLOUR), 0);
    assert_eq!(shot.count(TARGET_COLOUR), 0);
    assert_eq!(shot.series(), 0);

    // Empty input is a report too.
    let empty = report_of(&[], Some(""));
    empty.code(0);
    assert!(empty.stdout.contains("no verdict in this log: run judge"));
    assert!(empty.stdout.contains("<dt>records</dt><dd>0:"));
}

#[test]
fn phase_flag_sets_the_order_target_and_threshold_drift_is_flagged() {
    let log = read(fixture("phase-a-rollback.ndjson"))
        .replace("\"crit\":0.15}", "\"crit\":0.3}")
        .lines()
        .filter(|l| !l.contains("judge.verdict"))
        .collect::<Vec<_>>()
        .join("\n");
    let out = report_of(&["--phase", "b", "-"], Some(&log));
    out.code(0);
    assert!(out.stdout.contains("target 50"));
    assert!(out.stdout.contains("Phase B window completes at 50 orders"));
    assert!(out.stdout.contains("no verdict in this log"));
    assert!(
        out.stdout.contains(
            "25 metrics.order_error_rate record(s) carry thresholds that differ from canary-kit&#39;s table (WARN 0.05, CRIT 0.15)"
        ),
        "thresholds are checked against the one table"
    );
}

#[test]
fn unreadable_input_or_output_exits_2() {
    let dir = TempDir::new("report-errors");
    let missing = dir.path("missing.ndjson");
    let out = report_of(&[missing.to_str().expect("utf8")], None);
    out.code(2);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.starts_with("canary-report: error: opening "),
        "{}",
        out.stderr
    );
    let out = report_of(&[dir.0.to_str().expect("utf8")], None);
    out.code(2);
    let target = dir.path("no-such-dir/report.html");
    let out = report_of(
        &[
            &fixture("health-only.ndjson"),
            "-o",
            target.to_str().expect("utf8"),
        ],
        None,
    );
    out.code(2);
    assert!(
        out.stderr.contains("canary-report: error: writing "),
        "{}",
        out.stderr
    );
    let out = report_of(&["--phase", "c"], Some(""));
    out.code(2);
}

#[test]
fn output_file_is_replaced_whole() {
    let dir = TempDir::new("report-output");
    let target = dir.path("report.html");
    std::fs::write(&target, "old").expect("seed");
    report_of(
        &[
            &fixture("health-only.ndjson"),
            "-o",
            target.to_str().expect("utf8"),
        ],
        None,
    )
    .code(0);
    let html = read(&target);
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    let leftovers = std::fs::read_dir(&dir.0).expect("dir").count();
    assert_eq!(leftovers, 1, "no temporary file left behind");
}

/// Issue: `-o` renamed its temp file over whatever the path was: `-o
/// /dev/full` replaced the device node with a regular file, FIFOs and
/// `/dev/stdout`-style links were replaced too — as root, in a directory
/// others may write. Now anything but a regular file is refused, untouched.
#[test]
fn output_refuses_symlinks_fifos_and_devices() {
    use std::os::unix::fs::FileTypeExt;
    let dir = TempDir::new("report-output-unsafe");
    let victim = dir.path("victim.txt");
    std::fs::write(&victim, "precious").expect("seed");
    let link = dir.path("link.html");
    std::os::unix::fs::symlink(&victim, &link).expect("symlink");
    let stdout_like = dir.path("stdout.html");
    std::os::unix::fs::symlink("/dev/stdout", &stdout_like).expect("symlink");
    let fifo = dir.path("fifo.html");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo")
            .success()
    );
    // A character device like /dev/full, made here (root only) so that a
    // regression never touches the real /dev.
    let dev = dir.path("full.html");
    let have_dev = std::process::Command::new("mknod")
        .arg(&dev)
        .args(["c", "1", "7"])
        .status()
        .is_ok_and(|s| s.success());
    if !have_dev {
        eprintln!("skipping the device-node case: mknod needs root");
    }
    let mut targets = vec![&link, &stdout_like, &fifo];
    if have_dev {
        targets.push(&dev);
    }
    for target in targets {
        let out = report_of(
            &[
                &fixture("health-only.ndjson"),
                "-o",
                target.to_str().expect("utf8"),
            ],
            None,
        );
        out.code(2);
        assert!(out.stderr.contains("refused"), "{}", out.stderr);
    }
    assert_eq!(read(&victim), "precious");
    let meta = |p: &std::path::Path| std::fs::symlink_metadata(p).expect("still there");
    assert!(meta(&link).file_type().is_symlink());
    assert!(meta(&stdout_like).file_type().is_symlink());
    assert!(meta(&fifo).file_type().is_fifo());
    if have_dev {
        assert!(meta(&dev).file_type().is_char_device());
    }
    let names: Vec<String> = std::fs::read_dir(&dir.0)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains(".tmp-")), "{names:?}");
}

#[test]
fn help_has_examples_and_version_answers() {
    let out = cmd("canary-report").args(["--help"]).run();
    out.code(0);
    let examples = out
        .stdout
        .split("Examples:")
        .nth(1)
        .expect("Examples section");
    assert!(examples.contains("canary-report") && examples.contains(" | "));
    let out = cmd("canary-report").args(["--version"]).run();
    out.code(0);
    assert!(out.stdout.starts_with("canary-report "));
}
