#!/usr/bin/env python3
"""Write an exposition like a federation endpoint over many bots serves:
per bot, 48 gpt_trader_order_submission_total series (result/reason x side
x symbol) and three submit-latency histograms (12 bounds + +Inf, _sum,
_count; double-cumulated as the bot exports them), all labelled with the
bot's instance. Every value differs from bot to bot; ROUND advances every
counter, so a second body is a later scrape of the same fleet.

With MODE `counters`, each bot has 16 order series (no symbol), one
submit-latency histogram, and 200 of the bot's other counters (guard
checks per guard): ~231 series and ~81 bytes a series, so 400k series fit
under scrape-metrics' 32 MiB body cap.

    federated-metrics.py OUT BOTS [ROUND] [MODE]
"""
import random
import sys

out_path, bots = sys.argv[1], int(sys.argv[2])
rnd = int(sys.argv[3]) if len(sys.argv) > 3 else 0
lean = len(sys.argv) > 4 and sys.argv[4] == "counters"
random.seed(7)
RESULTS = [("success", "none"), ("success", "partial"), ("failed", "timeout"),
           ("failed", "network"), ("rejected", "broker_rejected"),
           ("rejected", "broker_status"), ("rejected", "risk_limit"),
           ("rejected", "min_notional")]
SYMBOLS = [None] if lean else ["BTC", "ETH", "SOL"]
BOUNDS = ["0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
          "1.0", "2.5", "5.0", "10.0"]
HISTS = [("success", "none")] if lean else [
    ("success", "none"), ("failure", "timeout"), ("failure", "rate_limited")]
out = open(out_path, "w")
w = out.write
w("# HELP gpt_trader_order_submission_total Order submissions.\n")
w("# TYPE gpt_trader_order_submission_total counter\n")
base = [random.randint(50, 5000) for _ in range(bots)]
for b in range(bots):
    inst = f'instance="10.0.{b // 250}.{b % 250}:9090"'
    for k, (res, reason) in enumerate(RESULTS):
        for side in ("buy", "sell"):
            for s, sym in enumerate(SYMBOLS):
                v = base[b] // (1 + k * 7 + s) + rnd * (3 if res == "success" else 1)
                sl = f',symbol="{sym}"' if sym else ""
                w(f'gpt_trader_order_submission_total{{{inst},reason="{reason}",result="{res}",side="{side}"{sl}}} {v}\n')
w("# HELP gpt_trader_broker_call_latency_seconds Broker call latency.\n")
w("# TYPE gpt_trader_broker_call_latency_seconds histogram\n")
for b in range(bots):
    inst = f'instance="10.0.{b // 250}.{b % 250}:9090"'
    for outcome, reason in HISTS:
        scale = base[b] * (8 if outcome == "success" else 1) + rnd * 40
        true_cum, acc = [], 0
        for i in range(len(BOUNDS)):
            acc += scale * (i + 1) // 78
            true_cum.append(acc)
        total = true_cum[-1]
        running = 0
        lab = f'{inst},operation="submit",outcome="{outcome}",reason="{reason}"'
        name = "gpt_trader_broker_call_latency_seconds"
        for le, c in zip(BOUNDS, true_cum):
            running += c
            w(f'{name}_bucket{{{lab},le="{le}"}} {running}\n')
        w(f'{name}_bucket{{{lab},le="+Inf"}} {total}\n')
        w(f'{name}_sum{{{lab}}} {total * 0.0421:.4f}\n')
        w(f'{name}_count{{{lab}}} {total}\n')
if lean:
    w("# TYPE gpt_trader_guard_checks_total counter\n")
    for b in range(bots):
        inst = f'instance="10.0.{b // 250}.{b % 250}:9090"'
        for g in range(200):
            w(f'gpt_trader_guard_checks_total{{guard="g{g}",{inst}}} {base[b] * 9 + g + rnd * 200}\n')
out.close()
