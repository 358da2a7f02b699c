//! The catalog service: products to list, get and search, seeded from `data/products.json`.

pub mod app;
pub mod config;
pub mod domain;
pub mod grpc;
pub mod snapshot;
pub mod store;

pub use config::Config;

use platform::{
    Shutdown,
    grpc_server::{GrpcServer, Listeners},
};
use shop_proto::catalog::v1::catalog_service_server::{CatalogServiceServer, SERVICE_NAME};

/// Serves the catalog until `shutdown`: connects and migrates its database, seeds it on first
/// start, loads the products into memory (reloaded every `CATALOG_REFRESH_INTERVAL_MS`), then
/// answers gRPC calls from there.
pub async fn serve(listeners: Listeners, config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    let pool = config.database.connect("catalog", &store::MIGRATOR).await?;
    // xtask:new-service clients
    let store = store::ProductStore::new(pool);
    let seeded = store.seed(&domain::seed_products()).await?;
    if seeded > 0 {
        tracing::info!(seeded, "catalog seeded with products");
    }
    let products = snapshot::LiveCatalog::load(&store).await?;
    let refresher = products.refresh_every(store, config.refresh_interval);
    let routes = tonic::service::Routes::new(CatalogServiceServer::new(grpc::CatalogGrpc::new(
        app::CatalogApp::new(products),
    )));
    let served = GrpcServer {
        name: "catalog",
        services: &[SERVICE_NAME],
        descriptors: shop_proto::FILE_DESCRIPTOR_SET,
        server: config.server.clone(),
    }
    .serve(routes, listeners, shutdown)
    .await;
    refresher.abort();
    served
}
