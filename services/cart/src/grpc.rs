//! The gRPC face of the cart: validates, checks products against the catalog, maps errors.

use crate::{
    domain::{self, CartError, CartItem},
    store::{CartStore, StoreError},
};
use platform::grpc_client::{GrpcChannel, retry_idempotent};
use shop_proto::{
    cart::v1 as pb,
    catalog::v1::{GetProductRequest, catalog_service_client::CatalogServiceClient},
};
use tonic::{Code, Request, Response, Status};

pub struct CartGrpc {
    store: CartStore,
    catalog: CatalogServiceClient<GrpcChannel>,
    max_retries: u32,
}

impl CartGrpc {
    pub fn new(
        store: CartStore,
        catalog: CatalogServiceClient<GrpcChannel>,
        max_retries: u32,
    ) -> Self {
        Self {
            store,
            catalog,
            max_retries,
        }
    }

    async fn cart(&self, user_id: &str) -> Result<pb::Cart, Status> {
        let items = self.store.items(user_id).await.map_err(storage_error)?;
        Ok(to_pb(user_id, items))
    }

    /// Fails unless the catalog knows the product.
    async fn ensure_product_exists(&self, product_id: &str) -> Result<(), Status> {
        let (catalog, request) = (
            self.catalog.clone(),
            GetProductRequest {
                id: product_id.to_owned(),
            },
        );
        let result = retry_idempotent(self.max_retries, move || {
            let (mut catalog, request) = (catalog.clone(), request.clone());
            async move { catalog.get_product(request).await }
        })
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(status) if status.code() == Code::NotFound => {
                Err(CartError::UnknownProduct(product_id.to_owned()).into())
            }
            Err(status) => {
                tracing::warn!(error = %status.message(), "catalog call failed");
                Err(Status::unavailable(format!(
                    "catalog is unavailable: {}",
                    status.message()
                )))
            }
        }
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

fn storage_error(error: sqlx::Error) -> Status {
    platform::db::storage_status("cart", &error)
}

#[tonic::async_trait]
impl pb::cart_service_server::CartService for CartGrpc {
    #[tracing::instrument(skip_all, fields(product_id = %request.get_ref().product_id))]
    async fn add_item(
        &self,
        request: Request<pb::AddItemRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        let r = request.into_inner();
        domain::validate_add(&r.user_id, &r.product_id, r.quantity)?;
        self.ensure_product_exists(&r.product_id).await?;
        self.store
            .add(&r.user_id, &r.product_id, r.quantity)
            .await
            .map_err(|e| match e {
                StoreError::Cart(e) => e.into(),
                StoreError::Sql(e) => storage_error(e),
            })?;
        Ok(Response::new(self.cart(&r.user_id).await?))
    }

    #[tracing::instrument(skip_all, fields(product_id = %request.get_ref().product_id))]
    async fn remove_item(
        &self,
        request: Request<pb::RemoveItemRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        let r = request.into_inner();
        domain::validate_user(&r.user_id)?;
        self.store
            .remove(&r.user_id, &r.product_id)
            .await
            .map_err(storage_error)?;
        Ok(Response::new(self.cart(&r.user_id).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn get_cart(
        &self,
        request: Request<pb::GetCartRequest>,
    ) -> Result<Response<pb::Cart>, Status> {
        let user_id = request.into_inner().user_id;
        domain::validate_user(&user_id)?;
        Ok(Response::new(self.cart(&user_id).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn empty_cart(
        &self,
        request: Request<pb::EmptyCartRequest>,
    ) -> Result<Response<pb::EmptyCartResponse>, Status> {
        let user_id = request.into_inner().user_id;
        domain::validate_user(&user_id)?;
        self.store.empty(&user_id).await.map_err(storage_error)?;
        Ok(Response::new(pb::EmptyCartResponse {}))
    }
}
