//! The admin HTTP endpoints of a gRPC service: `/healthz`, `/readyz` and `/metrics`.

use crate::{health::Readiness, http_metrics, metrics};
use axum::{Router, extract::State, http::StatusCode, routing::get};

/// `/healthz`: the process is alive and its runtime answers.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `/metrics`: Prometheus text exposition.
pub async fn metrics_text() -> ([(axum::http::HeaderName, &'static str); 1], String) {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        metrics::render(),
    )
}

async fn readyz(State(readiness): State<Readiness>) -> (StatusCode, &'static str) {
    if readiness.is_ready() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    }
}

/// The admin router of a gRPC service.
pub fn router(readiness: Readiness) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .layer(axum::middleware::from_fn(http_metrics::track))
        .with_state(readiness)
}
