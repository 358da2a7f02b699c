//! Helpers for tests that run real servers against real databases.
//!
//! Every test gets a database of its own: a fresh SQLite file, or a fresh PostgreSQL database on
//! the server named by `TEST_POSTGRES_URL` (an admin connection URL, e.g.
//! `postgres://postgres:postgres@127.0.0.1:5432/postgres`). `scripts/test.sh` starts one.

use sqlx::{AnyConnection, AssertSqlSafe, Connection, Executor};
use tokio::net::TcpListener;

/// A database that lives as long as the value.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// Which database server a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("creating a temporary directory");
                let url = format!("sqlite://{}/test.db", dir.path().display());
                Self {
                    url,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url().expect(
                    "TEST_POSTGRES_URL is not set: run the tests with scripts/test.sh, which starts PostgreSQL",
                );
                sqlx::any::install_default_drivers();
                let name = format!("test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = AnyConnection::connect(&admin)
                    .await
                    .expect("connecting to TEST_POSTGRES_URL");
                // `name` is ours (a UUID), not input.
                conn.execute(AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await
                    .expect("creating a test database");
                let base = admin
                    .rsplit_once('/')
                    .map_or(admin.as_str(), |(base, _)| base);
                Self {
                    url: format!("{base}/{name}"),
                    _dir: None,
                }
            }
        }
    }
}

/// The PostgreSQL server for tests, if one was given.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// The backends a storage test must pass on: SQLite always, PostgreSQL when a server is given.
/// Under CI a missing server is an error, so PostgreSQL coverage cannot silently disappear.
pub fn backends() -> Vec<Backend> {
    if postgres_admin_url().is_some() {
        vec![Backend::Sqlite, Backend::Postgres]
    } else if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but TEST_POSTGRES_URL is not set: the PostgreSQL tests would not run");
    } else {
        eprintln!("TEST_POSTGRES_URL not set: testing SQLite only (scripts/test.sh runs both)");
        vec![Backend::Sqlite]
    }
}

/// A listener on an ephemeral loopback port.
pub async fn loopback_listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding an ephemeral port")
}
