//! Checkout under a crash: the orders process is killed (SIGKILL) after the card was charged and
//! before the order was stored, the worst moment. With a retry of the same request, the shopper
//! gets exactly one order and one charge; without one, the charge is voided. Every service runs as
//! its own process (`shop run NAME`, as in its container) on SQLite files the test reads directly.

mod common;

use common::{
    GOOD_CARD, checkout_body,
    processes::{ProcessShop, database_owners, eventually},
};
use serde_json::Value;
use std::time::Duration;

/// The shop as processes on SQLite files in `dir`.
struct Shop {
    _dir: tempfile::TempDir,
    processes: ProcessShop,
}

impl std::ops::Deref for Shop {
    type Target = ProcessShop;
    fn deref(&self) -> &ProcessShop {
        &self.processes
    }
}

impl std::ops::DerefMut for Shop {
    fn deref_mut(&mut self) -> &mut ProcessShop {
        &mut self.processes
    }
}

impl Shop {
    /// Everything but orders, which each test starts as it needs.
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let databases = database_owners()
            .into_iter()
            .map(|s| (s, format!("sqlite://{}/{s}.db", dir.path().display())))
            .collect();
        let mut processes = ProcessShop::new(databases, &[]);
        processes
            .start(&["catalog", "cart", "payments", "gateway"])
            .await;
        Shop {
            _dir: dir,
            processes,
        }
    }

    /// Starts orders and waits until it serves.
    async fn start_orders(&mut self, env: &[(&str, &str)]) {
        self.spawn("orders", env);
        self.wait_serving("orders").await;
    }

    async fn shopper_with_a_full_cart(&self) -> String {
        let token = self.api.session("Ann").await;
        let added = self.api.add_to_cart(&token, "hammock", 2).await;
        assert_eq!(added.status(), 200, "{:?}", added.text().await);
        token
    }

    /// The products in the shopper's cart.
    async fn cart_items(&self, token: &str) -> Vec<Value> {
        let (status, cart) = self.api.get_json("/api/v1/cart", Some(token)).await;
        assert_eq!(status, 200, "{cart}");
        cart["items"].as_array().unwrap().clone()
    }

    /// A checkout whose card is charged and whose orders process is then killed before it
    /// stores the order; returns the shopper's token and the key.
    async fn charged_then_killed(&mut self) -> (String, String) {
        // orders pauses between the charge and the order: the window the test kills it in.
        // Its lease on the key is short, so that the test need not wait long for it to end.
        self.start_orders(&[
            ("ORDERS_PAUSE_AFTER_CHARGE_MS", "600000"),
            ("CHECKOUT_LEASE_SECONDS", "2"),
        ])
        .await;
        let token = self.shopper_with_a_full_cart().await;
        let key = uuid::Uuid::new_v4().to_string();
        let attempt = {
            let (http, url, token, key) = (
                self.api.http.clone(),
                self.api.url("/api/v1/checkout"),
                token.clone(),
                key.clone(),
            );
            tokio::spawn(async move {
                http.post(url)
                    .bearer_auth(token)
                    .header("Idempotency-Key", key)
                    .json(&checkout_body(GOOD_CARD))
                    .send()
                    .await
            })
        };
        eventually("the card is charged", || async {
            self.charges().await.len() == 1
        })
        .await;
        self.kill("orders");
        let answer = attempt.await.unwrap().unwrap();
        assert_eq!(
            answer.status(),
            503,
            "the shopper is told to try again: {:?}",
            answer.text().await
        );
        assert!(self.orders().await.is_empty(), "no order yet");
        (token, key)
    }
}

#[tokio::test]
async fn a_retry_after_orders_is_killed_between_charge_and_order_gives_one_order_and_one_charge() {
    let mut shop = Shop::start().await;
    let (token, key) = shop.charged_then_killed().await;
    shop.start_orders(&[("CHECKOUT_LEASE_SECONDS", "2")]).await;

    // The shopper retries the same request; while the dead attempt's lease lasts the answer is
    // 409 checkout_in_progress with a Retry-After, which the retry honours.
    let order: Value = loop {
        let r = shop.api.checkout(&token, &key, GOOD_CARD).await;
        match r.status().as_u16() {
            201 => break r.json().await.unwrap(),
            409 => {
                let wait: u64 = r.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                let body: Value = r.json().await.unwrap();
                assert_eq!(body["error"]["code"], "checkout_in_progress", "{body}");
                tokio::time::sleep(Duration::from_secs(wait)).await;
            }
            other => panic!("unexpected {other}: {:?}", r.text().await),
        }
    };

    let charges = shop.charges().await;
    let orders = shop.orders().await;
    let order_id = order["id"].as_str().unwrap();
    println!(
        "after the crash and a retry: {} order(s), {} charge(s)",
        orders.len(),
        charges.len()
    );
    assert_eq!(orders.len(), 1, "exactly one order");
    assert_eq!(charges.len(), 1, "exactly one charge");
    let (charge_key, transaction, voided) = &charges[0];
    assert_eq!(charge_key, &format!("order:{order_id}"));
    assert_eq!(orders[0], (order_id.to_owned(), transaction.clone()));
    assert!(!voided);
    assert_eq!(order["transaction_id"], transaction.as_str());

    // The cart was emptied, and one more retry gives the same order again.
    let again: Value = shop
        .api
        .checkout(&token, &key, GOOD_CARD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["id"], order_id);
    assert!(
        shop.cart_items(&token).await.is_empty(),
        "the cart is emptied"
    );
}

#[tokio::test]
async fn without_a_retry_the_charge_of_a_killed_checkout_is_voided() {
    let mut shop = Shop::start().await;
    let (token, key) = shop.charged_then_killed().await;
    // Nobody retries: the restarted orders voids the charge once the checkout is abandoned.
    shop.start_orders(&[
        ("CHECKOUT_LEASE_SECONDS", "1"),
        ("CHECKOUT_ABANDON_AFTER_SECONDS", "1"),
    ])
    .await;
    eventually(
        "the checkout is settled: voided, its charge too",
        || async {
            let settled: Vec<String> = sqlx::query_scalar("SELECT state FROM checkouts")
                .fetch_all(&shop.pool("orders").await)
                .await
                .unwrap();
            settled == ["voided"] && shop.charges().await.iter().all(|(_, _, voided)| *voided)
        },
    )
    .await;
    let charges = shop.charges().await;
    println!(
        "after the crash and no retry: {} order(s), {} charge(s), voided",
        shop.orders().await.len(),
        charges.len()
    );
    assert_eq!(charges.len(), 1);
    assert!(shop.orders().await.is_empty(), "no order");

    // A late retry is told the checkout was abandoned; the cart still holds the products.
    let late = shop.api.checkout(&token, &key, GOOD_CARD).await;
    common::expect_error(late, 409, "checkout_abandoned").await;
    assert_eq!(
        shop.cart_items(&token).await.len(),
        1,
        "the cart keeps its products"
    );
}
