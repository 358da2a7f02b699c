//! The admin HTTP endpoints of every binary: `/healthz`, `/readyz` and `/metrics`, on their own
//! port (`ADMIN_ADDR`), so that no Ingress or public listener ever exposes them.

use crate::{health::Readiness, http_metrics, metrics};
use axum::{Router, extract::State, http::StatusCode, routing::get};
use std::{net::SocketAddr, time::Duration};
use tokio::{net::TcpListener, task::JoinHandle};

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

/// The admin router of a service.
pub fn router(readiness: Readiness) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .layer(axum::middleware::from_fn(http_metrics::track))
        .with_state(readiness)
}

/// Serves the admin router on `listener` until the caller aborts the task, which it does once the
/// main server has stopped: through the not-ready delay and the drain, `/readyz` answers 503 and
/// `/metrics` can still be scraped, rather than refusing connections.
pub fn spawn(listener: TcpListener, readiness: Readiness) -> JoinHandle<std::io::Result<()>> {
    tokio::spawn(async move { axum::serve(listener, router(readiness)).await })
}

/// Whether `GET path` on `addr` answers 200 within 2 s: a minimal HTTP/1.1 client, so that the
/// container health check and readiness waits need no HTTP client dependency.
pub async fn answers_ok(addr: SocketAddr, path: &str) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        std::io::Result::Ok(response.starts_with(b"HTTP/1.1 200"))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), attempt).await,
        Ok(Ok(true))
    )
}
