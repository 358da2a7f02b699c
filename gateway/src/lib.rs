//! The gateway: the shop's REST/JSON edge. It authenticates users, validates input, and calls
//! catalog, cart and orders over gRPC with deadlines, retries and trace context.

pub mod api;
pub mod auth;
pub mod config;
pub mod error;
pub mod model;
pub mod openapi;

pub use config::Config;

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, State},
    http::{Request, StatusCode},
    routing::{delete, get, post},
};
use platform::{
    Shutdown, admin,
    grpc_client::{GrpcChannel, channel_from_url, is_serving},
    grpc_server::Listeners,
    health::Readiness,
    http_metrics, telemetry,
};
use serde_json::{Value, json};
use shop_proto::{
    cart::v1::cart_service_client::CartServiceClient,
    catalog::v1::catalog_service_client::CatalogServiceClient,
    orders::v1::order_service_client::OrderServiceClient,
};
use std::future::IntoFuture;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};
use utoipa::OpenApi;

/// What every handler shares: backend clients, token keys, readiness.
#[derive(Clone)]
pub struct AppState {
    pub catalog: CatalogServiceClient<GrpcChannel>,
    pub cart: CartServiceClient<GrpcChannel>,
    pub orders: OrderServiceClient<GrpcChannel>,
    pub tokens: auth::Tokens,
    pub retries: u32,
    backends: Vec<(&'static str, GrpcChannel)>,
    readiness: Readiness,
}

impl AppState {
    pub fn new(config: &Config) -> Result<Self, platform::ConfigError> {
        let catalog = channel_from_url("CATALOG_URL", &config.catalog_url, &config.client)?;
        let cart = channel_from_url("CART_URL", &config.cart_url, &config.client)?;
        let orders = channel_from_url("ORDERS_URL", &config.orders_url, &config.client)?;
        Ok(Self {
            catalog: CatalogServiceClient::new(catalog.clone()),
            cart: CartServiceClient::new(cart.clone()),
            orders: OrderServiceClient::new(orders.clone()),
            tokens: auth::Tokens::new(config.jwt_secret.as_bytes(), config.token_ttl),
            retries: config.client.max_retries,
            backends: vec![("catalog", catalog), ("cart", cart), ("orders", orders)],
            readiness: Readiness::new(),
        })
    }
}

/// The complete HTTP application.
pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    let api = Router::new()
        .route("/products", get(api::list_products))
        .route("/products/search", get(api::search_products))
        .route("/products/{id}", get(api::get_product))
        .route("/session", post(api::create_session))
        .route("/cart", get(api::get_cart))
        .route("/cart/items", post(api::add_cart_item))
        .route("/cart/items/{product_id}", delete(api::remove_cart_item))
        .route("/checkout", post(api::checkout))
        .route("/orders", get(api::list_orders))
        .route("/orders/{id}", get(api::get_order))
        .route("/openapi.json", get(openapi_json));
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(admin::healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(admin::metrics_text))
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::middleware::from_fn(http_metrics::track))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let span = tracing::info_span!(
                "http.request",
                http.method = %request.method(),
                http.target = %request.uri().path(),
                request_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or(""),
                otel.kind = "server",
            );
            telemetry::set_parent_from_headers(&span, request.headers());
            span
        })
        // 5xx answers are logged once, by ApiError (a not-ready /readyz is no error at all).
        .on_failure(()))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(CatchPanicLayer::custom(|_| {
            error::ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error").into_response_now()
        }))
        .with_state(state)
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi::ApiDoc::openapi())
}

/// Ready when not draining and every backend answers its gRPC health check.
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    if !state.readiness.is_ready() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "draining"})),
        );
    }
    let checks = state.backends.iter().map(|(name, channel)| {
        let channel = channel.clone();
        async move { (*name, is_serving(channel).await) }
    });
    let results = futures::future::join_all(checks).await;
    let ready = results.iter().all(|(_, serving)| *serving);
    let backends: serde_json::Map<String, Value> = results
        .into_iter()
        .map(|(name, serving)| {
            (
                name.to_owned(),
                json!(if serving { "serving" } else { "not_serving" }),
            )
        })
        .collect();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({"status": if ready { "ready" } else { "not_ready" }, "backends": backends})),
    )
}

/// Serves the REST API until `shutdown`, then drains in-flight requests.
pub async fn serve(listeners: Listeners, config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    platform::metrics::install();
    let state = AppState::new(&config)?;
    let readiness = state.readiness.clone();
    let addr = listeners.main.local_addr()?;
    let app = router(state, config.max_body_bytes);
    let server = axum::serve(listeners.main, app)
        .with_graceful_shutdown(
            config
                .server
                .shutdown
                .stop_accepting(shutdown.clone(), readiness.clone()),
        )
        .into_future();
    readiness.set_serving().await;
    tracing::info!(%addr, "gateway listening");
    config
        .server
        .shutdown
        .run("gateway", server, &shutdown)
        .await
}
