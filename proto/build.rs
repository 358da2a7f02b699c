//! Compiles every .proto contract under proto/ with protox (pure Rust, so no system `protoc`), and
//! writes the module tree that src/lib.rs includes: one module per versioned package, so a new
//! contract (proto/shop/NAME/v1/NAME.proto) needs no edit here.
use prost::Message;
use std::{
    collections::BTreeSet,
    env, fs,
    path::{Path, PathBuf},
};

fn protos(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            protos(&path, found)?;
        } else if path.extension().is_some_and(|e| e == "proto") {
            found.push(path);
        }
    }
    Ok(())
}

/// `pub mod shop_x { pub mod v1 { tonic::include_proto!("shop.x.v1"); } }` for every package,
/// with the leading `shop.` dropped: `shop_proto::catalog::v1`.
fn module_tree(packages: &BTreeSet<String>) -> String {
    let mut out = String::new();
    let mut open: Vec<String> = Vec::new();
    for package in packages {
        let parts: Vec<String> = package.split('.').skip(1).map(str::to_owned).collect();
        let common = open.iter().zip(&parts).take_while(|(a, b)| a == b).count();
        for _ in common..open.len() {
            out.push_str("}\n");
        }
        open.truncate(common);
        for part in &parts[common..] {
            out.push_str(&format!("pub mod {part} {{\n"));
            open.push(part.clone());
        }
        out.push_str(&format!("tonic::include_proto!(\"{package}\");\n"));
    }
    for _ in &open {
        out.push_str("}\n");
    }
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut files = Vec::new();
    protos(Path::new("proto/shop"), &mut files)?;
    files.sort();
    let fds = protox::compile(&files, ["proto"])?;
    let packages: BTreeSet<String> = fds.file.iter().filter_map(|f| f.package.clone()).collect();
    let out = PathBuf::from(env::var("OUT_DIR")?);
    // The encoded descriptor set feeds gRPC reflection, so grpcurl can discover every service.
    fs::write(out.join("shop_descriptor.bin"), fds.encode_to_vec())?;
    fs::write(out.join("packages.rs"), module_tree(&packages))?;
    tonic_prost_build::configure().compile_fds(fds)?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
