//! Placing an order: read the cart, price it from the catalog (never from the client), charge the
//! card, store the order, empty the cart. Safe to retry with the same idempotency key at any point:
//! the stored order is found, and payments returns the first charge instead of charging again.

use crate::{
    domain::{self, Address, Order, OrderError, OrderLine},
    store::OrderStore,
};
use futures::future::try_join_all;
use platform::grpc_client::{GrpcChannel, retry_idempotent};
use shop_proto::{
    cart::v1::{EmptyCartRequest, GetCartRequest, cart_service_client::CartServiceClient},
    catalog::v1::{GetProductRequest, Money, catalog_service_client::CatalogServiceClient},
    payments::v1::{ChargeRequest, CreditCard, payment_service_client::PaymentServiceClient},
};
use tonic::{Code, Status};

/// The services an order is made from.
#[derive(Clone)]
pub struct Backends {
    pub catalog: CatalogServiceClient<GrpcChannel>,
    pub cart: CartServiceClient<GrpcChannel>,
    pub payments: PaymentServiceClient<GrpcChannel>,
    pub max_retries: u32,
}

pub struct Checkout {
    store: OrderStore,
    backends: Backends,
}

fn unavailable(service: &'static str) -> impl Fn(Status) -> OrderError {
    move |status| OrderError::Unavailable(service, status.message().to_owned())
}

impl Checkout {
    pub fn new(store: OrderStore, backends: Backends) -> Self {
        Self { store, backends }
    }

    pub fn store(&self) -> &OrderStore {
        &self.store
    }

    #[tracing::instrument(skip_all, fields(user_id))]
    pub async fn place(
        &self,
        user_id: &str,
        idempotency_key: &str,
        shipping: Address,
        card: CreditCard,
    ) -> Result<Order, OrderError> {
        domain::validate_place(user_id, idempotency_key, &shipping)?;
        if let Some(order) = self
            .store
            .find_by_key(user_id, idempotency_key)
            .await
            .map_err(storage)?
        {
            tracing::info!(order_id = %order.id, "retry of a placed order");
            return Ok(order);
        }

        let lines = self.priced_cart(user_id).await?;
        let currency_code = lines_currency(&lines)?;
        let lines: Vec<OrderLine> = lines.into_iter().map(|(line, _)| line).collect();
        let total_units = domain::total(&lines)?;

        // The payment key is derived from the order key, so a retried checkout cannot charge twice.
        let charge = ChargeRequest {
            amount: Some(Money {
                currency_code: currency_code.clone(),
                units: total_units,
            }),
            card: Some(card),
            idempotency_key: format!("order:{user_id}:{idempotency_key}"),
        };
        let payments = self.backends.payments.clone();
        let transaction_id = retry_idempotent(self.backends.max_retries, move || {
            let (mut payments, request) = (payments.clone(), charge.clone());
            async move { payments.charge(request).await }
        })
        .await
        .map_err(|status| match status.code() {
            Code::FailedPrecondition | Code::InvalidArgument => {
                OrderError::PaymentDeclined(status.message().to_owned())
            }
            _ => OrderError::Unavailable("payments", status.message().to_owned()),
        })?
        .into_inner()
        .transaction_id;

        let order = Order {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user_id.to_owned(),
            idempotency_key: idempotency_key.to_owned(),
            lines,
            currency_code,
            total_units,
            shipping,
            transaction_id,
            created_at: platform::clock::now_rfc3339(),
        };
        let order = self.store.insert(&order).await.map_err(storage)?;

        // The order stands even if emptying the cart fails; the user can empty it by hand.
        let mut cart = self.backends.cart.clone();
        if let Err(status) = cart
            .empty_cart(EmptyCartRequest {
                user_id: user_id.to_owned(),
            })
            .await
        {
            tracing::warn!(error = %status.message(), "order placed but emptying the cart failed");
        }
        tracing::info!(order_id = %order.id, total_units = order.total_units, "order placed");
        Ok(order)
    }

    /// The cart's lines with names and prices from the catalog, and each line's currency.
    async fn priced_cart(&self, user_id: &str) -> Result<Vec<(OrderLine, String)>, OrderError> {
        let retries = self.backends.max_retries;
        let (cart, request) = (
            self.backends.cart.clone(),
            GetCartRequest {
                user_id: user_id.to_owned(),
            },
        );
        let cart = retry_idempotent(retries, move || {
            let (mut cart, request) = (cart.clone(), request.clone());
            async move { cart.get_cart(request).await }
        })
        .await
        .map_err(unavailable("cart"))?
        .into_inner();
        if cart.items.is_empty() {
            return Err(OrderError::EmptyCart);
        }
        let catalog = &self.backends.catalog;
        try_join_all(
            cart.items
                .into_iter()
                .map(|item| price_line(catalog.clone(), retries, item.product_id, item.quantity)),
        )
        .await
    }
}

/// One cart line priced by the catalog, with its currency.
async fn price_line(
    catalog: CatalogServiceClient<GrpcChannel>,
    retries: u32,
    product_id: String,
    quantity: i32,
) -> Result<(OrderLine, String), OrderError> {
    let request = GetProductRequest {
        id: product_id.clone(),
    };
    let product = retry_idempotent(retries, move || {
        let (mut catalog, request) = (catalog.clone(), request.clone());
        async move { catalog.get_product(request).await }
    })
    .await
    .map_err(|status| match status.code() {
        Code::NotFound => OrderError::ProductGone(product_id),
        _ => OrderError::Unavailable("catalog", status.message().to_owned()),
    })?
    .into_inner();
    let price = product.price.unwrap_or_default();
    Ok((
        OrderLine {
            product_id: product.id,
            product_name: product.name,
            quantity,
            unit_units: price.units,
        },
        price.currency_code,
    ))
}

fn lines_currency(lines: &[(OrderLine, String)]) -> Result<String, OrderError> {
    let currency = lines.first().map(|(_, c)| c.clone()).unwrap_or_default();
    if lines.iter().any(|(_, c)| *c != currency) {
        return Err(OrderError::MixedCurrencies);
    }
    Ok(currency)
}

fn storage(error: sqlx::Error) -> OrderError {
    let status = platform::db::storage_status("orders", &error);
    match status.code() {
        tonic::Code::Unavailable => OrderError::Unavailable("orders storage", "try again".into()),
        _ => OrderError::Internal(status.message().to_owned()),
    }
}
