use platform::binary::{Probe, run};

fn main() -> std::process::ExitCode {
    run("gateway", Probe::Http, gateway::serve)
}
