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
    /// Write the docker-registry config that makes the integrated registry ([registry] in the
    /// config file) use tagstream as its token server and notification endpoint.
    RegistryConfig(RegistryConfigArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct RegistryConfigArgs {
    /// The TOML configuration file; its [registry] section says where the registry listens.
    #[arg(long, env = "TAGSTREAM_CONFIG")]
    pub config: PathBuf,

    /// The data directory `tagstream serve` uses: its database (unless --database-url says
    /// otherwise) and, by default, the registry's storage; the token certificate is written to
    /// DATA_DIR/registry/token.crt for the registry to read.
    #[arg(long, env = "TAGSTREAM_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// The database `tagstream serve` uses (as its --database-url): the token key, its
    /// certificate and the notification secret are kept there, shared by every replica (made
    /// now if no replica has made them yet). Defaults to DATA_DIR/tagstream.db.
    #[arg(long, env = "TAGSTREAM_DATABASE_URL")]
    pub database_url: Option<String>,

    /// How the registry and its clients reach tagstream (the token realm and the notification
    /// URL are under it); defaults to [registry] tagstream_url.
    #[arg(long)]
    pub tagstream_url: Option<String>,

    /// Where the registry stores images; defaults to DATA_DIR/registry/storage.
    #[arg(long)]
    pub storage: Option<PathBuf>,

    /// Write the file here (mode 0600: it holds the notification secret) instead of to
    /// standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the chosen address is printed).
    #[arg(long, env = "TAGSTREAM_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory for state; holds the SQLite file `tagstream.db` unless --database-url says otherwise.
    #[arg(long, env = "TAGSTREAM_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Database to use: `sqlite://PATH`, or `postgres://USER@HOST:PORT/DB` for several
    /// replicas on one database. Defaults to DATA_DIR/tagstream.db.
    #[arg(long, env = "TAGSTREAM_DATABASE_URL")]
    pub database_url: Option<String>,

    /// PostgreSQL only: connections this replica keeps at most (one more is used for LISTEN).
    #[arg(long, env = "TAGSTREAM_DATABASE_MAX_CONNECTIONS", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(2..=1000))]
    pub database_max_connections: u32,

    /// PostgreSQL only: seconds after which the server cancels a statement (its request fails).
    #[arg(long, env = "TAGSTREAM_DATABASE_STATEMENT_TIMEOUT", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub database_statement_timeout: u64,

    /// PostgreSQL only: seconds a replica's claim on shared background work (a webhook being
    /// sent, the import worker) holds; a dead replica's work is taken over after this.
    #[arg(long, env = "TAGSTREAM_DATABASE_LEASE_SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub database_lease_seconds: u64,

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
    /// The database settings in force.
    pub fn database_settings(&self) -> crate::store::DatabaseSettings {
        crate::store::DatabaseSettings {
            max_connections: self.database_max_connections,
            statement_timeout: std::time::Duration::from_secs(self.database_statement_timeout),
            lease: std::time::Duration::from_secs(self.database_lease_seconds),
            ..crate::store::DatabaseSettings::default()
        }
    }

    /// The database URL in force.
    pub fn database_url(&self) -> String {
        database_url(self.database_url.as_deref(), &self.data_dir)
    }
}

impl RegistryConfigArgs {
    /// The database URL in force: the one `serve` with the same flags uses.
    pub fn database_url(&self) -> String {
        database_url(self.database_url.as_deref(), &self.data_dir)
    }
}

/// `--database-url`, or the SQLite file in the data directory.
fn database_url(given: Option<&str>, data_dir: &std::path::Path) -> String {
    given.map_or_else(
        || format!("sqlite://{}", data_dir.join("tagstream.db").display()),
        str::to_owned,
    )
}
