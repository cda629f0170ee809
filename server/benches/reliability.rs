//! Reliability at scale: a fresh database holding a year of probe samples and a million runs
//! of one tenant, then the overview page, a monthly SLA report and the reliability API timed
//! through the router (no socket), beside the raw `runs` scan that the run rollups replace.
//!
//! `cargo bench -p factory --bench reliability [-- --runs N --days N --samples N]`. The
//! PostgreSQL server is `BENCH_DATABASE_URL` (default: the machine's, as the tests use); the
//! bench database is dropped at the end, also after a failure or Ctrl-C. It prints figures
//! and asserts nothing about them.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context as _};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Datelike as _, TimeDelta, Utc};
use tower::ServiceExt as _;
use uuid::Uuid;

mod common;

use common::{number, say, server_url, BenchDatabase};
use factory::auth::Scope;
use factory::config::Settings;
use factory::startup;
use factory::storage::Store;

/// The window the overview looks back over (`service::OVERVIEW_DAYS`), and so the baseline.
const WINDOW_DAYS: u32 = 30;
/// Seconds between probe samples: the prober's default interval.
const PROBE_EVERY_SECS: f64 = 15.0;
const CUSTOMER: (&str, &str) = ("customer@acme.test", "acme-demo-pass");
const MANAGER: (&str, &str) = ("manager@factory.test", "manager-demo-pass");

/// How much history to load and how many requests to time per target.
#[derive(Clone, Copy, Debug)]
struct Scale {
    runs: u64,
    days: u32,
    samples: usize,
}

/// Sorted latencies of one target.
struct Latencies(Vec<Duration>);

fn main() -> anyhow::Result<()> {
    let scale = Scale::from_args(std::env::args().skip(1))?;
    leptos_defaults();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the tokio runtime")?;
    runtime.block_on(run(scale))
}

impl Scale {
    /// Reads `--runs N --days N --samples N` (underscores allowed); the `--bench` flag that
    /// cargo passes to every benchmark is ignored.
    fn from_args(mut args: impl Iterator<Item = String>) -> anyhow::Result<Scale> {
        let mut scale = Scale { runs: 1_000_000, days: 365, samples: 200 };
        while let Some(flag) = args.next() {
            if flag == "--bench" {
                continue;
            }
            let value = args.next().with_context(|| format!("{flag} needs a value"))?;
            match flag.as_str() {
                "--runs" => scale.runs = number(&flag, &value)?,
                "--days" => scale.days = number(&flag, &value)?,
                "--samples" => scale.samples = number(&flag, &value)?,
                other => bail!("unknown argument {other:?}; expected --runs, --days or --samples"),
            }
        }
        ensure!(
            scale.runs > 0 && scale.days > 0 && scale.samples > 0,
            "--runs, --days and --samples must be at least 1"
        );
        Ok(scale)
    }
}

/// The Leptos settings `.ci/env.sh` exports for the tests, unless the caller set them. Set
/// before the runtime starts its threads.
fn leptos_defaults() {
    let defaults = [
        ("LEPTOS_OUTPUT_NAME", "factory"),
        ("LEPTOS_SITE_ROOT", "target/site"),
        ("LEPTOS_SITE_PKG_DIR", "pkg"),
    ];
    for (name, value) in defaults {
        if std::env::var_os(name).is_none() {
            std::env::set_var(name, value);
        }
    }
}

async fn run(scale: Scale) -> anyhow::Result<()> {
    let database = BenchDatabase::create(&server_url(), "reliability").await?;
    say(format_args!(
        "reliability benchmark: {} runs, {} days of probe samples, {} requests per target, \
         database {}",
        scale.runs, scale.days, scale.samples, database.name
    ));

    // The benchmark runs as its own task so that a panic in it, or Ctrl-C, still ends with
    // the database dropped.
    let task = tokio::spawn(benchmark(database.url.clone(), scale));
    let outcome = tokio::select! {
        joined = task => joined.unwrap_or_else(|error| Err(anyhow!("benchmark task: {error}"))),
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted")),
    };
    database.drop_best_effort().await;
    outcome
}

/// Sets up the database like `spawn_app_with` (without workers), loads the history and
/// prints the timings.
async fn benchmark(url: String, scale: Scale) -> anyhow::Result<()> {
    let mut settings = Settings::for_database(&url);
    // The prober would request a server this benchmark does not run.
    settings.probe_interval_secs = 0;
    let store = Store::connect(&url, settings.db_max_connections)
        .await
        .context("connect to the bench database")?;
    store.migrate().await?;
    store.seed_demo().await.context("seed the demo accounts")?;
    let token = factory::auth::create_token(store.pool(), "acme", "bench")
        .await
        .context("create an API token for acme")?
        .context("tenant acme is missing after seeding")?;
    let scope = factory::auth::token_scope(store.pool(), &token)
        .await
        .context("read the token's scope")?
        .context("the new token has no scope")?;

    load(&store, &scope, scale).await?;
    agreement(&store, &scope).await?;

    let services = startup::build_services(store.clone(), &settings)?;
    let router = startup::app(services, startup::leptos_options()?);
    let customer = login(&router, CUSTOMER).await?;
    let manager = login(&router, MANAGER).await?;
    let report_path = format!("/api/v1/sla/reports/acme/{}", last_complete_month(Utc::now()));
    check_content(&router, &customer, &manager, &token, &report_path).await?;

    let router = &router;
    let (customer, manager, token) = (customer.as_str(), manager.as_str(), token.as_str());
    let report_path = report_path.as_str();
    let (store, scope) = (&store, &scope);
    let samples = scale.samples;
    let rows = [
        (
            "GET /overview (customer page)".to_owned(),
            time(samples, move || get(router, "/overview", Auth::Cookie(customer))).await?,
        ),
        (
            format!("GET {report_path} (manager)"),
            time(samples, move || get(router, report_path, Auth::Cookie(manager))).await?,
        ),
        (
            "GET /api/v1/reliability (token)".to_owned(),
            time(samples, move || get(router, "/api/v1/reliability", Auth::Bearer(token))).await?,
        ),
        (
            format!("{WINDOW_DAYS}-day success + P50/P95, rollups"),
            time(samples, move || from_rollups(store, scope)).await?,
        ),
        (
            format!("{WINDOW_DAYS}-day success + P50/P95, raw runs"),
            time(samples, move || from_raw_runs(store, scope)).await?,
        ),
    ];
    print_table(&rows);
    Ok(())
}

/// Loads the probe samples and the runs with one statement each, then rebuilds the rollups
/// as a bulk load must, printing what each step took.
async fn load(store: &Store, scope: &Scope, scale: Scale) -> anyhow::Result<()> {
    let tenant = scope.tenant_id().context("a token's scope has a tenant")?;
    let to = Utc::now();
    let from = to - TimeDelta::days(i64::from(scale.days));
    say("load");
    let started = Instant::now();

    step("probe samples", load_probes(store, from, to)).await?;
    step("uptime rollups", async {
        store.rebuild_uptime(from, to).await?;
        Ok::<_, anyhow::Error>(None)
    })
    .await?;
    step("runs", load_runs(store, tenant, scale.runs, from, to)).await?;
    step("jobs (one per accepted run)", load_jobs(store)).await?;
    step("run rollups", async {
        store.rebuild_run_rollups().await?;
        Ok::<_, anyhow::Error>(None)
    })
    .await?;
    // As autovacuum would have done on a live database: planner statistics and the
    // visibility map, so that neither side of the comparison scans blind.
    step("vacuum analyze", async {
        sqlx::raw_sql("VACUUM (ANALYZE)").execute(store.pool()).await?;
        Ok::<_, anyhow::Error>(None)
    })
    .await?;

    say(format_args!("  {:<30} {:>15} {:>7.1} s", "loaded in", "", secs(started.elapsed())));
    Ok(())
}

/// Runs one loading step and prints its row count (when it has one) and time.
async fn step(
    what: &str,
    work: impl Future<Output = anyhow::Result<Option<u64>>>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let rows = work.await.with_context(|| format!("load {what}"))?;
    let rows = rows.map(|rows| format!("{rows} rows")).unwrap_or_default();
    say(format_args!("  {what:<30} {rows:>15} {:>7.1} s", secs(started.elapsed())));
    Ok(())
}

/// One probe every 15 s over `[from, to)`, with a 20-minute outage every 45 days and a
/// 10-minute gap without samples every 91 days.
async fn load_probes(
    store: &Store,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<Option<u64>> {
    let inserted = sqlx::query(
        "INSERT INTO probe_samples (at, up, latency_ms, error, prober) \
         SELECT at, NOT down, CASE WHEN down THEN 5000 ELSE 6 + (n % 17)::int END, \
           CASE WHEN down THEN 'timed out after 5 s' END, 'bench' \
         FROM (SELECT at, n, (n / 4 + 30000) % 64800 < 20 AS down, \
                 (n / 4 + 60000) % 131040 < 10 AS gap \
               FROM generate_series(date_trunc('minute', $1::timestamptz), $2::timestamptz, \
                 make_interval(secs => $3)) WITH ORDINALITY AS s (at, n)) samples \
         WHERE NOT gap",
    )
    .bind(from)
    .bind(to)
    .bind(PROBE_EVERY_SECS)
    .execute(store.pool())
    .await?;
    Ok(Some(inserted.rows_affected()))
}

/// `runs` runs of the tenant created evenly over `[from, to - 1h)`: 94% succeeded, 3% failed,
/// 2% cancelled, 1% rejected, evenly over the four run types, taking 0.3 to 1.1 times the
/// expected duration (one in fifty three times it). Seeded, so every load is the same.
async fn load_runs(
    store: &Store,
    tenant: Uuid,
    runs: u64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<Option<u64>> {
    let mut tx = store.pool().begin().await?;
    sqlx::query("SELECT setseed(0.2026)").execute(&mut *tx).await?;
    let inserted = sqlx::query(
        "WITH drawn AS MATERIALIZED ( \
           SELECT i, 1 + floor(random() * 4)::int AS kind, random() AS outcome, \
             random() AS spread, random() AS wait \
           FROM generate_series(1, $4::bigint) AS i), \
         shaped AS ( \
           SELECT (ARRAY['library', 'microservice', 'pipeline', 'documentation'])[kind] \
               AS run_type, \
             (ARRAY[20000, 30000, 10000, 15000])[kind]::bigint AS expected_ms, \
             CASE WHEN outcome < 0.94 THEN 'succeeded' WHEN outcome < 0.97 THEN 'failed' \
               WHEN outcome < 0.99 THEN 'cancelled' ELSE 'rejected' END AS status, \
             $2::timestamptz + ($3::timestamptz - interval '1 hour' - $2::timestamptz) \
               * ((i - 1)::float8 / $4::bigint) AS created_at, \
             CASE WHEN i % 50 = 0 THEN 3.0 ELSE 0.3 + 0.8 * spread END AS stretch, \
             50 + 1950 * wait * wait AS wait_ms \
           FROM drawn) \
         INSERT INTO runs (id, tenant_id, run_type, params, status, field_errors, error, \
           expected_duration_ms, created_by, created_at, started_at, finished_at) \
         SELECT gen_random_uuid(), $1, run_type, '{}'::jsonb, status, \
           CASE status WHEN 'rejected' THEN '{\"crate_name\": \"is required\"}'::jsonb \
             ELSE '{}'::jsonb END, \
           CASE status WHEN 'failed' THEN 'step failed (benchmark history)' END, \
           expected_ms, 'bench', created_at, \
           CASE WHEN status IN ('succeeded', 'failed') \
             THEN created_at + make_interval(secs => wait_ms / 1000.0) END, \
           CASE status WHEN 'rejected' THEN created_at \
             WHEN 'cancelled' THEN created_at + interval '5 seconds' \
             ELSE created_at + make_interval(secs => expected_ms * stretch / 1000.0) END \
         FROM shaped",
    )
    .bind(tenant)
    .bind(from)
    .bind(to)
    .bind(i64::try_from(runs).context("--runs is too large")?)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(inserted.rows_affected()))
}

/// One `generate` job per accepted run, queued when the run was created, so the pool's start
/// latency has data; rejected runs never had jobs. Later steps are left out.
async fn load_jobs(store: &Store) -> anyhow::Result<Option<u64>> {
    let inserted = sqlx::query(
        "INSERT INTO jobs (id, run_id, tenant_id, position, step, pool, status, attempts, \
           max_attempts, timeout_ms, queued_at, started_at, finished_at, error) \
         SELECT gen_random_uuid(), id, tenant_id, 0, 'generate', 'generate', \
           status, \
           CASE WHEN started_at IS NULL THEN 0 ELSE 1 END, 3, 60000, \
           created_at, started_at, finished_at, error \
         FROM runs WHERE created_by = 'bench' AND status <> 'rejected'",
    )
    .execute(store.pool())
    .await?;
    Ok(Some(inserted.rows_affected()))
}

/// Prints the 30-day numbers both ways, so a reader sees the rollups answer the same
/// question (durations within the histogram's 10% buckets).
async fn agreement(store: &Store, scope: &Scope) -> anyhow::Result<()> {
    let now = Utc::now();
    let rollups = store
        .run_type_counts(scope.tenant_id(), now - TimeDelta::days(WINDOW_DAYS.into()), now)
        .await?;
    let totals = store.run_totals(scope, WINDOW_DAYS).await?;
    let durations = store.run_durations(scope, WINDOW_DAYS).await?;

    let succeeded: i64 = rollups.iter().map(|row| row.succeeded).sum();
    let counted: i64 = rollups.iter().map(|row| row.succeeded + row.failed).sum();
    let title = format!("{WINDOW_DAYS}-day numbers");
    say(format_args!("{title:<32} {:>30}   {:>30}", "rollups", "raw runs"));
    let rate = |part, whole| format!("{:.2}% of {whole} runs", percent(part, whole));
    say(format_args!(
        "  {:<30} {:>30}   {:>30}",
        "success",
        rate(succeeded, counted),
        rate(totals.succeeded, totals.counted)
    ));
    for raw in &durations {
        let rolled = rollups.iter().find(|row| row.run_type == raw.run_type);
        let pair = |p50, p95| format!("P50 {} P95 {}", ms(p50), ms(p95));
        say(format_args!(
            "  {:<30} {:>30}   {:>30}",
            raw.run_type,
            pair(rolled.and_then(|row| row.p50_ms), rolled.and_then(|row| row.p95_ms)),
            pair(raw.p50_ms, raw.p95_ms)
        ));
    }
    Ok(())
}

/// The 30-day success rate and durations as the reliability API reads them.
async fn from_rollups(store: &Store, scope: &Scope) -> anyhow::Result<()> {
    let now = Utc::now();
    let from = now - TimeDelta::days(WINDOW_DAYS.into());
    store.run_type_counts(scope.tenant_id(), from, now).await?;
    Ok(())
}

/// The same numbers scanned from the `runs` table (`Store::run_totals` and `run_durations`).
async fn from_raw_runs(store: &Store, scope: &Scope) -> anyhow::Result<()> {
    store.run_totals(scope, WINDOW_DAYS).await?;
    store.run_durations(scope, WINDOW_DAYS).await?;
    Ok(())
}

/// Makes sure each target answers with real numbers before it is timed, and shows them.
async fn check_content(
    router: &Router,
    customer: &str,
    manager: &str,
    token: &str,
    report_path: &str,
) -> anyhow::Result<()> {
    let page = get(router, "/overview", Auth::Cookie(customer)).await?;
    let page = String::from_utf8_lossy(&page);
    ensure!(page.contains(r#"data-test="success-rate""#), "the overview shows no success rate");

    // The first request for the month creates the draft; the timed ones recompute it.
    let report: serde_json::Value =
        serde_json::from_slice(&get(router, report_path, Auth::Cookie(manager)).await?)?;
    let reliability: serde_json::Value =
        serde_json::from_slice(&get(router, "/api/v1/reliability", Auth::Bearer(token)).await?)?;
    let pct = |value: &serde_json::Value| {
        value.as_f64().map_or_else(|| "-".to_owned(), |pct| format!("{pct:.3}%"))
    };
    say(format_args!(
        "report {}: uptime {}, {} runs counted; reliability API (30 days): uptime {}",
        report["month"].as_str().unwrap_or("-"),
        pct(&report["uptime"]["actual_pct"]),
        report["runs_counted"],
        pct(&reliability["uptime"]["uptime_pct"]),
    ));
    Ok(())
}

/// How a request proves who sends it.
#[derive(Clone, Copy)]
enum Auth<'a> {
    Cookie(&'a str),
    Bearer(&'a str),
}

/// A GET through the router, body read to the end; anything but 200 is an error.
async fn get(router: &Router, path: &str, auth: Auth<'_>) -> anyhow::Result<Vec<u8>> {
    let (name, value) = match auth {
        Auth::Cookie(cookie) => (header::COOKIE, cookie.to_owned()),
        Auth::Bearer(token) => (header::AUTHORIZATION, format!("Bearer {token}")),
    };
    let request = Request::builder().uri(path).header(name, value).body(Body::empty())?;
    let (status, body) = send(router, request).await?;
    ensure!(
        status == StatusCode::OK,
        "GET {path} answered {status}: {}",
        String::from_utf8_lossy(&body[..body.len().min(300)])
    );
    Ok(body)
}

/// Logs in through the form, as a browser does, and returns the session cookie.
async fn login(router: &Router, (email, password): (&str, &str)) -> anyhow::Result<String> {
    let form = format!("email={}&password={password}", email.replace('@', "%40"));
    let request = Request::builder()
        .method(Method::POST)
        .uri("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))?;
    let response = router.clone().oneshot(request).await?;
    let cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .with_context(|| format!("log in as {email}: no session cookie"))?;
    Ok(cookie.to_owned())
}

async fn send(router: &Router, request: Request<Body>) -> anyhow::Result<(StatusCode, Vec<u8>)> {
    let response = router.clone().oneshot(request).await?;
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
    Ok((status, body.to_vec()))
}

/// Calls `target` once untimed (connections, caches, the report's draft), then `samples`
/// times timed, one after another.
async fn time<F, Fut, T>(samples: usize, mut target: F) -> anyhow::Result<Latencies>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    target().await?;
    let mut took = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        target().await?;
        took.push(started.elapsed());
    }
    took.sort_unstable();
    Ok(Latencies(took))
}

impl Latencies {
    /// Nearest-rank percentile, `p` in (0, 1].
    fn percentile(&self, p: f64) -> Duration {
        let rank = (p * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1]
    }
}

fn print_table(rows: &[(String, Latencies)]) {
    let width = rows.iter().map(|(target, _)| target.len()).max().unwrap_or(0);
    say(format_args!("{:<width$}  {:>8}  {:>8}  {:>8}", "target", "requests", "P50 ms", "P99 ms"));
    for (target, latencies) in rows {
        say(format_args!(
            "{target:<width$}  {:>8}  {:>8.2}  {:>8.2}",
            latencies.0.len(),
            millis(latencies.percentile(0.5)),
            millis(latencies.percentile(0.99))
        ));
    }
}

/// `YYYY-MM` of the month before `now`'s.
fn last_complete_month(now: DateTime<Utc>) -> String {
    let first = now.date_naive().with_day(1).unwrap_or(now.date_naive());
    let previous = first - TimeDelta::days(1);
    format!("{:04}-{:02}", previous.year(), previous.month())
}

fn percent(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

fn ms(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |ms| format!("{ms:.0} ms"))
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn secs(duration: Duration) -> f64 {
    duration.as_secs_f64()
}
