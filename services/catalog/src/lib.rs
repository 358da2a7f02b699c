//! The catalog service: products to list, get and search, seeded from `data/products.json`.

pub mod app;
pub mod config;
pub mod domain;
pub mod grpc;
pub mod store;

pub use config::Config;

use platform::{
    Shutdown,
    grpc_server::{GrpcServer, Listeners},
};
use shop_proto::catalog::v1::catalog_service_server::{CatalogServiceServer, SERVICE_NAME};

/// Serves the catalog until `shutdown`: connects and migrates its database, seeds it on first
/// start, then answers gRPC calls.
pub async fn serve(listeners: Listeners, config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    let pool = config.database.connect("catalog", &store::MIGRATOR).await?;
    // xtask:new-service clients
    let store = store::ProductStore::new(pool);
    let seeded = store.seed(&domain::seed_products()).await?;
    if seeded > 0 {
        tracing::info!(seeded, "catalog seeded with products");
    }
    let routes = tonic::service::Routes::new(CatalogServiceServer::new(grpc::CatalogGrpc::new(
        app::CatalogApp::new(store),
    )));
    GrpcServer {
        name: "catalog",
        services: &[SERVICE_NAME],
        descriptors: shop_proto::FILE_DESCRIPTOR_SET,
        server: config.server.clone(),
    }
    .serve(routes, listeners, shutdown)
    .await
}
