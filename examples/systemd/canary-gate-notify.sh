#!/bin/sh
# canary-gate-notify.sh UNIT: post "canary-gate failed, and why" to a
# Slack-compatible incoming webhook ($CANARY_NOTIFY_WEBHOOK). Run by
# canary-gate-notify@.service when canary-gate.service fails; systemd sets
# MONITOR_EXIT_STATUS (the gate's exit code) and MONITOR_SERVICE_RESULT.
# Exits non-zero when the message could not be delivered, so the notify
# unit shows failed too.
set -u
url=${CANARY_NOTIFY_WEBHOOK:-}
if [ -z "$url" ]; then
  echo "canary-gate-notify: error: CANARY_NOTIFY_WEBHOOK is not set: nobody was told" >&2
  exit 2
fi
case "${MONITOR_EXIT_STATUS:-}" in
  1) what="decided stop, rollback, pause or no-go: a person must act" ;;
  2) what="could not evaluate: evidence unknown, or a producer, judge, notify or the gate itself failed" ;;
  *) what="failed (${MONITOR_SERVICE_RESULT:-result unknown}, exit ${MONITOR_EXIT_STATUS:-unknown})" ;;
esac
# Only characters that need no JSON escaping reach the body.
unit=$(printf '%s' "${1:-canary-gate.service}" | tr -cd 'A-Za-z0-9@._:-')
host=$(hostname 2>/dev/null | tr -cd 'A-Za-z0-9._-')
what=$(printf '%s' "$what" | tr -d '"\\')
body=$(printf '{"text":"canary-gate on %s: %s %s (journalctl -u %s -n 50)"}' \
  "${host:-this host}" "$unit" "$what" "$unit")
exec curl -fsS -m 10 --retry 2 -H 'Content-Type: application/json' --data "$body" "$url"
