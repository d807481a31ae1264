use super::*;

/// Relative agreement, with an absolute floor for values near 0.
fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs().max(1e-300) || (got - want).abs() < 1e-15
}

fn nums(s: &str) -> Vec<f64> {
    s.split_whitespace()
        .map(|x| x.parse().expect("a number"))
        .collect()
}

fn counts(s: &str) -> (Counts, Counts) {
    let v: Vec<u64> = s
        .split_whitespace()
        .map(|x| x.parse().expect("a count"))
        .collect();
    (
        Counts {
            events: v[0],
            trials: v[1],
        },
        Counts {
            events: v[2],
            trials: v[3],
        },
    )
}

fn list(s: &str) -> Vec<u64> {
    s.split(',').map(|x| x.parse().expect("a count")).collect()
}

/// Every row of the fixtures computed once by scripts/compare-fixtures.py
/// (exact rational sums and brute-force ranks in Python's standard library).
#[test]
fn agrees_with_the_independent_fixtures() {
    let text = include_str!("fixtures.tsv");
    let mut seen = [0usize; 3];
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let cols: Vec<&str> = line.split('\t').collect();
        let want = nums(cols[2]);
        match cols[0] {
            "fisher" | "poisson" => {
                let (c, b) = counts(cols[1]);
                let t = if cols[0] == "fisher" {
                    seen[0] += 1;
                    fisher(c, b)
                } else {
                    seen[1] += 1;
                    poisson_rates(c, b)
                }
                .expect("comparable");
                assert!(
                    close(t.p_worse, want[0], 1e-9),
                    "{line}: p_worse {}",
                    t.p_worse
                );
                assert!(
                    close(t.p_better, want[1], 1e-9),
                    "{line}: p_better {}",
                    t.p_better
                );
            }
            "mwu" => {
                seen[2] += 1;
                let (c, b) = cols[1].split_once(' ').expect("two lists");
                let t = mann_whitney(&list(c), &list(b)).expect("comparable");
                assert!(close(t.u, want[0], 1e-12), "{line}: U {}", t.u);
                assert!((t.cliffs_delta - want[1]).abs() < 1e-12, "{line}");
                // The erfc fit is good to 1.2e-7 (relative).
                assert!(close(t.p_worse, want[2], 2e-7), "{line}: {}", t.p_worse);
                assert!(close(t.p_better, want[3], 2e-7), "{line}: {}", t.p_better);
            }
            other => panic!("unknown fixture {other}"),
        }
    }
    assert_eq!(seen, [12, 6, 5], "every fixture row was checked");
}

/// Fisher's lady tasting tea: 8 cups, 4 with milk first; she names 3 of
/// them right: p = 17/70; all 4: p = 1/70 (Fisher, The Design of
/// Experiments, 1935).
#[test]
fn lady_tasting_tea() {
    let right = |k| Counts {
        events: k,
        trials: 4,
    };
    let t = fisher(right(3), right(1)).expect("comparable");
    assert!(close(t.p_worse, 17.0 / 70.0, 1e-12), "{}", t.p_worse);
    let t = fisher(right(4), right(0)).expect("comparable");
    assert!(close(t.p_worse, 1.0 / 70.0, 1e-12), "{}", t.p_worse);
    assert_eq!(t.ratio, None, "no ratio over a zero baseline");
}

#[test]
fn a_regression_at_the_statistical_limit() {
    // Production 5 % over 1,000 orders; the canary 6 errors in 50 is
    // significant at 5 %, 5 errors is not.
    let prod = Counts {
        events: 50,
        trials: 1000,
    };
    let six = fisher(
        Counts {
            events: 6,
            trials: 50,
        },
        prod,
    )
    .expect("comparable");
    let five = fisher(
        Counts {
            events: 5,
            trials: 50,
        },
        prod,
    )
    .expect("comparable");
    assert!(six.p_worse < 0.05 && five.p_worse > 0.05);
    assert!((six.difference - 0.07).abs() < 1e-12);
    assert!(six.ratio.is_some_and(|r| (r - 2.4).abs() < 1e-12));
}

#[test]
fn a_tail_far_from_the_mode_never_underflows_to_zero() {
    // pmf(0) underflows; the canary is far better, never "worse" with p 0.
    let c = Counts {
        events: 0,
        trials: 100_000,
    };
    let b = Counts {
        events: 50_000,
        trials: 100_000,
    };
    let t = fisher(c, b).expect("comparable");
    assert_eq!(t.p_worse, 1.0);
    assert!(t.p_better < 1e-300);
    let t = fisher(b, c).expect("comparable");
    assert!(t.p_worse < 1e-300);
    assert_eq!(t.p_better, 1.0);
    let t = poisson_rates(b, c).expect("comparable");
    assert!(t.p_worse < 1e-300 && t.p_better == 1.0);
}

#[test]
fn impossible_counts_are_refused_not_compared() {
    let ok = Counts {
        events: 1,
        trials: 10,
    };
    let empty = Counts {
        events: 0,
        trials: 0,
    };
    let over = Counts {
        events: 11,
        trials: 10,
    };
    let huge = Counts {
        events: 1,
        trials: MAX_COUNT + 1,
    };
    assert_eq!(fisher(empty, ok), Err(CompareError::Empty("canary")));
    assert_eq!(fisher(ok, empty), Err(CompareError::Empty("baseline")));
    assert_eq!(fisher(over, ok), Err(CompareError::Inconsistent("canary")));
    assert_eq!(fisher(ok, huge), Err(CompareError::Huge));
    // Retries may exceed orders: a rate, not a proportion.
    assert!(poisson_rates(over, ok).is_ok());
    assert_eq!(mann_whitney(&[1, 2], &[1, 2, 3]), Err(CompareError::Bounds));
    assert_eq!(
        mann_whitney(&[0, 0], &[1, 2]),
        Err(CompareError::Empty("canary"))
    );
    assert_eq!(
        mann_whitney(&[u64::MAX, 1], &[1, 2]),
        Err(CompareError::Huge)
    );
}

#[test]
fn one_bucket_orders_nothing() {
    let t = mann_whitney(&[0, 50, 0], &[0, 500, 0]).expect("comparable");
    assert_eq!((t.p_worse, t.p_better, t.cliffs_delta), (1.0, 1.0, 0.0));
}

#[test]
fn decumulate_refuses_a_falling_count() {
    assert_eq!(decumulate(&[1, 3, 3, 7]), Some(vec![1, 2, 0, 4]));
    assert_eq!(decumulate(&[1, 3, 2]), None);
}

#[test]
fn the_normal_tail() {
    // Φ(-1.959964) = 0.025; Φ(0) = 0.5; Φ(3) upper tail 0.0013499.
    assert!(close(upper_normal(1.959_963_984_540_054), 0.025, 2e-7));
    assert!(close(upper_normal(0.0), 0.5, 2e-7));
    assert!(close(upper_normal(3.0), 0.001_349_898_031_630_094_6, 2e-7));
    assert!(close(
        upper_normal(-3.0),
        1.0 - 0.001_349_898_031_630_094_6,
        2e-7
    ));
}
