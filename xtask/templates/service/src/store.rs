//! The records of {{name}} in SQL: SQLite or PostgreSQL through sqlx's Any driver, migrated at start
//! from migrations/.

use crate::{app::{{Pascal}}Store, domain::{{Pascal}}};
use sqlx::{AnyPool, migrate::Migrator};

/// Applied at start; the previous release still starts on them (see `platform::migrator!`).
pub static MIGRATOR: std::sync::LazyLock<Migrator> = platform::migrator!();

#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
}

impl SqlStore {
    pub fn new(pool: AnyPool) -> Self {
        Self { pool }
    }
}

impl {{Pascal}}Store for SqlStore {
    type Error = sqlx::Error;

    async fn insert(&self, record: &{{Pascal}}) -> sqlx::Result<()> {
        sqlx::query("INSERT INTO {{name}}_records (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&record.id)
            .bind(&record.name)
            .bind(&record.created_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn find(&self, id: &str) -> sqlx::Result<Option<{{Pascal}}>> {
        let row: Option<(String, String, String)> =
            sqlx::query_as("SELECT id, name, created_at FROM {{name}}_records WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(id, name, created_at)| {{Pascal}} {
            id,
            name,
            created_at,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::testing::{TestDatabase, backends};

    #[tokio::test]
    async fn a_record_is_found_by_its_id_on_every_backend() {
        for backend in backends() {
            let db = TestDatabase::new(backend).await;
            let store = SqlStore::new(platform::db::connect(&db.url, &MIGRATOR).await.unwrap());
            let record = {{Pascal}} {
                id: "id-1".into(),
                name: "first".into(),
                created_at: "2026-11-25T15:00:26.933086Z".into(),
            };
            store.insert(&record).await.unwrap();
            assert_eq!(store.find("id-1").await.unwrap(), Some(record), "{backend:?}");
            assert_eq!(store.find("id-2").await.unwrap(), None, "{backend:?}");
        }
    }
}
