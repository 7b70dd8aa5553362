//! Command-line flags; each has a `TAGSTREAM_*` environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "tagstream",
    version,
    about = "Image streams for any container registry"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and the console.
    Serve(ServeArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the chosen address is printed).
    #[arg(long, env = "TAGSTREAM_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory for state; holds the SQLite file `tagstream.db` unless --database-url says otherwise.
    #[arg(long, env = "TAGSTREAM_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Database to use: `sqlite://PATH`. Defaults to DATA_DIR/tagstream.db.
    #[arg(long, env = "TAGSTREAM_DATABASE_URL")]
    pub database_url: Option<String>,

    /// TOML configuration file (registries allowed for import, import schedule, webhooks, samples).
    #[arg(long, env = "TAGSTREAM_CONFIG")]
    pub config: Option<PathBuf>,

    /// The built console (Trunk's dist/) served at / with deep links falling back to index.html.
    #[arg(long, env = "TAGSTREAM_DIST", default_value = "./dist")]
    pub dist: PathBuf,

    /// On a fresh database, user `admin` (a cluster admin) is created with this API token;
    /// without it, a one-time password for `admin` is printed to the log instead.
    #[arg(long, env = "TAGSTREAM_BOOTSTRAP_ADMIN_TOKEN", hide_env_values = true)]
    pub bootstrap_admin_token: Option<String>,
}

impl ServeArgs {
    /// The database URL in force.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("tagstream.db").display()))
    }
}
