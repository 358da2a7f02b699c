//! The storefront in front of the real shop (every service, the same `serve` functions as
//! production, ephemeral ports): over HTTP, and in a real headless Chromium driven through
//! WebDriver (chromedriver); `WEBDRIVER_BROWSER=firefox` runs the browser tests in Firefox
//! (geckodriver) instead. The browser tests (`in_a_browser_*`) save a screenshot of every page
//! they see under target/screenshots/ (CI keeps them; the docs show them).

mod common;

use common::{TestShop, spawn_shop, spawn_shop_with};
use fantoccini::{Client, ClientBuilder, Locator};
use platform::{Shutdown, grpc_server::Listeners, testing::Backend};
use serde_json::json;
use std::{
    collections::{BTreeMap, BTreeSet},
    os::unix::process::CommandExt,
    process::{Child, Command, Stdio},
    time::Duration,
};
use tokio::net::TcpListener;

fn storefront_url(shop: &TestShop) -> String {
    format!("http://{}", shop.addresses.of("storefront").0)
}

// ---------------------------------------------------------------------------------------------
// Over HTTP

#[tokio::test]
async fn every_product_picture_resolves_and_is_cached() {
    let shop = spawn_shop(Backend::Sqlite).await;
    let web = storefront_url(&shop);
    let http = reqwest::Client::new();
    let products: serde_json::Value = http
        .get(format!("{}/api/v1/products?page_size=100", shop.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let products = products["products"].as_array().unwrap();
    assert_eq!(products.len(), 28);
    for product in products {
        let url = format!("{web}{}", product["picture_url"].as_str().unwrap());
        let picture = http.get(&url).send().await.unwrap();
        assert_eq!(picture.status(), 200, "{url}");
        assert_eq!(picture.headers()["content-type"], "image/svg+xml", "{url}");
        assert_eq!(picture.headers()["cache-control"], "public, max-age=86400");
        let etag = picture.headers()["etag"].clone();
        let again = http
            .get(&url)
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{url}");
    }
    let missing = http
        .get(format!("{web}/static/img/products/nothing.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn every_answer_names_its_pod_and_version_and_the_backends_that_shaped_it() {
    let shop = spawn_shop(Backend::Sqlite).await;
    let http = reqwest::Client::new();
    let product = http
        .get(format!("{}/api/v1/products/chef-knife", shop.base))
        .send()
        .await
        .unwrap();
    assert_eq!(product.status(), 200);
    let h = product.headers();
    assert_eq!(h["x-served-by"], "gateway-1");
    assert_eq!(h["x-shop-version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(h["x-backend-served-by"], "catalog-1");
    assert_eq!(h["x-backend-version"], env!("CARGO_PKG_VERSION"));

    // An answer the gateway made alone names no backend.
    let lost = http
        .get(format!("{}/api/v1/nothing", shop.base))
        .send()
        .await
        .unwrap();
    assert_eq!(lost.status(), 404);
    assert_eq!(lost.headers()["x-served-by"], "gateway-1");
    assert!(!lost.headers().contains_key("x-backend-served-by"));

    // Through the storefront's /api (what the Ingress does in Kubernetes): the gateway's names stay.
    let through = http
        .get(format!(
            "{}/api/v1/products/chef-knife",
            storefront_url(&shop)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(through.status(), 200);
    assert_eq!(through.headers()["x-served-by"], "gateway-1");
    assert_eq!(through.headers()["x-backend-served-by"], "catalog-1");
    let page = http.get(storefront_url(&shop)).send().await.unwrap();
    assert_eq!(page.headers()["x-served-by"], "storefront-1");
}

#[tokio::test]
async fn bad_form_input_and_unknown_pages_read_as_pages_not_error_dumps() {
    let shop = spawn_shop(Backend::Sqlite).await;
    let web = storefront_url(&shop);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = |status: u16, text: &'static str| {
        move |(got, body): (u16, String)| {
            assert_eq!(got, status, "{body}");
            assert!(body.contains(text), "{text:?} in {body}");
            assert!(body.starts_with("<!doctype html>"), "an HTML page: {body}");
        }
    };
    let post = |path: &str, form: &'static str| {
        let request = http
            .post(format!("{web}{path}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form);
        async move {
            let answer = request.send().await.unwrap();
            (answer.status().as_u16(), answer.text().await.unwrap())
        }
    };
    // Not a number, a missing field: the storefront cannot read the form.
    page(400, "could not read")(post("/cart/items", "product_id=chef-knife&quantity=abc").await);
    page(400, "could not read")(post("/cart/items", "quantity=1").await);
    // Read, but the API refuses it: its message, in a page.
    page(400, "quantity must be between 1 and 99")(
        post("/cart/items", "product_id=chef-knife&quantity=500").await,
    );
    page(404, "Not found")(post("/cart/items", "product_id=no-such-thing&quantity=1").await);
    let lost = http
        .get(format!("{web}/no/such/page"))
        .send()
        .await
        .unwrap();
    page(404, "There is no page at this address")((
        lost.status().as_u16(),
        lost.text().await.unwrap(),
    ));
    let product = http
        .get(format!("{web}/products/no-such-thing"))
        .send()
        .await
        .unwrap();
    page(404, "could not find that")((product.status().as_u16(), product.text().await.unwrap()));
}

#[tokio::test]
async fn with_two_gateways_the_storefront_and_its_api_take_turns() {
    let shop = spawn_shop_with(Backend::Sqlite, BTreeMap::from([("gateway".into(), 2)])).await;
    let http = reqwest::Client::new();
    let mut seen = BTreeSet::new();
    for _ in 0..6 {
        let answer = http
            .get(format!(
                "{}/api/v1/products?page_size=1",
                storefront_url(&shop)
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        seen.insert(answer.headers()["x-served-by"].to_str().unwrap().to_owned());
    }
    assert_eq!(
        seen,
        BTreeSet::from(["gateway-1".into(), "gateway-2".into()])
    );
}

// ---------------------------------------------------------------------------------------------
// In a browser

/// A WebDriver session of a headless browser: Chromium through chromedriver (the default, what CI
/// runs), or Firefox through geckodriver with `WEBDRIVER_BROWSER=firefox` (`GECKODRIVER` names the
/// driver); the driver on a free port, in its own process group.
struct Browser {
    client: Client,
    driver: Child,
    /// Where its screenshots go: target/screenshots (Chromium) or target/screenshots/firefox.
    screenshots: &'static str,
}

impl Browser {
    async fn start() -> Self {
        let port = common::free_port();
        let firefox = std::env::var("WEBDRIVER_BROWSER").is_ok_and(|b| b == "firefox");
        let (driver, variable) = if firefox {
            ("geckodriver", "GECKODRIVER")
        } else {
            ("chromedriver", "CHROMEDRIVER")
        };
        // Its own process group, so that a failed test (which never reaches `stop`) kills the
        // browser with it (see Drop).
        let driver = Command::new(std::env::var(variable).unwrap_or(driver.into()))
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "{driver} runs ({e}; Debian: apt-get install chromium chromium-driver; \
                     scripts/test.sh installs them or says why the browser tests were left out)"
                )
            });
        let mut capabilities = serde_json::Map::new();
        if firefox {
            capabilities.insert(
                "moz:firefoxOptions".into(),
                json!({"args": ["-headless", "-width=1280", "-height=900"]}),
            );
        } else {
            let mut chrome = json!({
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", "--no-first-run", "--window-size=1280,900"]
            });
            if let Ok(binary) = std::env::var("CHROMIUM") {
                chrome["binary"] = json!(binary);
            }
            capabilities.insert("goog:chromeOptions".into(), chrome);
        }
        let webdriver = format!("http://127.0.0.1:{port}");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&webdriver)
                .await
            {
                Ok(client) => break client,
                Err(_) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("no WebDriver session from {webdriver}: {e}"),
            }
        };
        let screenshots = if firefox {
            concat!(env!("CARGO_MANIFEST_DIR"), "/target/screenshots/firefox")
        } else {
            concat!(env!("CARGO_MANIFEST_DIR"), "/target/screenshots")
        };
        Self {
            client,
            driver,
            screenshots,
        }
    }

    async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    async fn text(&self, css: &str) -> String {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
            .text()
            .await
            .unwrap()
    }

    async fn fill(&self, name: &str, value: &str) {
        let field = self
            .client
            .find(Locator::Css(&format!("[name='{name}']")))
            .await
            .unwrap();
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    /// Clicks a link or a submit button, then waits for the page it leads to: a new document
    /// (the marker set on this one is gone), fully loaded. Without the wait, the next lookup can
    /// find an element of the page being left (stale, or the old heading).
    async fn click(&self, css: &str) {
        self.client
            .execute("window.__left_behind = true; return null;", vec![])
            .await
            .unwrap();
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} to click: {e}"))
            .click()
            .await
            .unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            // Errors while the page changes are expected: ask again.
            let arrived = self
                .client
                .execute(
                    "return window.__left_behind === undefined && document.readyState === 'complete';",
                    vec![],
                )
                .await;
            if matches!(arrived, Ok(serde_json::Value::Bool(true))) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "clicking {css} led to no new page"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves what the browser shows as target/screenshots/NAME.png (firefox/NAME.png).
    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        std::fs::create_dir_all(self.screenshots).unwrap();
        std::fs::write(format!("{}/{name}.png", self.screenshots), png).unwrap();
    }

    async fn stop(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    /// chromedriver and the Chromium it started, all of its process group.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.wait();
    }
}

/// Fills in the checkout form with `card` and places the order.
async fn check_out(browser: &Browser, web: &str, card: &str) {
    browser.goto(&format!("{web}/checkout")).await;
    for (name, value) in [
        ("name", "Ann Example"),
        ("street", "1 Main St"),
        ("city", "Springfield"),
        ("postal_code", "12345"),
        ("country", "US"),
        ("card_number", card),
        ("expiry_month", "12"),
        ("expiry_year", "2099"),
        ("cvv", "123"),
    ] {
        browser.fill(name, value).await;
    }
    browser.click("#place-order").await;
}

#[tokio::test]
async fn in_a_browser_a_shopper_browses_searches_buys_and_finds_the_order() {
    let shop = spawn_shop(Backend::Sqlite).await;
    let web = storefront_url(&shop);
    let browser = Browser::start().await;

    browser.goto(&web).await;
    assert_eq!(browser.text("h1").await, "Products");
    let cards = browser
        .client
        .find_all(Locator::Css("#products li.card"))
        .await
        .unwrap();
    assert_eq!(cards.len(), 12, "the first page lists 12 products");
    // Every picture on the page loaded (an <img> that failed has no natural width).
    let loaded = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const imgs = [...document.querySelectorAll('#products img')];
             Promise.all(imgs.map(i => i.complete ? 0 : new Promise(r => { i.onload = r; i.onerror = r; })))
               .then(() => done(imgs.filter(i => i.naturalWidth > 0).length));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(loaded, json!(12));
    browser.screenshot("products").await;

    browser.fill("q", "coffee").await;
    browser.click("form.search button").await;
    assert!(browser.text("h1").await.contains("coffee"));
    let found = browser.text("#products").await;
    assert!(found.contains("Pour-Over Coffee Set"), "{found}");
    browser.screenshot("search").await;

    browser.click("#products a").await;
    assert!(browser.text("h1").await.contains("Coffee"));
    browser.fill("quantity", "2").await;
    browser.screenshot("product").await;
    browser.click("#add-to-cart").await;
    assert_eq!(browser.text(".notice").await, "Added to your cart.");
    let cart = browser.text("#cart").await;
    assert!(cart.contains("Pour-Over Coffee Set"), "{cart}");

    // A second product, then change the first's quantity and remove the second.
    browser.goto(&format!("{web}/products/chef-knife")).await;
    browser.click("#add-to-cart").await;
    let rows = browser
        .client
        .find_all(Locator::Css("#cart tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    let knife = "#cart tr[data-product='chef-knife']";
    browser
        .click(&format!("{knife} form[action$='/remove'] button"))
        .await;
    assert_eq!(browser.text(".notice").await, "Removed from your cart.");
    let coffee = "#cart tr[data-product='pour-over-coffee-set']";
    let quantity = browser
        .client
        .find(Locator::Css(&format!("{coffee} input[name='quantity']")))
        .await
        .unwrap();
    quantity.clear().await.unwrap();
    quantity.send_keys("3").await.unwrap();
    browser
        .click(&format!("{coffee} form[action$='/quantity'] button"))
        .await;
    assert_eq!(browser.text(".notice").await, "Your cart is updated.");
    let value = browser
        .client
        .find(Locator::Css(&format!("{coffee} input[name='quantity']")))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(value.as_deref(), Some("3"));
    browser.screenshot("cart").await;

    check_out(&browser, &web, common::GOOD_CARD).await;
    assert_eq!(
        browser.text("#thanks").await,
        "Thank you! Your order is placed."
    );
    let order_id = browser.text("#order-id").await;
    browser.screenshot("order-placed").await;

    browser.goto(&format!("{web}/orders")).await;
    let orders = browser.text("#orders").await;
    assert!(orders.contains(&order_id), "{orders}");
    assert!(orders.contains("Pour-Over Coffee Set"), "{orders}");
    browser.screenshot("orders").await;

    browser.goto(&format!("{web}/cart")).await;
    browser.text("#cart-empty").await;
    browser.stop().await;
}

#[tokio::test]
async fn in_a_browser_a_declined_card_is_explained_and_the_cart_kept() {
    let shop = spawn_shop(Backend::Sqlite).await;
    let web = storefront_url(&shop);
    let browser = Browser::start().await;
    browser.goto(&format!("{web}/products/french-press")).await;
    browser.click("#add-to-cart").await;

    check_out(&browser, &web, common::DECLINED_CARD).await;
    let problem = browser.text("#problem").await;
    assert!(problem.contains("Your card was declined"), "{problem}");
    assert!(problem.contains("cart is kept"), "{problem}");
    assert!(!problem.contains('{'), "no raw JSON: {problem}");
    browser.screenshot("card-declined").await;

    browser.goto(&format!("{web}/cart")).await;
    assert!(browser.text("#cart").await.contains("French Press"));
    // And with a good card the same cart is bought.
    check_out(&browser, &web, common::GOOD_CARD).await;
    browser.text("#thanks").await;
    browser.stop().await;
}

#[tokio::test]
async fn in_a_browser_a_backend_down_reads_as_a_friendly_message() {
    let shop = spawn_shop(Backend::Sqlite).await;
    // A second gateway whose catalog is gone (a port nothing listens on), and a storefront on it.
    let gone = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let catalog = format!("http://{}", gone.local_addr().unwrap());
    drop(gone);
    let (cart, orders) = (shop.addresses.of("cart").0, shop.addresses.of("orders").0);
    let shutdown = Shutdown::new();
    let gateway_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gateway_url = format!("http://{}", gateway_listener.local_addr().unwrap());
    let gateway_config: gateway::Config = platform::config::from_env(
        "gateway",
        &BTreeMap::from([
            ("CATALOG_URL".to_owned(), catalog),
            ("CART_URL".to_owned(), format!("http://{cart}")),
            ("ORDERS_URL".to_owned(), format!("http://{orders}")),
            (
                "JWT_SECRET".to_owned(),
                "test-secret-test-secret-test-secret-0123".to_owned(),
            ),
            ("GRPC_REQUEST_TIMEOUT_MS".to_owned(), "500".to_owned()),
        ]),
    )
    .unwrap();
    tokio::spawn(gateway::serve(
        Listeners {
            main: gateway_listener,
            admin: None,
        },
        gateway_config,
        shutdown.clone(),
    ));
    let web_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let web = format!("http://{}", web_listener.local_addr().unwrap());
    let web_config: storefront::Config = platform::config::from_env(
        "storefront",
        &BTreeMap::from([("GATEWAY_URL".to_owned(), gateway_url)]),
    )
    .unwrap();
    tokio::spawn(storefront::serve(
        Listeners {
            main: web_listener,
            admin: None,
        },
        web_config,
        shutdown.clone(),
    ));

    let browser = Browser::start().await;
    browser.goto(&web).await;
    assert_eq!(
        browser.text("#trouble h1").await,
        "The shop is having trouble right now"
    );
    let message = browser.text("#trouble").await;
    assert!(message.contains("catalog"), "{message}");
    assert!(!message.contains('{'), "no raw JSON: {message}");
    browser.screenshot("backend-down").await;
    // The cart does not need the catalog to be shown.
    browser.goto(&format!("{web}/cart")).await;
    browser.text("#cart-empty").await;
    browser.stop().await;
    shutdown.trigger();
}

#[tokio::test]
async fn in_a_browser_behind_the_scenes_shows_both_gateway_replicas_and_no_failure() {
    let shop = spawn_shop_with(Backend::Sqlite, BTreeMap::from([("gateway".into(), 2)])).await;
    let web = storefront_url(&shop);
    let browser = Browser::start().await;
    browser.goto(&format!("{web}/behind-the-scenes")).await;
    let mut pods = Vec::new();
    for _ in 0..100 {
        pods = browser
            .client
            .execute(
                "return [...document.querySelectorAll('#gateway-pods tbody tr')].map(r => r.dataset.pod)",
                vec![],
            )
            .await
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_owned())
            .collect();
        if pods.len() >= 2 && browser.text("#ok").await.parse::<u32>().unwrap() >= 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(pods, ["gateway-1", "gateway-2"]);
    assert!(browser.text("#backend-pods").await.contains("catalog-1"));
    assert_eq!(browser.text("#failed").await, "0");
    browser.screenshot("behind-the-scenes").await;
    browser.stop().await;
}

#[tokio::test]
async fn in_a_browser_the_api_docs_load_from_the_shop_itself() {
    let shop = spawn_shop(Backend::Sqlite).await;
    let web = storefront_url(&shop);
    let browser = Browser::start().await;
    browser.goto(&format!("{web}/api-docs")).await;
    let title = browser.text(".swagger-ui .info .title").await;
    assert!(title.contains("API"), "{title}");
    browser.text("#operations-products-list_products").await;
    // Every script and stylesheet came from the shop's origin.
    let outside = browser
        .client
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name).filter(u => !u.startsWith(location.origin))",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(outside, json!([]));
    browser.screenshot("api-docs").await;
    browser.stop().await;
}
