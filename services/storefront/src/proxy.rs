//! `/api/...` passed on to the gateway, unchanged, so that one address serves the pages and the API
//! (the pages' own scripts call `/api/v1` on the page's origin). In Kubernetes the Ingress already
//! sends `/api` to the gateway and this route sees no traffic; under `shop up` and compose, where
//! no Ingress runs, it plays the Ingress's part. Routing only: no logic of the API lives here.

use axum::{
    Router,
    body::{Body, to_bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderName, StatusCode, header},
    response::{IntoResponse, Response},
    routing::any,
};
use platform::http_client::HttpUpstream;

/// The largest request body passed on (the gateway's own limit is lower).
const MAX_BODY_BYTES: usize = 1024 * 1024;

pub fn router<S: Clone + Send + Sync + 'static>(gateway: HttpUpstream) -> Router<S> {
    Router::new()
        .route("/api", any(pass))
        .route("/api/{*rest}", any(pass))
        .with_state(gateway)
}

/// Headers of one hop only (RFC 9110, 7.6.1), never passed on.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "content-length"
    )
}

async fn pass(State(gateway): State<HttpUpstream>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, MAX_BODY_BYTES).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"error":{"code":"payload_too_large","message":"the request body is too large"}}"#,
        )
            .into_response();
    };
    let path = parts.uri.path_and_query().map_or("/api", |p| p.as_str());
    let mut headers = HeaderMap::new();
    for (name, value) in &parts.headers {
        if !hop_by_hop(name) {
            headers.append(name, value.clone());
        }
    }
    let answer = gateway
        .request(parts.method, path)
        .headers(headers)
        .body(body)
        .send()
        .await;
    let answer = match answer {
        Ok(answer) => answer,
        Err(e) => {
            tracing::warn!("the gateway did not answer: {e}");
            return (
                StatusCode::BAD_GATEWAY,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"error":{"code":"bad_gateway","message":"the shop's API is not answering; try again in a moment"}}"#,
            )
                .into_response();
        }
    };
    let status = answer.status();
    let mut response_headers = HeaderMap::new();
    for (name, value) in answer.headers() {
        if !hop_by_hop(name) {
            response_headers.append(name, value.clone());
        }
    }
    match answer.bytes().await {
        Ok(bytes) => {
            let mut response = (status, Body::from(bytes)).into_response();
            // The gateway's x-served-by stays (platform::http_server adds the storefront's only
            // to answers that do not name their server yet).
            response.headers_mut().extend(response_headers);
            response
        }
        Err(_) => (StatusCode::BAD_GATEWAY, "the gateway's answer was cut off").into_response(),
    }
}
