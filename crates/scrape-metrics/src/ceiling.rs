//! The order-rate ceiling (docs/money.md#order-rate): `--max-orders-per-minute`,
//! else what the canary's profile lets the bot submit (one order per symbol
//! per cycle: symbols × 60 / interval a minute) times a margin, else the
//! documented constant.

use check_profile::schema::Field;
use std::path::Path;

/// How far above the profile's own pace the ceiling sits: a busy strategy
/// stays under it, a loop submitting without pause does not.
pub const MARGIN: f64 = 10.0;

/// The ceiling and where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Ceiling {
    pub per_minute: f64,
    pub source: String,
}

/// Why the profile gives no pace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PaceError {
    #[error("trading.symbols is not a non-empty list")]
    Symbols,
    #[error("trading.interval is not a positive number of seconds")]
    Interval,
}

/// The bot's pace from its effective profile fields: (symbols, interval s).
pub fn pace(fields: &[Field]) -> Result<(usize, f64), PaceError> {
    let get = |k: &str| fields.iter().find(|f| f.key == k);
    let symbols = get("trading.symbols")
        .and_then(|f| f.value.as_array())
        .map(Vec::len)
        .filter(|n| *n > 0)
        .ok_or(PaceError::Symbols)?;
    let interval = get("trading.interval")
        .and_then(|f| f.number.or_else(|| f.value.as_f64()))
        .filter(|i| i.is_finite() && *i > 0.0)
        .ok_or(PaceError::Interval)?;
    Ok((symbols, interval))
}

/// The ceiling for this run.
pub fn resolve(flag: Option<f64>, profile: Option<&Path>, default: f64) -> anyhow::Result<Ceiling> {
    if let Some(per_minute) = flag {
        return Ok(Ceiling {
            per_minute,
            source: "--max-orders-per-minute".into(),
        });
    }
    let Some(path) = profile else {
        return Ok(Ceiling {
            per_minute: default,
            source: "default".into(),
        });
    };
    let shown = path.display();
    let text = check_profile::load::read_text(path)
        .map_err(|e| anyhow::anyhow!("--profile {shown}: {e}"))?;
    let loaded = check_profile::load::load(&text, &check_profile::load::profile_name(path))
        .map_err(|e| anyhow::anyhow!("--profile {shown}: {e}"))?;
    let (symbols, interval) = pace(&loaded.effective()).map_err(|why| {
        anyhow::anyhow!(
            "--profile {shown}: {why}: no order-rate ceiling; pass --max-orders-per-minute"
        )
    })?;
    let per_minute = symbols as f64 * 60.0 / interval * MARGIN;
    Ok(Ceiling {
        per_minute,
        source: format!("profile {shown}: {symbols} symbol(s) every {interval} s, x {MARGIN}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profiles_pace_times_the_margin() {
        let dir = std::env::temp_dir().join(format!("ceiling-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let p = dir.join("canary.yaml");
        std::fs::write(
            &p,
            "trading:\n  symbols: [BTC-USD, ETH-USD]\n  interval: 30\n",
        )
        .expect("profile");
        let c = resolve(None, Some(&p), 1800.0).expect("ceiling");
        assert_eq!(c.per_minute, 2.0 * 2.0 * MARGIN);
        assert!(c.source.contains("2 symbol(s) every 30 s"), "{}", c.source);
        // The flag wins; without either, the constant.
        assert_eq!(
            resolve(Some(5.0), Some(&p), 1800.0)
                .expect("flag")
                .per_minute,
            5.0
        );
        assert_eq!(
            resolve(None, None, 1800.0).expect("default").source,
            "default"
        );
        std::fs::write(&p, "trading:\n  interval: 0\n").expect("profile");
        let err = resolve(None, Some(&p), 1800.0).expect_err("no pace");
        assert!(
            err.to_string().ends_with(
                ": trading.interval is not a positive number of seconds: no order-rate ceiling; \
                 pass --max-orders-per-minute"
            ),
            "{err}"
        );
        assert!(resolve(None, Some(&dir.join("absent.yaml")), 1800.0).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
