//! What the pools page, the overview's pool table and `/api/v1/pools` show of the worker
//! pools: settings, live numbers, health, worker processes, changes and scaling decisions,
//! and the shape of an admin's change.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How a pool is doing, in the order a problem is named first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolHealth {
    /// An admin paused it: nothing new starts.
    Paused,
    /// Jobs have waited longer than the pool's target start latency.
    Backlogged,
    /// Every slot is busy and jobs are waiting.
    AtCapacity,
    /// Running jobs or picking them up.
    Active,
    /// Nothing to do.
    Idle,
}

impl PoolHealth {
    pub fn label(self) -> &'static str {
        match self {
            PoolHealth::Paused => "paused",
            PoolHealth::Backlogged => "backlogged",
            PoolHealth::AtCapacity => "at capacity",
            PoolHealth::Active => "active",
            PoolHealth::Idle => "idle",
        }
    }
}

/// Whether the autoscaler applies its decisions or only records them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoscaleMode {
    On,
    DryRun,
}

impl AutoscaleMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AutoscaleMode::On => "on",
            AutoscaleMode::DryRun => "dry_run",
        }
    }

    pub fn parse(text: &str) -> Option<AutoscaleMode> {
        match text {
            "on" => Some(AutoscaleMode::On),
            "dry_run" => Some(AutoscaleMode::DryRun),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AutoscaleMode::On => "on",
            AutoscaleMode::DryRun => "dry run (decisions recorded, not applied)",
        }
    }
}

/// A pool's settings as admins set them; `size` is the autoscaler's current choice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolSettingsView {
    /// Slots across all worker processes together.
    pub size: u32,
    pub min_size: u32,
    pub max_size: u32,
    pub paused: bool,
    pub autoscale: AutoscaleMode,
    pub target_start_ms: u32,
    pub cooldown_secs: u32,
    /// The note of the last admin change (why it is paused, say).
    pub note: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

/// A worker process's share of a pool, as its last heartbeat reported it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolWorkerView {
    pub host: String,
    pub pid: i32,
    pub version: String,
    pub slots: u32,
    pub running: u32,
    pub jobs_done: i64,
    pub started_at: DateTime<Utc>,
    pub heartbeat_at: DateTime<Utc>,
    pub state: WorkerState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkerState {
    Live,
    /// Stopping: finishing what it runs, taking nothing new.
    Draining,
    /// Silent for longer than the orphan timeout; its jobs are taken over.
    Lost,
    Stopped,
}

impl WorkerState {
    pub fn label(self) -> &'static str {
        match self {
            WorkerState::Live => "live",
            WorkerState::Draining => "draining",
            WorkerState::Lost => "lost",
            WorkerState::Stopped => "stopped",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolView {
    pub name: String,
    /// Slots across all worker processes (the pool's current size).
    pub size: u32,
    /// Jobs due and waiting for a slot.
    pub queue_depth: i64,
    pub running: i64,
    pub oldest_wait_ms: Option<i64>,
    /// P95 of queued-to-started over the last 15 minutes, first attempts only.
    pub p95_start_ms: Option<f64>,
    /// The size the autoscaler's rule wants now, cooldown aside (the size while paused).
    pub desired_size: u32,
    pub health: PoolHealth,
    pub settings: PoolSettingsView,
    /// Processes seen in the last day, live ones first.
    pub workers: Vec<PoolWorkerView>,
}

/// A recorded admin change to a pool's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolChange {
    pub pool: String,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
    pub note: String,
    /// Human-readable differences, e.g. `max size 8 → 12`, `paused`.
    pub changes: Vec<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// One autoscaler decision with its inputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScalingDecisionView {
    pub pool: String,
    pub decided_at: DateTime<Utc>,
    pub old_size: u32,
    pub new_size: u32,
    /// False in dry-run mode: recorded only.
    pub applied: bool,
    pub waiting: i64,
    pub running: i64,
    pub oldest_wait_ms: Option<i64>,
    pub p95_start_ms: Option<f64>,
    pub reason: String,
}

/// Queue depth and start latency of one pool over the last hours, drawn by the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolCharts {
    pub pool: String,
    pub queue_depth_svg: String,
    pub start_latency_svg: String,
    /// The same numbers as a table: (minute, waiting, running, P95 start ms).
    pub rows: Vec<PoolChartRow>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolChartRow {
    pub at: DateTime<Utc>,
    pub waiting: i64,
    pub running: i64,
    pub p95_start_ms: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolsPage {
    pub pools: Vec<PoolView>,
    pub changes: Vec<PoolChange>,
    pub decisions: Vec<ScalingDecisionView>,
    pub charts: Vec<PoolCharts>,
    pub chart_hours: u32,
    /// The hard limit no pool's maximum may exceed.
    pub max_size: u32,
}

/// An admin's change to a pool; absent fields stay as they are. Sizes are signed so that a
/// negative one is refused with a reason instead of failing to parse.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolUpdate {
    #[serde(default)]
    pub min_size: Option<i64>,
    #[serde(default)]
    pub max_size: Option<i64>,
    #[serde(default)]
    pub paused: Option<bool>,
    #[serde(default)]
    pub autoscale: Option<String>,
    #[serde(default)]
    pub target_start_ms: Option<i64>,
    #[serde(default)]
    pub cooldown_secs: Option<i64>,
    #[serde(default)]
    pub note: Option<String>,
}

impl PoolUpdate {
    /// Reads the pools page's forms, where every field arrives as text: a field the form does
    /// not have stays unchanged, an emptied one and text that is not a whole number are
    /// refused by field.
    pub fn from_form(
        form: &BTreeMap<String, String>,
    ) -> Result<PoolUpdate, BTreeMap<String, String>> {
        let mut errors = BTreeMap::new();
        let mut number = |field: &str| -> Option<i64> {
            let text = form.get(field)?.trim();
            if text.is_empty() {
                errors.insert(field.to_owned(), "enter a whole number".to_owned());
                return None;
            }
            match text.parse::<i64>() {
                Ok(value) => Some(value),
                Err(_) => {
                    errors.insert(field.to_owned(), "must be a whole number".to_owned());
                    None
                }
            }
        };
        let update = PoolUpdate {
            min_size: number("min_size"),
            max_size: number("max_size"),
            target_start_ms: number("target_start_ms"),
            cooldown_secs: number("cooldown_secs"),
            paused: match form.get("paused").map(String::as_str) {
                Some("true") => Some(true),
                Some("false") => Some(false),
                _ => None,
            },
            autoscale: form.get("autoscale").filter(|mode| !mode.is_empty()).cloned(),
            note: form.get("note").cloned(),
        };
        if errors.is_empty() {
            Ok(update)
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect()
    }

    #[test]
    fn a_form_changes_only_the_fields_it_has_and_refuses_emptied_ones() {
        let update = PoolUpdate::from_form(&form(&[("max_size", " 12 "), ("note", "x")])).unwrap();
        assert_eq!(update.min_size, None);
        assert_eq!(update.max_size, Some(12));
        assert_eq!(update.note.as_deref(), Some("x"));
        assert_eq!(update.paused, None);
        let errors =
            PoolUpdate::from_form(&form(&[("min_size", " "), ("max_size", "4")])).unwrap_err();
        assert_eq!(errors["min_size"], "enter a whole number");
    }

    #[test]
    fn form_text_that_is_not_a_number_is_refused_by_field() {
        let errors = PoolUpdate::from_form(&form(&[("min_size", "two"), ("cooldown_secs", "1.5")]))
            .unwrap_err();
        assert_eq!(errors.keys().collect::<Vec<_>>(), ["cooldown_secs", "min_size"]);
    }

    #[test]
    fn unknown_fields_in_json_are_refused() {
        let parsed: Result<PoolUpdate, _> = serde_json::from_str(r#"{"size": 3}"#);
        assert!(parsed.is_err());
        let parsed: PoolUpdate = serde_json::from_str(r#"{"min_size": -1}"#).unwrap();
        assert_eq!(parsed.min_size, Some(-1));
    }
}
