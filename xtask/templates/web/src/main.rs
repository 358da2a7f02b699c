use platform::binary::{Probe, run};

fn main() -> std::process::ExitCode {
    run("{{name}}", Probe::Http, {{name}}::serve)
}
