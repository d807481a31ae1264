//! Which bot a record is about. Producers name targets differently for the
//! same bot (`http://h:8080` for /health, `http://h:8080/metrics` for
//! /metrics, `h:8080` for a Prometheus instance), so judge groups records by
//! host and port. Targets that are not network addresses (a profile path,
//! `env`, a preflight report) are evidence about the canary as a whole and
//! count for every bot.

/// The bot a target names, as `host:port`, or `None` for canary-wide evidence.
pub fn bot_key(target: &str) -> Option<String> {
    let t = target.trim();
    let (scheme, rest) = match t.split_once("://") {
        Some((s, r)) => (Some(s.to_ascii_lowercase()), r),
        None => (None, t),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    if authority.is_empty() {
        return None;
    }
    let has_port = authority.rsplit_once(':').is_some_and(|(h, p)| {
        !h.is_empty() && !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())
    });
    let host = authority.to_ascii_lowercase();
    match (scheme.as_deref(), has_port) {
        (_, true) => Some(host),
        (Some("http"), false) => Some(format!("{host}:80")),
        (Some("https"), false) => Some(format!("{host}:443")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bot_whatever_the_producer() {
        let k = Some("127.0.0.1:8080".to_owned());
        assert_eq!(bot_key("http://127.0.0.1:8080"), k);
        assert_eq!(bot_key("http://127.0.0.1:8080/metrics"), k);
        assert_eq!(bot_key("127.0.0.1:8080"), k);
        assert_eq!(bot_key("http://user@127.0.0.1:8080/x?y"), k);
        assert_eq!(bot_key("http://bot"), Some("bot:80".to_owned()));
    }

    #[test]
    fn files_and_env_are_canary_wide() {
        assert_eq!(bot_key("env"), None);
        assert_eq!(bot_key("config/profiles/canary.yaml"), None);
        assert_eq!(bot_key("/tmp/preflight_report_20261126_033000.json"), None);
        assert_eq!(bot_key(""), None);
    }
}
