//! The order count within the window, from `metrics.orders` samples of the
//! bot's lifetime counter. A decrease is a restart (the counter starts again
//! at 0), so the new value is all new orders: PromQL's `increase`, and the
//! way `judge` counts the window.

use crate::model::Point;
use jiff::Timestamp;

/// One target's orders since the window started.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderSeries {
    pub target: String,
    /// Orders counted so far at each sample inside the window; `None` where a
    /// sample carried no usable count.
    pub points: Vec<(Timestamp, Option<f64>)>,
    pub count: f64,
    pub resets: u32,
}

/// Count orders per target from `samples` (sorted by time). Samples before
/// `start` only set the baseline; without a baseline the first sample in the
/// window does.
pub fn in_window(samples: &[Point], start: Option<Timestamp>) -> Vec<OrderSeries> {
    let mut out: Vec<OrderSeries> = Vec::new();
    let mut last: Vec<Option<f64>> = Vec::new();
    for p in samples {
        let i = match out.iter().position(|s| s.target == p.series) {
            Some(i) => i,
            None => {
                out.push(OrderSeries {
                    target: p.series.clone(),
                    points: Vec::new(),
                    count: 0.0,
                    resets: 0,
                });
                last.push(None);
                out.len() - 1
            }
        };
        let value = p.value.filter(|v| v.is_finite() && *v >= 0.0);
        let s = &mut out[i];
        if start.is_some_and(|st| p.ts < st) {
            if value.is_some() {
                last[i] = value;
            }
            continue;
        }
        let Some(v) = value else {
            s.points.push((p.ts, None));
            continue;
        };
        if let Some(l) = last[i] {
            if v >= l {
                s.count += v - l;
            } else {
                s.resets += 1;
                s.count += v;
            }
        }
        last[i] = Some(v);
        s.points.push((p.ts, Some(s.count)));
    }
    out.retain(|s| !s.points.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(t: &str, s: i64, v: Option<f64>) -> Point {
        Point {
            series: t.into(),
            ts: Timestamp::from_second(1_800_000_000 + s).expect("ts"),
            value: v,
        }
    }

    #[test]
    fn a_decrease_is_a_restart_like_promql_increase() {
        let samples = [
            p("a", 0, Some(5.0)),
            p("a", 1, Some(8.0)),
            p("a", 2, None),
            p("a", 3, Some(2.0)),
            p("a", 4, Some(4.0)),
        ];
        let s = in_window(&samples, None);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].count, 3.0 + 2.0 + 2.0);
        assert_eq!(s[0].resets, 1);
        let counts: Vec<_> = s[0].points.iter().map(|x| x.1).collect();
        assert_eq!(counts, [Some(0.0), Some(3.0), None, Some(5.0), Some(7.0)]);
    }

    #[test]
    fn samples_before_the_window_are_the_baseline_per_target() {
        let start = Timestamp::from_second(1_800_000_010).ok();
        let samples = [
            p("a", 0, Some(100.0)),
            p("b", 1, Some(7.0)),
            p("a", 20, Some(104.0)),
            p("b", 21, Some(7.0)),
            p("c", 2, Some(1.0)),
        ];
        let s = in_window(&samples, start);
        assert_eq!(s.len(), 2, "c has no sample in the window");
        assert_eq!(s[0].count, 4.0);
        assert_eq!(s[1].count, 0.0);
    }
}
