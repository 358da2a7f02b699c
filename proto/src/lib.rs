//! Generated gRPC clients and servers for the shop's services, one module per versioned package
//! (`shop.catalog.v1` is `shop_proto::catalog::v1`), found by build.rs under proto/shop.

include!(concat!(env!("OUT_DIR"), "/packages.rs"));

/// Encoded `FileDescriptorSet` of every shop contract, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/shop_descriptor.bin"));
