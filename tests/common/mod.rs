//! Starting the real shop (every service and the gateway, same `serve` functions as production)
//! on ephemeral ports with fresh databases, and talking to it like a client would.
#![allow(dead_code)] // each test file uses a different part of this module

pub mod processes;

use platform::testing::{Backend, TestDatabase};
use serde_json::{Value, json};
use shop::{Addresses, Databases, RunningShop, ShopOptions};
use std::time::Duration;

/// A client of the shop's REST API, as a shopper's app would be.
pub struct ApiClient {
    /// The gateway's URL.
    pub base: String,
    pub http: reqwest::Client,
}

impl ApiClient {
    pub fn new(base: String) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Self { base, http }
    }
}

pub struct TestShop {
    api: ApiClient,
    /// The gateway's admin URL (`/healthz`, `/readyz`, `/metrics`).
    pub admin: String,
    pub addresses: Addresses,
    pub data_dir: tempfile::TempDir,
    shop: Option<RunningShop>,
    _databases: Vec<TestDatabase>,
}

/// Starts the whole shop on `backend` and waits until every server says it is ready.
pub async fn spawn_shop(backend: Backend) -> TestShop {
    spawn_shop_with(backend, Default::default()).await
}

/// [`spawn_shop`] with more instances of some services (`{"gateway": 2}`), as `shop up --replicas`.
pub async fn spawn_shop_with(
    backend: Backend,
    replicas: std::collections::BTreeMap<String, usize>,
) -> TestShop {
    let data_dir = tempfile::tempdir().unwrap();
    let (databases, keep) = match backend {
        Backend::Sqlite => (Databases::SqliteDir(data_dir.path().to_owned()), vec![]),
        Backend::Postgres => {
            // A fresh database for every service of services.txt that owns one.
            let owners: Vec<String> = shop::services::listed()
                .into_iter()
                .filter(|s| s.database)
                .map(|s| s.name)
                .collect();
            let mut dbs = Vec::new();
            for _ in &owners {
                dbs.push(TestDatabase::new(backend).await);
            }
            let urls = Databases::Urls(
                owners
                    .iter()
                    .zip(&dbs)
                    .map(|(service, db)| (service.clone(), db.url.clone()))
                    .collect(),
            );
            (urls, dbs)
        }
    };
    let options = ShopOptions {
        databases,
        host: "127.0.0.1".parse().unwrap(),
        ephemeral_ports: true,
        fallback_jwt_secret: "test-secret-test-secret-test-secret-0123".into(),
        replicas,
    };
    let shop = shop::start(options).await.expect("starting the shop");
    let (main, admin) = shop.addresses.of("gateway");
    let (base, admin) = (format!("http://{main}"), format!("http://{admin}"));
    shop.wait_ready(Duration::from_secs(60))
        .await
        .expect("every server of the shop becomes ready");
    TestShop {
        api: ApiClient::new(base),
        admin,
        addresses: shop.addresses.clone(),
        data_dir,
        shop: Some(shop),
        _databases: keep,
    }
}

/// Polls `{admin}/readyz` until it answers 200. The bound only turns a hang into a failure.
pub async fn wait_until_ready(http: &reqwest::Client, admin: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(format!("{admin}/readyz")).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{admin}/readyz never answered 200"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A port that was free a moment ago, for a process the test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub const GOOD_CARD: &str = "4111111111111111";
/// Passes every check, then the "issuer" declines it.
pub const DECLINED_CARD: &str = "4000000000000002";

pub fn checkout_body(card: &str) -> Value {
    json!({
        "shipping_address": {"name": "Ann Example", "street": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"},
        "card": {"number": card, "expiry_month": 12, "expiry_year": 2099, "cvv": "123"}
    })
}

impl std::ops::Deref for TestShop {
    type Target = ApiClient;

    fn deref(&self) -> &ApiClient {
        &self.api
    }
}

impl ApiClient {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A new guest session; returns its bearer token.
    pub async fn session(&self, name: &str) -> String {
        let r = self
            .http
            .post(self.url("/api/v1/session"))
            .json(&json!({"name": name}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn add_to_cart(
        &self,
        token: &str,
        product_id: &str,
        quantity: i32,
    ) -> reqwest::Response {
        self.http
            .post(self.url("/api/v1/cart/items"))
            .bearer_auth(token)
            .json(&json!({"product_id": product_id, "quantity": quantity}))
            .send()
            .await
            .unwrap()
    }

    pub async fn checkout(&self, token: &str, key: &str, card: &str) -> reqwest::Response {
        self.http
            .post(self.url("/api/v1/checkout"))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(&checkout_body(card))
            .send()
            .await
            .unwrap()
    }

    /// Checks out as a well-behaved client does: while another attempt with the key is in
    /// progress (409 `checkout_in_progress`), waits the `Retry-After` it is given and tries again.
    /// Returns the final answer and how many times it was told to wait.
    pub async fn checkout_patiently(
        &self,
        token: &str,
        key: &str,
        card: &str,
    ) -> (reqwest::Response, u32) {
        let mut waits = 0;
        loop {
            let r = self.checkout(token, key, card).await;
            if r.status() != 409 || r.headers().get("retry-after").is_none() {
                return (r, waits);
            }
            let seconds: u64 = r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            waits += 1;
            assert!(waits < 60, "still in progress after {waits} waits");
            tokio::time::sleep(Duration::from_secs(seconds)).await;
        }
    }

    pub async fn get_json(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut request = self.http.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let r = request.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

impl TestShop {
    /// Stops every server gracefully and checks that they all ended without error.
    pub async fn stop(mut self) {
        self.shop
            .take()
            .unwrap()
            .stop()
            .await
            .expect("a clean shutdown");
    }
}

/// The error code of a JSON error response, after checking its status.
pub async fn expect_error(response: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(
        response.status().as_u16(),
        status,
        "unexpected status for expected error {code}"
    );
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "errors are JSON"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "body: {body}");
    let message = body["error"]["message"].as_str().unwrap().to_owned();
    assert!(!message.is_empty(), "the error says what is wrong");
    message
}

/// `shop up --ephemeral-ports` as a real process, with extra environment `env`; returns the
/// process, the gateway's URL and its admin URL once every server is ready (`shop up` prints the
/// addresses only then).
pub async fn start_shop_process(
    data_dir: &std::path::Path,
    env: &[(&str, &str)],
) -> (std::process::Child, String, String) {
    let (child, base, admin, _storefront) = start_shop_process_with_storefront(data_dir, env).await;
    (child, base, admin)
}

/// [`start_shop_process`], and the storefront's URL too.
pub async fn start_shop_process_with_storefront(
    data_dir: &std::path::Path,
    env: &[(&str, &str)],
) -> (std::process::Child, String, String, String) {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_shop"))
        .args(["up", "--ephemeral-ports", "--data-dir"])
        .arg(data_dir)
        .envs(env.iter().copied())
        .env_remove("JWT_SECRET")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawning `shop up`");
    let mut lines = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(Result::unwrap);
    let mut find = |prefix: &str| {
        lines
            .find_map(|line| line.strip_prefix(prefix).map(str::to_owned))
            .unwrap_or_else(|| panic!("the shop prints a line {prefix:?}"))
    };
    let base = find("gateway listening on ");
    let admin = find("gateway admin on ");
    let storefront = find("storefront listening on ");
    wait_until_ready(&reqwest::Client::new(), &admin).await;
    (child, base, admin, storefront)
}

/// The container args of the loadgen Deployment, with the gateway's address swapped for `host`.
pub fn loadgen_deployment_args(host: &str) -> (Vec<String>, u64) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/k8s/components/loadgenerator/loadgenerator.yaml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let deployment = serde_norway::Deserializer::from_str(&text)
        .map(|doc| <serde_norway::Value as serde::Deserialize>::deserialize(doc).unwrap())
        .find(|doc| doc["kind"] == "Deployment")
        .expect("a Deployment in loadgenerator.yaml");
    let spec = &deployment["spec"]["template"]["spec"];
    let args = spec["containers"][0]["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().replace("http://gateway", host))
        .collect();
    let grace = spec["terminationGracePeriodSeconds"].as_u64().unwrap();
    (args, grace)
}

/// The sum of the series of metric `name` whose labels contain `label` (every series with `""`),
/// read from `/metrics` at the admin URL `admin`: 0 when there is none.
pub async fn metric_sum(admin: &str, name: &str, label: &str) -> f64 {
    let text = reqwest::get(format!("{admin}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && l.contains(label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
