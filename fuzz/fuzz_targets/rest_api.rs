//! The gateway's REST API under arbitrary requests: any route, method, path segment, query, body,
//! content type and credentials. Whatever comes in, the gateway must not panic or answer 500, and
//! every error must be the one JSON shape (`{"error": {"code", "message"}}`). The backends are
//! closed ports (with short timeouts), so a request that passes validation ends in 503 or 504.
#![no_main]

use arbitrary::Arbitrary;
use axum::{Router, body::Body};
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tower::ServiceExt;

const ROUTES: &[&str] = &[
    "/api/v1/products",
    "/api/v1/products/search",
    "/api/v1/products/{}",
    "/api/v1/session",
    "/api/v1/cart",
    "/api/v1/cart/items",
    "/api/v1/cart/items/{}",
    "/api/v1/checkout",
    "/api/v1/orders",
    "/api/v1/orders/{}",
    "/api/v1/{}",
    "/{}",
];
const METHODS: &[&str] = &["GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS", "HEAD"];
const SECRET: &str = "fuzz-secret-fuzz-secret-fuzz-secret-0123";

#[derive(Arbitrary, Debug)]
struct Input {
    route: u8,
    method: u8,
    segment: Vec<u8>,
    query: Vec<u8>,
    body: Vec<u8>,
    json_content_type: bool,
    /// 0: no credentials, 1: a valid token, else: a made-up one.
    auth: u8,
    idempotency_key: Option<Vec<u8>>,
}

struct Gateway {
    runtime: tokio::runtime::Runtime,
    router: Router,
    token: String,
}

fn gateway() -> &'static Gateway {
    static GATEWAY: OnceLock<Gateway> = OnceLock::new();
    GATEWAY.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let closed = "http://127.0.0.1:1";
        let overrides = [
            ("CATALOG_URL", closed),
            ("CART_URL", closed),
            ("ORDERS_URL", closed),
            ("JWT_SECRET", SECRET),
            ("GRPC_CONNECT_TIMEOUT_MS", "20"),
            ("GRPC_REQUEST_TIMEOUT_MS", "50"),
            ("GRPC_MAX_RETRIES", "0"),
            ("REQUEST_TIMEOUT_MS", "100"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let config: gateway::Config =
            platform::config::from_env("gateway", &overrides).expect("the fuzz config loads");
        let (router, token) = runtime.block_on(async {
            let state = gateway::AppState::new(&config).expect("the gateway state");
            let token = gateway::auth::Tokens::new(SECRET.as_bytes(), config.token_ttl)
                .unwrap()
                .issue("fuzz")
                .unwrap()
                .token;
            (gateway::router(state, gateway::Limits::of(&config)), token)
        });
        Gateway {
            runtime,
            router,
            token,
        }
    })
}

/// Percent-encodes every byte but unreserved ones (and `keep`), so that any bytes make a URI.
fn encode(bytes: &[u8], keep: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fuzz_target!(|input: Input| {
    let g = gateway();
    let route = ROUTES[usize::from(input.route) % ROUTES.len()];
    let mut uri = route.replace("{}", &encode(&input.segment, b""));
    if !input.query.is_empty() {
        uri.push('?');
        uri.push_str(&encode(&input.query, b"=&"));
    }
    let method = METHODS[usize::from(input.method) % METHODS.len()];
    let mut request = http::Request::builder().method(method).uri(&uri);
    if input.json_content_type {
        request = request.header("content-type", "application/json");
    }
    match input.auth {
        0 => {}
        1 => request = request.header("authorization", format!("Bearer {}", g.token)),
        _ => request = request.header("authorization", [b"Bearer ".as_slice(), &input.segment].concat()),
    }
    if let Some(key) = &input.idempotency_key {
        request = request.header("idempotency-key", key.as_slice());
    }
    // Headers that are not valid HTTP never reach a server: nothing to test.
    let Ok(request) = request.body(Body::from(input.body)) else {
        return;
    };
    let (status, body) = g.runtime.block_on(async {
        let response = g.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, body)
    });
    assert_ne!(status, 500, "a request made the gateway fail: {}", String::from_utf8_lossy(&body));
    // A HEAD answer has no body by definition.
    if method != "HEAD" && (status.is_client_error() || status.is_server_error()) {
        let error: serde_json::Value = serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("a {status} that is not JSON ({e}): {body:?}"));
        assert!(
            error["error"]["code"].is_string() && error["error"]["message"].is_string(),
            "a {status} without the error shape: {error}"
        );
    }
});
