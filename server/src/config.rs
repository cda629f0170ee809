//! Factory's settings: every one comes from a command-line flag or a `FACTORY_*` (or
//! `DATABASE_URL`) environment variable, and `factory --help` lists them all.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "factory",
    version,
    about = "Factory: the runtime and control plane for generation runs"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app and API and run workers and periodic tasks (the default)
    Serve {
        /// Pools this process works for, comma-separated; `none` for a web-only instance
        #[arg(
            long,
            env = "FACTORY_POOLS",
            value_delimiter = ',',
            default_value = "generate,verify,package"
        )]
        pools: Vec<String>,
    },
    /// Run workers only, for more worker hosts
    Worker {
        /// Pools this process works for, comma-separated
        #[arg(
            long,
            env = "FACTORY_POOLS",
            value_delimiter = ',',
            default_value = "generate,verify,package"
        )]
        pools: Vec<String>,
    },
    /// Apply database migrations (Factory's and apalis's) and exit
    Migrate,
    /// Create the demo tenants and one user of each role, and print their logins
    Demo {
        /// Also fill the tenant `demo-history` with this many days of generated history
        /// (runs, probe samples with two outages, maintenance, a customer-caused incident)
        #[arg(long)]
        history: Option<u32>,
        /// Seed of the generated history; the same seed on the same day gives the same data
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Manage API tokens
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a tenant and print it, once, alone on stdout
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
    },
}

/// Settings shared by every subcommand.
#[derive(Clone, Debug, Args)]
pub struct Settings {
    /// PostgreSQL to use; without it Factory runs its own cluster under --data-dir
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Address the web app and API listen on
    #[arg(long, env = "FACTORY_ADDR", default_value = "127.0.0.1:3000", global = true)]
    pub addr: SocketAddr,

    /// Directory for Factory's own PostgreSQL cluster (used only without DATABASE_URL)
    #[arg(long, env = "FACTORY_DATA_DIR", default_value = ".factory", global = true)]
    pub data_dir: PathBuf,

    /// Port of Factory's own PostgreSQL cluster
    #[arg(long, env = "FACTORY_EMBEDDED_PG_PORT", default_value_t = 55432, global = true)]
    pub embedded_pg_port: u16,

    /// Directory of run type definitions (defaults to the built-in ones)
    #[arg(long, env = "FACTORY_RUN_TYPES_DIR", global = true)]
    pub run_types_dir: Option<PathBuf>,

    /// Seconds between worker heartbeats; also how often workers poll for due retries
    #[arg(long, env = "FACTORY_HEARTBEAT_SECS", default_value_t = 2, global = true)]
    pub heartbeat_secs: u64,

    /// Seconds without a heartbeat after which a worker's jobs are taken over (at least two
    /// heartbeats)
    #[arg(long, env = "FACTORY_ORPHAN_AFTER_SECS", default_value_t = 30, global = true)]
    pub orphan_after_secs: u64,

    /// Seconds running jobs get to finish after SIGTERM before they are handed back
    #[arg(long, env = "FACTORY_SHUTDOWN_GRACE_SECS", default_value_t = 30, global = true)]
    pub shutdown_grace_secs: u64,

    /// Extra milliseconds every step takes, for fault drills and demos (0 in production)
    #[arg(long, env = "FACTORY_STEP_DELAY_MS", default_value_t = 0, global = true)]
    pub step_delay_ms: u64,

    /// Days finished queue rows are kept before pruning
    #[arg(long, env = "FACTORY_QUEUE_RETENTION_DAYS", default_value_t = 7, global = true)]
    pub queue_retention_days: u32,

    /// Days job log lines and attempt records are kept before pruning
    #[arg(long, env = "FACTORY_LOG_RETENTION_DAYS", default_value_t = 90, global = true)]
    pub log_retention_days: u32,

    /// Hours a login session lasts
    #[arg(long, env = "FACTORY_SESSION_HOURS", default_value_t = 12, global = true)]
    pub session_hours: u32,

    /// Mark the session cookie Secure (set when served over HTTPS)
    #[arg(long, env = "FACTORY_SECURE_COOKIES", default_value_t = false, global = true)]
    pub secure_cookies: bool,

    /// Largest accepted request body, in bytes
    #[arg(long, env = "FACTORY_MAX_BODY_BYTES", default_value_t = 256 * 1024, global = true)]
    pub max_body_bytes: usize,

    /// Largest size an admin may give a pool
    #[arg(long, env = "FACTORY_MAX_POOL_SIZE", default_value_t = 32, global = true)]
    pub max_pool_size: u32,

    /// Most connections this process opens to PostgreSQL (listeners come on top)
    #[arg(long, env = "FACTORY_DB_MAX_CONNECTIONS", default_value_t = 20, global = true)]
    pub db_max_connections: u32,

    /// Hours ahead that planned maintenance must be announced
    #[arg(long, env = "FACTORY_MAINTENANCE_NOTICE_HOURS", default_value_t = 72, global = true)]
    pub maintenance_notice_hours: u32,

    /// Seconds between probes of the control plane API (0 turns the prober off)
    #[arg(long, env = "FACTORY_PROBE_INTERVAL_SECS", default_value_t = 15, global = true)]
    pub probe_interval_secs: u64,

    /// URL the prober requests; defaults to /readyz on --addr
    #[arg(long, env = "FACTORY_PROBE_URL", global = true)]
    pub probe_url: Option<String>,

    /// Days probe samples and queue samples are kept (rollups are kept for good)
    #[arg(long, env = "FACTORY_PROBE_RETENTION_DAYS", default_value_t = 400, global = true)]
    pub probe_retention_days: u32,

    /// Bearer token `/metrics` asks for; without it `/metrics` is open like `/readyz`
    #[arg(long, env = "FACTORY_METRICS_TOKEN", global = true, hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Log as JSON lines instead of text
    #[arg(long, env = "FACTORY_LOG_JSON", default_value_t = false, global = true)]
    pub log_json: bool,
}

impl Settings {
    pub fn heartbeat(&self) -> Duration {
        Duration::from_secs(self.heartbeat_secs.max(1))
    }

    /// Silence after which a process's work is taken over: the setting, but never less than
    /// two heartbeats (one late heartbeat must not cost a job).
    pub fn orphan_after(&self) -> Duration {
        Duration::from_secs(self.orphan_after_secs).max(self.heartbeat() * 2)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    pub fn step_delay(&self) -> Duration {
        Duration::from_millis(self.step_delay_ms)
    }

    pub fn session_lifetime(&self) -> chrono::Duration {
        chrono::Duration::hours(i64::from(self.session_hours.max(1)))
    }

    /// Settings for tests and tools that set everything explicitly.
    pub fn for_database(database_url: &str) -> Settings {
        let cli = Cli::parse_from(["factory", "--database-url", database_url]);
        cli.settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orphan_timeout_is_the_setting_but_never_below_two_heartbeats() {
        let mut settings = Settings::for_database("postgres://localhost/x");
        settings.heartbeat_secs = 5;
        settings.orphan_after_secs = 30;
        assert_eq!(settings.orphan_after(), Duration::from_secs(30));
        settings.orphan_after_secs = 1;
        assert_eq!(settings.orphan_after(), Duration::from_secs(10));
    }

    #[test]
    fn subcommands_parse_with_pools_list() {
        let cli = Cli::parse_from(["factory", "worker", "--pools", "generate,verify"]);
        match cli.command {
            Some(Command::Worker { pools }) => assert_eq!(pools, vec!["generate", "verify"]),
            other => panic!("unexpected {other:?}"),
        }
        let cli = Cli::parse_from(["factory", "serve", "--pools", "none"]);
        match cli.command {
            Some(Command::Serve { pools }) => assert_eq!(pools, vec!["none"]),
            other => panic!("unexpected {other:?}"),
        }
    }
}
