//! The gRPC face of the catalog: maps requests to the store and domain errors to `Status`.

use crate::{
    domain::{self, CatalogError, Product},
    store::ProductStore,
};
use shop_proto::catalog::v1 as pb;
use tonic::{Request, Response, Status};

pub struct CatalogGrpc {
    store: ProductStore,
}

impl CatalogGrpc {
    pub fn new(store: ProductStore) -> Self {
        Self { store }
    }
}

impl From<CatalogError> for Status {
    fn from(error: CatalogError) -> Self {
        match error {
            CatalogError::NotFound(_) => Status::not_found(error.to_string()),
            CatalogError::InvalidArgument(_) => Status::invalid_argument(error.to_string()),
        }
    }
}

fn storage_error(error: sqlx::Error) -> Status {
    platform::db::storage_status("catalog", &error)
}

pub fn to_pb(p: Product) -> pb::Product {
    pb::Product {
        id: p.id,
        name: p.name,
        description: p.description,
        category: p.category,
        price: Some(pb::Money {
            currency_code: p.price.currency_code,
            units: p.price.units,
        }),
        picture_url: p.picture_url,
    }
}

#[tonic::async_trait]
impl pb::catalog_service_server::CatalogService for CatalogGrpc {
    #[tracing::instrument(skip_all, fields(category = %request.get_ref().category))]
    async fn list_products(
        &self,
        request: Request<pb::ListProductsRequest>,
    ) -> Result<Response<pb::ListProductsResponse>, Status> {
        let request = request.into_inner();
        let limit = domain::page_size(request.page_size)?;
        let category = Some(request.category.trim()).filter(|c| !c.is_empty());
        let (products, more) = self
            .store
            .list(category, &request.page_token, limit)
            .await
            .map_err(storage_error)?;
        let next_page_token = if more {
            products.last().map(|p| p.id.clone()).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListProductsResponse {
            products: products.into_iter().map(to_pb).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all, fields(product_id = %request.get_ref().id))]
    async fn get_product(
        &self,
        request: Request<pb::GetProductRequest>,
    ) -> Result<Response<pb::Product>, Status> {
        let id = request.into_inner().id;
        if id.trim().is_empty() {
            return Err(CatalogError::InvalidArgument("id must not be empty".into()).into());
        }
        match self.store.get(&id).await.map_err(storage_error)? {
            Some(product) => Ok(Response::new(to_pb(product))),
            None => Err(CatalogError::NotFound(id).into()),
        }
    }

    #[tracing::instrument(skip_all)]
    async fn search_products(
        &self,
        request: Request<pb::SearchProductsRequest>,
    ) -> Result<Response<pb::SearchProductsResponse>, Status> {
        let request = request.into_inner();
        let query = domain::search_query(&request.query)?;
        let limit = domain::page_size(request.limit)?;
        let products = self
            .store
            .search(&domain::like_pattern(&query), limit)
            .await
            .map_err(storage_error)?;
        Ok(Response::new(pb::SearchProductsResponse {
            products: products.into_iter().map(to_pb).collect(),
        }))
    }
}
