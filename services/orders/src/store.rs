//! Orders in SQL (SQLite or PostgreSQL through sqlx `Any`).

use crate::domain::{Address, Order, OrderLine};
use sqlx::{AnyPool, AssertSqlSafe, FromRow, migrate::Migrator};
use std::collections::HashMap;

/// Applied at start; the previous release still starts on them (see `platform::migrator!`).
pub static MIGRATOR: std::sync::LazyLock<Migrator> = platform::migrator!();

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

const CHECKOUT_COLUMNS: &str = "user_id, idempotency_key, fingerprint, order_id, state, lease_id, \
     leased_until_ms, currency_code, total_units, lines_json, created_at";

/// How far a checkout got (see migrations/0002_checkouts.sql).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckoutState {
    Started,
    Charging,
    Completed,
    Voided,
}

/// Which attempt works on a checkout, until when (milliseconds since the Unix epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub id: String,
    pub until_ms: i64,
}

/// The cart as priced for a checkout, kept before the charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priced {
    pub lines: Vec<OrderLine>,
    pub currency_code: String,
    pub total_units: i64,
}

/// A checkout's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRecord {
    pub user_id: String,
    pub idempotency_key: String,
    pub fingerprint: String,
    pub order_id: String,
    pub state: CheckoutState,
    pub lease: Lease,
    /// Set from state `charging` on.
    pub priced: Option<Priced>,
    pub created_at: String,
}

#[derive(FromRow)]
struct CheckoutRow {
    user_id: String,
    idempotency_key: String,
    fingerprint: String,
    order_id: String,
    state: String,
    lease_id: String,
    leased_until_ms: i64,
    currency_code: Option<String>,
    total_units: Option<i64>,
    lines_json: Option<String>,
    created_at: String,
}

/// An order line as kept in `checkouts.lines_json`.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredLine {
    product_id: String,
    product_name: String,
    quantity: i32,
    unit_units: i64,
}

impl From<&OrderLine> for StoredLine {
    fn from(l: &OrderLine) -> Self {
        Self {
            product_id: l.product_id.clone(),
            product_name: l.product_name.clone(),
            quantity: l.quantity,
            unit_units: l.unit_units,
        }
    }
}

impl TryFrom<CheckoutRow> for CheckoutRecord {
    type Error = sqlx::Error;

    fn try_from(row: CheckoutRow) -> sqlx::Result<Self> {
        let corrupt = |what: String| sqlx::Error::Decode(what.into());
        let state = match row.state.as_str() {
            "started" => CheckoutState::Started,
            "charging" => CheckoutState::Charging,
            "completed" => CheckoutState::Completed,
            "voided" => CheckoutState::Voided,
            other => return Err(corrupt(format!("checkouts.state {other:?}"))),
        };
        let priced = match (row.currency_code, row.total_units, row.lines_json) {
            (Some(currency_code), Some(total_units), Some(json)) => {
                let lines: Vec<StoredLine> = serde_json::from_str(&json)
                    .map_err(|e| corrupt(format!("checkouts.lines_json: {e}")))?;
                Some(Priced {
                    lines: lines
                        .into_iter()
                        .map(|l| OrderLine {
                            product_id: l.product_id,
                            product_name: l.product_name,
                            quantity: l.quantity,
                            unit_units: l.unit_units,
                        })
                        .collect(),
                    currency_code,
                    total_units,
                })
            }
            _ => None,
        };
        Ok(Self {
            user_id: row.user_id,
            idempotency_key: row.idempotency_key,
            fingerprint: row.fingerprint,
            order_id: row.order_id,
            state,
            lease: Lease {
                id: row.lease_id,
                until_ms: row.leased_until_ms,
            },
            priced,
            created_at: row.created_at,
        })
    }
}

#[derive(Clone)]
pub struct OrderStore {
    pool: AnyPool,
}

impl OrderStore {
    pub fn new(pool: AnyPool) -> Self {
        Self { pool }
    }

    /// Stores an order and its lines in one transaction (as the release before checkouts did). If
    /// an order with the same user and idempotency key is there already, returns that one.
    pub async fn insert(&self, order: &Order) -> sqlx::Result<Order> {
        let mut tx = self.pool.begin().await?;
        if !insert_order(&mut tx, order).await? {
            tx.rollback().await?;
            return self
                .find_by_key(&order.user_id, &order.idempotency_key)
                .await?
                .ok_or(sqlx::Error::RowNotFound);
        }
        tx.commit().await?;
        Ok(order.clone())
    }

    /// Stores the order of a checkout and its lines, and marks the checkout completed, in one
    /// transaction. If the key has an order already (another attempt's), returns that one, and
    /// the checkout answers with it from now on.
    pub async fn complete(&self, order: &Order) -> sqlx::Result<Order> {
        let mut tx = self.pool.begin().await?;
        let (stored, order_id) = if insert_order(&mut tx, order).await? {
            (order.clone(), order.id.clone())
        } else {
            tx.rollback().await?;
            tx = self.pool.begin().await?;
            let existing = self
                .find_by_key(&order.user_id, &order.idempotency_key)
                .await?
                .ok_or(sqlx::Error::RowNotFound)?;
            let id = existing.id.clone();
            (existing, id)
        };
        sqlx::query(
            "UPDATE checkouts SET state = 'completed', leased_until_ms = 0, order_id = $3 \
             WHERE user_id = $1 AND idempotency_key = $2",
        )
        .bind(&order.user_id)
        .bind(&order.idempotency_key)
        .bind(&order_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Reserves (user, key) for a new checkout attempt holding `lease`; `false` when the key has a
    /// checkout already.
    pub async fn reserve(&self, checkout: &CheckoutRecord) -> sqlx::Result<bool> {
        let inserted = sqlx::query(
            "INSERT INTO checkouts (user_id, idempotency_key, fingerprint, order_id, state, lease_id, \
             leased_until_ms, created_at) VALUES ($1, $2, $3, $4, 'started', $5, $6, $7) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&checkout.user_id)
        .bind(&checkout.idempotency_key)
        .bind(&checkout.fingerprint)
        .bind(&checkout.order_id)
        .bind(&checkout.lease.id)
        .bind(checkout.lease.until_ms)
        .bind(&checkout.created_at)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    pub async fn checkout(
        &self,
        user_id: &str,
        idempotency_key: &str,
    ) -> sqlx::Result<Option<CheckoutRecord>> {
        let row: Option<CheckoutRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {CHECKOUT_COLUMNS} FROM checkouts WHERE user_id = $1 AND idempotency_key = $2"
        )))
        .bind(user_id)
        .bind(idempotency_key)
        .fetch_optional(&self.pool)
        .await?;
        row.map(CheckoutRecord::try_from).transpose()
    }

    /// Takes over the lease of an open checkout whose lease has ended by `now_ms`; `false` when
    /// another attempt holds it (or took it first).
    pub async fn take_over(
        &self,
        checkout: &CheckoutRecord,
        new: &Lease,
        now_ms: i64,
    ) -> sqlx::Result<bool> {
        let updated = sqlx::query(
            "UPDATE checkouts SET lease_id = $3, leased_until_ms = $4 \
             WHERE user_id = $1 AND idempotency_key = $2 AND lease_id = $5 AND leased_until_ms <= $6 \
             AND state IN ('started', 'charging')",
        )
        .bind(&checkout.user_id)
        .bind(&checkout.idempotency_key)
        .bind(&new.id)
        .bind(new.until_ms)
        .bind(&checkout.lease.id)
        .bind(now_ms)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    /// Keeps the priced cart of a checkout (state `charging`), before it is charged, so that any
    /// retry charges the same amount; `false` when `lease` is no longer this attempt's.
    pub async fn priced(&self, checkout: &CheckoutRecord, priced: &Priced) -> sqlx::Result<bool> {
        let lines: Vec<StoredLine> = priced.lines.iter().map(StoredLine::from).collect();
        let lines_json =
            serde_json::to_string(&lines).map_err(|e| sqlx::Error::Encode(e.into()))?;
        let updated = sqlx::query(
            "UPDATE checkouts SET state = 'charging', currency_code = $3, total_units = $4, lines_json = $5 \
             WHERE user_id = $1 AND idempotency_key = $2 AND lease_id = $6 AND state = 'started'",
        )
        .bind(&checkout.user_id)
        .bind(&checkout.idempotency_key)
        .bind(&priced.currency_code)
        .bind(priced.total_units)
        .bind(lines_json)
        .bind(&checkout.lease.id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    /// Ends the attempt holding `checkout.lease`: `forget` deletes a checkout that charged nothing
    /// (the key can be used again); otherwise the lease ends at `now_ms`, so a retry resumes at
    /// once (and the reconciler counts the time from then).
    pub async fn release(
        &self,
        checkout: &CheckoutRecord,
        forget: bool,
        now_ms: i64,
    ) -> sqlx::Result<()> {
        let sql = if forget {
            "DELETE FROM checkouts WHERE user_id = $1 AND idempotency_key = $2 AND lease_id = $3 \
             AND state IN ('started', 'charging')"
        } else {
            "UPDATE checkouts SET leased_until_ms = $4 WHERE user_id = $1 AND idempotency_key = $2 \
             AND lease_id = $3 AND state IN ('started', 'charging')"
        };
        let mut query = sqlx::query(sql)
            .bind(&checkout.user_id)
            .bind(&checkout.idempotency_key)
            .bind(&checkout.lease.id);
        if !forget {
            query = query.bind(now_ms);
        }
        query.execute(&self.pool).await?;
        Ok(())
    }

    /// Open checkouts whose lease ended before `ended_before_ms`: attempts that crashed or were
    /// given up on, for the reconciler.
    pub async fn abandoned(&self, ended_before_ms: i64) -> sqlx::Result<Vec<CheckoutRecord>> {
        let rows: Vec<CheckoutRow> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT {CHECKOUT_COLUMNS} FROM checkouts \
             WHERE state IN ('started', 'charging') AND leased_until_ms < $1 \
             ORDER BY leased_until_ms LIMIT 100"
        )))
        .bind(ended_before_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(CheckoutRecord::try_from).collect()
    }

    /// Marks a checkout voided (its charge, if any, was voided), if `checkout.lease` still holds.
    pub async fn voided(&self, checkout: &CheckoutRecord) -> sqlx::Result<bool> {
        let updated = sqlx::query(
            "UPDATE checkouts SET state = 'voided', leased_until_ms = 0 \
             WHERE user_id = $1 AND idempotency_key = $2 AND lease_id = $3 AND state = 'charging'",
        )
        .bind(&checkout.user_id)
        .bind(&checkout.idempotency_key)
        .bind(&checkout.lease.id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(updated == 1)
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
        // The lines of exactly those orders, in one query (not one per order, and not a second
        // "newest 100" that a concurrent checkout could shift, leaving an order without lines).
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=rows.len()).map(|i| format!("${i}")).collect();
        let mut query =
            sqlx::query_as::<_, (String, String, String, i32, i64)>(AssertSqlSafe(format!(
                "SELECT order_id, product_id, product_name, quantity, unit_units FROM order_lines \
                 WHERE order_id IN ({}) ORDER BY order_id, line_no",
                placeholders.join(", ")
            )));
        for row in &rows {
            query = query.bind(row.id.clone());
        }
        let lines = query.fetch_all(&self.pool).await?;
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

/// Inserts an order and its lines in `tx`; `false` when the key (or the id) has an order already.
async fn insert_order(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    order: &Order,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO orders ({ORDER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT DO NOTHING"
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
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(false);
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
        .execute(&mut **tx)
        .await?;
    }
    Ok(true)
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

    fn open_checkout(key: &str, order_id: &str, lease: &str, until_ms: i64) -> CheckoutRecord {
        CheckoutRecord {
            user_id: "ann".into(),
            idempotency_key: key.into(),
            fingerprint: "f".into(),
            order_id: order_id.into(),
            state: CheckoutState::Started,
            lease: Lease {
                id: lease.into(),
                until_ms,
            },
            priced: None,
            created_at: "2026-11-30T10:00:00Z".into(),
        }
    }

    #[tokio::test]
    async fn checkouts_are_reserved_once_leased_priced_completed_and_voided_on_every_backend() {
        for backend in backends() {
            let db = TestDatabase::new(backend).await;
            let store = OrderStore::new(platform::db::connect(&db.url, &MIGRATOR).await.unwrap());
            let first = open_checkout("k1", "o1", "lease-a", 1_000);
            assert!(store.reserve(&first).await.unwrap());
            assert!(
                !store
                    .reserve(&open_checkout("k1", "o2", "lease-b", 1_000))
                    .await
                    .unwrap(),
                "one checkout per key ({backend:?})"
            );
            assert_eq!(store.checkout("ann", "k1").await.unwrap().unwrap(), first);

            // The lease holds until 1000: no take-over before, one after.
            let b = Lease {
                id: "lease-b".into(),
                until_ms: 5_000,
            };
            assert!(!store.take_over(&first, &b, 999).await.unwrap());
            assert!(store.take_over(&first, &b, 1_000).await.unwrap());
            let c = Lease {
                id: "lease-c".into(),
                until_ms: 5_000,
            };
            assert!(
                !store.take_over(&first, &c, 9_000).await.unwrap(),
                "lease-a is gone"
            );

            let priced = Priced {
                lines: order("o1", "k1").lines,
                currency_code: "USD".into(),
                total_units: 19700,
            };
            assert!(
                !store.priced(&first, &priced).await.unwrap(),
                "only the lease holder"
            );
            let mine = CheckoutRecord {
                lease: b.clone(),
                ..first.clone()
            };
            assert!(store.priced(&mine, &priced).await.unwrap());
            let stored = store.checkout("ann", "k1").await.unwrap().unwrap();
            assert_eq!(stored.state, CheckoutState::Charging);
            assert_eq!(stored.priced.as_ref(), Some(&priced));

            // Released at 6000; abandoned only once that is old enough.
            store.release(&mine, false, 6_000).await.unwrap();
            assert!(store.abandoned(6_000).await.unwrap().is_empty());
            assert_eq!(store.abandoned(6_001).await.unwrap().len(), 1);
            let reconciler = Lease {
                id: "lease-r".into(),
                until_ms: 9_000,
            };
            assert!(store.take_over(&stored, &reconciler, 7_000).await.unwrap());
            let settling = CheckoutRecord {
                lease: reconciler,
                ..stored
            };
            assert!(store.voided(&settling).await.unwrap());
            assert_eq!(
                store.checkout("ann", "k1").await.unwrap().unwrap().state,
                CheckoutState::Voided
            );
            assert!(store.abandoned(i64::MAX).await.unwrap().is_empty());

            // Completing stores the order and closes its checkout in one transaction.
            let second = open_checkout("k2", "o2", "lease-x", 1_000);
            assert!(store.reserve(&second).await.unwrap());
            store.complete(&order("o2", "k2")).await.unwrap();
            let done = store.checkout("ann", "k2").await.unwrap().unwrap();
            assert_eq!(done.state, CheckoutState::Completed);
            assert_eq!(
                store.find("ann", "o2").await.unwrap().unwrap().lines.len(),
                2
            );

            // A checkout that charged nothing is forgotten: the key is free again.
            let third = open_checkout("k3", "o3", "lease-y", 1_000);
            assert!(store.reserve(&third).await.unwrap());
            store.release(&third, true, 2_000).await.unwrap();
            assert!(store.checkout("ann", "k3").await.unwrap().is_none());
        }
    }
}
