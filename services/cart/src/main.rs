use platform::binary::{Probe, run};

fn main() -> std::process::ExitCode {
    run("cart", Probe::Grpc, cart::serve)
}
