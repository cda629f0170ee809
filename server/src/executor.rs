//! Runs one job attempt: starts it in the database, calls the step handler with a timeout
//! inside a span carrying `run.id`, `job.id` and `pool`, and records the outcome. Only the
//! glue lives here; the steps themselves are pure functions in `steps`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tracing::{info, info_span, warn, Instrument};
use uuid::Uuid;

use crate::lifecycle::Outcome;
use crate::runtypes::Catalogue;
use crate::steps::{self, StepError, StepKind};
use crate::storage::{Attempt, Effects, Store, StoreError};

/// Largest output a run may produce, so one submission cannot fill the database.
// FIXME: the limit is checked after rendering, so a huge documentation outline still costs a generate worker its CPU time before it is refused.
const MAX_OUTPUT_BYTES: usize = 16 * 1024 * 1024;
const MAX_OUTPUT_FILES: usize = 500;

pub struct Executor {
    store: Store,
    catalogue: Arc<Catalogue>,
    /// Failures to inject per step name, for fault tests; empty in normal operation.
    injected_failures: Mutex<HashMap<String, u32>>,
}

impl Executor {
    pub fn new(store: Store, catalogue: Arc<Catalogue>) -> Executor {
        Executor { store, catalogue, injected_failures: Mutex::new(HashMap::new()) }
    }

    /// Makes the next `count` attempts of `step` fail with a transient error, as a lost
    /// connection would, so retries can be exercised end to end.
    pub fn inject_transient_failures(&self, step: &str, count: u32) {
        self.injected_failures.lock().unwrap_or_else(|p| p.into_inner()).insert(step.into(), count);
    }

    /// Runs the job if it is still queued. Errors are infrastructure failures (the database),
    /// left to the queue to retry; a step's own failure is recorded as the job's outcome.
    pub async fn run_job(&self, job_id: Uuid) -> Result<(), StoreError> {
        let Some(attempt) = self.store.start_attempt(job_id).await? else {
            return Ok(());
        };
        let span = info_span!("job", run.id = %attempt.run_id, job.id = %attempt.job_id,
            pool = %attempt.pool, step = %attempt.step, attempt = attempt.attempt);
        self.run_attempt(attempt).instrument(span).await
    }

    async fn run_attempt(&self, attempt: Attempt) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        self.store
            .append_log(
                &attempt,
                "info",
                &format!("attempt {} of {} started", attempt.attempt, attempt.max_attempts),
            )
            .await?;

        let result = match tokio::time::timeout(attempt.timeout, self.run_step(&attempt)).await {
            Ok(result) => result,
            Err(_) => Err(StepError::Transient(format!(
                "step timed out after {} s",
                attempt.timeout.as_secs()
            ))),
        };
        let (outcome, effects) = match result {
            Ok((effects, lines)) => {
                for line in lines {
                    self.store.append_log(&attempt, "info", &line).await?;
                }
                (Outcome::Succeeded, effects)
            }
            Err(StepError::Transient(error)) => (Outcome::Transient(error), Effects::default()),
            Err(StepError::Permanent(error)) => (Outcome::Permanent(error), Effects::default()),
        };
        if let Outcome::Transient(error) | Outcome::Permanent(error) = &outcome {
            self.store.append_log(&attempt, "error", error).await?;
        }

        let accepted = self.store.finish_attempt(&attempt, &outcome, effects).await?;
        let duration_ms = started.elapsed().as_millis() as u64;
        if accepted {
            info!(duration_ms, outcome = ?outcome, "job attempt finished");
        } else {
            warn!(duration_ms, "job attempt finished after losing its lease; result discarded");
        }
        Ok(())
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
