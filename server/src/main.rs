//! The `factory` binary: parses the command line, sets up logging and hands over to the
//! library's start-up code for the chosen subcommand.

use anyhow::Context as _;
use clap::Parser;
use tracing_subscriber::EnvFilter;

use factory::config::{Cli, Command, TokenCommand};
use factory::startup::{self, Database};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(cli.settings.log_json);
    let settings = cli.settings;

    // `factory` alone serves every pool, or those FACTORY_POOLS names, as `serve` would.
    let default_pools = match std::env::var("FACTORY_POOLS") {
        Ok(pools) => pools.split(',').map(str::to_owned).collect(),
        Err(_) => factory::queue::POOLS.iter().map(|pool| pool.to_string()).collect(),
    };
    match cli.command.unwrap_or(Command::Serve { pools: default_pools }) {
        Command::Serve { pools } => startup::serve(settings, pools).await,
        Command::Worker { pools } => startup::worker(settings, pools).await,
        Command::Migrate => {
            let database = Database::open(&settings).await?;
            tracing::info!("migrations applied");
            database.close().await;
            Ok(())
        }
        Command::Demo { history, seed } => {
            let database = Database::open(&settings).await?;
            let logins = database.store.seed_demo().await.context("create demo accounts")?;
            let mut out = String::new();
            if let Some(days) = history {
                anyhow::ensure!((1..=400).contains(&days), "--history takes 1 to 400 days");
                let services = startup::build_services(database.store.clone(), &settings)?;
                services.load_demo_history(days, seed).await.context("load demo history")?;
                let (email, password) = factory::storage::DEMO_CUSTOMER;
                out.push_str(&format!(
                    "Loaded {days} days of generated history (seed {seed}) into tenant \
                     demo-history.\n  {email}: {password}  (customer, tenant demo-history)\n"
                ));
            }
            database.close().await;
            out.push_str("Demo logins (password after the colon):\n");
            for login in logins {
                let tenant =
                    login.tenant.map(|slug| format!(", tenant {slug}")).unwrap_or_default();
                out.push_str(&format!(
                    "  {}: {}  ({}{tenant})\n",
                    login.email, login.password, login.role
                ));
            }
            write_stdout(&out)
        }
        Command::Token { command: TokenCommand::Create { tenant, name } } => {
            let database = Database::open(&settings).await?;
            let token = factory::auth::create_token(database.store.pool(), &tenant, &name)
                .await
                .context("create API token")?;
            database.close().await;
            let token = token.with_context(|| format!("no tenant with slug {tenant:?}"))?;
            write_stdout(&format!("{token}\n"))
        }
    }
}

/// Writes the command's answer; logs go to stderr so stdout stays scriptable.
fn write_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    std::io::stdout().write_all(text.as_bytes()).context("write to stdout")
}

fn init_logging(json: bool) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,apalis=warn,apalis_core=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
