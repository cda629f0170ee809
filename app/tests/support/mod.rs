//! A backend with one running run, a run type with every kind of parameter, and a pool:
//! enough for every page to show something. Shared by the tests.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use app::backend::{Backend, BackendError, BackendResult};
use app::model::*;
use chrono::{TimeZone, Utc};
use serde_json::json;
use uuid::Uuid;

pub(crate) const RUN_ID: Uuid = Uuid::from_u128(0x0f8fad5b_d9cb_469f_a165_70867728950e);

#[derive(Clone)]
pub(crate) struct FakeBackend {
    pub(crate) viewer: Viewer,
    /// The parameters of the last submission.
    pub(crate) submitted: Arc<Mutex<Option<serde_json::Value>>>,
}

impl FakeBackend {
    pub(crate) fn new(role: Role) -> Self {
        let viewer = Viewer {
            user_id: Uuid::from_u128(7),
            email: "ada@example.com".to_string(),
            name: "Ada".to_string(),
            role,
            tenant_slug: (role == Role::Customer).then(|| "acme".to_string()),
        };
        FakeBackend { viewer, submitted: Arc::default() }
    }
}

fn at(minute: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, minute, 0).unwrap()
}

pub(crate) fn summary() -> RunSummary {
    RunSummary {
        id: RUN_ID,
        tenant: "acme".to_string(),
        run_type: "library".to_string(),
        status: RunStatus::Running,
        created_at: at(0),
        started_at: Some(at(1)),
        finished_at: None,
    }
}

pub(crate) fn detail() -> RunDetail {
    let job = JobView {
        id: Uuid::from_u128(1),
        position: 0,
        step: "generate".to_string(),
        pool: "generate".to_string(),
        status: JobStatus::Running,
        attempts: 1,
        max_attempts: 3,
        queued_at: Some(at(0)),
        started_at: Some(at(1)),
        finished_at: None,
        error: None,
    };
    let artifact = ArtifactInfo {
        file_name: "billing.tar.gz".to_string(),
        size_bytes: 2_048,
        sha256: "ab".repeat(32),
    };
    RunDetail {
        summary: summary(),
        params: json!({ "name": "billing", "replicas": 2 }),
        field_errors: BTreeMap::new(),
        error: None,
        cancel_requested: false,
        jobs: vec![job],
        artifact: Some(artifact),
    }
}

fn param(name: &str, kind: ParamKind, default: Option<serde_json::Value>) -> ParamView {
    ParamView {
        name: name.to_string(),
        label: name.to_string(),
        help: format!("help for {name}"),
        kind,
        required: true,
        default,
        choices: if kind == ParamKind::Choice { vec!["go".into(), "rust".into()] } else { vec![] },
        pattern: None,
        min_length: None,
        max_length: None,
    }
}

fn pool() -> PoolView {
    PoolView {
        name: "generate".to_string(),
        size: 4,
        queue_depth: 2,
        running: 1,
        updated_at: None,
        updated_by: None,
    }
}

#[async_trait::async_trait]
impl Backend for FakeBackend {
    fn viewer(&self) -> &Viewer {
        &self.viewer
    }

    async fn run_types(&self) -> BackendResult<Vec<RunTypeView>> {
        Ok(vec![RunTypeView {
            name: "library".to_string(),
            title: "Library".to_string(),
            description: "A library".to_string(),
            expected_duration_secs: 90,
            steps: vec![StepView { name: "generate".into(), pool: "generate".into() }],
            params: vec![
                param("name", ParamKind::String, Some(json!("billing"))),
                param("replicas", ParamKind::Integer, Some(json!(2))),
                param("tests", ParamKind::Boolean, Some(json!(true))),
                param("language", ParamKind::Choice, Some(json!("rust"))),
                param("notes", ParamKind::Text, None),
            ],
        }])
    }

    async fn list_runs(&self, _filter: RunFilter) -> BackendResult<RunPage> {
        Ok(RunPage { runs: vec![summary()], next_cursor: Some("page 2".to_string()) })
    }

    async fn get_run(&self, id: Uuid) -> BackendResult<RunDetail> {
        if id == RUN_ID {
            Ok(detail())
        } else {
            Err(BackendError::NotFound)
        }
    }

    async fn run_logs(&self, id: Uuid, after_id: i64) -> BackendResult<Vec<LogLine>> {
        let line = LogLine {
            id: 1,
            job_id: Uuid::from_u128(1),
            at: at(1),
            level: "info".to_string(),
            message: format!("generating {id}"),
        };
        Ok(if after_id < 1 { vec![line] } else { vec![] })
    }

    async fn submit_run(
        &self,
        _run_type: String,
        params: serde_json::Value,
    ) -> BackendResult<RunDetail> {
        *self.submitted.lock().unwrap() = Some(params);
        Ok(detail())
    }

    async fn cancel_run(&self, _id: Uuid) -> BackendResult<RunDetail> {
        Ok(RunDetail { cancel_requested: true, ..detail() })
    }

    async fn overview(&self) -> BackendResult<Overview> {
        Ok(Overview {
            window_days: 30,
            success_rate: Some(0.875),
            counted_runs: 8,
            succeeded_runs: 7,
            durations: vec![RunTypeDurations {
                run_type: "library".to_string(),
                runs: 8,
                p50_ms: Some(12_000.0),
                p95_ms: Some(30_000.0),
            }],
            durations_svg: r#"<svg id="chart"></svg>"#.to_string(),
            pools: vec![pool()],
        })
    }

    async fn pools(&self) -> BackendResult<PoolsPage> {
        if self.viewer.role != Role::Admin {
            return Err(BackendError::Forbidden);
        }
        let change = PoolChange {
            pool: "generate".to_string(),
            old_size: 2,
            new_size: 4,
            changed_by: "Ada".to_string(),
            changed_at: at(5),
            note: "more".to_string(),
        };
        Ok(PoolsPage { pools: vec![pool()], changes: vec![change], max_size: 32 })
    }

    async fn set_pool_size(
        &self,
        _pool: String,
        _size: u32,
        _note: String,
    ) -> BackendResult<PoolsPage> {
        self.pools().await
    }
}
