//! The payments service: validates cards and charges them exactly once per idempotency key.

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
use shop_proto::payments::v1::payment_service_server::{PaymentServiceServer, SERVICE_NAME};

/// Serves payments until `shutdown`.
pub async fn serve(listeners: Listeners, config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    let pool = config
        .database
        .connect("payments", &store::MIGRATOR)
        .await?;
    // xtask:new-service clients
    if config.faults().is_active() {
        tracing::warn!(faults = ?config.faults(), "fault injection is ON");
    }
    let service = grpc::PaymentsGrpc::new(app::PaymentsApp::new(
        store::ChargeStore::new(pool),
        config.faults(),
    ));
    GrpcServer {
        name: "payments",
        services: &[SERVICE_NAME],
        descriptors: shop_proto::FILE_DESCRIPTOR_SET,
        server: config.server.clone(),
    }
    .serve(
        tonic::service::Routes::new(PaymentServiceServer::new(service)),
        listeners,
        shutdown,
    )
    .await
}
