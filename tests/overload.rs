//! A slow dependency and a traffic spike, on a real `shop up` process: a checkout waiting on a slow
//! payments answers 504 within the gateway's budget (the deadline travels down the call path and
//! cancels the work below), and requests beyond the limit in flight are refused at once with 503
//! and a Retry-After instead of piling up.

mod common;

use common::{ApiClient, GOOD_CARD, expect_error};
use std::time::{Duration, Instant};

async fn shopper_with_a_cart(api: &ApiClient, name: &str) -> String {
    let token = api.session(name).await;
    assert_eq!(api.add_to_cart(&token, "hammock", 1).await.status(), 200);
    token
}

#[tokio::test]
async fn a_slow_payments_makes_checkout_answer_504_within_the_budget() {
    let data = tempfile::tempdir().unwrap();
    // Payments takes 30 s; the gateway gives a request 1.5 s in all.
    let (mut shop, base, admin) = common::start_shop_process(
        data.path(),
        &[
            ("PAYMENTS_ADDED_LATENCY_MS", "30000"),
            ("REQUEST_TIMEOUT_MS", "1500"),
        ],
    )
    .await;
    let api = ApiClient::new(base);
    let token = shopper_with_a_cart(&api, "Ann").await;

    let started = Instant::now();
    let r = api.checkout(&token, "slow-payments", GOOD_CARD).await;
    let took = started.elapsed();
    let message = expect_error(r, 504, "deadline_exceeded").await;
    assert!(message.contains("time budget"), "{message}");
    println!("checkout with payments 30 s slow answered 504 after {took:?} (budget 1.5 s)");
    assert!(
        took < Duration::from_secs(30),
        "answered by the budget, not after payments: {took:?}"
    );

    // Nothing stays in flight at the gateway, and the shopper keeps the cart.
    assert_eq!(
        common::metric_sum(
            &admin,
            "http_requests_in_flight",
            "route=\"/api/v1/checkout\""
        )
        .await,
        0.0
    );
    let cart = api.get_json("/api/v1/cart", Some(&token)).await.1;
    assert_eq!(
        cart["items"].as_array().unwrap().len(),
        1,
        "the cart is kept"
    );
    shop.kill().unwrap();
    shop.wait().unwrap();
}

#[tokio::test]
async fn a_spike_beyond_the_limit_is_refused_at_once_with_retry_after() {
    let data = tempfile::tempdir().unwrap();
    // Each server takes 2 requests at once; every checkout holds one for 2 s (a slow payments).
    let (mut shop, base, _admin) = common::start_shop_process(
        data.path(),
        &[
            ("PAYMENTS_ADDED_LATENCY_MS", "2000"),
            ("MAX_IN_FLIGHT_REQUESTS", "2"),
            ("REQUEST_TIMEOUT_MS", "20000"),
        ],
    )
    .await;
    let api = ApiClient::new(base);
    let mut tokens = Vec::new();
    for i in 0..6 {
        tokens.push(shopper_with_a_cart(&api, &format!("shopper-{i}")).await);
    }

    let checkouts = tokens
        .iter()
        .map(|token| api.checkout(token, "spike", GOOD_CARD));
    let answers = futures::future::join_all(checkouts).await;
    let (mut placed, mut refused) = (0, Vec::new());
    for (token, r) in tokens.iter().zip(answers) {
        match r.status().as_u16() {
            201 => placed += 1,
            503 => {
                assert_eq!(r.headers()["retry-after"], "1");
                expect_error(r, 503, "overloaded").await;
                refused.push(token);
            }
            other => panic!("unexpected {other}: {:?}", r.text().await),
        }
    }
    println!(
        "6 checkouts at once, 2 in flight allowed: {placed} placed, {} refused",
        refused.len()
    );
    assert_eq!((placed, refused.len()), (2, 4));

    // Once the spike is over, a refused shopper gets through with the same request.
    let r = api.checkout(refused[0], "spike", GOOD_CARD).await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    shop.kill().unwrap();
    shop.wait().unwrap();
}
