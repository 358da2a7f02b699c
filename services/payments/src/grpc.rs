//! The gRPC face of payments: validation, fault injection, idempotent charging.

use crate::{
    domain::{self, Card, ChargeError, Faults},
    store::{Charge, ChargeStore},
};
use shop_proto::payments::v1 as pb;
use time::OffsetDateTime;
use tonic::{Request, Response, Status};

pub struct PaymentsGrpc {
    store: ChargeStore,
    faults: Faults,
}

impl PaymentsGrpc {
    pub fn new(store: ChargeStore, faults: Faults) -> Self {
        Self { store, faults }
    }

    async fn inject_faults(&self) -> Result<(), Status> {
        if !self.faults.added_latency.is_zero() {
            tokio::time::sleep(self.faults.added_latency).await;
        }
        if self.faults.failure_rate > 0.0 && rand::random::<f64>() < self.faults.failure_rate {
            return Err(Status::unavailable(
                "payment processor unavailable (injected fault)",
            ));
        }
        Ok(())
    }
}

impl From<ChargeError> for Status {
    fn from(error: ChargeError) -> Self {
        match error {
            ChargeError::Declined(_) | ChargeError::KeyReused(_) => {
                Status::failed_precondition(error.to_string())
            }
            ChargeError::Invalid(_) => Status::invalid_argument(error.to_string()),
        }
    }
}

fn storage_error(error: sqlx::Error) -> Status {
    platform::db::storage_status("payments", &error)
}

fn response(charge: &Charge) -> Response<pb::ChargeResponse> {
    Response::new(pb::ChargeResponse {
        transaction_id: charge.transaction_id.clone(),
        card_last_four: charge.card_last_four.clone(),
    })
}

#[tonic::async_trait]
impl pb::payment_service_server::PaymentService for PaymentsGrpc {
    #[tracing::instrument(skip_all)]
    async fn charge(
        &self,
        request: Request<pb::ChargeRequest>,
    ) -> Result<Response<pb::ChargeResponse>, Status> {
        let r = request.into_inner();
        let amount = r
            .amount
            .ok_or_else(|| ChargeError::Invalid("amount is required".into()))?;
        let card = r
            .card
            .ok_or_else(|| ChargeError::Invalid("card is required".into()))?;
        domain::validate_request(&amount.currency_code, amount.units, &r.idempotency_key)?;

        // A retry returns the first result without charging again.
        if let Some(existing) = self
            .store
            .find(&r.idempotency_key)
            .await
            .map_err(storage_error)?
        {
            return if existing.amount_units == amount.units
                && existing.currency_code == amount.currency_code
            {
                Ok(response(&existing))
            } else {
                Err(ChargeError::KeyReused(r.idempotency_key).into())
            };
        }

        let now = OffsetDateTime::now_utc();
        let card = Card {
            number: card.number,
            expiry_month: card.expiry_month,
            expiry_year: card.expiry_year,
            cvv: card.cvv,
        };
        let digits = domain::validate_card(&card, now.year(), i32::from(u8::from(now.month())))?;
        self.inject_faults().await?;

        let charge = Charge {
            idempotency_key: r.idempotency_key,
            transaction_id: uuid::Uuid::now_v7().to_string(),
            currency_code: amount.currency_code,
            amount_units: amount.units,
            card_last_four: digits[digits.len() - 4..].to_owned(),
            created_at: platform::clock::now_rfc3339(),
        };
        let recorded = self.store.record(charge).await.map_err(storage_error)?;
        tracing::info!(transaction_id = %recorded.transaction_id, amount = recorded.amount_units, "charged");
        Ok(response(&recorded))
    }
}
