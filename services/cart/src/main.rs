use platform::binary::{Probe, run};

fn main() -> std::process::ExitCode {
    run("cart", Probe::Grpc, cart::Config::from_env, cart::serve)
}
