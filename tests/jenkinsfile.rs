//! The Jenkinsfile and jenkins/ checked against the repository they drive.
//!
//! No Jenkins server runs in CI, so what can break silently is checked here: every script the
//! pipeline calls exists and is executable, the stages come in the documented order, each
//! `container('...')` exists in the agent pod with a pinned image, the parallel image builds cover
//! exactly the services of scripts/build-images.sh, the JUnit path is the one nextest writes, and the
//! rendered jenkins/ kustomization gives the agents rights in the namespace shop only: exactly what the
//! release scripts need for the kinds the overlays render. Also: the controller's namespace is
//! `restricted` and its pods comply, the build pods' objects all live where the Kubernetes cloud starts
//! them, only the `kubectl` container holds a token, the `rust` container runs the tools image of
//! jenkins/ci-tools/Dockerfile (by its hash) with the cargo cache on a volume, and the job is a
//! multibranch pipeline that a commit hook can make scan. Groovy syntax, schemas and linters are
//! checked by scripts/ci/jenkins.sh.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{
    Container, Namespace, PersistentVolumeClaim, Pod, PodSpec, ServiceAccount,
};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding};
use std::{
    collections::{BTreeMap, BTreeSet},
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Command,
};

/// The controller's namespace (`restricted`) and the build pods' (jenkins/namespace.yaml).
const CONTROLLER_NAMESPACE: &str = "jenkins";
const BUILDS_NAMESPACE: &str = "jenkins-builds";
/// Where kubectl (in-cluster) reads the ServiceAccount token, CA and namespace.
const TOKEN_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// The image of the build pod's `rust` container, tagged by scripts/jenkins-up.sh.
const CI_TOOLS_REPOSITORY: &str = "localhost:5001/shop-ci-tools";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// The Jenkinsfile without `//` comment lines.
fn jenkinsfile() -> String {
    read("Jenkinsfile")
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The single-quoted arguments of every call `name('...')` or `name '...'` in the Jenkinsfile.
fn calls(name: &str) -> Vec<String> {
    let text = jenkinsfile();
    let mut found = Vec::new();
    for open in [format!("{name}('"), format!("{name} '")] {
        let mut rest = text.as_str();
        while let Some(start) = rest.find(&open) {
            let is_word_start = start == 0 || !rest.as_bytes()[start - 1].is_ascii_alphanumeric();
            rest = &rest[start + open.len()..];
            let end = rest
                .find('\'')
                .expect("unterminated string in the Jenkinsfile");
            if is_word_start {
                found.push(rest[..end].to_owned());
            }
            rest = &rest[end..];
        }
    }
    found
}

/// Every image the pipeline builds: the names in services.txt, the one list of the shop.
fn services() -> Vec<String> {
    read("services.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

fn agent_pod() -> Pod {
    serde_norway::from_str(&read("jenkins/agent-pod.yaml"))
        .expect("jenkins/agent-pod.yaml is a Pod")
}

/// The overlays the pipeline may deploy: the choices of its OVERLAY parameter.
fn overlay_choices() -> Vec<String> {
    let text = jenkinsfile();
    let choices = text
        .split("name: 'OVERLAY', choices: [")
        .nth(1)
        .expect("OVERLAY choice parameter");
    let choices = &choices[..choices.find(']').expect("end of choices")];
    choices
        .split(',')
        .map(|c| c.trim().trim_matches('\'').to_owned())
        .collect()
}

/// Every image pinned in k8s/versions.env (the values of its *_IMAGE lines).
fn pinned_images() -> BTreeSet<String> {
    read("k8s/versions.env")
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| k.ends_with("_IMAGE"))
        .map(|(_, v)| v.trim().to_owned())
        .collect()
}

/// The image of every `FROM` of a Dockerfile, in order.
fn from_images(dockerfile: &str) -> Vec<String> {
    dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("FROM "))
        .map(|l| l.split_whitespace().next().unwrap_or("").to_owned())
        .collect()
}

/// `git hash-object` of a file's content: the SHA-1 of `blob <length>\0<content>`, in hex. Written
/// out here because the build pod's `rust` container has no git and the workspace no SHA-1 crate.
fn git_blob_id(content: &[u8]) -> String {
    let len = content.len();
    let mut message = format!("blob {len}\0").into_bytes();
    message.extend_from_slice(content);
    let bits = (message.len() as u64).wrapping_mul(8);
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bits.to_be_bytes());
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    for block in message.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, word) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let next = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*word);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = next;
        }
        for (state, value) in h.iter_mut().zip([a, b, c, d, e]) {
            *state = state.wrapping_add(value);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

#[test]
fn git_blob_id_is_what_git_hash_object_prints() {
    // `printf '' | git hash-object --stdin` and `printf 'hello\n' | git hash-object --stdin`.
    assert_eq!(git_blob_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    assert_eq!(
        git_blob_id(b"hello\n"),
        "ce013625030ba8dba906f756967f9e9ca394464a"
    );
}

#[test]
fn every_script_the_pipeline_runs_exists_and_is_executable() {
    let commands = calls("sh");
    assert!(
        !commands.is_empty(),
        "no sh '...' steps found in the Jenkinsfile"
    );
    let mut scripts = BTreeSet::new();
    for command in &commands {
        let script = command.split_whitespace().next().unwrap_or_default();
        assert!(
            script.starts_with("scripts/"),
            "sh '{command}': each step should run a script of the repository (scripts/...), \
             so that it runs the same outside Jenkins"
        );
        let path = root().join(script);
        let meta = std::fs::metadata(&path)
            .unwrap_or_else(|_| panic!("{script} (sh '{command}') does not exist"));
        assert!(
            meta.permissions().mode() & 0o111 != 0,
            "{script} is not executable (chmod +x)"
        );
        scripts.insert(script.to_owned());
    }
    for expected in [
        "scripts/ci/affected.sh",
        "scripts/ci/not-deployed.sh",
        "scripts/ci/release.sh",
        "scripts/ci/lint.sh",
        "scripts/test.sh",
        "scripts/ci/buildkit-build.sh",
        "scripts/deploy.sh",
        "scripts/smoke-test.sh",
        "scripts/rollback.sh",
    ] {
        assert!(
            scripts.contains(expected),
            "the Jenkinsfile never runs {expected}"
        );
    }
}

#[test]
fn stages_run_in_the_documented_order() {
    let stages = calls("stage");
    let order = [
        "Checkout",
        "Plan",
        "Lint",
        "Test",
        "Warm builder",
        "Build images",
        "Build",
        "Push",
        "Release",
        "Deploy",
        "Smoke test",
        "Record release",
    ];
    assert_eq!(
        stages, order,
        "stages of the Jenkinsfile (docs/jenkins.md describes them in this order)"
    );
}

#[test]
fn pipeline_has_its_options_and_parameters() {
    let text = jenkinsfile();
    for option in [
        "buildDiscarder(",
        "timestamps()",
        "disableConcurrentBuilds()",
    ] {
        assert!(text.contains(option), "options: {option} missing");
    }
    for param in [
        "REGISTRY",
        "PULL_REGISTRY",
        "BUILD_ALL",
        "REGISTRY_INSECURE",
        "OVERLAY",
        "DEPLOY",
        "SMOKE_URL",
        "ROLLOUT_TIMEOUT",
    ] {
        assert!(
            text.contains(&format!("name: '{param}'")),
            "parameter {param} missing"
        );
        assert!(
            text.contains(&format!("params.{param}")),
            "parameter {param} is never used"
        );
    }
    // Every overlay offered exists and pulls its images from a registry (not minikube's local images).
    for overlay in overlay_choices() {
        let kustomization = root()
            .join("k8s/overlays")
            .join(&overlay)
            .join("kustomization.yaml");
        let text = std::fs::read_to_string(&kustomization).unwrap_or_else(|_| {
            panic!("OVERLAY choice '{overlay}' is not a directory of k8s/overlays")
        });
        assert!(
            text.contains("newName:"),
            "overlay {overlay} does not set image names (registry)"
        );
    }
}

/// The text of the stage `name` (from its `stage('name')` to the next stage at its depth or below).
fn stage_text(name: &str) -> String {
    let text = jenkinsfile();
    let start = text
        .find(&format!("stage('{name}')"))
        .unwrap_or_else(|| panic!("no stage('{name}')"));
    let body = &text[start..];
    // Balance the braces from the stage's opening one.
    let open = body.find('{').expect("stage body");
    let mut depth = 0;
    for (i, c) in body[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return body[..open + i + 1].to_owned();
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced braces in stage('{name}')")
}

#[test]
fn every_stage_and_the_rollback_have_a_timeout_and_the_pipeline_none() {
    let text = jenkinsfile();
    let options = text
        .split("options {")
        .nth(1)
        .expect("pipeline options")
        .split('}')
        .next()
        .unwrap();
    assert!(
        !options.contains("timeout("),
        "a pipeline-wide timeout also cuts the rollback in post short: time out each stage instead"
    );
    for stage in [
        "Checkout",
        "Plan",
        "Lint",
        "Test",
        "Warm builder",
        "Build images",
        "Push",
        "Deploy",
        "Smoke test",
        "Record release",
    ] {
        assert!(
            stage_text(stage).contains("options { timeout(time: "),
            "stage {stage} has no timeout"
        );
    }
    // Release's post (the rollback) runs inside Release: a timeout there would cut it short.
    let release = stage_text("Release");
    let release_options = &release[..release.find("stages {").expect("Release has stages")];
    assert!(
        !release_options.contains("timeout("),
        "no timeout around Release: it would also kill the rollback in its post"
    );
    let post = stage_text("Release");
    let post = post
        .split("post {")
        .nth(1)
        .expect("Release has a post block");
    assert!(
        post.contains("timeout(time: "),
        "the rollback has no timeout"
    );
}

#[test]
fn only_the_images_the_commit_changes_are_built_and_pushed() {
    let plan = stage_text("Plan");
    assert!(plan.contains("sh 'scripts/ci/affected.sh'"), "{plan}");
    assert!(
        plan.contains("env.AFFECTED = readFile('target/affected.txt')"),
        "{plan}"
    );
    let affected = read("scripts/ci/affected.sh");
    assert!(
        affected.contains("OUT=${OUT:-target/affected.txt}"),
        "scripts/ci/affected.sh writes target/affected.txt"
    );
    assert!(
        affected.contains("xtask -- affected --base \"${BASE:-}\""),
        "scripts/ci/affected.sh asks xtask, from BASE"
    );
    assert!(
        stage_text("Checkout").contains("scmVars.GIT_PREVIOUS_SUCCESSFUL_COMMIT"),
        "BASE is the last successful build's commit"
    );
    for stage in ["Warm builder", "Build images", "Push"] {
        assert!(
            stage_text(stage)
                .contains("when { expression { return !(env.AFFECTED ?: '').trim().isEmpty() } }"),
            "stage {stage} runs only when some image is affected"
        );
    }
    assert!(
        stage_text("Build").contains("env.AFFECTED.split().contains(env.SERVICE)"),
        "each image's build runs only when that image is affected"
    );
    assert!(
        stage_text("Push").contains("scripts/ci/buildkit-build.sh --push $AFFECTED"),
        "Push pushes the affected images only"
    );
}

#[test]
fn main_alone_deploys_by_digest_and_a_failure_rolls_back_exactly_what_it_changed() {
    let text = jenkinsfile();
    let release = stage_text("Release");
    assert!(release.contains("branch 'main'"), "deploy only from main");
    assert!(release.contains("params.DEPLOY"), "DEPLOY can turn it off");
    // The images: the digests Push wrote; the revisions: recorded by deploy.sh before it applies.
    assert!(text.contains("IMAGES_FILE = 'target/images.txt'"));
    assert!(text.contains("REVISIONS_FILE = 'target/deploy/revisions.before'"));
    assert!(
        read("scripts/ci/buildkit-build.sh")
            .contains("IMAGES_OUT=${IMAGES_OUT:-target/images.txt}"),
        "buildkit-build.sh --push writes the digests where the deploy reads them"
    );
    assert!(
        read("scripts/deploy.sh").contains("REVISIONS_FILE=${REVISIONS_FILE:-}"),
        "deploy.sh records the revisions in REVISIONS_FILE"
    );
    let post = release
        .split("post {")
        .nth(1)
        .expect("Release has a post block");
    assert!(
        post.contains("unsuccessful {"),
        "roll back on failure, abort (timeouts too) and unstable, not on failure alone"
    );
    assert!(
        post.contains("sh 'scripts/rollback.sh --from \"$REVISIONS_FILE\"'"),
        "the rollback undoes what this build changed, to the recorded revisions"
    );
    assert!(
        !text.contains("sh 'scripts/rollback.sh'"),
        "a rollback of every Deployment would undo what this build did not change"
    );
}

#[test]
fn the_test_stage_publishes_the_junit_file_nextest_writes() {
    let nextest = read(".config/nextest.toml");
    let junit = nextest
        .split("[profile.ci.junit]")
        .nth(1)
        .expect("[profile.ci.junit] in .config/nextest.toml");
    assert!(
        junit.contains("path = \"junit.xml\""),
        "nextest's ci profile should write junit.xml"
    );
    assert!(
        jenkinsfile().contains("scripts/test.sh --profile ci"),
        "the test stage runs the ci profile"
    );
    assert!(
        jenkinsfile().contains("junit testResults: 'target/nextest/ci/junit.xml'"),
        "the Jenkinsfile publishes target/nextest/ci/junit.xml (nextest: target/nextest/<profile>/<path>)"
    );
}

#[test]
fn images_are_built_in_parallel_for_exactly_the_images_of_build_images() {
    let text = jenkinsfile();
    let axis = text
        .split("name 'SERVICE'")
        .nth(1)
        .expect("a matrix axis SERVICE");
    let values_line = axis
        .lines()
        .find(|l| l.trim_start().starts_with("values "))
        .expect("axis values");
    let values: Vec<String> = values_line
        .trim()
        .trim_start_matches("values")
        .split(',')
        .map(|v| v.trim().trim_matches('\'').to_owned())
        .collect();
    assert_eq!(
        values,
        services(),
        "the matrix must build every image of scripts/build-images.sh"
    );
}

#[test]
fn every_container_used_is_in_the_agent_pod_with_a_pinned_image() {
    let pod = agent_pod();
    let spec = pod.spec.expect("pod spec");
    let names: BTreeSet<String> = spec.containers.iter().map(|c| c.name.clone()).collect();
    for used in calls("container") {
        assert!(
            names.contains(&used),
            "container('{used}') is not in jenkins/agent-pod.yaml ({names:?})"
        );
    }
    // The tools image is built here, tagged with the hash of its Dockerfile: checked by
    // the_rust_container_runs_the_tools_image_of_its_dockerfile.
    let third_party = || {
        spec.containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
            .filter(|c| {
                !c.image
                    .as_deref()
                    .unwrap_or_default()
                    .starts_with(&format!("{CI_TOOLS_REPOSITORY}:"))
            })
    };
    for container in third_party() {
        let image = container.image.as_deref().expect("image");
        let tag = image
            .rsplit_once(':')
            .map(|(_, t)| t)
            .filter(|t| !t.contains('/'))
            .unwrap_or("");
        assert!(
            tag.chars().any(|c| c.is_ascii_digit()) && tag != "latest",
            "container {}: image {image} must be pinned to a version tag",
            container.name
        );
    }
    // One place for versions: every third-party image of the pod, and the controller's base, is in
    // k8s/versions.env.
    let pinned = pinned_images();
    for container in third_party() {
        let image = container.image.clone().unwrap_or_default();
        assert!(
            pinned.contains(&image),
            "container {}: image {image} is not the one pinned in k8s/versions.env",
            container.name
        );
    }
    let controller_base = read("jenkins/Dockerfile")
        .lines()
        .find_map(|l| {
            l.strip_prefix("FROM ")
                .map(|i| i.split_whitespace().next().unwrap_or("").to_owned())
        })
        .expect("a FROM in jenkins/Dockerfile");
    assert!(
        pinned.contains(&controller_base),
        "jenkins/Dockerfile: FROM {controller_base} is not the image pinned in k8s/versions.env"
    );
    assert_eq!(
        spec.service_account_name.as_deref(),
        Some("jenkins-agent"),
        "agents run as jenkins-agent"
    );
}

fn kubectl() -> String {
    std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".to_owned())
}

/// `kubectl kustomize DIR`: one YAML value per rendered object.
fn kustomize(dir: &Path) -> Vec<serde_norway::Value> {
    let output = Command::new(kubectl())
        .arg("kustomize")
        .arg(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{} kustomize`: {e} (install kubectl or point KUBECTL at it)",
                kubectl()
            )
        });
    assert!(
        output.status.success(),
        "kubectl kustomize {} failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    serde_norway::Deserializer::from_str(&text)
        .map(|doc| serde::Deserialize::deserialize(doc).expect("YAML"))
        .filter(|v: &serde_norway::Value| !v.is_null())
        .collect()
}

/// `kubectl kustomize jenkins` on a copy that has an admin.env (the real one is not in git).
fn render_jenkins() -> Vec<serde_norway::Value> {
    let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
    let dir = tmp.path().join("jenkins");
    std::fs::create_dir(&dir).expect("temp dir");
    for entry in std::fs::read_dir(root().join("jenkins")).expect("jenkins/") {
        let entry = entry.expect("dir entry");
        if entry.file_type().expect("file type").is_file() {
            std::fs::copy(entry.path(), dir.join(entry.file_name())).expect("copy");
        }
    }
    std::fs::write(dir.join("admin.env"), "ADMIN_PASSWORD=test\n").expect("admin.env");
    kustomize(&dir)
}

fn of_kind<T: serde::de::DeserializeOwned>(docs: &[serde_norway::Value], kind: &str) -> Vec<T> {
    docs.iter()
        .filter(|d| d["kind"].as_str() == Some(kind))
        .map(|d| serde_norway::from_value(d.clone()).unwrap_or_else(|e| panic!("{kind}: {e}")))
        .collect()
}

/// jenkins/casc.yaml as the controller reads it: from the rendered ConfigMap.
fn casc(docs: &[serde_norway::Value]) -> serde_norway::Value {
    let config_map = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap" && d["data"]["casc.yaml"].is_string())
        .expect("a ConfigMap with casc.yaml");
    serde_norway::from_str(config_map["data"]["casc.yaml"].as_str().unwrap()).expect("casc.yaml")
}

#[test]
fn agents_may_deploy_to_the_namespace_shop_only() {
    let docs = render_jenkins();
    let agent_bindings: Vec<RoleBinding> = of_kind::<RoleBinding>(&docs, "RoleBinding")
        .into_iter()
        .filter(|b| {
            b.subjects.iter().flatten().any(|s| {
                s.name == "jenkins-agent" && s.namespace.as_deref() == Some(BUILDS_NAMESPACE)
            })
        })
        .collect();
    assert!(
        !agent_bindings.is_empty(),
        "no RoleBinding for the ServiceAccount {BUILDS_NAMESPACE}/jenkins-agent"
    );
    for binding in &agent_bindings {
        assert_eq!(
            binding.metadata.namespace.as_deref(),
            Some("shop"),
            "agent RoleBinding {:?}",
            binding.metadata.name
        );
        assert_eq!(
            binding.role_ref.kind, "Role",
            "agents get a namespaced Role, not a ClusterRole, in shop"
        );
        let role = of_kind::<Role>(&docs, "Role")
            .into_iter()
            .find(|r| r.metadata.name.as_deref() == Some(&binding.role_ref.name))
            .expect("the bound Role is rendered");
        assert_eq!(
            role.metadata.namespace.as_deref(),
            Some("shop"),
            "Role {} must live in shop",
            binding.role_ref.name
        );
    }
    // The only cluster-wide right: read and patch the Namespace object shop itself.
    for role in of_kind::<ClusterRole>(&docs, "ClusterRole") {
        for rule in role.rules.iter().flatten() {
            assert_eq!(
                rule.resources.as_deref(),
                Some(&["namespaces".to_owned()][..]),
                "ClusterRole rule {rule:?}"
            );
            assert_eq!(
                rule.resource_names.as_deref(),
                Some(&["shop".to_owned()][..]),
                "ClusterRole rule {rule:?}"
            );
            let verbs: BTreeSet<&str> = rule.verbs.iter().map(String::as_str).collect();
            assert_eq!(
                verbs,
                BTreeSet::from(["get", "patch"]),
                "kubectl apply reads and patches the Namespace shop, nothing else: {rule:?}"
            );
        }
    }
    for doc in &docs {
        let text = serde_norway::to_string(doc).expect("YAML");
        assert!(!text.contains("'*'"), "no wildcard rights: {text}");
    }
}

#[test]
fn the_controller_is_configured_as_code_with_a_secret_password() {
    let docs = render_jenkins();
    let casc = casc(&docs);
    let users = &casc["jenkins"]["securityRealm"]["local"]["users"][0];
    assert_eq!(
        users["password"], "${ADMIN_PASSWORD}",
        "the admin password comes from the Secret, not the repo"
    );
    let cloud = &casc["jenkins"]["clouds"][0]["kubernetes"];
    assert_eq!(
        cloud["namespace"], BUILDS_NAMESPACE,
        "build pods run in the namespace {BUILDS_NAMESPACE}"
    );
    let job = casc["jobs"][0]["script"]
        .as_str()
        .expect("a Job DSL script");
    assert!(
        job.contains("scriptPath('Jenkinsfile')"),
        "the job runs the repository's Jenkinsfile"
    );
    let gitignore = read("jenkins/.gitignore");
    assert!(
        gitignore.lines().any(|l| l == "admin.env"),
        "jenkins/admin.env (the password) must be gitignored"
    );
    let plugins = read("jenkins/plugins.txt");
    let pinned: BTreeSet<&str> = plugins
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (name, version) = l
                .split_once(':')
                .unwrap_or_else(|| panic!("plugin {l} is not pinned (name:version)"));
            assert!(
                !version.is_empty() && version != "latest",
                "plugin {l} is not pinned"
            );
            name
        })
        .collect();
    for needed in [
        "kubernetes",
        "workflow-aggregator",
        "git",
        "configuration-as-code",
        "job-dsl",
        "junit",
        "timestamper",
    ] {
        assert!(pinned.contains(needed), "plugins.txt lacks {needed}");
    }
}

#[test]
fn the_jenkins_image_and_the_job_point_at_what_the_scripts_create() {
    let dockerfile = read("jenkins/Dockerfile");
    let from = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("FROM "))
        .expect("FROM in jenkins/Dockerfile");
    assert!(
        from.starts_with("jenkins/jenkins:") && from.ends_with("-lts-jdk21"),
        "a pinned LTS image on JDK 21 (Jenkins 2.555 and later need 21 or 25): {from}"
    );
    let up = read("scripts/jenkins-up.sh");
    let kustomization = read("jenkins/kustomization.yaml");
    assert!(
        up.contains("GIT_SERVER=shop-git")
            && kustomization.contains("SHOP_GIT_URL=git://shop-git/shop")
    );
    assert!(Path::new(&root().join("scripts/jenkins-down.sh")).exists());
}

/// What a list of RBAC rules allows: the verbs per (API group, resource).
type Grants = BTreeMap<(String, String), BTreeSet<String>>;

fn grant(grants: &mut Grants, group: &str, resource: &str, verbs: &[&str]) {
    grants
        .entry((group.to_owned(), resource.to_owned()))
        .or_default()
        .extend(verbs.iter().map(|v| (*v).to_owned()));
}

fn grants_of(rules: &[PolicyRule]) -> Grants {
    let mut grants = Grants::new();
    for rule in rules {
        let verbs: Vec<&str> = rule.verbs.iter().map(String::as_str).collect();
        for group in rule.api_groups.iter().flatten() {
            for resource in rule.resources.iter().flatten() {
                grant(&mut grants, group, resource, &verbs);
            }
        }
    }
    grants
}

/// The API group and resource of each kind the overlays may render. A kind missing here fails
/// the_deployer_role_grants_exactly_what_the_release_scripts_need: add it here, and to the Role
/// jenkins-deployer in jenkins/rbac.yaml (get, create, patch: what `kubectl apply` does).
fn resource_of(kind: &str) -> Option<(&'static str, &'static str)> {
    Some(match kind {
        "ConfigMap" => ("", "configmaps"),
        "Secret" => ("", "secrets"),
        "Service" => ("", "services"),
        "ServiceAccount" => ("", "serviceaccounts"),
        "PersistentVolumeClaim" => ("", "persistentvolumeclaims"),
        "Deployment" => ("apps", "deployments"),
        "StatefulSet" => ("apps", "statefulsets"),
        "Ingress" => ("networking.k8s.io", "ingresses"),
        "NetworkPolicy" => ("networking.k8s.io", "networkpolicies"),
        "HorizontalPodAutoscaler" => ("autoscaling", "horizontalpodautoscalers"),
        "PodDisruptionBudget" => ("policy", "poddisruptionbudgets"),
        "Role" => ("rbac.authorization.k8s.io", "roles"),
        "RoleBinding" => ("rbac.authorization.k8s.io", "rolebindings"),
        _ => return None,
    })
}

#[test]
fn the_deployer_role_grants_exactly_what_the_release_scripts_need() {
    let docs = render_jenkins();
    let role = of_kind::<Role>(&docs, "Role")
        .into_iter()
        .find(|r| r.metadata.name.as_deref() == Some("jenkins-deployer"))
        .expect("the Role jenkins-deployer");
    let rules = role.rules.clone().unwrap_or_default();
    for rule in &rules {
        for verb in &rule.verbs {
            assert!(
                ![
                    "*",
                    "delete",
                    "deletecollection",
                    "update",
                    "escalate",
                    "bind",
                    "impersonate"
                ]
                .contains(&verb.as_str()),
                "jenkins-deployer may not {verb}: {rule:?}"
            );
        }
        for name in rule
            .api_groups
            .iter()
            .chain(rule.resources.iter())
            .flatten()
        {
            assert_ne!(name, "*", "no wildcard in jenkins-deployer: {rule:?}");
        }
    }
    let mut expected = Grants::new();
    let mut overlays: BTreeSet<String> = overlay_choices().into_iter().collect();
    overlays.extend(["kind".to_owned(), "production".to_owned()]);
    for overlay in &overlays {
        let rendered = kustomize(&root().join("k8s/overlays").join(overlay));
        for doc in &rendered {
            let kind = doc["kind"].as_str().expect("every object has a kind");
            let name = doc["metadata"]["name"].as_str().unwrap_or("?");
            if kind == "Namespace" {
                // Cluster-scoped: the ClusterRole jenkins-deployer-namespace-shop (get, patch).
                assert_eq!(name, "shop", "overlay {overlay}: Namespace {name}");
                continue;
            }
            assert_eq!(
                doc["metadata"]["namespace"].as_str(),
                Some("shop"),
                "overlay {overlay}: {kind} {name} is not in the namespace shop, where the agents may deploy"
            );
            let (group, resource) = resource_of(kind).unwrap_or_else(|| {
                panic!(
                    "overlay {overlay} renders a {kind} ({name}): give jenkins-deployer in jenkins/rbac.yaml \
                     get, create and patch on it, and add it to resource_of() here"
                )
            });
            // scripts/deploy.sh: `kubectl apply` reads each object, then creates or patches it.
            grant(&mut expected, group, resource, &["get", "create", "patch"]);
        }
        // RBAC escalation prevention: the agent may create (and bind) a Role of the overlay only if
        // it holds every permission the Role grants.
        for shop_role in of_kind::<Role>(&rendered, "Role") {
            let shop_rules = shop_role.rules.unwrap_or_default();
            for rule in &shop_rules {
                assert!(
                    rule.resource_names.is_none(),
                    "overlay {overlay}: Role {:?} names objects; extend this test",
                    shop_role.metadata.name
                );
            }
            for (key, verbs) in grants_of(&shop_rules) {
                expected.entry(key).or_default().extend(verbs);
            }
        }
    }
    // scripts/deploy.sh: `get deployments,statefulsets -o name`, `rollout status` on each (a watch),
    // `get deployments -o jsonpath=...` (revisions, images). scripts/rollback.sh: `rollout undo
    // deploy/NAME --to-revision=N` gets and patches the Deployment and lists its ReplicaSets.
    grant(
        &mut expected,
        "apps",
        "deployments",
        &["get", "list", "watch", "patch"],
    );
    grant(
        &mut expected,
        "apps",
        "statefulsets",
        &["get", "list", "watch"],
    );
    grant(&mut expected, "apps", "replicasets", &["list"]);
    assert_eq!(
        grants_of(&rules),
        expected,
        "jenkins-deployer (jenkins/rbac.yaml) must grant exactly what the release scripts need for the \
         kinds of the overlays {overlays:?}: left is the Role, right is what is needed"
    );
}

#[test]
fn only_the_kubectl_container_holds_a_service_account_token() {
    let spec = agent_pod().spec.expect("pod spec");
    assert_eq!(
        spec.automount_service_account_token,
        Some(false),
        "jenkins/agent-pod.yaml: automountServiceAccountToken: false (the Kubernetes plugin keeps \
         it: it merges its own pod into this one, PodTemplateUtils.combine)"
    );
    let volumes = spec.volumes.clone().unwrap_or_default();
    let token_volumes: Vec<_> = volumes
        .iter()
        .filter(|v| {
            v.projected
                .iter()
                .flat_map(|p| p.sources.iter().flatten())
                .any(|s| s.service_account_token.is_some())
        })
        .collect();
    assert_eq!(
        token_volumes.len(),
        1,
        "one projected volume with the ServiceAccount token"
    );
    let volume = token_volumes[0];
    let sources = volume
        .projected
        .clone()
        .and_then(|p| p.sources)
        .unwrap_or_default();
    let token = sources
        .iter()
        .find_map(|s| s.service_account_token.clone())
        .expect("serviceAccountToken");
    assert_eq!(token.path, "token");
    assert_eq!(token.expiration_seconds, Some(3600), "a token for an hour");
    assert_eq!(token.audience, None, "the API server's own audience");
    let ca = sources
        .iter()
        .find_map(|s| s.config_map.clone())
        .expect("the cluster's CA (ConfigMap kube-root-ca.crt)");
    assert_eq!(ca.name, "kube-root-ca.crt");
    assert!(
        ca.items
            .iter()
            .flatten()
            .any(|i| i.key == "ca.crt" && i.path == "ca.crt"),
        "ca.crt from kube-root-ca.crt"
    );
    let downward = sources
        .iter()
        .find_map(|s| s.downward_api.clone())
        .expect("the namespace (downwardAPI)");
    assert!(
        downward
            .items
            .iter()
            .flatten()
            .any(|i| i.path == "namespace"
                && i.field_ref.as_ref().map(|f| f.field_path.as_str())
                    == Some("metadata.namespace")),
        "namespace from metadata.namespace"
    );
    let holders: Vec<&Container> = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .filter(|c| {
            c.volume_mounts
                .iter()
                .flatten()
                .any(|m| m.name == volume.name || m.mount_path.starts_with(TOKEN_DIR))
        })
        .collect();
    let names: Vec<&str> = holders.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["kubectl"],
        "exactly one container, kubectl (deploy, rollback), has the token"
    );
    let mount = holders[0]
        .volume_mounts
        .iter()
        .flatten()
        .find(|m| m.name == volume.name)
        .expect("the kubectl container mounts the token volume");
    assert_eq!(mount.mount_path, TOKEN_DIR, "where kubectl looks in a pod");
    assert_eq!(mount.read_only, Some(true), "read-only");
    assert_eq!(
        mount.sub_path, None,
        "a subPath mount would never see a renewed token"
    );
}

/// The checks of the Pod Security Standard `restricted` that apply to a pod spec: what the label
/// pod-security.kubernetes.io/enforce: restricted makes the API server refuse at admission.
fn assert_restricted(at: &str, spec: &PodSpec) {
    for (field, value) in [
        ("hostNetwork", spec.host_network),
        ("hostPID", spec.host_pid),
        ("hostIPC", spec.host_ipc),
    ] {
        assert_ne!(value, Some(true), "{at}: {field}");
    }
    for v in spec.volumes.iter().flatten() {
        let allowed = v.config_map.is_some()
            || v.csi.is_some()
            || v.downward_api.is_some()
            || v.empty_dir.is_some()
            || v.ephemeral.is_some()
            || v.persistent_volume_claim.is_some()
            || v.projected.is_some()
            || v.secret.is_some();
        assert!(
            allowed,
            "{at}: volume {} is of a type `restricted` forbids (hostPath, ...)",
            v.name
        );
    }
    let pod = spec.security_context.clone().unwrap_or_default();
    let unconfined = |profile: Option<&str>| profile == Some("Unconfined");
    assert!(
        !unconfined(pod.app_armor_profile.as_ref().map(|p| p.type_.as_str())),
        "{at}: AppArmor Unconfined"
    );
    assert_ne!(pod.run_as_user, Some(0), "{at}: runAsUser 0");
    for c in spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
    {
        let at = format!("{at}: container {}", c.name);
        let sc = c.security_context.clone().unwrap_or_default();
        assert_eq!(
            sc.allow_privilege_escalation,
            Some(false),
            "{at}: allowPrivilegeEscalation: false"
        );
        assert_ne!(sc.privileged, Some(true), "{at}: privileged");
        let caps = sc.capabilities.clone().unwrap_or_default();
        assert!(
            caps.drop.iter().flatten().any(|d| d == "ALL"),
            "{at}: capabilities.drop: [ALL]"
        );
        assert!(
            caps.add.iter().flatten().all(|a| a == "NET_BIND_SERVICE"),
            "{at}: only NET_BIND_SERVICE may be added"
        );
        assert_eq!(
            sc.run_as_non_root.or(pod.run_as_non_root),
            Some(true),
            "{at}: runAsNonRoot (container or pod)"
        );
        assert_ne!(sc.run_as_user, Some(0), "{at}: runAsUser 0");
        let seccomp = sc
            .seccomp_profile
            .clone()
            .or(pod.seccomp_profile.clone())
            .map(|p| p.type_);
        assert!(
            matches!(seccomp.as_deref(), Some("RuntimeDefault" | "Localhost")),
            "{at}: seccompProfile RuntimeDefault or Localhost (container or pod), not {seccomp:?}"
        );
        assert!(
            !unconfined(sc.app_armor_profile.as_ref().map(|p| p.type_.as_str())),
            "{at}: AppArmor Unconfined"
        );
        for port in c.ports.iter().flatten() {
            assert_eq!(port.host_port.unwrap_or(0), 0, "{at}: hostPort");
        }
    }
}

/// The pod spec of a rendered Pod or workload, if it has one.
fn pod_spec_of(doc: &serde_norway::Value) -> Option<PodSpec> {
    let spec = match doc["kind"].as_str()? {
        "Pod" => &doc["spec"],
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            &doc["spec"]["template"]["spec"]
        }
        "CronJob" => &doc["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        _ => return None,
    };
    Some(serde_norway::from_value(spec.clone()).expect("a pod spec"))
}

#[test]
fn the_controller_namespace_is_restricted_and_its_pods_comply() {
    let docs = render_jenkins();
    let namespaces = of_kind::<Namespace>(&docs, "Namespace");
    let label = |namespace: &str, key: &str| -> Option<String> {
        namespaces
            .iter()
            .find(|n| n.metadata.name.as_deref() == Some(namespace))
            .unwrap_or_else(|| panic!("no Namespace {namespace} in jenkins/"))
            .metadata
            .labels
            .as_ref()?
            .get(key)
            .cloned()
    };
    let enforce = "pod-security.kubernetes.io/enforce";
    assert_eq!(
        label(CONTROLLER_NAMESPACE, enforce).as_deref(),
        Some("restricted"),
        "the controller's namespace enforces `restricted`"
    );
    assert_eq!(
        label(BUILDS_NAMESPACE, enforce).as_deref(),
        Some("privileged"),
        "rootless BuildKit needs seccomp and AppArmor Unconfined, which `baseline` forbids"
    );
    assert_eq!(
        label(BUILDS_NAMESPACE, "pod-security.kubernetes.io/warn").as_deref(),
        Some("baseline")
    );
    let mut checked = 0;
    for doc in &docs {
        if doc["metadata"]["namespace"].as_str() != Some(CONTROLLER_NAMESPACE) {
            continue;
        }
        if let Some(spec) = pod_spec_of(doc) {
            let at = format!(
                "{} {}",
                doc["kind"].as_str().unwrap_or("?"),
                doc["metadata"]["name"].as_str().unwrap_or("?")
            );
            assert_restricted(&at, &spec);
            checked += 1;
        }
    }
    assert!(
        checked > 0,
        "no pod in the namespace {CONTROLLER_NAMESPACE}: where is the controller?"
    );
}

#[test]
fn the_build_pods_objects_live_where_the_cloud_starts_them() {
    let docs = render_jenkins();
    let casc = casc(&docs);
    assert_eq!(
        casc["jenkins"]["clouds"][0]["kubernetes"]["namespace"].as_str(),
        Some(BUILDS_NAMESPACE),
        "casc.yaml: the Kubernetes cloud starts build pods in {BUILDS_NAMESPACE}"
    );
    let pod = agent_pod();
    assert_eq!(
        pod.metadata.namespace, None,
        "agent-pod.yaml names no namespace: the plugin puts it in the cloud's"
    );
    let spec = pod.spec.expect("pod spec");
    let account = spec
        .service_account_name
        .clone()
        .expect("the agent pod names its ServiceAccount");
    let accounts = of_kind::<ServiceAccount>(&docs, "ServiceAccount");
    let agent_account = accounts
        .iter()
        .find(|a| a.metadata.name.as_deref() == Some(account.as_str()))
        .unwrap_or_else(|| panic!("ServiceAccount {account} is not in jenkins/"));
    assert_eq!(
        agent_account.metadata.namespace.as_deref(),
        Some(BUILDS_NAMESPACE),
        "ServiceAccount {account}"
    );
    // The controller's rights to run pods: a Role in the build pods' namespace, bound to
    // jenkins/jenkins, and no Role at all in its own namespace.
    let roles = of_kind::<Role>(&docs, "Role");
    for role in &roles {
        assert_ne!(
            role.metadata.namespace.as_deref(),
            Some(CONTROLLER_NAMESPACE),
            "Role {:?}: the controller needs no rights in its own namespace",
            role.metadata.name
        );
    }
    let pod_managers: Vec<&Role> = roles
        .iter()
        .filter(|r| {
            grants_of(r.rules.as_deref().unwrap_or_default())
                .get(&(String::new(), "pods".to_owned()))
                .is_some_and(|verbs| verbs.contains("create"))
        })
        .collect();
    assert_eq!(pod_managers.len(), 1, "one Role may create pods");
    let manager = pod_managers[0];
    assert_eq!(
        manager.metadata.namespace.as_deref(),
        Some(BUILDS_NAMESPACE),
        "the Role that creates build pods"
    );
    let binding = of_kind::<RoleBinding>(&docs, "RoleBinding")
        .into_iter()
        .find(|b| {
            b.role_ref.kind == "Role"
                && Some(b.role_ref.name.as_str()) == manager.metadata.name.as_deref()
        })
        .expect("a RoleBinding of the pod-managing Role");
    assert_eq!(
        binding.metadata.namespace.as_deref(),
        Some(BUILDS_NAMESPACE)
    );
    let subjects: Vec<(String, Option<String>)> = binding
        .subjects
        .iter()
        .flatten()
        .map(|s| (s.name.clone(), s.namespace.clone()))
        .collect();
    assert_eq!(
        subjects,
        [("jenkins".to_owned(), Some(CONTROLLER_NAMESPACE.to_owned()))],
        "bound to the controller's ServiceAccount only"
    );
    // Every binding of the agents' ServiceAccount names it in its namespace.
    let agent_subjects = of_kind::<RoleBinding>(&docs, "RoleBinding")
        .into_iter()
        .flat_map(|b| b.subjects.unwrap_or_default())
        .chain(
            of_kind::<ClusterRoleBinding>(&docs, "ClusterRoleBinding")
                .into_iter()
                .flat_map(|b| b.subjects.unwrap_or_default()),
        )
        .filter(|s| s.name == account)
        .collect::<Vec<_>>();
    assert!(!agent_subjects.is_empty(), "{account} is bound to nothing");
    for subject in agent_subjects {
        assert_eq!(
            subject.namespace.as_deref(),
            Some(BUILDS_NAMESPACE),
            "binding subject {subject:?}"
        );
    }
    // The registry credentials the pod mounts: a Secret created by hand in the same namespace.
    assert!(
        spec.volumes
            .iter()
            .flatten()
            .any(|v| v.secret.as_ref().map(|s| s.secret_name.as_deref())
                == Some(Some("registry-auth"))),
        "agent-pod.yaml mounts the Secret registry-auth"
    );
    assert!(
        read("docs/jenkins.md").contains(&format!(
            "kubectl -n {BUILDS_NAMESPACE} create secret generic registry-auth"
        )),
        "docs/jenkins.md says to create registry-auth in {BUILDS_NAMESPACE}"
    );
    // The cargo cache is a claim of the build pods' namespace.
    let claims = of_kind::<PersistentVolumeClaim>(&docs, "PersistentVolumeClaim");
    for v in spec.volumes.iter().flatten() {
        if let Some(claim) = &v.persistent_volume_claim {
            let found = claims
                .iter()
                .find(|c| c.metadata.name.as_deref() == Some(claim.claim_name.as_str()))
                .unwrap_or_else(|| {
                    panic!(
                        "PersistentVolumeClaim {} is not in jenkins/",
                        claim.claim_name
                    )
                });
            assert_eq!(found.metadata.namespace.as_deref(), Some(BUILDS_NAMESPACE));
        }
    }
    // Network: the build pods take no connections; the controller takes theirs (WebSocket on 8080)
    // from that namespace only: both selectors in one peer.
    let policies = of_kind::<NetworkPolicy>(&docs, "NetworkPolicy");
    let builds_policy = policies
        .iter()
        .find(|p| p.metadata.namespace.as_deref() == Some(BUILDS_NAMESPACE))
        .expect("a NetworkPolicy in the build pods' namespace");
    let builds_spec = builds_policy.spec.clone().expect("spec");
    assert!(
        builds_spec.ingress.unwrap_or_default().is_empty()
            && builds_spec
                .policy_types
                .unwrap_or_default()
                .contains(&"Ingress".to_owned()),
        "build pods accept no connections"
    );
    let controller_policy = policies
        .iter()
        .find(|p| p.metadata.namespace.as_deref() == Some(CONTROLLER_NAMESPACE))
        .and_then(|p| p.spec.clone())
        .expect("a NetworkPolicy for the controller");
    let agent_label = pod
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("app.kubernetes.io/name"))
        .expect("the agent pod's app.kubernetes.io/name label")
        .clone();
    let rules = controller_policy.ingress.unwrap_or_default();
    let agents = rules
        .iter()
        .find(|rule| {
            rule.from.iter().flatten().any(|peer| {
                let namespace = peer
                    .namespace_selector
                    .as_ref()
                    .and_then(|s| s.match_labels.as_ref())
                    .and_then(|l| l.get("kubernetes.io/metadata.name"));
                let pods = peer
                    .pod_selector
                    .as_ref()
                    .and_then(|s| s.match_labels.as_ref())
                    .and_then(|l| l.get("app.kubernetes.io/name"));
                namespace.map(String::as_str) == Some(BUILDS_NAMESPACE) && pods == Some(&agent_label)
            })
        })
        .expect("the controller admits the build pods: namespaceSelector and podSelector in one `from` entry");
    assert!(
        agents.ports.iter().flatten().any(|p| {
            p.port == Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(8080))
        }),
        "on the HTTP port 8080 (agents connect over WebSocket)"
    );
    let down = read("scripts/jenkins-down.sh");
    assert!(
        down.contains(BUILDS_NAMESPACE),
        "scripts/jenkins-down.sh deletes the namespace {BUILDS_NAMESPACE}"
    );
}

#[test]
fn the_rust_container_runs_the_tools_image_of_its_dockerfile() {
    let dockerfile = std::fs::read(root().join("jenkins/ci-tools/Dockerfile"))
        .expect("jenkins/ci-tools/Dockerfile");
    let id = git_blob_id(&dockerfile);
    let expected = format!("{CI_TOOLS_REPOSITORY}:{}", &id[..12]);
    let spec = agent_pod().spec.expect("pod spec");
    let rust = spec
        .containers
        .iter()
        .find(|c| c.name == "rust")
        .expect("a rust container");
    assert_eq!(
        rust.image.as_deref(),
        Some(expected.as_str()),
        "jenkins/agent-pod.yaml: the rust container must run the image scripts/jenkins-up.sh builds \
         from jenkins/ci-tools/Dockerfile, tagged with its `git hash-object` (12 hex)"
    );
    assert_eq!(
        rust.image_pull_policy.as_deref(),
        Some("IfNotPresent"),
        "a node that has the image (minikube's Docker) never pulls it"
    );
    let up = read("scripts/jenkins-up.sh");
    for needed in [
        "git hash-object \"$ROOT/jenkins/ci-tools/Dockerfile\" | cut -c1-12",
        "CI_TOOLS_IMAGE=$REGISTRY/shop-ci-tools:$CI_TOOLS_TAG",
        "build_image \"$CI_TOOLS_IMAGE\" \"$ROOT/jenkins/ci-tools\"",
    ] {
        assert!(
            up.contains(needed),
            "scripts/jenkins-up.sh builds the tools image with that tag: {needed}"
        );
    }
    assert!(up.contains("REGISTRY=localhost:5001"));
    // Its toolchain is the images' (the Dockerfile's builder), its other base is pinned, and its
    // nextest is the one scripts/ci/test-tools.sh would install.
    let text = String::from_utf8(dockerfile).expect("UTF-8");
    let bases = from_images(&text);
    let builder = from_images(&read("Dockerfile"))
        .into_iter()
        .find(|i| i.starts_with("rust:"))
        .expect("FROM rust: in the Dockerfile");
    assert_eq!(
        bases.last(),
        Some(&builder),
        "tests run on the toolchain the images are built with"
    );
    let pinned = pinned_images();
    for base in &bases {
        assert!(
            pinned.contains(base),
            "jenkins/ci-tools/Dockerfile: FROM {base} is not an image pinned in k8s/versions.env"
        );
    }
    let kubectl_image = spec
        .containers
        .iter()
        .find(|c| c.name == "kubectl")
        .and_then(|c| c.image.clone())
        .expect("a kubectl container");
    assert!(
        bases.contains(&kubectl_image),
        "the tools image copies kubectl from the kubectl container's image {kubectl_image}"
    );
    let tools = read("scripts/ci/test-tools.sh");
    let nextest = tools
        .lines()
        .find_map(|l| l.strip_prefix("NEXTEST_VERSION=${NEXTEST_VERSION:-"))
        .and_then(|rest| rest.strip_suffix('}'))
        .expect("NEXTEST_VERSION=${NEXTEST_VERSION:-X} in scripts/ci/test-tools.sh");
    let arg = text
        .lines()
        .find_map(|l| l.strip_prefix("ARG NEXTEST_VERSION="))
        .expect("ARG NEXTEST_VERSION= in jenkins/ci-tools/Dockerfile");
    assert_eq!(
        arg.trim(),
        nextest,
        "the same cargo-nextest as test-tools.sh"
    );
}

#[test]
fn the_rust_container_keeps_its_cargo_cache_on_the_volume() {
    let spec = agent_pod().spec.expect("pod spec");
    let volume = spec
        .volumes
        .iter()
        .flatten()
        .find(|v| {
            v.persistent_volume_claim
                .as_ref()
                .is_some_and(|c| c.claim_name == "shop-ci-cargo")
        })
        .expect("a volume of the PersistentVolumeClaim shop-ci-cargo");
    let rust = spec
        .containers
        .iter()
        .find(|c| c.name == "rust")
        .expect("a rust container");
    let mounts: BTreeMap<&str, (&str, Option<&str>)> = rust
        .volume_mounts
        .iter()
        .flatten()
        .map(|m| {
            (
                m.mount_path.as_str(),
                (m.name.as_str(), m.sub_path.as_deref()),
            )
        })
        .collect();
    for (path, sub_path) in [
        ("/usr/local/cargo/registry", "registry"),
        ("/usr/local/cargo/git", "git"),
        ("/cache/target", "target"),
    ] {
        assert_eq!(
            mounts.get(path),
            Some(&(volume.name.as_str(), Some(sub_path))),
            "the rust container mounts subPath {sub_path} of the cargo cache at {path}"
        );
    }
    let target_dir = rust
        .env
        .iter()
        .flatten()
        .find(|e| e.name == "CARGO_TARGET_DIR")
        .and_then(|e| e.value.clone());
    assert_eq!(
        target_dir.as_deref(),
        Some("/cache/target"),
        "CARGO_TARGET_DIR"
    );
    for c in spec.containers.iter().filter(|c| c.name != "rust") {
        assert!(
            !c.volume_mounts
                .iter()
                .flatten()
                .any(|m| m.name == volume.name),
            "container {} mounts the cargo cache",
            c.name
        );
    }
    let docs = render_jenkins();
    let claim = of_kind::<PersistentVolumeClaim>(&docs, "PersistentVolumeClaim")
        .into_iter()
        .find(|c| c.metadata.name.as_deref() == Some("shop-ci-cargo"))
        .expect("the PersistentVolumeClaim shop-ci-cargo in jenkins/");
    assert_eq!(claim.metadata.namespace.as_deref(), Some(BUILDS_NAMESPACE));
    let claim_spec = claim.spec.expect("spec");
    assert_eq!(
        claim_spec.access_modes.as_deref(),
        Some(&["ReadWriteOnce".to_owned()][..])
    );
    assert_eq!(
        claim_spec.storage_class_name, None,
        "the cluster's default StorageClass (kind: local-path, minikube: standard)"
    );
    let size = claim_spec
        .resources
        .and_then(|r| r.requests)
        .and_then(|r| r.get("storage").cloned())
        .map(|q| q.0);
    assert_eq!(size.as_deref(), Some("20Gi"));
}

#[test]
fn the_job_is_multibranch_and_a_commit_makes_jenkins_scan() {
    let docs = render_jenkins();
    let casc = casc(&docs);
    let jobs = casc["jobs"].as_sequence().expect("jobs");
    assert_eq!(jobs.len(), 1, "one job");
    let job = jobs[0]["script"].as_str().expect("a Job DSL script");
    for needed in [
        "multibranchPipelineJob('shop')",
        "branchSource {",
        "remote('${SHOP_GIT_URL}')",
        "gitBranchDiscovery()",
        "workflowBranchProjectFactory {",
        "scriptPath('Jenkinsfile')",
        "periodicFolderTrigger {",
    ] {
        assert!(
            job.contains(needed),
            "casc.yaml's job lacks {needed}:\n{job}"
        );
    }
    for gone in ["pollSCM", "cpsScm", "SHOP_GIT_BRANCH"] {
        assert!(!job.contains(gone), "casc.yaml's job still has {gone}");
    }
    // The remote JCasC fills in: the ConfigMap the controller reads its environment from.
    let job_config = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap" && d["data"]["SHOP_GIT_URL"].is_string())
        .expect("a ConfigMap with SHOP_GIT_URL");
    assert_eq!(job_config["data"]["SHOP_GIT_URL"], "git://shop-git/shop");
    assert!(
        job_config["data"]["SHOP_GIT_BRANCH"].is_null(),
        "SHOP_GIT_BRANCH is gone: the job builds every branch"
    );
    // notifyCommit without a token (git plugin 4.11.4+), for scans only; the image's own setting kept.
    let controller = of_kind::<Deployment>(&docs, "Deployment")
        .into_iter()
        .find(|d| d.metadata.name.as_deref() == Some("jenkins"))
        .expect("the Deployment jenkins");
    let container = controller
        .spec
        .and_then(|s| s.template.spec)
        .and_then(|s| s.containers.into_iter().find(|c| c.name == "jenkins"))
        .expect("the jenkins container");
    let java_opts = container
        .env
        .iter()
        .flatten()
        .find(|e| e.name == "JAVA_OPTS")
        .and_then(|e| e.value.clone())
        .expect("JAVA_OPTS");
    let opts: Vec<&str> = java_opts.split_whitespace().collect();
    for opt in [
        "-Dhudson.plugins.git.GitStatus.NOTIFY_COMMIT_ACCESS_CONTROL=disabled-for-polling",
        "-Djenkins.install.runSetupWizard=false",
    ] {
        assert!(opts.contains(&opt), "JAVA_OPTS lacks {opt}: {java_opts}");
    }
    // The hooks call notifyCommit with the job's remote (read from the kustomization), without a
    // sha1 (which would need a token), and jenkins-down.sh removes them.
    let hook = read("scripts/lib/git-hook.sh");
    assert!(hook.contains("/git/notifyCommit?url="));
    assert!(!hook.contains("sha1="), "a sha1 needs a token");
    let up = read("scripts/jenkins-up.sh");
    assert!(up.contains("SHOP_GIT_URL=") && up.contains("install_notify_hooks"));
    assert!(read("scripts/jenkins-down.sh").contains("remove_notify_hooks"));
}
