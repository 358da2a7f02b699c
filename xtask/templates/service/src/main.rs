use platform::binary::{Probe, run};

fn main() -> std::process::ExitCode {
    run(
        "{{name}}",
        Probe::Grpc,
        {{name}}::Config::from_env,
        {{name}}::serve,
    )
}
