//! The gRPC face of payments: maps messages to the charge use case and its errors to `Status`.

use crate::{
    app::{AppError, PaymentsApp},
    domain::{Card, ChargeError},
    store::Charge,
};
use platform::errors::with_reason;
use shop_proto::payments::v1 as pb;
use tonic::{Request, Response, Status};

pub struct PaymentsGrpc {
    app: PaymentsApp,
}

impl PaymentsGrpc {
    pub fn new(app: PaymentsApp) -> Self {
        Self { app }
    }
}

impl From<ChargeError> for Status {
    fn from(error: ChargeError) -> Self {
        match error {
            ChargeError::Declined(_) => with_reason(
                Status::failed_precondition(error.to_string()),
                "payment_declined",
            ),
            ChargeError::KeyReused(_) => with_reason(
                Status::failed_precondition(error.to_string()),
                "idempotency_key_reused",
            ),
            ChargeError::Voided(_) => with_reason(
                Status::failed_precondition(error.to_string()),
                "charge_voided",
            ),
            ChargeError::Invalid(_) => Status::invalid_argument(error.to_string()),
        }
    }
}

impl From<AppError> for Status {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Charge(e) => e.into(),
            AppError::ProcessorUnavailable => Status::unavailable(error.to_string()),
            AppError::Storage(e) => platform::db::storage_status("payments", &e),
        }
    }
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
        let card = Card {
            number: card.number,
            expiry_month: card.expiry_month,
            expiry_year: card.expiry_year,
            cvv: card.cvv,
        };
        let charge = self
            .app
            .charge(
                &r.idempotency_key,
                &amount.currency_code,
                amount.units,
                card,
            )
            .await?;
        Ok(response(&charge))
    }

    #[tracing::instrument(skip_all)]
    async fn void_charge(
        &self,
        request: Request<pb::VoidChargeRequest>,
    ) -> Result<Response<pb::VoidChargeResponse>, Status> {
        let voided = self.app.void(&request.into_inner().idempotency_key).await?;
        Ok(Response::new(pb::VoidChargeResponse {
            found: voided.is_some(),
            transaction_id: voided.map(|c| c.transaction_id).unwrap_or_default(),
        }))
    }
}
