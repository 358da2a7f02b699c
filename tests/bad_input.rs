//! Every kind of bad input gets the right status and a JSON error saying what is wrong.

mod common;

use common::*;
use platform::testing::Backend;
use serde_json::json;

#[tokio::test]
async fn bad_requests_get_a_clear_json_error() {
    let shop = spawn_shop(Backend::Sqlite).await;
    let token = shop.session("Ann").await;
    let http = &shop.http;
    let items = shop.url("/api/v1/cart/items");

    // Malformed JSON, wrong fields, wrong content type.
    let r = http
        .post(&items)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"product_id\": ")
        .send()
        .await
        .unwrap();
    expect_error(r, 400, "malformed_json").await;
    let r = http
        .post(&items)
        .bearer_auth(&token)
        .json(&json!({"product_id": "chef-knife", "quantity": "two"}))
        .send()
        .await
        .unwrap();
    expect_error(r, 422, "invalid_body").await;
    let r = http
        .post(&items)
        .bearer_auth(&token)
        .body("{}")
        .send()
        .await
        .unwrap();
    expect_error(r, 415, "unsupported_media_type").await;

    // A page token the API did not issue is refused, not answered with an empty page; a path
    // segment that is not UTF-8 gets the same JSON error shape.
    let r = http
        .get(shop.url("/api/v1/products?page_token=zz-not-issued"))
        .send()
        .await
        .unwrap();
    let message = expect_error(r, 400, "invalid_argument").await;
    assert!(message.contains("page_token"), "{message}");
    let r = http
        .get(shop.url("/api/v1/products/%FF%FE"))
        .send()
        .await
        .unwrap();
    expect_error(r, 400, "invalid_path").await;

    // Unknown product, quantity out of range.
    let message = expect_error(
        shop.add_to_cart(&token, "no-such-product", 1).await,
        404,
        "not_found",
    )
    .await;
    assert!(message.contains("no-such-product"));
    expect_error(
        shop.add_to_cart(&token, "chef-knife", 0).await,
        400,
        "invalid_argument",
    )
    .await;
    expect_error(
        shop.add_to_cart(&token, "chef-knife", 100).await,
        400,
        "invalid_argument",
    )
    .await;
    shop.add_to_cart(&token, "chef-knife", 98).await;
    let message = expect_error(
        shop.add_to_cart(&token, "chef-knife", 2).await,
        400,
        "invalid_argument",
    )
    .await;
    assert!(message.contains("at most 99"), "{message}");

    // Missing or invalid token.
    let r = http.get(shop.url("/api/v1/cart")).send().await.unwrap();
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    expect_error(r, 401, "unauthenticated").await;
    let r = http
        .get(shop.url("/api/v1/cart"))
        .bearer_auth("not.a.token")
        .send()
        .await
        .unwrap();
    expect_error(r, 401, "unauthenticated").await;
    let r = http
        .get(shop.url("/api/v1/cart"))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    expect_error(r, 401, "unauthenticated").await;

    // Checkout without an idempotency key; with an incomplete address.
    let r = http
        .post(shop.url("/api/v1/checkout"))
        .bearer_auth(&token)
        .json(&checkout_body(GOOD_CARD))
        .send()
        .await
        .unwrap();
    expect_error(r, 400, "missing_idempotency_key").await;
    let mut body = checkout_body(GOOD_CARD);
    body["shipping_address"]["city"] = json!("");
    let r = http
        .post(shop.url("/api/v1/checkout"))
        .bearer_auth(&token)
        .header("Idempotency-Key", "k")
        .json(&body)
        .send()
        .await
        .unwrap();
    let message = expect_error(r, 400, "invalid_argument").await;
    assert!(message.contains("city"), "{message}");

    // Oversized body.
    let huge = json!({"name": "x".repeat(200_000)});
    let r = http
        .post(shop.url("/api/v1/session"))
        .json(&huge)
        .send()
        .await
        .unwrap();
    expect_error(r, 413, "body_too_large").await;

    // Bad session name, bad paging, empty search.
    let r = http
        .post(shop.url("/api/v1/session"))
        .json(&json!({"name": "  "}))
        .send()
        .await
        .unwrap();
    expect_error(r, 400, "invalid_argument").await;
    expect_error(
        http.get(shop.url("/api/v1/products?page_size=1000"))
            .send()
            .await
            .unwrap(),
        400,
        "invalid_argument",
    )
    .await;
    expect_error(
        http.get(shop.url("/api/v1/products?page_size=abc"))
            .send()
            .await
            .unwrap(),
        400,
        "invalid_query",
    )
    .await;
    expect_error(
        http.get(shop.url("/api/v1/products/search?q=%20"))
            .send()
            .await
            .unwrap(),
        400,
        "invalid_argument",
    )
    .await;
    expect_error(
        http.get(shop.url("/api/v1/products/no-such-product"))
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;

    // Unknown route, wrong method.
    expect_error(
        http.get(shop.url("/api/v1/nope")).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
    expect_error(
        http.delete(shop.url("/api/v1/products"))
            .send()
            .await
            .unwrap(),
        405,
        "method_not_allowed",
    )
    .await;

    // Checking out an empty cart.
    let fresh = shop.session("Bob").await;
    expect_error(
        shop.checkout(&fresh, "k", GOOD_CARD).await,
        409,
        "cart_empty",
    )
    .await;

    shop.stop().await;
}

/// A second gateway in front of the shop's real cart and orders, whose catalog is down (a port
/// with nothing behind it).
async fn gateway_without_catalog(
    shop: &TestShop,
) -> (
    String,
    String,
    platform::Shutdown,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let main = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", main.local_addr().unwrap());
    let admin_url = format!("http://{}", admin.local_addr().unwrap());
    let setting = |name: &str, value: String| (name.to_owned(), value);
    let config: gateway::Config = platform::config::from_env(
        "gateway",
        &[
            setting("CATALOG_URL", format!("http://{closed}")),
            setting(
                "CART_URL",
                format!("http://{}", shop.addresses.of("cart").0),
            ),
            setting(
                "ORDERS_URL",
                format!("http://{}", shop.addresses.of("orders").0),
            ),
            setting(
                "JWT_SECRET",
                "test-secret-test-secret-test-secret-0123".into(),
            ),
            setting("GRPC_REQUEST_TIMEOUT_MS", "500".into()),
        ]
        .into_iter()
        .collect(),
    )
    .expect("the config loads");
    let shutdown = platform::Shutdown::new();
    let server = tokio::spawn(gateway::serve(
        platform::grpc_server::Listeners {
            main,
            admin: Some(admin),
        },
        config,
        shutdown.clone(),
    ));
    (base, admin_url, shutdown, server)
}

#[tokio::test]
async fn catalog_down_fails_only_the_routes_that_need_it_and_the_gateway_stays_ready() {
    let shop = spawn_shop(Backend::Sqlite).await;
    let (base, admin, shutdown, server) = gateway_without_catalog(&shop).await;
    let http = reqwest::Client::new();
    wait_until_ready(&http, &admin).await;

    // The routes that need the catalog: 503 JSON naming it, not a hang.
    for path in ["/api/v1/products", "/api/v1/products/chef-knife"] {
        let r = http.get(format!("{base}{path}")).send().await.unwrap();
        let message = expect_error(r, 503, "backend_unavailable").await;
        assert!(message.contains("catalog"), "names the backend: {message}");
    }
    // The gateway can still take traffic: it stays in the Service's endpoints.
    let r = http.get(format!("{admin}/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200, "ready although the catalog is down");
    // Routes that do not need the catalog keep working.
    let r = http
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"name": "Ann"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let token = r.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = http
        .get(format!("{base}/api/v1/cart"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "an empty cart needs no prices");
    let r = http
        .get(format!("{base}/api/v1/orders"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    shutdown.trigger();
    server.await.unwrap().unwrap();
    shop.stop().await;
}

#[tokio::test]
async fn health_and_metrics_are_on_the_admin_port_only() {
    let shop = spawn_shop(Backend::Sqlite).await;
    for path in ["/healthz", "/readyz", "/metrics"] {
        let r = shop.http.get(shop.url(path)).send().await.unwrap();
        expect_error(r, 404, "not_found").await;
        let r = shop
            .http
            .get(format!("{}{path}", shop.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path} on the admin port");
    }
    shop.stop().await;
}
