//! Generated gRPC clients and servers for the shop's services, one module per versioned package.

pub mod catalog {
    pub mod v1 {
        tonic::include_proto!("shop.catalog.v1");
    }
}
pub mod cart {
    pub mod v1 {
        tonic::include_proto!("shop.cart.v1");
    }
}
pub mod payments {
    pub mod v1 {
        tonic::include_proto!("shop.payments.v1");
    }
}
pub mod orders {
    pub mod v1 {
        tonic::include_proto!("shop.orders.v1");
    }
}

/// Encoded `FileDescriptorSet` of every shop contract, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/shop_descriptor.bin"));
