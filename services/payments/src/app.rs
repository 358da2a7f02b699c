//! The use case of payments: charge a card once per idempotency key. A retry with the same key and
//! amount returns the first charge; the same key with another amount is refused. Fault injection
//! (latency, failures) stands in for a slow or failing card processor.

use crate::{
    domain::{self, Card, ChargeError, Faults},
    store::{Charge, ChargeStore},
};
use time::OffsetDateTime;

/// What a charge can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Charge(#[from] ChargeError),
    /// The (simulated) card processor did not answer.
    #[error("payment processor unavailable (injected fault)")]
    ProcessorUnavailable,
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

pub struct PaymentsApp {
    store: ChargeStore,
    faults: Faults,
}

impl PaymentsApp {
    pub fn new(store: ChargeStore, faults: Faults) -> Self {
        Self { store, faults }
    }

    /// Charges `units` of `currency_code` to `card`, once per `idempotency_key`.
    pub async fn charge(
        &self,
        idempotency_key: &str,
        currency_code: &str,
        units: i64,
        card: Card,
    ) -> Result<Charge, AppError> {
        domain::validate_request(currency_code, units, idempotency_key)?;
        // A retry returns the first result without charging again.
        if let Some(existing) = self.store.find(idempotency_key).await? {
            return same_charge(existing, currency_code, units);
        }
        let now = OffsetDateTime::now_utc();
        let digits = domain::validate_card(&card, now.year(), i32::from(u8::from(now.month())))?;
        self.process().await?;
        let charge = Charge {
            idempotency_key: idempotency_key.to_owned(),
            transaction_id: uuid::Uuid::now_v7().to_string(),
            currency_code: currency_code.to_owned(),
            amount_units: units,
            card_last_four: digits[digits.len() - 4..].to_owned(),
            created_at: platform::clock::now_rfc3339(),
            voided_at: None,
        };
        // A concurrent request with the key may have recorded first: its charge holds the key, and
        // it must be for the same amount too.
        let recorded = same_charge(self.store.record(charge).await?, currency_code, units)?;
        tracing::info!(transaction_id = %recorded.transaction_id, amount = recorded.amount_units, "charged");
        Ok(recorded)
    }

    /// Voids the charge made with `idempotency_key`; `None` when there is none.
    pub async fn void(&self, idempotency_key: &str) -> Result<Option<Charge>, AppError> {
        domain::validate_key(idempotency_key)?;
        let voided = self
            .store
            .void(idempotency_key, &platform::clock::now_rfc3339())
            .await?;
        if let Some(charge) = &voided {
            tracing::info!(transaction_id = %charge.transaction_id, "charge voided");
        }
        Ok(voided)
    }

    /// The card processor's answer, with the configured faults.
    async fn process(&self) -> Result<(), AppError> {
        if !self.faults.added_latency.is_zero() {
            tokio::time::sleep(self.faults.added_latency).await;
        }
        if self.faults.failure_rate > 0.0 && rand::random::<f64>() < self.faults.failure_rate {
            return Err(AppError::ProcessorUnavailable);
        }
        Ok(())
    }
}

/// `existing`, the charge that holds a key, as the answer to a request for `units` of
/// `currency_code`: the same charge, or an error when it was for another amount or was voided.
fn same_charge(existing: Charge, currency_code: &str, units: i64) -> Result<Charge, AppError> {
    if existing.voided_at.is_some() {
        return Err(ChargeError::Voided(existing.idempotency_key).into());
    }
    if existing.amount_units != units || existing.currency_code != currency_code {
        return Err(ChargeError::KeyReused(existing.idempotency_key).into());
    }
    Ok(existing)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "4111111111111111";
    const DECLINED: &str = "4000000000000002";

    fn card(number: &str) -> Card {
        Card {
            number: number.into(),
            expiry_month: 12,
            expiry_year: 2099,
            cvv: "123".into(),
        }
    }

    async fn app(faults: Faults) -> (PaymentsApp, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/payments.db", dir.path().display());
        let pool = platform::db::connect(&url, &crate::store::MIGRATOR)
            .await
            .unwrap();
        (PaymentsApp::new(ChargeStore::new(pool), faults), dir)
    }

    #[tokio::test]
    async fn a_retry_returns_the_first_charge_and_another_amount_is_refused() {
        let (app, _dir) = app(Faults::default()).await;
        let first = app.charge("k1", "USD", 1200, card(GOOD)).await.unwrap();
        let again = app.charge("k1", "USD", 1200, card(GOOD)).await.unwrap();
        assert_eq!(first.transaction_id, again.transaction_id);
        let err = app.charge("k1", "USD", 999, card(GOOD)).await.unwrap_err();
        assert!(
            matches!(err, AppError::Charge(ChargeError::KeyReused(_))),
            "{err:?}"
        );
        assert_eq!(first.card_last_four, "1111");
    }

    #[tokio::test]
    async fn concurrent_charges_with_one_key_and_different_amounts_charge_once() {
        let (app, _dir) = app(Faults::default()).await;
        let app = std::sync::Arc::new(app);
        let attempts = (0..8).map(|i| {
            let app = app.clone();
            let units = 1000 + i % 2;
            tokio::spawn(async move { (units, app.charge("k1", "USD", units, card(GOOD)).await) })
        });
        let results = futures::future::join_all(attempts).await;
        let held = app.store.find("k1").await.unwrap().unwrap();
        for result in results {
            let (units, result) = result.unwrap();
            match result {
                Ok(charge) => {
                    assert_eq!(charge, held);
                    assert_eq!(
                        charge.amount_units, units,
                        "a success is for the amount asked"
                    );
                }
                Err(AppError::Charge(ChargeError::KeyReused(_))) => {}
                Err(other) => panic!("{other:?}"),
            }
        }
        assert_eq!(app.store.count().await.unwrap(), 1);
    }

    #[tokio::test]
    async fn a_voided_charge_is_never_charged_again() {
        let (app, _dir) = app(Faults::default()).await;
        let first = app.charge("k1", "USD", 1200, card(GOOD)).await.unwrap();
        let voided = app.void("k1").await.unwrap().unwrap();
        assert_eq!(voided.transaction_id, first.transaction_id);
        assert!(voided.voided_at.is_some());
        let err = app.charge("k1", "USD", 1200, card(GOOD)).await.unwrap_err();
        assert!(
            matches!(err, AppError::Charge(ChargeError::Voided(_))),
            "{err:?}"
        );
        assert!(app.void("nothing-here").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_declined_card_records_no_charge() {
        let (app, _dir) = app(Faults::default()).await;
        let err = app
            .charge("k1", "USD", 1200, card(DECLINED))
            .await
            .unwrap_err();
        assert!(
            matches!(err, AppError::Charge(ChargeError::Declined(_))),
            "{err:?}"
        );
        assert!(app.store.find("k1").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_failing_processor_records_no_charge() {
        let failing = Faults {
            failure_rate: 1.0,
            ..Default::default()
        };
        let (app, _dir) = app(failing).await;
        let err = app.charge("k1", "USD", 1200, card(GOOD)).await.unwrap_err();
        assert!(matches!(err, AppError::ProcessorUnavailable), "{err:?}");
        assert!(app.store.find("k1").await.unwrap().is_none());
    }
}
