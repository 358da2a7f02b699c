//! The in-cluster load generator runs until its pod stops: with the exact arguments of its
//! Deployment it is still sending requests past 60 s (the run time goose 0.18 fell back to when
//! `-t 0` was read as "unset"), SIGTERM ends it cleanly within the pod's grace period, and its
//! report counts the answers of each pod and release.

mod common;

use common::spawn_shop;
use platform::testing::Backend;
use std::{
    process::{Command, Stdio},
    time::Duration,
};

/// The old default run time: a load generator that stops after it restart-loops in a cluster.
const GOOSE_FALLBACK_RUN_TIME: Duration = Duration::from_secs(60);

#[tokio::test]
async fn the_cluster_load_generator_runs_until_stopped() {
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_shop")).with_file_name("loadgen");
    assert!(
        binary.exists(),
        "{} is missing: build it first (`cargo build -p loadgen`; scripts/test.sh does)",
        binary.display()
    );
    let shop = spawn_shop(Backend::Sqlite).await;
    let (args, grace) = common::loadgen_deployment_args(&shop.base);
    // A file, not a pipe: its live metrics would fill a pipe nobody reads, and block it.
    let report_path = shop.data_dir.path().join("loadgen.out");
    let mut loadgen = Command::new(&binary)
        .args(&args)
        .env("LOADGEN_THINK_MS", "50,100")
        .stdout(std::fs::File::create(&report_path).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let started = tokio::time::Instant::now();
    let past_fallback = GOOSE_FALLBACK_RUN_TIME + Duration::from_secs(5);
    let mut before = 0.0;
    while started.elapsed() < past_fallback {
        assert!(
            loadgen.try_wait().unwrap().is_none(),
            "the load generator stopped after {:?}",
            started.elapsed()
        );
        if started.elapsed() < GOOSE_FALLBACK_RUN_TIME {
            before = common::metric_sum(&shop.admin, "http_requests_total", "").await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let after = common::metric_sum(&shop.admin, "http_requests_total", "").await;
    assert!(
        after > before,
        "still sending requests after {GOOSE_FALLBACK_RUN_TIME:?} ({before} -> {after})"
    );

    // Kubernetes stops a pod with SIGTERM, then SIGKILL after the grace period.
    let killed = Command::new("kill")
        .args(["-TERM", &loadgen.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(grace);
    let status = loop {
        if let Some(status) = loadgen.try_wait().unwrap() {
            break status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "loadgen did not stop within the pod's grace period ({grace} s)"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "SIGTERM ends it cleanly: {status:?}");
    let report = std::fs::read_to_string(&report_path).unwrap();
    assert!(
        report.contains("=== loadgen summary ==="),
        "it prints its report when stopped"
    );
    // Which pods answered, in which release: the gateway's and the backends' it asked.
    let answered = |role: &str, pod: &str| {
        report.lines().any(|line| {
            let cells: Vec<&str> = line.split_whitespace().collect();
            cells.len() == 4
                && cells[0] == role
                && cells[1] == pod
                && cells[3].parse::<u64>().is_ok_and(|n| n > 0)
        })
    };
    for (role, pod) in [
        ("gateway", "gateway-1"),
        ("backend", "catalog-1"),
        ("backend", "cart-1"),
        ("backend", "orders-1"),
    ] {
        assert!(
            answered(role, pod),
            "the report counts the answers of {pod}:\n{report}"
        );
    }
    shop.stop().await;
}
