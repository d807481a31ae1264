//! The published power curve of judge's comparison against production
//! (docs/benchmarks.md): `scripts/baseline-power [WINDOWS] [SEED]`.

use judge::baseline::power::{Bot, exact, simulate};

fn main() {
    let mut args = std::env::args().skip(1);
    let windows: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let production = Bot {
        orders: 1000,
        rate: 0.05,
    };
    let rates = [0.05, 0.075, 0.10, 0.15, 0.20];
    let mut out = String::new();
    out.push_str(&format!(
        "Production 5 % over 1,000 orders; {windows} seeded windows per cell (seed {seed}); \
         flagged worse (holds) %, exact in brackets; rolls back % after the slash\n\n"
    ));
    out.push_str("| canary orders |");
    for r in rates {
        out.push_str(&format!(" canary {} % |", r * 100.0));
    }
    out.push_str("\n|---|");
    for _ in rates {
        out.push_str("---|");
    }
    out.push('\n');
    for (i, n) in [50u64, 100, 200].into_iter().enumerate() {
        out.push_str(&format!("| {n} |"));
        for (j, r) in rates.into_iter().enumerate() {
            let canary = Bot { orders: n, rate: r };
            let cell_seed = seed.wrapping_mul(1000).wrapping_add((i * 10 + j) as u64);
            let s = simulate(canary, production, windows, cell_seed);
            let e = exact(canary, production);
            out.push_str(&format!(
                " {:.1} ({:.1}) / {:.1} |",
                s.worse * 100.0,
                e.worse * 100.0,
                s.rollback * 100.0
            ));
        }
        out.push('\n');
    }
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
}
