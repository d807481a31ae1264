use super::*;
use args::parse_tolerance;
use canary_core::compare::Counts;
use canary_core::{Kind, Level};
use jiff::Timestamp;
use serde_json::json;
use unknown::SampleError;

fn rec(target: &str, name: &str, extra: &[(&str, Value)]) -> Record {
    let mut r = Record::new("scrape-metrics", target, Kind::Signal, name, Level::Ok);
    for (k, v) in extra {
        r = r.extra(k, v.clone());
    }
    r
}

fn args(baseline: Option<&str>) -> Args {
    Args {
        baseline: baseline.map(str::to_owned),
        baseline_alpha: 0.05,
        baseline_rollback_alpha: 0.01,
        baseline_large: Large::Rollback,
        baseline_tolerance: Vec::new(),
    }
}

#[test]
fn tolerances_parse_strictly() {
    assert_eq!(
        parse_tolerance("order_error_rate=0.02:0.08").ok(),
        Some(Tolerance {
            signal: Signal::ErrorRate,
            hold: 0.02,
            large: 0.08
        })
    );
    for bad in [
        "order_error_rate=0.08:0.02",
        "order_error_rate=0.02",
        "order_error_rate=-1:0.5",
        "order_error_rate=0.1:2",
        "order_error_rate=NaN:0.5",
        "order_error_rate",
    ] {
        assert!(
            matches!(parse_tolerance(bad), Err(crate::error::ArgError::Tolerance(t)) if t == bad),
            "{bad}"
        );
    }
    assert_eq!(
        parse_tolerance("p95=0.1:0.2").map_err(|e| e.to_string()),
        Err(
            "unknown signal 'p95' (one of order_error_rate, order_retry_rate, broker_latency)"
                .into()
        )
    );
}

#[test]
fn roles_route_records_and_never_cross() {
    let mut a = Against::new(&args(Some("http://prod:8080")));
    let name = "metrics.order_error_rate";
    assert_eq!(a.take(&rec("canary:8080", name, &[])), Route::Canary);
    // The bot --baseline names, unmarked or marked baseline: production's.
    assert_eq!(a.take(&rec("prod:8080", name, &[])), Route::Baseline);
    assert_eq!(
        a.take(&rec(
            "http://prod:8080/metrics",
            name,
            &[("role", json!("baseline"))]
        )),
        Route::Baseline
    );
    // Marked baseline from anywhere: production's.
    assert_eq!(
        a.take(&rec("other:1", name, &[("role", json!("baseline"))])),
        Route::Baseline
    );
    // Marked canary, yet the bot --baseline names: neither side's.
    assert!(matches!(
        a.take(&rec("prod:8080", name, &[("role", json!("canary"))])),
        Route::Refused(_)
    ));
    // A garbled role: neither side's.
    for v in [json!("production"), json!(1), Value::Null] {
        assert!(matches!(
            a.take(&rec("canary:8080", name, &[("role", v)])),
            Route::Refused(_)
        ));
    }
}

#[test]
fn without_a_baseline_nothing_is_compared() {
    let a = Against::new(&args(None));
    assert!(!a.active());
}

#[test]
fn counts_must_be_exact() {
    assert_eq!(count(Some(15.0), "n"), Ok(15));
    for bad in [-1.0, 1.5, 1e300, f64::NAN, f64::INFINITY] {
        assert!(count(Some(bad), "n").is_err(), "{bad}");
    }
    assert!(count(None, "n").is_err());
}

/// `buckets` over a record's `buckets` field as it is written: the field
/// read as the signal's fields, then checked.
fn buckets_of(v: &Value) -> Result<Vec<(f64, u64)>, String> {
    let f: canary_core::signal_fields::SignalFields =
        serde_json::from_value(json!({ "buckets": v })).map_err(|e| e.to_string())?;
    buckets(f.buckets.as_deref()).map_err(|e| e.to_string())
}

#[test]
fn buckets_must_be_ascending_cumulative_and_end_at_inf() {
    let ok = json!([[0.1, 3], [0.5, 7], ["+Inf", 9]]);
    assert_eq!(
        buckets_of(&ok),
        Ok(vec![(0.1, 3), (0.5, 7), (f64::INFINITY, 9)])
    );
    for bad in [
        json!([[0.1, 3], [0.5, 2], ["+Inf", 9]]),
        json!([[0.5, 3], [0.1, 7], ["+Inf", 9]]),
        json!([[0.1, 3], [0.5, 7]]),
        json!([[0.1, 3, 1], ["+Inf", 9]]),
        json!([["Inf", 3]]),
        json!([]),
        json!({"0.1": 3}),
    ] {
        assert!(buckets_of(&bad).is_err(), "{bad}");
    }
    let huge: Vec<Value> = (0..2000).map(|i| json!([i, i])).collect();
    assert!(buckets_of(&Value::from(huge)).is_err());
}

#[test]
fn an_unknown_signal_is_no_sample() {
    let spec = spec_of("metrics.order_error_rate").expect("spec");
    let mut r = rec(
        "c:1",
        "metrics.order_error_rate",
        &[("numerator", json!(1)), ("denominator", json!(10))],
    );
    assert_eq!(
        sample_of(spec, &r),
        Ok(Sample::Rate(Counts {
            events: 1,
            trials: 10
        }))
    );
    r.level = Level::Unknown;
    assert!(sample_of(spec, &r).is_err());
}

/// A field of the wrong type anywhere in the signal's fields is no sample,
/// even when the counts themselves read: the record is not what
/// scrape-metrics writes.
#[test]
fn a_mistyped_signal_field_is_no_sample() {
    let spec = spec_of("metrics.order_error_rate").expect("spec");
    for (k, v) in [
        ("numerator", json!("1")),
        ("denominator", json!([10])),
        ("proven_level", json!("fine")),
        ("window_start", json!("yesterday")),
    ] {
        let mut fields = vec![("numerator", json!(1)), ("denominator", json!(10))];
        fields.retain(|(name, _)| *name != k);
        fields.push((k, v));
        let r = rec("c:1", "metrics.order_error_rate", &fields);
        let got = sample_of(spec, &r);
        assert!(matches!(got, Err(SampleError::Fields(_))), "{k}: {got:?}");
    }
}

#[test]
fn the_p95_bound() {
    let b = [(0.1, 50), (0.5, 96), (f64::INFINITY, 100)];
    assert_eq!(p95_ms(&b), Some(500.0));
    assert_eq!(p95_ms(&[(0.1, 0), (f64::INFINITY, 0)]), None);
}

#[test]
fn one_bot_claiming_both_roles_is_caught_whatever_the_record() {
    let mut a = Against::new(&args(None));
    assert_eq!(a.take(&rec("c:1", "health.status", &[])), Route::Canary);
    assert!(!a.active());
    assert_eq!(
        a.take(&rec("c:1", "health.status", &[("role", json!("baseline"))])),
        Route::Baseline
    );
    assert!(a.active());
    assert_eq!(a.both, vec!["c:1".to_owned()]);
}

#[test]
fn unknown_reasons_read_as_before() {
    let ts: Timestamp = "2026-11-26T03:00:00Z".parse().expect("time");
    let record = "metrics.order_error_rate";
    let cases = [
        (
            Unknown::ManyBaselines(vec!["a:1".into(), "b:2".into()]),
            "records of 2 bots are marked baseline (a:1, b:2): which one is production \
             cannot be told; name it with --baseline",
        ),
        (
            Unknown::TooOld {
                side: Role::Baseline,
                record,
                ts,
                max_age: std::time::Duration::from_secs(300),
            },
            "the baseline's newest metrics.order_error_rate (2026-11-26T03:00:00Z) is older \
             than the max age 5m",
        ),
        (
            Unknown::Sample {
                side: Role::Canary,
                record,
                why: SampleError::NotACount {
                    what: "numerator",
                    value: 1.5,
                },
            },
            "the canary's newest metrics.order_error_rate: numerator 1.5 is not an exact count",
        ),
        (
            Unknown::Test(CompareError::Empty("canary")),
            "the canary has nothing to compare (0 trials)",
        ),
    ];
    for (why, text) in cases {
        assert_eq!(why.to_string(), text);
    }
}

#[test]
fn samples_name_what_is_wrong() {
    let spec = spec_of("metrics.order_error_rate").expect("compared");
    let r = rec(
        "c:1",
        "metrics.order_error_rate",
        &[("numerator", json!(2))],
    );
    assert_eq!(
        sample_of(spec, &r),
        Err(SampleError::NoCount {
            what: "denominator"
        })
    );
    let lat = spec_of("metrics.broker_latency_p95").expect("compared");
    let r = rec(
        "c:1",
        "metrics.broker_latency_p95",
        &[("buckets", json!([[0.1, 3], [0.5, 2], ["+Inf", 4]]))],
    );
    assert_eq!(sample_of(lat, &r), Err(SampleError::NotCumulative));
}
