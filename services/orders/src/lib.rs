//! The orders service: turns a user's cart into a paid order, exactly once per idempotency key.

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
    cart::v1::cart_service_client::CartServiceClient,
    catalog::v1::catalog_service_client::CatalogServiceClient,
    orders::v1::order_service_server::{OrderServiceServer, SERVICE_NAME},
    payments::v1::payment_service_client::PaymentServiceClient,
};

/// Serves orders until `shutdown`.
pub async fn serve(listeners: Listeners, config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    let pool = config.database.connect("orders", &store::MIGRATOR).await?;
    // xtask:new-service clients
    let retries = || platform::grpc_client::Retries::new(config.client.max_retries);
    let cart = backends::GrpcCart {
        client: CartServiceClient::new(channel_from_url(
            "CART_URL",
            &config.cart_url,
            &config.client,
        )?),
        retries: retries(),
    };
    let catalog = backends::GrpcCatalog {
        client: CatalogServiceClient::new(channel_from_url(
            "CATALOG_URL",
            &config.catalog_url,
            &config.client,
        )?),
        retries: retries(),
    };
    let payments = backends::GrpcPayments {
        client: PaymentServiceClient::new(channel_from_url(
            "PAYMENTS_URL",
            &config.payments_url,
            &config.client,
        )?),
        retries: retries(),
    };
    let checkout = std::sync::Arc::new(app::Checkout::with_policy(
        store::OrderStore::new(pool),
        cart,
        catalog,
        payments,
        config.checkout_policy(),
    ));
    let reconciler = tokio::spawn(reconcile(checkout.clone(), shutdown.clone()));
    let service = grpc::OrdersGrpc::new(checkout);
    let result = GrpcServer {
        name: "orders",
        services: &[SERVICE_NAME],
        descriptors: shop_proto::FILE_DESCRIPTOR_SET,
        server: config.server.clone(),
    }
    .serve(
        tonic::service::Routes::new(OrderServiceServer::new(service)),
        listeners,
        shutdown,
    )
    .await;
    reconciler.abort();
    result
}

/// Voids abandoned checkouts on a schedule (a tenth of the abandon time, 100 ms to 30 s), until
/// `shutdown`. Every replica runs it; each checkout is settled by one (they take its lease).
async fn reconcile(checkout: std::sync::Arc<grpc::Checkout>, shutdown: Shutdown) {
    let every = (checkout.policy().abandon_after / 10).clamp(
        std::time::Duration::from_millis(100),
        std::time::Duration::from_secs(30),
    );
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = shutdown.wait() => return,
        }
        match checkout.void_abandoned(app::now_ms()).await {
            Ok(done) if done != app::Reconciled::default() => {
                tracing::info!(?done, "abandoned checkouts settled");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "settling abandoned checkouts failed; will retry"),
        }
    }
}
