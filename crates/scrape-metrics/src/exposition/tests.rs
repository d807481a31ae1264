use super::*;

fn all(body: &str) -> (Vec<Sample<'_>>, Summary) {
    let mut out = Vec::new();
    let summary = parse(body.as_bytes(), |s| out.push(s));
    (out, summary)
}

#[test]
fn the_bots_body_parses_without_help_lines() {
    let body = "# TYPE gpt_trader_order_submission_total counter\n\
gpt_trader_order_submission_total{reason=\"none\",result=\"success\",side=\"sell\"} 18\n\
# TYPE gpt_trader_ws_last_message_age_seconds gauge\n\
gpt_trader_ws_last_message_age_seconds 3.2000000000000455\n\
gpt_trader_broker_call_latency_seconds_bucket{le=\"1.0\",operation=\"submit\",outcome=\"success\",reason=\"none\"} 47\n\
gpt_trader_broker_call_latency_seconds_bucket{le=\"+Inf\",operation=\"submit\",outcome=\"success\",reason=\"none\"} 19\n\
gpt_trader_broker_call_latency_seconds_sum{operation=\"submit\",outcome=\"success\",reason=\"none\"} 4.299999999999999\n";
    let (samples, summary) = all(body);
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    assert_eq!(samples.len(), 5);
    assert_eq!(samples[0].label("result"), Some("success"));
    assert_eq!(samples[2].label("le"), Some("1.0"));
    assert_eq!(samples[3].value, 19.0);
    assert_eq!(samples[4].value, 4.299999999999999);
}

#[test]
fn empty_body_is_fine() {
    let (samples, summary) = all("");
    assert!(samples.is_empty() && summary.errors.is_empty());
}

#[test]
fn escapes_are_unescaped_exactly() {
    let (s, summary) =
        all("m{a=\"back\\\\slash\",b=\"q\\\"uote\",c=\"new\\nline\",d=\"tab\\t\"} 1\n");
    assert!(summary.errors.is_empty());
    assert_eq!(s[0].label("a"), Some("back\\slash"));
    assert_eq!(s[0].label("b"), Some("q\"uote"));
    assert_eq!(s[0].label("c"), Some("new\nline"));
    assert_eq!(
        s[0].label("d"),
        Some("tab\\t"),
        "unknown escapes stay as written"
    );
}

#[test]
fn values_exponents_infinities_nan_and_timestamps() {
    let (s, summary) =
        all("a 1e-05\nb +Inf\nc -Inf\nd NaN\ne inf\nf 1.5 1700000000000\ng 2 1700000000.5\n");
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    assert_eq!(s[0].value, 1e-05);
    assert_eq!(s[1].value, f64::INFINITY);
    assert_eq!(s[2].value, f64::NEG_INFINITY);
    assert!(s[3].value.is_nan());
    assert_eq!(s[4].value, f64::INFINITY);
    assert_eq!(s[5].timestamp_ms, Some(1_700_000_000_000));
    assert_eq!(s[6].timestamp_ms, Some(1_700_000_000_500));
}

#[test]
fn bad_lines_are_numbered_and_never_cost_the_rest() {
    let body = "good 1\nbad{a=\"x} 2\n0bad 3\nalso_good{x=\"1\"} 4\nnovalue\nm{a=\"1\"} abc\nm 1 2 3\n\u{0}\nlast 5";
    let (s, summary) = all(body);
    let names: Vec<&str> = s.iter().map(|s| s.name).collect();
    assert_eq!(names, ["good", "also_good", "last"]);
    let lines: Vec<usize> = summary.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 3, 5, 6, 7, 8]);
}

#[test]
fn duplicate_series_keep_the_first() {
    let (s, summary) = all("m{a=\"1\",b=\"2\"} 1\nm{b=\"2\",a=\"1\"} 9\n");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].value, 1.0);
    assert_eq!(summary.errors[0].line, 2);
    assert!(summary.errors[0].msg.contains("duplicate series"));
}

#[test]
fn openmetrics_subset() {
    let body = "# HELP x_total Help text.\n# TYPE x counter\n# UNIT x seconds\nx_total 3 # {trace_id=\"abc\"} 1.0 1.5\n# EOF\n\n";
    let (s, summary) = all(body);
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].value, 3.0);
}

#[test]
fn text_after_eof_is_read_and_the_early_eof_is_a_fatal_error() {
    // Cut at `# EOF`, a bot at 20 % errors would read 0 %: the failures follow it.
    let body = "ok_total 80\n# EOF\nfailed_total 20\n";
    let (s, summary) = all(body);
    assert_eq!(s.len(), 2, "the line after # EOF is read");
    assert_eq!(summary.errors.len(), 1);
    assert_eq!(summary.errors[0].line, 2);
    assert!(summary.errors[0].fatal);
    assert!(summary.errors[0].msg.contains("# EOF before the end"));
}

#[test]
fn type_lines_are_checked() {
    let (_, summary) = all("# TYPE m countr\n# TYPE\n# just a comment\n");
    assert_eq!(summary.errors.len(), 2);
}

#[test]
fn crlf_and_non_utf8() {
    let mut body = b"a 1\r\nb 2\r\n".to_vec();
    body.extend_from_slice(b"c{x=\"\xff\"} 3\nd 4\n");
    let mut names = Vec::new();
    let summary = parse(&body, |s| names.push(s.name.to_owned()));
    assert_eq!(names, ["a", "b", "d"]);
    assert_eq!(summary.errors[0].line, 3);
}

/// Cannot panic, whatever the bytes: a deterministic property test over
/// random and mutated inputs.
#[test]
fn never_panics_on_arbitrary_bytes() {
    let seeds: [&[u8]; 4] = [
        b"m{a=\"1\",b=\"x\\\\\\\"\"} 1e3 123\n",
        b"# TYPE m histogram\nm_bucket{le=\"+Inf\"} 1\n",
        b"{}\"\\,= #\n\t\r",
        "m{\u{00e9}=\"\u{1F600}\"} NaN\n".as_bytes(),
    ];
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for round in 0..20_000 {
        let seed = seeds[round % seeds.len()];
        let mut input = seed.to_vec();
        let edits = (next() % 8) as usize;
        for _ in 0..edits {
            let pos = (next() as usize) % (input.len() + 1);
            match next() % 3 {
                0 => input.insert(pos, (next() & 0xff) as u8),
                1 if pos < input.len() => {
                    input.remove(pos);
                }
                _ => input.insert(pos, b"{}\"\\=,# \n"[(next() % 9) as usize]),
            }
        }
        let _ = parse(&input, |_| {});
    }
}

/// The state file keys the bot's other counters by this text: it must stay
/// what `format!("{k}={v:?}")` wrote, whatever the value holds.
#[test]
fn series_text_is_the_debug_formatting_of_every_value() {
    let old = |s: &Sample<'_>| {
        if s.labels.is_empty() {
            return s.name.to_owned();
        }
        let inner: Vec<String> = s.labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        format!("{}{{{}}}", s.name, inner.join(","))
    };
    for v in [
        "",
        "plain",
        "a b",
        "q\"uote",
        "back\\slash",
        "tab\there",
        "new\nline",
        "é",
        "\u{7f}",
        "\u{0}",
        "it's",
        "{x=\"y\"}",
        "\u{301}",
        "~",
        " ",
    ] {
        let s = Sample {
            name: "gpt_trader_x_total",
            labels: vec![("a", Cow::Borrowed(v)), ("b", Cow::Owned(format!("{v}!")))],
            value: 1.0,
            timestamp_ms: None,
        };
        assert_eq!(series_text(&s), old(&s), "{v:?}");
    }
    let bare = Sample {
        name: "x",
        labels: vec![],
        value: 0.0,
        timestamp_ms: None,
    };
    assert_eq!(series_text(&bare), "x");
}

#[test]
fn each_syntax_error_says_what_it_found() {
    let cases = [
        ("# TYPE", "# TYPE without a metric name"),
        ("# TYPE m", "# TYPE m without a type"),
        ("# TYPE m countr", "# TYPE m: unknown type 'countr'"),
        ("# HELP", "# HELP/# UNIT without a metric name"),
        ("# TYPE 9m counter", "invalid metric name '9m'"),
        ("m", "m: no value"),
        ("m one", "m: invalid value 'one'"),
        ("m 1 soon", "m: invalid timestamp 'soon'"),
        ("m 1 2 3", "m: unexpected text after the timestamp: '3'"),
        ("m{a} 1", "label without '='"),
        ("m{9a=\"x\"} 1", "invalid label name '9a'"),
        ("m{a=x} 1", "label a: value is not quoted"),
        ("m{a=\"x} 1", "label a: unterminated value"),
        ("m{a=\"x\",a=\"y\"} 1", "label a given twice"),
        ("m{a=\"x\" b=\"y\"} 1", "expected ',' or '}' after label a"),
    ];
    for (line, msg) in cases {
        let (_, summary) = all(line);
        let got: Vec<&str> = summary.errors.iter().map(|e| e.msg.as_str()).collect();
        assert_eq!(got, [msg], "{line}");
    }
}
