//! Fault tests with real processes against a private PostgreSQL cluster that the test starts,
//! so it may also stop it: `kill -9` of a worker in the middle of a job, SIGTERM while work
//! is running (finished within the grace period, or handed back after it), and the database
//! stopping and starting during a burst of submissions. Each asserts that every accepted run
//! ends `succeeded` and that no step's effect was applied twice.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use factory::embedded_pg::EmbeddedPostgres;

/// Seconds of silence after which these tests' workers lose their jobs.
const ORPHAN_AFTER_SECS: u64 = 4;

/// A PostgreSQL cluster of the test's own, in a temporary directory.
struct PrivateCluster {
    data_dir: std::path::PathBuf,
    port: u16,
    running: Option<EmbeddedPostgres>,
}

impl PrivateCluster {
    async fn start() -> PrivateCluster {
        let data_dir =
            std::env::temp_dir().join(format!("factory-faults-{}", Uuid::new_v4().simple()));
        let port = free_port();
        let running =
            EmbeddedPostgres::start(&data_dir, port).await.expect("start a private cluster");
        PrivateCluster { data_dir, port, running: Some(running) }
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/factory", self.port)
    }

    async fn stop(&mut self) {
        if let Some(cluster) = self.running.take() {
            cluster.stop().await.expect("stop the private cluster");
        }
    }

    async fn restart(&mut self) {
        self.stop().await;
        self.running =
            Some(EmbeddedPostgres::start(&self.data_dir, self.port).await.expect("start again"));
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        // Dropping the handle stops a cluster it started; then its files can go.
        drop(self.running.take());
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// A `factory` process that is killed when the test ends, whatever happens.
struct Process {
    child: Child,
    name: &'static str,
}

impl Process {
    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    fn signal(&self, signal: i32) {
        // SAFETY: sending a signal to a child process we own and have not reaped.
        unsafe { libc::kill(self.pid(), signal) };
    }

    /// Waits for the process to exit, at most `limit`.
    fn wait(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "{} did not exit within {limit:?}", self.name);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The `factory` binary with these tests' timing, against `database_url`.
fn factory(database_url: &str, step_delay_ms: u64) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_factory"));
    command
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .env("FACTORY_HEARTBEAT_SECS", "1")
        .env("FACTORY_ORPHAN_AFTER_SECS", ORPHAN_AFTER_SECS.to_string())
        .env("FACTORY_STEP_DELAY_MS", step_delay_ms.to_string())
        .env("FACTORY_PROBE_INTERVAL_SECS", "0")
        .env("FACTORY_DB_MAX_CONNECTIONS", "8")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

fn spawn(name: &'static str, command: &mut Command) -> Process {
    Process { child: command.spawn().expect("start factory"), name }
}

/// A migrated database with the demo accounts, an API token for `acme`, and `generate`,
/// `verify` and `package` pinned at `size` slots each (no autoscaling in the way).
async fn prepare(url: &str, size: u32) -> (PgPool, String) {
    let store = factory::storage::Store::connect(url, 4).await.expect("connect");
    store.migrate().await.expect("migrate");
    store.seed_demo().await.expect("demo accounts");
    let token = factory::auth::create_token(store.pool(), "acme", "faults").await.unwrap().unwrap();
    let fixed = app::model::PoolUpdate {
        min_size: Some(size.into()),
        max_size: Some(size.into()),
        ..Default::default()
    };
    for pool in factory::queue::POOLS {
        store
            .change_pool(pool, "test", |current| current.apply(&fixed, 32))
            .await
            .unwrap()
            .unwrap();
    }
    (store.pool().clone(), token)
}

/// Starts `factory serve` on a free port and waits until it is ready.
async fn serve(url: &str, pools: &str, step_delay_ms: u64) -> (Process, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let process = spawn(
        "serve",
        factory(url, step_delay_ms).args(["serve", "--pools", pools]).env("FACTORY_ADDR", &addr),
    );
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !matches!(client.get(format!("{base}/readyz")).send().await, Ok(r) if r.status() == 200) {
        assert!(Instant::now() < deadline, "factory serve never became ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    (process, base)
}

/// Submits a library run; the id when it was accepted (201), `None` when refused.
async fn submit(base: &str, token: &str, crate_name: &str) -> Option<String> {
    let body = json!({ "run_type": "library", "params": { "crate_name": crate_name } });
    let reply = reqwest::Client::new()
        .post(format!("{base}/api/v1/runs"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .ok()?;
    if reply.status() != 201 {
        return None;
    }
    let run: Value = serde_json::from_str(&reply.text().await.ok()?).ok()?;
    run["id"].as_str().map(str::to_owned)
}

/// The process id under which `pid` registered as a worker.
async fn worker_id(pool: &PgPool, pid: i32) -> Uuid {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let id: Option<Uuid> =
            sqlx::query_scalar("SELECT process_id FROM pool_workers WHERE pid = $1 LIMIT 1")
                .bind(pid)
                .fetch_optional(pool)
                .await
                .unwrap();
        if let Some(id) = id {
            return id;
        }
        assert!(Instant::now() < deadline, "worker {pid} never registered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until `worker` is running a job and returns the job's id.
async fn job_running_on(pool: &PgPool, worker: Uuid) -> Uuid {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let job: Option<Uuid> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE status = 'running' AND worker_id = $1 LIMIT 1",
        )
        .bind(worker)
        .fetch_optional(pool)
        .await
        .unwrap();
        if let Some(job) = job {
            return job;
        }
        assert!(Instant::now() < deadline, "no job ever ran on worker {worker}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until every run in `ids` has ended, then checks each succeeded and each of its jobs
/// had exactly one accepted successful attempt.
async fn assert_all_succeeded_once(pool: &PgPool, ids: &[String], limit: Duration) {
    let ids: Vec<Uuid> = ids.iter().map(|id| id.parse().unwrap()).collect();
    let deadline = Instant::now() + limit;
    loop {
        let statuses: Vec<(Uuid, String)> =
            sqlx::query_as("SELECT id, status FROM runs WHERE id = ANY($1)")
                .bind(&ids)
                .fetch_all(pool)
                .await
                .unwrap();
        assert_eq!(statuses.len(), ids.len(), "every accepted run is stored");
        let unfinished: Vec<&(Uuid, String)> = statuses
            .iter()
            .filter(|(_, status)| status == "queued" || status == "running")
            .collect();
        if unfinished.is_empty() {
            let failed: Vec<&(Uuid, String)> =
                statuses.iter().filter(|(_, status)| status != "succeeded").collect();
            assert!(failed.is_empty(), "runs that did not succeed: {failed:?}");
            break;
        }
        assert!(Instant::now() < deadline, "runs stuck: {unfinished:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    let completions: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT j.id, count(a.lease) FILTER (WHERE a.outcome = 'succeeded' AND a.accepted) \
         FROM jobs j LEFT JOIN job_attempts a ON a.job_id = j.id \
         WHERE j.run_id = ANY($1) GROUP BY j.id",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(completions.len(), ids.len() * 3, "three jobs a run");
    let wrong: Vec<&(Uuid, i64)> = completions.iter().filter(|(_, done)| *done != 1).collect();
    assert!(wrong.is_empty(), "jobs not completed exactly once: {wrong:?}");
    let artifacts: i64 =
        sqlx::query_scalar("SELECT count(*) FROM artifacts WHERE run_id = ANY($1)")
            .bind(&ids)
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(artifacts, ids.len() as i64);
}

#[tokio::test]
async fn a_worker_killed_mid_job_loses_no_run_and_its_job_is_taken_over_in_bounded_time() {
    let cluster = PrivateCluster::start().await;
    let url = cluster.url();
    let (pool, token) = prepare(&url, 2).await;
    let (_web, base) = serve(&url, "none", 0).await;
    let mut doomed = spawn("doomed worker", factory(&url, 2_000).args(["worker"]));
    let doomed_id = worker_id(&pool, doomed.pid()).await;
    let _survivor = spawn("surviving worker", factory(&url, 200).args(["worker"]));

    let mut ids = Vec::new();
    for n in 0..6 {
        ids.push(submit(&base, &token, &format!("killed_{n}")).await.expect("accepted"));
    }
    let job = job_running_on(&pool, doomed_id).await;
    doomed.signal(libc::SIGKILL);
    let killed_at = chrono::Utc::now();
    doomed.wait(Duration::from_secs(5));

    assert_all_succeeded_once(&pool, &ids, Duration::from_secs(120)).await;
    let attempts: Vec<(String, chrono::DateTime<chrono::Utc>, Option<Uuid>)> = sqlx::query_as(
        "SELECT outcome, finished_at, worker_id FROM job_attempts WHERE job_id = $1 \
         ORDER BY started_at",
    )
    .bind(job)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    let (lost, taken_back_at, _) = &attempts[0];
    assert_eq!(lost, "lost");
    let takeover = (*taken_back_at - killed_at).to_std().unwrap_or_default();
    assert!(
        takeover < Duration::from_secs(ORPHAN_AFTER_SECS + 6),
        "taken back {takeover:?} after the kill"
    );
    assert_eq!(attempts[1].0, "succeeded");
    assert_ne!(attempts[1].2, Some(doomed_id), "another process finished it");
}

#[tokio::test]
async fn sigterm_lets_running_jobs_finish_within_the_grace_period_then_exits_cleanly() {
    let cluster = PrivateCluster::start().await;
    let url = cluster.url();
    let (pool, token) = prepare(&url, 2).await;
    let (_web, base) = serve(&url, "none", 0).await;
    let mut leaving = spawn(
        "leaving worker",
        factory(&url, 1_500).args(["worker"]).env("FACTORY_SHUTDOWN_GRACE_SECS", "20"),
    );
    let leaving_id = worker_id(&pool, leaving.pid()).await;

    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(submit(&base, &token, &format!("drained_{n}")).await.expect("accepted"));
    }
    let job = job_running_on(&pool, leaving_id).await;
    let _successor = spawn("successor", factory(&url, 0).args(["worker"]));
    leaving.signal(libc::SIGTERM);
    let status = leaving.wait(Duration::from_secs(25));
    assert!(status.success(), "the worker exits 0 after draining: {status}");

    let finished_by_leaver: Option<String> =
        sqlx::query_scalar("SELECT outcome FROM job_attempts WHERE job_id = $1 AND worker_id = $2")
            .bind(job)
            .bind(leaving_id)
            .fetch_optional(&pool)
            .await
            .unwrap();
    assert_eq!(finished_by_leaver.as_deref(), Some("succeeded"), "its running job finished");
    let stopped: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pool_workers WHERE process_id = $1 AND stopped_at IS NOT NULL",
    )
    .bind(leaving_id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stopped, 3, "it recorded stopping for each of its pools");
    assert_all_succeeded_once(&pool, &ids, Duration::from_secs(90)).await;
}

#[tokio::test]
async fn sigterm_hands_back_what_outlives_the_grace_period_without_spending_an_attempt() {
    let cluster = PrivateCluster::start().await;
    let url = cluster.url();
    let (pool, token) = prepare(&url, 1).await;
    let (_web, base) = serve(&url, "none", 0).await;
    let mut leaving = spawn(
        "leaving worker",
        factory(&url, 30_000).args(["worker"]).env("FACTORY_SHUTDOWN_GRACE_SECS", "1"),
    );
    let leaving_id = worker_id(&pool, leaving.pid()).await;

    let ids = vec![submit(&base, &token, "handed_back").await.expect("accepted")];
    let job = job_running_on(&pool, leaving_id).await;
    leaving.signal(libc::SIGTERM);
    let status = leaving.wait(Duration::from_secs(10));
    assert!(status.success(), "the worker exits 0 after handing back: {status}");
    let outcome: Option<String> =
        sqlx::query_scalar("SELECT outcome FROM job_attempts WHERE job_id = $1 AND worker_id = $2")
            .bind(job)
            .bind(leaving_id)
            .fetch_optional(&pool)
            .await
            .unwrap();
    assert_eq!(outcome.as_deref(), Some("handed_back"));

    let _successor = spawn("successor", factory(&url, 0).args(["worker"]));
    assert_all_succeeded_once(&pool, &ids, Duration::from_secs(60)).await;
    let attempts: i32 = sqlx::query_scalar("SELECT attempts FROM jobs WHERE id = $1")
        .bind(job)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(attempts, 1, "the handed-back attempt did not count");
}

#[tokio::test]
async fn the_database_stopping_during_a_burst_loses_no_accepted_run() {
    let mut cluster = PrivateCluster::start().await;
    let url = cluster.url();
    let (pool, token) = prepare(&url, 2).await;
    pool.close().await;
    let (_web, base) = serve(&url, "generate,verify,package", 300).await;
    let _worker = spawn("worker", factory(&url, 300).args(["worker"]));
    let customer = login(&base, "customer@acme.test", "acme-demo-pass").await;

    let burst = {
        let (base, token) = (base.clone(), token.clone());
        tokio::spawn(async move {
            let mut accepted = Vec::new();
            let mut refused = 0;
            let until = Instant::now() + Duration::from_secs(14);
            let mut n = 0;
            while Instant::now() < until {
                n += 1;
                match submit(&base, &token, &format!("burst_{n}")).await {
                    Some(id) => accepted.push(id),
                    None => refused += 1,
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (accepted, refused)
        })
    };

    tokio::time::sleep(Duration::from_secs(4)).await;
    cluster.stop().await;
    let client = reqwest::Client::new();
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503, "not ready while the database is down");
    let started = Instant::now();
    let page = client
        .get(format!("{base}/runs"))
        .header("cookie", &customer)
        .timeout(Duration::from_secs(15))
        .send()
        .await
        .expect("the page answers instead of hanging");
    assert_eq!(page.status(), 503);
    assert!(page.text().await.unwrap().contains("database"), "and says why");
    assert!(started.elapsed() < Duration::from_secs(10), "within {:?}", started.elapsed());
    tokio::time::sleep(Duration::from_secs(3)).await;
    cluster.restart().await;

    let (accepted, refused) = burst.await.unwrap();
    assert!(accepted.len() >= 10, "runs were accepted around the outage: {}", accepted.len());
    assert!(refused > 0, "some submissions were refused during the outage");
    let pool = PgPool::connect(&url).await.unwrap();
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "ready again");
    assert_all_succeeded_once(&pool, &accepted, Duration::from_secs(180)).await;
}

/// Logs in through the form and returns the session cookie.
async fn login(base: &str, email: &str, password: &str) -> String {
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let reply = client
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("email={}&password={password}", email.replace('@', "%40")))
        .send()
        .await
        .unwrap();
    let cookie = reply.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}
