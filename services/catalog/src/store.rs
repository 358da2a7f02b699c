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

    /// Every product: what the catalog's snapshot in memory is made of.
    pub async fn all(&self) -> sqlx::Result<Vec<Product>> {
        let rows: Vec<ProductRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM products ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Product::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::seed_products;
    use platform::testing::{TestDatabase, backends};

    #[tokio::test]
    async fn seeding_and_reading_back_work_on_every_backend() {
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

            let mut all = store.all().await.unwrap();
            let mut expected = products.clone();
            all.sort_by(|a, b| a.id.cmp(&b.id));
            expected.sort_by(|a, b| a.id.cmp(&b.id));
            assert_eq!(
                all, expected,
                "every product reads back whole ({backend:?})"
            );
        }
    }
}
