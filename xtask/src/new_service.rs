//! `new-service NAME [--stateful] [--called-by SERVICE]`: a new gRPC service, or with `--http` a
//! web front end over the shop's REST API, listed everywhere the repository lists its services, in
//! one command.
//!
//! Every change is computed in memory first, then checked (each YAML and TOML file it touches must
//! parse and say what was meant), and only then written: a failure leaves the tree as it was.

use crate::{
    edit,
    template::{Vars, render},
};
use anyhow::{Context, bail, ensure};
use serde::Deserialize as _;
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Lowercase letters and digits, starting with a letter (e.g. `shipping`). It names the crate
    /// services/NAME, the proto package shop.NAME.v1, the image shop-NAME and its Kubernetes objects.
    pub name: String,
    /// It owns a database, like payments: SQLite under `shop up`, PostgreSQL in the cluster.
    #[arg(long, conflicts_with = "http")]
    pub stateful: bool,
    /// A web front end instead of a gRPC service: it serves HTTP pages to browsers (behind the
    /// Ingress) and calls the shop's public REST API through the gateway, like the storefront.
    #[arg(long, conflicts_with = "called_by")]
    pub http: bool,
    /// With --http: the path prefix the Ingress sends to it [default: /NAME].
    #[arg(long = "ingress-path", value_name = "PATH", requires = "http")]
    pub ingress_path: Option<String>,
    /// A service of services.txt that calls it (repeat for several): it gets NAME_URL, a client,
    /// and network access to it.
    #[arg(long = "called-by", value_name = "SERVICE")]
    pub called_by: Vec<String>,
    /// Print what would be created and edited, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The repository to change (default: the one this xtask was built from).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

/// The anchor comments the generator inserts before. Every service's config.rs and lib.rs has them
/// (the gateway has `CLIENT_FIELDS` and `CLIENT_VALUES` instead of `CLIENTS`), so any can call a new one.
pub const ENTRIES: &str = "// xtask:new-service entries";
pub const CONFIG_FIELDS: &str = "// xtask:new-service config fields";
pub const CLIENTS: &str = "// xtask:new-service clients";
pub const CLIENT_FIELDS: &str = "// xtask:new-service client fields";
pub const CLIENT_VALUES: &str = "// xtask:new-service client values";

mod templates {
    pub const PROTO: &str = include_str!("../templates/service.proto");
    pub const CARGO_TOML: &str = include_str!("../templates/service/Cargo.toml.tmpl");
    pub const MIGRATION: &str = include_str!("../templates/service/migration.sql");
    pub const MAIN: &str = include_str!("../templates/service/src/main.rs");
    pub const LIB: &str = include_str!("../templates/service/src/lib.rs");
    pub const CONFIG: &str = include_str!("../templates/service/src/config.rs");
    pub const STORE: &str = include_str!("../templates/service/src/store.rs");
    pub const DOMAIN: [&str; 2] = [
        include_str!("../templates/service/src/domain.stateless.rs"),
        include_str!("../templates/service/src/domain.stateful.rs"),
    ];
    pub const APP: [&str; 2] = [
        include_str!("../templates/service/src/app.stateless.rs"),
        include_str!("../templates/service/src/app.stateful.rs"),
    ];
    pub const GRPC: [&str; 2] = [
        include_str!("../templates/service/src/grpc.stateless.rs"),
        include_str!("../templates/service/src/grpc.stateful.rs"),
    ];
    pub const TESTS: [&str; 2] = [
        include_str!("../templates/service/tests/grpc.stateless.rs"),
        include_str!("../templates/service/tests/grpc.stateful.rs"),
    ];
    pub const K8S_BASE: &str = include_str!("../templates/k8s/base.yaml");
    pub const NETWORK_POLICY: &str = include_str!("../templates/k8s/network-policy.yaml");
    pub const DATABASE_URL: &str = include_str!("../templates/k8s/database-url.yaml");
    pub const PDB: &str = include_str!("../templates/k8s/pdb.yaml");
    pub const COMPOSE: &str = include_str!("../templates/compose/service.yaml");
    pub const DOC: &str = include_str!("../templates/docs/service.md");

    /// A web front end (`--http`).
    pub mod web {
        pub const CARGO_TOML: &str = include_str!("../templates/web/Cargo.toml.tmpl");
        pub const MAIN: &str = include_str!("../templates/web/src/main.rs");
        pub const LIB: &str = include_str!("../templates/web/src/lib.rs");
        pub const CONFIG: &str = include_str!("../templates/web/src/config.rs");
        pub const PAGES: &str = include_str!("../templates/web/src/pages.rs");
        pub const TESTS: &str = include_str!("../templates/web/tests/http.rs");
        pub const K8S_BASE: &str = include_str!("../templates/k8s/web-base.yaml");
        pub const NETWORK_POLICY: &str = include_str!("../templates/k8s/web-network-policy.yaml");
        pub const ROUTE: &str = include_str!("../templates/k8s/web-route.yaml");
        pub const COMPOSE: &str = include_str!("../templates/compose/web-service.yaml");
        pub const DOC: &str = include_str!("../templates/docs/web-service.md");
    }
}

/// Names that would clash with a Rust keyword or crate, a workspace crate, or an identifier the
/// generated code or its callers already use.
const RESERVED: &[&str] = &[
    "as",
    "async",
    "await",
    "box",
    "break",
    "const",
    "continue",
    "crate",
    "do",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "final",
    "fn",
    "for",
    "gen",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "macro",
    "match",
    "mod",
    "move",
    "mut",
    "override",
    "priv",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "try",
    "type",
    "typeof",
    "union",
    "unsafe",
    "unsized",
    "use",
    "virtual",
    "where",
    "while",
    "yield",
    "abstract",
    "become",
    "std",
    "core",
    "alloc",
    "test",
    "proc_macro",
    "shop",
    "platform",
    "proto",
    "xtask",
    "app",
    "config",
    "domain",
    "grpc",
    "store",
    "server",
    "client",
    "database",
    "pool",
    "service",
    "state",
    "listeners",
    "shutdown",
    "status",
    "request",
    "response",
    "channel",
    "code",
    "info",
    "postgres",
    "prometheus",
    "jaeger",
];

/// The new service, as every template and edit sees it.
#[derive(Debug)]
struct Service {
    name: String,
    pascal: String,
    upper: String,
    port: u16,
    admin: u16,
    stateful: bool,
    /// A web front end (`--http`), served under `ingress_path`.
    http: bool,
    ingress_path: String,
    callers: Vec<Caller>,
}

/// A service that will call the new one.
#[derive(Debug)]
struct Caller {
    name: String,
    /// Its crate, relative to the root: `services/orders` or `gateway`.
    dir: String,
}

/// One row of services.txt.
pub(crate) struct Row {
    line: usize,
    pub(crate) name: String,
    kind: String,
    port: Option<u16>,
    admin: Option<u16>,
    database: bool,
    calls: Vec<String>,
}

pub fn run(args: &Args, default_root: &Path) -> anyhow::Result<()> {
    let root = args.root.clone().unwrap_or_else(|| default_root.to_owned());
    let list = std::fs::read_to_string(root.join("services.txt"))
        .with_context(|| format!("reading services.txt in {}", root.display()))?;
    let rows = parse_rows(&list)?;
    let service = service(args, &root, &rows)?;
    println!("new-service {} in {}", service.name, root.display());
    let mut plan = Plan::new(&root);
    create_files(&mut plan, &service)?;
    edit_files(&mut plan, &service, &list, &rows)?;
    format_rust(&mut plan);
    verify(&plan, &service).context("the edited files do not say what was meant")?;
    if args.dry_run {
        plan.print();
        println!("\n--dry-run: nothing written.");
        return Ok(());
    }
    plan.write()?;
    plan.print();
    print_next_steps(&service, &plan);
    Ok(())
}

pub(crate) fn parse_rows(text: &str) -> anyhow::Result<Vec<Row>> {
    let port = |v: &str| -> anyhow::Result<Option<u16>> {
        if v == "-" {
            return Ok(None);
        }
        Ok(Some(v.parse().with_context(|| {
            format!("services.txt: {v:?} is not a port")
        })?))
    };
    let mut rows = Vec::new();
    for (line, text) in text.lines().enumerate() {
        let text = text.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = text.split_whitespace().collect();
        let [name, kind, main, admin, database, calls] = f[..] else {
            bail!("services.txt line {}: 6 columns expected", line + 1);
        };
        rows.push(Row {
            line,
            name: name.to_owned(),
            kind: kind.to_owned(),
            port: port(main)?,
            admin: port(admin)?,
            database: database == "yes",
            calls: calls
                .split(',')
                .filter(|c| *c != "-")
                .map(str::to_owned)
                .collect(),
        });
    }
    Ok(rows)
}

fn service(args: &Args, root: &Path, rows: &[Row]) -> anyhow::Result<Service> {
    let name = args.name.as_str();
    ensure!(
        name.len() >= 2
            && name.len() <= 30
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
        "{name:?} cannot name a service: use 2 to 30 lowercase letters and digits, starting with a \
         letter (e.g. shipping). No `-` (not a Rust identifier) and no `_` (not a Kubernetes name)."
    );
    ensure!(
        !RESERVED.contains(&name),
        "{name:?} is reserved (a Rust keyword or crate, a crate of this workspace, or a name the \
         generated code uses): pick another"
    );
    ensure!(
        !rows.iter().any(|r| r.name == name),
        "services.txt already lists {name}"
    );
    for path in [
        format!("services/{name}"),
        name.to_owned(),
        format!("proto/proto/shop/{name}"),
        format!("k8s/base/{name}.yaml"),
    ] {
        ensure!(!root.join(&path).exists(), "{path} already exists");
    }
    let mut callers: Vec<Caller> = Vec::new();
    for caller in &args.called_by {
        let row = rows.iter().find(|r| &r.name == caller).with_context(|| {
            let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
            format!(
                "--called-by {caller}: services.txt lists {}",
                names.join(", ")
            )
        })?;
        ensure!(
            row.kind != "tool",
            "--called-by {caller}: a tool serves nothing and has no config to wire"
        );
        let dir = [format!("services/{caller}"), caller.clone()]
            .into_iter()
            .find(|d| root.join(d).join("Cargo.toml").exists())
            .with_context(|| {
                format!("--called-by {caller}: no crate services/{caller} or {caller}/")
            })?;
        if !callers.iter().any(|c| &c.name == caller) {
            callers.push(Caller {
                name: caller.clone(),
                dir,
            });
        }
    }
    let next = |column: fn(&Row) -> Option<u16>, kinds: &[&str]| -> anyhow::Result<u16> {
        let max = rows
            .iter()
            .filter(|r| kinds.contains(&r.kind.as_str()))
            .filter_map(column)
            .max()
            .context("services.txt lists no port to count from")?;
        max.checked_add(1).context("no port left")
    };
    let port = if args.http {
        ensure!(
            rows.iter().any(|r| r.name == "gateway"),
            "--http: a web front end calls the shop's API through the gateway, which services.txt \
             does not list"
        );
        next(|r| r.port, &["http"])?
    } else {
        next(|r| r.port, &["grpc"])?
    };
    let ingress_path = args
        .ingress_path
        .clone()
        .unwrap_or_else(|| format!("/{name}"));
    ensure!(
        ingress_path.starts_with('/')
            && !ingress_path.starts_with("/api")
            && ingress_path
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/-_.".contains(c)),
        "--ingress-path {ingress_path:?}: a path such as / or /{name} (not under /api, which is the \
         gateway's)"
    );
    let admin = next(|r| r.admin, &["grpc", "http", "tool"])?;
    ensure!(
        !rows
            .iter()
            .any(|r| r.port == Some(port) || r.admin == Some(port) || r.admin == Some(admin)),
        "ports {port}/{admin} are taken in services.txt"
    );
    let mut pascal = name.to_owned();
    pascal[..1].make_ascii_uppercase();
    Ok(Service {
        name: name.to_owned(),
        pascal,
        upper: name.to_ascii_uppercase(),
        port,
        admin,
        stateful: args.stateful,
        http: args.http,
        ingress_path,
        callers,
    })
}

fn vars(s: &Service) -> Vars {
    let callers: Vec<&str> = s.callers.iter().map(|c| c.name.as_str()).collect();
    let mut command = s.name.clone();
    if s.stateful {
        command.push_str(" --stateful");
    }
    if s.http {
        command.push_str(" --http");
        if s.ingress_path != format!("/{}", s.name) {
            command.push_str(&format!(" --ingress-path {}", s.ingress_path));
        }
    }
    for c in &callers {
        command.push_str(&format!(" --called-by {c}"));
    }
    let mut ingress = String::new();
    if !callers.is_empty() {
        ingress.push_str("    - from:\n");
        for c in &callers {
            ingress.push_str(&format!(
                "        - podSelector:\n            matchLabels:\n              app.kubernetes.io/name: {c}\n"
            ));
        }
        ingress.push_str(&format!(
            "      ports:\n        - protocol: TCP\n          port: {}\n",
            s.port
        ));
    }
    let summary = format!(
        "gRPC in from {} on {}, metrics in from Prometheus on 9090; out: {}.",
        if callers.is_empty() {
            "nobody yet".to_owned()
        } else {
            callers.join(", ")
        },
        s.port,
        if s.stateful {
            "postgres"
        } else {
            "nothing but DNS"
        },
    );
    Vars::default()
        .value("name", &s.name)
        .value("Pascal", &s.pascal)
        .value("NAME", &s.upper)
        .value("port", s.port.to_string())
        .value("admin", s.admin.to_string())
        .value("args", command)
        .value(
            "callers",
            if callers.is_empty() {
                "none yet".to_owned()
            } else {
                callers.join(", ")
            },
        )
        .value("callers_ingress", ingress)
        .value("summary", summary)
        .value("path", &s.ingress_path)
        .flag("stateful", s.stateful)
}

fn create_files(plan: &mut Plan, s: &Service) -> anyhow::Result<()> {
    let v = vars(s);
    let n = &s.name;
    if s.http {
        let mut files = vec![
            (
                format!("services/{n}/Cargo.toml"),
                templates::web::CARGO_TOML,
            ),
            (format!("services/{n}/src/main.rs"), templates::web::MAIN),
            (format!("services/{n}/src/lib.rs"), templates::web::LIB),
            (
                format!("services/{n}/src/config.rs"),
                templates::web::CONFIG,
            ),
            (format!("services/{n}/src/pages.rs"), templates::web::PAGES),
            (format!("services/{n}/tests/http.rs"), templates::web::TESTS),
            (format!("k8s/base/{n}.yaml"), templates::web::K8S_BASE),
        ];
        if plan.exists("k8s/components/network-policies") {
            files.push((
                format!("k8s/components/network-policies/{n}.yaml"),
                templates::web::NETWORK_POLICY,
            ));
        }
        files.push((format!("docs/services/{n}.md"), templates::web::DOC));
        for (path, template) in files {
            let text = render(template, &v).with_context(|| format!("the template of {path}"))?;
            plan.create(&path, text)?;
        }
        return Ok(());
    }
    let variant = usize::from(s.stateful);
    let mut files = vec![
        (
            format!("proto/proto/shop/{n}/v1/{n}.proto"),
            templates::PROTO,
        ),
        (format!("services/{n}/Cargo.toml"), templates::CARGO_TOML),
        (format!("services/{n}/src/main.rs"), templates::MAIN),
        (format!("services/{n}/src/lib.rs"), templates::LIB),
        (format!("services/{n}/src/config.rs"), templates::CONFIG),
        (
            format!("services/{n}/src/domain.rs"),
            templates::DOMAIN[variant],
        ),
        (format!("services/{n}/src/app.rs"), templates::APP[variant]),
        (
            format!("services/{n}/src/grpc.rs"),
            templates::GRPC[variant],
        ),
        (
            format!("services/{n}/tests/grpc.rs"),
            templates::TESTS[variant],
        ),
    ];
    if s.stateful {
        files.push((format!("services/{n}/src/store.rs"), templates::STORE));
        files.push((
            format!("services/{n}/migrations/0001_create_{n}.sql"),
            templates::MIGRATION,
        ));
    }
    files.push((format!("k8s/base/{n}.yaml"), templates::K8S_BASE));
    if plan.exists("k8s/components/network-policies") {
        files.push((
            format!("k8s/components/network-policies/{n}.yaml"),
            templates::NETWORK_POLICY,
        ));
    }
    files.push((format!("docs/services/{n}.md"), templates::DOC));
    for (path, template) in files {
        let text = render(template, &v).with_context(|| format!("the template of {path}"))?;
        plan.create(&path, text)?;
    }
    Ok(())
}

fn edit_files(plan: &mut Plan, s: &Service, list: &str, rows: &[Row]) -> anyhow::Result<()> {
    let n = s.name.as_str();
    let upper = s.upper.as_str();

    // The one list, then everything that lists services by name.
    let new_list = services_txt(list, rows, s)?;
    plan.edit("services.txt", "a row, and the callers' calls", |_| {
        Ok(new_list.clone())
    })?;
    plan.edit(
        "src/services.rs",
        "the registry entry of `shop up` and `shop run`",
        |t| {
            let entry = if s.http {
                format!("entry!({n}, Probe::Http),")
            } else {
                format!(
                    "entry!({n}, Probe::Grpc, \"shop.{n}.v1.{}Service\"),",
                    s.pascal
                )
            };
            edit::before_anchor(t, ENTRIES, &entry)
        },
    )?;
    let root = plan.root().to_owned();
    plan.edit(
        "Cargo.toml",
        "workspace dependency, dependency of `shop`",
        |t| root_manifest(t, n, &root),
    )?;
    if plan.exists("docs/configuration.md") {
        let row = if s.http {
            format!(
                "| `{n}` | web pages under `{}` | `0.0.0.0:{}` | `0.0.0.0:9090` |",
                s.ingress_path, s.port
            )
        } else {
            format!(
                "| `{n}` | gRPC `shop.{n}.v1.{}Service` | `0.0.0.0:{}` | `0.0.0.0:9090` |",
                s.pascal, s.port
            )
        };
        plan.edit(
            "docs/configuration.md",
            "its row in the table of ports",
            |t| ports_row(t, &row),
        )?;
        if s.http {
            let row = format!(
                "| {n} | `GATEWAY_URL` | `http://127.0.0.1:8080` | the shop's REST API (the gateway), or a comma-separated list of replicas |"
            );
            plan.edit("docs/configuration.md", "its GATEWAY_URL", |t| {
                per_service_row(t, &row)
            })?;
        }
    }
    const FLOWS: &str = "k8s/components/network-policies/README.md";
    if plan.exists(FLOWS) {
        let new_rows = parse_rows(&new_list)?;
        plan.edit(FLOWS, "the table of allowed flows", |t| {
            network_policy_flows(t, &new_rows)
        })?;
    }
    if plan.exists("Jenkinsfile") {
        let names: Vec<String> = parse_rows(&new_list)?.into_iter().map(|r| r.name).collect();
        plan.edit("Jenkinsfile", "the image matrix", |t| {
            jenkins_matrix(t, &names)
        })?;
    }

    // Kubernetes: the base, the overlays, the components.
    plan.edit("k8s/base/kustomization.yaml", "resources, images", |t| {
        let t = edit::yaml_append(t, &["resources"], &format!("- {n}.yaml"))?;
        edit::yaml_append(&t, &["images"], &format!("- name: shop-{n}\n  newTag: dev"))
    })?;
    for overlay in plan.subdirs("k8s/overlays") {
        let path = format!("k8s/overlays/{overlay}/kustomization.yaml");
        if !plan.exists(&path) {
            continue;
        }
        plan.edit(&path, "images, replicas", |t| {
            let mut t = t.to_owned();
            if edit::yaml_has(&t, &["images"]) {
                let prefix = image_prefix(&t)?;
                let item = format!("- name: shop-{n}\n  newName: {prefix}shop-{n}\n  newTag: dev");
                t = edit::yaml_append(&t, &["images"], &item)?;
            }
            if edit::yaml_has(&t, &["replicas"]) {
                t = edit::yaml_append(&t, &["replicas"], &format!("- name: {n}\n  count: 2"))?;
            }
            Ok(t)
        })?;
    }
    let policies = "k8s/components/network-policies";
    if s.http && plan.exists(&format!("{policies}/gateway.yaml")) {
        plan.edit(
            &format!("{policies}/gateway.yaml"),
            "API calls in from it",
            |t| {
                let peer =
                    format!("- podSelector:\n    matchLabels:\n      app.kubernetes.io/name: {n}");
                edit::yaml_append(t, &["ingress", "from"], &peer)
            },
        )?;
    }
    const ROUTES: &str = "k8s/components/gateway-api";
    if s.http && plan.exists(&format!("{ROUTES}/gateway.yaml")) {
        let route = render(templates::web::ROUTE, &vars(s))?;
        plan.edit(&format!("{ROUTES}/gateway.yaml"), "its HTTPRoute", |t| {
            Ok(edit::append_document(t, &route))
        })?;
        plan.edit(
            &format!("{ROUTES}/kustomization.yaml"),
            "its Ingress removed (the HTTPRoute replaces it)",
            |t| {
                let patch = format!(
                    "- patch: |-\n    $patch: delete\n    apiVersion: networking.k8s.io/v1\n    kind: Ingress\n    metadata:\n      name: {n}"
                );
                edit::yaml_append(t, &["patches"], &patch)
            },
        )?;
    }
    if plan.exists(policies) {
        plan.edit(
            &format!("{policies}/kustomization.yaml"),
            "resources",
            |t| edit::yaml_append(t, &["resources"], &format!("- {n}.yaml")),
        )?;
        if s.stateful {
            plan.edit(
                &format!("{policies}/postgres.yaml"),
                "ingress from it",
                |t| {
                    let peer = format!(
                        "- podSelector:\n    matchLabels:\n      app.kubernetes.io/name: {n}"
                    );
                    edit::yaml_append(t, &["ingress", "from"], &peer)
                },
            )?;
        }
    }
    if s.stateful && plan.exists("k8s/components/postgres") {
        plan.edit(
            "k8s/components/postgres/kustomization.yaml",
            "its password and database URL",
            |t| {
                let path = ["secretGenerator", "literals"];
                let t = edit::yaml_insert_after_last(
                    t,
                    &path,
                    |l| l.contains("_PASSWORD="),
                    &format!("- {upper}_PASSWORD=local-{n}"),
                )?;
                edit::yaml_insert_after_last(
                    &t,
                    &path,
                    |l| l.contains("_DATABASE_URL="),
                    &format!("- {upper}_DATABASE_URL=postgres://{n}:local-{n}@postgres:5432/{n}"),
                )
            },
        )?;
        let doc = render(templates::DATABASE_URL, &vars(s))?;
        plan.edit(
            "k8s/components/postgres/database-url.yaml",
            "its DATABASE_URL patch",
            |t| Ok(edit::append_document(t, &doc)),
        )?;
    }
    if plan.exists("k8s/components/autoscaling/pdb.yaml") {
        let doc = render(templates::PDB, &vars(s))?;
        plan.edit(
            "k8s/components/autoscaling/pdb.yaml",
            "its PodDisruptionBudget",
            |t| Ok(edit::append_document(t, &doc)),
        )?;
    }

    // compose.yaml
    if plan.exists("compose.yaml") {
        let template = if s.http {
            templates::web::COMPOSE
        } else {
            templates::COMPOSE
        };
        let service = render(template, &vars(s))?;
        plan.edit("compose.yaml", "the service", |t| {
            let mut t = t.to_owned();
            if s.stateful {
                t = edit::yaml_insert_after_last(
                    &t,
                    &["services", "postgres", "environment"],
                    |l| l.contains("_PASSWORD:"),
                    &format!("{upper}_PASSWORD: ${{{upper}_PASSWORD:-{n}}}"),
                )?;
            }
            edit::yaml_append(&t, &["services"], &service)
        })?;
    }

    // Each caller: its config, a client, its manifests.
    for caller in &s.callers {
        wire_caller(plan, s, caller)?;
    }
    Ok(())
}

/// The edits that let `caller` call the new service.
fn wire_caller(plan: &mut Plan, s: &Service, caller: &Caller) -> anyhow::Result<()> {
    let (n, upper, port, c) = (
        s.name.as_str(),
        s.upper.as_str(),
        s.port,
        caller.name.as_str(),
    );
    let url = format!("http://{n}:{port}");
    let hint = "add the anchor comments (docs/new-service.md, \"Anchors\")";

    if plan.exists("docs/configuration.md") {
        let row = format!("| {c} | `{upper}_URL` | `http://127.0.0.1:{port}` | {n} backend |");
        plan.edit("docs/configuration.md", "the caller's new variable", |t| {
            per_service_row(t, &row)
        })?;
    }

    let config_rs = format!("{}/src/config.rs", caller.dir);
    let config = plan.current(&config_rs)?;
    ensure!(
        !config.contains(&format!("\"{upper}_URL\"")),
        "{config_rs} already reads {upper}_URL"
    );
    let client_field = !config.contains("pub client:");
    plan.edit(&config_rs, &format!("{upper}_URL and the client settings"), |t| {
        let mut fields = String::new();
        if client_field {
            fields.push_str("#[command(flatten)]\npub client: platform::grpc_client::ClientConfig,\n");
        }
        fields.push_str(&format!(
            "/// The {n} service: `http://host:port`, or a comma-separated list of replicas.\n\
             #[arg(long = \"{n}-url\", env = \"{upper}_URL\", value_name = \"URL\",\n      \
             default_value = \"http://127.0.0.1:{port}\", value_parser = platform::grpc_client::backend_url)]\n\
             pub {n}_url: String,"
        ));
        edit::before_anchor(t, CONFIG_FIELDS, &fields).context(hint)
    })?;

    let lib_rs = format!("{}/src/lib.rs", caller.dir);
    let client_type = format!(
        "shop_proto::{n}::v1::{n}_service_client::{}ServiceClient",
        s.pascal
    );
    let channel = format!(
        "platform::grpc_client::channel_from_url(\"{upper}_URL\", &config.{n}_url, &config.client)?"
    );
    plan.edit(&lib_rs, &format!("a {} client", s.pascal), |t| {
        if edit::has_anchor(t, CLIENT_FIELDS) {
            let field = format!("pub {n}: {client_type}<platform::grpc_client::GrpcChannel>,");
            let t = edit::before_anchor(t, CLIENT_FIELDS, &field)?;
            let value = format!("{n}: {client_type}::new({channel}),");
            edit::before_anchor(&t, CLIENT_VALUES, &value).context(hint)
        } else {
            let client = format!(
                "// xtask: pass `{n}` to the use cases that call it, then remove this allow.\n\
                 #[allow(unused_variables)]\n\
                 let {n} = {client_type}::new({channel});"
            );
            edit::before_anchor(t, CLIENTS, &client).context(hint)
        }
    })?;

    let base = format!("k8s/base/{c}.yaml");
    plan.edit(&base, &format!("{upper}_URL"), |t| {
        edit::yaml_insert_after_last(
            t,
            &["env"],
            |l| l.trim_start().starts_with("value: http://"),
            &format!("- name: {upper}_URL\n  value: {url}"),
        )
    })?;
    let policy = format!("k8s/components/network-policies/{c}.yaml");
    if plan.exists(&policy) {
        plan.edit(&policy, &format!("egress to {n}"), |t| {
            let rule = format!(
                "- to:\n    - podSelector:\n        matchLabels:\n          app.kubernetes.io/name: {n}\n  ports:\n    - protocol: TCP\n      port: {port}"
            );
            if edit::yaml_has(t, &["spec", "egress"]) {
                edit::yaml_append(t, &["spec", "egress"], &rule)
            } else {
                let rule: String = rule.lines().map(|l| format!("  {l}\n")).collect();
                edit::yaml_append(t, &["spec"], &format!("egress:\n{rule}"))
            }
        })?;
    }
    if plan.exists("compose.yaml") {
        plan.edit("compose.yaml", &format!("{c} calls {n}"), |t| {
            let t = edit::yaml_insert_after_last(
                t,
                &["services", c, "environment"],
                |l| l.contains("_URL: http://"),
                &format!("{upper}_URL: {url}"),
            )?;
            let after = format!("{n}: {{ condition: service_healthy }}");
            if edit::yaml_has(&t, &["services", c, "depends_on"]) {
                edit::yaml_append(&t, &["services", c, "depends_on"], &after)
            } else {
                edit::yaml_append(&t, &["services", c], &format!("depends_on:\n  {after}"))
            }
        })?;
    }
    Ok(())
}

/// services.txt with the new row after the last gRPC row, and the new service in its callers' calls.
fn services_txt(text: &str, rows: &[Row], s: &Service) -> anyhow::Result<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for caller in &s.callers {
        let row = rows
            .iter()
            .find(|r| r.name == caller.name)
            .expect("checked");
        let line = &lines[row.line];
        let last = line.split_whitespace().last().expect("6 columns");
        let at = line.rfind(last).expect("its own last word");
        let mut calls = row.calls.clone();
        calls.push(s.name.clone());
        lines[row.line] = format!("{}{}", &line[..at], calls.join(","));
    }
    let kind = if s.http { "http" } else { "grpc" };
    let after = rows
        .iter()
        .filter(|r| r.kind == kind)
        .map(|r| r.line)
        .max()
        .with_context(|| format!("services.txt lists no {kind} service"))?;
    let row = format!(
        "{:<10} {:<5} {:<6} {:<6} {:<9} {}",
        s.name,
        kind,
        s.port,
        s.admin,
        if s.stateful { "yes" } else { "no" },
        // A web front end calls the shop's public API.
        if s.http { "gateway" } else { "-" }
    );
    lines.insert(after + 1, row);
    Ok(lines.join("\n") + "\n")
}

/// The root manifest with `NAME = { path = "services/NAME" }` after the last service in
/// [workspace.dependencies], and `NAME.workspace = true` after the last service among the root
/// package's [dependencies] (so that `shop up` can start it).
fn root_manifest(text: &str, name: &str, root: &Path) -> anyhow::Result<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let is_service = |crate_name: &str| root.join("services").join(crate_name).is_dir();
    let section = |lines: &[String], header: &str| -> anyhow::Result<(usize, usize)> {
        let start = lines
            .iter()
            .position(|l| l.trim() == header)
            .with_context(|| format!("Cargo.toml has no {header}"))?;
        let end = (start + 1..lines.len())
            .find(|&i| lines[i].starts_with('['))
            .unwrap_or(lines.len());
        Ok((start, end))
    };
    let (start, end) = section(&lines, "[workspace.dependencies]")?;
    let at = (start..end)
        .rev()
        .find(|&i| {
            lines[i].contains("path = \"services/")
                && lines[i].split_whitespace().next().is_some_and(is_service)
        })
        .context("Cargo.toml: no `SERVICE = { path = \"services/SERVICE\" }` in [workspace.dependencies]")?;
    lines.insert(at + 1, format!("{name} = {{ path = \"services/{name}\" }}"));
    let (start, end) = section(&lines, "[dependencies]")?;
    let at = (start..end)
        .rev()
        .find(|&i| {
            lines[i]
                .strip_suffix(".workspace = true")
                .is_some_and(is_service)
        })
        .context(
            "Cargo.toml: no `SERVICE.workspace = true` among the dependencies of the root package",
        )?;
    lines.insert(at + 1, format!("{name}.workspace = true"));
    Ok(lines.join("\n") + "\n")
}

/// docs/configuration.md with `row` after the last gRPC service of its table of binaries and ports
/// (tests/configuration.rs checks that table against services.txt).
fn ports_row(text: &str, row: &str) -> anyhow::Result<String> {
    let mut lines: Vec<&str> = text.lines().collect();
    let last = lines
        .iter()
        .rposition(|l| l.starts_with("| `") && l.contains("| gRPC `shop."))
        .ok_or_else(|| anyhow::anyhow!("docs/configuration.md has no row of a gRPC service"))?;
    lines.insert(last + 1, row);
    let mut out = lines.join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// docs/configuration.md with `row` appended to the table of its "## Per service" section
/// (tests/configuration.rs checks that every variable a binary reads is documented).
fn per_service_row(text: &str, row: &str) -> anyhow::Result<String> {
    let start = text.find("\n## Per service").ok_or_else(|| {
        anyhow::anyhow!("docs/configuration.md has no \"## Per service\" section")
    })?;
    let mut lines: Vec<&str> = text.lines().collect();
    let section = text[..start].lines().count() + 1;
    let first = (section..lines.len())
        .find(|&i| lines[i].starts_with('|'))
        .ok_or_else(|| anyhow::anyhow!("no table under \"## Per service\""))?;
    let end = (first..lines.len())
        .find(|&i| !lines[i].starts_with('|'))
        .unwrap_or(lines.len());
    lines.insert(end, row);
    let mut out = lines.join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// The rows of the network-policies README's table that services.txt decides: one per caller (its
/// callees and their ports), and the services that own a database -> postgres. They replace the
/// rows that name only services (tests/manifests.rs checks the same rows).
fn network_policy_flows(text: &str, rows: &[Row]) -> anyhow::Result<String> {
    let serving: Vec<&Row> = rows.iter().filter(|r| r.kind != "tool").collect();
    let is_service_cell = |cell: &str| {
        cell.split(", ")
            .all(|n| serving.iter().any(|r| r.name == n.trim()))
    };
    let mut flows = Vec::new();
    for r in &serving {
        if r.calls.is_empty() {
            continue;
        }
        let ports: Vec<String> = r
            .calls
            .iter()
            .map(|c| {
                rows.iter()
                    .find(|x| &x.name == c)
                    .and_then(|x| x.port)
                    .map(|p| p.to_string())
                    .with_context(|| format!("{} calls {c}, which has no port", r.name))
            })
            .collect::<anyhow::Result<_>>()?;
        flows.push(format!(
            "| {} | {} | {} |",
            r.name,
            r.calls.join(", "),
            ports.join(", ")
        ));
    }
    let owners: Vec<&str> = serving
        .iter()
        .filter(|r| r.database)
        .map(|r| r.name.as_str())
        .collect();
    if !owners.is_empty() {
        flows.push(format!("| {} | postgres | 5432 |", owners.join(", ")));
    }
    let lines: Vec<&str> = text.lines().collect();
    let generated: Vec<usize> = (0..lines.len())
        .filter(|&i| {
            let cells: Vec<&str> = lines[i].split('|').map(str::trim).collect();
            cells.len() == 5 && is_service_cell(cells[1])
        })
        .collect();
    let (Some(&first), Some(&last)) = (generated.first(), generated.last()) else {
        bail!("no table row whose `from` names only services");
    };
    ensure!(
        last - first + 1 == generated.len(),
        "the rows that name only services are not together"
    );
    let mut out: Vec<String> = lines[..first].iter().map(|l| l.to_string()).collect();
    out.extend(flows);
    out.extend(lines[last + 1..].iter().map(|l| l.to_string()));
    Ok(out.join("\n") + "\n")
}

/// The Jenkinsfile with the SERVICE axis of the image matrix listing `names`, in services.txt order.
fn jenkins_matrix(text: &str, names: &[String]) -> anyhow::Result<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let axis = lines
        .iter()
        .position(|l| l.contains("name 'SERVICE'"))
        .context("no matrix axis `name 'SERVICE'`")?;
    let values = (axis + 1..lines.len())
        .find(|&i| lines[i].trim_start().starts_with("values "))
        .context("no `values` line after `name 'SERVICE'`")?;
    let pad = &lines[values][..lines[values].len() - lines[values].trim_start().len()];
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    lines[values] = format!("{pad}values {}", quoted.join(", "));
    Ok(lines.join("\n") + "\n")
}

/// `localhost:5001/` from the overlay's images (`newName: localhost:5001/shop-gateway`).
fn image_prefix(kustomization: &str) -> anyhow::Result<String> {
    let doc: serde_norway::Value = serde_norway::from_str(kustomization)?;
    doc["images"]
        .as_sequence()
        .into_iter()
        .flatten()
        .find_map(|image| {
            let name = image["name"].as_str()?.strip_prefix("shop-")?;
            let new_name = image["newName"].as_str()?;
            new_name
                .strip_suffix(&format!("shop-{name}"))
                .map(str::to_owned)
        })
        .context("no shop-* image with a newName to copy the registry from")
}

/// Every YAML and TOML file parses, and says what the edit meant it to say.
fn verify(plan: &Plan, s: &Service) -> anyhow::Result<()> {
    let n = s.name.as_str();
    let mut docs: BTreeMap<&str, Vec<serde_norway::Value>> = BTreeMap::new();
    for (path, text) in &plan.contents {
        if path.ends_with(".yaml") || path.ends_with(".yml") {
            let parsed: Result<Vec<serde_norway::Value>, _> =
                serde_norway::Deserializer::from_str(text)
                    .map(serde_norway::Value::deserialize)
                    .collect();
            docs.insert(
                path.as_str(),
                parsed.with_context(|| format!("{path} is not valid YAML"))?,
            );
        } else if path.ends_with("Cargo.toml") {
            text.parse::<toml::Table>()
                .with_context(|| format!("{path} is not valid TOML"))?;
        }
    }
    let manifest: toml::Table = plan.contents["Cargo.toml"].parse()?;
    let at = |path: &[&str]| -> Option<toml::Value> {
        let (first, rest) = path.split_first()?;
        rest.iter()
            .try_fold(manifest.get(*first)?.clone(), |v, key| v.get(key).cloned())
    };
    let path = format!("services/{n}");
    ensure!(
        at(&["workspace", "dependencies", n, "path"]).and_then(|v| v.as_str().map(str::to_owned))
            == Some(path.clone()),
        "Cargo.toml: [workspace.dependencies] {n}"
    );
    ensure!(
        at(&["dependencies", n, "workspace"]).and_then(|v| v.as_bool()) == Some(true),
        "Cargo.toml: [dependencies] {n}"
    );
    let members = at(&["workspace", "members"]).context("workspace.members")?;
    let members = members.as_array().context("workspace.members")?;
    ensure!(
        members
            .iter()
            .any(|m| matches!(m.as_str(), Some("services/*")))
            || members.iter().any(|m| m.as_str() == Some(path.as_str())),
        "Cargo.toml: workspace.members does not include services/{n} (add \"services/*\")"
    );
    let names = |doc: &serde_norway::Value, key: &str, field: &str| -> Vec<String> {
        doc[key]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(|v| v[field].as_str().or(v.as_str()).map(str::to_owned))
            .collect()
    };
    let base = &docs["k8s/base/kustomization.yaml"][0];
    ensure!(
        names(base, "resources", "").contains(&format!("{n}.yaml")),
        "base resources"
    );
    ensure!(
        names(base, "images", "name").contains(&format!("shop-{n}")),
        "base images"
    );
    for (path, doc) in &docs {
        if path.starts_with("k8s/overlays/") && doc[0]["images"].is_sequence() {
            ensure!(
                names(&doc[0], "images", "name").contains(&format!("shop-{n}")),
                "{path}: images"
            );
        }
    }
    if let Some(compose) = docs.get("compose.yaml") {
        let services = &compose[0]["services"];
        ensure!(
            services[n]["build"].is_mapping(),
            "compose.yaml: services.{n}"
        );
        for c in &s.callers {
            let url = format!("http://{n}:{}", s.port);
            ensure!(
                services[c.name.as_str()]["environment"][format!("{}_URL", s.upper).as_str()]
                    .as_str()
                    == Some(url.as_str()),
                "compose.yaml: {} gets {}_URL",
                c.name,
                s.upper
            );
        }
    }
    for c in &s.callers {
        let path = format!("k8s/base/{}.yaml", c.name);
        let deployment = docs[path.as_str()]
            .iter()
            .find(|d| d["kind"] == "Deployment")
            .context("a Deployment")?;
        let env = &deployment["spec"]["template"]["spec"]["containers"][0]["env"];
        ensure!(
            env.as_sequence()
                .into_iter()
                .flatten()
                .any(|e| e["name"].as_str() == Some(&format!("{}_URL", s.upper))),
            "{path}: {}_URL",
            s.upper
        );
    }
    Ok(())
}

/// Formats the Rust files it creates or edits, as `cargo fmt` would, and those only: each is piped
/// through rustfmt on its own (so no module it declares is touched). Without rustfmt, says so.
fn format_rust(plan: &mut Plan) {
    let edition = plan
        .current("Cargo.toml")
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .and_then(|t| {
            let edition = t.get("workspace")?.get("package")?.get("edition")?;
            edition.as_str().map(str::to_owned)
        })
        .unwrap_or_else(|| "2024".to_owned());
    let rustfmt = std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".to_owned());
    let files: Vec<String> = plan
        .contents
        .keys()
        .filter(|p| p.ends_with(".rs"))
        .cloned()
        .collect();
    for path in files {
        // Where rustfmt looks for a rustfmt.toml: the file's directory, or its nearest existing parent.
        let full = plan.root.join(&path);
        let dir = full
            .ancestors()
            .skip(1)
            .find(|d| d.is_dir())
            .unwrap_or(&plan.root);
        match rustfmt_text(&rustfmt, &edition, dir, &plan.contents[&path]) {
            Ok(formatted) => {
                plan.contents.insert(path, formatted);
            }
            Err(e) => {
                println!("  note    {path} is not formatted ({e:#}): run `cargo fmt --all`");
            }
        }
    }
}

fn rustfmt_text(rustfmt: &str, edition: &str, dir: &Path, text: &str) -> anyhow::Result<String> {
    use std::io::Write as _;
    let mut child = Command::new(rustfmt)
        .args(["--edition", edition, "--emit", "stdout"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("running {rustfmt}"))?;
    child
        .stdin
        .take()
        .context("rustfmt's stdin")?
        .write_all(text.as_bytes())?;
    let output = child.wait_with_output()?;
    ensure!(
        output.status.success(),
        "{rustfmt}: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(String::from_utf8(output.stdout)?)
}

fn print_next_steps(s: &Service, plan: &Plan) {
    let n = &s.name;
    let (created, edited) = plan.counts();
    if s.http {
        println!(
            "\n{n}: web pages on {} (admin {} under `shop up`), under {} behind the Ingress; \
             created {created} files, edited {edited}.",
            s.port, s.admin, s.ingress_path
        );
        println!(
            "\nLeft to write by hand (2):\n  1. the pages: services/{n}/src/pages.rs (they call the \
             shop's REST API through `Api`)\n  2. what it is for: docs/services/{n}.md"
        );
        println!(
            "\nCheck it:\n  cargo test -p {n}\n  cargo run -- up   # http://127.0.0.1:{}/\n  \
             cargo test -p shop --test manifests",
            s.port
        );
        return;
    }
    println!(
        "\n{n}: gRPC on {} (admin {} under `shop up`); created {created} files, edited {edited}.",
        s.port, s.admin
    );
    let mut left = vec![
        format!(
            "the contract: proto/proto/shop/{n}/v1/{n}.proto (your messages and rpcs), and what it \
             is for in docs/services/{n}.md"
        ),
        format!(
            "the rules: services/{n}/src/domain.rs and app.rs{}, then grpc.rs to map the new messages",
            if s.stateful {
                " (and store.rs + migrations/ for the data it keeps)"
            } else {
                ""
            }
        ),
    ];
    for c in &s.callers {
        let lib = format!("{}/src/lib.rs", c.dir);
        let in_state = plan
            .current(&lib)
            .is_ok_and(|text| edit::has_anchor(&text, CLIENT_FIELDS));
        left.push(if in_state {
            format!(
                "the call: {lib} gives its handlers a `{n}` client (AppState); call it from those \
                 that need {n}"
            )
        } else {
            format!(
                "the call: {lib} creates a `{n}` client; pass it to the {} use cases that call {n}, \
                 and remove its #[allow(unused_variables)]",
                c.name
            )
        });
    }
    println!("\nLeft to write by hand ({}):", left.len());
    for (i, item) in left.iter().enumerate() {
        println!("  {}. {item}", i + 1);
    }
    println!(
        "\nCheck it:\n  cargo test -p {n}\n  cargo run -- up\n  kubectl kustomize k8s/overlays/kind\n  \
         cargo test -p shop --test manifests\n  UPDATE=1 scripts/ci/user-scripts.sh   # the scripts' \
         transcripts list every image: read the diff"
    );
}

/// Files to create and edit, held in memory until every change is ready and checked.
struct Plan {
    root: PathBuf,
    /// Path (relative, `/`-separated) -> new content.
    contents: BTreeMap<String, String>,
    /// In the order they were first touched: (path, created?, what was done).
    log: Vec<(String, bool, Vec<String>)>,
}

impl Plan {
    fn new(root: &Path) -> Self {
        Self {
            root: root.to_owned(),
            contents: BTreeMap::new(),
            log: Vec::new(),
        }
    }

    fn root(&self) -> &Path {
        &self.root
    }

    fn exists(&self, path: &str) -> bool {
        self.contents.contains_key(path) || self.root.join(path).exists()
    }

    fn subdirs(&self, path: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.root.join(path))
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn current(&self, path: &str) -> anyhow::Result<String> {
        match self.contents.get(path) {
            Some(text) => Ok(text.clone()),
            None => std::fs::read_to_string(self.root.join(path))
                .with_context(|| format!("reading {path}")),
        }
    }

    fn create(&mut self, path: &str, text: String) -> anyhow::Result<()> {
        ensure!(!self.exists(path), "{path} already exists");
        self.contents.insert(path.to_owned(), text);
        self.log.push((path.to_owned(), true, Vec::new()));
        Ok(())
    }

    fn edit(
        &mut self,
        path: &str,
        what: &str,
        change: impl FnOnce(&str) -> anyhow::Result<String>,
    ) -> anyhow::Result<()> {
        let text = self.current(path)?;
        let new = change(&text).with_context(|| format!("{path}: {what}"))?;
        self.contents.insert(path.to_owned(), new);
        match self.log.iter_mut().find(|(p, _, _)| p == path) {
            Some((_, _, notes)) => notes.push(what.to_owned()),
            None => self
                .log
                .push((path.to_owned(), false, vec![what.to_owned()])),
        }
        Ok(())
    }

    fn write(&self) -> anyhow::Result<()> {
        for (path, text) in &self.contents {
            let full = self.root.join(path);
            if let Some(dir) = full.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            std::fs::write(&full, text).with_context(|| format!("writing {path}"))?;
        }
        Ok(())
    }

    fn counts(&self) -> (usize, usize) {
        let created = self.log.iter().filter(|(_, c, _)| *c).count();
        (created, self.log.len() - created)
    }

    fn print(&self) {
        for (path, created, notes) in &self.log {
            if *created {
                println!("  create  {path}");
            } else {
                println!("  edit    {path}  ({})", notes.join("; "));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_args() -> Args {
        Args {
            name: String::new(),
            stateful: false,
            http: false,
            ingress_path: None,
            called_by: Vec::new(),
            dry_run: false,
            root: None,
        }
    }

    fn rows() -> Vec<Row> {
        parse_rows(LIST).unwrap()
    }

    const LIST: &str = "\
# name     kind  port   admin  database  calls
catalog    grpc  50051  9091   yes       -
orders     grpc  50053  9093   yes       catalog,payments
payments   grpc  50054  9094   yes       -
gateway    http  8080   9090   no        catalog,orders
loadgen    tool  -      -      no        gateway
";

    fn shipping(callers: &[&str]) -> Service {
        Service {
            name: "shipping".into(),
            pascal: "Shipping".into(),
            upper: "SHIPPING".into(),
            port: 50055,
            admin: 9095,
            stateful: true,
            http: false,
            ingress_path: "/shipping".into(),
            callers: callers
                .iter()
                .map(|c| Caller {
                    name: c.to_string(),
                    dir: format!("services/{c}"),
                })
                .collect(),
        }
    }

    #[test]
    fn the_flow_table_follows_the_new_list_and_keeps_the_other_rows() {
        let readme = "\
| from | to | port |
|---|---|---|
| namespace `traefik`, loadgen | gateway | 8080 |
| gateway | catalog, orders | 50051, 50053 |
| orders | catalog, payments | 50051, 50054 |
| catalog, orders, payments | postgres | 5432 |
| every pod | DNS | 53 |
";
        let list = services_txt(LIST, &rows(), &shipping(&["orders"])).unwrap();
        let out = network_policy_flows(readme, &parse_rows(&list).unwrap()).unwrap();
        assert_eq!(
            out,
            "\
| from | to | port |
|---|---|---|
| namespace `traefik`, loadgen | gateway | 8080 |
| orders | catalog, payments, shipping | 50051, 50054, 50055 |
| gateway | catalog, orders | 50051, 50053 |
| catalog, orders, payments, shipping | postgres | 5432 |
| every pod | DNS | 53 |
"
        );
    }

    #[test]
    fn the_row_goes_after_the_last_grpc_row_and_callers_call_it() {
        let out = services_txt(LIST, &rows(), &shipping(&["orders"])).unwrap();
        assert!(out.contains(
            "payments   grpc  50054  9094   yes       -\nshipping   grpc  50055  9095   yes       -\ngateway"
        ), "{out}");
        assert!(
            out.contains("orders     grpc  50053  9093   yes       catalog,payments,shipping\n"),
            "{out}"
        );
        assert_eq!(parse_rows(&out).unwrap().len(), 6);
    }

    #[test]
    fn ports_are_the_next_free_ones_and_bad_names_are_refused() {
        let args = |name: &str| Args {
            name: name.into(),
            ..no_args()
        };
        let root = std::env::temp_dir();
        let s = service(&args("shipping"), &root, &rows()).unwrap();
        assert_eq!(
            (s.port, s.admin, s.pascal.as_str()),
            (50055, 9095, "Shipping")
        );
        for bad in [
            "Shipping",
            "gift-cards",
            "gift_cards",
            "9lives",
            "x",
            "type",
            "config",
            "orders",
        ] {
            assert!(
                service(&args(bad), &root, &rows()).is_err(),
                "{bad} accepted"
            );
        }
        let unknown = Args {
            called_by: vec!["nobody".into()],
            ..args("shipping")
        };
        let err = service(&unknown, &root, &rows()).unwrap_err().to_string();
        assert!(err.contains("services.txt lists catalog, orders"), "{err}");
    }

    #[test]
    fn the_jenkins_matrix_lists_the_new_order() {
        let text = "axis {\n    name 'SERVICE'\n    values 'a', 'b'\n}\n";
        let out = jenkins_matrix(text, &["a".into(), "c".into(), "b".into()]).unwrap();
        assert_eq!(
            out,
            "axis {\n    name 'SERVICE'\n    values 'a', 'c', 'b'\n}\n"
        );
    }

    #[test]
    fn a_web_front_end_gets_the_next_http_port_a_gateway_row_and_its_path() {
        let root = std::env::temp_dir();
        let web = Args {
            http: true,
            ingress_path: Some("/".into()),
            name: "storefront".into(),
            ..no_args()
        };
        let s = service(&web, &root, &rows()).unwrap();
        assert_eq!(
            (s.port, s.admin, s.ingress_path.as_str()),
            (8081, 9095, "/")
        );
        let list = services_txt(LIST, &rows(), &s).unwrap();
        assert!(
            list.contains("gateway    http  8080   9090   no        catalog,orders\nstorefront http  8081   9095   no        gateway\n"),
            "{list}"
        );
        let under_api = Args {
            ingress_path: Some("/api/shop".into()),
            ..web
        };
        assert!(service(&under_api, &root, &rows()).is_err());
        let v = vars(&s);
        for template in [
            templates::web::CARGO_TOML,
            templates::web::MAIN,
            templates::web::LIB,
            templates::web::CONFIG,
            templates::web::PAGES,
            templates::web::TESTS,
            templates::web::K8S_BASE,
            templates::web::NETWORK_POLICY,
            templates::web::ROUTE,
            templates::web::COMPOSE,
            templates::web::DOC,
        ] {
            let out = render(template, &v).unwrap();
            assert!(!out.contains("{{"), "{out}");
        }
        let base: Vec<serde_norway::Value> =
            serde_norway::Deserializer::from_str(&render(templates::web::K8S_BASE, &v).unwrap())
                .map(serde_norway::Value::deserialize)
                .collect::<Result<_, _>>()
                .unwrap();
        let ingress = base.iter().find(|d| d["kind"] == "Ingress").unwrap();
        assert_eq!(ingress["spec"]["rules"][0]["http"]["paths"][0]["path"], "/");
    }

    #[test]
    fn every_template_renders_for_both_kinds_of_service() {
        for stateful in [false, true] {
            let s = Service {
                stateful,
                ..shipping(&["orders", "gateway"])
            };
            let v = vars(&s);
            for template in [
                templates::PROTO,
                templates::CARGO_TOML,
                templates::MIGRATION,
                templates::MAIN,
                templates::LIB,
                templates::CONFIG,
                templates::STORE,
                templates::K8S_BASE,
                templates::NETWORK_POLICY,
                templates::DATABASE_URL,
                templates::PDB,
                templates::COMPOSE,
                templates::DOC,
            ]
            .into_iter()
            .chain(templates::DOMAIN)
            .chain(templates::APP)
            .chain(templates::GRPC)
            .chain(templates::TESTS)
            {
                let out = render(template, &v).unwrap();
                assert!(!out.contains("{{"), "{out}");
            }
            let policy: serde_norway::Value =
                serde_norway::from_str(&render(templates::NETWORK_POLICY, &v).unwrap()).unwrap();
            let from = &policy["spec"]["ingress"][0]["from"];
            assert_eq!(from.as_sequence().unwrap().len(), 2, "{policy:?}");
            assert_eq!(policy["spec"]["egress"].is_sequence(), stateful);
        }
    }
}
