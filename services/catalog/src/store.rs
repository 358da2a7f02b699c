//! Products in SQL (SQLite or PostgreSQL through sqlx `Any`).

use crate::domain::{Money, Product};
use sqlx::{AnyPool, AssertSqlSafe, FromRow, migrate::Migrator};

/// Applied at start; the previous release still starts on them (see `platform::migrator!`).
pub static MIGRATOR: std::sync::LazyLock<Migrator> = platform::migrator!();

/// The queries splice in only this constant, never input, hence `AssertSqlSafe` on their `format!`.
const COLUMNS: &str = "id, name, description, category, currency_code, price_units, picture_url";

#[derive(FromRow)]
struct ProductRow {
    id: String,
    name: String,
    description: String,
    category: String,
    currency_code: String,
    price_units: i64,
    picture_url: String,
}

impl From<ProductRow> for Product {
    fn from(row: ProductRow) -> Self {
        Product {
            id: row.id,
            name: row.name,
            description: row.description,
            category: row.category,
            price: Money {
                currency_code: row.currency_code,
                units: row.price_units,
            },
            picture_url: row.picture_url,
        }
    }
}

#[derive(Clone)]
pub struct ProductStore {
    pool: AnyPool,
}

impl ProductStore {
    pub fn new(pool: AnyPool) -> Self {
        Self { pool }
    }

    /// Inserts the products that are not there yet; returns how many were added. Safe to run from
    /// several replicas at once.
    pub async fn seed(&self, products: &[Product]) -> sqlx::Result<u64> {
        let mut tx = self.pool.begin().await?;
        let mut added = 0;
        for p in products {
            added += sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO products ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING"
            )))
            .bind(&p.id)
            .bind(&p.name)
            .bind(&p.description)
            .bind(&p.category)
            .bind(&p.price.currency_code)
            .bind(p.price.units)
            .bind(&p.picture_url)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(added)
    }

    pub async fn get(&self, id: &str) -> sqlx::Result<Option<Product>> {
        let row: Option<ProductRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM products WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(Product::from))
    }

    /// One page in id order after `after` (keyset paging: stable while products are added),
    /// plus whether more follow.
    pub async fn list(
        &self,
        category: Option<&str>,
        after: &str,
        limit: u32,
    ) -> sqlx::Result<(Vec<Product>, bool)> {
        let rows: Vec<ProductRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM products WHERE id > $1 AND ($2 = '' OR category = $2) ORDER BY id LIMIT $3"
        )))
        .bind(after)
        .bind(category.unwrap_or(""))
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        let more = rows.len() > limit as usize;
        Ok((
            rows.into_iter()
                .take(limit as usize)
                .map(Product::from)
                .collect(),
            more,
        ))
    }

    /// Products whose name, description or category contains the (lower-case) `like` pattern.
    pub async fn search(&self, like: &str, limit: u32) -> sqlx::Result<Vec<Product>> {
        let rows: Vec<ProductRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM products \
             WHERE LOWER(name) LIKE $1 ESCAPE '\\' OR LOWER(description) LIKE $1 ESCAPE '\\' \
                OR LOWER(category) LIKE $1 ESCAPE '\\' \
             ORDER BY name LIMIT $2"
        )))
        .bind(like)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Product::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{like_pattern, seed_products};
    use platform::testing::{TestDatabase, backends};

    #[tokio::test]
    async fn seeding_paging_and_search_work_on_every_backend() {
        for backend in backends() {
            let db = TestDatabase::new(backend).await;
            let store = ProductStore::new(platform::db::connect(&db.url, &MIGRATOR).await.unwrap());
            let products = seed_products();
            assert_eq!(
                store.seed(&products).await.unwrap(),
                products.len() as u64,
                "{backend:?}"
            );
            assert_eq!(
                store.seed(&products).await.unwrap(),
                0,
                "seeding twice adds nothing ({backend:?})"
            );

            let mut seen = Vec::new();
            let mut after = String::new();
            loop {
                let (page, more) = store.list(None, &after, 7).await.unwrap();
                assert!(page.len() <= 7);
                seen.extend(page.iter().map(|p| p.id.clone()));
                after = page.last().map(|p| p.id.clone()).unwrap_or_default();
                if !more {
                    break;
                }
            }
            assert_eq!(
                seen.len(),
                products.len(),
                "paging visits every product once ({backend:?})"
            );

            let (kitchen, _) = store.list(Some("kitchen"), "", 100).await.unwrap();
            assert!(!kitchen.is_empty() && kitchen.iter().all(|p| p.category == "kitchen"));

            let found = store.search(&like_pattern("coffee"), 10).await.unwrap();
            assert!(
                found.iter().any(|p| p.id == "pour-over-coffee-set"),
                "{backend:?}"
            );
            assert!(
                store
                    .search(&like_pattern("100%"), 10)
                    .await
                    .unwrap()
                    .is_empty(),
                "% is literal"
            );

            assert_eq!(
                store.get("chef-knife").await.unwrap().unwrap().price.units,
                8900
            );
            assert!(store.get("no-such-product").await.unwrap().is_none());
        }
    }
}
