//! Rounding of the values records carry. A leaf: it uses nothing of the
//! crate, so the signal and PromQL modules can share it.

/// `v` to nine decimals: float noise out of the records, every real digit kept.
pub(crate) fn round9(v: f64) -> f64 {
    (v * 1e9).round() / 1e9
}
