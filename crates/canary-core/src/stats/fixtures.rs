//! The bounds against values computed once, independently, by
//! scripts/clopper-pearson-fixtures (mpmath at 60 digits, summing exact
//! binomial terms: no incomplete beta function involved).

use super::Confidence;
use super::binomial::{lower, upper};

const TABLE: &str = include_str!("clopper_pearson.csv");

#[test]
fn bounds_match_the_independent_fixtures() {
    let mut rows = 0;
    for line in TABLE.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let k: u64 = f[0].parse().expect("test value");
        let n: u64 = f[1].parse().expect("test value");
        let c = Confidence::new(f[2].parse().expect("test value")).expect("test value");
        let (lo, hi): (f64, f64) = (
            f[3].parse().expect("test value"),
            f[4].parse().expect("test value"),
        );
        let (got_lo, got_hi) = (lower(k, n, c), upper(k, n, c));
        assert!(
            (got_lo - lo).abs() <= 1e-12 + 1e-10 * lo,
            "{line}: lower {got_lo}"
        );
        assert!(
            (got_hi - hi).abs() <= 1e-12 + 1e-10 * hi,
            "{line}: upper {got_hi}"
        );
        rows += 1;
    }
    assert_eq!(rows, 48);
}
