//! The storefront: the shop's web pages (products, search, cart, checkout, orders), the "behind the
//! scenes" page that shows which pods answer, and the interactive API docs
//! (docs/services/storefront.md).
//!
//! It talks to the shop only through the public REST API (`/api/v1` on the gateway), like curl.
//! `pages.rs` renders the pages, `shop_api.rs` calls the API, `assets.rs` serves the files compiled
//! into the binary, and `proxy.rs` passes `/api` on to the gateway where no Ingress does.

pub mod assets;
pub mod config;
pub mod pages;
pub mod proxy;
pub mod shop_api;

pub use config::Config;

use platform::{Shutdown, grpc_server::Listeners};

/// The whole site: pages, files, and `/api` passed through to the gateway.
pub fn app(config: &Config) -> anyhow::Result<axum::Router> {
    let api = shop_api::ShopApi::new(&config.gateway_url)?;
    let site = pages::Site::new(api.clone(), config.server.identity.identity());
    Ok(pages::router(site)
        .merge(assets::router())
        .merge(proxy::router(api.upstream().clone())))
}

/// Serves the storefront until `shutdown`.
pub async fn serve(listeners: Listeners, config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    // A trace starts here: the calls to the gateway carry it on (W3C traceparent).
    let app = app(&config)?
        .layer(axum::middleware::from_fn(platform::http_metrics::track))
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(platform::http_server::request_span::<axum::body::Body>),
        );
    platform::http_server::serve("storefront", app, listeners, &config.server, shutdown).await
}
