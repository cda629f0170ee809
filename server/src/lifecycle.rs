//! The run state machine, as pure decisions: what follows a job attempt, how long to back off
//! before a retry, and which runs may still be cancelled. Storage applies these decisions in
//! one transaction; nothing here touches the database.

use std::time::Duration;

use app::model::RunStatus;

/// Delay before the first retry; each further retry doubles it.
const BACKOFF_BASE: Duration = Duration::from_secs(1);
/// Retries never wait longer than this.
const BACKOFF_CAP: Duration = Duration::from_secs(60);

/// How one attempt of a job ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    /// Worth trying again (a timeout, a lost connection).
    Transient(String),
    /// Trying again would fail the same way (invalid output).
    Permanent(String),
}

/// What the run does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Queue the job at this position.
    Step {
        position: i32,
    },
    /// Queue this job again after the delay.
    Retry {
        after: Duration,
    },
    Finish {
        status: RunStatus,
        error: Option<String>,
    },
}

/// Where the attempt sits in its job and run.
#[derive(Clone, Copy, Debug)]
pub struct AttemptContext {
    pub position: i32,
    pub step_count: i32,
    /// 1 for the first attempt.
    pub attempt: i32,
    pub max_attempts: i32,
    pub cancel_requested: bool,
}

pub fn after_attempt(context: AttemptContext, outcome: &Outcome) -> Next {
    if context.cancel_requested {
        return Next::Finish { status: RunStatus::Cancelled, error: None };
    }
    match outcome {
        Outcome::Succeeded if context.position + 1 < context.step_count => {
            Next::Step { position: context.position + 1 }
        }
        Outcome::Succeeded => Next::Finish { status: RunStatus::Succeeded, error: None },
        Outcome::Transient(_) if context.attempt < context.max_attempts => {
            Next::Retry { after: backoff(context.attempt) }
        }
        Outcome::Transient(error) => Next::Finish {
            status: RunStatus::Failed,
            error: Some(format!("gave up after {} attempts: {error}", context.attempt)),
        },
        Outcome::Permanent(error) => {
            Next::Finish { status: RunStatus::Failed, error: Some(error.clone()) }
        }
    }
}

/// Exponential backoff after the given (1-based) failed attempt.
pub fn backoff(attempt: i32) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1)).unwrap_or(0).min(16);
    BACKOFF_BASE.saturating_mul(1 << doublings).min(BACKOFF_CAP)
}

/// A run can be cancelled until it has finished.
pub fn can_cancel(status: RunStatus) -> bool {
    !status.is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(position: i32, attempt: i32) -> AttemptContext {
        AttemptContext {
            position,
            step_count: 3,
            attempt,
            max_attempts: 3,
            cancel_requested: false,
        }
    }

    #[test]
    fn a_successful_step_queues_the_next_and_the_last_one_finishes_the_run() {
        assert_eq!(after_attempt(context(0, 1), &Outcome::Succeeded), Next::Step { position: 1 });
        assert_eq!(
            after_attempt(context(2, 1), &Outcome::Succeeded),
            Next::Finish { status: RunStatus::Succeeded, error: None }
        );
    }

    #[test]
    fn transient_failures_retry_with_growing_delay_until_attempts_run_out() {
        assert_eq!(
            after_attempt(context(1, 1), &Outcome::Transient("timeout".into())),
            Next::Retry { after: Duration::from_secs(1) }
        );
        assert_eq!(
            after_attempt(context(1, 2), &Outcome::Transient("timeout".into())),
            Next::Retry { after: Duration::from_secs(2) }
        );
        assert_eq!(
            after_attempt(context(1, 3), &Outcome::Transient("timeout".into())),
            Next::Finish {
                status: RunStatus::Failed,
                error: Some("gave up after 3 attempts: timeout".into())
            }
        );
    }

    #[test]
    fn permanent_failures_fail_the_run_at_once() {
        assert_eq!(
            after_attempt(context(0, 1), &Outcome::Permanent("bad toml".into())),
            Next::Finish { status: RunStatus::Failed, error: Some("bad toml".into()) }
        );
    }

    #[test]
    fn a_cancel_request_wins_over_any_outcome() {
        let cancelled = AttemptContext { cancel_requested: true, ..context(0, 1) };
        for outcome in [Outcome::Succeeded, Outcome::Transient("x".into())] {
            assert_eq!(
                after_attempt(cancelled, &outcome),
                Next::Finish { status: RunStatus::Cancelled, error: None }
            );
        }
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let delays: Vec<u64> = (1..=9).map(|attempt| backoff(attempt).as_secs()).collect();
        assert_eq!(delays, vec![1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(backoff(0), Duration::from_secs(1));
    }

    #[test]
    fn only_unfinished_runs_can_be_cancelled() {
        assert!(can_cancel(RunStatus::Queued));
        assert!(can_cancel(RunStatus::Running));
        for status in
            [RunStatus::Succeeded, RunStatus::Failed, RunStatus::Cancelled, RunStatus::Rejected]
        {
            assert!(!can_cancel(status));
        }
    }
}
