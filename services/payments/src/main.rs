use platform::binary::{Probe, run};

fn main() -> std::process::ExitCode {
    run("payments", Probe::Grpc, payments::serve)
}
