//! The gateway: the shop's REST/JSON edge. It authenticates users, validates input, and calls
//! catalog, cart and orders over gRPC with deadlines, retries and trace context.
//!
//! Its public port serves only `/api/v1`; `/healthz`, `/readyz` and `/metrics` are on the admin
//! port like every other service's. Readiness means "this pod can take traffic": it does not
//! follow the backends, so one sick backend fails only the routes that need it (503 naming it),
//! never every gateway pod at once.

pub mod api;
pub mod auth;
pub mod config;
pub mod error;
pub mod model;
pub mod openapi;

pub use config::Config;

use axum::{
    Json, Router,
    extract::DefaultBodyLimit,
    http::{Request, StatusCode},
    routing::{delete, get, post},
};
use platform::{
    Shutdown,
    grpc_client::{GrpcChannel, Retries, channel_from_url},
    grpc_server::Listeners,
    http_metrics,
};
use shop_proto::{
    cart::v1::cart_service_client::CartServiceClient,
    catalog::v1::catalog_service_client::CatalogServiceClient,
    orders::v1::order_service_client::OrderServiceClient,
};
use std::sync::Arc;
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};
use utoipa::OpenApi;

/// The retries of each backend the gateway reads from (each with its own budget). Checkout is
/// not retried here: orders retries the calls it makes.
#[derive(Clone, Debug)]
pub struct BackendRetries {
    pub catalog: Retries,
    pub cart: Retries,
    pub orders: Retries,
}

/// What every handler shares, behind one `Arc`: axum clones the state for every request, and a
/// clone of the clients themselves costs several allocations each (measured: docs/benchmarks.md).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Backend clients, token keys, retries.
pub struct Shared {
    pub catalog: CatalogServiceClient<GrpcChannel>,
    pub cart: CartServiceClient<GrpcChannel>,
    pub orders: OrderServiceClient<GrpcChannel>,
    // xtask:new-service client fields
    pub tokens: auth::Tokens,
    /// Retries of idempotent calls, with a budget per backend.
    pub retries: BackendRetries,
}

impl AppState {
    pub fn new(config: &Config) -> Result<Self, platform::ConfigError> {
        let catalog = channel_from_url("CATALOG_URL", &config.catalog_url, &config.client)?;
        let cart = channel_from_url("CART_URL", &config.cart_url, &config.client)?;
        let orders = channel_from_url("ORDERS_URL", &config.orders_url, &config.client)?;
        let tokens =
            auth::Tokens::new(config.jwt_secret.as_bytes(), config.token_ttl).map_err(|e| {
                platform::ConfigError::Invalid {
                    name: "JWT_SECRET".into(),
                    value: "(hidden)".into(),
                    reason: e.to_string(),
                }
            })?;
        Ok(Self(Arc::new(Shared {
            catalog: CatalogServiceClient::new(catalog),
            cart: CartServiceClient::new(cart),
            orders: OrderServiceClient::new(orders),
            // xtask:new-service client values
            tokens,
            retries: BackendRetries {
                catalog: Retries::new(config.client.max_retries),
                cart: Retries::new(config.client.max_retries),
                orders: Retries::new(config.client.max_retries),
            },
        })))
    }
}

/// The complete HTTP application.
/// What bounds a request: its body, its time, and how many are served at once.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub request_timeout: std::time::Duration,
    pub max_in_flight: usize,
}

impl Limits {
    pub fn of(config: &Config) -> Self {
        Self {
            max_body_bytes: config.max_body_bytes,
            request_timeout: config.request_budget,
            max_in_flight: config.server.max_in_flight as usize,
        }
    }
}

pub fn router(state: AppState, limits: Limits) -> Router {
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
    // One stack, applied once: `Router::layer` boxes the route again for each call to it, and
    // axum clones a route's service for every request, so eight separate layers cost eight
    // allocations and frees per request (docs/benchmarks.md). Outermost first.
    let middleware = ServiceBuilder::new()
        .layer(CatchPanicLayer::custom(|_| {
            error::ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error",
            )
            .into_response_now()
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(platform::http_server::request_span::<axum::body::Body>)
                // 5xx answers are logged once, by ApiError.
                .on_failure(()),
        )
        .layer(platform::overload::ShedLayer::new(
            limits.max_in_flight,
            || {
                error::ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "overloaded",
                    "the shop is busy; try again in a moment",
                )
                .retry_after(1)
                .into_response_now()
            },
        ))
        .layer(axum::middleware::from_fn(http_metrics::track))
        .layer(axum::middleware::from_fn_with_state(
            limits.request_timeout,
            within_budget,
        ))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes));
    Router::new()
        .nest("/api/v1", api)
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(middleware)
        .with_state(state)
}

/// Gives the request `budget` in all: every gRPC call it makes carries the time left, and when it
/// runs out the client gets 504 `deadline_exceeded` (the work below is cancelled with it).
async fn within_budget(
    axum::extract::State(budget): axum::extract::State<std::time::Duration>,
    request: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let deadline = tokio::time::Instant::now() + budget;
    match tokio::time::timeout_at(
        deadline,
        platform::deadline::within(deadline, next.run(request)),
    )
    .await
    {
        Ok(response) => response,
        Err(_) => error::ApiError::deadline_exceeded(budget).into_response_now(),
    }
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi::ApiDoc::openapi())
}

/// Serves the REST API until `shutdown`, then drains in-flight requests.
pub async fn serve(listeners: Listeners, config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    let state = AppState::new(&config)?;
    let app = router(state, Limits::of(&config));
    platform::http_server::serve("gateway", app, listeners, &config.server, shutdown).await
}
