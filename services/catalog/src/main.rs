use platform::binary::{Probe, run};

fn main() -> std::process::ExitCode {
    run("catalog", Probe::Grpc, catalog::serve)
}
