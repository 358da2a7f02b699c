//! Logs and traces: `tracing` to stdout (text or JSON), and OpenTelemetry spans over OTLP when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set. W3C trace context travels in HTTP headers and gRPC
//! metadata, so one checkout is one trace across the gateway and the services.

use crate::config::ConfigError;
use opentelemetry::{
    global,
    propagation::{Extractor, Injector},
    trace::TracerProvider as _,
};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt, util::SubscriberInitExt};

/// Flushes pending spans when dropped at the end of `main`.
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("flushing traces failed: {e}");
        }
    }
}

/// Logs and traces: the settings every binary shares.
#[derive(Debug, Clone, clap::Args)]
pub struct TelemetryConfig {
    /// Log filter (tracing's EnvFilter syntax) [default: info, and warn for noisy libraries].
    #[arg(long = "rust-log", env = "RUST_LOG", value_name = "FILTER")]
    pub filter: Option<String>,
    /// Log lines as `text` or `json`.
    #[arg(
        long = "log-format",
        env = "LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
    /// Where to send traces over OTLP/gRPC, e.g. `http://otel-collector:4317`; unset or empty:
    /// no traces (an empty value counts as unset, as in OpenTelemetry's own SDKs).
    #[arg(
        long = "otel-exporter-otlp-endpoint",
        env = "OTEL_EXPORTER_OTLP_ENDPOINT",
        value_name = "URL"
    )]
    pub otlp_endpoint: Option<String>,
    /// The service name in traces [default: the binary's name].
    #[arg(
        long = "otel-service-name",
        env = "OTEL_SERVICE_NAME",
        value_name = "NAME"
    )]
    pub service_name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Installs logging and tracing for the process. Call once, from `main`.
pub fn init(
    default_service_name: &str,
    config: &TelemetryConfig,
) -> Result<TelemetryGuard, ConfigError> {
    let json = config.log_format == LogFormat::Json;
    let service_name = config
        .service_name
        .clone()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| default_service_name.to_owned());
    let endpoint = config
        .otlp_endpoint
        .clone()
        .filter(|s| !s.trim().is_empty());
    const DEFAULT_FILTER: &str = "info,sqlx=warn,h2=warn,tower=warn,hyper=warn";
    let filter = match config.filter.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(directives) => EnvFilter::try_new(directives).map_err(|e| ConfigError::Invalid {
            name: "RUST_LOG".into(),
            value: directives.to_owned(),
            reason: e.to_string(),
        })?,
        None => EnvFilter::new(DEFAULT_FILTER),
    };

    global::set_text_map_propagator(TraceContextPropagator::new());
    let fmt = if json {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer().boxed()
    };

    let provider = match endpoint {
        Some(endpoint) => {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint.clone())
                .build()
                .map_err(|e| ConfigError::Invalid {
                    name: "OTEL_EXPORTER_OTLP_ENDPOINT".into(),
                    value: endpoint,
                    reason: e.to_string(),
                })?;
            Some(
                SdkTracerProvider::builder()
                    .with_batch_exporter(exporter)
                    .with_resource(
                        Resource::builder()
                            .with_service_name(service_name.clone())
                            .build(),
                    )
                    .build(),
            )
        }
        None => None,
    };
    let otel = provider.as_ref().map(|p| {
        global::set_tracer_provider(p.clone());
        tracing_opentelemetry::layer().with_tracer(p.tracer(service_name))
    });
    // `try_init` fails only when a subscriber exists already (tests starting several servers).
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(otel)
        .try_init();
    Ok(TelemetryGuard { provider })
}

/// Makes `span` a child of the trace context found in `headers` (W3C `traceparent`).
pub fn set_parent_from_headers(span: &tracing::Span, headers: &http::HeaderMap) {
    let parent = global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(headers)));
    let _ = span.set_parent(parent);
}

/// Writes the current span's trace context into outgoing `headers`.
pub fn inject_current_context(headers: &mut http::HeaderMap) {
    let context = tracing::Span::current().context();
    global::get_text_map_propagator(|p| p.inject_context(&context, &mut HeaderInjector(headers)));
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

struct HeaderInjector<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_sdk::trace::SdkTracerProvider;

    #[test]
    fn w3c_trace_context_flows_from_incoming_headers_to_outgoing_calls() {
        global::set_text_map_propagator(TraceContextPropagator::new());
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, || {
            let mut incoming = http::HeaderMap::new();
            incoming.insert(
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                    .parse()
                    .unwrap(),
            );
            let server = tracing::info_span!("server");
            set_parent_from_headers(&server, &incoming);
            let _server = server.enter();
            let client = tracing::info_span!("client call");
            let _client = client.enter();

            let mut outgoing = http::HeaderMap::new();
            inject_current_context(&mut outgoing);
            let traceparent = outgoing["traceparent"].to_str().unwrap();
            assert!(
                traceparent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
                "same trace: {traceparent}"
            );
            assert!(
                !traceparent.contains("00f067aa0ba902b7"),
                "a span of our own: {traceparent}"
            );
        });
    }
}
