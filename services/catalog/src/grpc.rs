//! The gRPC face of the catalog: maps requests to the use cases and their errors to `Status`.

use crate::{
    app::CatalogApp,
    domain::{CatalogError, Product},
};
use shop_proto::catalog::v1 as pb;
use tonic::{Request, Response, Status};

pub struct CatalogGrpc {
    app: CatalogApp,
}

impl CatalogGrpc {
    pub fn new(app: CatalogApp) -> Self {
        Self { app }
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
        let r = request.into_inner();
        let page = self.app.list(&r.category, &r.page_token, r.page_size)?;
        Ok(Response::new(pb::ListProductsResponse {
            products: page.products.into_iter().map(to_pb).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    #[tracing::instrument(skip_all, fields(product_id = %request.get_ref().id))]
    async fn get_product(
        &self,
        request: Request<pb::GetProductRequest>,
    ) -> Result<Response<pb::Product>, Status> {
        let product = self.app.get(&request.into_inner().id)?;
        Ok(Response::new(to_pb(product)))
    }

    #[tracing::instrument(skip_all)]
    async fn search_products(
        &self,
        request: Request<pb::SearchProductsRequest>,
    ) -> Result<Response<pb::SearchProductsResponse>, Status> {
        let r = request.into_inner();
        let products = self.app.search(&r.query, r.limit)?;
        Ok(Response::new(pb::SearchProductsResponse {
            products: products.into_iter().map(to_pb).collect(),
        }))
    }
}
