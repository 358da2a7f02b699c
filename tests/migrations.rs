//! Migrations and rollbacks: a service of this release must start on a database that a newer
//! release has migrated further (a `kubectl rollout undo`, or the pipeline's automatic rollback,
//! runs the old pods on the new schema). Migrations only add, so the old code works on it; the
//! migrators must not refuse to start over migrations they do not know.

use sqlx::migrate::Migrator;
use std::path::Path;

#[tokio::test]
async fn every_service_starts_on_a_database_migrated_by_the_next_release() {
    let services: [(&str, &Migrator); 4] = [
        ("catalog", &catalog::store::MIGRATOR),
        ("cart", &cart::store::MIGRATOR),
        ("orders", &orders::store::MIGRATOR),
        ("payments", &payments::store::MIGRATOR),
    ];
    for (service, migrator) in services {
        // The next release: this release's migrations and one more.
        let dir = tempfile::tempdir().unwrap();
        let next = dir.path().join("migrations");
        std::fs::create_dir(&next).unwrap();
        let ours =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("services/{service}/migrations"));
        for file in std::fs::read_dir(&ours).unwrap() {
            let file = file.unwrap();
            std::fs::copy(file.path(), next.join(file.file_name())).unwrap();
        }
        std::fs::write(
            next.join("9999_next_release.sql"),
            "CREATE TABLE next_release_table (id TEXT PRIMARY KEY);",
        )
        .unwrap();
        let url = format!("sqlite://{}/{service}.db", dir.path().display());
        let pool = platform::db::connect(&url, &Migrator::new(next.as_path()).await.unwrap())
            .await
            .unwrap();
        pool.close().await;

        // Rolled back: this release starts on it.
        let pool = platform::db::connect(&url, migrator)
            .await
            .unwrap_or_else(|e| panic!("{service} does not start after a rollback: {e:#}"));
        pool.close().await;
    }
}
