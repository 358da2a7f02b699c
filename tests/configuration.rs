//! Each binary's configuration, declared once: the variables its code reads are exactly its
//! `ENV_VARS` (which tests/manifests.rs checks the Kubernetes manifests against), and
//! docs/configuration.md documents every one of them.

use std::collections::{BTreeMap, BTreeSet};

/// Read outside `Config::from_env`: by `platform::telemetry::init` (before the config, so that a
/// config error is logged) and by `platform::db::connect` (the pool size).
const READ_ELSEWHERE: &[&str] = &[
    "RUST_LOG",
    "LOG_FORMAT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_SERVICE_NAME",
    "DATABASE_MAX_CONNECTIONS",
];

#[test]
fn every_binary_reads_exactly_the_variables_it_declares() {
    for entry in shop::services::ENTRIES {
        let declared: BTreeSet<String> =
            (entry.env_vars)().into_iter().map(str::to_owned).collect();
        // Required variables get a value, so that loading reads everything after them too.
        let required: BTreeMap<String, String> = entry
            .required
            .iter()
            .map(|name| (name.to_string(), "x".repeat(64)))
            .collect();
        let (loaded, read) = platform::config::reads(|| {
            platform::config::with_overrides(required, entry.load_config)
        });
        loaded.unwrap_or_else(|e| panic!("{}: the default config does not load: {e}", entry.name));
        for name in &read {
            assert!(
                declared.contains(name),
                "{}: reads {name}, which its config::ENV_VARS does not declare",
                entry.name
            );
        }
        for name in &declared {
            assert!(
                read.contains(name) || READ_ELSEWHERE.contains(&name.as_str()),
                "{}: declares {name} in config::ENV_VARS, but its config never reads it",
                entry.name
            );
        }
    }
}

#[test]
fn docs_configuration_documents_every_variable() {
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/configuration.md"
    ))
    .expect("docs/configuration.md");
    for entry in shop::services::ENTRIES {
        for name in (entry.env_vars)() {
            assert!(
                docs.contains(&format!("`{name}`")),
                "docs/configuration.md does not document {name} (read by {})",
                entry.name
            );
        }
    }
}

#[test]
fn docs_configuration_lists_every_binary_with_its_ports_from_the_service_list() {
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/configuration.md"
    ))
    .expect("docs/configuration.md");
    for service in shop::services::listed().iter().filter(|s| s.serves()) {
        let port = service.port.expect("a serving service has a port");
        let row = docs
            .lines()
            .find(|l| l.starts_with(&format!("| `{}`", service.name)))
            .unwrap_or_else(|| panic!("docs/configuration.md has no row for {}", service.name));
        assert!(
            row.contains(&format!("`0.0.0.0:{port}`")) && row.contains("`0.0.0.0:9090`"),
            "docs/configuration.md: the row of {} must give LISTEN_ADDR 0.0.0.0:{port} and \
             ADMIN_ADDR 0.0.0.0:9090 (services.txt): {row}",
            service.name
        );
    }
}
