//! Reliability and SLA reports through the JSON API: a month with an outage, hand-computed,
//! reviewed and issued; a late exclusion that makes a new revision; the ledger's rules; the
//! rollups fed by real runs and probes; leases; and the generated demo history.

use std::time::Duration;

use axum::http::{header, Method, StatusCode};
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with, TestApp, Workers};

const MANAGER: (&str, &str) = ("manager@factory.test", "manager-demo-pass");
const ADMIN: (&str, &str) = ("admin@factory.test", "admin-demo-pass");

impl TestApp {
    /// One probe a minute through November 2026, failed from 03:00 to 03:50 on the 10th
    /// and missing from 12:00 to 12:10 on the 20th, folded into the rollups.
    async fn november_with_an_outage(&self) {
        sqlx::query(
            "INSERT INTO probe_samples (at, up, latency_ms, prober) \
             SELECT at, NOT (at >= '2026-11-10 03:00Z' AND at < '2026-11-10 03:50Z'), 9, 'test' \
             FROM generate_series('2026-11-01 00:00:20Z'::timestamptz, \
               '2026-11-30 23:59:20Z', interval '1 minute') at \
             WHERE NOT (at >= '2026-11-20 12:00Z' AND at < '2026-11-20 12:10Z')",
        )
        .execute(self.store().pool())
        .await
        .unwrap();
        let (from, to) =
            ("2026-11-01T00:00:00Z".parse().unwrap(), "2026-11-30T00:00:00Z".parse().unwrap());
        self.store().rebuild_uptime(from, to).await.unwrap();
    }

    async fn put_plan(&self, admin: &str, tenant: &str, fee_cents: i64, currency: &str) {
        let plan = json!({
            "monthly_fee_cents": fee_cents, "currency": currency,
            "uptime_target": 99.9, "success_target": 95, "execution_target": 90,
            "uptime_tiers": [
                { "below": 99.9, "credit": 10 }, { "below": 99, "credit": 25 },
                { "below": 95, "credit": 100 }
            ],
            "success_miss_credit": 5, "execution_miss_credit": 5, "credit_cap": 100
        });
        let path = format!("/api/v1/sla/plans/{tenant}");
        let reply = self.session_api(Method::PUT, &path, admin, Some(plan)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    }
}

#[tokio::test]
async fn a_month_with_an_outage_is_credited_reviewed_issued_and_revised_after_a_late_exclusion() {
    let app = spawn_app().await;
    let manager = app.login(MANAGER.0, MANAGER.1).await.unwrap();
    let admin = app.login(ADMIN.0, ADMIN.1).await.unwrap();
    app.november_with_an_outage().await;
    app.put_plan(&admin, "acme", 250_000, "EUR").await;
    app.put_plan(&admin, "globex", 120_000, "USD").await;

    // 30 days = 43 200 minutes; 50 down + 10 without data = 60 minutes of downtime.
    // Uptime 43 140 / 43 200 = 99.861% is below 99.9% but not 99%: the 10% tier.
    let path = "/api/v1/sla/reports/acme/2026-11";
    let report = app.session_api(Method::GET, path, &manager, None).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text());
    let report = report.json();
    assert_eq!(report["status"], "draft");
    assert_eq!(report["revision"], 1);
    assert_eq!(report["minutes"], 43_200);
    assert_eq!(report["down_minutes"], 50);
    assert_eq!(report["no_data_minutes"], 10);
    assert_eq!(report["downtime_minutes"], 60);
    assert_eq!(report["uptime"]["met"], false);
    assert_eq!(report["credit"]["uptime_tier"]["below_pct"], 99.9);
    assert_eq!(report["credit"]["percent"], 10.0);
    assert_eq!(report["credit"]["amount_cents"], 25_000);
    // floor(43 200 × 0.1%) = 43 minutes of budget, 60 used.
    assert_eq!(report["budget_allowed_minutes"], 43);
    assert_eq!(report["budget_remaining_minutes"], -17);

    // The customer sees nothing until the report is issued.
    let customer = app.api(Method::GET, path, &app.acme_token, None).await;
    assert_eq!(customer.status, StatusCode::NOT_FOUND);

    // Issuing needs a review first, and a note.
    let issue = format!("{path}/issue");
    let early = app.session_api(Method::POST, &issue, &manager, Some(json!({"note": "ok"}))).await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.text());
    let review = format!("{path}/review");
    let no_note = app.session_api(Method::POST, &review, &manager, Some(json!({}))).await;
    assert_eq!(no_note.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_note.json()["fields"]["note"].is_string());
    let note = json!({ "note": "numbers checked against the incident log" });
    let reviewed = app.session_api(Method::POST, &review, &manager, Some(note.clone())).await;
    assert_eq!(reviewed.json()["status"], "reviewed");
    assert_eq!(reviewed.json()["review"]["by"], MANAGER.0);
    let issued = app.session_api(Method::POST, &issue, &manager, Some(note)).await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.text());
    assert_eq!(issued.json()["status"], "issued");

    let seen = app.api(Method::GET, path, &app.acme_token, None).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert_eq!(seen.json()["credit"]["amount_cents"], 25_000);
    let list = app.api(Method::GET, "/api/v1/sla/reports?month=2026-11", &app.acme_token, None);
    let list = list.await.json();
    assert_eq!(list["rows"].as_array().unwrap().len(), 1, "{list:#}");
    assert_eq!(list["rows"][0]["tenant_slug"], "acme");
    let other = app.api(Method::GET, "/api/v1/sla/reports/globex/2026-11", &app.acme_token, None);
    assert_eq!(other.await.status, StatusCode::NOT_FOUND);

    let csv = app.api(Method::GET, &format!("{path}.csv"), &app.acme_token, None).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.text().contains("250.00"), "{}", csv.text());
    let pdf = app.api(Method::GET, &format!("{path}.pdf"), &app.acme_token, None).await;
    assert_eq!(pdf.headers[header::CONTENT_TYPE], "application/pdf");
    assert!(pdf.bytes.starts_with(b"%PDF-"));

    // A customer-caused incident for acme only, recorded late, covering 30 of the down
    // minutes: acme's eligible minutes are 43 170 with 20 down + 10 no data, so uptime is
    // 43 140 / 43 170 = 99.93% and no credit is owed. Globex still gets its 10%.
    let incident = json!({
        "kind": "incident", "classification": "customer_caused",
        "title": "Load test", "reason": "acme ran an unannounced load test",
        "starts_at": "2026-11-10T03:00:00Z", "ends_at": "2026-11-10T03:30:00Z",
        "tenants": ["acme"]
    });
    let created = app.session_api(Method::POST, "/api/v1/exclusions", &admin, Some(incident));
    let created = created.await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let recompute = format!("{path}/recompute");
    let revised = app.session_api(Method::POST, &recompute, &manager, None).await.json();
    assert_eq!(revised["revision"], 2);
    assert_eq!(revised["status"], "draft");
    assert_eq!(revised["excluded_minutes"], 30);
    assert_eq!(revised["credit"]["amount_cents"], 0);
    assert_eq!(revised["exclusions"][0]["counted_minutes"], 30);
    let changes = revised["changes"].as_array().unwrap();
    assert!(
        changes.iter().any(|c| c["field"] == "credit amount"
            && c["before"] == "EUR 250.00"
            && c["after"] == "EUR 0.00"),
        "{changes:?}"
    );
    assert_eq!(revised["revisions"].as_array().unwrap().len(), 2);

    // The issued revision is unchanged, for the customer and in the database.
    let seen = app.api(Method::GET, path, &app.acme_token, None).await.json();
    assert_eq!(
        (seen["revision"].clone(), seen["credit"]["amount_cents"].clone()),
        (json!(1), json!(25_000))
    );
    let tamper = sqlx::query("UPDATE sla_reports SET status = 'draft' WHERE status = 'issued'")
        .execute(app.store().pool())
        .await;
    assert!(tamper.is_err(), "an issued report must not change");

    let globex = app.session_api(Method::GET, "/api/v1/sla/reports/globex/2026-11", &manager, None);
    let globex = globex.await.json();
    assert_eq!(globex["excluded_minutes"], 0);
    assert_eq!(globex["credit"]["amount_cents"], 12_000);
    assert_eq!(globex["credit"]["currency"], "USD");
}

#[tokio::test]
async fn bad_months_windows_tenants_and_ledger_entries_get_clear_errors() {
    let app = spawn_app().await;
    let manager = app.login(MANAGER.0, MANAGER.1).await.unwrap();
    let admin = app.login(ADMIN.0, ADMIN.1).await.unwrap();

    let bad_month =
        app.session_api(Method::GET, "/api/v1/sla/reports/acme/2026-13", &manager, None);
    let bad_month = bad_month.await;
    assert_eq!(bad_month.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_month.json()["fields"]["month"].as_str().unwrap().contains("2026-13"));
    let list = app.session_api(Method::GET, "/api/v1/sla/reports?month=26-1", &manager, None);
    assert_eq!(list.await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unknown =
        app.session_api(Method::GET, "/api/v1/sla/reports/nobody/2026-11", &manager, None);
    assert_eq!(unknown.await.status, StatusCode::NOT_FOUND);
    let format =
        app.session_api(Method::GET, "/api/v1/sla/reports/acme/2026-11.xls", &manager, None);
    assert_eq!(format.await.status, StatusCode::NOT_FOUND);
    let future = app.session_api(Method::GET, "/api/v1/sla/reports/acme/2099-01", &manager, None);
    assert_eq!(future.await.status, StatusCode::UNPROCESSABLE_ENTITY);

    let reversed = "/api/v1/reliability?from=2026-11-10&to=2026-11-01";
    let reversed = app.api(Method::GET, reversed, &app.acme_token, None).await;
    assert_eq!(reversed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reversed.json()["fields"]["to"].is_string());
    let garbled = app.api(Method::GET, "/api/v1/reliability?from=yesterday", &app.acme_token, None);
    assert_eq!(garbled.await.status, StatusCode::UNPROCESSABLE_ENTITY);

    let backwards = json!({
        "kind": "maintenance", "classification": "planned", "title": "Upgrade",
        "reason": "minor version", "starts_at": "2099-01-02T10:00:00Z",
        "ends_at": "2099-01-02T09:00:00Z", "tenants": ["nobody"]
    });
    let refused = app.session_api(Method::POST, "/api/v1/exclusions", &admin, Some(backwards));
    let refused = refused.await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text());
    let fields = &refused.json()["fields"];
    assert!(fields["ends_at"].is_string() && fields["tenants"].is_string(), "{fields}");

    // Maintenance needs 72 hours' notice; an incident cannot be in the future.
    let soon = json!({
        "kind": "maintenance", "classification": "planned", "title": "Upgrade",
        "reason": "minor version", "starts_at": chrono::Utc::now() + chrono::TimeDelta::hours(2),
        "ends_at": chrono::Utc::now() + chrono::TimeDelta::hours(3)
    });
    let refused = app.session_api(Method::POST, "/api/v1/exclusions", &admin, Some(soon)).await;
    assert!(refused.json()["fields"]["starts_at"].as_str().unwrap().contains("72 hours"));
    let customer_caused_for_all = json!({
        "kind": "incident", "classification": "customer_caused", "title": "x",
        "reason": "y", "starts_at": "2026-11-01T00:00:00Z", "ends_at": "2026-11-01T01:00:00Z"
    });
    let refused =
        app.session_api(Method::POST, "/api/v1/exclusions", &admin, Some(customer_caused_for_all));
    assert!(refused.await.json()["fields"]["tenants"].is_string());

    // Customers and account managers do not change the ledger; nothing was stored.
    let entry = json!({
        "kind": "incident", "classification": "platform", "title": "x", "reason": "y",
        "starts_at": "2026-11-01T00:00:00Z", "ends_at": "2026-11-01T01:00:00Z"
    });
    let by_manager =
        app.session_api(Method::POST, "/api/v1/exclusions", &manager, Some(entry.clone()));
    assert_eq!(by_manager.await.status, StatusCode::FORBIDDEN);
    let by_customer = app.api(Method::POST, "/api/v1/exclusions", &app.acme_token, Some(entry));
    assert_eq!(by_customer.await.status, StatusCode::FORBIDDEN);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM exclusions")
        .fetch_one(app.store().pool())
        .await
        .unwrap();
    assert_eq!(stored, 0);

    let plan = json!({ "monthly_fee_cents": -5, "currency": "eur" });
    let refused = app.session_api(Method::PUT, "/api/v1/sla/plans/acme", &admin, Some(plan)).await;
    assert!(refused.status.is_client_error(), "{}", refused.text());
}

#[tokio::test]
async fn ledger_changes_record_who_when_why_and_the_entry_before_and_after() {
    let app = spawn_app().await;
    let admin = app.login(ADMIN.0, ADMIN.1).await.unwrap();
    let start = chrono::Utc::now() + chrono::TimeDelta::days(5);
    let entry = |title: &str, reason: &str| {
        json!({
            "kind": "maintenance", "classification": "planned", "title": title,
            "reason": reason, "starts_at": start, "ends_at": start + chrono::TimeDelta::hours(1)
        })
    };
    let created = app
        .session_api(Method::POST, "/api/v1/exclusions", &admin, Some(entry("Upgrade", "v16")))
        .await
        .json();
    let path = format!("/api/v1/exclusions/{}", created["id"].as_str().unwrap());
    let changed = app
        .session_api(Method::PUT, &path, &admin, Some(entry("Upgrade to 16.2", "scope grew")))
        .await;
    assert_eq!(changed.json()["title"], "Upgrade to 16.2");
    let withdrawn = app
        .session_api(Method::DELETE, &path, &admin, Some(json!({ "reason": "postponed" })))
        .await;
    assert_eq!(withdrawn.json()["deleted"], true);

    let ledger = app.session_api(Method::GET, "/api/v1/exclusions", &admin, None).await.json();
    let changes = ledger["changes"].as_array().unwrap();
    let actions: Vec<&str> = changes.iter().map(|c| c["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["deleted", "updated", "created"]);
    assert_eq!(changes[1]["reason"], "scope grew");
    assert_eq!(changes[1]["changed_by"], ADMIN.0);
    assert_eq!(changes[1]["before"]["title"], "Upgrade");
    assert_eq!(changes[1]["after"]["title"], "Upgrade to 16.2");

    // A customer sees announced maintenance on the overview, but not a withdrawn one.
    let upcoming = app.store().upcoming_maintenance(None).await.unwrap();
    assert!(upcoming.is_empty());
}

#[tokio::test]
async fn probes_runs_and_api_calls_feed_the_rollups_as_they_arrive() {
    let app = spawn_app().await;
    let at = |text: &str| text.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    // Two probes in one minute, the second failing: that minute is down, not up.
    for (when, up) in [
        ("2026-11-03T10:00:05Z", true),
        ("2026-11-03T10:00:20Z", false),
        ("2026-11-03T10:01:05Z", true),
    ] {
        let sample = factory::storage::ProbeSample { at: at(when), up, latency_ms: 7, error: None };
        app.store().record_probe("test", &sample).await.unwrap();
    }
    let day: (i32, i32) =
        sqlx::query_as("SELECT up_minutes, down_minutes FROM uptime_days WHERE day = '2026-11-03'")
            .fetch_one(app.store().pool())
            .await
            .unwrap();
    assert_eq!(day, (1, 1));
    let window = app.store().uptime_window(at("2026-11-03T10:00:00Z"), at("2026-11-03T10:05:00Z"));
    let window = window.await.unwrap();
    assert_eq!((window.up_minutes, window.down_minutes, window.no_data_minutes), (1, 1, 3));

    let id = app.submit_id("library", crate::helpers::library_params()).await;
    app.wait_for_status(&app.acme_token, &id, "succeeded").await;
    let batch = app.services.api_timings.drain();
    assert!(batch.iter().any(|row| row.1 == "create run"), "{batch:?}");
    assert!(batch.iter().any(|row| row.1 == "run status"), "{batch:?}");
    app.store().record_api_latency(&batch).await.unwrap();

    let numbers = app.api(Method::GET, "/api/v1/reliability", &app.acme_token, None).await.json();
    assert_eq!(numbers["success"]["counted"], 1, "{numbers:#}");
    assert_eq!(numbers["success"]["succeeded"], 1);
    let run_type = &numbers["run_types"][0];
    assert_eq!(run_type["run_type"], "library");
    assert!(run_type["p95_ms"].as_f64().unwrap() > 0.0);
    let pools: Vec<&str> =
        numbers["pools"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(pools.contains(&"generate") && pools.contains(&"package"), "{pools:?}");
    let routes: Vec<&str> = numbers["api_routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(routes.contains(&"create run") && routes.contains(&"run status"), "{routes:?}");

    // Globex's token sees the platform's uptime but none of acme's runs.
    let globex = app.api(Method::GET, "/api/v1/reliability", &app.globex_token, None).await.json();
    assert_eq!(globex["success"]["counted"], 0);
}

#[tokio::test]
async fn a_lease_belongs_to_one_holder_until_it_expires_and_then_moves() {
    let app = spawn_app_with(Workers::Elsewhere).await;
    let store = app.store();
    let ttl = Duration::from_secs(1);
    assert!(store.try_lease("prober", "a", ttl).await.unwrap());
    assert!(!store.try_lease("prober", "b", ttl).await.unwrap());
    assert!(store.try_lease("prober", "a", ttl).await.unwrap(), "the holder renews");
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    assert!(store.try_lease("prober", "b", ttl).await.unwrap(), "an expired lease moves");
    assert!(!store.try_lease("prober", "a", ttl).await.unwrap());
    store.release_lease("prober", "b").await.unwrap();
    assert!(store.try_lease("prober", "a", ttl).await.unwrap());
}

#[tokio::test]
async fn the_demo_history_gives_last_month_an_outage_exclusions_and_a_credit() {
    let app = spawn_app_with(Workers::Elsewhere).await;
    app.services.load_demo_history(90, 7).await.unwrap();
    // Loading twice replaces the history instead of doubling it.
    app.services.load_demo_history(90, 7).await.unwrap();
    let runs: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM runs r JOIN tenants t ON t.id = r.tenant_id \
         WHERE t.slug = 'demo-history'",
    )
    .fetch_one(app.store().pool())
    .await
    .unwrap();
    assert!((90 * 20..=90 * 40).contains(&runs), "{runs} runs");

    let manager = app.login(MANAGER.0, MANAGER.1).await.unwrap();
    let now = chrono::Utc::now();
    let month = factory::reliability::month::Month::containing(now).unwrap().prev().unwrap();
    let path = format!("/api/v1/sla/reports/demo-history/{month}");
    let report = app.session_api(Method::GET, &path, &manager, None).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text());
    let report = report.json();
    assert!(report["down_minutes"].as_i64().unwrap() >= 45, "{report:#}");
    assert!(report["no_data_minutes"].as_i64().unwrap() >= 15);
    // The maintenance window (2 h) and the customer's incident (40 min) are excluded.
    assert_eq!(report["excluded_minutes"], 160);
    assert_eq!(report["exclusions"].as_array().unwrap().len(), 2);
    assert!(report["credit"]["amount_cents"].as_i64().unwrap() > 0);
    assert!(report["runs_counted"].as_i64().unwrap() > 0);

    // The rollups agree with the rows they summarise: counts exactly, percentiles within
    // the histogram's 5%.
    let (tenant, _) = app.store().tenant_by_slug("demo-history").await.unwrap().unwrap();
    let rollup = app
        .store()
        .run_type_counts(Some(tenant), now - chrono::TimeDelta::days(400), now)
        .await
        .unwrap();
    for row in &rollup {
        let raw: (i64, i64, i64, f64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE status = 'succeeded'), \
               count(*) FILTER (WHERE status = 'failed'), \
               count(*) FILTER (WHERE status = 'succeeded' AND \
                 finished_at - created_at <= make_interval(secs => expected_duration_ms / 1000.0)), \
               percentile_disc(0.95) WITHIN GROUP (ORDER BY \
                 extract(epoch FROM finished_at - created_at) * 1000) \
                 FILTER (WHERE status = 'succeeded')::float8 \
             FROM runs WHERE tenant_id = $1 AND run_type = $2",
        )
        .bind(tenant)
        .bind(&row.run_type)
        .fetch_one(app.store().pool())
        .await
        .unwrap();
        assert_eq!((row.succeeded, row.failed, row.within_expected), (raw.0, raw.1, raw.2));
        let p95 = row.p95_ms.unwrap();
        assert!((p95 - raw.3).abs() / raw.3 < 0.05, "{}: {p95} vs {}", row.run_type, raw.3);
    }
    assert_eq!(rollup.len(), 4, "every run type has history");
}

/// Starts the reliability loops of another "process" (its own services) probing `url`.
fn start_prober(
    app: &TestApp,
    url: &str,
    tasks: &mut tokio::task::JoinSet<()>,
    shutdown: &tokio_util::sync::CancellationToken,
) {
    let mut settings = factory::config::Settings::for_database(&app.database_url);
    settings.probe_interval_secs = 1;
    settings.probe_url = Some(url.to_owned());
    let services = factory::startup::build_services(app.store().clone(), &settings).unwrap();
    factory::reliability::periodic::spawn(&services, shutdown, tasks).unwrap();
}

async fn samples(app: &TestApp) -> Vec<(String, bool)> {
    sqlx::query_as("SELECT prober, up FROM probe_samples ORDER BY id")
        .fetch_all(app.store().pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn one_prober_samples_readyz_however_many_run_and_another_takes_over_when_it_dies() {
    let app = spawn_app_with(Workers::Elsewhere).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/readyz", listener.local_addr().unwrap());
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let shutdown = tokio_util::sync::CancellationToken::new();
    let mut first = tokio::task::JoinSet::new();
    start_prober(&app, &url, &mut first, &shutdown);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let mut second = tokio::task::JoinSet::new();
    start_prober(&app, &url, &mut second, &shutdown);
    tokio::time::sleep(Duration::from_millis(2_500)).await;

    let seen = samples(&app).await;
    assert!(seen.len() >= 3, "{seen:?}");
    assert!(seen.iter().all(|(prober, up)| *prober == seen[0].0 && *up), "{seen:?}");

    // The holder dies without giving the lease back: the other process takes over once the
    // lease (three intervals) has run out.
    first.abort_all();
    tokio::time::sleep(Duration::from_millis(5_500)).await;
    let after = samples(&app).await;
    let holders: std::collections::BTreeSet<&str> =
        after.iter().map(|(prober, _)| prober.as_str()).collect();
    assert_eq!(holders.len(), 2, "{after:?}");
    assert_ne!(after.last().unwrap().0, seen[0].0);
    shutdown.cancel();
}

#[tokio::test]
async fn an_unreachable_control_plane_is_sampled_as_down() {
    let app = spawn_app_with(Workers::Elsewhere).await;
    // Nothing listens on a port that was just freed.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let mut tasks = tokio::task::JoinSet::new();
    start_prober(&app, &format!("http://127.0.0.1:{port}/readyz"), &mut tasks, &shutdown);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    shutdown.cancel();
    let seen = samples(&app).await;
    assert!(!seen.is_empty() && seen.iter().all(|(_, up)| !up), "{seen:?}");
    let error: Option<String> =
        sqlx::query_scalar("SELECT error FROM probe_samples ORDER BY id LIMIT 1")
            .fetch_one(app.store().pool())
            .await
            .unwrap();
    assert!(error.unwrap().contains("request failed"));
}

#[tokio::test]
async fn the_reliability_page_marks_excluded_minutes_per_day_and_renders_every_chart() {
    let app = spawn_app_with(Workers::Elsewhere).await;
    let yesterday = chrono::Utc::now().date_naive() - chrono::TimeDelta::days(1);
    let start = yesterday.and_hms_opt(23, 30, 0).unwrap().and_utc();
    let entry = factory::storage::LedgerEntry {
        kind: app::model::ExclusionKind::Maintenance,
        classification: app::model::Classification::Planned,
        title: "Failover drill".into(),
        reason: "announced last week".into(),
        starts_at: start,
        ends_at: start + chrono::TimeDelta::minutes(90),
        tenant_ids: Vec::new(),
    };
    app.store().insert_exclusion(&entry, "test").await.unwrap();

    let page = app.services.reliability_page(&app.admin_scope().await, None).await.unwrap();
    let excluded = |day: chrono::NaiveDate| {
        page.days.iter().find(|d| d.day == day).map(|d| d.excluded_minutes)
    };
    // 23:30–24:00 yesterday and 00:00–01:00 today.
    assert_eq!(excluded(yesterday), Some(30));
    assert_eq!(excluded(yesterday + chrono::TimeDelta::days(1)), Some(60));
    assert_eq!(page.days.len(), 90);
    for svg in [
        &page.uptime_bars_svg,
        &page.durations_svg,
        &page.success_svg,
        &page.start_latency_svg,
        &page.queue_depth_svg,
        &page.burndown_svg,
    ] {
        assert!(svg.starts_with("<svg") && svg.contains("role=\"img\""), "{svg:.200}");
    }
    assert_eq!(page.alerts.len(), 6, "three rules for each of two objectives");
}
