//! A seeded generator of abstract streams: mostly healthy canaries, with
//! evidence that goes bad in every way the issue lists, so that the
//! interesting decisions (advance, promote) come up often enough to matter.

use super::model::*;

/// splitmix64: small, seedable, the same on every machine.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// 0..n
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// The moment every batch is judged at.
pub const AT: i64 = T0 + 2 * 3600;

/// judge refuses bots past its bound of 64 distinct addresses.
pub const MAX_BOTS: usize = 60;

/// One judge invocation's worth of streams, at most MAX_BOTS bots.
pub fn batch(rng: &mut Rng, streams: usize) -> Batch {
    let phase = rng.pick(&[Phase::A, Phase::B]);
    let cfg = |rng: &mut Rng| {
        if rng.chance(0.7) {
            Cfg::Ok
        } else {
            rng.pick(&[Cfg::Absent, Cfg::Crit, Cfg::Unknown])
        }
    };
    let (profile, risk, malformed) = if rng.chance(0.15) {
        (cfg(rng), cfg(rng), rng.below(3) as usize)
    } else {
        (Cfg::Absent, Cfg::Absent, 0)
    };
    // A window reset part-way: rounds before --since are not evidence.
    let since = rng
        .chance(0.25)
        .then(|| AT - 20 - ROUND_S * rng.below(14) as i64 - 5);
    let live = rng.chance(0.2);
    let setting = Setting {
        phase,
        at: AT,
        since,
        profile,
        risk,
        malformed,
        live,
    };
    // Batches whose setting holds or stops everything stay small.
    let n = if malformed > 0 || profile != Cfg::Absent || risk != Cfg::Absent {
        streams.min(4)
    } else {
        streams
    };
    let mut out: Vec<Stream> = Vec::new();
    let mut bots = 0;
    while out.len() < n {
        let s = stream(rng, phase);
        if bots + s.bots.len() > MAX_BOTS {
            break;
        }
        bots += s.bots.len();
        out.push(s);
    }
    Batch {
        streams: out,
        setting,
    }
}

fn stream(rng: &mut Rng, phase: Phase) -> Stream {
    let n = if rng.chance(0.75) {
        1
    } else {
        2 + rng.below(2) as usize
    };
    Stream {
        bots: (0..n).map(|_| bot(rng, phase)).collect(),
    }
}

/// How noisy one bot's evidence is: most canaries are clean.
fn noise(rng: &mut Rng) -> f64 {
    rng.pick(&[0.0, 0.0, 0.0, 0.003, 0.01, 0.03, 0.1])
}

fn bot(rng: &mut Rng, phase: Phase) -> Bot {
    let (min_s, _) = phase.window();
    let full = (min_s / ROUND_S) as u64 + 2;
    let rounds = 1 + rng.below(full + 5) as usize;
    // The newest round ends 20 s before the moment judged, or, for a dead
    // producer, minutes before.
    let last = if rng.chance(0.05) {
        AT - 20 - ROUND_S * (4 + rng.below(6) as i64)
    } else {
        AT - 20
    };
    let p = noise(rng);
    let orders_per_round = rng.pick(&[0u64, 1, 1, 2, 5]);
    let mut orders = rng.below(100);
    let mut trips = if rng.chance(0.5) { 0 } else { 1 + rng.below(4) };
    let restart_at = rng.chance(0.12).then(|| rng.below(rounds as u64) as usize);
    let glitch_at = rng.chance(0.12).then(|| rng.below(rounds as u64) as usize);
    let replicas_at = rng.chance(0.05).then(|| rng.below(rounds as u64) as usize);
    let gap_at = rng.chance(0.1).then(|| rng.below(rounds as u64) as usize);
    let gap_len = 2 + rng.below(4) as usize;
    // A sustained CRIT or unknown stretch on one criterion.
    let stretch = rng.chance(0.15).then(|| {
        let at = rng.below(rounds as u64) as usize;
        let len = 1 + rng.below(4) as usize;
        let what = rng.below(ROWS.len() as u64 + SIGS.len() as u64) as usize;
        let ev = rng.pick(&[Ev::Crit, Ev::Crit, Ev::Unknown, Ev::Warn]);
        (at, len, what, ev)
    });
    let mut last_reported = orders;
    let mut out = Vec::with_capacity(rounds);
    for k in 0..rounds {
        let t = last - ROUND_S * (rounds - 1 - k) as i64;
        let in_gap = gap_at.is_some_and(|g| k >= g && k < g + gap_len && k > 0);
        let stretched = |i: usize| match stretch {
            Some((at, len, what, ev)) if what == i && k >= at && k < at + len => Some(ev),
            _ => None,
        };
        let mut health = [Ev::Ok; 10];
        for (i, row) in ROWS.iter().enumerate() {
            health[i] = stretched(i).unwrap_or_else(|| row_ev(rng, *row, p));
        }
        // The bot's first line is always a dated health.status: the window
        // start is then never a question of which record came first.
        if k == 0 && matches!(health[0], Ev::Missing | Ev::Stale | Ev::Future) {
            health[0] = Ev::Ok;
        }
        let health = (k == 0 || !(in_gap || rng.chance(p / 2.0))).then_some(health);

        // Counters: the truth, then what the scrape reports.
        orders += rng.below(orders_per_round * 2 + 1);
        if stretched(ROWS.len() + 3) == Some(Ev::Crit) || rng.chance(p / 4.0) {
            trips += 1;
        }
        if restart_at == Some(k) && k > 0 {
            orders = rng.below(3);
            trips = 0;
        }
        let mut reported = orders;
        // A glitch: one scrape reads one less than the last (60, 59, 60).
        if glitch_at == Some(k) && k > 0 && last_reported > 0 {
            reported = last_reported - 1;
        }
        if let Some(r) = replicas_at
            && k >= r
            && k < r + 5
            && (k - r) % 2 == 1
        {
            reported = orders / 2;
        }
        last_reported = reported;
        let mut sig = [Ev::Ok; 4];
        for (i, s) in SIGS.iter().enumerate() {
            sig[i] = stretched(ROWS.len() + i).unwrap_or_else(|| sig_ev(rng, *s, p));
        }
        let nonrec = if rng.chance(p) {
            rng.pick(&[NonRec::Some, NonRec::Null, NonRec::Absent, NonRec::Negative])
        } else {
            NonRec::Zero
        };
        let metrics = Metrics {
            sig,
            nonrec,
            orders: count(rng, reported, p),
            trips: count(rng, trips, p),
        };
        let metrics = (!(in_gap || rng.chance(p / 2.0))).then_some(metrics);
        // The process manager records most real restarts, and now and then
        // one that explains nothing.
        let restarted = if restart_at == Some(k) && k > 0 {
            rng.chance(0.5)
        } else {
            k > 0 && rng.chance(0.01)
        };
        out.push(Round {
            t,
            health,
            metrics,
            restarted,
        });
    }
    Bot { rounds: out }
}

fn bad(rng: &mut Rng, p: f64, states: &[Ev]) -> Ev {
    if rng.chance(p) {
        rng.pick(states)
    } else {
        Ev::Ok
    }
}

fn row_ev(rng: &mut Rng, row: Row, p: f64) -> Ev {
    use Ev::*;
    match row {
        Row::Status | Row::CheckTicker | Row::SignalErrorRate => {
            bad(rng, p, &[Warn, Warn, Crit, Unknown, Missing, Stale, Future])
        }
        Row::WsStaleness => bad(rng, p, &[Warn, Crit, Unknown, Bad, Missing, Stale, Future]),
        Row::SignalGuardTrips => bad(rng, p, &[Warn, Crit, Missing]),
        _ => bad(rng, p, &[Crit, Unknown, Missing, Stale, Future]),
    }
}

fn sig_ev(rng: &mut Rng, _sig: Sig, p: f64) -> Ev {
    use Ev::*;
    bad(
        rng,
        p,
        &[Warn, Warn, Crit, Unknown, Bad, Missing, Stale, Future],
    )
}

fn count(rng: &mut Rng, v: u64, p: f64) -> Count {
    if rng.chance(p / 2.0) {
        rng.pick(&[
            Count::Unknown,
            Count::Missing,
            Count::Stale(v),
            Count::Future(v),
        ])
    } else {
        Count::Val(v)
    }
}

/// Smaller versions of a stream that may still show the same disagreement:
/// fewer bots, fewer rounds, fewer oddities.
pub fn shrink(s: &Stream) -> Vec<Stream> {
    let mut out = Vec::new();
    if s.bots.len() > 1 {
        for i in 0..s.bots.len() {
            let mut t = s.clone();
            t.bots.remove(i);
            out.push(t);
        }
    }
    for (b, bot) in s.bots.iter().enumerate() {
        let n = bot.rounds.len();
        // Drop the oldest rounds (halves first), then single rounds.
        for cut in [n / 2, 1] {
            if cut > 0 && cut < n {
                let mut t = s.clone();
                t.bots[b].rounds.drain(..cut);
                out.push(t);
            }
        }
        for k in 0..n {
            if n > 1 {
                let mut t = s.clone();
                t.bots[b].rounds.remove(k);
                out.push(t);
            }
        }
        // Make one oddity ordinary.
        for (k, r) in bot.rounds.iter().enumerate() {
            if let Some(h) = &r.health {
                for i in 0..h.len() {
                    if h[i] != Ev::Ok {
                        let mut t = s.clone();
                        if let Some(h) = t.bots[b].rounds[k].health.as_mut() {
                            h[i] = Ev::Ok;
                        }
                        out.push(t);
                    }
                }
            }
            if r.restarted {
                let mut t = s.clone();
                t.bots[b].rounds[k].restarted = false;
                out.push(t);
            }
            if let Some(m) = &r.metrics {
                let mut plain = m.clone();
                plain.sig = [Ev::Ok; 4];
                plain.nonrec = NonRec::Zero;
                for c in [&mut plain.orders, &mut plain.trips] {
                    if let Count::Stale(v) | Count::Future(v) = *c {
                        *c = Count::Val(v);
                    }
                }
                if plain != *m {
                    let mut t = s.clone();
                    t.bots[b].rounds[k].metrics = Some(plain);
                    out.push(t);
                }
            }
        }
    }
    out
}

/// Smaller settings: no config, no malformed line, no --since.
pub fn shrink_setting(s: &Setting) -> Vec<Setting> {
    let mut out = Vec::new();
    if s.malformed > 0 {
        out.push(Setting {
            malformed: 0,
            ..s.clone()
        });
    }
    if s.profile != Cfg::Absent {
        out.push(Setting {
            profile: Cfg::Absent,
            ..s.clone()
        });
    }
    if s.risk != Cfg::Absent {
        out.push(Setting {
            risk: Cfg::Absent,
            ..s.clone()
        });
    }
    if s.since.is_some() {
        out.push(Setting {
            since: None,
            ..s.clone()
        });
    }
    out
}
