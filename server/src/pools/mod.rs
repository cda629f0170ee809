//! Worker pools as the domain sees them: a pool's settings, an admin's change checked into
//! new settings before anything is stored, the health a pool's numbers add up to, and the
//! autoscaler. No SQL here (`storage::pools`) and no HTTP (`api::pools`).

pub mod autoscale;
pub mod scaler;
mod service;

pub use scaler::LATENCY_WINDOW_MINUTES;

use std::collections::BTreeMap;
use std::time::Duration;

use app::model::{AutoscaleMode, PoolHealth, PoolUpdate};
use serde::{Deserialize, Serialize};

/// Longest note an admin may attach to a change.
const MAX_NOTE_CHARS: usize = 500;
/// Bounds of the autoscaler's knobs.
const MAX_TARGET_START_MS: i64 = 3_600_000;
const MAX_COOLDOWN_SECS: i64 = 86_400;
/// The key under which a change that changes nothing is refused.
pub const NOTHING_CHANGED: &str = "settings";

/// One pool's stored settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolSettings {
    pub size: u32,
    pub min_size: u32,
    pub max_size: u32,
    pub paused: bool,
    pub autoscale: AutoscaleMode,
    pub target_start_ms: u32,
    pub cooldown_secs: u32,
    pub note: String,
}

impl PoolSettings {
    /// Applies an admin's change, or says per field why it cannot be applied. The size is
    /// carried into the new bounds, so a narrower range takes effect at once.
    pub fn apply(
        &self,
        update: &PoolUpdate,
        hard_limit: u32,
    ) -> Result<PoolSettings, BTreeMap<String, String>> {
        let mut errors = BTreeMap::new();
        let mut size_field = |field: &str, value: Option<i64>, current: u32| -> u32 {
            match value {
                None => current,
                Some(value) if value < 0 => {
                    errors.insert(field.to_owned(), "must not be negative".to_owned());
                    current
                }
                Some(value) if value > i64::from(hard_limit) => {
                    errors.insert(
                        field.to_owned(),
                        format!("must be at most {hard_limit}, the hard limit"),
                    );
                    current
                }
                Some(value) => value as u32,
            }
        };
        let min_size = size_field("min_size", update.min_size, self.min_size);
        let max_size = size_field("max_size", update.max_size, self.max_size);
        if min_size > max_size && !errors.contains_key("min_size") {
            errors.insert(
                "min_size".to_owned(),
                format!("must not be above the maximum size ({max_size})"),
            );
        }

        let target_start_ms = match update.target_start_ms {
            None => self.target_start_ms,
            Some(ms) if (1..=MAX_TARGET_START_MS).contains(&ms) => ms as u32,
            Some(_) => {
                errors.insert(
                    "target_start_ms".to_owned(),
                    format!("must be between 1 and {MAX_TARGET_START_MS} milliseconds"),
                );
                self.target_start_ms
            }
        };
        let cooldown_secs = match update.cooldown_secs {
            None => self.cooldown_secs,
            Some(secs) if (0..=MAX_COOLDOWN_SECS).contains(&secs) => secs as u32,
            Some(_) => {
                errors.insert(
                    "cooldown_secs".to_owned(),
                    format!("must be between 0 and {MAX_COOLDOWN_SECS} seconds"),
                );
                self.cooldown_secs
            }
        };
        let autoscale = match update.autoscale.as_deref() {
            None => self.autoscale,
            Some(text) => AutoscaleMode::parse(text).unwrap_or_else(|| {
                errors.insert("autoscale".to_owned(), "must be \"on\" or \"dry_run\"".to_owned());
                self.autoscale
            }),
        };
        let note = update.note.as_deref().map(str::trim).unwrap_or_default();
        if note.chars().count() > MAX_NOTE_CHARS {
            errors
                .insert("note".to_owned(), format!("must be at most {MAX_NOTE_CHARS} characters"));
        }
        if note.contains('\0') {
            errors.insert("note".to_owned(), "must not contain NUL characters".to_owned());
        }

        if !errors.is_empty() {
            return Err(errors);
        }
        let after = PoolSettings {
            size: self.size.clamp(min_size, max_size),
            min_size,
            max_size,
            paused: update.paused.unwrap_or(self.paused),
            autoscale,
            target_start_ms,
            cooldown_secs,
            note: note.to_owned(),
        };
        // A change of nothing but the note would fill the change record with non-changes.
        let same_settings = PoolSettings { note: self.note.clone(), ..after.clone() } == *self;
        if same_settings {
            errors.insert(
                NOTHING_CHANGED.to_owned(),
                "nothing to change: every setting already has this value (a note is saved with a change)"
                    .to_owned(),
            );
            return Err(errors);
        }
        Ok(after)
    }

    pub fn target_start(&self) -> Duration {
        Duration::from_millis(u64::from(self.target_start_ms))
    }

    /// The differences from `before`, for the change record, e.g. `max size 8 → 12`.
    pub fn describe_changes(&self, before: &PoolSettings) -> Vec<String> {
        let mut changes = Vec::new();
        let mut number = |label: &str, old: u32, new: u32, unit: &str| {
            if old != new {
                changes.push(format!("{label} {old}{unit} → {new}{unit}"));
            }
        };
        number("min size", before.min_size, self.min_size, "");
        number("max size", before.max_size, self.max_size, "");
        number("size", before.size, self.size, "");
        number("target start", before.target_start_ms, self.target_start_ms, " ms");
        number("cooldown", before.cooldown_secs, self.cooldown_secs, " s");
        if before.autoscale != self.autoscale {
            changes.push(format!("autoscale {}", self.autoscale.as_str()));
        }
        match (before.paused, self.paused) {
            (false, true) => changes.push("paused".to_owned()),
            (true, false) => changes.push("resumed".to_owned()),
            _ => {}
        }
        changes
    }
}

/// A pool's live numbers, as the health rule and the autoscaler read them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PoolLoad {
    pub waiting: u32,
    pub running: u32,
    pub oldest_wait: Option<Duration>,
}

/// Paused first, then a backlog older than the target, then every slot busy with more
/// waiting, then work in hand, then idle.
pub fn health(settings: &PoolSettings, load: &PoolLoad) -> PoolHealth {
    let backlogged = load.oldest_wait.is_some_and(|wait| wait > settings.target_start());
    if settings.paused {
        PoolHealth::Paused
    } else if load.waiting > 0 && backlogged {
        PoolHealth::Backlogged
    } else if load.waiting > 0 && load.running >= settings.size {
        PoolHealth::AtCapacity
    } else if load.waiting > 0 || load.running > 0 {
        PoolHealth::Active
    } else {
        PoolHealth::Idle
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> PoolSettings {
        PoolSettings {
            size: 2,
            min_size: 1,
            max_size: 8,
            paused: false,
            autoscale: AutoscaleMode::On,
            target_start_ms: 5_000,
            cooldown_secs: 60,
            note: String::new(),
        }
    }

    #[test]
    fn sizes_are_refused_with_a_reason_when_negative_above_the_limit_or_crossed() {
        let errors = settings()
            .apply(&PoolUpdate { min_size: Some(-1), max_size: Some(33), ..Default::default() }, 32)
            .unwrap_err();
        assert_eq!(errors["min_size"], "must not be negative");
        assert_eq!(errors["max_size"], "must be at most 32, the hard limit");

        let errors = settings()
            .apply(&PoolUpdate { min_size: Some(5), max_size: Some(3), ..Default::default() }, 32)
            .unwrap_err();
        assert_eq!(errors["min_size"], "must not be above the maximum size (3)");
    }

    #[test]
    fn the_other_knobs_are_checked_too() {
        let errors = settings()
            .apply(
                &PoolUpdate {
                    autoscale: Some("sometimes".into()),
                    target_start_ms: Some(0),
                    cooldown_secs: Some(-5),
                    note: Some("x".repeat(501)),
                    ..Default::default()
                },
                32,
            )
            .unwrap_err();
        let fields: Vec<&String> = errors.keys().collect();
        assert_eq!(fields, ["autoscale", "cooldown_secs", "note", "target_start_ms"]);
    }

    #[test]
    fn new_bounds_carry_the_size_into_them_and_the_change_is_described() {
        let before = settings();
        let after = before
            .apply(
                &PoolUpdate {
                    min_size: Some(4),
                    max_size: Some(6),
                    paused: Some(true),
                    note: Some("  deploy  ".into()),
                    ..Default::default()
                },
                32,
            )
            .unwrap();
        assert_eq!((after.size, after.min_size, after.max_size, after.paused), (4, 4, 6, true));
        assert_eq!(after.note, "deploy");
        assert_eq!(
            after.describe_changes(&before),
            ["min size 1 → 4", "max size 8 → 6", "size 2 → 4", "paused"]
        );
    }

    #[test]
    fn a_change_of_nothing_but_the_note_is_refused() {
        for update in [
            PoolUpdate::default(),
            PoolUpdate { note: Some("just saying".into()), ..Default::default() },
            PoolUpdate { min_size: Some(1), paused: Some(false), ..Default::default() },
        ] {
            let errors = settings().apply(&update, 32).unwrap_err();
            assert_eq!(errors.keys().collect::<Vec<_>>(), [NOTHING_CHANGED], "{update:?}");
        }
        // Another note alone is not a change; another note with a change is.
        let noted = PoolSettings { note: "old".into(), ..settings() };
        let update =
            PoolUpdate { paused: Some(true), note: Some("new".into()), ..Default::default() };
        assert_eq!(noted.apply(&update, 32).unwrap().note, "new");
    }

    #[test]
    fn health_names_the_most_urgent_state() {
        let busy = |waiting, running, wait_secs: Option<u64>| PoolLoad {
            waiting,
            running,
            oldest_wait: wait_secs.map(Duration::from_secs),
        };
        let paused = PoolSettings { paused: true, ..settings() };
        assert_eq!(health(&paused, &busy(5, 0, Some(60))), PoolHealth::Paused);
        assert_eq!(health(&settings(), &busy(5, 2, Some(60))), PoolHealth::Backlogged);
        assert_eq!(health(&settings(), &busy(5, 2, Some(1))), PoolHealth::AtCapacity);
        assert_eq!(health(&settings(), &busy(1, 1, Some(1))), PoolHealth::Active);
        assert_eq!(health(&settings(), &busy(0, 1, None)), PoolHealth::Active);
        assert_eq!(health(&settings(), &busy(0, 0, None)), PoolHealth::Idle);
    }
}
