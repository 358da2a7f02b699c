//! The settings of {{name}}: each field is one environment variable (`{{name}} --help` lists
//! them; docs/configuration.md describes the common ones).

use platform::config::ServerArgs;

#[derive(Debug, Clone, clap::Parser)]
#[command(name = "{{name}}", about = "{{name}} (web pages over the shop's REST API)", version)]
pub struct Config {
    #[command(flatten)]
    pub server: ServerArgs,
    /// The shop's public REST API: the gateway's base URL (without `/api/v1`), or a
    /// comma-separated list of replicas' URLs.
    #[arg(long = "gateway-url", env = "GATEWAY_URL", value_name = "URL",
          default_value = "http://127.0.0.1:8080", value_parser = platform::config::parse::http_urls)]
    pub gateway_url: String,
    // xtask:new-service config fields
}

impl platform::binary::ServiceConfig for Config {
    /// Its port in services.txt.
    const DEFAULT_PORT: u16 = {{port}};

    fn server_args(&self) -> &ServerArgs {
        &self.server
    }
}
