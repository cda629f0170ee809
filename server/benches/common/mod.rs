//! What the benchmarks share: the PostgreSQL server they use, the databases they create on it
//! and drop again, reading number flags, and printing report lines.

use std::io::Write as _;
use std::str::FromStr;

use anyhow::Context as _;
use uuid::Uuid;

const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// `BENCH_DATABASE_URL`, or the machine's PostgreSQL that the tests use.
pub(crate) fn server_url() -> String {
    std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| DEFAULT_SERVER.to_owned())
}

/// A database a benchmark creates on the server, and drops again.
pub(crate) struct BenchDatabase {
    server: String,
    pub(crate) name: String,
    pub(crate) url: String,
}

impl BenchDatabase {
    /// Creates `factory_bench_<kind>_<random>` on `server`.
    pub(crate) async fn create(server: &str, kind: &str) -> anyhow::Result<BenchDatabase> {
        let name = format!("factory_bench_{kind}_{}", Uuid::new_v4().simple());
        let (base, _) = server.rsplit_once('/').context("BENCH_DATABASE_URL has no path")?;
        let admin = sqlx::PgPool::connect(server).await.context("connect to BENCH_DATABASE_URL")?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .with_context(|| format!("create database {name}"))?;
        admin.close().await;
        Ok(BenchDatabase { server: server.to_owned(), url: format!("{base}/{name}"), name })
    }

    /// Drops the database and any connection still open on it. A failure is reported, not
    /// returned, so that it never hides the benchmark's own outcome.
    pub(crate) async fn drop_best_effort(&self) {
        let dropped = async {
            let admin = sqlx::PgPool::connect(&self.server).await?;
            let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&admin).await?;
            admin.close().await;
            Ok::<(), sqlx::Error>(())
        };
        match dropped.await {
            Ok(()) => say(format_args!("dropped database {}", self.name)),
            Err(error) => eprintln!("could not drop database {}: {error}", self.name),
        }
    }
}

/// Reads a flag's number, underscores allowed (`1_000_000`).
pub(crate) fn number<T>(flag: &str, value: &str) -> anyhow::Result<T>
where
    T: FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    value.replace('_', "").parse().with_context(|| format!("{flag} {value:?} is not a number"))
}

/// Writes a line of the report to stdout; the workspace keeps `println!` out of the code. A
/// closed stdout is ignored, so the run still reaches the point where it drops its database.
pub(crate) fn say(line: impl std::fmt::Display) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}
