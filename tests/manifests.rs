//! The Kubernetes manifests (k8s/) checked against the code they deploy.
//!
//! Every overlay, the base alone and the base with each component are rendered with
//! `kubectl kustomize`, parsed with the typed k8s-openapi structs, and checked for what Kubernetes
//! relies on: probes on the ports and paths the binaries serve, Services that select their pods and
//! target declared ports, env vars the binaries read (from each crate's `config::ENV_VARS`), images the
//! build script produces, zero-downtime rollouts, hardening, and network policies that allow the
//! shop's own calls. Schema validity is checked separately (kubernetes-validate in
//! scripts/ci/manifests.sh).

use k8s_openapi::api::{
    apps::v1::{Deployment, StatefulSet},
    autoscaling::v2::HorizontalPodAutoscaler,
    core::v1::{ConfigMap, Container, PodSpec, Probe, Service, ServiceAccount},
    networking::v1::{Ingress, NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort},
    policy::v1::PodDisruptionBudget,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::de::DeserializeOwned;
use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

type Labels = BTreeMap<String, String>;

/// The uid of the images' nonroot user (Dockerfile: `USER 65532:65532`).
const NONROOT_UID: i64 = 65532;
/// The default of SHUTDOWN_DRAIN_SECONDS (docs/configuration.md).
const DEFAULT_DRAIN_SECONDS: i64 = 10;
/// Secrets an overlay expects to be created out of band rather than rendered (docs/kubernetes.md).
const EXTERNAL_SECRETS: &[(&str, &str)] = &[
    ("overlays/production", "gateway-jwt"),
    ("overlays/production", "postgres-credentials"),
];

/// What one shop binary reads and serves, from its crate (through its registry entry).
struct Binary {
    env_vars: Vec<String>,
    required: Vec<String>,
    /// The full gRPC service name reported by grpc.health.v1; `None` for the (HTTP) gateway.
    grpc_service: Option<&'static str>,
    /// Default LISTEN_ADDR port (docs/configuration.md).
    default_port: i32,
}

fn strings<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Vec<String> {
    items.into_iter().map(|s| s.as_ref().to_owned()).collect()
}

/// What the binary of `service` reads and serves, from its entry in the registry of `shop up`
/// (src/services.rs), so that a new service needs no edit here.
fn binary(service: &str) -> Binary {
    let entry = shop::services::entry(service).unwrap_or_else(|| {
        panic!("services.txt lists {service}, which src/services.rs does not know")
    });
    Binary {
        env_vars: strings((entry.env_vars)()),
        required: (entry.required)(),
        grpc_service: entry.grpc_service,
        default_port: i32::from(entry.default_port),
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The rows of services.txt, the one list of what the shop deploys, read with the parser `shop up`
/// uses.
fn service_list() -> &'static Vec<shop::services::Listed> {
    static LIST: OnceLock<Vec<shop::services::Listed>> = OnceLock::new();
    LIST.get_or_init(|| {
        let path = root().join("services.txt");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        shop::services::parse(&text).unwrap_or_else(|e| panic!("{e}"))
    })
}

/// The shop's services (every row of services.txt that serves something).
fn build_script_services() -> &'static Vec<String> {
    static SERVICES: OnceLock<Vec<String>> = OnceLock::new();
    SERVICES.get_or_init(|| {
        service_list()
            .iter()
            .filter(|s| s.kind != "tool")
            .map(|s| s.name.clone())
            .collect()
    })
}

/// Images of tools that serve nothing (the load generator).
fn build_script_tools() -> &'static Vec<String> {
    static TOOLS: OnceLock<Vec<String>> = OnceLock::new();
    TOOLS.get_or_init(|| {
        service_list()
            .iter()
            .filter(|s| s.kind == "tool")
            .map(|s| s.name.clone())
            .collect()
    })
}

/// `KEY=value` lines of k8s/versions.env.
fn versions() -> &'static BTreeMap<String, String> {
    static VERSIONS: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    VERSIONS.get_or_init(|| {
        let text =
            std::fs::read_to_string(root().join("k8s/versions.env")).expect("k8s/versions.env");
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| {
                let (k, v) = l
                    .split_once('=')
                    .unwrap_or_else(|| panic!("versions.env: {l:?}"));
                (k.to_owned(), v.to_owned())
            })
            .collect()
    })
}

/// Third-party images, repository -> tag, from the `*_IMAGE` entries of k8s/versions.env.
fn pinned_images() -> BTreeMap<String, String> {
    versions()
        .iter()
        .filter(|(k, _)| k.ends_with("_IMAGE"))
        .map(|(_, image)| {
            let (repo, tag) = split_image(image);
            (repo.to_owned(), tag.to_owned())
        })
        .collect()
}

/// One rendered kustomization: a name (e.g. `overlays/kind`, `base+postgres`) and its objects.
struct Render {
    name: String,
    docs: Vec<serde_norway::Value>,
}

impl Render {
    fn all<K: DeserializeOwned>(&self, kind: &str) -> Vec<K> {
        self.docs
            .iter()
            .filter(|d| d["kind"].as_str() == Some(kind))
            .map(|d| {
                serde_norway::from_value(d.clone()).unwrap_or_else(|e| {
                    panic!("{}: a {kind} does not parse: {e}\n{d:?}", self.name)
                })
            })
            .collect()
    }

    fn names(&self, kind: &str) -> BTreeSet<String> {
        self.docs
            .iter()
            .filter(|d| d["kind"].as_str() == Some(kind))
            .filter_map(|d| d["metadata"]["name"].as_str().map(str::to_owned))
            .collect()
    }

    /// Keys of a ConfigMap's or Secret's data, `None` if the object is not in the render.
    fn data_keys(&self, kind: &str, name: &str) -> Option<BTreeSet<String>> {
        let doc = self.docs.iter().find(|d| {
            d["kind"].as_str() == Some(kind) && d["metadata"]["name"].as_str() == Some(name)
        })?;
        let mut keys = BTreeSet::new();
        for field in ["data", "stringData"] {
            if let Some(map) = doc[field].as_mapping() {
                keys.extend(map.keys().filter_map(|k| k.as_str().map(str::to_owned)));
            }
        }
        Some(keys)
    }

    fn config_value(&self, name: &str, key: &str) -> Option<String> {
        self.all::<ConfigMap>("ConfigMap")
            .into_iter()
            .find(|c| c.metadata.name.as_deref() == Some(name))?
            .data?
            .get(key)
            .cloned()
    }

    fn workloads(&self) -> Vec<Workload> {
        let mut out = Vec::new();
        for d in self.all::<Deployment>("Deployment") {
            let spec = d.spec.expect("Deployment without spec");
            let template = spec.template;
            out.push(Workload {
                kind: "Deployment",
                name: d.metadata.name.unwrap_or_default(),
                labels: d.metadata.labels.unwrap_or_default(),
                annotations: d.metadata.annotations.unwrap_or_default(),
                pod_labels: template.metadata.and_then(|m| m.labels).unwrap_or_default(),
                pod: template.spec.expect("Deployment without pod spec"),
                replicas: spec.replicas,
                strategy: spec.strategy.map(|s| {
                    let ru = s.rolling_update.unwrap_or_default();
                    (
                        s.type_.unwrap_or_default(),
                        ru.max_unavailable,
                        ru.max_surge,
                    )
                }),
            });
        }
        for s in self.all::<StatefulSet>("StatefulSet") {
            let spec = s.spec.expect("StatefulSet without spec");
            let template = spec.template;
            out.push(Workload {
                kind: "StatefulSet",
                name: s.metadata.name.unwrap_or_default(),
                labels: s.metadata.labels.unwrap_or_default(),
                annotations: s.metadata.annotations.unwrap_or_default(),
                pod_labels: template.metadata.and_then(|m| m.labels).unwrap_or_default(),
                pod: template.spec.expect("StatefulSet without pod spec"),
                replicas: spec.replicas,
                strategy: None,
            });
        }
        out
    }

    /// The shop's own workloads: (service name from SERVICES, workload, its container).
    fn shop_workloads(&self) -> Vec<(String, Workload)> {
        self.workloads()
            .into_iter()
            .filter_map(|w| {
                let service = w
                    .pod
                    .containers
                    .iter()
                    .find_map(|c| shop_service_of_image(c.image.as_deref()?))
                    .filter(|s| build_script_services().contains(s))?;
                Some((service, w))
            })
            .collect()
    }
}

struct Workload {
    kind: &'static str,
    name: String,
    labels: Labels,
    annotations: Labels,
    pod_labels: Labels,
    pod: PodSpec,
    replicas: Option<i32>,
    strategy: Option<(String, Option<IntOrString>, Option<IntOrString>)>,
}

impl Workload {
    fn id(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }

    /// The shop container: the one named after the workload.
    fn container(&self) -> &Container {
        self.pod
            .containers
            .iter()
            .find(|c| c.name == self.name)
            .unwrap_or_else(|| panic!("{}: no container named {}", self.id(), self.name))
    }

    /// Resolves a port given by name or number to a number declared by one of the containers.
    fn declared_port(&self, port: &IntOrString) -> Option<i32> {
        let ports = self
            .pod
            .containers
            .iter()
            .flat_map(|c| c.ports.iter().flatten());
        match port {
            IntOrString::Int(n) => ports.map(|p| p.container_port).find(|p| p == n),
            IntOrString::String(name) => ports
                .filter(|p| p.name.as_deref() == Some(name))
                .map(|p| p.container_port)
                .next(),
        }
    }

    fn skips_check(&self, check: &str) -> bool {
        self.annotations
            .iter()
            .any(|(k, v)| k.starts_with("checkov.io/skip") && v.starts_with(&format!("{check}=")))
    }
}

/// `localhost:5001/shop-catalog:abc` -> `catalog` when `catalog` is in SERVICES.
fn shop_service_of_image(image: &str) -> Option<String> {
    let (repo, _) = split_image(image);
    let last = repo.rsplit('/').next()?;
    let service = last.strip_prefix("shop-")?;
    Some(service.to_owned())
}

/// Splits `registry:5001/name:tag` into (`registry:5001/name`, `tag`).
fn split_image(image: &str) -> (&str, &str) {
    let image = image.split('@').next().unwrap_or(image);
    match image.rfind(':') {
        Some(i) if !image[i..].contains('/') => (&image[..i], &image[i + 1..]),
        _ => (image, ""),
    }
}

fn kubectl() -> String {
    std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".to_owned())
}

fn kustomize(dir: &Path) -> Vec<serde_norway::Value> {
    let output = Command::new(kubectl()).arg("kustomize").arg(dir).output().unwrap_or_else(|e| {
        panic!(
            "cannot run `{} kustomize`: {e}. These tests render k8s/ with kubectl: install kubectl \
             (1.27 or later) or point KUBECTL at it.",
            kubectl()
        )
    });
    assert!(
        output.status.success(),
        "`kubectl kustomize {}` failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("kustomize output is UTF-8");
    serde_norway::Deserializer::from_str(&text)
        .map(|doc| serde::Deserialize::deserialize(doc).expect("kustomize output is YAML"))
        .filter(|v: &serde_norway::Value| !v.is_null())
        .collect()
}

/// `to` relative to `from` (kustomize refuses absolute paths to bases and components).
fn relative(from: &Path, to: &Path) -> PathBuf {
    let mut path = PathBuf::new();
    for _ in from.components().skip(1) {
        path.push("..");
    }
    path.join(to.strip_prefix("/").expect("absolute path"))
}

fn subdirs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("kustomization.yaml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Every overlay, the base, and the base with each component on its own.
fn renders() -> &'static Vec<Render> {
    static RENDERS: OnceLock<Vec<Render>> = OnceLock::new();
    RENDERS.get_or_init(|| {
        let k8s = root().join("k8s").canonicalize().expect("k8s/ exists");
        let mut out = vec![Render { name: "base".into(), docs: kustomize(&k8s.join("base")) }];
        for overlay in subdirs(&k8s.join("overlays")) {
            let docs = kustomize(&k8s.join("overlays").join(&overlay));
            out.push(Render { name: format!("overlays/{overlay}"), docs });
        }
        let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
        let tmp_path = tmp.path().canonicalize().expect("temp dir path");
        for component in subdirs(&k8s.join("components")) {
            let dir = tmp_path.join(&component);
            std::fs::create_dir_all(&dir).expect("temp dir");
            let kustomization = format!(
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: shop\n\
                 resources:\n  - {}\ncomponents:\n  - {}\n",
                relative(&dir, &k8s.join("base")).display(),
                relative(&dir, &k8s.join("components").join(&component)).display(),
            );
            std::fs::write(dir.join("kustomization.yaml"), kustomization).expect("writing kustomization");
            out.push(Render { name: format!("base+{component}"), docs: kustomize(&dir) });
        }
        out
    })
}

// ---------------------------------------------------------------------------------------------
// Helpers on containers

fn env_literal(c: &Container, name: &str) -> Option<String> {
    c.env
        .iter()
        .flatten()
        .find(|e| e.name == name)?
        .value
        .clone()
}

/// The value of an env var, following configMapKeyRef into the render.
fn env_value(r: &Render, c: &Container, name: &str) -> Option<String> {
    let var = c.env.iter().flatten().find(|e| e.name == name)?;
    if let Some(v) = &var.value {
        return Some(v.clone());
    }
    let cm = var.value_from.as_ref()?.config_map_key_ref.as_ref()?;
    r.config_value(&cm.name, &cm.key)
}

fn port_of_addr(addr: &str) -> i32 {
    addr.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in address {addr:?}"))
}

/// How long the process may take after SIGTERM: the not-ready delay plus the drain.
fn drain_seconds(r: &Render, c: &Container) -> i64 {
    let seconds = |name: &str, default: i64| {
        env_value(r, c, name)
            .map(|v| {
                v.parse::<f64>()
                    .unwrap_or_else(|_| panic!("{name}={v:?} is not a number"))
                    .ceil() as i64
            })
            .unwrap_or(default)
    };
    seconds("SHUTDOWN_DELAY_SECONDS", 0) + seconds("SHUTDOWN_DRAIN_SECONDS", DEFAULT_DRAIN_SECONDS)
}

fn probes(c: &Container) -> [(&'static str, Option<&Probe>); 3] {
    [
        ("startupProbe", c.startup_probe.as_ref()),
        ("readinessProbe", c.readiness_probe.as_ref()),
        ("livenessProbe", c.liveness_probe.as_ref()),
    ]
}

/// `http://catalog:50051` or `http://catalog.shop.svc.cluster.local:50051` -> ("catalog", 50051).
fn parse_url(url: &str) -> Option<(String, i32)> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let authority = authority.rsplit('@').next()?;
    let (host, port) = authority.rsplit_once(':')?;
    Some((host.split('.').next()?.to_owned(), port.parse().ok()?))
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn every_overlay_deploys_every_listed_service() {
    for r in renders() {
        let deployed: BTreeSet<String> = r.shop_workloads().into_iter().map(|(s, _)| s).collect();
        for service in build_script_services() {
            assert!(
                deployed.contains(service),
                "{}: no workload runs the image shop-{service}",
                r.name
            );
        }
    }
}

#[test]
fn every_image_is_a_listed_service_or_a_third_party_one_pinned_in_versions_env() {
    for r in renders() {
        for w in r.workloads() {
            for c in w
                .pod
                .containers
                .iter()
                .chain(w.pod.init_containers.iter().flatten())
            {
                let image = c
                    .image
                    .as_deref()
                    .unwrap_or_else(|| panic!("{}: {} has no image", r.name, w.id()));
                let (repo, tag) = split_image(image);
                assert!(
                    !tag.is_empty() && tag != "latest",
                    "{}: {}: image {image} has no fixed tag",
                    r.name,
                    w.id()
                );
                match shop_service_of_image(image) {
                    Some(service) => {
                        assert!(
                            build_script_services().contains(&service)
                                || build_script_tools().contains(&service),
                            "{}: {}: image {image}: services.txt lists no {service}",
                            r.name,
                            w.id()
                        );
                        assert_eq!(
                            w.name,
                            service,
                            "{}: shop-{service} runs in {}",
                            r.name,
                            w.id()
                        );
                    }
                    None => assert_eq!(
                        pinned_images().get(repo),
                        Some(&tag.to_owned()),
                        "{}: {}: image {image} is neither shop-<service> nor the third-party image \
                         pinned in k8s/versions.env",
                        r.name,
                        w.id()
                    ),
                }
            }
        }
    }
}

#[test]
fn every_shop_container_has_three_probes_on_ports_and_paths_the_binary_serves() {
    for r in renders() {
        for (service, w) in r.shop_workloads() {
            let bin = binary(&service);
            let c = w.container();
            let at = format!("{}: {}", r.name, w.id());
            let listen =
                env_literal(c, "LISTEN_ADDR").map_or(bin.default_port, |a| port_of_addr(&a));
            assert_eq!(
                w.declared_port(&IntOrString::Int(listen)),
                Some(listen),
                "{at}: LISTEN_ADDR port {listen} is not a declared containerPort"
            );
            // /healthz, /readyz and /metrics are on the admin port, for every binary.
            let admin = env_literal(c, "ADMIN_ADDR").map_or(9090, |a| port_of_addr(&a));
            assert_eq!(
                w.declared_port(&IntOrString::Int(admin)),
                Some(admin),
                "{at}: admin port {admin} not declared"
            );
            assert_ne!(admin, listen, "{at}: the admin port is the public one");
            for (which, probe) in probes(c) {
                let probe = probe.unwrap_or_else(|| panic!("{at}: no {which}"));
                match bin.grpc_service {
                    Some(grpc_name) => {
                        let grpc = probe
                            .grpc
                            .as_ref()
                            .unwrap_or_else(|| panic!("{at}: {which} is not a grpc probe"));
                        assert_eq!(
                            grpc.port, listen,
                            "{at}: {which} probes port {} but the gRPC port is {listen}",
                            grpc.port
                        );
                        let asked = grpc.service.clone().unwrap_or_default();
                        assert!(
                            asked.is_empty() || asked == grpc_name,
                            "{at}: {which} asks grpc.health.v1 about {asked:?}; the binary reports \"\" and {grpc_name:?}"
                        );
                        if which == "readinessProbe" {
                            // tonic-health reports "" SERVING from the start; the service's own name only
                            // once it is ready, and NOT_SERVING as soon as it drains.
                            assert_eq!(
                                asked, grpc_name,
                                "{at}: readinessProbe must ask about {grpc_name}"
                            );
                        }
                    }
                    None => {
                        let http = probe
                            .http_get
                            .as_ref()
                            .unwrap_or_else(|| panic!("{at}: {which} is not an httpGet probe"));
                        assert_eq!(
                            w.declared_port(&http.port),
                            Some(admin),
                            "{at}: {which} is not on the admin port {admin}"
                        );
                        let expected = if which == "readinessProbe" {
                            "/readyz"
                        } else {
                            "/healthz"
                        };
                        assert_eq!(http.path.as_deref(), Some(expected), "{at}: {which} path");
                    }
                }
            }
            // A draining pod reports not-serving; liveness must not kill it before the drain ends.
            let liveness = c.liveness_probe.as_ref().unwrap();
            let tolerated = i64::from(
                liveness.period_seconds.unwrap_or(10) * liveness.failure_threshold.unwrap_or(3),
            );
            assert!(
                tolerated > drain_seconds(r, c),
                "{at}: liveness gives up after {tolerated}s, before the drain ends"
            );
        }
    }
}

#[test]
fn rollouts_remove_a_pod_from_endpoints_before_it_stops_and_wait_for_its_drain() {
    for r in renders() {
        for (_, w) in r.shop_workloads() {
            let at = format!("{}: {}", r.name, w.id());
            let (kind, max_unavailable, max_surge) = w
                .strategy
                .clone()
                .unwrap_or_else(|| panic!("{at}: no strategy"));
            assert_eq!(kind, "RollingUpdate", "{at}");
            assert_eq!(
                max_unavailable,
                Some(IntOrString::Int(0)),
                "{at}: maxUnavailable"
            );
            assert_eq!(max_surge, Some(IntOrString::Int(1)), "{at}: maxSurge");
            let c = w.container();
            let pre_stop = c
                .lifecycle
                .as_ref()
                .and_then(|l| l.pre_stop.as_ref())
                .and_then(|p| p.sleep.as_ref())
                .unwrap_or_else(|| panic!("{at}: no preStop sleep action"))
                .seconds;
            assert!(pre_stop >= 1, "{at}: preStop sleeps {pre_stop}s");
            let grace = w.pod.termination_grace_period_seconds.unwrap_or(30);
            let drain = drain_seconds(r, c);
            assert!(
                grace > pre_stop + drain,
                "{at}: terminationGracePeriodSeconds {grace} does not cover preStop {pre_stop}s + drain {drain}s"
            );
        }
    }
}

#[test]
fn every_env_var_set_is_read_by_the_binary_and_every_required_one_is_set() {
    for r in renders() {
        for (service, w) in r.shop_workloads() {
            let bin = binary(&service);
            let c = w.container();
            let at = format!("{}: {}", r.name, w.id());
            assert!(
                c.env_from.is_none(),
                "{at}: envFrom hides which variables are set; list them in env"
            );
            let set: BTreeSet<&str> = c.env.iter().flatten().map(|e| e.name.as_str()).collect();
            for name in &set {
                assert!(
                    bin.env_vars.iter().any(|v| v == name),
                    "{at}: sets {name}, which {service} does not read"
                );
            }
            for name in &bin.required {
                assert!(
                    set.contains(name.as_str()),
                    "{at}: {service} requires {name}, which is not set"
                );
            }
            for var in c.env.iter().flatten() {
                let Some(from) = &var.value_from else {
                    continue;
                };
                if let Some(cm) = &from.config_map_key_ref {
                    let keys = r.data_keys("ConfigMap", &cm.name);
                    assert!(
                        keys.is_some_and(|k| k.contains(&cm.key)),
                        "{at}: {} reads key {} of ConfigMap {}, which the render does not have",
                        var.name,
                        cm.key,
                        cm.name
                    );
                }
                if let Some(secret) = &from.secret_key_ref {
                    match r.data_keys("Secret", &secret.name) {
                        Some(keys) => assert!(
                            keys.contains(&secret.key),
                            "{at}: Secret {} has no key {}",
                            secret.name,
                            secret.key
                        ),
                        None => assert!(
                            EXTERNAL_SECRETS.contains(&(r.name.as_str(), secret.name.as_str())),
                            "{at}: {} reads Secret {}, which is neither rendered nor a documented external Secret",
                            var.name,
                            secret.name
                        ),
                    }
                }
            }
        }
    }
}

#[test]
fn backend_urls_name_headless_services_on_their_grpc_ports() {
    for r in renders() {
        let services = r.all::<Service>("Service");
        for (_, w) in r.shop_workloads() {
            for var in w
                .container()
                .env
                .iter()
                .flatten()
                .filter(|v| v.name.ends_with("_URL") && v.value.is_some())
            {
                let url = var.value.as_deref().unwrap();
                let at = format!("{}: {}: {}={url}", r.name, w.id(), var.name);
                let (host, port) =
                    parse_url(url).unwrap_or_else(|| panic!("{at}: not a http://host:port URL"));
                let svc = services
                    .iter()
                    .find(|s| s.metadata.name.as_deref() == Some(host.as_str()))
                    .unwrap_or_else(|| panic!("{at}: no Service {host}"));
                let spec = svc.spec.as_ref().unwrap();
                assert!(
                    spec.ports.iter().flatten().any(|p| p.port == port),
                    "{at}: Service {host} has no port {port}"
                );
                let grpc = shop::services::listed()
                    .iter()
                    .any(|l| l.name == host && l.kind == "grpc");
                if grpc {
                    assert_eq!(
                        spec.cluster_ip.as_deref(),
                        Some("None"),
                        "{at}: gRPC backends need a headless Service so clients balance over every pod"
                    );
                }
            }
        }
    }
}

#[test]
fn every_service_selects_the_pods_of_one_workload_and_targets_declared_ports() {
    for r in renders() {
        let workloads = r.workloads();
        let shop: BTreeSet<String> = r.shop_workloads().into_iter().map(|(s, _)| s).collect();
        for svc in r.all::<Service>("Service") {
            let name = svc.metadata.name.clone().unwrap_or_default();
            let at = format!("{}: Service/{name}", r.name);
            let spec = svc.spec.unwrap_or_else(|| panic!("{at}: no spec"));
            let selector = spec.selector.clone().unwrap_or_default();
            assert!(!selector.is_empty(), "{at}: no selector");
            let selected: Vec<&Workload> = workloads
                .iter()
                .filter(|w| selector.iter().all(|(k, v)| w.pod_labels.get(k) == Some(v)))
                .collect();
            assert_eq!(
                selected.len(),
                1,
                "{at}: selects {} workloads",
                selected.len()
            );
            let w = selected[0];
            for port in spec.ports.iter().flatten() {
                let target = port
                    .target_port
                    .clone()
                    .unwrap_or(IntOrString::Int(port.port));
                assert!(
                    w.declared_port(&target).is_some(),
                    "{at}: targetPort {target:?} is not declared by {}",
                    w.id()
                );
            }
            if shop.contains(&name) {
                let headless = spec.cluster_ip.as_deref() == Some("None");
                let grpc = binary(&name).grpc_service.is_some();
                assert_eq!(
                    headless, grpc,
                    "{at}: gRPC backends are headless, the gateway a ClusterIP Service"
                );
            }
        }
    }
}

/// The gateway Service's port that targets the gateway's public (API) port, never the admin one.
fn assert_routes_to_the_public_api(r: &Render, at: &str, service: &str, port: &IntOrString) {
    let services = r.all::<Service>("Service");
    let svc = services
        .iter()
        .find(|s| s.metadata.name.as_deref() == Some(service))
        .unwrap_or_else(|| panic!("{at}: backend Service {service} does not exist"));
    let ports = svc.spec.as_ref().unwrap().ports.clone().unwrap_or_default();
    let sp = ports
        .iter()
        .find(|p| match port {
            IntOrString::Int(n) => p.port == *n,
            IntOrString::String(name) => p.name.as_deref() == Some(name.as_str()),
        })
        .unwrap_or_else(|| panic!("{at}: Service {service} has no port {port:?}"));
    let w = r
        .workloads()
        .into_iter()
        .find(|w| w.name == service)
        .unwrap_or_else(|| panic!("{at}: no workload {service}"));
    let target = w
        .declared_port(&sp.target_port.clone().unwrap_or(IntOrString::Int(sp.port)))
        .unwrap_or_else(|| panic!("{at}: {service}'s targetPort is not declared"));
    let listen = env_literal(w.container(), "LISTEN_ADDR").map_or(8080, |a| port_of_addr(&a));
    assert_eq!(
        target, listen,
        "{at}: routes to port {target}, not the public API port {listen}"
    );
}

/// Checks what the Ingress (or HTTPRoute) sends where: the API to the gateway, the pages to the
/// storefront (path-based routing on one host; the longest prefix wins), and every other web
/// front end of services.txt somewhere outside `/api`.
fn assert_routes(at: &str, routed: &BTreeMap<String, String>) {
    assert_eq!(
        routed.get("/api").map(String::as_str),
        Some("gateway"),
        "{at}: /api"
    );
    assert_eq!(
        routed.get("/").map(String::as_str),
        Some("storefront"),
        "{at}: /"
    );
    for (path, service) in routed {
        assert!(
            path == "/api" || (!path.starts_with("/api") && service != "gateway"),
            "{at}: {path} -> {service}: only /api goes to the gateway, and nothing else under /api"
        );
    }
    for web in shop::services::listed().iter().filter(|l| l.kind == "http") {
        assert!(
            routed.values().any(|s| s == &web.name),
            "{at}: no route to {}: {routed:?}",
            web.name
        );
    }
}

#[test]
fn the_ingress_or_http_route_sends_the_api_to_the_gateway_and_the_pages_to_the_storefront() {
    for r in renders() {
        let mut routed = BTreeMap::new();
        let ingresses = r.all::<Ingress>("Ingress");
        let routes: Vec<&serde_norway::Value> =
            r.docs.iter().filter(|d| d["kind"] == "HTTPRoute").collect();
        assert!(
            !ingresses.is_empty() || !routes.is_empty(),
            "{}: neither an Ingress nor an HTTPRoute",
            r.name
        );
        for ing in ingresses {
            let at = format!(
                "{}: Ingress/{}",
                r.name,
                ing.metadata.name.unwrap_or_default()
            );
            let spec = ing.spec.unwrap_or_else(|| panic!("{at}: no spec"));
            assert_eq!(
                spec.ingress_class_name.as_deref(),
                Some("traefik"),
                "{at}: ingressClassName (k8s/ingress/traefik)"
            );
            let paths: Vec<_> = spec
                .rules
                .iter()
                .flatten()
                .flat_map(|rule| rule.http.iter().flat_map(|h| h.paths.clone()))
                .collect();
            assert!(!paths.is_empty(), "{at}: no paths");
            for path in paths {
                assert_eq!(path.path_type, "Prefix", "{at}: pathType");
                let backend = path
                    .backend
                    .service
                    .unwrap_or_else(|| panic!("{at}: no Service backend"));
                routed.insert(path.path.clone().unwrap_or_default(), backend.name.clone());
                let port = backend
                    .port
                    .unwrap_or_else(|| panic!("{at}: backend without port"));
                let port = match (port.name, port.number) {
                    (Some(name), _) => IntOrString::String(name),
                    (None, Some(n)) => IntOrString::Int(n),
                    _ => panic!("{at}: backend port has neither name nor number"),
                };
                assert_routes_to_the_public_api(r, &at, &backend.name, &port);
            }
        }
        for route in routes {
            let at = format!(
                "{}: HTTPRoute/{}",
                r.name,
                route["metadata"]["name"].as_str().unwrap_or("")
            );
            let parent = &route["spec"]["parentRefs"][0];
            let gateway = r
                .docs
                .iter()
                .find(|d| d["kind"] == "Gateway" && d["metadata"]["name"] == parent["name"])
                .unwrap_or_else(|| panic!("{at}: its parent Gateway is not in the render"));
            assert_eq!(
                gateway["spec"]["gatewayClassName"], "traefik",
                "{at}: GatewayClass"
            );
            let listener = gateway["spec"]["listeners"]
                .as_sequence()
                .unwrap()
                .iter()
                .find(|l| l["name"] == parent["sectionName"])
                .unwrap_or_else(|| panic!("{at}: no listener {:?}", parent["sectionName"]));
            assert_eq!(
                listener["port"].as_i64(),
                Some(i64::from(traefik_web_entrypoint_port())),
                "{at}: a Gateway listener's port is Traefik's entrypoint port"
            );
            for rule in route["spec"]["rules"].as_sequence().unwrap() {
                let backends = rule["backendRefs"].as_sequence().unwrap();
                assert_eq!(backends.len(), 1, "{at}: one backend per rule");
                for m in rule["matches"].as_sequence().unwrap() {
                    assert_eq!(m["path"]["type"], "PathPrefix", "{at}: path type");
                    routed.insert(
                        m["path"]["value"].as_str().unwrap().to_owned(),
                        backends[0]["name"].as_str().unwrap().to_owned(),
                    );
                }
                for b in backends {
                    let port = IntOrString::Int(b["port"].as_i64().unwrap() as i32);
                    assert_routes_to_the_public_api(r, &at, b["name"].as_str().unwrap(), &port);
                }
            }
        }
        assert_routes(&r.name, &routed);
    }
}

#[test]
fn every_workload_is_hardened_and_labelled() {
    for r in renders() {
        let accounts = r.all::<ServiceAccount>("ServiceAccount");
        let shop: BTreeSet<String> = r
            .shop_workloads()
            .into_iter()
            .map(|(_, w)| w.id())
            .collect();
        for w in r.workloads() {
            let at = format!("{}: {}", r.name, w.id());
            let is_shop = shop.contains(&w.id());
            // A tool (the load generator) serves nothing: there is no endpoint to probe.
            let is_tool = w.pod.containers.iter().any(|c| {
                c.image
                    .as_deref()
                    .and_then(shop_service_of_image)
                    .is_some_and(|s| build_script_tools().contains(&s))
            });
            let mut required_labels = vec![
                "app.kubernetes.io/name",
                "app.kubernetes.io/part-of",
                "app.kubernetes.io/component",
            ];
            if is_shop {
                required_labels.push("app.kubernetes.io/version");
            }
            for label in &required_labels {
                assert!(w.labels.contains_key(*label), "{at}: no label {label}");
                assert!(
                    w.pod_labels.contains_key(*label),
                    "{at}: pod template has no label {label}"
                );
            }
            let pod_sc = w
                .pod
                .security_context
                .clone()
                .unwrap_or_else(|| panic!("{at}: no pod securityContext"));
            assert_eq!(pod_sc.run_as_non_root, Some(true), "{at}: runAsNonRoot");
            if is_shop {
                assert_eq!(pod_sc.run_as_user, Some(NONROOT_UID), "{at}: runAsUser");
            }
            let sa = w
                .pod
                .service_account_name
                .clone()
                .unwrap_or_else(|| panic!("{at}: no serviceAccountName"));
            let account = accounts
                .iter()
                .find(|a| a.metadata.name.as_deref() == Some(sa.as_str()))
                .unwrap_or_else(|| panic!("{at}: ServiceAccount {sa} is not in the render"));
            assert_eq!(
                account.automount_service_account_token,
                Some(false),
                "{at}: ServiceAccount {sa} automounts its token"
            );
            if !w.skips_check("CKV_K8S_38") {
                assert_eq!(
                    w.pod.automount_service_account_token,
                    Some(false),
                    "{at}: automountServiceAccountToken"
                );
            }
            for c in &w.pod.containers {
                let at = format!("{at}: container {}", c.name);
                let sc = c
                    .security_context
                    .clone()
                    .unwrap_or_else(|| panic!("{at}: no securityContext"));
                assert_eq!(
                    sc.read_only_root_filesystem,
                    Some(true),
                    "{at}: readOnlyRootFilesystem"
                );
                assert_eq!(
                    sc.allow_privilege_escalation,
                    Some(false),
                    "{at}: allowPrivilegeEscalation"
                );
                assert_ne!(sc.privileged, Some(true), "{at}: privileged");
                let drop = sc
                    .capabilities
                    .and_then(|caps| caps.drop)
                    .unwrap_or_default();
                assert!(
                    drop.iter().any(|d| d == "ALL"),
                    "{at}: capabilities do not drop ALL"
                );
                let seccomp = sc
                    .seccomp_profile
                    .or(pod_sc.seccomp_profile.clone())
                    .map(|p| p.type_);
                assert_eq!(
                    seccomp.as_deref(),
                    Some("RuntimeDefault"),
                    "{at}: seccompProfile"
                );
                let resources = c
                    .resources
                    .clone()
                    .unwrap_or_else(|| panic!("{at}: no resources"));
                for (which, map) in [
                    ("requests", resources.requests),
                    ("limits", resources.limits),
                ] {
                    let map = map.unwrap_or_default();
                    for res in ["cpu", "memory"] {
                        assert!(map.contains_key(res), "{at}: no {res} in resources.{which}");
                    }
                }
                for (which, probe) in probes(c) {
                    assert!(probe.is_some() || is_tool, "{at}: no {which}");
                }
                if is_shop {
                    // Read-only root: the writable places must be volumes.
                    let mount_of = |path: &str| {
                        let mount = c
                            .volume_mounts
                            .iter()
                            .flatten()
                            .find(|m| m.mount_path == path)?;
                        w.pod
                            .volumes
                            .iter()
                            .flatten()
                            .find(|v| v.name == mount.name && v.empty_dir.is_some())
                    };
                    assert!(
                        mount_of("/tmp").is_some(),
                        "{at}: /tmp is not an emptyDir volume"
                    );
                    if let Some(dir) = env_literal(c, "DATA_DIR") {
                        assert!(
                            mount_of(&dir).is_some(),
                            "{at}: DATA_DIR={dir} is not a mounted emptyDir volume"
                        );
                    } else {
                        assert!(
                            c.env.iter().flatten().all(|e| e.name != "DATA_DIR"),
                            "{at}: DATA_DIR must be a literal path"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn hpas_and_pdbs_point_at_workloads_and_the_hpa_owns_the_replica_count() {
    for r in renders() {
        let workloads = r.workloads();
        for hpa in r.all::<HorizontalPodAutoscaler>("HorizontalPodAutoscaler") {
            let at = format!(
                "{}: HorizontalPodAutoscaler/{}",
                r.name,
                hpa.metadata.name.unwrap_or_default()
            );
            let target = hpa.spec.unwrap().scale_target_ref;
            let w = workloads
                .iter()
                .find(|w| w.kind == target.kind && w.name == target.name)
                .unwrap_or_else(|| {
                    panic!(
                        "{at}: scales {}/{}, which is not in the render",
                        target.kind, target.name
                    )
                });
            assert_eq!(
                w.replicas,
                None,
                "{at}: {} sets spec.replicas, which every apply would reset",
                w.id()
            );
            let container = w.container();
            let requests = container
                .resources
                .as_ref()
                .and_then(|res| res.requests.as_ref());
            assert!(
                requests.is_some_and(|m| m.contains_key("cpu")),
                "{at}: CPU utilization needs a CPU request"
            );
        }
        for pdb in r.all::<PodDisruptionBudget>("PodDisruptionBudget") {
            let at = format!(
                "{}: PodDisruptionBudget/{}",
                r.name,
                pdb.metadata.name.unwrap_or_default()
            );
            let selector = pdb
                .spec
                .unwrap()
                .selector
                .and_then(|s| s.match_labels)
                .unwrap_or_default();
            assert!(!selector.is_empty(), "{at}: no selector");
            let n = workloads
                .iter()
                .filter(|w| selector.iter().all(|(k, v)| w.pod_labels.get(k) == Some(v)))
                .count();
            assert_eq!(n, 1, "{at}: selects {n} workloads");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Network policies: a small evaluator for the subset the shop uses (same-namespace podSelectors,
// namespaceSelectors by name, numeric ports).

fn selects(
    selector: &Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
    labels: &Labels,
) -> bool {
    let Some(sel) = selector else { return true };
    assert!(
        sel.match_expressions.is_none(),
        "the evaluator does not handle matchExpressions"
    );
    sel.match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v))
}

/// A peer of a flow: a pod of the shop's namespace (its labels) or another namespace (its name).
enum Peer<'a> {
    Pod(&'a Labels),
    Namespace(&'a str),
}

fn peer_matches(peer: &NetworkPolicyPeer, who: &Peer) -> bool {
    match who {
        Peer::Pod(labels) => {
            peer.namespace_selector.is_none()
                && peer.ip_block.is_none()
                && selects(&peer.pod_selector, labels)
        }
        Peer::Namespace(ns) => {
            let ns_labels: Labels =
                [("kubernetes.io/metadata.name".to_owned(), ns.to_string())].into();
            peer.namespace_selector.is_some() && selects(&peer.namespace_selector, &ns_labels)
        }
    }
}

fn port_matches(ports: &Option<Vec<NetworkPolicyPort>>, port: i32) -> bool {
    ports.as_ref().is_none_or(|ps| {
        ps.iter()
            .any(|p| p.port.as_ref().is_none_or(|n| *n == IntOrString::Int(port)))
    })
}

fn allowed(policies: &[NetworkPolicy], from: &Peer, to: &Labels, port: i32) -> bool {
    let has_type = |p: &NetworkPolicy, t: &str| {
        p.spec
            .as_ref()
            .and_then(|s| s.policy_types.as_ref())
            .is_some_and(|types| types.iter().any(|x| x == t))
    };
    let ingress_ok = {
        let applying: Vec<&NetworkPolicy> = policies
            .iter()
            .filter(|p| {
                has_type(p, "Ingress") && selects(&p.spec.as_ref().unwrap().pod_selector, to)
            })
            .collect();
        applying.is_empty()
            || applying.iter().any(|p| {
                p.spec
                    .as_ref()
                    .unwrap()
                    .ingress
                    .iter()
                    .flatten()
                    .any(|rule| {
                        port_matches(&rule.ports, port)
                            && rule.from.as_ref().is_none_or(|peers| {
                                peers.iter().any(|peer| peer_matches(peer, from))
                            })
                    })
            })
    };
    let egress_ok = match from {
        Peer::Namespace(_) => true, // other namespaces' policies are not ours
        Peer::Pod(labels) => {
            let applying: Vec<&NetworkPolicy> = policies
                .iter()
                .filter(|p| {
                    has_type(p, "Egress") && selects(&p.spec.as_ref().unwrap().pod_selector, labels)
                })
                .collect();
            applying.is_empty()
                || applying.iter().any(|p| {
                    p.spec
                        .as_ref()
                        .unwrap()
                        .egress
                        .iter()
                        .flatten()
                        .any(|rule| {
                            port_matches(&rule.ports, port)
                                && rule.to.as_ref().is_none_or(|peers| {
                                    peers.iter().any(|peer| peer_matches(peer, &Peer::Pod(to)))
                                })
                        })
                })
        }
    };
    ingress_ok && egress_ok
}

#[test]
fn network_policies_allow_every_call_the_shop_makes() {
    for r in renders() {
        let policies = r.all::<NetworkPolicy>("NetworkPolicy");
        if policies.is_empty() {
            continue;
        }
        let workloads = r.workloads();
        let pods_of = |name: &str| {
            workloads
                .iter()
                .find(|w| w.name == name)
                .map(|w| &w.pod_labels)
        };
        let services = r.all::<Service>("Service");
        let target_of = |host: &str, port: i32| -> Option<(&Labels, i32)> {
            let svc = services
                .iter()
                .find(|s| s.metadata.name.as_deref() == Some(host))?;
            let spec = svc.spec.as_ref()?;
            let w = workloads.iter().find(|w| {
                spec.selector
                    .iter()
                    .flatten()
                    .all(|(k, v)| w.pod_labels.get(k) == Some(v))
            })?;
            let sp = spec.ports.iter().flatten().find(|p| p.port == port)?;
            Some((
                &w.pod_labels,
                w.declared_port(&sp.target_port.clone().unwrap_or(IntOrString::Int(port)))?,
            ))
        };
        for (_, w) in r.shop_workloads() {
            let c = w.container();
            // Every URL the binary is given (backends, the collector), when its Service is in the render.
            for var in c.env.iter().flatten() {
                let Some((host, port)) = var.value.as_deref().and_then(parse_url) else {
                    continue;
                };
                let Some((to, target)) = target_of(&host, port) else {
                    continue;
                };
                assert!(
                    allowed(&policies, &Peer::Pod(&w.pod_labels), to, target),
                    "{}: network policies block {} -> {host}:{target} ({}), which the binary calls",
                    r.name,
                    w.name,
                    var.name
                );
            }
            // The database, whose URL is in a Secret.
            if c.env.iter().flatten().any(|e| e.name == "DATABASE_URL")
                && let Some((to, target)) = target_of("postgres", 5432)
            {
                assert!(
                    allowed(&policies, &Peer::Pod(&w.pod_labels), to, target),
                    "{}: {} cannot reach postgres",
                    r.name,
                    w.name
                );
            }
            // DNS, which every client needs to re-resolve its headless backends.
            let dns: Labels = [("k8s-app".to_owned(), "kube-dns".to_owned())].into();
            let dns_allowed = policies.iter().any(|p| {
                let spec = p.spec.as_ref().unwrap();
                selects(&spec.pod_selector, &w.pod_labels)
                    && spec.egress.iter().flatten().any(|rule| {
                        port_matches(&rule.ports, 53)
                            && rule.to.iter().flatten().any(|peer| {
                                peer.namespace_selector.is_some()
                                    && selects(&peer.pod_selector, &dns)
                            })
                    })
            });
            assert!(dns_allowed, "{}: {} may not reach DNS", r.name, w.name);
        }
        // The ingress controller (namespace traefik) and the load generator reach the gateway on
        // the port the Ingress backend targets.
        if let Some(gateway) = pods_of("gateway") {
            let (_, port) = target_of("gateway", 80).expect("Service gateway port 80");
            assert!(
                allowed(&policies, &Peer::Namespace("traefik"), gateway, port),
                "{}: Traefik cannot reach the gateway",
                r.name
            );
            if let Some(loadgen) = pods_of("loadgen") {
                assert!(
                    allowed(&policies, &Peer::Pod(loadgen), gateway, port),
                    "{}: the load generator cannot reach the gateway",
                    r.name
                );
            }
        }
        // Prometheus reaches every metrics port it scrapes: the admin port, for every binary.
        if let Some(prometheus) = pods_of("prometheus") {
            for (service, w) in r.shop_workloads() {
                let port = 9090;
                assert!(
                    allowed(&policies, &Peer::Pod(prometheus), &w.pod_labels, port),
                    "{}: Prometheus cannot scrape {service}:{port}",
                    r.name
                );
            }
        }
    }
}

#[test]
fn the_production_overlay_includes_every_component() {
    let production = renders()
        .iter()
        .find(|r| r.name == "overlays/production")
        .expect("overlays/production");
    for kind in [
        "StatefulSet",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
    ] {
        assert!(
            !production.names(kind).is_empty(),
            "overlays/production has no {kind}"
        );
    }
    for name in ["postgres", "otel-collector", "jaeger", "prometheus"] {
        assert!(
            production.workloads().iter().any(|w| w.name == name),
            "overlays/production does not run {name}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The cluster's ingress controller, the one list of services, versions, immutable fields, sizing

fn traefik() -> &'static Render {
    static TRAEFIK: OnceLock<Render> = OnceLock::new();
    TRAEFIK.get_or_init(|| Render {
        name: "ingress/traefik".into(),
        docs: kustomize(&root().join("k8s/ingress/traefik")),
    })
}

/// The port of Traefik's `web` entrypoint, from its args (`--entrypoints.web.address=:8000/tcp`).
fn traefik_web_entrypoint_port() -> i32 {
    let w = traefik()
        .workloads()
        .into_iter()
        .find(|w| w.name == "traefik")
        .expect("Deployment traefik");
    let arg = w
        .container()
        .args
        .iter()
        .flatten()
        .find_map(|a| {
            a.strip_prefix("--entrypoints.web.address=:")
                .map(str::to_owned)
        })
        .expect("a web entrypoint");
    arg.trim_end_matches("/tcp").parse().expect("a port")
}

#[test]
fn traefik_serves_the_shops_classes_from_a_pinned_hardened_unprivileged_pod() {
    let r = traefik();
    let w = r
        .workloads()
        .into_iter()
        .find(|w| w.name == "traefik")
        .expect("Deployment traefik");
    let c = w.container();
    let image = c.image.as_deref().unwrap();
    assert_eq!(
        Some(image),
        versions().get("TRAEFIK_IMAGE").map(String::as_str),
        "TRAEFIK_IMAGE"
    );
    let args = c.args.clone().unwrap_or_default();
    for flag in [
        "--providers.kubernetesingress=true",
        "--providers.kubernetesgateway=true",
        "--ping=true",
    ] {
        assert!(
            args.iter().any(|a| a == flag),
            "traefik runs without {flag}"
        );
    }
    let sc = c.security_context.clone().expect("securityContext");
    assert_eq!(sc.read_only_root_filesystem, Some(true));
    assert_eq!(sc.allow_privilege_escalation, Some(false));
    assert_eq!(
        w.pod
            .security_context
            .as_ref()
            .and_then(|s| s.run_as_non_root),
        Some(true)
    );
    // No hostPort: the namespace enforces the restricted Pod Security standard.
    assert!(
        c.ports.iter().flatten().all(|p| p.host_port.is_none()),
        "traefik uses a hostPort, which `restricted` forbids"
    );
    let ns = r
        .docs
        .iter()
        .find(|d| d["kind"] == "Namespace")
        .expect("Namespace traefik");
    assert_eq!(
        ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
    // The classes the shop's Ingress and Gateway name.
    let class = r
        .docs
        .iter()
        .find(|d| d["kind"] == "IngressClass")
        .expect("IngressClass");
    assert_eq!(class["metadata"]["name"], "traefik");
    assert_eq!(class["spec"]["controller"], "traefik.io/ingress-controller");
    let gc = r
        .docs
        .iter()
        .find(|d| d["kind"] == "GatewayClass")
        .expect("GatewayClass");
    assert_eq!(gc["metadata"]["name"], "traefik");
    assert_eq!(
        gc["spec"]["controllerName"],
        "traefik.io/gateway-controller"
    );
    // Namespaced objects in `traefik`; cluster-scoped ones (the classes are, GatewayClass a CRD
    // kustomize does not know) without a namespace.
    for d in &r.docs {
        let kind = d["kind"].as_str().unwrap();
        let cluster_scoped = matches!(
            kind,
            "Namespace" | "ClusterRole" | "ClusterRoleBinding" | "IngressClass" | "GatewayClass"
        );
        let ns = d["metadata"]["namespace"].as_str();
        assert_eq!(
            ns.is_none(),
            cluster_scoped,
            "ingress/traefik: {kind} namespace {ns:?}"
        );
        assert!(
            ns.is_none_or(|ns| ns == "traefik"),
            "ingress/traefik: {kind} in {ns:?}"
        );
    }
    // Probes on the /ping entrypoint.
    for (which, probe) in probes(c).into_iter().skip(1) {
        let http = probe
            .and_then(|p| p.http_get.clone())
            .unwrap_or_else(|| panic!("traefik: no {which}"));
        assert_eq!(http.path.as_deref(), Some("/ping"));
        assert!(w.declared_port(&http.port).is_some());
    }
}

#[test]
fn kind_publishes_traefiks_node_port_as_the_hosts_port_80() {
    let svc = traefik()
        .all::<Service>("Service")
        .into_iter()
        .next()
        .expect("Service traefik");
    let spec = svc.spec.unwrap();
    assert_eq!(spec.type_.as_deref(), Some("NodePort"));
    let web = spec
        .ports
        .unwrap()
        .into_iter()
        .find(|p| p.name.as_deref() == Some("web"))
        .expect("port web");
    assert_eq!(web.port, 80);
    let w = traefik()
        .workloads()
        .into_iter()
        .find(|w| w.name == "traefik")
        .unwrap();
    assert_eq!(
        w.declared_port(web.target_port.as_ref().unwrap()),
        Some(traefik_web_entrypoint_port())
    );
    let cluster: serde_norway::Value = serde_norway::from_str(
        &std::fs::read_to_string(root().join("k8s/overlays/kind/cluster.yaml")).unwrap(),
    )
    .unwrap();
    let node = &cluster["nodes"][0];
    assert_eq!(
        node["image"].as_str(),
        versions().get("KIND_NODE_IMAGE").map(String::as_str),
        "cluster.yaml's node image is KIND_NODE_IMAGE of k8s/versions.env"
    );
    let mapping = node["extraPortMappings"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|m| m["hostPort"] == 80)
        .expect("host port 80 is published");
    assert_eq!(
        mapping["containerPort"].as_i64(),
        web.node_port.map(i64::from),
        "node port"
    );
}

#[test]
fn supported_kubernetes_versions_only() {
    let v = versions();
    let minor = |s: &str| -> u32 {
        let s = s.rsplit(":v").next().unwrap().trim_start_matches('v');
        s.split('.').nth(1).unwrap().parse().unwrap()
    };
    // Kubernetes 1.35 to 1.37 are supported as of late 2026; 1.32 and older are end of life.
    for key in ["KUBERNETES_VERSION", "KIND_NODE_IMAGE"] {
        let m = minor(&v[key]);
        assert!(
            (35..=37).contains(&m),
            "{key}={} is not a supported Kubernetes",
            v[key]
        );
    }
    assert!(
        !v.values()
            .any(|image| image.contains("ingress-nginx")
                || image.contains("jaegertracing/all-in-one")),
        "retired: ingress-nginx, Jaeger v1"
    );
    assert!(
        v["JAEGER_IMAGE"].starts_with("jaegertracing/jaeger:2."),
        "Jaeger v2"
    );
}

#[test]
fn compose_uses_the_pinned_postgres_image() {
    let compose: serde_norway::Value =
        serde_norway::from_str(&std::fs::read_to_string(root().join("compose.yaml")).unwrap())
            .unwrap();
    assert_eq!(
        compose["services"]["postgres"]["image"].as_str(),
        versions().get("POSTGRES_IMAGE").map(String::as_str)
    );
}

#[test]
fn the_service_list_matches_the_binaries_and_the_manifests() {
    // The same parser `shop up` uses reads the same rows as this test's.
    let compiled = shop::services::listed();
    assert_eq!(compiled.len(), service_list().len());
    for s in service_list() {
        let crate_dir = ["services", ""]
            .iter()
            .map(|d| root().join(d).join(&s.name))
            .find(|d| d.join("Cargo.toml").exists());
        assert!(
            crate_dir.is_some(),
            "{}: no crate services/{0} or {0}/",
            s.name
        );
        if s.kind == "tool" {
            continue;
        }
        assert!(
            shop::services::entry(&s.name).is_some(),
            "{}: `shop up` cannot start it",
            s.name
        );
        let bin = binary(&s.name);
        assert_eq!(
            s.port.map(i32::from),
            Some(bin.default_port),
            "{}: default port",
            s.name
        );
        assert_eq!(
            s.kind == "grpc",
            bin.grpc_service.is_some(),
            "{}: kind",
            s.name
        );
        assert_eq!(
            s.database,
            bin.env_vars.iter().any(|v| v == "DATABASE_URL"),
            "{}: the database column",
            s.name
        );
        for callee in &s.calls {
            let var = format!("{}_URL", callee.to_uppercase());
            assert!(
                bin.env_vars.contains(&var),
                "{}: calls {callee} but does not read {var}",
                s.name
            );
        }
    }
    // Every deployed shop image is a listed one, and every listed one is deployed in the kind overlay.
    let kind = renders()
        .iter()
        .find(|r| r.name == "overlays/kind")
        .unwrap();
    for s in service_list() {
        assert!(
            kind.workloads().iter().any(|w| w.name == s.name),
            "overlays/kind does not run {}",
            s.name
        );
    }
}

/// Renders `dir` of a copy of k8s/ in which the shop's version label and every shop image tag are
/// changed to `version`: what a new release changes.
fn render_at_version(version: &str, overlay: &str) -> Vec<serde_norway::Value> {
    let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let copy = tmp.path().join("k8s");
    copy_dir(&root().join("k8s"), &copy);
    for entry in walk(&copy) {
        if entry.file_name().is_some_and(|n| n == "kustomization.yaml") {
            let text = std::fs::read_to_string(&entry).unwrap();
            let text = text
                .replace(
                    "app.kubernetes.io/version: \"0.1.0\"",
                    &format!("app.kubernetes.io/version: \"{version}\""),
                )
                .replace("newTag: dev", &format!("newTag: {version}"));
            std::fs::write(&entry, text).unwrap();
        }
    }
    kustomize(&copy.join(overlay))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The fields the API server refuses to change on an existing object.
fn immutable_fields(doc: &serde_norway::Value) -> Vec<(&'static str, serde_norway::Value)> {
    let spec = &doc["spec"];
    match doc["kind"].as_str() {
        Some("Deployment") | Some("DaemonSet") | Some("ReplicaSet") => {
            vec![("spec.selector", spec["selector"].clone())]
        }
        Some("StatefulSet") => vec![
            ("spec.selector", spec["selector"].clone()),
            ("spec.serviceName", spec["serviceName"].clone()),
            (
                "spec.volumeClaimTemplates",
                spec["volumeClaimTemplates"].clone(),
            ),
            (
                "spec.podManagementPolicy",
                spec["podManagementPolicy"].clone(),
            ),
        ],
        Some("Service") => vec![
            ("spec.clusterIP", spec["clusterIP"].clone()),
            ("spec.type", spec["type"].clone()),
        ],
        Some("Job") => vec![("spec.template", spec["template"].clone())],
        Some("PersistentVolumeClaim") => vec![("spec", spec.clone())],
        _ => vec![],
    }
}

#[test]
fn a_new_release_changes_no_immutable_field_in_any_overlay() {
    let k8s = root().join("k8s");
    for overlay in subdirs(&k8s.join("overlays")) {
        let overlay = format!("overlays/{overlay}");
        let (old, new) = (
            render_at_version("1.0.0", &overlay),
            render_at_version("2.0.0", &overlay),
        );
        assert_eq!(old.len(), new.len(), "{overlay}: the same objects");
        let key = |d: &serde_norway::Value| {
            format!(
                "{}/{}",
                d["kind"].as_str().unwrap_or(""),
                d["metadata"]["name"].as_str().unwrap_or("")
            )
        };
        for a in &old {
            let Some(b) = new.iter().find(|b| key(b) == key(a)) else {
                // Generated ConfigMaps are renamed by content, which is how they roll pods.
                continue;
            };
            for ((field, before), (_, after)) in
                immutable_fields(a).into_iter().zip(immutable_fields(b))
            {
                assert_eq!(
                    before,
                    after,
                    "{overlay}: {}: {field} changes with the version, so `kubectl apply` would fail",
                    key(a)
                );
            }
        }
        // The release did change something, or this test would prove nothing.
        assert_ne!(old, new, "{overlay}: the version is not in the manifests");
    }
}

#[test]
fn database_pools_at_full_scale_fit_in_postgres_max_connections() {
    // Superuser reserve (PostgreSQL's default 3) plus room for people and migrations.
    const RESERVE: i64 = 3 + 10;
    for r in renders() {
        let Some(postgres) = r.workloads().into_iter().find(|w| w.name == "postgres") else {
            continue;
        };
        let args = postgres.container().args.clone().unwrap_or_default();
        let max_connections: i64 = args
            .iter()
            .find_map(|a| a.strip_prefix("max_connections="))
            .unwrap_or("100")
            .parse()
            .unwrap();
        let hpas = r.all::<HorizontalPodAutoscaler>("HorizontalPodAutoscaler");
        let mut total = 0;
        let mut lines = Vec::new();
        for (service, w) in r.shop_workloads() {
            let c = w.container();
            if !c.env.iter().flatten().any(|e| e.name == "DATABASE_URL") {
                continue;
            }
            let pool: i64 = env_value(r, c, "DATABASE_MAX_CONNECTIONS")
                .map_or(i64::from(platform::db::DEFAULT_MAX_CONNECTIONS), |v| {
                    v.parse().unwrap()
                });
            let most = hpas
                .iter()
                .find(|h| h.spec.as_ref().unwrap().scale_target_ref.name == w.name)
                .map_or(w.replicas.unwrap_or(1), |h| {
                    h.spec.as_ref().unwrap().max_replicas
                });
            // A rolling update runs maxSurge (1) more pod for a while.
            let pods = i64::from(most) + 1;
            total += pool * pods;
            lines.push(format!("{service}: {pool} x {pods}"));
        }
        assert!(
            total <= max_connections - RESERVE,
            "{}: pools need up to {total} connections ({}), PostgreSQL allows {max_connections} - {RESERVE} reserved",
            r.name,
            lines.join(", ")
        );
    }
}

#[test]
fn hpa_targets_are_real_load_not_idle_noise() {
    for r in renders() {
        let workloads = r.workloads();
        for hpa in r.all::<HorizontalPodAutoscaler>("HorizontalPodAutoscaler") {
            let spec = hpa.spec.unwrap();
            let w = workloads
                .iter()
                .find(|w| w.name == spec.scale_target_ref.name)
                .unwrap();
            let limits = w
                .container()
                .resources
                .as_ref()
                .unwrap()
                .limits
                .clone()
                .unwrap();
            let millis = |q: &str| -> i64 {
                q.strip_suffix('m').map_or_else(
                    || (q.parse::<f64>().unwrap() * 1000.0) as i64,
                    |m| m.parse().unwrap(),
                )
            };
            let limit = millis(&limits["cpu"].0);
            for metric in spec.metrics.unwrap_or_default() {
                let target = metric.resource.expect("a resource metric").target;
                assert_eq!(
                    target.type_, "AverageValue",
                    "{}: {}: an absolute CPU target",
                    r.name, w.name
                );
                let value = millis(&target.average_value.expect("averageValue").0);
                assert!(
                    (100..limit).contains(&value),
                    "{}: {}: target {value}m must be above idle noise (100m) and under the {limit}m limit",
                    r.name,
                    w.name
                );
            }
        }
    }
}

#[test]
fn compose_runs_every_listed_service_wired_as_the_list_says() {
    let mut compose: serde_norway::Value =
        serde_norway::from_str(&std::fs::read_to_string(root().join("compose.yaml")).unwrap())
            .unwrap();
    compose.apply_merge().expect("compose.yaml's merge keys");
    let services = &compose["services"];
    for s in service_list().iter().filter(|s| s.kind != "tool") {
        let svc = &services[s.name.as_str()];
        assert!(!svc.is_null(), "compose.yaml does not run {}", s.name);
        assert_eq!(
            svc["build"]["args"]["SERVICE"].as_str(),
            Some(s.name.as_str()),
            "compose.yaml: {} is built from the Dockerfile with SERVICE={0}",
            s.name
        );
        for callee in &s.calls {
            let var = format!("{}_URL", callee.to_uppercase());
            let port = service_list()
                .iter()
                .find(|c| &c.name == callee)
                .unwrap()
                .port
                .unwrap();
            assert_eq!(
                svc["environment"][var.as_str()].as_str(),
                Some(format!("http://{callee}:{port}").as_str()),
                "compose.yaml: {} calls {callee}",
                s.name
            );
            assert!(
                !svc["depends_on"][callee.as_str()].is_null(),
                "compose.yaml: {} starts after {callee}",
                s.name
            );
        }
    }
}

/// The network-policies README's table of flows and the docs agree with services.txt: the rows
/// that name only services are exactly one per caller (its callees and their ports) and the owners
/// of a database -> postgres, in the list's order (the generator rewrites the same rows).
#[test]
fn the_documented_flows_are_those_of_the_service_list() {
    let list = shop::services::listed();
    let serving: Vec<&shop::services::Listed> = list.iter().filter(|s| s.serves()).collect();
    let port = |name: &str| {
        list.iter()
            .find(|s| s.name == name)
            .and_then(|s| s.port)
            .unwrap_or_else(|| panic!("{name} has no port"))
            .to_string()
    };
    let mut expected: Vec<String> = serving
        .iter()
        .filter(|s| !s.calls.is_empty())
        .map(|s| {
            let ports: Vec<String> = s.calls.iter().map(|c| port(c)).collect();
            format!(
                "| {} | {} | {} |",
                s.name,
                s.calls.join(", "),
                ports.join(", ")
            )
        })
        .collect();
    let owners: Vec<&str> = serving
        .iter()
        .filter(|s| s.database)
        .map(|s| s.name.as_str())
        .collect();
    expected.push(format!("| {} | postgres | 5432 |", owners.join(", ")));

    let readme = std::fs::read_to_string(root().join("k8s/components/network-policies/README.md"))
        .expect("the network-policies README");
    let names_only_services = |cell: &str| {
        cell.split(", ")
            .all(|n| serving.iter().any(|s| s.name == n.trim()))
    };
    let documented: Vec<String> = readme
        .lines()
        .filter(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            cells.len() == 5 && names_only_services(cells[1])
        })
        .map(str::to_owned)
        .collect();
    assert_eq!(
        documented, expected,
        "k8s/components/network-policies/README.md: the flows between services must be those of \
         services.txt"
    );
}
