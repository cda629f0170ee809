//! Every SQL statement Factory runs, grouped by what it stores. Queries made for customers
//! take an `auth::Scope`, so a tenant's rows are filtered in SQL, not after the fact.

mod accounts;
mod demo_history;
mod execution;
mod ledger;
mod pools;
mod reliability;
mod rollups;
mod runs;
mod sla;
mod stats;
mod workers;

pub use accounts::DemoLogin;
pub use demo_history::DEMO_CUSTOMER;
pub use execution::{Attempt, AttemptEnd, Effects};
pub use ledger::LedgerEntry;
pub use pools::{PoolHistoryStep, QueueLoad, ScalingRecord, StoredPool};
pub use reliability::{RunSeries, RunTypeCounts, Span};
pub use rollups::ProbeSample;
pub use runs::NewRun;
pub use sla::StoredReport;
pub use workers::{Membership, PoolBeat, ProcessBeat, Recovered};

use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use uuid::Uuid;

/// Channel on which every change a page may want to show is announced.
pub const EVENTS_CHANNEL: &str = "factory_events";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database query failed")]
    Database(#[from] sqlx::Error),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    /// The caller's input cannot be used (a malformed cursor, say).
    #[error("{0}")]
    Invalid(String),
    #[error("encode queue task")]
    Encode(#[from] serde_json::Error),
}

impl StoreError {
    /// The database could not be reached (stopped, restarting, the connection lost), as
    /// opposed to refusing the statement: worth trying again once it is back.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(error) => is_unavailable(error),
            _ => false,
        }
    }
}

/// Whether a sqlx error means the database is out of reach rather than a refused statement.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed => true,
        // Class 08 is a connection exception; 57P01–57P03 a server shutting down or starting.
        sqlx::Error::Database(error) => error.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

/// The handle on PostgreSQL that every part of Factory shares.
#[derive(Clone, Debug)]
pub struct Store {
    pool: PgPool,
}

impl Store {
    pub async fn connect(database_url: &str, max_connections: u32) -> Result<Store, sqlx::Error> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect(database_url)
            .await?;
        Ok(Store { pool })
    }

    pub fn from_pool(pool: PgPool) -> Store {
        Store { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Applies apalis's migrations (in schema `apalis`, with their own history table) and then
    /// Factory's own.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        use anyhow::Context as _;
        apalis_postgres::PostgresStorage::setup(&self.pool)
            .await
            .context("apply apalis-postgres migrations")?;
        sqlx::migrate!("../migrations")
            .run(&self.pool)
            .await
            .context("apply factory migrations")?;
        Ok(())
    }

    /// True when the database answers and every migration known to this build is applied.
    pub async fn is_ready(&self) -> bool {
        let latest = sqlx::migrate!("../migrations").iter().map(|m| m.version).max().unwrap_or(0);
        let applied: Result<Option<i64>, _> =
            sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await;
        matches!(applied, Ok(Some(version)) if version >= latest)
    }
}

/// Announces a change to listening web instances; delivered when the transaction commits.
async fn notify(
    conn: &mut sqlx::PgConnection,
    tenant_id: Uuid,
    run_id: Uuid,
    kind: &str,
) -> Result<(), sqlx::Error> {
    let payload = serde_json::json!({ "tenant_id": tenant_id, "run_id": run_id, "kind": kind });
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(EVENTS_CHANNEL)
        .bind(payload.to_string())
        .execute(conn)
        .await?;
    Ok(())
}
