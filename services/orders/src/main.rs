use platform::binary::{Probe, run};

fn main() -> std::process::ExitCode {
    run("orders", Probe::Grpc, orders::serve)
}
