//! The autoscaler's rule, as a pure function of one pool's numbers: grow to what is waiting
//! and running when jobs wait longer than the pool's target start latency, shrink to what is
//! in use once nothing waits, always within the admin's bounds and never twice within the
//! cooldown. The loop that feeds it and records its decisions is in `pools::scaler`.

use std::time::Duration;

/// What the rule looks at for one pool.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleInput {
    pub size: u32,
    pub min_size: u32,
    pub max_size: u32,
    pub paused: bool,
    /// Jobs due and waiting for a slot.
    pub waiting: u32,
    pub running: u32,
    /// How long the oldest waiting job has waited.
    pub oldest_wait: Option<Duration>,
    /// P95 of start latency over the last 15 minutes.
    pub p95_start: Option<Duration>,
    pub target_start: Duration,
    pub cooldown: Duration,
    /// Time since the size last changed (by anyone).
    pub since_resize: Duration,
}

/// A change of size and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub new_size: u32,
    pub reason: String,
}

/// The size the pool should have now, or `None` to leave it.
pub fn decide(input: &ScaleInput) -> Option<Decision> {
    if input.paused || input.since_resize < input.cooldown {
        return None;
    }
    let demand = input.waiting.saturating_add(input.running);
    let wanted = demand.clamp(input.min_size, input.max_size);
    let slow = input.oldest_wait.is_some_and(|wait| wait > input.target_start)
        || input.p95_start.is_some_and(|p95| p95 > input.target_start);

    if input.waiting > 0 && slow && wanted > input.size {
        let capped = if demand > input.max_size {
            format!("; capped at the maximum {}", input.max_size)
        } else {
            String::new()
        };
        return Some(Decision {
            new_size: wanted,
            reason: format!(
                "jobs wait longer than the {} ms target: {} waiting and {} running need {demand} \
                 slots{capped}",
                input.target_start.as_millis(),
                input.waiting,
                input.running
            ),
        });
    }
    if input.waiting == 0 && wanted < input.size {
        let floor = if demand < input.min_size {
            format!("; kept at the minimum {}", input.min_size)
        } else {
            String::new()
        };
        return Some(Decision {
            new_size: wanted,
            reason: format!(
                "nothing waits and {} of {} slots are busy{floor}",
                input.running, input.size
            ),
        });
    }
    if input.size < input.min_size || input.size > input.max_size {
        let new_size = input.size.clamp(input.min_size, input.max_size);
        return Some(Decision {
            new_size,
            reason: format!("size brought within {}..={}", input.min_size, input.max_size),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ScaleInput {
        ScaleInput {
            size: 2,
            min_size: 1,
            max_size: 8,
            paused: false,
            waiting: 0,
            running: 0,
            oldest_wait: None,
            p95_start: None,
            target_start: Duration::from_secs(5),
            cooldown: Duration::from_secs(60),
            since_resize: Duration::from_secs(600),
        }
    }

    fn check(input: ScaleInput, expected: Option<u32>) {
        assert_eq!(decide(&input).map(|decision| decision.new_size), expected, "{input:?}");
    }

    #[test]
    fn a_backlog_older_than_the_target_grows_the_pool_to_the_demand() {
        let slow = ScaleInput {
            waiting: 3,
            running: 2,
            oldest_wait: Some(Duration::from_secs(9)),
            ..input()
        };
        let decision = decide(&slow).unwrap();
        assert_eq!(decision.new_size, 5);
        assert!(decision.reason.contains("3 waiting and 2 running need 5 slots"), "{decision:?}");
    }

    #[test]
    fn growth_stops_at_the_maximum_and_says_so() {
        let flood = ScaleInput {
            waiting: 40,
            running: 2,
            p95_start: Some(Duration::from_secs(30)),
            ..input()
        };
        let decision = decide(&flood).unwrap();
        assert_eq!(decision.new_size, 8);
        assert!(decision.reason.contains("capped at the maximum 8"), "{decision:?}");
    }

    #[test]
    fn jobs_that_start_within_the_target_do_not_grow_the_pool() {
        check(
            ScaleInput {
                waiting: 2,
                running: 2,
                oldest_wait: Some(Duration::from_millis(800)),
                p95_start: Some(Duration::from_secs(1)),
                ..input()
            },
            None,
        );
    }

    #[test]
    fn an_idle_pool_shrinks_to_what_is_busy_but_not_below_the_minimum() {
        check(ScaleInput { size: 6, running: 3, ..input() }, Some(3));
        let decision = decide(&ScaleInput { size: 6, ..input() }).unwrap();
        assert_eq!(decision.new_size, 1);
        assert!(decision.reason.contains("kept at the minimum 1"), "{decision:?}");
        check(ScaleInput { size: 6, min_size: 0, ..input() }, Some(0));
    }

    #[test]
    fn nothing_changes_within_the_cooldown_or_while_paused() {
        let slow = ScaleInput { waiting: 5, oldest_wait: Some(Duration::from_secs(60)), ..input() };
        check(slow, Some(5));
        check(ScaleInput { since_resize: Duration::from_secs(59), ..slow }, None);
        check(ScaleInput { paused: true, ..slow }, None);
        check(ScaleInput { size: 6, since_resize: Duration::from_secs(10), ..input() }, None);
    }

    #[test]
    fn a_pool_that_is_waiting_but_fast_keeps_its_size_even_when_over_provisioned() {
        // Waiting jobs (just queued) stop shrinking; they will start within the target.
        check(ScaleInput { size: 6, waiting: 1, running: 1, ..input() }, None);
    }

    #[test]
    fn a_size_outside_new_bounds_is_brought_back_within_them() {
        check(ScaleInput { size: 10, waiting: 4, running: 6, ..input() }, Some(8));
        check(ScaleInput { size: 0, min_size: 2, max_size: 4, waiting: 1, ..input() }, Some(2));
    }
}
