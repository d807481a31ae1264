#![doc = include_str!("../FORMAT.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod capped;
pub mod catalogue;
pub mod compare;
pub(crate) mod decision;
pub mod duration;
pub mod exit;
pub mod http;
pub mod human;
pub mod lenient;
pub(crate) mod level;
pub mod ndjson;
pub mod notification;
pub(crate) mod payload;
pub mod phase;
pub mod record;
pub mod role;
pub mod rounds;
pub mod side;
pub mod signal_fields;
pub mod signals;
pub mod stats;
pub mod step;
pub mod thresholds;
pub mod verdict;

pub use decision::Decision;
pub use exit::{Exit, diag, parse_cli, run_main};
pub use level::Level;
pub use phase::Phase;
pub use record::{Kind, Record, Thresholds};
