//! Carts in SQL (SQLite or PostgreSQL through sqlx `Any`).

use crate::domain::{CartError, CartItem, MAX_LINES, MAX_QUANTITY};
use sqlx::{AnyPool, migrate::Migrator};

pub static MIGRATOR: Migrator = sqlx::migrate!();

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
    pub async fn add(
        &self,
        user_id: &str,
        product_id: &str,
        quantity: i32,
    ) -> Result<(), StoreError> {
        let items = self.items(user_id).await?;
        if items.len() >= MAX_LINES && !items.iter().any(|i| i.product_id == product_id) {
            return Err(CartError::CartFull.into());
        }
        let updated = sqlx::query(
            "INSERT INTO cart_items (user_id, product_id, quantity) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, product_id) DO UPDATE SET quantity = cart_items.quantity + excluded.quantity \
             WHERE cart_items.quantity + excluded.quantity <= $4",
        )
        .bind(user_id)
        .bind(product_id)
        .bind(quantity)
        .bind(MAX_QUANTITY)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if updated == 0 {
            let current: i32 = sqlx::query_scalar(
                "SELECT quantity FROM cart_items WHERE user_id = $1 AND product_id = $2",
            )
            .bind(user_id)
            .bind(product_id)
            .fetch_one(&self.pool)
            .await?;
            return Err(CartError::TooMany {
                product_id: product_id.to_owned(),
                total: current + quantity,
            }
            .into());
        }
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
