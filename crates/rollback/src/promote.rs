//! Promotion (runbook §4.4), on a `promote` verdict only: write the canary
//! report, show the profile diff, stop the canary, deploy production, and
//! start the one-hour post-promotion watch through the same gate.

use crate::config::Settings;
use crate::error::PlanError;
use crate::git::Repo;
use crate::journal::Journal;
use crate::plan::{Action, Plan, Step, stop_step};
use crate::procedure::{Procedure, Step as Kind};
use crate::safefs::StateDir;
use crate::step_rec::{Done, record};
use crate::trigger::Verdict;
use canary_core::step::{HeadRef, StepOutcome, StepStatus};
use canary_core::verdict::{Reason, WindowSummary};
use canary_core::{Decision, Level, Phase, Record};
use serde::Serialize;

/// The promotion plan. A promotion is keyed on what it promotes — HEAD's
/// commit (and release tag), recorded in the progress file — never on the
/// verdict: any later promote verdict for the same commit resumes it
/// (finished steps are not repeated: a second deploy would start a second
/// production bot), and once it completed, the commit is promoted and every
/// step is skipped (`already-done`).
pub fn plan(
    settings: &Settings,
    repo: &Repo,
    state_dir: &std::path::Path,
    journal: &Journal,
    verdict: &Verdict,
    run_id: &str,
) -> Result<Plan, PlanError> {
    let tags = repo.tags()?;
    let head = repo.head(&tags)?;
    let ts = verdict.record.ts;
    let ts_text = ts.to_string();
    let resume = journal
        .current(Procedure::Promote)
        .filter(|p| p.from_commit == head.commit);
    let done_by = |step: Kind| {
        resume
            .as_ref()
            .filter(|p| p.has(step))
            .map(|p| format!("already done in promotion {}", p.proc_id))
    };
    let stamp = ts.strftime("%Y%m%dT%H%M%SZ").to_string();
    let profiles = repo.dir.join("config").join("profiles");
    let canary = settings
        .canary_profile
        .clone()
        .unwrap_or_else(|| profiles.join("canary.yaml"));
    let prod = settings
        .prod_profile
        .clone()
        .unwrap_or_else(|| profiles.join("prod.yaml"));
    let (watch_cmd, feed) = match &settings.watch_gate {
        Some(gate) => (gate.clone(), Some(settings.watch.clone())),
        None => (settings.watch.clone(), None),
    };
    let steps = vec![
        Step::new(
            Kind::Report,
            Action::Report {
                name: format!("canary-report-{stamp}.json"),
                path: state_dir
                    .join("reports")
                    .join(format!("canary-report-{stamp}.json")),
            },
        )
        .skip_if(done_by(Kind::Report)),
        Step::new(Kind::ProfileDiff, Action::Diff { prod, canary })
            .skip_if(done_by(Kind::ProfileDiff)),
        stop_step(settings).skip_if(done_by(Kind::Stop)),
        Step::new(
            Kind::Deploy,
            Action::Start {
                cmd: settings.deploy.clone(),
                log: "deploy.log".into(),
                feed: None,
            },
        )
        .skip_if(done_by(Kind::Deploy)),
        Step::new(
            Kind::Watch,
            Action::Start {
                cmd: watch_cmd,
                log: format!("watch-{stamp}.ndjson"),
                feed,
            },
        )
        .skip_if(done_by(Kind::Watch)),
    ];
    Ok(Plan {
        procedure: Procedure::Promote,
        prefix: "promote",
        stop_only: false,
        steps,
        head,
        target: None,
        target_source: "none",
        proc_id: resume
            .as_ref()
            .map_or_else(|| run_id.to_owned(), |p| p.proc_id.clone()),
        completed_before: resume
            .as_ref()
            .filter(|p| p.completed)
            .map(|p| p.proc_id.clone()),
        resumed: resume,
        verdict: Some(Box::new((verdict.record.clone(), verdict.payload.clone()))),
        verdict_ts: Some(ts_text),
    })
}

/// The canary report a promotion writes: the release, the verdict's
/// decision, phase, window and reasons as read, and the verdict whole.
#[derive(Serialize)]
struct CanaryReport<'a> {
    report: &'static str,
    generated_at: jiff::Timestamp,
    generated_by: &'static str,
    repo: String,
    release: HeadRef,
    decision: Option<Decision>,
    phase: Option<Phase>,
    window: Option<&'a WindowSummary>,
    reasons: Option<&'a [Reason]>,
    verdict: Option<&'a Record>,
}

/// Write the canary report: the verdict and its window evidence, as JSON.
pub fn write_report(plan: &Plan, step: &Step, repo: &Repo, state: &StateDir, name: &str) -> Done {
    let started = jiff::Timestamp::now();
    let verdict = plan.verdict.as_deref();
    let payload = verdict.map(|(_, p)| p);
    let report = CanaryReport {
        report: "canary",
        generated_at: started,
        generated_by: crate::tool::TOOL,
        repo: repo.dir.display().to_string(),
        release: plan.head.to_ref(),
        decision: payload.map(|p| p.decision),
        phase: payload.map(|p| p.phase),
        window: payload.map(|p| &p.window),
        reasons: payload.map(|p| p.reasons.as_slice()),
        verdict: verdict.map(|(r, _)| r),
    };
    let dir = state.subdir("reports");
    let path = state.join("reports").join(name);
    let written = dir.and_then(|d| {
        let body = serde_json::to_vec_pretty(&report).map_err(std::io::Error::other)?;
        d.write_atomic(name, &body)
    });
    let mut rec = record(plan, step, repo, StepStatus::Done, Level::Ok);
    rec.payload.outcome = Some(StepOutcome::times(started, jiff::Timestamp::now()));
    match written {
        Ok(()) => Done {
            ok: true,
            record: rec.msg(format!("canary report written to {}", path.display())),
            unit_state: None,
        },
        Err(e) => Done {
            ok: false,
            record: rec.status(StepStatus::Failed, Level::Crit).msg(format!(
                "writing the canary report {} failed: {e}",
                path.display()
            )),
            unit_state: None,
        },
    }
}
