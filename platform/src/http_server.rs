//! Serving an HTTP application the same way everywhere (the gateway, the storefront): the admin
//! listener, readiness that goes not-serving first on shutdown, a bounded graceful drain, and the
//! identity headers on every answer.

use crate::{Shutdown, admin, config::ServerArgs, grpc_server::Listeners, health::Readiness};
use axum::Router;
use std::future::IntoFuture;

/// The span of one HTTP request (`TraceLayer::new_for_http().make_span_with(request_span)`): its
/// method, path and request id, continuing the caller's trace (W3C `traceparent`) if it sent one.
pub fn request_span<B>(request: &http::Request<B>) -> tracing::Span {
    let span = tracing::info_span!(
        "http.request",
        http.method = %request.method(),
        http.target = %request.uri().path(),
        request_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or(""),
        otel.kind = "server",
    );
    crate::telemetry::set_parent_from_headers(&span, request.headers());
    span
}

/// Serves `app` on `listeners` until `shutdown`, then stops as `server`'s shutdown policy says.
/// Every answer carries `x-served-by` and `x-shop-version`, and, when the request called gRPC
/// backends, `x-backend-served-by` and `x-backend-version` (see [`crate::identity`]).
pub async fn serve(
    name: &'static str,
    app: Router,
    listeners: Listeners,
    server: &ServerArgs,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    crate::metrics::install();
    let readiness = Readiness::new();
    let addr = listeners.main.local_addr()?;
    let identity = server.identity.identity();
    let app = app.layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let identity = identity.clone();
            async move {
                let (mut response, backends) =
                    crate::identity::collect_backends(next.run(request)).await;
                // An answer passed on from another server (the storefront's `/api`) keeps its name.
                if !response.headers().contains_key(crate::identity::SERVED_BY) {
                    identity.stamp(response.headers_mut());
                    backends.stamp(response.headers_mut());
                }
                response
            }
        },
    ));
    let serving = axum::serve(listeners.main, app)
        .with_graceful_shutdown(
            server
                .shutdown
                .stop_accepting(shutdown.clone(), readiness.clone()),
        )
        .into_future();
    let admin = listeners
        .admin
        .map(|listener| admin::spawn(listener, readiness.clone()));
    readiness.set_serving().await;
    tracing::info!(service = name, %addr, "HTTP server listening");
    let result = server.shutdown.run(name, serving, &shutdown).await;
    if let Some(admin) = admin {
        admin.abort();
    }
    result
}
