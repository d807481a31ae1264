//! `--with-docs`: a human table of every variable, standing in for the
//! bot's removed `agent-risk --with-docs`.

use crate::evaluate::Reading;
use std::io::Write;

/// Write the table: name, default, parse rule, effective value, source, meaning.
pub fn table(out: &mut impl Write, readings: &[Reading]) -> std::io::Result<()> {
    let rows: Vec<[String; 6]> = readings
        .iter()
        .map(|r| {
            let effective = match &r.result {
                Ok(p) => p.json().to_string(),
                Err(e) => format!("ERROR: {e}"),
            };
            [
                r.var.name.to_owned(),
                r.var.default.to_owned(),
                r.var.parse.rule().to_owned(),
                effective,
                r.source().to_owned(),
                r.var.meaning.to_owned(),
            ]
        })
        .collect();
    let header = [
        "VARIABLE",
        "DEFAULT",
        "PARSE",
        "EFFECTIVE",
        "SOURCE",
        "MEANING",
    ];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: &[&str]| -> std::io::Result<()> {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        writeln!(out, "{}", s.trim_end())
    };
    line(out, &header)?;
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        line(out, &cells)?;
    }
    writeln!(
        out,
        "\nRiskConfig.from_env() reads these top to bottom and stops at the first bad value. \
The running bot ignores them (it builds its RiskConfig from the profile), but \
gpt-trader run still crashes at start on a malformed RISK_MAX_LEVERAGE, \
RISK_MAX_POSITION_PCT_PER_SYMBOL, RISK_DAILY_LOSS_LIMIT_PCT or RISK_REDUCE_ONLY_MODE."
    )
}
