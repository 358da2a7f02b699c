//! Shoppers against the gateway, on the goose load-testing framework: each simulated user starts
//! a session, then repeats a journey (browse, view, search, add to cart, view cart, checkout, list
//! orders) with think time between steps. Used by the `loadgen` binary, the cluster's load
//! generator Deployment, and the rolling-update tests.

use goose::{config::GooseConfiguration, goose::GooseResponse, prelude::*};
use rand::seq::IndexedRandom;
use serde_json::{Value, json};
use std::{
    collections::BTreeMap,
    sync::{Mutex, PoisonError},
    time::Duration,
};

/// Answers by who gave them: (role, pod, version) -> count, from each response's `x-served-by` /
/// `x-shop-version` (role `gateway`) and `x-backend-served-by` / `x-backend-version` (role
/// `backend`). Goose's metrics keep no headers, so every request records here.
static ANSWERED_BY: Mutex<BTreeMap<(String, String, String), usize>> = Mutex::new(BTreeMap::new());

fn record_answer(goose: &GooseResponse) {
    let Ok(response) = &goose.response else {
        return;
    };
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let list = |value: &str| -> Vec<String> {
        value
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let mut answered = ANSWERED_BY.lock().unwrap_or_else(PoisonError::into_inner);
    let pod = header("x-served-by");
    if !pod.is_empty() {
        let key = (
            "gateway".into(),
            pod.into(),
            header("x-shop-version").into(),
        );
        *answered.entry(key).or_default() += 1;
    }
    let versions = list(header("x-backend-version"));
    for (i, pod) in list(header("x-backend-served-by")).into_iter().enumerate() {
        let version = versions.get(i).cloned().unwrap_or_default();
        *answered
            .entry(("backend".into(), pod, version))
            .or_default() += 1;
    }
}

/// What one simulated shopper remembers between steps.
#[derive(Clone)]
struct Shopper {
    token: String,
    product_ids: Vec<String>,
}

/// The shopper scenario, with a random think time in `think` between steps.
pub fn shopper_scenario(think: (Duration, Duration)) -> Result<Scenario, GooseError> {
    let scenario = scenario!("shopper")
        .register_transaction(
            transaction!(start_session)
                .set_on_start()
                .set_name("start session"),
        )
        .register_transaction(transaction!(browse).set_name("browse"))
        .register_transaction(transaction!(view_product).set_name("view product"))
        .register_transaction(transaction!(search).set_name("search"))
        .register_transaction(transaction!(add_to_cart).set_name("add to cart"))
        .register_transaction(transaction!(view_cart).set_name("view cart"))
        .register_transaction(transaction!(checkout).set_name("checkout"))
        .register_transaction(transaction!(list_orders).set_name("list orders"));
    if think.1.is_zero() {
        Ok(scenario)
    } else {
        scenario.set_wait_time(think.0, think.1)
    }
}

/// A goose attack of shoppers with `config` (host, users, increase rate, run time...).
pub fn attack(
    config: GooseConfiguration,
    think: (Duration, Duration),
) -> Result<GooseAttack, GooseError> {
    Ok(GooseAttack::initialize_with_config(config)?.register_scenario(shopper_scenario(think)?))
}

/// A quiet goose configuration for programs and tests (no controllers, no printed tables).
pub fn quiet_config(host: &str, users: usize, run_time: Duration) -> GooseConfiguration {
    let mut config = GooseConfiguration::default();
    config.host = Some(host.to_owned());
    config.users = Some(users);
    config.increase_rate = Some(users.to_string());
    config.run_time = Some(run_time.as_secs().max(1).to_string());
    // No controllers: telnet off here, WebSocket off unless asked for (goose 0.19).
    config.no_telnet = true;
    config.no_print_metrics = true;
    config.no_error_summary = true;
    config.quiet = 1;
    config
}

/// The JSON body of a response, or the request marked failed with `why`.
async fn json_body(
    user: &mut GooseUser,
    goose: GooseResponse,
    why: &str,
) -> Result<Value, Box<TransactionError>> {
    record_answer(&goose);
    let GooseResponse {
        mut request,
        response,
    } = goose;
    match response {
        Ok(response) => match response.json::<Value>().await {
            Ok(value) => Ok(value),
            Err(_) => user
                .set_failure(why, &mut request, None, None)
                .map(|_| Value::Null),
        },
        Err(_) => user
            .set_failure(why, &mut request, None, None)
            .map(|_| Value::Null),
    }
}

async fn send(
    user: &mut GooseUser,
    method: GooseMethod,
    path: &str,
    name: &str,
    body: Option<Value>,
    key: Option<String>,
) -> TransactionResult {
    let mut builder = user.get_request_builder(&method, path)?;
    if let Some(shopper) = user.get_session_data::<Shopper>() {
        builder = builder.bearer_auth(&shopper.token);
    }
    if let Some(body) = body {
        builder = builder.json(&body);
    }
    if let Some(key) = key {
        builder = builder.header("Idempotency-Key", key);
    }
    let request = GooseRequest::builder()
        .method(method)
        .path(path)
        .name(name)
        .set_request_builder(builder)
        .build();
    let goose = user.request(request).await?;
    record_answer(&goose);
    Ok(())
}

async fn start_session(user: &mut GooseUser) -> TransactionResult {
    let goose = user
        .post_json("/api/v1/session", &json!({"name": "loadgen"}))
        .await?;
    let session = json_body(user, goose, "session: no JSON body").await?;
    let Some(token) = session["token"].as_str().map(str::to_owned) else {
        return Ok(()); // the failed request is counted; the next iteration tries again
    };
    let goose = user.get("/api/v1/products?page_size=100").await?;
    let page = json_body(user, goose, "products: no JSON body").await?;
    let product_ids: Vec<String> = page["products"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["id"].as_str().map(str::to_owned))
        .collect();
    user.set_session_data(Shopper { token, product_ids });
    Ok(())
}

fn random_product(user: &GooseUser) -> String {
    user.get_session_data::<Shopper>()
        .and_then(|shopper| shopper.product_ids.choose(&mut rand::rng()).cloned())
        .unwrap_or_else(|| "chef-knife".to_owned())
}

async fn browse(user: &mut GooseUser) -> TransactionResult {
    send(
        user,
        GooseMethod::Get,
        "/api/v1/products?page_size=12",
        "/api/v1/products",
        None,
        None,
    )
    .await
}

async fn view_product(user: &mut GooseUser) -> TransactionResult {
    let path = format!("/api/v1/products/{}", random_product(user));
    send(
        user,
        GooseMethod::Get,
        &path,
        "/api/v1/products/{id}",
        None,
        None,
    )
    .await
}

async fn search(user: &mut GooseUser) -> TransactionResult {
    let q = ["coffee", "wool", "lamp", "shoes", "tent"]
        .choose(&mut rand::rng())
        .copied()
        .unwrap_or("coffee");
    send(
        user,
        GooseMethod::Get,
        &format!("/api/v1/products/search?q={q}"),
        "/api/v1/products/search",
        None,
        None,
    )
    .await
}

async fn add_to_cart(user: &mut GooseUser) -> TransactionResult {
    let body = json!({"product_id": random_product(user), "quantity": 1});
    send(
        user,
        GooseMethod::Post,
        "/api/v1/cart/items",
        "/api/v1/cart/items",
        Some(body),
        None,
    )
    .await
}

async fn view_cart(user: &mut GooseUser) -> TransactionResult {
    send(
        user,
        GooseMethod::Get,
        "/api/v1/cart",
        "/api/v1/cart",
        None,
        None,
    )
    .await
}

async fn checkout(user: &mut GooseUser) -> TransactionResult {
    let body = json!({
        "shipping_address": {"name": "Load Generator", "street": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"},
        "card": {"number": "4111111111111111", "expiry_month": 12, "expiry_year": 2099, "cvv": "123"}
    });
    let key = uuid::Uuid::new_v4().to_string();
    send(
        user,
        GooseMethod::Post,
        "/api/v1/checkout",
        "/api/v1/checkout",
        Some(body),
        Some(key),
    )
    .await
}

async fn list_orders(user: &mut GooseUser) -> TransactionResult {
    send(
        user,
        GooseMethod::Get,
        "/api/v1/orders",
        "/api/v1/orders",
        None,
        None,
    )
    .await
}

/// The numbers that matter after a run.
#[derive(Debug, Clone)]
pub struct Summary {
    pub requests: usize,
    pub failures: usize,
    /// Failed requests by kind: `503 POST /cart/items`, or the transport error.
    pub failures_by_kind: BTreeMap<String, usize>,
    pub duration: Duration,
    pub latency_ms: Percentiles,
    /// Answers by (role, pod, version): which gateway pods served the requests and which backend
    /// pods they asked, in which release (a rolling update shows the switch-over here).
    pub answered_by: BTreeMap<(String, String, String), usize>,
}

#[derive(Debug, Clone, Default)]
pub struct Percentiles {
    pub p50: usize,
    pub p90: usize,
    pub p99: usize,
    pub max: usize,
}

impl Summary {
    /// The summary of a finished run (it takes the answers recorded so far, so that the next run
    /// in the same process starts from none).
    pub fn from_metrics(metrics: &GooseMetrics) -> Self {
        let mut requests = 0;
        let mut failures = 0;
        let mut failures_by_kind = BTreeMap::new();
        // Response times in microseconds (goose's buckets, by their fastest time), shown in ms.
        let mut times: BTreeMap<u64, usize> = BTreeMap::new();
        let mut max = 0;
        for (name, aggregate) in &metrics.requests {
            requests += aggregate.success_count + aggregate.fail_count;
            failures += aggregate.fail_count;
            for (status, count) in &aggregate.status_code_counts {
                if !(200..300).contains(status) {
                    *failures_by_kind
                        .entry(format!("{status} {name}"))
                        .or_default() += count;
                }
            }
            for (us, count) in &aggregate.raw_data.times_us {
                *times.entry(*us).or_default() += count;
            }
            max = max.max(aggregate.raw_data.maximum_time_us);
        }
        for error in metrics.errors.values() {
            if !error.error.starts_with(|c: char| c.is_ascii_digit()) {
                *failures_by_kind
                    .entry(format!("{}: {}", error.name, error.error))
                    .or_default() += error.occurrences;
            }
        }
        let total: usize = times.values().sum();
        let percentile = |p: f64| {
            let target = ((total as f64) * p).ceil() as usize;
            let mut seen = 0;
            times
                .iter()
                .find(|(_, count)| {
                    seen += **count;
                    seen >= target
                })
                .map_or(0, |(us, _)| *us)
        };
        let ms = |us: u64| ((us + 500) / 1000) as usize;
        Summary {
            requests,
            failures,
            failures_by_kind,
            duration: Duration::from_secs(metrics.duration as u64),
            latency_ms: Percentiles {
                p50: ms(percentile(0.50)),
                p90: ms(percentile(0.90)),
                p99: ms(percentile(0.99)),
                max: ms(max),
            },
            answered_by: std::mem::take(
                &mut *ANSWERED_BY.lock().unwrap_or_else(PoisonError::into_inner),
            ),
        }
    }

    pub fn throughput(&self) -> f64 {
        self.requests as f64 / self.duration.as_secs_f64().max(1.0)
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "requests     {}", self.requests)?;
        writeln!(f, "failures     {}", self.failures)?;
        for (kind, count) in &self.failures_by_kind {
            writeln!(f, "  {count:>8}  {kind}")?;
        }
        writeln!(
            f,
            "throughput   {:.1} req/s over {} s",
            self.throughput(),
            self.duration.as_secs()
        )?;
        let l = &self.latency_ms;
        write!(
            f,
            "latency ms   p50 {}  p90 {}  p99 {}  max {}",
            l.p50, l.p90, l.p99, l.max
        )?;
        if !self.answered_by.is_empty() {
            write!(f, "\nanswered by  (role, pod, version: answers)")?;
            for ((role, pod, version), count) in &self.answered_by {
                write!(f, "\n  {role:<8} {pod:<40} {version:<24} {count:>8}")?;
            }
        }
        Ok(())
    }
}
