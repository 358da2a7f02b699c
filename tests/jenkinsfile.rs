//! The Jenkinsfile and jenkins/ checked against the repository they drive.
//!
//! No Jenkins server runs in CI, so what can break silently is checked here: every script the
//! pipeline calls exists and is executable, the stages come in the documented order, each
//! `container('...')` exists in the agent pod with a pinned image, the parallel image builds cover
//! exactly the services of scripts/build-images.sh, the JUnit path is the one nextest writes, and the
//! rendered jenkins/ kustomization gives the agents rights in the namespace shop only. Groovy syntax,
//! schemas and linters are checked by scripts/ci/jenkins.sh.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::rbac::v1::{ClusterRole, Role, RoleBinding};
use std::{
    collections::BTreeSet,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Command,
};

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
    let choices = text
        .split("name: 'OVERLAY', choices: [")
        .nth(1)
        .expect("OVERLAY choice parameter");
    let choices = &choices[..choices.find(']').expect("end of choices")];
    for overlay in choices.split(',').map(|c| c.trim().trim_matches('\'')) {
        let kustomization = root()
            .join("k8s/overlays")
            .join(overlay)
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
        "Release",
    ] {
        assert!(
            stage_text(stage).contains("options { timeout(time: "),
            "stage {stage} has no timeout"
        );
    }
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
    for container in spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
    {
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
    // One place for versions: every image of the pod, and the controller's base, is in
    // k8s/versions.env.
    let pinned: BTreeSet<String> = read("k8s/versions.env")
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| k.ends_with("_IMAGE"))
        .map(|(_, v)| v.trim().to_owned())
        .collect();
    for container in spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
    {
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
    let rust = spec
        .containers
        .iter()
        .find(|c| c.name == "rust")
        .expect("a rust container");
    let dockerfile = read("Dockerfile");
    let builder = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("FROM rust:"))
        .expect("FROM rust: in the Dockerfile");
    let builder = format!("rust:{}", builder.split_whitespace().next().unwrap());
    assert_eq!(
        rust.image.as_deref(),
        Some(builder.as_str()),
        "tests run on the toolchain the images are built with"
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
    let output = Command::new(kubectl())
        .arg("kustomize")
        .arg(&dir)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{} kustomize`: {e} (install kubectl or point KUBECTL at it)",
                kubectl()
            )
        });
    assert!(
        output.status.success(),
        "kubectl kustomize jenkins failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    serde_norway::Deserializer::from_str(&text)
        .map(|doc| serde::Deserialize::deserialize(doc).expect("YAML"))
        .filter(|v: &serde_norway::Value| !v.is_null())
        .collect()
}

fn of_kind<T: serde::de::DeserializeOwned>(docs: &[serde_norway::Value], kind: &str) -> Vec<T> {
    docs.iter()
        .filter(|d| d["kind"].as_str() == Some(kind))
        .map(|d| serde_norway::from_value(d.clone()).unwrap_or_else(|e| panic!("{kind}: {e}")))
        .collect()
}

#[test]
fn agents_may_deploy_to_the_namespace_shop_only() {
    let docs = render_jenkins();
    let agent_bindings: Vec<RoleBinding> = of_kind::<RoleBinding>(&docs, "RoleBinding")
        .into_iter()
        .filter(|b| {
            b.subjects
                .iter()
                .flatten()
                .any(|s| s.name == "jenkins-agent" && s.namespace.as_deref() == Some("jenkins"))
        })
        .collect();
    assert!(
        !agent_bindings.is_empty(),
        "no RoleBinding for the ServiceAccount jenkins/jenkins-agent"
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
    let casc = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap" && d["data"]["casc.yaml"].is_string())
        .expect("a ConfigMap with casc.yaml");
    let casc: serde_norway::Value =
        serde_norway::from_str(casc["data"]["casc.yaml"].as_str().unwrap()).expect("casc.yaml");
    let users = &casc["jenkins"]["securityRealm"]["local"]["users"][0];
    assert_eq!(
        users["password"], "${ADMIN_PASSWORD}",
        "the admin password comes from the Secret, not the repo"
    );
    let cloud = &casc["jenkins"]["clouds"][0]["kubernetes"];
    assert_eq!(
        cloud["namespace"], "jenkins",
        "build pods run in the namespace jenkins"
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
        from.starts_with("jenkins/jenkins:") && from.ends_with("-lts-jdk17"),
        "a pinned LTS jdk17 image: {from}"
    );
    let up = read("scripts/jenkins-up.sh");
    let kustomization = read("jenkins/kustomization.yaml");
    assert!(
        up.contains("GIT_SERVER=shop-git")
            && kustomization.contains("SHOP_GIT_URL=git://shop-git/shop")
    );
    assert!(Path::new(&root().join("scripts/jenkins-down.sh")).exists());
}
