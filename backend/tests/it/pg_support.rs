//! The database under a test app. SQLite by default; with `TAGSTREAM_TEST_POSTGRES=1` a fresh
//! PostgreSQL database per app, all in one throwaway cluster per test run (started by
//! scripts/throwaway-postgres.sh, stopped when this process exits). The replica tests ask for
//! the cluster whatever the variable says.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sqlx::Connection as _;
use tagstream_backend::store::{DatabaseSettings, PgStore, SqliteStore, Store};

static CLUSTER: OnceLock<String> = OnceLock::new();

/// Whether this run puts test apps on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("TAGSTREAM_TEST_POSTGRES").is_ok_and(|v| v == "1")
}

/// The throwaway cluster's URL (its `postgres` database), started on first use.
pub fn cluster() -> &'static str {
    CLUSTER.get_or_init(|| {
        let script = crate::support::workspace_root().join("scripts/throwaway-postgres.sh");
        let out = std::process::Command::new(script)
            .arg(std::process::id().to_string())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the throwaway PostgreSQL did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    })
}

/// A new, empty database in the cluster; its URL.
pub async fn fresh_database() -> String {
    let admin = cluster();
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let base = admin.rsplit_once('/').unwrap().0;
    format!("{base}/{name}")
}

/// Small pools: many test apps share one cluster.
pub fn test_settings() -> DatabaseSettings {
    DatabaseSettings {
        max_connections: 4,
        statement_timeout: Duration::from_secs(30),
        ..DatabaseSettings::default()
    }
}

pub enum TestStore {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl TestStore {
    /// The store for the app whose data lives in `dir`. A directory that already holds a SQLite
    /// file (a migration test's old database) stays on SQLite; a restarted app finds its
    /// PostgreSQL database again by the URL kept in the directory.
    pub async fn open(dir: &Path) -> Self {
        let sqlite = dir.join("tagstream.db");
        if !on_postgres() || sqlite.exists() {
            return Self::Sqlite(SqliteStore::open(&sqlite).await.unwrap());
        }
        let marker = dir.join("postgres-url");
        let url = match std::fs::read_to_string(&marker) {
            Ok(url) => url,
            Err(_) => {
                let url = fresh_database().await;
                std::fs::write(&marker, &url).unwrap();
                url
            }
        };
        Self::Postgres(PgStore::open(&url, test_settings()).await.unwrap())
    }

    pub fn shared(&self) -> Arc<dyn Store> {
        match self {
            Self::Sqlite(s) => Arc::new(s.clone()),
            Self::Postgres(s) => Arc::new(s.clone()),
        }
    }

    pub fn as_dyn(&self) -> &dyn Store {
        match self {
            Self::Sqlite(s) => s,
            Self::Postgres(s) => s,
        }
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(s) => s.close().await,
            Self::Postgres(s) => s.close().await,
        }
    }
}
