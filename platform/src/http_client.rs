//! Calling another service's HTTP API: timeouts on every request, W3C trace context on every
//! request, and the calls spread round-robin over the replicas' base URLs when there are several
//! (`shop up --replicas gateway=2`; in Kubernetes the URL is one Service's).

use crate::telemetry;
use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

/// A client of one HTTP API with one or more replicas.
#[derive(Clone, Debug)]
pub struct HttpUpstream {
    client: reqwest::Client,
    bases: Arc<[String]>,
    next: Arc<AtomicUsize>,
}

impl HttpUpstream {
    /// `urls`: as checked by [`crate::config::parse::http_urls`]; `prefix` is put before every
    /// path (e.g. `/api/v1`).
    pub fn new(urls: &str, prefix: &str, timeout: Duration) -> anyhow::Result<Self> {
        let bases: Vec<String> = urls
            .split(',')
            .map(|u| format!("{}{prefix}", u.trim().trim_end_matches('/')))
            .collect();
        Ok(Self {
            client: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(1))
                .timeout(timeout)
                .build()?,
            bases: bases.into(),
            next: Arc::default(),
        })
    }

    /// The URL of `path_and_query` on the next replica.
    pub fn url(&self, path_and_query: &str) -> String {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.bases.len();
        format!("{}{path_and_query}", self.bases[i])
    }

    /// A request to `path_and_query` on the next replica, carrying the current trace context.
    pub fn request(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
    ) -> reqwest::RequestBuilder {
        let mut headers = http::HeaderMap::new();
        telemetry::inject_current_context(&mut headers);
        self.client
            .request(method, self.url(path_and_query))
            .headers(headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_take_turns_over_the_replicas() {
        let upstream =
            HttpUpstream::new("http://a:1,http://b:2/", "/api/v1", Duration::from_secs(1)).unwrap();
        let urls: Vec<String> = (0..4).map(|_| upstream.url("/products?q=x")).collect();
        assert_eq!(
            urls,
            [
                "http://a:1/api/v1/products?q=x",
                "http://b:2/api/v1/products?q=x",
                "http://a:1/api/v1/products?q=x",
                "http://b:2/api/v1/products?q=x"
            ]
        );
    }

    #[test]
    fn base_urls_are_checked() {
        use crate::config::parse::http_urls;
        assert_eq!(
            http_urls("http://gateway:80/, http://10.0.0.2:8080").unwrap(),
            "http://gateway:80,http://10.0.0.2:8080"
        );
        assert!(http_urls("gateway:80").is_err());
        assert!(http_urls("ftp://gateway").is_err());
        assert!(http_urls("http://gateway/api").is_err());
    }
}
