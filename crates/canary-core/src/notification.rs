//! The payload of a `notify.sent` record: one change of decision sent (or,
//! with `--dry-run`, planned) to one destination.

use crate::decision::Decision;
use crate::phase::Phase;
use crate::verdict::Scope;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the notification does at its destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyAction {
    /// A webhook or Slack message.
    Notify,
    /// Alertmanager: a new alert.
    Fire,
    /// Alertmanager: the old alert ended, no new one.
    Resolve,
    /// Alertmanager: the old alert ended and a new one fired.
    Replace,
}

impl NotifyAction {
    /// The wire name (`notify`, `fire`, `resolve`, `replace`).
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyAction::Notify => "notify",
            NotifyAction::Fire => "fire",
            NotifyAction::Resolve => "resolve",
            NotifyAction::Replace => "replace",
        }
    }
}

/// Whether it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SentStatus {
    /// `--dry-run`: nothing was sent.
    Planned,
    /// Delivered: the destination accepted it.
    Sent,
}

/// A `notify.sent` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// `webhook`, `slack` or `alertmanager`.
    pub destination: String,
    /// The destination without its path (which may hold a secret).
    pub url: String,
    /// What it does at the destination.
    pub action: NotifyAction,
    /// The scope of the verdict notified.
    pub scope: Scope,
    /// The phase of the verdict notified.
    pub phase: Phase,
    /// The decision notified.
    pub decision: Decision,
    /// The decision notified before for the same scope and target
    /// (`null` for the first).
    pub previous: Option<String>,
    /// The `ts` of the verdict notified, which ties the message to its record.
    pub verdict_ts: Timestamp,
    /// Sent, or only planned (`--dry-run`).
    pub status: SentStatus,
    /// How many POSTs it took (sent only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// What was (or would be) sent.
    pub body: Value,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::Level;
    use crate::record::{Kind, Record};

    #[test]
    fn a_notification_writes_its_keys_in_order_and_reads_back() {
        let n = Notification {
            destination: "webhook".into(),
            url: "http://127.0.0.1:9/…".into(),
            action: NotifyAction::Notify,
            scope: Scope::Overall,
            phase: Phase::B,
            decision: Decision::Rollback,
            previous: None,
            verdict_ts: "2026-11-26T03:30:00Z".parse().expect("ts"),
            status: SentStatus::Planned,
            attempts: None,
            body: serde_json::json!({"k": 1}),
        };
        let rec = Record::new("notify", "t", Kind::Step, "notify.sent", Level::Ok).with_payload(&n);
        let text = serde_json::to_string(&rec).expect("json");
        assert!(
            text.ends_with(r#""destination":"webhook","url":"http://127.0.0.1:9/…","action":"notify","scope":"overall","phase":"b","decision":"rollback","previous":null,"verdict_ts":"2026-11-26T03:30:00Z","status":"planned","body":{"k":1}}"#),
            "{text}"
        );
        let back: Record = serde_json::from_str(&text).expect("record");
        assert_eq!(back.payload::<Notification>().expect("payload"), n);
    }
}
