//! PostgreSQL restarted under load: shoppers keep checking out while the database goes away for 4
//! seconds. Requests fail only while it is down, the shop recovers by itself, and afterwards the
//! books balance: no order without its charge, no charge without its order (or voided), no key
//! with two orders. The database is a PostgreSQL server of this test's own (Debian's binaries,
//! which scripts/test.sh installs), so that stopping it disturbs no other test.

mod common;

use common::{
    ApiClient, GOOD_CARD,
    processes::{ProcessShop, database_owners, eventually},
};
use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
    process::Command,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::time::Instant;

/// A PostgreSQL server in a temporary directory, controlled with pg_ctl.
struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl Postgres {
    fn new() -> Self {
        // Where `pg_config --bindir` says (Homebrew, other distributions), else Debian's place.
        let from_pg_config = Command::new("pg_config")
            .arg("--bindir")
            .output()
            .ok()
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
        let from_debian = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|versions| {
                versions
                    .filter_map(Result::ok)
                    .map(|v| v.path().join("bin"))
                    .filter(|b| b.join("initdb").exists())
                    .max()
            });
        let bin = from_pg_config
            .filter(|b| b.join("initdb").exists())
            .or(from_debian)
            .expect(
                "PostgreSQL's server programs (initdb, pg_ctl) are needed: scripts/test.sh \
                 installs them on Debian, and skips this test where there are none",
            );
        let dir = tempfile::tempdir().unwrap();
        let pg = Postgres {
            dir,
            bin,
            port: common::free_port(),
        };
        if is_root() {
            // PostgreSQL refuses to run as root: its files belong to the postgres user.
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(pg.dir.path())
                .status()
                .unwrap()
                .success();
            assert!(ok, "chown to postgres");
        }
        pg.run(
            "initdb",
            &[
                "-D",
                &pg.data(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        pg.start();
        pg
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// Runs a PostgreSQL program, as the postgres user when this is root.
    fn run(&self, program: &str, args: &[&str]) {
        let path = self.bin.join(program);
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let output = command.args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
    }

    /// Fast shutdown: connections are closed, as when the database pod is replaced.
    fn stop(&self) {
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "fast", "-w", "-t", "60", "stop"],
        );
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Command::new(self.bin.join("pg_ctl"))
            .args(["-D", &self.data(), "-m", "immediate", "stop"])
            .output();
        if is_root() {
            let _ = Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"))
                .args(["-D", &self.data(), "-m", "immediate", "stop"])
                .output();
        }
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// One request's outcome: when it ended and its status.
type Outcome = (Instant, u16);

/// A shopper who adds to the cart and checks out (a fresh key each time), until `until`.
async fn shop_until(
    api: Arc<ApiClient>,
    name: String,
    until: Instant,
    log: Arc<Mutex<Vec<Outcome>>>,
) {
    let token = loop {
        let r = api
            .http
            .post(api.url("/api/v1/session"))
            .json(&serde_json::json!({"name": name}))
            .send()
            .await;
        if let Ok(r) = r
            && r.status() == 201
        {
            let body: serde_json::Value = r.json().await.unwrap();
            break body["token"].as_str().unwrap().to_owned();
        }
    };
    while Instant::now() < until {
        let added = api
            .add_to_cart(&token, "hammock", 1)
            .await
            .status()
            .as_u16();
        log.lock().unwrap().push((Instant::now(), added));
        if added != 200 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        let key = uuid::Uuid::new_v4().to_string();
        let (r, _) = api.checkout_patiently(&token, &key, GOOD_CARD).await;
        log.lock()
            .unwrap()
            .push((Instant::now(), r.status().as_u16()));
    }
}

#[tokio::test]
async fn postgres_restarted_under_load_loses_nothing_and_the_shop_recovers() {
    let pg = Postgres::new();
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&pg.url("postgres")).await.unwrap();
    let mut databases = BTreeMap::new();
    for service in database_owners() {
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {service}")))
            .execute(&admin)
            .await
            .unwrap();
        databases.insert(service, pg.url(service));
    }
    admin.close().await;

    // Unfinished checkouts are settled quickly, so that the books can be checked at the end.
    let mut shop = ProcessShop::new(
        databases,
        &[
            ("CHECKOUT_LEASE_SECONDS", "1"),
            ("CHECKOUT_ABANDON_AFTER_SECONDS", "1"),
        ],
    );
    shop.start(&["catalog", "cart", "orders", "payments", "gateway"])
        .await;

    // The cluster's load generator runs throughout (its Deployment's arguments), and 6 shoppers
    // of the test's own, whose every answer is timed, for 16 s; PostgreSQL is down from 4 s to 8 s.
    let loadgen_binary = std::path::Path::new(env!("CARGO_BIN_EXE_shop")).with_file_name("loadgen");
    let (args, _) = common::loadgen_deployment_args(&shop.api.base);
    let report = tempfile::NamedTempFile::new().unwrap();
    let mut loadgen = Command::new(&loadgen_binary)
        .args(&args)
        .env("LOADGEN_THINK_MS", "50,100")
        .stdout(report.reopen().unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e} (cargo build -p loadgen)", loadgen_binary.display()));
    let api = Arc::new(ApiClient::new(shop.api.base.clone()));
    let log = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let until = start + Duration::from_secs(16);
    let shoppers: Vec<_> = (0..6)
        .map(|i| {
            tokio::spawn(shop_until(
                api.clone(),
                format!("shopper-{i}"),
                until,
                log.clone(),
            ))
        })
        .collect();
    tokio::time::sleep_until(start + Duration::from_secs(4)).await;
    let down = Instant::now();
    pg.stop();
    println!("PostgreSQL stopped at {:?}", down - start);
    tokio::time::sleep(Duration::from_secs(4)).await;
    pg.start();
    let up = Instant::now();
    println!("PostgreSQL started again at {:?}", up - start);
    for shopper in shoppers {
        shopper.await.unwrap();
    }
    // Stopped as Kubernetes stops a pod: SIGTERM, then it prints its report and exits 0.
    let stopped = Command::new("kill")
        .args(["-TERM", &loadgen.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    assert!(
        loadgen.wait().unwrap().success(),
        "the load generator stops cleanly"
    );

    let log = log.lock().unwrap().clone();
    let failed = |from: Instant, to: Instant| {
        log.iter()
            .filter(|(t, s)| *t >= from && *t < to && !(200..300).contains(s))
            .count()
    };
    let served = |from: Instant, to: Instant| {
        log.iter()
            .filter(|(t, s)| *t >= from && *t < to && (200..300).contains(s))
            .count()
    };
    // Connections are re-established within a few seconds of the restart.
    let settled = up + Duration::from_secs(4);
    println!(
        "requests: {} in all; before the outage {} ok, {} failed; during it and while \
         reconnecting {} failed; after {:?} {} ok, {} failed",
        log.len(),
        served(start, down),
        failed(start, down),
        failed(down, settled),
        settled - start,
        served(settled, until + Duration::from_secs(30)),
        failed(settled, until + Duration::from_secs(30)),
    );
    assert_eq!(failed(start, down), 0, "no failure before the outage");
    assert!(
        served(settled, until + Duration::from_secs(30)) > 0,
        "the shop serves again"
    );
    assert_eq!(
        failed(settled, until + Duration::from_secs(30)),
        0,
        "full recovery after the restart"
    );

    // The books: once every unfinished checkout is settled (voided by the reconciler)...
    eventually("every checkout is completed or voided", || async {
        shop.checkout_states()
            .await
            .iter()
            .all(|s| s == "completed" || s == "voided")
    })
    .await;
    let orders = shop.orders().await;
    let charges = shop.charges().await;
    let standing: BTreeMap<&str, &str> = charges
        .iter()
        .filter(|(_, _, voided)| !voided)
        .map(|(key, tx, _)| (key.as_str(), tx.as_str()))
        .collect();
    let voided = charges.iter().filter(|(_, _, v)| *v).count();
    let order_keys: BTreeSet<String> = orders.iter().map(|(id, _)| format!("order:{id}")).collect();
    let states = shop.checkout_states().await;
    println!(
        "afterwards: {} orders, {} charges standing, {} voided, {} checkouts ({} completed)",
        orders.len(),
        standing.len(),
        voided,
        states.len(),
        states.iter().filter(|s| *s == "completed").count()
    );
    for (id, tx) in &orders {
        assert_eq!(
            standing.get(format!("order:{id}").as_str()),
            Some(&tx.as_str()),
            "order {id} has its charge"
        );
    }
    for key in standing.keys() {
        assert!(order_keys.contains(*key), "charge {key} has its order");
    }
    let per_key: BTreeSet<&String> = orders.iter().map(|(id, _)| id).collect();
    assert_eq!(per_key.len(), orders.len(), "no duplicate orders");
    assert!(!orders.is_empty());
}
