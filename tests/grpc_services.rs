//! The services as gRPC clients see them: the health protocol, reflection (what grpcurl uses),
//! the contracts themselves, and the observability endpoints.

mod common;

use common::*;
use platform::testing::Backend;
use shop_proto::{
    cart::v1::{AddItemRequest, cart_service_client::CartServiceClient},
    catalog::v1::{
        GetProductRequest, ListProductsRequest, Money, catalog_service_client::CatalogServiceClient,
    },
    payments::v1::{ChargeRequest, CreditCard, payment_service_client::PaymentServiceClient},
};
use std::{net::SocketAddr, time::Duration};
use tonic::{Code, transport::Channel};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};

async fn channel(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// The services listed by gRPC reflection, as `grpcurl -plaintext ADDR list` prints them.
async fn reflected_services(addr: SocketAddr) -> Vec<String> {
    let mut client = ServerReflectionClient::new(channel(addr).await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap();
    match response.message_response.unwrap() {
        MessageResponse::ListServicesResponse(list) => {
            list.service.into_iter().map(|s| s.name).collect()
        }
        other => panic!("unexpected reflection answer {other:?}"),
    }
}

#[tokio::test]
async fn every_service_serves_health_and_reflection() {
    let shop = spawn_shop(Backend::Sqlite).await;
    let a = &shop.addresses;
    for (addr, name) in [
        (a.of("catalog").0, "shop.catalog.v1.CatalogService"),
        (a.of("cart").0, "shop.cart.v1.CartService"),
        (a.of("orders").0, "shop.orders.v1.OrderService"),
        (a.of("payments").0, "shop.payments.v1.PaymentService"),
    ] {
        let mut health = HealthClient::new(channel(addr).await);
        for service in ["", name] {
            let status = health
                .check(HealthCheckRequest {
                    service: service.into(),
                })
                .await
                .unwrap()
                .into_inner()
                .status;
            assert_eq!(
                status,
                ServingStatus::Serving as i32,
                "{name} health for {service:?}"
            );
        }
        let services = reflected_services(addr).await;
        assert!(
            services
                .iter()
                .all(|s| !s.starts_with("shop.") || s == name),
            "{name}'s reflection lists only its own shop service: {services:?}"
        );
        for expected in [
            name,
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
        ] {
            assert!(
                services.iter().any(|s| s == expected),
                "{name} reflection lists {expected}: {services:?}"
            );
        }
    }
    shop.stop().await;
}

#[tokio::test]
async fn services_answer_their_contracts_over_grpc() {
    let shop = spawn_shop(Backend::Sqlite).await;
    let a = &shop.addresses;

    let mut catalog = CatalogServiceClient::new(channel(a.of("catalog").0).await);
    let page = catalog
        .list_products(ListProductsRequest {
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        page.products.len() >= 20,
        "seeded with at least 20 products"
    );
    let err = catalog
        .get_product(GetProductRequest { id: "nope".into() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = catalog
        .list_products(ListProductsRequest {
            page_size: -1,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);

    let mut cart = CartServiceClient::new(channel(a.of("cart").0).await);
    let err = cart
        .add_item(AddItemRequest {
            user_id: "u".into(),
            product_id: "nope".into(),
            quantity: 1,
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::NotFound,
        "cart checks products against the catalog"
    );

    let mut payments = PaymentServiceClient::new(channel(a.of("payments").0).await);
    let charge = |key: &str, units: i64| ChargeRequest {
        amount: Some(Money {
            currency_code: "USD".into(),
            units,
        }),
        card: Some(CreditCard {
            number: GOOD_CARD.into(),
            expiry_month: 1,
            expiry_year: 2099,
            cvv: "999".into(),
        }),
        idempotency_key: key.into(),
    };
    let first = payments
        .charge(charge("k", 500))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.card_last_four, "1111");
    let again = payments
        .charge(charge("k", 500))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        again.transaction_id, first.transaction_id,
        "the same key never charges twice"
    );
    let err = payments.charge(charge("k", 999)).await.unwrap_err();
    assert_eq!(
        err.code(),
        Code::FailedPrecondition,
        "a key reused for another amount is refused"
    );
    let mut expired = charge("k2", 500);
    expired.card.as_mut().unwrap().expiry_year = 2020;
    let err = payments.charge(expired).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("expired"), "{}", err.message());

    shop.stop().await;
}

#[tokio::test]
async fn payments_fault_injection_fails_charges_when_asked() {
    let db = platform::testing::TestDatabase::new(Backend::Sqlite).await;
    let listeners = platform::grpc_server::Listeners {
        main: platform::testing::loopback_listener().await,
        admin: Some(platform::testing::loopback_listener().await),
    };
    let addr = listeners.main.local_addr().unwrap();
    let config: payments::Config = platform::config::from_env(
        "payments",
        &[
            ("DATABASE_URL", db.url.as_str()),
            ("PAYMENTS_FAILURE_RATE", "1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
    )
    .expect("the config loads");
    let shutdown = platform::Shutdown::new();
    let server = tokio::spawn(payments::serve(listeners, config, shutdown.clone()));

    while !platform::grpc_client::is_replica_serving(addr).await {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut payments = PaymentServiceClient::new(channel(addr).await);
    let err = payments
        .charge(ChargeRequest {
            amount: Some(Money {
                currency_code: "USD".into(),
                units: 100,
            }),
            card: Some(CreditCard {
                number: GOOD_CARD.into(),
                expiry_month: 1,
                expiry_year: 2099,
                cvv: "999".into(),
            }),
            idempotency_key: "k".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
    assert!(err.message().contains("injected"));

    shutdown.trigger();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn metrics_and_openapi_are_served() {
    let shop = spawn_shop(Backend::Sqlite).await;
    shop.get_json("/api/v1/products/chef-knife", None).await;

    let metrics = shop
        .http
        .get(format!("{}/metrics", shop.admin))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("http_requests_total{")
                && l.contains("route=\"/api/v1/products/{id}\"")
                && l.contains("status=\"200\"")
                && l.contains("method=\"GET\"")),
        "request count by route, method and status:\n{metrics}"
    );
    assert!(
        metrics.contains("http_request_duration_seconds_bucket{"),
        "a latency histogram"
    );
    let admin = shop
        .http
        .get(format!("http://{}/metrics", shop.addresses.of("catalog").1))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        admin.contains("grpc_server_handled_total{"),
        "gRPC services count calls:\n{admin}"
    );
    let ready = shop
        .http
        .get(format!("http://{}/readyz", shop.addresses.of("catalog").1))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);

    let (status, doc) = shop.get_json("/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/products",
        "/api/v1/session",
        "/api/v1/cart/items",
        "/api/v1/checkout",
        "/api/v1/orders/{id}",
    ] {
        assert!(doc["paths"][path].is_object(), "OpenAPI documents {path}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    shop.stop().await;
}
