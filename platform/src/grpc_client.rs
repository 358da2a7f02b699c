//! gRPC client channels: connect and request timeouts, client-side round-robin over every address
//! a backend's DNS name resolves to (a Kubernetes headless Service lists one per ready pod, and a
//! plain connection would pin all calls to one of them), W3C trace context injection, and bounded
//! retries of idempotent calls.

use crate::{
    config::{ConfigError, or_default},
    telemetry,
};
use std::{collections::HashSet, net::SocketAddr, time::Duration};
use tonic::{
    Code, Status,
    body::Body,
    transport::{Channel, Endpoint, Uri, channel::Change},
};
use tower::{BoxError, ServiceBuilder, ServiceExt, util::BoxCloneSyncService};

/// How often a backend's DNS name is resolved again, to follow pods as they come and go.
const RESOLVE_INTERVAL: Duration = Duration::from_secs(5);

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
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub max_retries: u32,
}

impl ClientConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            connect_timeout: Duration::from_millis(or_default("GRPC_CONNECT_TIMEOUT_MS", 1000)?),
            request_timeout: Duration::from_millis(or_default("GRPC_REQUEST_TIMEOUT_MS", 3000)?),
            max_retries: or_default("GRPC_MAX_RETRIES", 2)?,
        })
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(3),
            max_retries: 2,
        }
    }
}

/// Parses a backend URL such as `http://catalog:50051` into host and port.
pub fn parse_backend_url(name: &'static str, url: &str) -> Result<(String, u16), ConfigError> {
    let invalid = |reason: &str| ConfigError::Invalid {
        name,
        value: url.to_owned(),
        reason: reason.to_owned(),
    };
    let uri: Uri = url.parse().map_err(|_| invalid("not a URL"))?;
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
}

/// A lazily connecting, load-balanced channel to `host:port`. Never blocks: calls made while no
/// address is known fail with `DEADLINE_EXCEEDED` after the request timeout.
pub fn balanced_channel(host: String, port: u16, config: &ClientConfig) -> GrpcChannel {
    let (channel, changes) = Channel::balance_channel::<SocketAddr>(16);
    let endpoint_config = config.clone();
    tokio::spawn(async move {
        let mut known = HashSet::new();
        loop {
            match tokio::net::lookup_host((host.as_str(), port)).await {
                Ok(addrs) => {
                    let current: HashSet<SocketAddr> = addrs.collect();
                    for addr in current.difference(&known) {
                        let endpoint = Endpoint::from_shared(format!("http://{addr}"))
                            .expect("a socket address is a valid URI")
                            .connect_timeout(endpoint_config.connect_timeout)
                            .timeout(endpoint_config.request_timeout)
                            .tcp_nodelay(true);
                        if changes.send(Change::Insert(*addr, endpoint)).await.is_err() {
                            return; // every clone of the channel is gone
                        }
                    }
                    for addr in known.difference(&current) {
                        if changes.send(Change::Remove(*addr)).await.is_err() {
                            return;
                        }
                    }
                    known = current;
                }
                Err(e) => {
                    tracing::warn!(%host, error = %e, "resolving backend failed; keeping known addresses")
                }
            }
            tokio::select! {
                () = tokio::time::sleep(RESOLVE_INTERVAL) => {}
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
        .service(channel)
        .map_err(BoxError::from);
    BoxCloneSyncService::new(WithDeadline {
        inner: service,
        timeout,
    })
}

/// Connects to the backend named by a URL read from variable `name`.
pub fn channel_from_url(
    name: &'static str,
    url: &str,
    config: &ClientConfig,
) -> Result<GrpcChannel, ConfigError> {
    let (host, port) = parse_backend_url(name, url)?;
    Ok(balanced_channel(host, port, config))
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
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), ChannelError>> {
        // Readiness of the inner balancer is awaited inside `call`, under the deadline.
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let inner = self.inner.clone();
        let timeout = self.timeout;
        Box::pin(async move {
            match tokio::time::timeout(timeout, inner.oneshot(request)).await {
                Ok(result) => result.map_err(ChannelError),
                Err(_) => Err(ChannelError(Box::new(Status::deadline_exceeded(format!(
                    "no answer from the backend within {} ms",
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

/// Runs an idempotent call, retrying `UNAVAILABLE` up to `max_retries` times with a short backoff.
/// Only for calls that are safe to repeat (reads, or writes with an idempotency key).
///
/// Returns a boxed future: a concrete `Send` type keeps callers inside `#[tonic::async_trait]`
/// clear of rustc's "Send is not general enough" limitation with generic client futures.
pub fn retry_idempotent<'a, T, F, Fut>(
    max_retries: u32,
    mut call: F,
) -> futures::future::BoxFuture<'a, Result<T, Status>>
where
    T: Send + 'a,
    F: FnMut() -> Fut + Send + 'a,
    Fut: Future<Output = Result<T, Status>> + Send + 'a,
{
    Box::pin(async move {
        let mut attempt = 0;
        loop {
            match call().await {
                Err(status) if attempt < max_retries && is_retryable(&status) => {
                    attempt += 1;
                    tracing::debug!(attempt, error = %status.message(), "retrying idempotent call");
                    tokio::time::sleep(Duration::from_millis(50 * 2u64.pow(attempt))).await;
                }
                result => return result,
            }
        }
    })
}

/// Asks a backend's `grpc.health.v1` service whether it is serving.
pub async fn is_serving(channel: GrpcChannel) -> bool {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    match HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
    {
        Ok(response) => response.into_inner().status == ServingStatus::Serving as i32,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_urls_need_http_scheme_host_and_port() {
        assert_eq!(
            parse_backend_url("X", "http://catalog:50051").unwrap(),
            ("catalog".into(), 50051)
        );
        assert_eq!(
            parse_backend_url("X", "http://[::1]:7").unwrap(),
            ("::1".into(), 7)
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
        let mut calls = 0;
        let result: Result<(), Status> = retry_idempotent(2, || {
            calls += 1;
            async { Err(Status::unavailable("down")) }
        })
        .await;
        assert_eq!(result.unwrap_err().code(), Code::Unavailable);
        assert_eq!(calls, 3);

        let mut calls = 0;
        let result: Result<(), Status> = retry_idempotent(2, || {
            calls += 1;
            async { Err(Status::not_found("nope")) }
        })
        .await;
        assert_eq!(result.unwrap_err().code(), Code::NotFound);
        assert_eq!(calls, 1);
    }

    #[tokio::test]
    async fn a_backend_that_is_not_there_fails_within_the_deadline() {
        let config = ClientConfig {
            request_timeout: Duration::from_millis(300),
            ..ClientConfig::default()
        };
        // Port 9 on loopback (discard) has no listener here: connection refused, never a hang.
        let channel = balanced_channel("127.0.0.1".into(), 9, &config);
        assert!(!is_serving(channel).await);
    }
}
