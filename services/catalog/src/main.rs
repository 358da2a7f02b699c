use platform::binary::{Probe, run};

platform::fast_allocator!();

fn main() -> std::process::ExitCode {
    run("catalog", Probe::Grpc, catalog::serve)
}
