//! Readiness of a process, shared by the gRPC health service and the HTTP `/readyz` endpoint.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};
use tonic_health::{ServingStatus, server::HealthReporter};

/// Whether this process should receive traffic. It turns to not-serving first on shutdown, so
/// load balancers stop sending new requests before the listeners close.
#[derive(Clone)]
pub struct Readiness {
    ready: Arc<AtomicBool>,
    grpc: Option<(HealthReporter, Vec<String>)>,
}

impl Readiness {
    /// Readiness of an HTTP-only process.
    pub fn new() -> Self {
        Self {
            ready: Arc::new(AtomicBool::new(false)),
            grpc: None,
        }
    }

    /// Readiness mirrored into `grpc.health.v1` for the overall server (`""`) and each service.
    pub fn with_grpc(reporter: HealthReporter, services: &[&str]) -> Self {
        let mut names: Vec<String> = services.iter().map(|s| s.to_string()).collect();
        names.push(String::new());
        Self {
            ready: Arc::new(AtomicBool::new(false)),
            grpc: Some((reporter, names)),
        }
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    pub async fn set_serving(&self) {
        self.set(true).await;
    }

    pub async fn set_not_serving(&self) {
        self.set(false).await;
    }

    async fn set(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
        if let Some((reporter, names)) = &self.grpc {
            let status = if ready {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            for name in names {
                reporter.set_service_status(name, status).await;
            }
        }
    }
}

impl Default for Readiness {
    fn default() -> Self {
        Self::new()
    }
}
