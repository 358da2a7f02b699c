//! SQL storage through sqlx's `Any` driver: SQLite by default (a file, created on first start, so
//! nothing needs installing) and PostgreSQL when `DATABASE_URL` points at it. Queries use `$1`
//! placeholders, which both understand, and portable types (TEXT, BIGINT).

use anyhow::Context as _;
use sqlx::{
    AnyPool, Executor,
    any::{AnyPoolOptions, install_default_drivers},
    migrate::Migrator,
};
use std::time::Duration;

/// How long a service waits for its database at start (PostgreSQL may still be starting).
const CONNECT_PATIENCE: Duration = Duration::from_secs(60);

/// Largest connection pool per process by default. With PostgreSQL, every replica of every
/// service holds up to this many connections, so `DATABASE_MAX_CONNECTIONS` x replicas, summed over
/// the services, must stay under the server's `max_connections` (tests/manifests.rs checks the
/// overlays). SQLite has one writer at a time; more connections only queue on its lock.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 4;

/// The migrations of the calling crate (its `migrations/` folder), as `connect` applies them:
/// `pub static MIGRATOR: LazyLock<Migrator> = platform::migrator!();`
///
/// Migrations only ever add (tables, nullable columns), so the previous release runs on the new
/// schema; `ignore_missing` lets it start on a database that has migrations it does not know, so
/// that a rollback (`kubectl rollout undo`, the pipeline's automatic one) works.
#[macro_export]
macro_rules! migrator {
    () => {
        ::std::sync::LazyLock::new(|| {
            let mut migrator = ::sqlx::migrate!();
            migrator.set_ignore_missing(true);
            migrator
        })
    };
}

/// The database settings of a service that owns one.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseConfig {
    /// `postgres://user:password@host/db` or `sqlite://path` [default: a SQLite file named after
    /// the service in DATA_DIR].
    #[arg(
        long = "database-url",
        env = "DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub url: Option<String>,
    /// Directory of the default SQLite file.
    #[arg(
        long = "data-dir",
        env = "DATA_DIR",
        value_name = "DIR",
        default_value = "data"
    )]
    pub data_dir: String,
    /// Largest connection pool of this process: replicas x this, summed over the services, must
    /// fit in PostgreSQL's max_connections.
    #[arg(long = "database-max-connections", env = "DATABASE_MAX_CONNECTIONS", value_name = "N",
          default_value_t = DEFAULT_MAX_CONNECTIONS, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_connections: u32,
}

impl DatabaseConfig {
    /// `DATABASE_URL`, or the SQLite file `DATA_DIR/SERVICE.db`.
    pub fn url(&self, service: &str) -> String {
        match self.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => url.to_owned(),
            None => format!("sqlite://{}/{service}.db", self.data_dir),
        }
    }

    /// Connects to the database of `service` and applies its migrations.
    pub async fn connect(&self, service: &str, migrator: &Migrator) -> anyhow::Result<AnyPool> {
        connect_with(&self.url(service), self.max_connections, migrator).await
    }
}

/// Connects to `url` with the default pool size and applies the migrations (tests).
pub async fn connect(url: &str, migrator: &Migrator) -> anyhow::Result<AnyPool> {
    connect_with(url, DEFAULT_MAX_CONNECTIONS, migrator).await
}

/// Connects to `url` with a pool of at most `max_connections` and applies the migrations.
pub async fn connect_with(
    url: &str,
    max_connections: u32,
    migrator: &Migrator,
) -> anyhow::Result<AnyPool> {
    install_default_drivers();
    let url = prepare_url(url)?;
    let sqlite = url.starts_with("sqlite:");
    let options = AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if sqlite {
                    conn.execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;")
                        .await?;
                }
                Ok(())
            })
        });

    let deadline = tokio::time::Instant::now() + CONNECT_PATIENCE;
    let pool = loop {
        match options.clone().connect(&url).await {
            Ok(pool) => break pool,
            Err(e) if tokio::time::Instant::now() < deadline => {
                tracing::warn!(error = %e, "database not reachable yet, retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => return Err(e).context("connecting to the database (DATABASE_URL)"),
        }
    };
    migrator
        .run(&pool)
        .await
        .context("applying database migrations")?;
    Ok(pool)
}

/// Creates the directory of a SQLite file and asks SQLite to create the file if missing.
fn prepare_url(url: &str) -> anyhow::Result<String> {
    let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return Ok(url.to_owned());
    };
    let (file, query) = path.split_once('?').unwrap_or((path, ""));
    if let Some(dir) = std::path::Path::new(file)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating data directory {}", dir.display()))?;
    }
    Ok(if query.contains("mode=") {
        url.to_owned()
    } else if query.is_empty() {
        format!("sqlite://{file}?mode=rwc")
    } else {
        format!("sqlite://{file}?{query}&mode=rwc")
    })
}

/// Whether a storage error is transient: the database is down, restarting, overloaded or busy, so
/// the same call may succeed later. Everything else (a bad query, a constraint, a decode error) is a
/// bug or a conflict that a retry cannot fix.
pub fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(e) => e.code().is_some_and(|code| {
            // PostgreSQL SQLSTATE: 08 connection exceptions, 57P0x shutting down or not yet up,
            // 53300 too many connections, 40001/40P01 serialization failure or deadlock.
            // SQLite: 5 SQLITE_BUSY, 6 SQLITE_LOCKED (and their extended codes).
            code.starts_with("08")
                || matches!(
                    &*code,
                    "57P01" | "57P02" | "57P03" | "53300" | "40001" | "40P01"
                )
                || code.parse::<u32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
        }),
        _ => false,
    }
}

/// The gRPC status of a storage error of `service`: UNAVAILABLE (which callers may retry) only when
/// it is transient; INTERNAL otherwise, logged with its cause, so that a bug is seen, not retried.
pub fn storage_status(service: &str, error: &sqlx::Error) -> tonic::Status {
    if is_transient(error) {
        tracing::warn!(%error, "{service} storage is unavailable");
        tonic::Status::unavailable(format!("{service} storage is unavailable, try again"))
    } else {
        tracing::error!(%error, "{service} storage failed");
        tonic::Status::internal(format!("{service} storage failed"))
    }
}

/// Whether an error is a unique-constraint violation (a concurrent insert of the same key).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::{is_transient, prepare_url, storage_status};

    #[test]
    fn only_transient_storage_errors_are_unavailable() {
        let down = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(is_transient(&down));
        assert!(is_transient(&sqlx::Error::PoolTimedOut));
        assert_eq!(
            storage_status("cart", &down).code(),
            tonic::Code::Unavailable
        );
        let bug = sqlx::Error::ColumnNotFound("quantity".into());
        assert!(!is_transient(&bug));
        assert!(!is_transient(&sqlx::Error::RowNotFound));
        let status = storage_status("cart", &bug);
        assert_eq!(status.code(), tonic::Code::Internal);
        assert_eq!(
            status.message(),
            "cart storage failed",
            "the cause stays in the log"
        );
    }

    #[tokio::test]
    async fn a_bad_query_is_internal_and_a_busy_database_transient() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = prepare_url(&format!("sqlite://{}/t.db", dir.path().display())).unwrap();
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        let error = sqlx::query("SELECT nope FROM nothing")
            .execute(&pool)
            .await
            .unwrap_err();
        assert!(!is_transient(&error), "{error}");
        assert_eq!(storage_status("x", &error).code(), tonic::Code::Internal);
    }

    #[test]
    fn sqlite_urls_get_create_mode_and_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/sub/cart.db", dir.path().display());
        assert_eq!(prepare_url(&url).unwrap(), format!("{url}?mode=rwc"));
        assert!(dir.path().join("sub").is_dir());
        assert_eq!(
            prepare_url("postgres://u:p@h/db").unwrap(),
            "postgres://u:p@h/db"
        );
    }
}
