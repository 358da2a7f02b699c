//! Orders in SQL (SQLite or PostgreSQL through sqlx `Any`).

use crate::domain::{Address, Order, OrderLine};
use sqlx::{AnyPool, AssertSqlSafe, FromRow, migrate::Migrator};
use std::collections::HashMap;

pub static MIGRATOR: Migrator = sqlx::migrate!();

/// The queries splice in only constants, never input, hence `AssertSqlSafe` on their `format!`.
const ORDER_COLUMNS: &str = "id, user_id, idempotency_key, currency_code, total_units, ship_name, ship_street, \
     ship_city, ship_postal_code, ship_country, transaction_id, created_at";

#[derive(FromRow)]
struct OrderRow {
    id: String,
    user_id: String,
    idempotency_key: String,
    currency_code: String,
    total_units: i64,
    ship_name: String,
    ship_street: String,
    ship_city: String,
    ship_postal_code: String,
    ship_country: String,
    transaction_id: String,
    created_at: String,
}

#[derive(FromRow)]
struct LineRow {
    product_id: String,
    product_name: String,
    quantity: i32,
    unit_units: i64,
}

#[derive(Clone)]
pub struct OrderStore {
    pool: AnyPool,
}

impl OrderStore {
    pub fn new(pool: AnyPool) -> Self {
        Self { pool }
    }

    /// Stores an order and its lines in one transaction. If an order with the same user and
    /// idempotency key is there already (a concurrent retry won), returns that one instead.
    pub async fn insert(&self, order: &Order) -> sqlx::Result<Order> {
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO orders ({ORDER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (user_id, idempotency_key) DO NOTHING"
        )))
        .bind(&order.id)
        .bind(&order.user_id)
        .bind(&order.idempotency_key)
        .bind(&order.currency_code)
        .bind(order.total_units)
        .bind(&order.shipping.name)
        .bind(&order.shipping.street)
        .bind(&order.shipping.city)
        .bind(&order.shipping.postal_code)
        .bind(&order.shipping.country)
        .bind(&order.transaction_id)
        .bind(&order.created_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            tx.rollback().await?;
            return self
                .find_by_key(&order.user_id, &order.idempotency_key)
                .await?
                .ok_or(sqlx::Error::RowNotFound);
        }
        for (line_no, line) in order.lines.iter().enumerate() {
            sqlx::query(
                "INSERT INTO order_lines (order_id, line_no, product_id, product_name, quantity, unit_units) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&order.id)
            .bind(line_no as i32)
            .bind(&line.product_id)
            .bind(&line.product_name)
            .bind(line.quantity)
            .bind(line.unit_units)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(order.clone())
    }

    pub async fn find_by_key(
        &self,
        user_id: &str,
        idempotency_key: &str,
    ) -> sqlx::Result<Option<Order>> {
        let row: Option<OrderRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = $1 AND idempotency_key = $2"
        )))
        .bind(user_id)
        .bind(idempotency_key)
        .fetch_optional(&self.pool)
        .await?;
        self.with_lines(row).await
    }

    pub async fn find(&self, user_id: &str, order_id: &str) -> sqlx::Result<Option<Order>> {
        let row: Option<OrderRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = $1 AND id = $2"
        )))
        .bind(user_id)
        .bind(order_id)
        .fetch_optional(&self.pool)
        .await?;
        self.with_lines(row).await
    }

    /// A user's orders, newest first.
    pub async fn list(&self, user_id: &str) -> sqlx::Result<Vec<Order>> {
        const NEWEST: &str =
            "FROM orders WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 100";
        let rows: Vec<OrderRow> =
            sqlx::query_as(AssertSqlSafe(format!("SELECT {ORDER_COLUMNS} {NEWEST}")))
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
        // The lines of all those orders in one query, not one query per order.
        let lines: Vec<(String, String, String, i32, i64)> =
            sqlx::query_as(AssertSqlSafe(format!(
                "SELECT order_id, product_id, product_name, quantity, unit_units FROM order_lines \
             WHERE order_id IN (SELECT id {NEWEST}) ORDER BY order_id, line_no"
            )))
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        let mut by_order: HashMap<String, Vec<OrderLine>> = HashMap::new();
        for (order_id, product_id, product_name, quantity, unit_units) in lines {
            by_order.entry(order_id).or_default().push(OrderLine {
                product_id,
                product_name,
                quantity,
                unit_units,
            });
        }
        Ok(rows
            .into_iter()
            .map(|row| {
                let lines = by_order.remove(&row.id).unwrap_or_default();
                order(row, lines)
            })
            .collect())
    }

    async fn with_lines(&self, row: Option<OrderRow>) -> sqlx::Result<Option<Order>> {
        let Some(row) = row else { return Ok(None) };
        let lines: Vec<LineRow> = sqlx::query_as(
            "SELECT product_id, product_name, quantity, unit_units FROM order_lines WHERE order_id = $1 ORDER BY line_no",
        )
        .bind(&row.id)
        .fetch_all(&self.pool)
        .await?;
        let lines = lines
            .into_iter()
            .map(|l| OrderLine {
                product_id: l.product_id,
                product_name: l.product_name,
                quantity: l.quantity,
                unit_units: l.unit_units,
            })
            .collect();
        Ok(Some(order(row, lines)))
    }
}

fn order(row: OrderRow, lines: Vec<OrderLine>) -> Order {
    Order {
        id: row.id,
        user_id: row.user_id,
        idempotency_key: row.idempotency_key,
        lines,
        currency_code: row.currency_code,
        total_units: row.total_units,
        shipping: Address {
            name: row.ship_name,
            street: row.ship_street,
            city: row.ship_city,
            postal_code: row.ship_postal_code,
            country: row.ship_country,
        },
        transaction_id: row.transaction_id,
        created_at: row.created_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::testing::{TestDatabase, backends};

    fn order(id: &str, key: &str) -> Order {
        Order {
            id: id.into(),
            user_id: "ann".into(),
            idempotency_key: key.into(),
            lines: vec![
                OrderLine {
                    product_id: "chef-knife".into(),
                    product_name: "Chef's Knife".into(),
                    quantity: 2,
                    unit_units: 8900,
                },
                OrderLine {
                    product_id: "tote-bag".into(),
                    product_name: "Canvas Tote Bag".into(),
                    quantity: 1,
                    unit_units: 1900,
                },
            ],
            currency_code: "USD".into(),
            total_units: 19700,
            shipping: Address {
                name: "Ann".into(),
                street: "1 Main St".into(),
                city: "Springfield".into(),
                postal_code: "12345".into(),
                country: "US".into(),
            },
            transaction_id: "tx".into(),
            created_at: format!("2026-11-25T10:00:0{}Z", id.len() % 10),
        }
    }

    #[tokio::test]
    async fn one_order_per_key_with_its_lines_on_every_backend() {
        for backend in backends() {
            let db = TestDatabase::new(backend).await;
            let store = OrderStore::new(platform::db::connect(&db.url, &MIGRATOR).await.unwrap());
            let first = store.insert(&order("o1", "k1")).await.unwrap();
            let again = store.insert(&order("o2", "k1")).await.unwrap();
            assert_eq!(
                again.id, "o1",
                "the same key returns the first order ({backend:?})"
            );
            assert_eq!(again, first);
            store.insert(&order("o333", "k2")).await.unwrap();

            let listed = store.list("ann").await.unwrap();
            assert_eq!(
                listed.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
                ["o333", "o1"],
                "{backend:?}"
            );
            assert_eq!(
                store.find("ann", "o1").await.unwrap().unwrap().lines.len(),
                2
            );
            assert!(
                store.find("bob", "o1").await.unwrap().is_none(),
                "users see only their own orders"
            );
        }
    }
}
