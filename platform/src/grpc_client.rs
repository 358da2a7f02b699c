//! gRPC client channels: connect and request timeouts, client-side load balancing over every address
//! a backend's DNS name resolves to (a Kubernetes headless Service lists one per ready pod, and a
//! plain connection would pin all calls to one of them), W3C trace context injection, and bounded
//! retries of idempotent calls.

use crate::{config::ConfigError, telemetry};
use futures::future::join_all;
use std::{
    collections::{HashMap, HashSet},
    net::SocketAddr,
    sync::Arc,
    time::Duration,
};
use tonic::{
    Code, Status,
    body::Body,
    transport::{Channel, Endpoint, Uri, channel::Change},
};
use tower::{
    BoxError, ServiceBuilder, ServiceExt,
    retry::budget::{Budget, TpsBudget},
    util::BoxCloneSyncService,
};

/// Longest wait for a replica's health check; a slower replica counts as not ready.
const HEALTH_CHECK_TIMEOUT: Duration = Duration::from_millis(800);

/// A channel to one backend, as every generated client takes it.
pub type GrpcChannel = BoxCloneSyncService<http::Request<Body>, http::Response<Body>, ChannelError>;

/// A failed call below gRPC (connect, transport, deadline). A concrete type rather than a boxed
/// trait object, which keeps client futures clear of rustc's "not general enough" errors inside
/// `async_trait`; tonic still finds the cause (and its gRPC code) through `source()`.
#[derive(Debug)]
pub struct ChannelError(BoxError);

impl std::fmt::Display for ChannelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ChannelError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// Timeouts and retries of calls to other services.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientConfig {
    /// Milliseconds to wait for a connection to a backend.
    #[arg(long = "grpc-connect-timeout-ms", env = "GRPC_CONNECT_TIMEOUT_MS", value_name = "MS",
          default_value = "1000", value_parser = crate::config::parse::millis)]
    pub connect_timeout: Duration,
    /// Milliseconds a call may take.
    #[arg(long = "grpc-request-timeout-ms", env = "GRPC_REQUEST_TIMEOUT_MS", value_name = "MS",
          default_value = "3000", value_parser = crate::config::parse::millis)]
    pub request_timeout: Duration,
    /// Retries of an idempotent call that failed with UNAVAILABLE.
    #[arg(long = "grpc-max-retries", env = "GRPC_MAX_RETRIES", value_name = "N", default_value = "2",
          value_parser = clap::value_parser!(u32).range(0..=10))]
    pub max_retries: u32,
    /// Milliseconds between re-resolving backend names and health-checking their replicas.
    #[arg(long = "grpc-discovery-interval-ms", env = "GRPC_DISCOVERY_INTERVAL_MS", value_name = "MS",
          default_value = "1000", value_parser = crate::config::parse::millis)]
    pub discovery_interval: Duration,
}

impl Default for ClientConfig {
    /// The defaults declared above (tested to agree).
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(3),
            max_retries: 2,
            discovery_interval: Duration::from_secs(1),
        }
    }
}

/// A checked backend URL, for `#[arg(value_parser = backend_url)]`.
pub fn backend_url(url: &str) -> Result<String, String> {
    parse_backend_url("", url)
        .map(|_| url.trim().to_owned())
        .map_err(|e| match e {
            ConfigError::Invalid { reason, .. } => reason,
            other => other.to_string(),
        })
}

/// Parses a backend URL such as `http://catalog:50051` into host and port. A comma-separated list
/// (`http://10.0.0.7:50051,http://10.0.0.8:50051`) names several replicas without DNS.
pub fn parse_backend_url(name: &str, url: &str) -> Result<Vec<(String, u16)>, ConfigError> {
    let invalid = |reason: &str| ConfigError::Invalid {
        name: name.to_owned(),
        value: url.to_owned(),
        reason: reason.to_owned(),
    };
    url.split(',')
        .map(|one| {
            let uri: Uri = one.trim().parse().map_err(|_| invalid("not a URL"))?;
            if uri.scheme_str() != Some("http") {
                return Err(invalid(
                    "must start with http:// (plaintext gRPC inside the cluster)",
                ));
            }
            let host = uri
                .host()
                .ok_or_else(|| invalid("has no host"))?
                .trim_matches(['[', ']'])
                .to_owned();
            let port = uri.port_u16().ok_or_else(|| invalid("has no port"))?;
            Ok((host, port))
        })
        .collect()
}

/// A lazily connecting channel that spreads calls over every replica behind `targets` (tower's
/// power-of-two-choices balancer: of two random replicas, the one with fewer calls in flight).
///
/// A background task re-resolves the targets every `discovery_interval` and health-checks each
/// address (`grpc.health.v1`); only addresses that answer SERVING receive calls. So a replica that
/// starts shutting down (it reports NOT_SERVING first) stops getting new calls, and a new replica
/// gets its share as soon as it is ready. The task ends when the last clone of the channel is
/// dropped. Never blocks: calls made while no replica is usable fail with `DEADLINE_EXCEEDED`
/// after the request timeout.
pub fn balanced_channel(targets: Vec<(String, u16)>, config: &ClientConfig) -> GrpcChannel {
    let (channel, changes) = Channel::balance_channel::<SocketAddr>(16);
    let config_for_task = config.clone();
    tokio::spawn(async move {
        let config = config_for_task;
        let mut health_channels: HashMap<SocketAddr, Channel> = HashMap::new();
        let mut in_use: HashSet<SocketAddr> = HashSet::new();
        loop {
            if let Some(resolved) = resolve(&targets).await {
                health_channels.retain(|addr, _| resolved.contains(addr));
                for addr in &resolved {
                    health_channels
                        .entry(*addr)
                        .or_insert_with(|| endpoint(*addr, &config).connect_lazy());
                }
            }
            let checks = health_channels.iter().map(|(addr, ch)| {
                let ch = ch.clone();
                async move { (*addr, check_serving(ch).await) }
            });
            let healthy: HashSet<SocketAddr> = join_all(checks)
                .await
                .into_iter()
                .filter(|(_, ok)| *ok)
                .map(|(addr, _)| addr)
                .collect();
            for addr in healthy.difference(&in_use) {
                tracing::debug!(%addr, "backend replica ready: adding");
                if changes
                    .send(Change::Insert(*addr, endpoint(*addr, &config)))
                    .await
                    .is_err()
                {
                    return; // every clone of the channel is gone
                }
            }
            for addr in in_use.difference(&healthy) {
                tracing::debug!(%addr, "backend replica gone or not ready: removing");
                if changes.send(Change::Remove(*addr)).await.is_err() {
                    return;
                }
            }
            in_use = healthy;
            tokio::select! {
                () = tokio::time::sleep(config.discovery_interval) => {}
                () = changes.closed() => return,
            }
        }
    });

    let timeout = config.request_timeout;
    let service = ServiceBuilder::new()
        .map_request(|mut request: http::Request<Body>| {
            telemetry::inject_current_context(request.headers_mut());
            request
        })
        .map_response(|response: http::Response<Body>| {
            crate::identity::record_backend(response.headers());
            response
        })
        .service(channel)
        .map_err(BoxError::from);
    BoxCloneSyncService::new(WithDeadline {
        inner: service,
        timeout,
    })
}

fn endpoint(addr: SocketAddr, config: &ClientConfig) -> Endpoint {
    Endpoint::from_shared(format!("http://{addr}"))
        .expect("a socket address is a valid URI")
        .connect_timeout(config.connect_timeout)
        .timeout(config.request_timeout)
        .tcp_nodelay(true)
}

/// Every address the targets resolve to; `None` if none resolves (keep what is known).
async fn resolve(targets: &[(String, u16)]) -> Option<HashSet<SocketAddr>> {
    let mut all = HashSet::new();
    let mut any_resolved = false;
    for (host, port) in targets {
        match tokio::net::lookup_host((host.as_str(), *port)).await {
            Ok(addrs) => {
                any_resolved = true;
                all.extend(addrs);
            }
            Err(e) => tracing::warn!(%host, error = %e, "resolving backend failed"),
        }
    }
    any_resolved.then_some(all)
}

/// Whether the replica at `addr` answers SERVING to a brief health check.
pub async fn is_replica_serving(addr: SocketAddr) -> bool {
    check_serving(endpoint(addr, &ClientConfig::default()).connect_lazy()).await
}

/// Asks one replica's health service, briefly.
async fn check_serving(channel: Channel) -> bool {
    is_serving(BoxCloneSyncService::new(
        channel.map_err(|e| ChannelError(Box::new(e))),
    ))
    .await
}

/// Connects to the backend(s) named by a URL read from variable `name`.
pub fn channel_from_url(
    name: &'static str,
    url: &str,
    config: &ClientConfig,
) -> Result<GrpcChannel, ConfigError> {
    Ok(balanced_channel(parse_backend_url(name, url)?, config))
}

/// Bounds every call, including the time spent waiting for a usable backend address, and reports
/// an overrun as `DEADLINE_EXCEEDED`.
#[derive(Clone)]
struct WithDeadline<S> {
    inner: S,
    timeout: Duration,
}

impl<S> tower::Service<http::Request<Body>> for WithDeadline<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>, Error = BoxError>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
{
    type Response = http::Response<Body>;
    type Error = ChannelError;
    type Future = futures::future::BoxFuture<'static, Result<Self::Response, ChannelError>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), ChannelError>> {
        // The channel is a queue in front of the balancer: it is ready when the queue has room.
        // Waiting for a usable replica happens after `call`, under the deadline below.
        self.inner.poll_ready(cx).map_err(ChannelError)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        // The call's own bound, or the time left of the request being served, if shorter; the
        // callee learns it from `grpc-timeout` and passes on what is left in turn.
        let (timeout, budget) = match crate::deadline::remaining() {
            Some(left) if left < self.timeout => (left, "the request's remaining deadline"),
            _ => (self.timeout, "GRPC_REQUEST_TIMEOUT_MS"),
        };
        if let Ok(value) = http::HeaderValue::from_str(&crate::deadline::grpc_timeout(timeout)) {
            request.headers_mut().insert("grpc-timeout", value);
        }
        let call = (!timeout.is_zero()).then(|| self.inner.call(request));
        Box::pin(async move {
            let Some(call) = call else {
                return Err(ChannelError(Box::new(Status::deadline_exceeded(
                    "the request's deadline has passed",
                ))));
            };
            match tokio::time::timeout(timeout, call).await {
                Ok(result) => result.map_err(ChannelError),
                Err(_) => Err(ChannelError(Box::new(Status::deadline_exceeded(format!(
                    "no answer from the backend within {} ms ({budget})",
                    timeout.as_millis()
                ))))),
            }
        })
    }
}

/// Whether a failed call may be retried: the backend was not reached or is restarting.
pub fn is_retryable(status: &Status) -> bool {
    status.code() == Code::Unavailable
}

/// How a caller retries its idempotent calls to one backend: `UNAVAILABLE` up to `max` times per
/// call, with exponential backoff and jitter (backon), and within a retry budget shared by every
/// call to that backend (tower's `TpsBudget`: retries may add at most 20% to the calls of the last
/// 10 s, plus 5 per second). So a backend that is down gets a trickle of retries, not a multiple of
/// the traffic, and callers retrying together do not hit a recovering backend in lockstep.
///
/// Retries happen in one layer per call path: each service retries the calls it makes, and a
/// caller does not retry a call whose callee retries its own calls on that path (the gateway does
/// not retry PlaceOrder; orders retries Charge). docs/reliability.md lists them.
#[derive(Clone)]
pub struct Retries {
    max: u32,
    budget: Arc<TpsBudget>,
}

impl std::fmt::Debug for Retries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Retries")
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl Retries {
    pub fn new(max: u32) -> Self {
        Self {
            max,
            budget: Arc::new(TpsBudget::new(Duration::from_secs(10), 5, 0.2)),
        }
    }

    /// Runs an idempotent call with these retries. Only for calls that are safe to repeat (reads,
    /// or writes with an idempotency key).
    ///
    /// Returns a boxed future: a concrete `Send` type keeps callers inside `#[tonic::async_trait]`
    /// clear of rustc's "Send is not general enough" limitation with generic client futures.
    pub fn run<'a, T, F, Fut>(
        &self,
        mut call: F,
    ) -> futures::future::BoxFuture<'a, Result<T, Status>>
    where
        T: Send + 'a,
        F: FnMut() -> Fut + Send + 'a,
        Fut: Future<Output = Result<T, Status>> + Send + 'a,
    {
        use backon::{ExponentialBuilder, Retryable};
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_secs(1))
            .with_max_times(self.max as usize)
            .with_jitter();
        let budget = self.budget.clone();
        budget.deposit();
        Box::pin(
            (move || call())
                .retry(backoff)
                .sleep(tokio::time::sleep)
                .when(move |status: &Status| {
                    is_retryable(status) && {
                        let allowed = budget.withdraw();
                        if !allowed {
                            tracing::debug!("retry budget spent: not retrying");
                        }
                        allowed
                    }
                })
                .notify(|status: &Status, after: Duration| {
                    tracing::debug!(error = %status.message(), ?after, "retrying idempotent call");
                }),
        )
    }
}

/// Whether a backend (any of its replicas) answers its `grpc.health.v1` check as serving, within
/// a short bound so that a readiness probe never hangs.
pub async fn is_serving(channel: GrpcChannel) -> bool {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    let mut client = HealthClient::new(channel);
    let check = client.check(HealthCheckRequest {
        service: String::new(),
    });
    matches!(
        tokio::time::timeout(HEALTH_CHECK_TIMEOUT, check).await,
        Ok(Ok(response)) if response.get_ref().status == ServingStatus::Serving as i32
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser)]
    struct OnlyClient {
        #[command(flatten)]
        client: ClientConfig,
    }

    #[test]
    fn the_default_client_config_is_the_declared_default() {
        let declared: OnlyClient =
            crate::config::from_env("test", &Default::default()).expect("defaults load");
        assert_eq!(
            format!("{:?}", declared.client),
            format!("{:?}", ClientConfig::default())
        );
    }

    #[test]
    fn backend_urls_need_http_scheme_host_and_port() {
        assert_eq!(
            parse_backend_url("X", "http://catalog:50051").unwrap(),
            [("catalog".into(), 50051)]
        );
        assert_eq!(
            parse_backend_url("X", "http://[::1]:7, http://10.0.0.8:7").unwrap(),
            [("::1".into(), 7), ("10.0.0.8".into(), 7)]
        );
        assert!(
            parse_backend_url("X", "https://catalog:50051")
                .unwrap_err()
                .to_string()
                .contains("X")
        );
        assert!(parse_backend_url("X", "http://catalog").is_err());
        assert!(parse_backend_url("X", "catalog:50051").is_err());
    }

    #[tokio::test]
    async fn retries_unavailable_but_not_other_errors() {
        let retries = Retries::new(2);
        let mut calls = 0;
        let result: Result<(), Status> = retries
            .run(|| {
                calls += 1;
                async { Err(Status::unavailable("down")) }
            })
            .await;
        assert_eq!(result.unwrap_err().code(), Code::Unavailable);
        assert_eq!(calls, 3);

        let mut calls = 0;
        let result: Result<(), Status> = retries
            .run(|| {
                calls += 1;
                async { Err(Status::not_found("nope")) }
            })
            .await;
        assert_eq!(result.unwrap_err().code(), Code::NotFound);
        assert_eq!(calls, 1);
    }

    #[tokio::test]
    async fn a_backend_that_stays_down_gets_a_budget_of_retries_not_a_multiple_of_the_calls() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let retries = Retries::new(3);
        let attempts = Arc::new(AtomicU32::new(0));
        let calls = (0..200).map(|_| {
            let attempts = attempts.clone();
            retries.run(move || {
                attempts.fetch_add(1, Ordering::Relaxed);
                async { Err::<(), _>(Status::unavailable("down")) }
            })
        });
        futures::future::join_all(calls).await;
        let attempts = attempts.load(Ordering::Relaxed);
        // Without a budget: 200 x (1 + 3) = 800. With it: 200, the reserve (5/s over 10 s) and 20%.
        assert!(
            (200..=200 + 50 + 40 + 10).contains(&attempts),
            "{attempts} attempts for 200 calls"
        );
    }

    #[tokio::test]
    async fn a_backend_that_is_not_there_fails_within_the_deadline() {
        let config = ClientConfig {
            request_timeout: Duration::from_millis(300),
            ..ClientConfig::default()
        };
        // Port 9 on loopback (discard) has no listener here: connection refused, never a hang.
        let channel = balanced_channel(vec![("127.0.0.1".into(), 9)], &config);
        assert!(!is_serving(channel).await);
    }
}
