//! The three kinds of destination and what each receives for a change.

use crate::error::Error;
use crate::state::{Entry, FiringAlert};
use crate::verdict::Verdict;
use canary_core::Decision;
use canary_core::exit::Exit;
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The alertname of every alert notify posts.
pub const ALERTNAME: &str = "CanaryDecision";

/// Where notifications go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A JSON document per change.
    Webhook,
    /// A Slack-compatible incoming webhook: `{"text": ...}`.
    Slack,
    /// Alertmanager's API v2: `POST /api/v2/alerts`.
    Alertmanager,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Webhook => "webhook",
            Kind::Slack => "slack",
            Kind::Alertmanager => "alertmanager",
        }
    }
}

/// One configured destination.
#[derive(Debug, Clone)]
pub struct Destination {
    pub kind: Kind,
    /// Where requests go (for Alertmanager, the alerts endpoint).
    pub url: String,
}

impl Destination {
    /// Validate a URL from the command line.
    pub fn parse(kind: Kind, url: &str) -> Result<Destination, Error> {
        let uri: ureq::http::Uri = url.parse().map_err(|source| Error::InvalidUrl {
            flag: kind.as_str(),
            url: url.to_owned(),
            source,
        })?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) {
            return Err(Error::Scheme {
                flag: kind.as_str(),
                url: url.to_owned(),
            });
        }
        if uri.host().unwrap_or_default().is_empty() {
            return Err(Error::NoHost {
                flag: kind.as_str(),
                url: url.to_owned(),
            });
        }
        let url = match kind {
            Kind::Alertmanager => format!("{}/api/v2/alerts", url.trim_end_matches('/')),
            Kind::Webhook | Kind::Slack => url.to_owned(),
        };
        Ok(Destination { kind, url })
    }

    /// The URL as records show it: scheme, host and port only, because a
    /// webhook's path is often its secret (Slack's always is).
    pub fn shown(&self) -> String {
        match self.url.parse::<ureq::http::Uri>() {
            Ok(uri) => {
                let scheme = uri.scheme_str().unwrap_or("http");
                let host = uri.authority().map(|a| a.as_str()).unwrap_or_default();
                let host = host.rsplit('@').next().unwrap_or_default();
                format!("{scheme}://{host}/…")
            }
            Err(_) => "(invalid)".into(),
        }
    }
}

/// How urgent a decision is for the people notified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Blocking: rollback, stop, no-go, pause.
    Critical,
    /// A hold for a human: extend.
    Warning,
    /// Healthy: go, continue, advance, promote. Never an alert.
    Info,
}

impl Severity {
    pub fn of(decision: Decision) -> Severity {
        match decision.exit() {
            Exit::Blocking | Exit::Unevaluable => Severity::Critical,
            Exit::Hold => Severity::Warning,
            Exit::Clean => Severity::Info,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    /// True when Alertmanager should hold an alert firing for it.
    pub fn alerts(self) -> bool {
        self != Severity::Info
    }
}

/// A change of decision for one scope of one target.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub verdict: &'a Verdict,
    pub previous: Option<&'a Entry>,
}

impl Change<'_> {
    pub fn previous_decision(&self) -> Option<&str> {
        self.previous.map(|p| p.decision.as_str())
    }

    /// The alert the new decision keeps firing, if it calls for one.
    pub fn new_alert(&self, now: Timestamp) -> Option<FiringAlert> {
        let v = self.verdict;
        let severity = Severity::of(v.decision);
        if !severity.alerts() {
            return None;
        }
        let mut labels = BTreeMap::new();
        labels.insert("alertname".to_owned(), ALERTNAME.to_owned());
        labels.insert("decision".to_owned(), v.decision.as_str().to_owned());
        labels.insert("scope".to_owned(), v.scope.as_str().to_owned());
        labels.insert("target".to_owned(), v.target.clone());
        labels.insert("severity".to_owned(), severity.as_str().to_owned());
        labels.insert("phase".to_owned(), v.phase.as_str().to_owned());
        let mut annotations = BTreeMap::new();
        annotations.insert("summary".to_owned(), v.msg.clone());
        annotations.insert("reasons".to_owned(), v.reasons.join("; "));
        annotations.insert("verdict_ts".to_owned(), v.ts.to_string());
        Some(FiringAlert {
            labels,
            annotations,
            // Alertmanager refuses an alert that starts after it ends.
            starts_at: v.ts.min(now),
        })
    }

    /// The JSON webhook's document.
    pub fn webhook_body(&self) -> Value {
        let v = self.verdict;
        json!({
            "source": "canary-kit/notify",
            "event": "decision_changed",
            "scope": v.scope.as_str(),
            "target": v.target,
            "phase": v.phase.as_str(),
            "decision": v.decision.as_str(),
            "previous": self.previous_decision(),
            "severity": Severity::of(v.decision).as_str(),
            "summary": v.msg,
            "reasons": v.reasons,
            "verdict_ts": v.ts.to_string(),
            "verdict": v.record,
        })
    }

    /// The Slack message: one headline, the summary, one line per reason.
    pub fn slack_body(&self) -> Value {
        let v = self.verdict;
        let mut text = format!(
            "canary-kit: *{}* (was {}) [{}]: phase {}, {} {}",
            v.decision.as_str(),
            self.previous_decision().unwrap_or("nothing"),
            Severity::of(v.decision).as_str(),
            v.phase.as_str(),
            v.scope.as_str(),
            v.target
        );
        if !v.msg.is_empty() {
            text.push('\n');
            text.push_str(&v.msg);
        }
        for r in &v.reasons {
            text.push_str("\n• ");
            text.push_str(r);
        }
        json!({ "text": slack_escape(&text) })
    }
}

/// Slack reads `&`, `<` and `>` as markup: a target URL must not become a link
/// or a mention.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One alert as Alertmanager's `postableAlert`.
pub fn postable(alert: &FiringAlert, ends_at: Timestamp) -> Value {
    json!({
        "labels": alert.labels,
        "annotations": alert.annotations,
        "startsAt": alert.starts_at.to_string(),
        "endsAt": ends_at.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_follow_the_decision_table() {
        assert_eq!(Severity::of(Decision::Rollback), Severity::Critical);
        assert_eq!(Severity::of(Decision::Pause), Severity::Critical);
        assert_eq!(Severity::of(Decision::Extend), Severity::Warning);
        for d in [
            Decision::Go,
            Decision::Continue,
            Decision::Advance,
            Decision::Promote,
        ] {
            assert!(!Severity::of(d).alerts(), "{d}");
        }
    }

    #[test]
    fn urls_are_checked_and_shown_without_their_path() {
        let d = Destination::parse(Kind::Slack, "https://hooks.example/services/T/B/SECRET")
            .expect("valid");
        assert_eq!(d.shown(), "https://hooks.example/…");
        let am = Destination::parse(Kind::Alertmanager, "http://127.0.0.1:9093/").expect("valid");
        assert_eq!(am.url, "http://127.0.0.1:9093/api/v2/alerts");
        assert!(Destination::parse(Kind::Webhook, "file:///etc/passwd").is_err());
        assert!(Destination::parse(Kind::Webhook, "not a url").is_err());
    }

    #[test]
    fn slack_text_cannot_carry_markup() {
        assert_eq!(
            slack_escape("<!channel> & <http://x|y>"),
            "&lt;!channel&gt; &amp; &lt;http://x|y&gt;"
        );
    }
}
