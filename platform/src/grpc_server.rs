//! Serving a gRPC service the same way everywhere: health protocol, reflection, tracing with W3C
//! context from the caller, metrics, an admin HTTP listener and a bounded graceful drain.

use crate::{admin, config::ServerArgs, health::Readiness, shutdown::Shutdown, telemetry};
use futures::future::BoxFuture;
use std::{
    task::{Context, Poll},
    time::Instant,
};
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::service::Routes;
use tower::Service;
use tower_http::trace::TraceLayer;

const HEALTH_SERVICE: &str = "grpc.health.v1.Health";

/// The sockets a service listens on: bound by the caller, so tests and the all-in-one command
/// can use any port (port 0 included).
pub struct Listeners {
    pub main: TcpListener,
    pub admin: Option<TcpListener>,
}

/// What a gRPC server is called and what it serves.
pub struct GrpcServer {
    /// Short name, e.g. `catalog`, used in logs.
    pub name: &'static str,
    /// Full gRPC service names, e.g. `shop.catalog.v1.CatalogService`, reported by the health service
    /// and listed by reflection.
    pub services: &'static [&'static str],
    /// The encoded file descriptor set that describes `services` (e.g. `shop_proto::FILE_DESCRIPTOR_SET`).
    pub descriptors: &'static [u8],
    /// Its settings: how it shuts down, how many calls it takes at once.
    pub server: ServerArgs,
}

impl GrpcServer {
    /// Serves `routes` until `shutdown`, then stops as the shutdown policy says.
    pub async fn serve(
        self,
        routes: Routes,
        listeners: Listeners,
        shutdown: Shutdown,
    ) -> anyhow::Result<()> {
        // Counts from the first call on, not from the first scrape.
        crate::metrics::install();
        let (reporter, health_service) = tonic_health::server::health_reporter();
        let readiness = Readiness::with_grpc(reporter, self.services);
        // Reflection lists this server's services (and health, and itself), not every service of
        // the descriptor set.
        let reflection = |own: &'static str| {
            let mut builder = tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(self.descriptors)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .with_service_name(HEALTH_SERVICE)
                .with_service_name(own);
            for service in self.services {
                builder = builder.with_service_name(*service);
            }
            builder
        };
        let reflection_v1 = reflection("grpc.reflection.v1.ServerReflection").build_v1()?;
        let reflection_v1alpha =
            reflection("grpc.reflection.v1alpha.ServerReflection").build_v1alpha()?;
        let routes = routes
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha);

        let addr = listeners.main.local_addr()?;
        let server = tonic::transport::Server::builder()
            .layer(TraceLayer::new_for_grpc().make_span_with(|request: &http::Request<_>| {
                let span = tracing::info_span!("grpc.request", rpc.method = %request.uri().path(), otel.kind = "server");
                telemetry::set_parent_from_headers(&span, request.headers());
                span
            }))
            .layer(tower::layer::layer_fn(|inner| GrpcMetrics { inner }))
            .layer(
                crate::overload::ShedLayer::new(
                    self.server.max_in_flight as usize,
                    crate::overload::grpc_overloaded,
                )
                .exempt(&["/grpc.health.v1.Health/", "/grpc.reflection."]),
            )
            .layer(tower::layer::layer_fn(|inner| IncomingDeadline { inner }))
            // Which replica answered, and its release: the gateway passes them on to the user.
            .layer(tower::util::MapResponseLayer::new({
                let identity = self.server.identity.identity();
                move |mut response: http::Response<tonic::body::Body>| {
                    identity.stamp(response.headers_mut());
                    response
                }
            }))
            .add_routes(routes)
            // Not-serving first, so health-checking balancers stop sending new calls.
            .serve_with_incoming_shutdown(
                TcpListenerStream::new(listeners.main),
                self.server.shutdown.stop_accepting(shutdown.clone(), readiness.clone()),
            );

        let admin = listeners
            .admin
            .map(|listener| admin::spawn(listener, readiness.clone()));

        readiness.set_serving().await;
        tracing::info!(service = self.name, %addr, "gRPC server listening");
        let result = self.server.shutdown.run(self.name, server, &shutdown).await;
        if let Some(admin) = admin {
            admin.abort();
        }
        result
    }
}

/// Makes the caller's `grpc-timeout` the deadline of the work a call does, so that the calls it
/// makes in turn carry the time left (tonic itself cancels the call when it passes).
#[derive(Clone)]
struct IncomingDeadline<S> {
    inner: S,
}

impl<S, B> Service<http::Request<B>> for IncomingDeadline<S>
where
    S: Service<http::Request<B>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = futures::future::BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let timeout = request
            .headers()
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(crate::deadline::parse_grpc_timeout);
        let call = self.inner.call(request);
        match timeout {
            Some(timeout) => Box::pin(crate::deadline::within(
                tokio::time::Instant::now() + timeout,
                call,
            )),
            None => Box::pin(call),
        }
    }
}

/// Counts calls and their latency by method and gRPC status code.
#[derive(Clone)]
struct GrpcMetrics<S> {
    inner: S,
}

impl<S, B, RB> Service<http::Request<B>> for GrpcMetrics<S>
where
    S: Service<http::Request<B>, Response = http::Response<RB>> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let method = request.uri().path().to_owned();
        let start = Instant::now();
        let future = self.inner.call(request);
        Box::pin(async move {
            let result = future.await;
            // Errors travel in the headers of a trailers-only response; success ends with status 0.
            let code = match &result {
                Ok(response) => response
                    .headers()
                    .get("grpc-status")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("0")
                    .to_owned(),
                Err(_) => "transport_error".to_owned(),
            };
            let labels = [("grpc_method", method), ("grpc_code", code)];
            metrics::counter!("grpc_server_handled_total", &labels).increment(1);
            metrics::histogram!("grpc_server_handling_duration_seconds", &labels)
                .record(start.elapsed().as_secs_f64());
            result
        })
    }
}
