//! The catalog as the cart sees it ([`crate::app::Products`]), over gRPC with retries of the
//! idempotent read.

use crate::{
    app::{AppError, Products},
    domain::CartError,
};
use platform::grpc_client::{GrpcChannel, Retries};
use shop_proto::catalog::v1::{GetProductRequest, catalog_service_client::CatalogServiceClient};
use tonic::Code;

pub struct GrpcCatalog {
    pub client: CatalogServiceClient<GrpcChannel>,
    pub retries: Retries,
}

impl Products for GrpcCatalog {
    async fn ensure_exists(&self, product_id: &str) -> Result<(), AppError> {
        let (client, request) = (
            self.client.clone(),
            GetProductRequest {
                id: product_id.to_owned(),
            },
        );
        let result = self
            .retries
            .run(move || {
                let (mut client, request) = (client.clone(), request.clone());
                async move { client.get_product(request).await }
            })
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(status) if status.code() == Code::NotFound => {
                Err(CartError::UnknownProduct(product_id.to_owned()).into())
            }
            Err(status) => {
                tracing::warn!(error = %status.message(), "catalog call failed");
                Err(AppError::CatalogUnavailable(status.message().to_owned()))
            }
        }
    }
}
