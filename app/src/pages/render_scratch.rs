//! Scratch render check (temporary).
use chrono::{TimeZone, Utc};
use leptos::prelude::*;
use leptos_router::components::Router;
use leptos_router::location::RequestUrl;
use uuid::Uuid;

use crate::model::*;

fn at(d: u32, h: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, d, h, 0, 0).unwrap()
}

fn entry(deleted: bool) -> ExclusionView {
    ExclusionView {
        id: Uuid::nil(),
        kind: ExclusionKind::Maintenance,
        classification: Classification::Planned,
        title: "DB upgrade".into(),
        reason: "pg 17".into(),
        starts_at: at(3, 2),
        ends_at: at(3, 4),
        tenants: vec![],
        created_by: "Ada".into(),
        created_at: at(1, 0),
        updated_by: "Ada".into(),
        updated_at: at(1, 0),
        deleted,
    }
}

fn target(met: bool) -> TargetView {
    TargetView { target_pct: 99.9, actual_pct: Some(99.5), met }
}

fn report() -> SlaReport {
    SlaReport {
        tenant_slug: "acme".into(),
        tenant_name: "Acme".into(),
        month: "2024-05".into(),
        revision: 2,
        status: ReportStatus::Draft,
        period_start: at(1, 0),
        period_end: Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap(),
        complete: true,
        computed_at: at(20, 0),
        plan: PlanView {
            monthly_fee_cents: 100_000,
            currency: "EUR".into(),
            uptime_target_pct: 99.9,
            success_target_pct: 99.0,
            execution_target_pct: 95.0,
            uptime_tiers: vec![TierView { below_pct: 99.9, credit_pct: 10.0 }],
            success_miss_credit_pct: 5.0,
            execution_miss_credit_pct: 5.0,
            credit_cap_pct: 30.0,
            on_file: false,
        },
        minutes: 44640,
        excluded_minutes: 120,
        down_minutes: 30,
        no_data_minutes: 10,
        downtime_minutes: 40,
        eligible_minutes: 44520,
        uptime: target(false),
        success: target(true),
        execution: target(true),
        runs_counted: 10,
        runs_succeeded: 9,
        runs_timed: 9,
        runs_within_expected: 8,
        budget_allowed_minutes: 44,
        budget_remaining_minutes: -3,
        exclusions: vec![ExcludedEntry {
            id: Uuid::nil(),
            classification: Classification::Planned,
            title: "DB".into(),
            reason: "r".into(),
            starts_at: at(3, 2),
            ends_at: at(3, 4),
            covered_minutes: 120,
            counted_minutes: 120,
        }],
        run_types: vec![RunTypeDurations {
            run_type: "library".into(),
            runs: 3,
            p50_ms: Some(1000.0),
            p95_ms: None,
        }],
        pools: vec![LatencyView {
            name: "generate".into(),
            count: 3,
            p50_ms: Some(3.0),
            p95_ms: Some(40.0),
        }],
        credit: CreditView {
            uptime_tier: Some(TierView { below_pct: 99.9, credit_pct: 10.0 }),
            percent: 10.0,
            capped: false,
            amount_cents: 10_000,
            currency: "EUR".into(),
        },
        review: Some(Signoff { by: "Bob".into(), at: at(20, 1), note: "ok".into() }),
        issue: None,
        changes: vec![ReportChange {
            field: "uptime".into(),
            before: "99.6".into(),
            after: "99.5".into(),
        }],
        revisions: vec![
            RevisionSummary {
                revision: 1,
                status: ReportStatus::Issued,
                computed_at: at(2, 0),
                credit_amount_cents: 0,
            },
            RevisionSummary {
                revision: 2,
                status: ReportStatus::Draft,
                computed_at: at(20, 0),
                credit_amount_cents: 10_000,
            },
        ],
    }
}

fn render(f: impl Fn() -> AnyView + Send + Sync + 'static) -> String {
    let owner = Owner::new();
    owner.with(|| {
        provide_context(RequestUrl::new("http://localhost/x"));
        view! { <Router>{f()}</Router> }.to_html()
    })
}

#[test]
fn scratch() {
    let html = render(|| {
        let act = ServerAction::<crate::server_fns::SlaReportAction>::new();
        let note = RwSignal::new(String::new());
        view! { <super::sla_report::ReportView report=report() can_act=true act note /> }.into_any()
    });
    std::fs::write("/tmp/scratch/report.html", &html).unwrap();

    let ledger = ExclusionsPage {
        entries: vec![entry(false), entry(true)],
        changes: vec![ExclusionChange {
            exclusion_id: Uuid::nil(),
            action: "created".into(),
            changed_by: "Ada".into(),
            changed_at: at(1, 0),
            reason: "why".into(),
            before: None,
            after: None,
        }],
        tenants: vec![TenantOption { slug: "acme".into(), name: "Acme".into() }],
        min_notice_hours: 72,
        can_edit: true,
    };
    let html = render(move || {
        let form = super::exclusions::EntryForm::new();
        let save = ServerAction::<crate::server_fns::SaveExclusion>::new();
        let withdraw = super::exclusions::Withdrawals::new();
        let ledger = ledger.clone();
        view! { <super::exclusions::LedgerView ledger form save withdraw /> }.into_any()
    });
    std::fs::write("/tmp/scratch/exclusions.html", &html).unwrap();

    let list = SlaReportList {
        month: "2024-05".into(),
        rows: vec![
            SlaReportRow {
                tenant_slug: "acme".into(),
                tenant_name: "Acme".into(),
                status: Some(ReportStatus::Issued),
                revision: Some(1),
                uptime_pct: Some(99.95),
                credit_amount_cents: Some(25000),
                currency: Some("EUR".into()),
            },
            SlaReportRow {
                tenant_slug: "globex".into(),
                tenant_name: "Globex".into(),
                status: None,
                revision: None,
                uptime_pct: None,
                credit_amount_cents: None,
                currency: None,
            },
        ],
        can_review: true,
    };
    let html = render(move || {
        let list = list.clone();
        view! { <super::sla::ReportList list /> }.into_any()
    });
    std::fs::write("/tmp/scratch/sla.html", &html).unwrap();

    let uptime = UptimeWindow {
        minutes: 43200,
        up_minutes: 43000,
        down_minutes: 100,
        no_data_minutes: 100,
        uptime_pct: Some(99.54),
    };
    let sw = SuccessWindow { counted: 10, succeeded: 9, success_pct: Some(90.0) };
    let page = ReliabilityPage {
        numbers: Reliability {
            from: at(1, 0),
            to: at(31, 0),
            uptime: uptime.clone(),
            success: sw.clone(),
            success_30d: sw,
            run_types: vec![RunTypeReliability {
                run_type: "library".into(),
                succeeded: 9,
                failed: 1,
                p50_ms: Some(1200.0),
                p95_ms: Some(3000.0),
                within_expected_pct: Some(88.0),
            }],
            pools: vec![],
            api_routes: vec![LatencyView {
                name: "GET /api/v1/runs".into(),
                count: 5,
                p50_ms: Some(4.2),
                p95_ms: Some(20.0),
            }],
        },
        days: vec![DayUptimeView {
            day: at(1, 0).date_naive(),
            up_minutes: 1400,
            down_minutes: 20,
            no_data_minutes: 20,
        }],
        uptime_bars_svg: "<svg></svg>".into(),
        durations_svg: "<svg></svg>".into(),
        success_svg: String::new(),
        start_latency_svg: String::new(),
        queue_depth_svg: String::new(),
        burndown_svg: String::new(),
        alerts: vec![
            BurnAlertView {
                objective: "uptime".into(),
                rule: "1 h and 5 min at 14.4×".into(),
                severity: "page".into(),
                long_rate: Some(20.0),
                short_rate: Some(16.0),
                firing: true,
            },
            BurnAlertView {
                objective: "run success".into(),
                rule: "6 h and 30 min at 6×".into(),
                severity: "ticket".into(),
                long_rate: Some(1.0),
                short_rate: None,
                firing: false,
            },
        ],
        upcoming_maintenance: vec![entry(false)],
    };
    let html = render(move || {
        let page = page.clone();
        view! { <super::reliability::ReliabilityView page /> }.into_any()
    });
    std::fs::write("/tmp/scratch/reliability.html", &html).unwrap();
}
