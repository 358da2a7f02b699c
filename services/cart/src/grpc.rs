//! The gRPC face of the cart: maps messages to the use cases and their errors to `Status`.

use crate::{
    app::{AppError, CartApp},
    backends::GrpcCatalog,
    domain::{CartError, CartItem},
};
use shop_proto::cart::v1 as pb;
use tonic::{Request, Response, Status};

pub struct CartGrpc {
    app: CartApp<GrpcCatalog>,
}

impl CartGrpc {
    pub fn new(app: CartApp<GrpcCatalog>) -> Self {
        Self { app }
    }
}

fn to_pb(user_id: &str, items: Vec<CartItem>) -> pb::Cart {
    pb::Cart {
        user_id: user_id.to_owned(),
        items: items
            .into_iter()
            .map(|i| pb::CartItem {
                product_id: i.product_id,
                quantity: i.quantity,
            })
            .collect(),
    }
}

impl From<CartError> for Status {
    fn from(error: CartError) -> Self {
        match error {
            CartError::InvalidArgument(_) | CartError::TooMany { .. } => {
                Status::invalid_argument(error.to_string())
            }
            CartError::UnknownProduct(_) => Status::not_found(error.to_string()),
            CartError::CartFull => Status::failed_precondition(error.to_string()),
        }
    }
}

impl From<AppError> for Status {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Cart(e) => e.into(),
            AppError::CatalogUnavailable(_) => Status::unavailable(error.to_string()),
            AppError::Storage(e) => platform::db::storage_status("cart", &e),
        }
    }
}

#[tonic::async_trait]
impl pb::cart_service_server::CartService for CartGrpc {
    #[tracing::instrument(skip_all, fields(product_id = %request.get_ref().product_id))]
    async fn add_item(
        &self,
        request: Request<pb::AddItemRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        let r = request.into_inner();
        let items = self.app.add(&r.user_id, &r.product_id, r.quantity).await?;
        Ok(Response::new(to_pb(&r.user_id, items)))
    }

    #[tracing::instrument(skip_all, fields(product_id = %request.get_ref().product_id))]
    async fn remove_item(
        &self,
        request: Request<pb::RemoveItemRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        let r = request.into_inner();
        let items = self.app.remove(&r.user_id, &r.product_id).await?;
        Ok(Response::new(to_pb(&r.user_id, items)))
    }

    #[tracing::instrument(skip_all)]
    async fn get_cart(
        &self,
        request: Request<pb::GetCartRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        let user_id = request.into_inner().user_id;
        let items = self.app.items(&user_id).await?;
        Ok(Response::new(to_pb(&user_id, items)))
    }

    #[tracing::instrument(skip_all)]
    async fn empty_cart(
        &self,
        request: Request<pb::EmptyCartRequest>,
    ) -> Result<Response<pb::EmptyCartResponse>, Status> {
        self.app.empty(&request.into_inner().user_id).await?;
        Ok(Response::new(pb::EmptyCartResponse {}))
    }
}
