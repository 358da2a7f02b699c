//! The pages of storefront: one that reads the shop's public API and shows the result. Replace it
//! with yours; keep the rule that every API failure becomes a page a person understands.

use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::{Html, IntoResponse, Response},
    routing::get,
};
use platform::http_client::HttpUpstream;
use std::time::Duration;

/// The shop's public REST API, as any client calls it.
#[derive(Clone)]
pub struct Api(HttpUpstream);

impl Api {
    pub fn new(gateway_url: &str) -> anyhow::Result<Self> {
        Ok(Self(HttpUpstream::new(
            gateway_url,
            "/api/v1",
            Duration::from_secs(5),
        )?))
    }

    /// How many products the first page of the catalog lists.
    async fn product_count(&self) -> Result<usize, String> {
        let response = self
            .0
            .request(reqwest::Method::GET, "/products?page_size=100")
            .send()
            .await
            .map_err(|e| format!("the shop cannot be reached ({e})"))?;
        if !response.status().is_success() {
            return Err(format!("the shop answered {}", response.status()));
        }
        let page: serde_json::Value = response
            .json()
            .await
            .map_err(|e| format!("the shop's answer was not understood ({e})"))?;
        Ok(page["products"].as_array().map_or(0, Vec::len))
    }
}

pub fn router(api: Api) -> Router {
    Router::new().route("/", get(home)).with_state(api)
}

async fn home(State(api): State<Api>) -> Response {
    match api.product_count().await {
        Ok(count) => Html(format!(
            "<!doctype html><title>storefront</title><h1>storefront</h1><p>The shop lists {count} products.</p>"
        ))
        .into_response(),
        Err(reason) => (
            StatusCode::BAD_GATEWAY,
            Html(format!(
                "<!doctype html><title>storefront</title><h1>Sorry</h1><p>The shop is not available right now: {reason}.</p>"
            )),
        )
            .into_response(),
    }
}
