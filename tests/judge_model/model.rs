//! The abstract stream: what each producer said, round by round, before it
//! is rendered as records. The oracle reads this, never the records.

/// 2026-11-26T00:00:00Z, the clock every generated stream runs on.
pub const T0: i64 = 1_795_651_200;
/// The producers run every minute (`--probe-interval 60s`).
pub const ROUND_S: i64 = 60;
/// Evidence older than this is stale (3 x the probe interval).
pub const MAX_AGE_S: i64 = 3 * ROUND_S;
/// scrape-metrics runs this long after probe-health in a round.
pub const METRICS_LAG_S: i64 = 15;
/// How far before the window a stale record is dated.
pub const STALE_BY_S: i64 = 3 * 3600;
/// How far after the moment judged a future-dated record is dated.
pub const FUTURE_BY_S: i64 = 24 * 3600;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    A,
    B,
}

impl Phase {
    pub fn arg(self) -> &'static str {
        match self {
            Phase::A => "a",
            Phase::B => "b",
        }
    }
    /// (`--min-duration` in seconds, `--min-orders`), shortened so that a
    /// window completes within a few dozen rounds.
    pub fn window(self) -> (i64, u64) {
        match self {
            Phase::A => (6 * 60, 10),
            Phase::B => (9 * 60, 50),
        }
    }
    /// `--min-evidence` in seconds: however many orders, Phase B is never
    /// complete before this much window (shortened from 1 h as the window is).
    pub fn evidence_floor(self) -> i64 {
        match self {
            Phase::A => 0,
            Phase::B => 7 * 60,
        }
    }
    /// The error rate the window's orders must be proven below: Phase A
    /// CRIT (15 %), Phase B WARN (5 %).
    pub fn error_line(self) -> f64 {
        match self {
            Phase::A => 0.15,
            Phase::B => 0.05,
        }
    }
}

/// The failed orders among a bot's lifetime `orders` (one in a hundred),
/// as the `by_result` of its metrics.orders sample says.
pub fn failed_of(orders: u64) -> u64 {
    orders / 100
}

/// What one record of one criterion says in one round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ev {
    Ok,
    Warn,
    Crit,
    /// The producer could not tell (level unknown, value null).
    Unknown,
    /// A negative or NaN value where a count, rate or age belongs: the
    /// producer reports it as unknown, with the bad value.
    Bad,
    /// No record at all this round.
    Missing,
    /// A CRIT record dated hours before the window, arriving late.
    Stale,
    /// A CRIT record dated a day after the moment judged.
    Future,
}

/// The probe-health rows of one round, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Row {
    Status,
    Broker,
    WsConnected,
    WsStale,
    WsStaleness,
    GlobalPaused,
    ReduceOnly,
    CheckTicker,
    SignalErrorRate,
    SignalGuardTrips,
}

pub const ROWS: [Row; 10] = [
    Row::Status,
    Row::Broker,
    Row::WsConnected,
    Row::WsStale,
    Row::WsStaleness,
    Row::GlobalPaused,
    Row::ReduceOnly,
    Row::CheckTicker,
    Row::SignalErrorRate,
    Row::SignalGuardTrips,
];

/// The scrape-metrics signals of one round, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sig {
    ErrorRate,
    RetryRate,
    P95,
    GuardTrips,
}

pub const SIGS: [Sig; 4] = [Sig::ErrorRate, Sig::RetryRate, Sig::P95, Sig::GuardTrips];

/// `metrics.guard_trips`'s `nonrecoverable` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NonRec {
    Zero,
    Some,
    Null,
    Absent,
    Negative,
}

/// One lifetime counter as a scrape reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    Val(u64),
    Unknown,
    Missing,
    /// The value, dated hours before the window.
    Stale(u64),
    /// The value, dated a day after the moment judged.
    Future(u64),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Metrics {
    pub sig: [Ev; 4],
    pub nonrec: NonRec,
    pub orders: Count,
    pub trips: Count,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Round {
    /// When probe-health ran (scrape-metrics runs METRICS_LAG_S later).
    pub t: i64,
    /// None: probe-health got no answer (a `health.fetch` error).
    pub health: Option<[Ev; 10]>,
    /// None: scrape-metrics got no answer (a `metrics.fetch` error).
    pub metrics: Option<Metrics>,
    /// A process manager's `process.restart` record, dated `t`: the bot
    /// restarted since the previous round.
    pub restarted: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Bot {
    pub rounds: Vec<Round>,
}

/// One canary: one or several bots judged together.
#[derive(Clone, Debug, PartialEq)]
pub struct Stream {
    pub bots: Vec<Bot>,
}

/// Config evidence: check-profile's or check-risk-env's records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cfg {
    Absent,
    Ok,
    Crit,
    Unknown,
}

/// What every stream of one judge invocation shares.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub phase: Phase,
    pub at: i64,
    pub since: Option<i64>,
    pub profile: Cfg,
    pub risk: Cfg,
    /// Unreadable lines in the input.
    pub malformed: usize,
    /// Judged live (no --at: the stream is dated relative to the real clock
    /// when judge runs), where a future-dated record holds; otherwise
    /// replayed with --at, where a record after --at has not happened yet.
    pub live: bool,
}

/// Many streams judged by one judge process, each bot on its own address.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub setting: Setting,
    pub streams: Vec<Stream>,
}
