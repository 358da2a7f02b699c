//! The shop's public REST API (`/api/v1` on the gateway), called over HTTP exactly as curl or any
//! other client would: the storefront has no other way into the shop.

use gateway::{
    error::ErrorBody,
    model::{
        AddCartItem, Cart, CheckoutRequest, NewSession, Order, OrderList, Product, ProductPage,
        SearchResults, SessionCreated,
    },
};
use platform::http_client::HttpUpstream;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// Why a call did not give what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No answer: the gateway is down, unreachable or too slow.
    Unreachable(String),
    /// The API answered with an error (its status, `error.code` and `error.message`).
    Refused {
        status: StatusCode,
        code: String,
        message: String,
    },
    /// An answer that is not the API's JSON.
    Garbled(String),
}

impl Failure {
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Failure::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn code(&self) -> &str {
        match self {
            Failure::Refused { code, .. } => code,
            _ => "",
        }
    }
}

/// A client of the shop's REST API.
#[derive(Clone, Debug)]
pub struct ShopApi(HttpUpstream);

impl ShopApi {
    /// `gateway_urls`: the gateway's base URL, or its replicas' (comma-separated).
    pub fn new(gateway_urls: &str) -> anyhow::Result<Self> {
        Ok(Self(HttpUpstream::new(
            gateway_urls,
            "",
            Duration::from_secs(6),
        )?))
    }

    /// A call of the API's `path` (under `/api/v1`).
    fn call(&self, method: Method, path: &str) -> RequestBuilder {
        self.0.request(method, &format!("/api/v1{path}"))
    }

    /// The HTTP client and replicas, for passing `/api` through (see `proxy`).
    pub fn upstream(&self) -> &HttpUpstream {
        &self.0
    }

    pub async fn products(&self, page_token: Option<&str>) -> Result<ProductPage, Failure> {
        let mut path = "/products?page_size=12".to_owned();
        if let Some(token) = page_token {
            path.push_str(&format!("&page_token={}", encode(token)));
        }
        self.send(self.call(Method::GET, &path), None).await
    }

    pub async fn search(&self, query: &str) -> Result<SearchResults, Failure> {
        let path = format!("/products/search?q={}&limit=50", encode(query));
        self.send(self.call(Method::GET, &path), None).await
    }

    pub async fn product(&self, id: &str) -> Result<Product, Failure> {
        let path = format!("/products/{}", encode(id));
        self.send(self.call(Method::GET, &path), None).await
    }

    pub async fn new_session(&self) -> Result<SessionCreated, Failure> {
        let body = NewSession {
            name: "shopper".into(),
        };
        self.send(self.call(Method::POST, "/session").json(&body), None)
            .await
    }

    pub async fn cart(&self, token: &str) -> Result<Cart, Failure> {
        self.send(self.call(Method::GET, "/cart"), Some(token))
            .await
    }

    pub async fn add_to_cart(
        &self,
        token: &str,
        product_id: &str,
        quantity: i32,
    ) -> Result<Cart, Failure> {
        let body = AddCartItem {
            product_id: product_id.to_owned(),
            quantity,
        };
        self.send(
            self.call(Method::POST, "/cart/items").json(&body),
            Some(token),
        )
        .await
    }

    pub async fn remove_from_cart(&self, token: &str, product_id: &str) -> Result<Cart, Failure> {
        let path = format!("/cart/items/{}", encode(product_id));
        self.send(self.call(Method::DELETE, &path), Some(token))
            .await
    }

    /// Places the order; `key` makes a repeated submit (a double click, a reload) one order.
    pub async fn checkout(
        &self,
        token: &str,
        key: &str,
        request: &CheckoutRequest,
    ) -> Result<Order, Failure> {
        let call = self
            .call(Method::POST, "/checkout")
            .header("idempotency-key", key)
            .json(request);
        self.send(call, Some(token)).await
    }

    pub async fn orders(&self, token: &str) -> Result<OrderList, Failure> {
        self.send(self.call(Method::GET, "/orders"), Some(token))
            .await
    }

    pub async fn order(&self, token: &str, id: &str) -> Result<Order, Failure> {
        let path = format!("/orders/{}", encode(id));
        self.send(self.call(Method::GET, &path), Some(token)).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        call: RequestBuilder,
        token: Option<&str>,
    ) -> Result<T, Failure> {
        let call = match token {
            Some(token) => call.bearer_auth(token),
            None => call,
        };
        let response = call
            .send()
            .await
            .map_err(|e| Failure::Unreachable(without_url(e)))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| Failure::Unreachable(without_url(e)))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| Failure::Garbled(e.to_string()));
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => Err(Failure::Refused {
                status,
                code: body.error.code,
                message: body.error.message,
            }),
            Err(_) => Err(Failure::Garbled(format!(
                "HTTP {status} without the API's error"
            ))),
        }
    }
}

/// A path segment or query value, percent-encoded (by the URL crate reqwest uses).
fn encode(value: &str) -> String {
    let mut url = reqwest::Url::parse("http://x/").expect("a valid URL");
    url.query_pairs_mut().append_pair("v", value);
    url.query()
        .and_then(|q| q.strip_prefix("v="))
        .unwrap_or_default()
        .replace('+', "%20")
}

/// What went wrong, without the URL (which names internal hosts).
fn without_url(error: reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection refused"
    } else {
        "no answer"
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_percent_encoded_for_paths_and_queries() {
        assert_eq!(encode("chef-knife"), "chef-knife");
        assert_eq!(encode("a b/c?d&e"), "a%20b%2Fc%3Fd%26e");
        assert_eq!(encode("커피"), "%EC%BB%A4%ED%94%BC");
    }
}
