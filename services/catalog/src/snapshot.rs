//! The catalog in memory. The catalog is read on every page and changed rarely, so reads are
//! answered from a snapshot of every product, loaded from the database at start and reloaded every
//! `CATALOG_REFRESH_INTERVAL_MS`; the database stays the source of truth. A read costs a lock-free
//! pointer load and a lookup instead of a round trip through the database driver (the benchmark in
//! docs/benchmarks.md measures the difference).

use crate::{domain::Product, store::ProductStore};
use arc_swap::ArcSwap;
use std::{sync::Arc, time::Duration};

/// Every product at one moment, sorted by id (the order pages follow).
#[derive(Debug, Default)]
pub struct CatalogSnapshot {
    products: Vec<Product>,
    /// Per product: name, description and category in lower case, what a search looks in.
    search_text: Vec<[String; 3]>,
}

impl CatalogSnapshot {
    pub fn new(mut products: Vec<Product>) -> Self {
        products.sort_by(|a, b| a.id.cmp(&b.id));
        products.dedup_by(|a, b| a.id == b.id);
        let search_text = products
            .iter()
            .map(|p| {
                [
                    p.name.to_lowercase(),
                    p.description.to_lowercase(),
                    p.category.to_lowercase(),
                ]
            })
            .collect();
        Self {
            products,
            search_text,
        }
    }

    pub fn len(&self) -> usize {
        self.products.len()
    }

    pub fn is_empty(&self) -> bool {
        self.products.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&Product> {
        self.products
            .binary_search_by(|p| p.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.products[i])
    }

    /// Up to `limit` products after id `after` (keyset paging), of `category` if given, and
    /// whether more follow.
    pub fn list(&self, category: Option<&str>, after: &str, limit: usize) -> (Vec<Product>, bool) {
        let start = self.products.partition_point(|p| p.id.as_str() <= after);
        let mut matching = self.products[start..]
            .iter()
            .filter(|p| category.is_none_or(|c| p.category == c));
        let page: Vec<Product> = matching.by_ref().take(limit).cloned().collect();
        (page, matching.next().is_some())
    }

    /// Up to `limit` products whose name, description or category contains `query` (already lower
    /// case, taken literally), by name.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Product> {
        let mut found: Vec<&Product> = self
            .products
            .iter()
            .zip(&self.search_text)
            .filter(|(_, text)| text.iter().any(|field| field.contains(query)))
            .map(|(p, _)| p)
            .collect();
        found.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        found.into_iter().take(limit).cloned().collect()
    }
}

/// The current snapshot, replaced whole by each reload (readers never wait for one).
#[derive(Clone, Default)]
pub struct LiveCatalog(Arc<ArcSwap<CatalogSnapshot>>);

impl LiveCatalog {
    /// Loads every product from `store`.
    pub async fn load(store: &ProductStore) -> sqlx::Result<Self> {
        let live = Self::default();
        live.reload(store).await?;
        Ok(live)
    }

    pub fn current(&self) -> Arc<CatalogSnapshot> {
        self.0.load_full()
    }

    /// Reads the products again and makes them the current snapshot.
    pub async fn reload(&self, store: &ProductStore) -> sqlx::Result<()> {
        let products = store.all().await?;
        self.0.store(Arc::new(CatalogSnapshot::new(products)));
        Ok(())
    }

    /// Reloads every `interval` until the returned task is aborted; a failed reload keeps the
    /// last snapshot (reads go on while the database is away) and is logged.
    pub fn refresh_every(
        &self,
        store: ProductStore,
        interval: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let live = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await; // the first tick is immediate: loaded already
            loop {
                ticks.tick().await;
                if let Err(e) = live.reload(&store).await {
                    tracing::warn!(error = %e, "reloading the catalog failed: serving the last snapshot");
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{search_query, seed_products};

    #[test]
    fn pages_visit_every_product_once_in_id_order() {
        let snapshot = CatalogSnapshot::new(seed_products());
        let (mut seen, mut after) = (Vec::new(), String::new());
        loop {
            let (page, more) = snapshot.list(None, &after, 7);
            assert!(page.len() <= 7);
            seen.extend(page.iter().map(|p| p.id.clone()));
            after = page.last().map(|p| p.id.clone()).unwrap_or_default();
            if !more {
                break;
            }
        }
        let mut ids: Vec<String> = seed_products().into_iter().map(|p| p.id).collect();
        ids.sort();
        assert_eq!(seen, ids);
        let (last, more) = snapshot.list(None, &ids[ids.len() - 2], 1);
        assert_eq!(
            (last.len(), more),
            (1, false),
            "an exactly full last page says no more"
        );
    }

    #[test]
    fn a_category_page_holds_only_that_category() {
        let snapshot = CatalogSnapshot::new(seed_products());
        let (kitchen, _) = snapshot.list(Some("kitchen"), "", 100);
        assert!(!kitchen.is_empty() && kitchen.iter().all(|p| p.category == "kitchen"));
        assert!(snapshot.list(Some("no-such"), "", 100).0.is_empty());
    }

    #[test]
    fn search_looks_in_name_description_and_category_literally_and_sorts_by_name() {
        let snapshot = CatalogSnapshot::new(seed_products());
        let found = snapshot.search(&search_query("Coffee").unwrap(), 10);
        assert!(found.iter().any(|p| p.id == "pour-over-coffee-set"));
        assert!(found.windows(2).all(|w| w[0].name <= w[1].name));
        assert_eq!(snapshot.search("kitchen", 3).len(), 3, "limit");
        assert!(snapshot.search("100%", 10).is_empty(), "% is literal");
        assert!(snapshot.search("_", 10).is_empty(), "_ is literal");
    }

    #[test]
    fn get_finds_by_exact_id() {
        let snapshot = CatalogSnapshot::new(seed_products());
        assert_eq!(snapshot.get("chef-knife").unwrap().price.units, 8900);
        assert!(snapshot.get("chef").is_none());
        assert!(CatalogSnapshot::default().get("chef-knife").is_none());
    }

    #[tokio::test]
    async fn a_change_in_the_database_shows_after_a_reload_and_a_failed_reload_keeps_serving() {
        use platform::testing::{TestDatabase, backends};
        for backend in backends() {
            let db = TestDatabase::new(backend).await;
            let pool = platform::db::connect(&db.url, &crate::store::MIGRATOR)
                .await
                .unwrap();
            let store = ProductStore::new(pool.clone());
            store.seed(&seed_products()).await.unwrap();
            let live = LiveCatalog::load(&store).await.unwrap();
            assert_eq!(live.current().len(), seed_products().len(), "{backend:?}");
            let refresher = live.refresh_every(store, Duration::from_millis(20));

            // A price change made in the database, the source of truth, by someone else.
            sqlx::query("UPDATE products SET price_units = 7700 WHERE id = 'chef-knife'")
                .execute(&pool)
                .await
                .unwrap();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            while live.current().get("chef-knife").unwrap().price.units != 7700 {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "never reloaded ({backend:?})"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }

            // The database goes away: reads go on from the last snapshot.
            pool.close().await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert_eq!(live.current().get("chef-knife").unwrap().price.units, 7700);
            assert_eq!(live.current().len(), seed_products().len());
            refresher.abort();
        }
    }
}
