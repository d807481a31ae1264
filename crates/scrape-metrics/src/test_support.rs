//! Fixtures the unit tests share.

use crate::histogram::BucketMode;
use crate::signals::{Ctx, Source};

/// A direct scrape of target `t`, with every option at its default.
pub(crate) fn ctx() -> Ctx<'static> {
    Ctx {
        tool: crate::tool::TOOL,
        target: "t",
        source: Source::Direct,
        buckets: BucketMode::Auto,
        confidence: canary_core::stats::Confidence::default(),
        counts: crate::proof::Counts::Exact,
    }
}
