//! The service chassis: everything a shop binary needs that is not its own domain.
//!
//! A service crate exposes `serve(listeners, config, shutdown)`; its `main` is a call to
//! [`binary::run_grpc_service`] or [`binary::run_http_service`]. The all-in-one `shop up`
//! command and the tests call the same `serve` functions with listeners of their own.

pub mod admin;
pub mod allocator;
pub mod binary;
pub mod clock;
pub mod config;
pub mod db;
pub mod deadline;
pub mod errors;
pub mod grpc_client;
pub mod grpc_server;
pub mod health;
pub mod http_client;
pub mod http_metrics;
pub mod http_server;
pub mod identity;
pub mod metrics;
pub mod overload;
pub mod shutdown;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;

pub use config::ConfigError;
pub use shutdown::Shutdown;

/// The memory allocator of the shop's binaries: `platform::fast_allocator!();` in a `main.rs`
/// (see [`allocator`]). A macro rather than a `#[global_allocator]` here: libraries, tests and the
/// fuzzer (whose AddressSanitizer watches the system allocator) keep the system one.
#[macro_export]
macro_rules! fast_allocator {
    () => {
        #[global_allocator]
        static ALLOCATOR: $crate::allocator::Allocator = $crate::allocator::Allocator;
    };
}
