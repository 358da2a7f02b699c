//! The {{name}} service: TODO say in one sentence what it does (docs/services/{{name}}.md).
//!
//! `domain.rs` holds the rules (pure functions), `app.rs` the use cases over a small storage trait,
{{#stateful}}
//! `store.rs` the SQL behind that trait, and `grpc.rs` maps messages and errors to and from them.
{{/stateful}}
{{^stateful}}
//! and `grpc.rs` maps messages and errors to and from them.
{{/stateful}}

pub mod app;
pub mod config;
pub mod domain;
pub mod grpc;
{{#stateful}}
pub mod store;
{{/stateful}}

pub use config::Config;

use platform::{
    Shutdown,
    grpc_server::{GrpcServer, Listeners},
};
use shop_proto::{{name}}::v1::{{name}}_service_server::{{{Pascal}}ServiceServer, SERVICE_NAME};

/// Serves {{name}} until `shutdown`.
pub async fn serve(listeners: Listeners, config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
{{#stateful}}
    let pool = config.database.connect("{{name}}", &store::MIGRATOR).await?;
    let app = app::{{Pascal}}App::new(store::SqlStore::new(pool));
{{/stateful}}
{{^stateful}}
    let app = app::{{Pascal}}App::new();
{{/stateful}}
    // xtask:new-service clients
    GrpcServer {
        name: "{{name}}",
        services: &[SERVICE_NAME],
        descriptors: shop_proto::FILE_DESCRIPTOR_SET,
        server: config.server.clone(),
    }
    .serve(
        tonic::service::Routes::new({{Pascal}}ServiceServer::new(grpc::{{Pascal}}Grpc::new(app))),
        listeners,
        shutdown,
    )
    .await
}
