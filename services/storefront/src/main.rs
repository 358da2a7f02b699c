use platform::binary::{Probe, run};

fn main() -> std::process::ExitCode {
    run("storefront", Probe::Http, storefront::serve)
}
