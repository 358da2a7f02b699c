//! Compiles the .proto contracts with protox (pure Rust), so no system `protoc` is needed.
use prost::Message;
use std::{env, fs, path::PathBuf};

const PROTOS: &[&str] = &[
    "proto/shop/catalog/v1/catalog.proto",
    "proto/shop/cart/v1/cart.proto",
    "proto/shop/payments/v1/payments.proto",
    "proto/shop/orders/v1/orders.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fds = protox::compile(PROTOS, ["proto"])?;
    // The encoded descriptor set feeds gRPC reflection, so grpcurl can discover every service.
    let out = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out.join("shop_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure().compile_fds(fds)?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
