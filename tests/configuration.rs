//! Each binary's configuration is declared once, with clap's derive (one field per environment
//! variable): the list of variables comes from that declaration (tests/manifests.rs checks the
//! Kubernetes manifests against it), `--help` shows each one, and docs/configuration.md documents
//! every one of them.

/// `shop run NAME ARGS...` with `env` added to a clean environment: exactly the service's binary.
fn run(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_shop"))
        .arg("run")
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("the shop binary runs")
}

#[test]
fn every_binary_documents_each_variable_it_reads_in_its_help() {
    for entry in shop::services::ENTRIES {
        let out = run(&[entry.name, "--help"], &[]);
        assert!(out.status.success(), "{} --help: {out:?}", entry.name);
        // clap wraps long lines: compare with every run of whitespace as one space.
        let help = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let vars = (entry.env_vars)();
        for name in [
            "LISTEN_ADDR",
            "ADMIN_ADDR",
            "LOG_FORMAT",
            "SHUTDOWN_DRAIN_SECONDS",
        ] {
            assert!(
                vars.iter().any(|v| v == name),
                "{}: {name} is not read",
                entry.name
            );
        }
        for name in &vars {
            assert!(
                help.contains(&format!("[env: {name}")),
                "{} --help does not show {name}:\n{help}",
                entry.name
            );
        }
    }
}

#[test]
fn a_bad_or_missing_variable_stops_the_binary_with_a_message_naming_it() {
    let out = run(&["payments"], &[("PAYMENTS_FAILURE_RATE", "2")]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "environment variable PAYMENTS_FAILURE_RATE=\"2\" is invalid: must be a number between 0 and 1"
        ),
        "{stderr}"
    );

    let out = run(&["gateway"], &[]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("environment variable JWT_SECRET is required but not set"),
        "{out:?}"
    );
    // A secret that is too short is refused without being printed.
    let out = run(&["gateway"], &[("JWT_SECRET", "hunter2")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        stderr.contains("JWT_SECRET=\"(hidden)\" is invalid: must be at least 32 bytes")
            && !stderr.contains("hunter2"),
        "{stderr}"
    );

    let out = run(&["cart"], &[("CATALOG_URL", "catalog:50051")]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("environment variable CATALOG_URL=\"catalog:50051\" is invalid"),
        "{out:?}"
    );
}

#[test]
fn only_the_gateway_requires_a_variable() {
    for entry in shop::services::ENTRIES {
        let expected: &[&str] = if entry.name == "gateway" {
            &["JWT_SECRET"]
        } else {
            &[]
        };
        assert_eq!((entry.required)(), expected, "{}", entry.name);
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
