//! Carts in SQL (SQLite or PostgreSQL through sqlx `Any`).

use crate::domain::{CartError, CartItem, MAX_LINES, MAX_QUANTITY};
use sqlx::{AnyPool, migrate::Migrator};

/// Applied at start; the previous release still starts on them (see `platform::migrator!`).
pub static MIGRATOR: std::sync::LazyLock<Migrator> = platform::migrator!();

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Cart(#[from] CartError),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

#[derive(Clone)]
pub struct CartStore {
    pool: AnyPool,
}

impl CartStore {
    pub fn new(pool: AnyPool) -> Self {
        Self { pool }
    }

    pub async fn items(&self, user_id: &str) -> sqlx::Result<Vec<CartItem>> {
        let rows: Vec<(String, i32)> = sqlx::query_as(
            "SELECT product_id, quantity FROM cart_items WHERE user_id = $1 ORDER BY product_id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(product_id, quantity)| CartItem {
                product_id,
                quantity,
            })
            .collect())
    }

    /// Adds `quantity` of a product. The upsert re-checks the limit itself, so concurrent adds
    /// cannot push a line past it.
    /// Adds `quantity` of a product, within the limits, atomically: concurrent adds to one cart
    /// are serialized on its `carts` row, so they cannot together pass MAX_LINES.
    pub async fn add(
        &self,
        user_id: &str,
        product_id: &str,
        quantity: i32,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO carts (user_id, adds) VALUES ($1, 1) \
             ON CONFLICT (user_id) DO UPDATE SET adds = carts.adds + 1",
        )
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        let lines: Vec<(String, i32)> =
            sqlx::query_as("SELECT product_id, quantity FROM cart_items WHERE user_id = $1")
                .bind(user_id)
                .fetch_all(&mut *tx)
                .await?;
        let current = lines.iter().find(|(p, _)| p == product_id).map(|(_, q)| *q);
        if current.is_none() && lines.len() >= MAX_LINES {
            return Err(CartError::CartFull.into());
        }
        let total = current.unwrap_or(0) + quantity;
        if total > MAX_QUANTITY {
            return Err(CartError::TooMany {
                product_id: product_id.to_owned(),
                total,
            }
            .into());
        }
        sqlx::query(
            "INSERT INTO cart_items (user_id, product_id, quantity) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, product_id) DO UPDATE SET quantity = excluded.quantity",
        )
        .bind(user_id)
        .bind(product_id)
        .bind(total)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn remove(&self, user_id: &str, product_id: &str) -> sqlx::Result<()> {
        sqlx::query("DELETE FROM cart_items WHERE user_id = $1 AND product_id = $2")
            .bind(user_id)
            .bind(product_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn empty(&self, user_id: &str) -> sqlx::Result<()> {
        sqlx::query("DELETE FROM cart_items WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::testing::{TestDatabase, backends};

    #[tokio::test]
    async fn concurrent_adds_never_pass_the_limits_on_every_backend() {
        for backend in backends() {
            let db = TestDatabase::new(backend).await;
            let store = CartStore::new(platform::db::connect(&db.url, &MIGRATOR).await.unwrap());
            for i in 0..MAX_LINES - 5 {
                store.add("ann", &format!("p{i}"), 1).await.unwrap();
            }
            // 20 new products at once for 5 free lines, and 10 adds of 10 to one product.
            let adds = (0..20)
                .map(|i| (format!("new{i}"), 1))
                .chain((0..10).map(|_| ("p0".to_owned(), 10)))
                .map(|(product, quantity)| {
                    let store = store.clone();
                    tokio::spawn(async move { store.add("ann", &product, quantity).await })
                });
            let results = futures::future::join_all(adds).await;
            let refused = results
                .into_iter()
                .map(|r| r.unwrap())
                .filter(|r| {
                    matches!(
                        r,
                        Err(StoreError::Cart(
                            CartError::CartFull | CartError::TooMany { .. }
                        ))
                    )
                })
                .count();
            let items = store.items("ann").await.unwrap();
            assert_eq!(items.len(), MAX_LINES, "{backend:?}");
            let p0 = items
                .iter()
                .find(|i| i.product_id == "p0")
                .unwrap()
                .quantity;
            assert_eq!(p0, 91, "1 + 9 adds of 10 ({backend:?})");
            assert_eq!(refused, 15 + 1, "{backend:?}");
        }
    }

    #[tokio::test]
    async fn adds_accumulate_up_to_the_limit_on_every_backend() {
        for backend in backends() {
            let db = TestDatabase::new(backend).await;
            let store = CartStore::new(platform::db::connect(&db.url, &MIGRATOR).await.unwrap());
            store.add("ann", "chef-knife", 2).await.unwrap();
            store.add("ann", "chef-knife", 3).await.unwrap();
            store.add("ann", "tote-bag", 1).await.unwrap();
            store.add("bob", "tote-bag", 1).await.unwrap();
            let items = store.items("ann").await.unwrap();
            assert_eq!(
                items,
                vec![
                    CartItem {
                        product_id: "chef-knife".into(),
                        quantity: 5
                    },
                    CartItem {
                        product_id: "tote-bag".into(),
                        quantity: 1
                    }
                ],
                "{backend:?}"
            );

            let err = store.add("ann", "chef-knife", 95).await.unwrap_err();
            assert!(
                matches!(err, StoreError::Cart(CartError::TooMany { total: 100, .. })),
                "{backend:?}: {err}"
            );
            assert_eq!(
                store.items("ann").await.unwrap()[0].quantity,
                5,
                "a rejected add changes nothing"
            );

            store.remove("ann", "chef-knife").await.unwrap();
            assert_eq!(store.items("ann").await.unwrap().len(), 1);
            store.empty("ann").await.unwrap();
            assert!(store.items("ann").await.unwrap().is_empty());
            assert_eq!(
                store.items("bob").await.unwrap().len(),
                1,
                "other carts are untouched"
            );
        }
    }
}
