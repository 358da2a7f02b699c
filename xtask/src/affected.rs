//! `xtask affected`: which images a change needs, from the commit's diff and the workspace's
//! dependency graph. The pipeline builds and rolls out those and keeps the others on the images they
//! run (docs/jenkins.md, "Build only what changed").
//!
//! A changed file belongs to the crate whose folder holds it (the deepest one). An image is affected
//! when its crate, or a crate it depends on (normal or build dependency, transitively), changed.
//! Dev-dependencies do not count: they are not in the binary. Some files change every image: the
//! lock file and any Cargo.toml (features unify across the one `cargo build` of the Dockerfile), the
//! Dockerfile and its .dockerignore, the toolchain and cargo's config. Files of no crate (docs, k8s,
//! jenkins, scripts, the root package's tests) change none.

use anyhow::{Context as _, bail};
use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::Command,
};

#[derive(clap::Args)]
pub struct Args {
    /// The commit the running release was built from (Jenkins: the last successful build's). When
    /// it is empty or not in this clone, every image is affected.
    #[arg(long, default_value = "")]
    base: String,
    /// The commit being built.
    #[arg(long, default_value = "HEAD")]
    head: String,
    /// Every image, whatever changed (a first build, a new cluster).
    #[arg(long, conflicts_with = "base")]
    all: bool,
}

/// A crate of the workspace: its folder relative to the root ("" for the root package) and the
/// folders of the workspace crates it depends on (normal and build dependencies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crate {
    pub name: String,
    pub dir: String,
    pub deps: Vec<String>,
}

/// The answer: the affected images in services.txt order, and why each one is in.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Affected {
    pub images: Vec<String>,
    pub reasons: Vec<String>,
}

pub fn run(args: &Args, root: &Path) -> anyhow::Result<()> {
    let list = std::fs::read_to_string(root.join("services.txt"))
        .with_context(|| format!("reading services.txt in {}", root.display()))?;
    let images: Vec<String> = crate::new_service::parse_rows(&list)?
        .into_iter()
        .map(|row| row.name)
        .collect();
    let answer = match changed_files(root, args)? {
        Changes::Everything(why) => Affected {
            images: images.clone(),
            reasons: vec![format!("every image: {why}")],
        },
        Changes::Files(files) => {
            let crates = workspace_crates(root)?;
            affected(&crates, &images, &files)
        }
    };
    for reason in &answer.reasons {
        eprintln!("{reason}");
    }
    eprintln!(
        "affected: {} of {} images{}",
        answer.images.len(),
        images.len(),
        if answer.images.is_empty() {
            " (nothing to build or roll out)"
        } else {
            ""
        }
    );
    for image in &answer.images {
        println!("{image}");
    }
    Ok(())
}

enum Changes {
    Everything(String),
    Files(Vec<String>),
}

fn changed_files(root: &Path, args: &Args) -> anyhow::Result<Changes> {
    if args.all {
        return Ok(Changes::Everything("--all".into()));
    }
    let base = args.base.trim();
    if base.is_empty() {
        return Ok(Changes::Everything("no base commit (a first build)".into()));
    }
    // Git itself must work here: a failure to read the repository (no git, "dubious ownership")
    // must stop the plan, not pass for "the base is unknown, build everything".
    git(root, &["rev-parse", "--git-dir"])
        .context("git cannot read the repository: the images a change needs are unknown")?;
    let known = |rev: &str| {
        git(
            root,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{rev}^{{commit}}"),
            ],
        )
        .is_ok()
    };
    if !known(base) {
        return Ok(Changes::Everything(format!(
            "the base commit {base} is not in this clone (history rewritten, or a shallow clone)"
        )));
    }
    if !known(&args.head) {
        bail!("--head {}: no such commit", args.head);
    }
    // --no-renames: a moved file counts at its old place and at its new one.
    let out = git(
        root,
        &[
            "diff",
            "--name-only",
            "--no-renames",
            base,
            &args.head,
            "--",
        ],
    )?;
    Ok(Changes::Files(out.lines().map(str::to_owned).collect()))
}

fn git(root: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .context("running git")?;
    if !out.status.success() {
        bail!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// The workspace's crates from `cargo metadata --no-deps` (offline: it reads the manifests only).
fn workspace_crates(root: &Path) -> anyhow::Result<Vec<Crate>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    crates_of(&metadata, &root.canonicalize()?)
}

/// The crates of a `cargo metadata` document, with folders relative to `root`.
pub fn crates_of(metadata: &serde_json::Value, root: &Path) -> anyhow::Result<Vec<Crate>> {
    let relative = |path: &Path| -> String {
        let path = path.strip_prefix(root).unwrap_or(path);
        path.to_string_lossy().replace('\\', "/")
    };
    let packages = metadata["packages"]
        .as_array()
        .context("cargo metadata: no packages")?;
    packages
        .iter()
        .map(|package| {
            let manifest = PathBuf::from(
                package["manifest_path"]
                    .as_str()
                    .context("cargo metadata: a package without manifest_path")?,
            );
            let dir = relative(manifest.parent().unwrap_or(Path::new("")));
            let deps = package["dependencies"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter(|dep| dep["kind"].as_str() != Some("dev"))
                .filter_map(|dep| dep["path"].as_str())
                .map(|path| relative(Path::new(path)))
                .collect();
            Ok(Crate {
                name: package["name"].as_str().unwrap_or_default().to_owned(),
                dir,
                deps,
            })
        })
        .collect()
}

/// The files that change every image: what the one `cargo build` of the Dockerfile reads beyond the
/// crates' folders.
fn changes_every_image(file: &str) -> bool {
    let name = file.rsplit('/').next().unwrap_or(file);
    name == "Cargo.toml"
        || matches!(
            file,
            "Cargo.lock"
                | "Dockerfile"
                | ".dockerignore"
                | "rust-toolchain"
                | "rust-toolchain.toml"
        )
        || file.starts_with(".cargo/")
}

/// The crate that holds `file`: the deepest crate folder it is under. The root package (folder "")
/// holds only its own sources, not every file of the repository.
fn owner<'a>(crates: &'a [Crate], file: &str) -> Option<&'a Crate> {
    crates
        .iter()
        .filter(|c| {
            if c.dir.is_empty() {
                ["src/", "build.rs"].iter().any(|p| file.starts_with(p))
            } else {
                file.starts_with(&format!("{}/", c.dir))
            }
        })
        .max_by_key(|c| c.dir.len())
}

/// The images (names of services.txt, which are crate names) that `changed` files affect.
pub fn affected(crates: &[Crate], images: &[String], changed: &[String]) -> Affected {
    if let Some(file) = changed.iter().find(|f| changes_every_image(f)) {
        return Affected {
            images: images.to_vec(),
            reasons: vec![format!("every image: {file} changed")],
        };
    }
    // The crates each crate's folder is depended on by (reverse edges).
    let mut dependents: BTreeMap<&str, Vec<&Crate>> = BTreeMap::new();
    for c in crates {
        for dep in &c.deps {
            dependents.entry(dep.as_str()).or_default().push(c);
        }
    }
    // Each changed crate, with the first changed file that put it in (for the reasons).
    let mut changed_crates: BTreeMap<&str, &str> = BTreeMap::new();
    for file in changed {
        if let Some(c) = owner(crates, file) {
            changed_crates.entry(c.name.as_str()).or_insert(file);
        }
    }
    // Every crate reached from a changed one, with the path that reached it.
    let mut reached: BTreeMap<&str, String> = BTreeMap::new();
    for c in crates
        .iter()
        .filter(|c| changed_crates.contains_key(c.name.as_str()))
    {
        let file = changed_crates[c.name.as_str()];
        let mut stack = vec![(c, format!("{file} -> {}", c.name))];
        while let Some((at, path)) = stack.pop() {
            if reached.contains_key(at.name.as_str()) {
                continue;
            }
            for next in dependents.get(at.dir.as_str()).into_iter().flatten() {
                stack.push((next, format!("{path} -> {}", next.name)));
            }
            reached.insert(at.name.as_str(), path);
        }
    }
    let images_set: BTreeSet<&str> = images.iter().map(String::as_str).collect();
    let mut reasons: Vec<String> = reached
        .iter()
        .filter(|(name, _)| images_set.contains(*name))
        .map(|(name, path)| format!("{name}: {path}"))
        .collect();
    reasons.sort();
    Affected {
        images: images
            .iter()
            .filter(|name| reached.contains_key(name.as_str()))
            .cloned()
            .collect(),
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn krate(name: &str, dir: &str, deps: &[&str]) -> Crate {
        Crate {
            name: name.into(),
            dir: dir.into(),
            deps: deps.iter().map(|d| d.to_string()).collect(),
        }
    }

    /// The shape of this workspace: storefront uses the gateway's model, loadgen no workspace crate.
    fn shop() -> Vec<Crate> {
        vec![
            krate("shop", "", &["platform", "services/catalog", "gateway"]),
            krate("platform", "platform", &[]),
            krate("shop-proto", "proto", &[]),
            krate("catalog", "services/catalog", &["platform", "proto"]),
            krate("cart", "services/cart", &["platform", "proto"]),
            krate("gateway", "gateway", &["platform", "proto"]),
            krate(
                "storefront",
                "services/storefront",
                &["platform", "gateway"],
            ),
            krate("loadgen", "loadgen", &[]),
            krate("xtask", "xtask", &[]),
        ]
    }

    fn images() -> Vec<String> {
        ["catalog", "cart", "gateway", "storefront", "loadgen"]
            .map(String::from)
            .to_vec()
    }

    fn of(files: &[&str]) -> Vec<String> {
        let files: Vec<String> = files.iter().map(|f| f.to_string()).collect();
        affected(&shop(), &images(), &files).images
    }

    #[test]
    fn a_crate_change_affects_it_and_what_depends_on_it() {
        assert_eq!(of(&["services/cart/src/lib.rs"]), ["cart"]);
        assert_eq!(of(&["gateway/src/routes.rs"]), ["gateway", "storefront"]);
        assert_eq!(
            of(&["platform/src/lib.rs"]),
            ["catalog", "cart", "gateway", "storefront"]
        );
        assert_eq!(of(&["loadgen/src/main.rs"]), ["loadgen"]);
    }

    #[test]
    fn files_of_no_image_affect_none() {
        assert!(of(&["docs/jenkins.md", "k8s/base/cart.yaml", "Jenkinsfile"]).is_empty());
        assert!(of(&["src/main.rs", "tests/jenkinsfile.rs", "xtask/src/main.rs"]).is_empty());
        assert!(of(&[]).is_empty());
    }

    #[test]
    fn the_lock_file_manifests_and_the_dockerfile_affect_every_image() {
        for file in [
            "Cargo.lock",
            "Cargo.toml",
            "services/cart/Cargo.toml",
            "Dockerfile",
            ".dockerignore",
        ] {
            assert_eq!(of(&[file]), images(), "{file}");
        }
    }

    #[test]
    fn the_reasons_say_which_file_and_path() {
        let answer = affected(&shop(), &images(), &["gateway/src/a.rs".to_string()]);
        assert_eq!(
            answer.reasons,
            [
                "gateway: gateway/src/a.rs -> gateway",
                "storefront: gateway/src/a.rs -> gateway -> storefront"
            ]
        );
    }

    #[test]
    fn dev_dependencies_and_paths_come_from_cargo_metadata() {
        let metadata = serde_json::json!({"packages": [
            {"name": "cart", "manifest_path": "/w/services/cart/Cargo.toml", "dependencies": [
                {"name": "platform", "kind": null, "path": "/w/platform"},
                {"name": "shop-proto", "kind": "build", "path": "/w/proto"},
                {"name": "gateway", "kind": "dev", "path": "/w/gateway"},
                {"name": "serde", "kind": null}
            ]},
            {"name": "shop", "manifest_path": "/w/Cargo.toml", "dependencies": []}
        ]});
        let crates = crates_of(&metadata, Path::new("/w")).unwrap();
        assert_eq!(
            crates,
            [
                krate("cart", "services/cart", &["platform", "proto"]),
                krate("shop", "", &[])
            ]
        );
    }
}
