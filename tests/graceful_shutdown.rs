//! SIGTERM on a real `shop up` process: requests in flight complete, new ones are refused, the
//! process exits 0.

mod common;

use std::{process::Command, time::Duration};

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish_and_exits_zero() {
    let data = tempfile::tempdir().unwrap();
    // Every charge takes a while, so a checkout is surely in flight when the signal comes.
    let (mut child, base, admin) = common::start_shop_process(
        data.path(),
        &[
            ("PAYMENTS_ADDED_LATENCY_MS", "1500"),
            ("SHUTDOWN_DRAIN_SECONDS", "20"),
        ],
    )
    .await;
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let token: serde_json::Value = http
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"name": "Ann"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap().to_owned();
    let r = http
        .post(format!("{base}/api/v1/cart/items"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"product_id": "hammock", "quantity": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let checkout = tokio::spawn({
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        async move {
            http.post(format!("{base}/api/v1/checkout"))
                .bearer_auth(token)
                .header("Idempotency-Key", "in-flight")
                .json(&serde_json::json!({
                    "shipping_address": {"name": "Ann", "street": "1 Main St", "city": "Springfield", "postal_code": "1", "country": "US"},
                    "card": {"number": "4111111111111111", "expiry_month": 12, "expiry_year": 2099, "cvv": "123"}
                }))
                .send()
                .await
        }
    });

    // Wait until the gateway reports the checkout in flight, then send SIGTERM.
    loop {
        let metrics = http
            .get(format!("{admin}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if metrics
            .lines()
            .any(|l| l.starts_with("http_requests_in_flight{route=\"/api/v1/checkout\"} 1"))
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the checkout never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());

    // While the checkout drains, the admin port still answers: not ready (503), not refused.
    let drain_deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let ready = http.get(format!("{admin}/readyz")).send().await;
        if ready.as_ref().is_ok_and(|r| r.status() == 503) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < drain_deadline && !checkout.is_finished(),
            "/readyz never answered 503 during the drain: {ready:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let response = checkout
        .await
        .unwrap()
        .expect("the in-flight request got an answer");
    assert_eq!(response.status(), 201, "the in-flight checkout completed");

    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0), "exit code after SIGTERM");
    assert!(
        http.get(format!("{base}/api/v1/products"))
            .send()
            .await
            .is_err()
            && http.get(format!("{admin}/healthz")).send().await.is_err(),
        "nothing listens any more"
    );
}
