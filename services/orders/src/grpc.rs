//! The gRPC face of orders: maps messages to the checkout and domain errors to `Status`.

use crate::{
    app,
    backends::{GrpcCart, GrpcCatalog, GrpcPayments},
    domain::{Address, Order, OrderError},
};

/// Checkout over the other services' gRPC clients.
pub type Checkout = app::Checkout<GrpcCart, GrpcCatalog, GrpcPayments>;
use platform::errors::with_reason;
use shop_proto::{catalog::v1::Money, orders::v1 as pb};
use tonic::{Request, Response, Status};

pub struct OrdersGrpc {
    checkout: std::sync::Arc<Checkout>,
}

impl OrdersGrpc {
    pub fn new(checkout: std::sync::Arc<Checkout>) -> Self {
        Self { checkout }
    }
}

impl From<OrderError> for Status {
    fn from(error: OrderError) -> Self {
        let message = error.to_string();
        match error {
            OrderError::InvalidArgument(_) => Status::invalid_argument(message),
            OrderError::EmptyCart => {
                with_reason(Status::failed_precondition(message), "cart_empty")
            }
            OrderError::ProductGone(_) => {
                with_reason(Status::failed_precondition(message), "product_gone")
            }
            OrderError::MixedCurrencies => Status::failed_precondition(message),
            // A declined card is the caller's problem to fix, not a server fault.
            OrderError::PaymentDeclined(_) => {
                with_reason(Status::failed_precondition(message), "payment_declined")
            }
            OrderError::NotFound(_) => Status::not_found(message),
            OrderError::Unavailable(..) => Status::unavailable(message),
            OrderError::KeyReused => with_reason(
                Status::failed_precondition(message),
                "idempotency_key_reused",
            ),
            OrderError::InProgress => with_reason(Status::aborted(message), "checkout_in_progress"),
            OrderError::Abandoned => {
                with_reason(Status::failed_precondition(message), "checkout_abandoned")
            }
            OrderError::Internal(_) => Status::internal(message),
        }
    }
}

fn to_pb(order: Order) -> pb::Order {
    let money = |units| {
        Some(Money {
            currency_code: order.currency_code.clone(),
            units,
        })
    };
    pb::Order {
        lines: order
            .lines
            .iter()
            .map(|l| pb::OrderLine {
                product_id: l.product_id.clone(),
                product_name: l.product_name.clone(),
                quantity: l.quantity,
                unit_price: money(l.unit_units),
            })
            .collect(),
        total: money(order.total_units),
        id: order.id,
        user_id: order.user_id,
        shipping_address: Some(pb::Address {
            name: order.shipping.name,
            street: order.shipping.street,
            city: order.shipping.city,
            postal_code: order.shipping.postal_code,
            country: order.shipping.country,
        }),
        transaction_id: order.transaction_id,
        created_at: order.created_at,
    }
}

fn storage_error(error: sqlx::Error) -> Status {
    platform::db::storage_status("orders", &error)
}

fn require_user(user_id: &str) -> Result<(), Status> {
    if user_id.trim().is_empty() {
        return Err(Status::invalid_argument("user_id must not be empty"));
    }
    Ok(())
}

#[tonic::async_trait]
impl pb::order_service_server::OrderService for OrdersGrpc {
    async fn place_order(
        &self,
        request: Request<pb::PlaceOrderRequest>,
    ) -> Result<Response<pb::Order>, Status> {
        let r = request.into_inner();
        let a = r
            .shipping_address
            .ok_or_else(|| Status::invalid_argument("shipping_address is required"))?;
        let card = r
            .card
            .ok_or_else(|| Status::invalid_argument("card is required"))?;
        let shipping = Address {
            name: a.name,
            street: a.street,
            city: a.city,
            postal_code: a.postal_code,
            country: a.country,
        };
        let order = self
            .checkout
            .place(&r.user_id, &r.idempotency_key, shipping, card)
            .await?;
        Ok(Response::new(to_pb(order)))
    }

    async fn list_orders(
        &self,
        request: Request<pb::ListOrdersRequest>,
    ) -> Result<Response<pb::ListOrdersResponse>, Status> {
        let user_id = request.into_inner().user_id;
        require_user(&user_id)?;
        let orders = self
            .checkout
            .store()
            .list(&user_id)
            .await
            .map_err(storage_error)?;
        Ok(Response::new(pb::ListOrdersResponse {
            orders: orders.into_iter().map(to_pb).collect(),
        }))
    }

    async fn get_order(
        &self,
        request: Request<pb::GetOrderRequest>,
    ) -> Result<Response<pb::Order>, Status> {
        let r = request.into_inner();
        require_user(&r.user_id)?;
        match self
            .checkout
            .store()
            .find(&r.user_id, &r.order_id)
            .await
            .map_err(storage_error)?
        {
            Some(order) => Ok(Response::new(to_pb(order))),
            None => Err(OrderError::NotFound(r.order_id).into()),
        }
    }
}
