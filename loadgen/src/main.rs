//! `loadgen`: shoppers against the gateway. Goose's own options apply (see `loadgen --help`):
//! `--host`, `-u/--users`, `-r/--increase-rate`, `-t/--run-time`, `--running-metrics` ...
//! Think time between steps: `LOADGEN_THINK_MS=min,max` (default 500,2000; `0,0` for none).
//! Without `-t` it runs until stopped (SIGINT or SIGTERM), as the cluster's load generator must.

use goose::prelude::*;
use std::{process::ExitCode, time::Duration};

fn think_time() -> Result<(Duration, Duration), String> {
    let raw = std::env::var("LOADGEN_THINK_MS").unwrap_or_else(|_| "500,2000".into());
    let parsed: Vec<u64> = raw
        .split(',')
        .map(|v| v.trim().parse())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("LOADGEN_THINK_MS={raw:?}: expected min,max in ms"))?;
    match parsed[..] {
        [min, max] if min <= max => Ok((Duration::from_millis(min), Duration::from_millis(max))),
        _ => Err(format!(
            "LOADGEN_THINK_MS={raw:?}: expected min,max in ms with min <= max"
        )),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    // The image's HEALTHCHECK runs `service healthcheck`: a running load generator is healthy.
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        return ExitCode::SUCCESS;
    }
    let think = match think_time() {
        Ok(think) => think,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let attack = GooseAttack::initialize().and_then(|attack| {
        attack
            .register_scenario(loadgen::shopper_scenario(think)?)
            .set_default(GooseDefault::Host, "http://127.0.0.1:8080")?
            .set_default(GooseDefault::Users, 10)?
            .set_default(GooseDefault::IncreaseRate, "2")?
            // No RunTime default: without `-t` the load generator runs until SIGINT or SIGTERM,
            // as the in-cluster one must (goose 0.19 also reads `-t 0` as "no run time").
            .set_default(GooseDefault::RunningMetrics, 5)
    });
    let metrics = match attack {
        Ok(attack) => attack.execute().await,
        Err(e) => Err(e),
    };
    match metrics {
        Ok(metrics) => {
            println!(
                "\n=== loadgen summary ===\n{}",
                loadgen::Summary::from_metrics(&metrics)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("load test failed: {e}");
            ExitCode::FAILURE
        }
    }
}
