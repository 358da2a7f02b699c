use platform::binary::{Probe, run};

platform::fast_allocator!();

fn main() -> std::process::ExitCode {
    run("cart", Probe::Grpc, cart::serve)
}
