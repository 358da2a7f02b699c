//! The settings of {{name}}: each field is one environment variable (`{{name}} --help` lists
//! them; docs/configuration.md describes the common ones).

use platform::config::ServerArgs;

#[derive(Debug, Clone, clap::Parser)]
#[command(name = "{{name}}", about = "{{name}} (gRPC shop.{{name}}.v1)", version)]
pub struct Config {
    #[command(flatten)]
    pub server: ServerArgs,
{{#stateful}}
    #[command(flatten)]
    pub database: platform::db::DatabaseConfig,
{{/stateful}}
    // xtask:new-service config fields
}

impl platform::binary::ServiceConfig for Config {
    /// Its port in services.txt.
    const DEFAULT_PORT: u16 = {{port}};

    fn server_args(&self) -> &ServerArgs {
        &self.server
    }
}
