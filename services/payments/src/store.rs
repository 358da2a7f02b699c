//! Successful charges in SQL, keyed by idempotency key.

use sqlx::{AnyPool, FromRow, migrate::Migrator};

/// Applied at start; the previous release still starts on them (see `platform::migrator!`).
pub static MIGRATOR: std::sync::LazyLock<Migrator> = platform::migrator!();

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Charge {
    pub idempotency_key: String,
    pub transaction_id: String,
    pub currency_code: String,
    pub amount_units: i64,
    pub card_last_four: String,
    pub created_at: String,
    /// When it was voided; `None` while it stands.
    pub voided_at: Option<String>,
}

#[derive(Clone)]
pub struct ChargeStore {
    pool: AnyPool,
}

impl ChargeStore {
    pub fn new(pool: AnyPool) -> Self {
        Self { pool }
    }

    pub async fn find(&self, idempotency_key: &str) -> sqlx::Result<Option<Charge>> {
        sqlx::query_as(
            "SELECT idempotency_key, transaction_id, currency_code, amount_units, card_last_four, created_at, \
             voided_at FROM charges WHERE idempotency_key = $1",
        )
        .bind(idempotency_key)
        .fetch_optional(&self.pool)
        .await
    }

    /// Records a charge unless one with the same key exists; returns the charge that holds the key
    /// (ours, or the one a concurrent request recorded first).
    pub async fn record(&self, charge: Charge) -> sqlx::Result<Charge> {
        let inserted = sqlx::query(
            "INSERT INTO charges (idempotency_key, transaction_id, currency_code, amount_units, card_last_four, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(&charge.idempotency_key)
        .bind(&charge.transaction_id)
        .bind(&charge.currency_code)
        .bind(charge.amount_units)
        .bind(&charge.card_last_four)
        .bind(&charge.created_at)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 1 {
            Ok(charge)
        } else {
            self.find(&charge.idempotency_key)
                .await?
                .ok_or(sqlx::Error::RowNotFound)
        }
    }

    /// Voids the charge made with `idempotency_key` (once: a second void changes nothing) and
    /// returns it; `None` when there is none.
    pub async fn void(&self, idempotency_key: &str, at: &str) -> sqlx::Result<Option<Charge>> {
        sqlx::query(
            "UPDATE charges SET voided_at = $2 WHERE idempotency_key = $1 AND voided_at IS NULL",
        )
        .bind(idempotency_key)
        .bind(at)
        .execute(&self.pool)
        .await?;
        self.find(idempotency_key).await
    }

    pub async fn count(&self) -> sqlx::Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM charges")
            .fetch_one(&self.pool)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::testing::{TestDatabase, backends};

    fn charge(key: &str, tx: &str) -> Charge {
        Charge {
            idempotency_key: key.into(),
            transaction_id: tx.into(),
            currency_code: "USD".into(),
            amount_units: 1999,
            card_last_four: "1111".into(),
            created_at: "2026-11-25T00:00:00Z".into(),
            voided_at: None,
        }
    }

    #[tokio::test]
    async fn the_first_charge_of_a_key_wins_on_every_backend() {
        for backend in backends() {
            let db = TestDatabase::new(backend).await;
            let store = ChargeStore::new(platform::db::connect(&db.url, &MIGRATOR).await.unwrap());
            assert_eq!(
                store
                    .record(charge("k1", "tx-a"))
                    .await
                    .unwrap()
                    .transaction_id,
                "tx-a"
            );
            assert_eq!(
                store
                    .record(charge("k1", "tx-b"))
                    .await
                    .unwrap()
                    .transaction_id,
                "tx-a",
                "{backend:?}"
            );
            assert_eq!(store.count().await.unwrap(), 1);
            assert!(store.find("k2").await.unwrap().is_none());

            let voided = store
                .void("k1", "2026-11-30T00:00:00Z")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(voided.voided_at.as_deref(), Some("2026-11-30T00:00:00Z"));
            let again = store
                .void("k1", "2026-12-01T00:00:00Z")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(again.voided_at, voided.voided_at, "the first void stands");
            assert!(
                store
                    .void("k2", "2026-11-30T00:00:00Z")
                    .await
                    .unwrap()
                    .is_none()
            );
        }
    }
}
