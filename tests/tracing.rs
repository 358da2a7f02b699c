//! One checkout is one trace: a real `shop up` process exports its spans over OTLP/gRPC to a
//! collector in this test (the protocol's own generated server), and the spans of the gateway and
//! of every service a checkout touches share the caller's W3C trace id. So do a storefront page's:
//! the storefront, the gateway it calls, and the catalog.

use opentelemetry_proto::tonic::{
    collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
        trace_service_server::{TraceService, TraceServiceServer},
    },
    trace::v1::Span,
};
use serde_json::json;
mod common;

use std::{
    process::Command,
    sync::{Arc, Mutex},
};
use tonic::{Request, Response, Status};

#[derive(Clone, Default)]
struct Collector {
    spans: Arc<Mutex<Vec<Span>>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let spans = request
            .into_inner()
            .resource_spans
            .into_iter()
            .flat_map(|r| r.scope_spans)
            .flat_map(|s| s.spans);
        self.spans.lock().unwrap().extend(spans);
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `rpc.method` attribute of a gRPC server span.
fn rpc_method(span: &Span) -> Option<String> {
    span.attributes
        .iter()
        .find(|a| a.key == "rpc.method")
        .and_then(|a| match a.value.as_ref()?.value.as_ref()? {
            opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s) => {
                Some(s.clone())
            }
            _ => None,
        })
}

#[tokio::test]
async fn a_checkout_is_one_trace_across_the_gateway_and_the_services() {
    let collector = Collector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector_addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector.clone()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );

    let data = tempfile::tempdir().unwrap();
    let endpoint = format!("http://{collector_addr}");
    let (mut shop, base, _admin, storefront) = common::start_shop_process_with_storefront(
        data.path(),
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str())],
    )
    .await;
    let http = reqwest::Client::new();

    let session: serde_json::Value = http
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"name": "Ann"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["token"].as_str().unwrap();
    http.post(format!("{base}/api/v1/cart/items"))
        .bearer_auth(token)
        .json(&json!({"product_id": "hammock", "quantity": 1}))
        .send()
        .await
        .unwrap();
    // The caller starts the trace, as a browser or an upstream proxy would.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let response = http
        .post(format!("{base}/api/v1/checkout"))
        .bearer_auth(token)
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .header("Idempotency-Key", "traced")
        .json(&json!({
            "shipping_address": {"name": "Ann", "street": "1 Main St", "city": "Springfield", "postal_code": "1", "country": "US"},
            "card": {"number": "4111111111111111", "expiry_month": 12, "expiry_year": 2099, "cvv": "123"}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let page_trace = "5bf92f3577b34da6a3ce929d0e0e4737";
    let page = http
        .get(format!("{storefront}/products/hammock"))
        .header(
            "traceparent",
            format!("00-{page_trace}-10f067aa0ba902b8-01"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);

    // Stopping the shop flushes the spans it has not exported yet.
    assert!(
        Command::new("kill")
            .args(["-TERM", &shop.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::task::spawn_blocking(move || shop.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0));

    let spans = collector.spans.lock().unwrap().clone();
    let in_trace: Vec<&Span> = spans
        .iter()
        .filter(|s| hex(&s.trace_id) == trace_id)
        .collect();
    let methods: Vec<String> = in_trace.iter().filter_map(|s| rpc_method(s)).collect();
    for expected in [
        "/shop.orders.v1.OrderService/PlaceOrder",
        "/shop.cart.v1.CartService/GetCart",
        "/shop.catalog.v1.CatalogService/GetProduct",
        "/shop.payments.v1.PaymentService/Charge",
        "/shop.cart.v1.CartService/EmptyCart",
    ] {
        assert!(
            methods.iter().any(|m| m == expected),
            "{expected} is in the checkout's trace; found {methods:?}"
        );
    }
    let gateway_root = in_trace
        .iter()
        .find(|s| s.name == "http.request")
        .expect("the gateway's request span is in the trace");
    assert_eq!(
        hex(&gateway_root.parent_span_id),
        "00f067aa0ba902b7",
        "the gateway continues the caller's span"
    );

    // The page: the storefront's request span (child of the caller's), the gateway's (child of a
    // span of the storefront's), and the catalog's GetProduct, in one trace.
    let page_spans: Vec<&Span> = spans
        .iter()
        .filter(|s| hex(&s.trace_id) == page_trace)
        .collect();
    let requests: Vec<&&Span> = page_spans
        .iter()
        .filter(|s| s.name == "http.request")
        .collect();
    assert_eq!(
        requests.len(),
        2,
        "the storefront's and the gateway's request spans"
    );
    assert!(
        requests
            .iter()
            .any(|s| hex(&s.parent_span_id) == "10f067aa0ba902b8"),
        "the storefront continues the caller's span"
    );
    assert!(
        page_spans
            .iter()
            .filter_map(|s| rpc_method(s))
            .any(|m| m == "/shop.catalog.v1.CatalogService/GetProduct"),
        "the catalog's GetProduct is in the page's trace"
    );
}
