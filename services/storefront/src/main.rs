use platform::binary::{Probe, run};

platform::fast_allocator!();

fn main() -> std::process::ExitCode {
    run("storefront", Probe::Http, storefront::serve)
}
