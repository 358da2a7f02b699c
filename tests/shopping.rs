//! A shopper's journey through the gateway's REST API, against the real services, on SQLite and
//! (when a server is given) PostgreSQL.

mod common;

use common::*;
use platform::testing::backends;
use serde_json::Value;

#[tokio::test]
async fn browse_add_to_cart_checkout_and_see_the_order() {
    for backend in backends() {
        let shop = spawn_shop(backend).await;

        // Browse: pages, categories, one product, search.
        let (status, page) = shop.get_json("/api/v1/products?page_size=5", None).await;
        assert_eq!(status, 200);
        assert_eq!(page["products"].as_array().unwrap().len(), 5);
        let next = page["next_page_token"]
            .as_str()
            .expect("more pages follow")
            .to_owned();
        let (_, page2) = shop
            .get_json(
                &format!("/api/v1/products?page_size=5&page_token={next}"),
                None,
            )
            .await;
        assert_ne!(page2["products"][0]["id"], page["products"][0]["id"]);
        let (_, kitchen) = shop
            .get_json("/api/v1/products?category=kitchen", None)
            .await;
        assert!(
            kitchen["products"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["category"] == "kitchen")
        );
        let (status, knife) = shop.get_json("/api/v1/products/chef-knife", None).await;
        assert_eq!(status, 200);
        assert_eq!(knife["price"]["units"], 8900);
        let (_, found) = shop
            .get_json("/api/v1/products/search?q=COFFEE", None)
            .await;
        assert!(
            found["products"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["id"] == "pour-over-coffee-set")
        );

        // Cart: quantities add up; the price comes from the catalog.
        let token = shop.session("Ann").await;
        assert_eq!(
            shop.add_to_cart(&token, "chef-knife", 1).await.status(),
            200
        );
        let cart: Value = shop
            .add_to_cart(&token, "chef-knife", 1)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(cart["items"][0]["quantity"], 2);
        let cart: Value = shop
            .add_to_cart(&token, "tote-bag", 3)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(cart["total"]["units"], 2 * 8900 + 3 * 1900, "{backend:?}");
        let r = shop
            .http
            .delete(shop.url("/api/v1/cart/items/tote-bag"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.json::<Value>().await.unwrap()["items"]
                .as_array()
                .unwrap()
                .len(),
            1
        );

        // Checkout.
        let r = shop.checkout(&token, "order-1", GOOD_CARD).await;
        assert_eq!(r.status(), 201);
        let order: Value = r.json().await.unwrap();
        assert_eq!(order["total"]["units"], 17800);
        assert_eq!(order["total"]["amount"], "178.00");
        assert_eq!(order["lines"][0]["product_name"], "Chef's Knife");
        assert!(!order["transaction_id"].as_str().unwrap().is_empty());

        // The cart is empty; the order is listed and can be fetched.
        let (_, cart) = shop.get_json("/api/v1/cart", Some(&token)).await;
        assert!(cart["items"].as_array().unwrap().is_empty());
        let (_, orders) = shop.get_json("/api/v1/orders", Some(&token)).await;
        assert_eq!(orders["orders"].as_array().unwrap().len(), 1);
        assert_eq!(orders["orders"][0]["id"], order["id"]);
        let (status, fetched) = shop
            .get_json(
                &format!("/api/v1/orders/{}", order["id"].as_str().unwrap()),
                Some(&token),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(fetched, order);

        // Another user sees none of it.
        let other = shop.session("Bob").await;
        let (_, orders) = shop.get_json("/api/v1/orders", Some(&other)).await;
        assert!(orders["orders"].as_array().unwrap().is_empty());
        let (status, _) = shop
            .get_json(
                &format!("/api/v1/orders/{}", order["id"].as_str().unwrap()),
                Some(&other),
            )
            .await;
        assert_eq!(status, 404);

        shop.stop().await;
    }
}

#[tokio::test]
async fn a_declined_card_places_no_order_and_keeps_the_cart() {
    let shop = spawn_shop(platform::testing::Backend::Sqlite).await;
    let token = shop.session("Ann").await;
    shop.add_to_cart(&token, "hammock", 1).await;

    let message = expect_error(
        shop.checkout(&token, "k-declined", DECLINED_CARD).await,
        402,
        "payment_declined",
    )
    .await;
    assert!(message.contains("insufficient funds"), "{message}");
    let message = expect_error(
        shop.checkout(&token, "k-luhn", "4111111111111112").await,
        402,
        "payment_declined",
    )
    .await;
    assert!(message.contains("Luhn"), "{message}");

    let (_, orders) = shop.get_json("/api/v1/orders", Some(&token)).await;
    assert!(orders["orders"].as_array().unwrap().is_empty(), "no order");
    let (_, cart) = shop.get_json("/api/v1/cart", Some(&token)).await;
    assert_eq!(
        cart["items"][0]["product_id"], "hammock",
        "the cart is kept"
    );

    // The shopper fixes the card and the same cart goes through.
    assert_eq!(
        shop.checkout(&token, "k-fixed", GOOD_CARD).await.status(),
        201
    );
    shop.stop().await;
}

#[tokio::test]
async fn checkout_retried_with_the_same_key_creates_one_order_and_one_charge() {
    for backend in backends() {
        let shop = spawn_shop(backend).await;
        let token = shop.session("Ann").await;
        shop.add_to_cart(&token, "e-reader", 1).await;

        // Five concurrent attempts and two late retries with the same key. While one attempt
        // holds the key the others are told 409 checkout_in_progress with a Retry-After, and a
        // client that waits and retries gets the one order.
        let attempts = (0..5).map(|_| shop.checkout_patiently(&token, "same-key", GOOD_CARD));
        let mut orders = Vec::new();
        for (r, _waits) in futures::future::join_all(attempts).await {
            assert_eq!(r.status(), 201, "{backend:?}");
            orders.push(r.json::<Value>().await.unwrap());
        }
        for _ in 0..2 {
            let r = shop.checkout(&token, "same-key", GOOD_CARD).await;
            assert_eq!(r.status(), 201);
            orders.push(r.json().await.unwrap());
        }
        assert!(
            orders.iter().all(|o| o["id"] == orders[0]["id"]),
            "one order id: {orders:?}"
        );
        assert!(
            orders
                .iter()
                .all(|o| o["transaction_id"] == orders[0]["transaction_id"]),
            "one charge"
        );

        let (_, listed) = shop.get_json("/api/v1/orders", Some(&token)).await;
        assert_eq!(listed["orders"].as_array().unwrap().len(), 1, "{backend:?}");

        // A new key is a new checkout: the cart is empty now.
        expect_error(
            shop.checkout(&token, "another-key", GOOD_CARD).await,
            409,
            "cart_empty",
        )
        .await;
        shop.stop().await;
    }
}

#[tokio::test]
async fn an_idempotency_key_is_for_one_request_and_a_long_one_works() {
    let shop = spawn_shop(platform::testing::Backend::Sqlite).await;
    let token = shop.session("Ann").await;
    shop.add_to_cart(&token, "e-reader", 1).await;

    // The longest key the API accepts (200 bytes) places an order: the payment key is derived
    // from the order, not from this key.
    let long_key = "k".repeat(200);
    let r = shop.checkout(&token, &long_key, GOOD_CARD).await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);

    // The same key with another request is refused, and says why.
    let other_card = "5555555555554444";
    let message = expect_error(
        shop.checkout(&token, &long_key, other_card).await,
        422,
        "idempotency_key_reused",
    )
    .await;
    assert!(message.contains("new key"), "{message}");

    // A declined card frees its key: the shopper fixes the card and retries with the same key.
    shop.add_to_cart(&token, "e-reader", 1).await;
    expect_error(
        shop.checkout(&token, "declined-then-fixed", DECLINED_CARD)
            .await,
        402,
        "payment_declined",
    )
    .await;
    let r = shop
        .checkout(&token, "declined-then-fixed", GOOD_CARD)
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    shop.stop().await;
}
