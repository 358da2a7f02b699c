//! The cart service: one cart per user, holding products that exist in the catalog.

pub mod app;
pub mod backends;
pub mod config;
pub mod domain;
pub mod grpc;
pub mod store;

pub use config::Config;

use platform::{
    Shutdown,
    grpc_client::channel_from_url,
    grpc_server::{GrpcServer, Listeners},
};
use shop_proto::{
    cart::v1::cart_service_server::{CartServiceServer, SERVICE_NAME},
    catalog::v1::catalog_service_client::CatalogServiceClient,
};

/// Serves carts until `shutdown`.
pub async fn serve(listeners: Listeners, config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    let pool = config.database.connect("cart", &store::MIGRATOR).await?;
    let catalog = CatalogServiceClient::new(channel_from_url(
        "CATALOG_URL",
        &config.catalog_url,
        &config.client,
    )?);
    // xtask:new-service clients
    let products = backends::GrpcCatalog {
        client: catalog,
        retries: platform::grpc_client::Retries::new(config.client.max_retries),
    };
    let service = grpc::CartGrpc::new(app::CartApp::new(store::CartStore::new(pool), products));
    GrpcServer {
        name: "cart",
        services: &[SERVICE_NAME],
        descriptors: shop_proto::FILE_DESCRIPTOR_SET,
        server: config.server.clone(),
    }
    .serve(
        tonic::service::Routes::new(CartServiceServer::new(service)),
        listeners,
        shutdown,
    )
    .await
}
