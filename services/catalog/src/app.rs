//! The use cases of the catalog, on domain types: a page of products (optionally of one category),
//! one product, a text search. Reads only, answered from the snapshot in memory
//! ([`crate::snapshot`]); the database is the source of truth it is loaded from.

use crate::{
    domain::{self, CatalogError, Product},
    snapshot::LiveCatalog,
};

/// What a use case can fail with: reads from memory fail only on their input.
pub type AppError = CatalogError;

/// A page of products and the token of the next one (`None` on the last page).
#[derive(Debug, PartialEq)]
pub struct Page {
    pub products: Vec<Product>,
    pub next_page_token: Option<String>,
}

pub struct CatalogApp {
    products: LiveCatalog,
}

impl CatalogApp {
    pub fn new(products: LiveCatalog) -> Self {
        Self { products }
    }

    /// `page_size` 0 means the default; `page_token` is the previous page's `next_page_token`.
    pub fn list(&self, category: &str, page_token: &str, page_size: i32) -> Result<Page, AppError> {
        let limit = domain::page_size(page_size)?;
        let category = Some(category.trim()).filter(|c| !c.is_empty());
        let after = domain::after_page_token(page_token)?;
        let (products, more) = self
            .products
            .current()
            .list(category, &after, limit as usize);
        let next_page_token = more
            .then(|| products.last().map(|p| domain::page_token(&p.id)))
            .flatten();
        Ok(Page {
            products,
            next_page_token,
        })
    }

    pub fn get(&self, id: &str) -> Result<Product, AppError> {
        if id.trim().is_empty() {
            return Err(CatalogError::InvalidArgument("id must not be empty".into()));
        }
        self.products
            .current()
            .get(id)
            .cloned()
            .ok_or_else(|| CatalogError::NotFound(id.to_owned()))
    }

    pub fn search(&self, query: &str, limit: i32) -> Result<Vec<Product>, AppError> {
        let query = domain::search_query(query)?;
        let limit = domain::page_size(limit)?;
        Ok(self.products.current().search(&query, limit as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn app() -> (CatalogApp, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/catalog.db", dir.path().display());
        let pool = platform::db::connect(&url, &crate::store::MIGRATOR)
            .await
            .unwrap();
        let store = crate::store::ProductStore::new(pool);
        store.seed(&domain::seed_products()).await.unwrap();
        let products = LiveCatalog::load(&store).await.unwrap();
        (CatalogApp::new(products), dir)
    }

    #[tokio::test]
    async fn pages_follow_each_other_until_the_last_one() {
        let (app, _dir) = app().await;
        let (mut seen, mut token) = (Vec::new(), String::new());
        loop {
            let page = app.list("", &token, 7).unwrap();
            assert!(page.products.len() <= 7);
            seen.extend(page.products.into_iter().map(|p| p.id));
            match page.next_page_token {
                Some(next) => token = next,
                None => break,
            }
        }
        assert_eq!(
            seen.len(),
            domain::seed_products().len(),
            "every product, once"
        );
        assert!(matches!(
            app.list("", "not-a-token", 7),
            Err(CatalogError::InvalidArgument(_))
        ));
    }

    #[tokio::test]
    async fn unknown_and_empty_ids_are_told_apart() {
        let (app, _dir) = app().await;
        let id = &domain::seed_products()[0].id;
        assert_eq!(&app.get(id).unwrap().id, id);
        assert!(matches!(app.get("nope"), Err(CatalogError::NotFound(_))));
        assert!(matches!(
            app.get(" "),
            Err(CatalogError::InvalidArgument(_))
        ));
    }
}
