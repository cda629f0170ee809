//! The queues' own speed: no-op jobs through Factory's workers (apalis on PostgreSQL, the pool
//! gate, heartbeats and shares) at 1, 2 and 4 worker processes, beside what this machine's
//! PostgreSQL commits per second under pgbench's simple-update script, measured in the same run.
//!
//! `cargo bench -p factory --bench queue [-- --jobs N --rate N --seconds N --size N
//! --processes 1,2,4 --pgbench-seconds N]`. The PostgreSQL server is `BENCH_DATABASE_URL`
//! (default: the machine's, as the tests use); the databases it creates are dropped at the end.
//! It prints figures and asserts nothing about them, except that no job ran twice.
//!
//! For each process count it starts that many copies of this binary as worker processes
//! (`--child`), each serving the `generate` pool with its share of the pool's size, and then
//! - throughput: queues `--jobs` tasks at once and times until every one has started;
//! - start latency: queues `--rate` tasks a second for `--seconds` and reads, per task, the
//!   time from its insert to its start (both stamped by PostgreSQL's clock).
//!
//! A no-op job stamps its start in the benchmark's own table and returns; a real step also
//! writes its attempt, logs and results, so these figures are the ceiling the queue puts on
//! real runs.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _};
use apalis::prelude::BoxDynError;
use uuid::Uuid;

mod common;

use common::{number, say, server_url, BenchDatabase};
use factory::queue::{
    ActiveAttempt, JobRunner, PoolWorkers, StepTask, WorkerProcess, WorkerTiming,
};
use factory::storage::Store;

const POOL: &str = "generate";

#[derive(Clone, Debug)]
struct Options {
    jobs: usize,
    rate: usize,
    seconds: u64,
    size: u32,
    processes: Vec<usize>,
    pgbench_seconds: u64,
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the tokio runtime")?;
    if args.first().map(String::as_str) == Some("--child") {
        let url = args.get(1).context("--child needs the database URL")?;
        return runtime.block_on(child(url));
    }
    let options = Options::from_args(args.into_iter())?;
    runtime.block_on(parent(options))
}

impl Options {
    fn from_args(mut args: impl Iterator<Item = String>) -> anyhow::Result<Options> {
        let mut options = Options {
            jobs: 3_000,
            rate: 50,
            seconds: 10,
            size: 16,
            processes: vec![1, 2, 4],
            pgbench_seconds: 10,
        };
        while let Some(flag) = args.next() {
            if flag == "--bench" {
                continue;
            }
            let value = args.next().with_context(|| format!("{flag} needs a value"))?;
            match flag.as_str() {
                "--jobs" => options.jobs = number(&flag, &value)?,
                "--rate" => options.rate = number(&flag, &value)?,
                "--seconds" => options.seconds = number(&flag, &value)?,
                "--size" => options.size = number(&flag, &value)?,
                "--pgbench-seconds" => options.pgbench_seconds = number(&flag, &value)?,
                "--processes" => {
                    options.processes = value
                        .split(',')
                        .map(|count| number(&flag, count.trim()))
                        .collect::<anyhow::Result<_>>()?
                }
                other => bail!(
                    "unknown argument {other:?}; expected --jobs, --rate, --seconds, --size, \
                     --processes or --pgbench-seconds"
                ),
            }
        }
        ensure!(options.jobs > 0 && options.rate > 0 && options.seconds > 0, "counts must be ≥ 1");
        ensure!(
            options.processes.iter().all(|count| *count >= 1),
            "--processes takes counts of at least 1"
        );
        ensure!((1..=32).contains(&options.size), "--size must be within 1..=32");
        Ok(options)
    }
}

/// A worker process: serves `generate` with no-op jobs until SIGTERM, then drains and exits.
async fn child(url: &str) -> anyhow::Result<()> {
    let store = Store::connect(url, 8).await.context("connect")?;
    let workers = PoolWorkers {
        store: store.clone(),
        runner: Arc::new(NoopRunner { store: store.clone() }),
        process: Arc::new(WorkerProcess::new()),
        pools: vec![POOL.to_owned()],
        timing: WorkerTiming {
            heartbeat: Duration::from_secs(1),
            orphan_after: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(5),
        },
    };
    let shutdown = tokio_util::sync::CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("listen for SIGTERM");
        term.recv().await;
        stop.cancel();
    });
    factory::queue::run_workers(workers, shutdown).await
}

/// Stamps the job's start and returns. A second start of the same job is counted, so the
/// parent can tell that nothing ran twice.
struct NoopRunner {
    store: Store,
}

#[async_trait::async_trait]
impl JobRunner for NoopRunner {
    async fn run(&self, task: StepTask) -> Result<(), BoxDynError> {
        sqlx::query(
            "UPDATE bench_jobs SET started_at = coalesce(started_at, clock_timestamp()), \
             starts = starts + 1 WHERE id = $1",
        )
        .bind(task.job_id)
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    async fn defer(&self, task: StepTask) -> Result<(), BoxDynError> {
        self.store.enqueue_tasks(&task.pool, &[task.job_id]).await?;
        Ok(())
    }

    async fn hand_back(&self, _attempts: Vec<ActiveAttempt>) {}
}

/// Worker processes that are sent SIGTERM (and reaped) when dropped.
struct Children(Vec<Child>);

impl Children {
    fn start(count: usize, url: &str) -> anyhow::Result<Children> {
        let exe = std::env::current_exe().context("find this benchmark's binary")?;
        let mut children = Children(Vec::new());
        for _ in 0..count {
            let child = Command::new(&exe)
                .args(["--child", url])
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .context("start a worker process")?;
            children.0.push(child);
        }
        Ok(children)
    }

    fn stop(&mut self) {
        for child in &self.0 {
            // SAFETY: kill(2) with a pid this process started and has not reaped yet.
            unsafe {
                libc::kill(child.id() as i32, libc::SIGTERM);
            }
        }
        for mut child in self.0.drain(..) {
            let _ = child.wait();
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What one process count achieved.
struct Figures {
    processes: usize,
    jobs_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    paced_jobs: usize,
}

async fn parent(options: Options) -> anyhow::Result<()> {
    let server = server_url();
    let queue_db = BenchDatabase::create(&server, "queue").await?;
    let pgbench_db = BenchDatabase::create(&server, "pgbench").await?;
    say(format_args!(
        "queue benchmark: pool size {}, {} jobs at once, then {} jobs/s for {} s, at {:?} worker \
         processes; pgbench simple-update for {} s",
        options.size,
        options.jobs,
        options.rate,
        options.seconds,
        options.processes,
        options.pgbench_seconds
    ));
    let outcome = tokio::select! {
        outcome = measure(&options, &queue_db.url, &pgbench_db.url) => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    queue_db.drop_best_effort().await;
    pgbench_db.drop_best_effort().await;
    outcome
}

async fn measure(options: &Options, queue_url: &str, pgbench_url: &str) -> anyhow::Result<()> {
    let store = Store::connect(queue_url, 4).await.context("connect")?;
    store.migrate().await?;
    sqlx::query(
        "CREATE TABLE bench_jobs (id uuid PRIMARY KEY, queued_at timestamptz NOT NULL, \
         started_at timestamptz, starts int NOT NULL DEFAULT 0)",
    )
    .execute(store.pool())
    .await?;
    let bounds = app::model::PoolUpdate {
        min_size: Some(options.size as i64),
        max_size: Some(options.size as i64),
        ..Default::default()
    };
    store
        .change_pool(POOL, "benchmark", |current| current.apply(&bounds, 32))
        .await?
        .map_err(|errors| anyhow::anyhow!("pool settings refused: {errors:?}"))?;

    let mut figures = Vec::new();
    for &processes in &options.processes {
        let mut children = Children::start(processes, queue_url)?;
        wait_for_members(&store, processes, options.size).await?;
        // A short warm-up, so connections and prepared statements exist before timing.
        queue(&store, options.jobs.min(200)).await?;
        wait_for_starts(&store, Duration::from_secs(60)).await?;

        let started = Instant::now();
        queue(&store, options.jobs).await?;
        wait_for_starts(&store, Duration::from_secs(600)).await?;
        let jobs_per_sec = options.jobs as f64 / started.elapsed().as_secs_f64();

        sqlx::query("TRUNCATE bench_jobs").execute(store.pool()).await?;
        let tick = Duration::from_millis(100);
        let per_tick = (options.rate / 10).max(1);
        let mut ticker = tokio::time::interval(tick);
        for _ in 0..options.seconds * 10 {
            ticker.tick().await;
            queue(&store, per_tick).await?;
        }
        wait_for_starts(&store, Duration::from_secs(120)).await?;
        let (p50_ms, p99_ms, paced_jobs): (f64, f64, i64) = sqlx::query_as(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), \
                    percentile_cont(0.99) WITHIN GROUP (ORDER BY ms), count(*) \
             FROM (SELECT extract(epoch FROM started_at - queued_at) * 1000 AS ms \
                   FROM bench_jobs) latencies",
        )
        .fetch_one(store.pool())
        .await?;
        let twice: i64 = sqlx::query_scalar("SELECT count(*) FROM bench_jobs WHERE starts > 1")
            .fetch_one(store.pool())
            .await?;
        ensure!(twice == 0, "{twice} no-op jobs started twice at {processes} processes");
        sqlx::query("TRUNCATE bench_jobs").execute(store.pool()).await?;
        children.stop();
        figures.push(Figures {
            processes,
            jobs_per_sec,
            p50_ms,
            p99_ms,
            paced_jobs: paced_jobs as usize,
        });
        say(format_args!("  {processes} worker process(es) measured"));
    }

    let commits = pgbench(pgbench_url, options.pgbench_seconds)?;
    print_report(options, &figures, &commits);
    Ok(())
}

/// Queues `count` no-op jobs in one transaction, each stamped with the time of its insert.
async fn queue(store: &Store, count: usize) -> anyhow::Result<()> {
    let ids: Vec<Uuid> = (0..count).map(|_| Uuid::new_v4()).collect();
    sqlx::query(
        "INSERT INTO bench_jobs (id, queued_at) SELECT id, clock_timestamp() FROM unnest($1::uuid[]) id",
    )
    .bind(&ids)
    .execute(store.pool())
    .await?;
    store.enqueue_tasks(POOL, &ids).await?;
    Ok(())
}

async fn wait_for_starts(store: &Store, limit: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    loop {
        let waiting: i64 =
            sqlx::query_scalar("SELECT count(*) FROM bench_jobs WHERE started_at IS NULL")
                .fetch_one(store.pool())
                .await?;
        if waiting == 0 {
            return Ok(());
        }
        ensure!(Instant::now() < deadline, "{waiting} jobs never started within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `processes` live members share the pool's whole size.
async fn wait_for_members(store: &Store, processes: usize, size: u32) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (members, slots): (i64, Option<i64>) = sqlx::query_as(
            "SELECT count(*), sum(slots)::bigint FROM pool_workers \
             WHERE pool = $1 AND stopped_at IS NULL AND heartbeat_at > now() - interval '5 seconds'",
        )
        .bind(POOL)
        .fetch_one(store.pool())
        .await?;
        if members == processes as i64 && slots == Some(i64::from(size)) {
            return Ok(());
        }
        ensure!(
            Instant::now() < deadline,
            "{processes} worker processes never shared the pool (members {members}, slots {slots:?})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Transactions per second of pgbench's simple-update script at 1 and 4 clients.
fn pgbench(url: &str, seconds: u64) -> anyhow::Result<Vec<(u32, f64)>> {
    let binary = pgbench_binary()?;
    let init = Command::new(&binary)
        .args(["-i", "-s", "1", "-q", url])
        .output()
        .context("run pgbench -i")?;
    ensure!(init.status.success(), "pgbench -i failed: {}", String::from_utf8_lossy(&init.stderr));
    let mut rates = Vec::new();
    for clients in [1u32, 4] {
        let run = Command::new(&binary)
            .args(["-b", "simple-update", "-n", "-c", &clients.to_string(), "-j", "2", "-T"])
            .arg(seconds.to_string())
            .arg(url)
            .output()
            .context("run pgbench")?;
        ensure!(run.status.success(), "pgbench failed: {}", String::from_utf8_lossy(&run.stderr));
        let report = String::from_utf8_lossy(&run.stdout);
        let tps = report
            .lines()
            .find_map(|line| line.strip_prefix("tps = ")?.split_whitespace().next()?.parse().ok())
            .with_context(|| format!("no tps in pgbench's report: {report}"))?;
        rates.push((clients, tps));
    }
    Ok(rates)
}

/// `pgbench` on the PATH, or the newest one of the Debian PostgreSQL packages.
fn pgbench_binary() -> anyhow::Result<std::path::PathBuf> {
    if Command::new("pgbench").arg("--version").output().is_ok_and(|out| out.status.success()) {
        return Ok("pgbench".into());
    }
    let mut found: Vec<std::path::PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin/pgbench"))
        .filter(|path| path.exists())
        .collect();
    found.sort();
    found.pop().context("pgbench not found: install PostgreSQL's client tools (postgresql-contrib)")
}

fn print_report(options: &Options, figures: &[Figures], commits: &[(u32, f64)]) {
    say("");
    say(format_args!(
        "| worker processes | no-op jobs/s ({} at once) | start P50 ms | start P99 ms | paced jobs ({}/s) |",
        options.jobs, options.rate
    ));
    say("|---:|---:|---:|---:|---:|");
    for row in figures {
        say(format_args!(
            "| {} | {:.0} | {:.1} | {:.1} | {} |",
            row.processes, row.jobs_per_sec, row.p50_ms, row.p99_ms, row.paced_jobs
        ));
    }
    say("");
    say("| pgbench simple-update | transactions (commits)/s |");
    say("|---|---:|");
    for (clients, tps) in commits {
        say(format_args!("| {clients} client(s) | {tps:.0} |"));
    }
}
