//! Which replica answered, and which release it runs: the headers that make load balancing,
//! scaling and rolling updates visible to a learner with a browser or curl.
//!
//! Every server names itself on each answer: `x-served-by` (the pod name, from the downward API's
//! `POD_NAME`, or the host name outside Kubernetes) and `x-shop-version` (`SHOP_VERSION`, which the
//! image build sets to the workspace version and the image tag). gRPC servers send them as response
//! metadata; the gateway collects those of the backends a request called ([`collect_backends`]) and
//! passes them on as `x-backend-served-by` / `x-backend-version`, one entry per backend replica, in
//! the order they answered.

use http::{HeaderMap, HeaderName, HeaderValue};
use std::sync::{Arc, Mutex};

pub const SERVED_BY: HeaderName = HeaderName::from_static("x-served-by");
pub const VERSION: HeaderName = HeaderName::from_static("x-shop-version");
pub const BACKEND_SERVED_BY: HeaderName = HeaderName::from_static("x-backend-served-by");
pub const BACKEND_VERSION: HeaderName = HeaderName::from_static("x-backend-version");

/// Who this process is, as its answers say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub served_by: HeaderValue,
    pub version: HeaderValue,
}

/// Who this replica is and what it runs.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct IdentityArgs {
    /// The name this replica gives in `x-served-by` [default: the host name]. Kubernetes sets it
    /// to the pod's name (downward API).
    #[arg(long = "pod-name", env = "POD_NAME", value_name = "NAME")]
    pub pod_name: Option<String>,
    /// The release it runs, in `x-shop-version` [default: the workspace version]. Images set it to
    /// `<version>+<image tag>`.
    #[arg(long = "shop-version", env = "SHOP_VERSION", value_name = "VERSION")]
    pub shop_version: Option<String>,
}

impl IdentityArgs {
    /// The identity these settings give (a value that cannot be a header becomes `unknown`).
    pub fn identity(&self) -> Identity {
        let header = |value: &str| {
            HeaderValue::from_str(value.trim())
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or(HeaderValue::from_static("unknown"))
        };
        let host = || gethostname::gethostname().to_string_lossy().into_owned();
        Identity {
            served_by: header(&self.pod_name.clone().unwrap_or_else(host)),
            version: header(
                self.shop_version
                    .as_deref()
                    .unwrap_or(env!("CARGO_PKG_VERSION")),
            ),
        }
    }
}

impl Identity {
    /// Adds `x-served-by` and `x-shop-version` to `headers`.
    pub fn stamp(&self, headers: &mut HeaderMap) {
        headers.insert(SERVED_BY, self.served_by.clone());
        headers.insert(VERSION, self.version.clone());
    }
}

/// The backend replicas that answered during one request: (served by, version), first answer first.
#[derive(Debug, Clone, Default)]
pub struct Backends(Arc<Mutex<Vec<(HeaderValue, HeaderValue)>>>);

tokio::task_local! {
    static BACKENDS: Backends;
}

/// Runs `future` collecting the identity of every backend that answers a gRPC call it makes
/// through a `grpc_client` channel; returns its output and what was collected.
pub async fn collect_backends<F: Future>(future: F) -> (F::Output, Backends) {
    let backends = Backends::default();
    let output = BACKENDS.scope(backends.clone(), future).await;
    (output, backends)
}

/// Called by the channels of `grpc_client` with each response's headers (initial metadata).
pub(crate) fn record_backend(headers: &HeaderMap) {
    let (Some(served_by), Some(version)) = (headers.get(SERVED_BY), headers.get(VERSION)) else {
        return;
    };
    let _ = BACKENDS.try_with(|backends| {
        let mut seen = backends.0.lock().unwrap_or_else(|e| e.into_inner());
        let entry = (served_by.clone(), version.clone());
        if !seen.contains(&entry) {
            seen.push(entry);
        }
    });
}

impl Backends {
    /// Adds `x-backend-served-by` and `x-backend-version` (comma-separated, in the same order) if
    /// any backend answered.
    pub fn stamp(&self, headers: &mut HeaderMap) {
        let seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if seen.is_empty() {
            return;
        }
        let join = |pick: fn(&(HeaderValue, HeaderValue)) -> &HeaderValue| {
            let parts: Vec<&[u8]> = seen.iter().map(|e| pick(e).as_bytes()).collect();
            HeaderValue::from_bytes(&parts.join(&b", "[..])).ok()
        };
        if let (Some(served_by), Some(version)) = (join(|e| &e.0), join(|e| &e.1)) {
            headers.insert(BACKEND_SERVED_BY, served_by);
            headers.insert(BACKEND_VERSION, version);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(pod: &'static str, version: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(SERVED_BY, HeaderValue::from_static(pod));
        headers.insert(VERSION, HeaderValue::from_static(version));
        headers
    }

    #[tokio::test]
    async fn backends_are_listed_once_each_in_the_order_they_answered() {
        let ((), backends) = collect_backends(async {
            record_backend(&answer("catalog-a", "0.1.0+abc"));
            record_backend(&answer("cart-b", "0.1.0+def"));
            record_backend(&answer("catalog-a", "0.1.0+abc"));
            record_backend(&HeaderMap::new());
        })
        .await;
        let mut headers = HeaderMap::new();
        backends.stamp(&mut headers);
        assert_eq!(headers[BACKEND_SERVED_BY], "catalog-a, cart-b");
        assert_eq!(headers[BACKEND_VERSION], "0.1.0+abc, 0.1.0+def");
    }

    #[tokio::test]
    async fn no_backend_no_header_and_recording_outside_a_request_is_harmless() {
        record_backend(&answer("catalog-a", "1"));
        let ((), backends) = collect_backends(async {}).await;
        let mut headers = HeaderMap::new();
        backends.stamp(&mut headers);
        assert!(headers.is_empty());
    }

    #[test]
    fn the_pod_name_wins_over_the_host_name_and_bad_values_do_not_break_headers() {
        let args = IdentityArgs {
            pod_name: Some("gateway-7d9f-x2".into()),
            shop_version: Some("0.1.0+abc".into()),
        };
        assert_eq!(args.identity().served_by, "gateway-7d9f-x2");
        assert_eq!(args.identity().version, "0.1.0+abc");
        let host = IdentityArgs::default().identity();
        assert_eq!(
            host.served_by,
            gethostname::gethostname().to_string_lossy().as_ref()
        );
        assert_eq!(host.version, env!("CARGO_PKG_VERSION"));
        let bad = IdentityArgs {
            pod_name: Some("bad\nname".into()),
            shop_version: Some(" ".into()),
        };
        assert_eq!(bad.identity().served_by, "unknown");
        assert_eq!(bad.identity().version, "unknown");
    }
}
