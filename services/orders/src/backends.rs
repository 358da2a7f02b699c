//! The other services as checkout sees them ([`crate::app`]'s traits), over gRPC: idempotent reads
//! and the keyed charge are retried; their errors become domain errors.

use crate::{
    app::{Cart, Catalog, Payments, PricedProduct},
    domain::OrderError,
};
use platform::grpc_client::{GrpcChannel, Retries};
use shop_proto::{
    cart::v1::{EmptyCartRequest, GetCartRequest, cart_service_client::CartServiceClient},
    catalog::v1::{GetProductRequest, Money, catalog_service_client::CatalogServiceClient},
    payments::v1::{
        ChargeRequest, CreditCard, VoidChargeRequest, payment_service_client::PaymentServiceClient,
    },
};
use tonic::{Code, Status};

fn unavailable(service: &'static str) -> impl Fn(Status) -> OrderError {
    move |status| OrderError::Unavailable(service, status.message().to_owned())
}

pub struct GrpcCart {
    pub client: CartServiceClient<GrpcChannel>,
    pub retries: Retries,
}

impl Cart for GrpcCart {
    async fn items(&self, user_id: &str) -> Result<Vec<(String, i32)>, OrderError> {
        let (client, request) = (
            self.client.clone(),
            GetCartRequest {
                user_id: user_id.to_owned(),
            },
        );
        let cart = self
            .retries
            .run(move || {
                let (mut client, request) = (client.clone(), request.clone());
                async move { client.get_cart(request).await }
            })
            .await
            .map_err(unavailable("cart"))?
            .into_inner();
        Ok(cart
            .items
            .into_iter()
            .map(|item| (item.product_id, item.quantity))
            .collect())
    }

    async fn empty(&self, user_id: &str) -> Result<(), OrderError> {
        self.client
            .clone()
            .empty_cart(EmptyCartRequest {
                user_id: user_id.to_owned(),
            })
            .await
            .map(drop)
            .map_err(unavailable("cart"))
    }
}

pub struct GrpcCatalog {
    pub client: CatalogServiceClient<GrpcChannel>,
    pub retries: Retries,
}

impl Catalog for GrpcCatalog {
    async fn price(&self, product_id: &str) -> Result<PricedProduct, OrderError> {
        let (client, request) = (
            self.client.clone(),
            GetProductRequest {
                id: product_id.to_owned(),
            },
        );
        let product = self
            .retries
            .run(move || {
                let (mut client, request) = (client.clone(), request.clone());
                async move { client.get_product(request).await }
            })
            .await
            .map_err(|status| match status.code() {
                Code::NotFound => OrderError::ProductGone(product_id.to_owned()),
                _ => OrderError::Unavailable("catalog", status.message().to_owned()),
            })?
            .into_inner();
        // A product without a price (or currency) is the catalog's bug, not a free product.
        let price = product
            .price
            .filter(|p| !p.currency_code.is_empty())
            .ok_or_else(|| {
                tracing::error!(product_id, "the catalog returned a product without a price");
                OrderError::Internal(format!("product {product_id:?} has no price"))
            })?;
        Ok(PricedProduct {
            id: product.id,
            name: product.name,
            currency_code: price.currency_code,
            unit_units: price.units,
        })
    }
}

pub struct GrpcPayments {
    pub client: PaymentServiceClient<GrpcChannel>,
    pub retries: Retries,
}

impl Payments for GrpcPayments {
    async fn charge(
        &self,
        idempotency_key: String,
        currency_code: String,
        units: i64,
        card: CreditCard,
    ) -> Result<String, OrderError> {
        let charge = ChargeRequest {
            amount: Some(Money {
                currency_code,
                units,
            }),
            card: Some(card),
            idempotency_key,
        };
        let client = self.client.clone();
        // Safe to retry: the idempotency key makes the charge idempotent.
        let response = self
            .retries
            .run(move || {
                let (mut client, request) = (client.clone(), charge.clone());
                async move { client.charge(request).await }
            })
            .await
            .map_err(charge_error)?;
        Ok(response.into_inner().transaction_id)
    }

    async fn void(&self, idempotency_key: String) -> Result<bool, OrderError> {
        let client = self.client.clone();
        let request = VoidChargeRequest { idempotency_key };
        // Voiding is idempotent: safe to retry.
        let response = self
            .retries
            .run(move || {
                let (mut client, request) = (client.clone(), request.clone());
                async move { client.void_charge(request).await }
            })
            .await
            .map_err(|status| match status.code() {
                Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
                    OrderError::Unavailable("payments", status.message().to_owned())
                }
                _ => unexpected("payments VoidCharge", &status),
            })?;
        Ok(response.into_inner().found)
    }
}

/// A charge's error in checkout's terms. Only a declined card is the shopper's to fix; a refused
/// request (an invalid argument, a reused key) is a bug in orders, logged with its message.
fn charge_error(status: Status) -> OrderError {
    match (status.code(), platform::errors::reason(&status)) {
        (_, Some("payment_declined")) => OrderError::PaymentDeclined(status.message().to_owned()),
        (_, Some("charge_voided")) => OrderError::Abandoned,
        // The previous release of payments declines with FAILED_PRECONDITION and no reason: kept
        // for one release, so that orders can roll out before payments.
        (Code::FailedPrecondition, None) => {
            OrderError::PaymentDeclined(status.message().to_owned())
        }
        (Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled, _) => {
            OrderError::Unavailable("payments", status.message().to_owned())
        }
        _ => unexpected("payments Charge", &status),
    }
}

/// An answer that means a bug (ours or theirs): logged in full, INTERNAL to the caller.
fn unexpected(call: &str, status: &Status) -> OrderError {
    tracing::error!(call, code = ?status.code(), message = status.message(), "unexpected answer");
    OrderError::Internal(format!("{call} failed: {}", status.message()))
}
