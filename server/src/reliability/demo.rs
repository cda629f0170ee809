//! Realistic, deterministic history for a clearly labelled demo tenant (`factory demo
//! --history DAYS --seed N`): runs of every type with durations and failures, probe samples
//! with two outages, one maintenance window and one customer-caused incident, so a new
//! installation's reliability and report pages show something real on first start.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::month::Month;

/// The demo tenant's slug and name; the name says the data is generated.
pub const DEMO_TENANT: (&str, &str) = ("demo-history", "Demo history (generated)");

/// A run type as the history needs it: name, expected duration, and its steps' pools.
#[derive(Clone, Debug)]
pub struct HistoryRunType {
    pub name: String,
    pub expected: TimeDelta,
    pub steps: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum HistoricStatus {
    Succeeded,
    /// Failed at this step position.
    Failed(usize),
    Cancelled,
    Rejected,
}

#[derive(Clone, Debug)]
pub struct HistoricJob {
    pub step: String,
    pub pool: String,
    pub status: &'static str,
    pub queued_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug)]
pub struct HistoricRun {
    pub run_type: String,
    pub status: HistoricStatus,
    pub expected: TimeDelta,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub jobs: Vec<HistoricJob>,
}

/// Everything the history holds, in absolute times.
#[derive(Clone, Debug)]
pub struct History {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub runs: Vec<HistoricRun>,
    /// Spans in which every probe failed.
    pub down: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Spans without any probe sample (the whole control plane was unreachable).
    pub no_data: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    pub maintenance: (DateTime<Utc>, DateTime<Utc>),
    /// Customer-caused, for the demo tenant only; probes failed during it.
    pub customer_incident: (DateTime<Utc>, DateTime<Utc>),
}

/// Plans `days` of history ending at the start of `today`'s hour, the same for the same
/// seed and day. Events fall in the previous calendar month when the history covers it,
/// so that month's report has an outage and a credit to show.
pub fn plan(days: u32, seed: u64, now: DateTime<Utc>, run_types: &[HistoryRunType]) -> History {
    let mut rng = StdRng::seed_from_u64(seed);
    let to = now.duration_trunc(TimeDelta::hours(1)).unwrap_or(now);
    let from = (to - TimeDelta::days(i64::from(days.max(1))))
        .duration_trunc(TimeDelta::days(1))
        .unwrap_or(to);

    // The previous month when it lies inside the history, else the history itself.
    let previous = Month::containing(now).and_then(Month::prev);
    let (event_from, event_to) = match previous {
        Some(month) if month.start() >= from => (month.start(), month.end()),
        _ => (from, to),
    };
    let span_days = ((event_to - event_from).num_days() - 2).max(1);
    let at_day = |rng: &mut StdRng, hour: i64| {
        event_from + TimeDelta::days(rng.gen_range(0..span_days)) + TimeDelta::hours(hour)
    };

    let outage_start = at_day(&mut rng, 3) + TimeDelta::minutes(rng.gen_range(0..50));
    let down = vec![(outage_start, outage_start + TimeDelta::minutes(rng.gen_range(45..70)))];
    let gap_start = at_day(&mut rng, 14) + TimeDelta::minutes(rng.gen_range(0..30));
    let no_data = vec![(gap_start, gap_start + TimeDelta::minutes(rng.gen_range(15..30)))];
    let maintenance_start = at_day(&mut rng, 22);
    let maintenance = (maintenance_start, maintenance_start + TimeDelta::hours(2));
    let incident_start = at_day(&mut rng, 9) + TimeDelta::minutes(rng.gen_range(0..30));
    let customer_incident = (incident_start, incident_start + TimeDelta::minutes(40));

    let mut runs = Vec::new();
    let mut day = from;
    while day < to {
        for _ in 0..rng.gen_range(20..40) {
            let created_at = day + TimeDelta::seconds(rng.gen_range(0..86_400));
            if created_at >= to || run_types.is_empty() {
                continue;
            }
            let run_type = &run_types[rng.gen_range(0..run_types.len())];
            runs.push(historic_run(&mut rng, run_type, created_at));
        }
        day += TimeDelta::days(1);
    }
    runs.sort_by_key(|run| run.created_at);

    History { from, to, runs, down, no_data, maintenance, customer_incident }
}

fn historic_run(
    rng: &mut StdRng,
    run_type: &HistoryRunType,
    created_at: DateTime<Utc>,
) -> HistoricRun {
    let roll: f64 = rng.gen();
    let status = match roll {
        r if r < 0.01 => HistoricStatus::Rejected,
        r if r < 0.03 => HistoricStatus::Cancelled,
        r if r < 0.07 => HistoricStatus::Failed(rng.gen_range(0..run_type.steps.len().max(1))),
        _ => HistoricStatus::Succeeded,
    };
    // Most runs take 30–90% of the expected time; one in ten is slow (110–250%).
    let factor = if rng.gen_bool(0.1) { rng.gen_range(1.1..2.5) } else { rng.gen_range(0.3..0.9) };
    let total_ms = (run_type.expected.num_milliseconds() as f64 * factor) as i64;
    let step_ms = total_ms / run_type.steps.len().max(1) as i64;

    let mut jobs = Vec::new();
    let mut clock = created_at;
    let mut finished_at = None;
    for (position, (step, pool)) in run_type.steps.iter().enumerate() {
        let reached = match status {
            HistoricStatus::Rejected => false,
            HistoricStatus::Failed(at) => position <= at,
            HistoricStatus::Cancelled => position == 0,
            HistoricStatus::Succeeded => true,
        };
        if !reached {
            let status = if status == HistoricStatus::Rejected { "waiting" } else { "cancelled" };
            jobs.push(HistoricJob {
                step: step.clone(),
                pool: pool.clone(),
                status,
                queued_at: None,
                started_at: None,
                finished_at: finished_at.filter(|_| status == "cancelled"),
            });
            continue;
        }
        let wait_ms = if rng.gen_bool(0.05) {
            rng.gen_range(5_000..30_000)
        } else {
            rng.gen_range(100..3_000)
        };
        let queued_at = clock;
        let started_at = queued_at + TimeDelta::milliseconds(wait_ms);
        let ended = started_at + TimeDelta::milliseconds(step_ms.max(50));
        let job_status = match status {
            HistoricStatus::Failed(at) if at == position => "failed",
            HistoricStatus::Cancelled => "succeeded",
            _ => "succeeded",
        };
        jobs.push(HistoricJob {
            step: step.clone(),
            pool: pool.clone(),
            status: job_status,
            queued_at: Some(queued_at),
            started_at: Some(started_at),
            finished_at: Some(ended),
        });
        clock = ended;
        finished_at = Some(ended);
    }
    HistoricRun {
        run_type: run_type.name.clone(),
        status,
        expected: run_type.expected,
        created_at,
        finished_at,
        jobs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_types() -> Vec<HistoryRunType> {
        let steps = |pools: &[&str]| {
            pools.iter().map(|pool| (pool.to_string(), pool.to_string())).collect()
        };
        vec![
            HistoryRunType {
                name: "library".into(),
                expected: TimeDelta::seconds(60),
                steps: steps(&["generate", "verify", "package"]),
            },
            HistoryRunType {
                name: "documentation".into(),
                expected: TimeDelta::seconds(30),
                steps: steps(&["generate", "package"]),
            },
        ]
    }

    #[test]
    fn the_same_seed_and_day_plan_the_same_history() {
        let now: DateTime<Utc> = "2026-12-03T10:20:00Z".parse().unwrap();
        let a = plan(90, 7, now, &run_types());
        let b = plan(90, 7, now, &run_types());
        let c = plan(90, 8, now, &run_types());
        assert_eq!(a.runs.len(), b.runs.len());
        assert_eq!(a.down, b.down);
        assert_eq!(a.maintenance, b.maintenance);
        assert_ne!(a.down, c.down);
    }

    #[test]
    fn events_fall_in_the_previous_month_and_runs_cover_the_history() {
        let now: DateTime<Utc> = "2026-12-03T10:20:00Z".parse().unwrap();
        let history = plan(90, 7, now, &run_types());
        let november = Month::parse("2026-11").unwrap();
        for (start, end) in
            [history.down[0], history.no_data[0], history.maintenance, history.customer_incident]
        {
            assert!(start >= november.start() && end <= november.end(), "{start}..{end}");
        }
        assert!(history.runs.len() > 90 * 20);
        assert!(history.runs.first().unwrap().created_at >= history.from);
        assert!(history.runs.iter().all(|run| run.created_at < history.to));
        let statuses = |wanted: fn(&HistoricStatus) -> bool| {
            history.runs.iter().filter(|run| wanted(&run.status)).count()
        };
        assert!(statuses(|s| matches!(s, HistoricStatus::Failed(_))) > 0);
        assert!(statuses(|s| *s == HistoricStatus::Cancelled) > 0);
        assert!(statuses(|s| *s == HistoricStatus::Rejected) > 0);
        // A failed run's jobs after the failure are cancelled and never started.
        let failed = history
            .runs
            .iter()
            .find(|run| matches!(run.status, HistoricStatus::Failed(0)))
            .expect("a run failing at its first step");
        assert_eq!(failed.jobs[0].status, "failed");
        assert!(failed.jobs[1..]
            .iter()
            .all(|job| job.status == "cancelled" && job.started_at.is_none()));
    }
}
