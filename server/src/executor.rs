//! Runs one job attempt: starts it in the database on behalf of this worker process, calls
//! the step handler with a timeout inside a span carrying `run.id`, `job.id` and `pool`, and
//! records the outcome with the step's log lines in one transaction, retrying that write
//! through a short database outage. Only the glue lives here; the steps themselves are pure
//! functions in `steps`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apalis::prelude::BoxDynError;
use tracing::{info, info_span, warn, Instrument};
use uuid::Uuid;

use crate::lifecycle::Outcome;
use crate::queue::{ActiveAttempt, JobRunner, StepTask, WorkerProcess};
use crate::runtypes::Catalogue;
use crate::steps::{self, StepError, StepKind};
use crate::storage::{Attempt, AttemptEnd, Effects, Store, StoreError};

/// Largest output a run may produce, so one submission cannot fill the database.
// FIXME: the limit is checked after rendering, so a huge documentation outline still costs a generate worker its CPU time before it is refused.
const MAX_OUTPUT_BYTES: usize = 16 * 1024 * 1024;
const MAX_OUTPUT_FILES: usize = 500;

/// Longest wait between tries of recording an outcome while the database is away.
const FINISH_RETRY_CAP: Duration = Duration::from_secs(5);

pub struct Executor {
    store: Store,
    catalogue: Arc<Catalogue>,
    process: Arc<WorkerProcess>,
    /// Added to every step (`FACTORY_STEP_DELAY_MS`), for fault drills.
    step_delay: Duration,
    /// How long an outcome is retried through a database outage; after that the attempt is
    /// left to orphan recovery.
    finish_patience: Duration,
    /// Failures to inject per step name, for fault tests; empty in normal operation.
    injected_failures: Mutex<HashMap<String, u32>>,
}

/// What a step left behind, before it is recorded.
struct StepResult {
    outcome: Outcome,
    ended: AttemptEnd,
    effects: Effects,
    lines: Vec<String>,
}

impl Executor {
    pub fn new(
        store: Store,
        catalogue: Arc<Catalogue>,
        process: Arc<WorkerProcess>,
        settings: &crate::config::Settings,
    ) -> Executor {
        Executor {
            store,
            catalogue,
            process,
            step_delay: settings.step_delay(),
            finish_patience: settings.orphan_after(),
            injected_failures: Mutex::new(HashMap::new()),
        }
    }

    /// Makes the next `count` attempts of `step` fail with a transient error, as a lost
    /// connection would, so retries can be exercised end to end.
    pub fn inject_transient_failures(&self, step: &str, count: u32) {
        self.injected_failures.lock().unwrap_or_else(|p| p.into_inner()).insert(step.into(), count);
    }

    /// Runs the job if it is still queued. An error means the attempt could not be started
    /// (the database); once started, the outcome is recorded or left to orphan recovery.
    pub async fn run_job(&self, job_id: Uuid) -> Result<(), StoreError> {
        let Some(attempt) = self.store.start_attempt(job_id, self.process.id).await? else {
            return Ok(());
        };
        let _tracked = self.process.track(ActiveAttempt {
            job_id,
            lease: attempt.lease,
            pool: attempt.pool.clone(),
        });
        let span = info_span!("job", run.id = %attempt.run_id, job.id = %attempt.job_id,
            pool = %attempt.pool, step = %attempt.step, attempt = attempt.attempt);
        self.run_attempt(attempt).instrument(span).await;
        Ok(())
    }

    async fn run_attempt(&self, attempt: Attempt) {
        let started = Instant::now();
        let first_line = format!("attempt {} of {} started", attempt.attempt, attempt.max_attempts);
        // Progress only: the outcome and the step's own lines are written with the result.
        if let Err(error) = self.store.append_log(&attempt, "info", &first_line).await {
            warn!(%error, "could not log the start of an attempt");
        }

        let result = self.attempt_step(&attempt).await;
        match self.record(&attempt, &result).await {
            Ok(true) => {
                self.process.count_done(&attempt.pool);
                info!(
                    duration_ms = started.elapsed().as_millis() as u64,
                    outcome = result.ended.as_str(),
                    "job attempt finished"
                );
            }
            Ok(false) => warn!(
                duration_ms = started.elapsed().as_millis() as u64,
                "job attempt finished after losing its lease; result discarded"
            ),
            Err(error) => warn!(%error,
                "could not record the attempt's outcome; orphan recovery will retry the job"),
        }
    }

    async fn attempt_step(&self, attempt: &Attempt) -> StepResult {
        let run = async {
            if !self.step_delay.is_zero() {
                tokio::time::sleep(self.step_delay).await;
            }
            self.run_step(attempt).await
        };
        let (outcome, ended, effects, lines) = match tokio::time::timeout(attempt.timeout, run)
            .await
        {
            Ok(Ok((effects, lines))) => (Outcome::Succeeded, AttemptEnd::Succeeded, effects, lines),
            Ok(Err(StepError::Transient(error))) => {
                (Outcome::Transient(error), AttemptEnd::Retried, Effects::default(), Vec::new())
            }
            Ok(Err(StepError::Permanent(error))) => {
                (Outcome::Permanent(error), AttemptEnd::Failed, Effects::default(), Vec::new())
            }
            Err(_) => {
                let error = format!("step timed out after {} s", attempt.timeout.as_secs_f64());
                (Outcome::Transient(error), AttemptEnd::TimedOut, Effects::default(), Vec::new())
            }
        };
        StepResult { outcome, ended, effects, lines }
    }

    /// Records the result, retrying while the database is unreachable, for as long as the
    /// attempt would not have been taken over anyway.
    async fn record(&self, attempt: &Attempt, result: &StepResult) -> Result<bool, StoreError> {
        let deadline = Instant::now() + self.finish_patience;
        let mut pause = Duration::from_millis(250);
        loop {
            let recorded = self
                .store
                .finish_attempt(
                    attempt,
                    &result.outcome,
                    result.ended,
                    &result.effects,
                    &result.lines,
                )
                .await;
            match recorded {
                Err(error) if error.is_unavailable() && Instant::now() + pause < deadline => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(FINISH_RETRY_CAP);
                }
                other => return other,
            }
        }
    }

    async fn run_step(&self, attempt: &Attempt) -> Result<(Effects, Vec<String>), StepError> {
        if self.take_injected_failure(&attempt.step) {
            return Err(StepError::Transient("injected transient failure".into()));
        }
        let run_type = self
            .catalogue
            .get(&attempt.run_type)
            .ok_or_else(|| StepError::Permanent(format!("unknown run type {}", attempt.run_type)))?
            .clone();
        let kind: StepKind = attempt
            .step
            .parse()
            .map_err(|_| StepError::Permanent(format!("unknown step {}", attempt.step)))?;
        let workspace = match kind {
            StepKind::Generate => None,
            StepKind::Verify | StepKind::Package => Some(
                self.store
                    .load_workspace(attempt.run_id)
                    .await
                    .map_err(|error| StepError::Transient(format!("load workspace: {error}")))?,
            ),
        };
        let run_id = attempt.run_id;
        let params = attempt.params.clone();
        let base_name = format!("{}-{}", attempt.run_type, &run_id.simple().to_string()[..8]);

        // Steps are CPU work on in-memory files: keep them off the async threads.
        tokio::task::spawn_blocking(move || match kind {
            StepKind::Generate => {
                let params = run_type.validate(&params).map_err(|errors| {
                    StepError::Permanent(format!("stored parameters no longer valid: {errors:?}"))
                })?;
                let (workspace, lines) = steps::generate(&run_type, &params, run_id)?;
                if workspace.total_bytes() > MAX_OUTPUT_BYTES || workspace.len() > MAX_OUTPUT_FILES {
                    return Err(StepError::Permanent(format!(
                        "generated output is too large ({} files, {} bytes; at most {MAX_OUTPUT_FILES} files and {MAX_OUTPUT_BYTES} bytes)",
                        workspace.len(),
                        workspace.total_bytes()
                    )));
                }
                Ok((Effects { workspace: Some(workspace), package: None }, lines))
            }
            StepKind::Verify => {
                let lines = steps::verify(&workspace.unwrap_or_default())?;
                Ok((Effects::default(), lines))
            }
            StepKind::Package => {
                let (package, lines) = steps::package(&workspace.unwrap_or_default(), &base_name)?;
                Ok((Effects { workspace: None, package: Some(package) }, lines))
            }
        })
        .await
        .map_err(|error| StepError::Transient(format!("step task failed: {error}")))?
    }

    fn take_injected_failure(&self, step: &str) -> bool {
        let mut failures = self.injected_failures.lock().unwrap_or_else(|p| p.into_inner());
        match failures.get_mut(step) {
            Some(remaining) if *remaining > 0 => {
                *remaining -= 1;
                true
            }
            _ => false,
        }
    }
}

#[async_trait::async_trait]
impl JobRunner for Executor {
    async fn run(&self, task: StepTask) -> Result<(), BoxDynError> {
        self.run_job(task.job_id).await.map_err(|error| {
            warn!(job.id = %task.job_id, %error, "could not start a job; the queue will deliver it again");
            Box::new(error) as BoxDynError
        })
    }

    async fn defer(&self, task: StepTask) -> Result<(), BoxDynError> {
        self.store.defer_task(task.job_id, &task.pool).await.map_err(|error| {
            warn!(job.id = %task.job_id, %error, "could not put a task back; the queue will deliver it again");
            Box::new(error) as BoxDynError
        })
    }

    async fn hand_back(&self, attempts: Vec<ActiveAttempt>) {
        let worker = format!("{} pid {}", self.process.host, self.process.pid);
        for attempt in attempts {
            match self.store.hand_back(attempt.job_id, attempt.lease, &worker).await {
                Ok(true) => {
                    info!(job.id = %attempt.job_id, pool = %attempt.pool, "job handed back")
                }
                Ok(false) => {}
                Err(error) => warn!(job.id = %attempt.job_id, %error,
                    "could not hand a job back; orphan recovery will take it"),
            }
        }
    }
}
