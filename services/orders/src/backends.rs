//! The other services as checkout sees them ([`crate::app`]'s traits), over gRPC: idempotent reads
//! and the keyed charge are retried; their errors become domain errors.

use crate::{
    app::{Cart, Catalog, Payments, PricedProduct},
    domain::OrderError,
};
use platform::grpc_client::{GrpcChannel, retry_idempotent};
use shop_proto::{
    cart::v1::{EmptyCartRequest, GetCartRequest, cart_service_client::CartServiceClient},
    catalog::v1::{GetProductRequest, Money, catalog_service_client::CatalogServiceClient},
    payments::v1::{ChargeRequest, CreditCard, payment_service_client::PaymentServiceClient},
};
use tonic::{Code, Status};

fn unavailable(service: &'static str) -> impl Fn(Status) -> OrderError {
    move |status| OrderError::Unavailable(service, status.message().to_owned())
}

pub struct GrpcCart {
    pub client: CartServiceClient<GrpcChannel>,
    pub max_retries: u32,
}

impl Cart for GrpcCart {
    async fn items(&self, user_id: &str) -> Result<Vec<(String, i32)>, OrderError> {
        let (client, request) = (
            self.client.clone(),
            GetCartRequest {
                user_id: user_id.to_owned(),
            },
        );
        let cart = retry_idempotent(self.max_retries, move || {
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
    pub max_retries: u32,
}

impl Catalog for GrpcCatalog {
    async fn price(&self, product_id: &str) -> Result<PricedProduct, OrderError> {
        let (client, request) = (
            self.client.clone(),
            GetProductRequest {
                id: product_id.to_owned(),
            },
        );
        let product = retry_idempotent(self.max_retries, move || {
            let (mut client, request) = (client.clone(), request.clone());
            async move { client.get_product(request).await }
        })
        .await
        .map_err(|status| match status.code() {
            Code::NotFound => OrderError::ProductGone(product_id.to_owned()),
            _ => OrderError::Unavailable("catalog", status.message().to_owned()),
        })?
        .into_inner();
        let price = product.price.unwrap_or_default();
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
    pub max_retries: u32,
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
        let response = retry_idempotent(self.max_retries, move || {
            let (mut client, request) = (client.clone(), charge.clone());
            async move { client.charge(request).await }
        })
        .await
        .map_err(|status| match status.code() {
            Code::FailedPrecondition | Code::InvalidArgument => {
                OrderError::PaymentDeclined(status.message().to_owned())
            }
            _ => OrderError::Unavailable("payments", status.message().to_owned()),
        })?;
        Ok(response.into_inner().transaction_id)
    }
}
