//! judge's side records: what judge writes beside its verdicts that is
//! never a verdict to act on. One list, read by every consumer that acts on
//! or reports verdicts (rollback, notify), so a new kind of side record is
//! passed over by all of them or by none.
//!
//! A side record is matched on its tool, kind and name together: a record
//! that only borrows the name (another tool, or kind `verdict`) is not a
//! side record, and the consumer refuses it as it refuses any record that
//! is not a verdict.

use crate::{Kind, Record};

/// The tool that writes verdicts and their side records.
pub const JUDGE: &str = "judge";

/// One kind of side record, and why it is never acted on.
#[derive(Debug, Clone, Copy)]
pub struct Side {
    /// The record's `kind`.
    pub kind: Kind,
    /// The record's `name`.
    pub name: &'static str,
    /// Why passing over it loses nothing.
    pub why: &'static str,
}

/// Every side record judge writes.
pub const SIDE_RECORDS: [Side; 2] = [
    Side {
        kind: Kind::Check,
        name: "judge.comparison",
        why: "a comparison with production precedes the verdict and is already \
              folded into it (a hold or a rollback reason)",
    },
    Side {
        kind: Kind::Sample,
        name: "judge.transition",
        why: "a replay's moment of change (--transitions) is history for a \
              post-mortem; the final verdict after it is what decides",
    },
];

/// The side record `rec` is, if it is one: judge's, with a listed kind and
/// name.
pub fn side(rec: &Record) -> Option<&'static Side> {
    if rec.tool != JUDGE {
        return None;
    }
    SIDE_RECORDS
        .iter()
        .find(|s| s.kind == rec.kind && s.name == rec.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Level;
    use crate::catalogue::lookup;

    /// Each side record is in the catalogue as judge's, with the same kind.
    #[test]
    fn every_side_record_is_catalogued_as_judges() {
        for s in SIDE_RECORDS {
            let spec = lookup(s.name).expect("catalogued");
            assert_eq!(spec.tool, JUDGE, "{}", s.name);
            assert_eq!(spec.kind, s.kind, "{}", s.name);
        }
    }

    /// Tool, kind and name must all match: a borrowed name is no side record.
    #[test]
    fn only_judges_record_of_the_listed_kind_is_a_side_record() {
        let rec =
            |tool: &str, kind: Kind, name: &str| Record::new(tool, "t", kind, name, Level::Ok);
        assert!(side(&rec(JUDGE, Kind::Sample, "judge.transition")).is_some());
        assert!(side(&rec(JUDGE, Kind::Check, "judge.comparison")).is_some());
        assert!(side(&rec(JUDGE, Kind::Verdict, "judge.transition")).is_none());
        assert!(side(&rec("probe-health", Kind::Sample, "judge.transition")).is_none());
        assert!(side(&rec(JUDGE, Kind::Verdict, "judge.verdict")).is_none());
    }
}
