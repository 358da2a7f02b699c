//! {{name}}: TODO say in one sentence what it shows (docs/services/{{name}}.md).
//!
//! It serves web pages and talks to the shop only through the public REST API (`/api/v1` on the
//! gateway), the same API curl and the load generator use. `pages.rs` renders the pages.

pub mod config;
pub mod pages;

pub use config::Config;

use platform::{Shutdown, grpc_server::Listeners};

/// Serves {{name}} until `shutdown`.
pub async fn serve(listeners: Listeners, config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    let app = pages::router(pages::Api::new(&config.gateway_url)?);
    platform::http_server::serve("{{name}}", app, listeners, &config.server, shutdown).await
}
