//! `xtask affected` on real commits of this repository: a clone of it, a change committed there, and
//! the binary run as the pipeline runs it (`--base <the commit before>`), against the real workspace
//! graph from `cargo metadata`.

use std::{path::Path, process::Command};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A clone of this repository at its HEAD (what is committed; the work tree's edits are not in it).
fn clone() -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("git")
        .args(["clone", "-q", "--no-hardlinks"])
        .arg(&root)
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// Appends a comment line to each file (creating it if needed), commits, and returns the commit
/// before.
fn commit_change(repo: &Path, files: &[&str]) -> String {
    let before = git(repo, &["rev-parse", "HEAD"]);
    for file in files {
        let path = repo.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        let comment = if file.ends_with(".md") {
            "\nA line.\n"
        } else {
            "\n# a comment\n"
        };
        let comment = if file.ends_with(".rs") {
            "\n// a comment\n"
        } else {
            comment
        };
        text.push_str(comment);
        std::fs::write(&path, text).unwrap();
    }
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "--no-verify", "-m", "a change"]);
    before
}

/// The images `xtask affected --base BASE` prints in `repo`, and what it said on stderr.
fn affected(repo: &Path, args: &[&str]) -> (Vec<String>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("affected")
        .args(args)
        .current_dir(repo)
        // The test runs with the xtask crate's folder here; the binary must work on the clone.
        .env_remove("CARGO_MANIFEST_DIR")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let images = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    (images, stderr)
}

fn all_images(repo: &Path) -> Vec<String> {
    std::fs::read_to_string(repo.join("services.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect()
}

#[test]
fn one_service_a_shared_crate_and_the_lock_file() {
    let repo = clone();
    let repo = repo.path();
    let all = all_images(repo);

    let base = commit_change(repo, &["services/cart/src/lib.rs"]);
    let (images, why) = affected(repo, &["--base", &base]);
    assert_eq!(images, ["cart"], "{why}");
    assert!(
        why.contains("cart: services/cart/src/lib.rs -> cart"),
        "{why}"
    );

    // The gateway's crate is a dependency of the storefront (it uses the API's JSON types).
    let base = commit_change(repo, &["gateway/src/lib.rs"]);
    assert_eq!(
        affected(repo, &["--base", &base]).0,
        ["gateway", "storefront"]
    );

    // platform and the contracts: every service, not the load generator (it uses neither).
    let expected: Vec<String> = all.iter().filter(|n| *n != "loadgen").cloned().collect();
    for file in ["platform/src/lib.rs", "proto/build.rs"] {
        let base = commit_change(repo, &[file]);
        let (images, why) = affected(repo, &["--base", &base]);
        assert_eq!(images, expected, "{file}: {why}");
    }

    let base = commit_change(repo, &["Cargo.lock"]);
    let (images, why) = affected(repo, &["--base", &base]);
    assert_eq!(images, all);
    assert!(why.contains("every image: Cargo.lock changed"), "{why}");
}

#[test]
fn docs_manifests_and_the_pipeline_affect_no_image() {
    let repo = clone();
    let repo = repo.path();
    let base = commit_change(
        repo,
        &[
            "docs/jenkins.md",
            "k8s/base/cart.yaml",
            "Jenkinsfile",
            "tests/jenkinsfile.rs",
        ],
    );
    let (images, why) = affected(repo, &["--base", &base]);
    assert!(images.is_empty(), "{images:?}");
    assert!(why.contains("affected: 0 of"), "{why}");
    // The same commit built twice: nothing to build, nothing to roll out.
    let head = git(repo, &["rev-parse", "HEAD"]);
    assert!(affected(repo, &["--base", &head]).0.is_empty());
}

#[test]
fn without_a_known_base_every_image_is_affected() {
    let repo = clone();
    let repo = repo.path();
    let all = all_images(repo);
    let (images, why) = affected(repo, &[]);
    assert_eq!(images, all);
    assert!(why.contains("no base commit"), "{why}");
    let (images, why) = affected(
        repo,
        &["--base", "0123456789abcdef0123456789abcdef01234567"],
    );
    assert_eq!(images, all);
    assert!(why.contains("is not in this clone"), "{why}");
    assert_eq!(affected(repo, &["--all"]).0, all);
}
