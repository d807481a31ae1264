//! SVG drawing helpers: linear scales, tick positions, and number and time
//! labels. Nothing here sees a string from the log.

use jiff::Timestamp;

/// A linear map from a data interval onto a pixel interval.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub d0: f64,
    pub d1: f64,
    pub p0: f64,
    pub p1: f64,
}

impl Scale {
    pub fn new(d0: f64, d1: f64, p0: f64, p1: f64) -> Scale {
        let d1 = if d1 > d0 { d1 } else { d0 + 1.0 };
        Scale { d0, d1, p0, p1 }
    }

    pub fn at(&self, v: f64) -> f64 {
        self.p0 + (v - self.d0) / (self.d1 - self.d0) * (self.p1 - self.p0)
    }
}

/// A "nice" step (1, 2 or 5 times a power of ten) giving about `n` ticks over `span`.
pub fn nice_step(span: f64, n: usize) -> f64 {
    if !(span.is_finite() && span > 0.0) {
        return 1.0;
    }
    let raw = span / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// Tick values from `lo` to `hi` at a nice step, and the axis top rounded up to a tick.
pub fn ticks(lo: f64, hi: f64, n: usize) -> (Vec<f64>, f64) {
    let step = nice_step(hi - lo, n);
    let start = (lo / step).floor() * step;
    let top = (hi / step).ceil() * step;
    let mut out = Vec::new();
    let mut i = 0u32;
    loop {
        let v = start + f64::from(i) * step;
        if v > top + step * 1e-9 || i > 50 {
            break;
        }
        out.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
        i += 1;
    }
    (out, top.max(start + step))
}

/// A number for a label: at most 4 significant decimals, no trailing zeros.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let v = if v == 0.0 { 0.0 } else { v };
    let s = if v.abs() >= 1000.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// A time label for an axis spanning `span_s` seconds.
pub fn time_label(ts: Timestamp, span_s: f64) -> String {
    let fmt = if span_s > 2.0 * 86400.0 {
        "%m-%d %H:%M"
    } else if span_s > 600.0 {
        "%H:%M"
    } else {
        "%H:%M:%S"
    };
    ts.strftime(fmt).to_string()
}

/// Milliseconds since the epoch, as the x coordinate of a point.
pub fn ms(ts: Timestamp) -> f64 {
    ts.as_millisecond() as f64
}

/// A timestamp from milliseconds since the epoch (clamped to jiff's range).
pub fn from_ms(ms: f64) -> Timestamp {
    Timestamp::from_millisecond(ms as i64).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A pixel coordinate, rounded to a tenth.
pub fn px(v: f64) -> String {
    format!("{:.1}", v)
}

/// Thin a polyline to what a screen can show: per pixel column keep the
/// first, lowest, highest and last point, so spikes survive. Short lines are
/// returned as they are.
pub fn decimate(run: &[(f64, f64)]) -> Vec<(f64, f64)> {
    if run.len() <= 1000 {
        return run.to_vec();
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < run.len() {
        let col = run[i].0.floor();
        let mut j = i;
        while j + 1 < run.len() && run[j + 1].0.floor() == col {
            j += 1;
        }
        let bucket = &run[i..=j];
        let lo = (0..bucket.len()).fold(0, |m, k| if bucket[k].1 < bucket[m].1 { k } else { m });
        let hi = (0..bucket.len()).fold(0, |m, k| if bucket[k].1 > bucket[m].1 { k } else { m });
        let mut keep = [0, lo, hi, bucket.len() - 1];
        keep.sort_unstable();
        let mut prev = usize::MAX;
        for k in keep {
            if k != prev {
                out.push(bucket[k]);
                prev = k;
            }
        }
        i = j + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn decimation_keeps_spikes_and_ends() {
        let run: Vec<(f64, f64)> = (0..10_000)
            .map(|i| (f64::from(i) / 100.0, if i == 5_555 { 99.0 } else { 1.0 }))
            .collect();
        let out = decimate(&run);
        assert!(out.len() <= 400, "{}", out.len());
        assert!(out.contains(&(55.55, 99.0)));
        assert_eq!(out.first(), run.first());
        assert_eq!(out.last(), run.last());
    }

    use super::*;

    #[test]
    fn ticks_cover_the_range_at_nice_steps() {
        let (t, top) = ticks(0.0, 0.15, 5);
        assert_eq!(t.first(), Some(&0.0));
        assert!((0.15..=0.2).contains(&top), "{top}");
        let (t, top) = ticks(0.0, 3300.0, 5);
        assert_eq!(top, 4000.0);
        assert_eq!(t.len(), 5);
        assert_eq!(nice_step(0.0, 5), 1.0);
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(num(0.05), "0.05");
        assert_eq!(num(3000.0), "3000");
        assert_eq!(num(-0.0), "0");
        assert_eq!(num(236.136363), "236.14");
        assert_eq!(num(f64::NAN), "–");
    }

    #[test]
    fn scale_maps_ends_and_survives_empty_ranges() {
        let s = Scale::new(0.0, 10.0, 100.0, 0.0);
        assert_eq!(s.at(0.0), 100.0);
        assert_eq!(s.at(10.0), 0.0);
        let flat = Scale::new(5.0, 5.0, 0.0, 10.0);
        assert!(flat.at(5.0).is_finite());
    }
}
