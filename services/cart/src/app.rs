//! The use cases of the cart, on domain types: add (only products the catalog knows), remove, read,
//! empty. The catalog is behind the small [`Products`] trait: `backends.rs` asks it over gRPC, the
//! tests below use a fake.

use crate::{
    domain::{self, CartError, CartItem},
    store::{CartStore, StoreError},
};
use std::future::Future;

/// What a use case can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Cart(#[from] CartError),
    #[error("catalog is unavailable: {0}")]
    CatalogUnavailable(String),
    #[error(transparent)]
    Storage(#[from] sqlx::Error),
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Cart(e) => Self::Cart(e),
            StoreError::Sql(e) => Self::Storage(e),
        }
    }
}

/// Whether the catalog knows a product: `Err(CartError::UnknownProduct)` when it does not,
/// `Err(AppError::CatalogUnavailable)` when it cannot say.
pub trait Products: Send + Sync {
    fn ensure_exists(&self, product_id: &str) -> impl Future<Output = Result<(), AppError>> + Send;
}

pub struct CartApp<P> {
    store: CartStore,
    products: P,
}

impl<P: Products> CartApp<P> {
    pub fn new(store: CartStore, products: P) -> Self {
        Self { store, products }
    }

    /// Adds `quantity` of a product the catalog knows; returns the cart.
    pub async fn add(
        &self,
        user_id: &str,
        product_id: &str,
        quantity: i32,
    ) -> Result<Vec<CartItem>, AppError> {
        domain::validate_add(user_id, product_id, quantity)?;
        self.products.ensure_exists(product_id).await?;
        self.store.add(user_id, product_id, quantity).await?;
        self.items(user_id).await
    }

    pub async fn remove(&self, user_id: &str, product_id: &str) -> Result<Vec<CartItem>, AppError> {
        domain::validate_user(user_id)?;
        self.store.remove(user_id, product_id).await?;
        self.items(user_id).await
    }

    pub async fn items(&self, user_id: &str) -> Result<Vec<CartItem>, AppError> {
        domain::validate_user(user_id)?;
        Ok(self.store.items(user_id).await?)
    }

    pub async fn empty(&self, user_id: &str) -> Result<(), AppError> {
        domain::validate_user(user_id)?;
        Ok(self.store.empty(user_id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    };

    /// Knows `known`; answers "unavailable" while `down` is set.
    #[derive(Clone, Default)]
    struct FakeCatalog {
        known: Vec<&'static str>,
        down: Arc<AtomicBool>,
    }

    impl Products for FakeCatalog {
        async fn ensure_exists(&self, product_id: &str) -> Result<(), AppError> {
            if self.down.load(Ordering::SeqCst) {
                return Err(AppError::CatalogUnavailable("down".into()));
            }
            if self.known.contains(&product_id) {
                Ok(())
            } else {
                Err(CartError::UnknownProduct(product_id.to_owned()).into())
            }
        }
    }

    async fn app(catalog: FakeCatalog) -> (CartApp<FakeCatalog>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/cart.db", dir.path().display());
        let pool = platform::db::connect(&url, &crate::store::MIGRATOR)
            .await
            .unwrap();
        (CartApp::new(CartStore::new(pool), catalog), dir)
    }

    #[tokio::test]
    async fn only_products_the_catalog_knows_are_added() {
        let catalog = FakeCatalog {
            known: vec!["mug"],
            ..Default::default()
        };
        let (app, _dir) = app(catalog).await;
        let items = app.add("ann", "mug", 2).await.unwrap();
        assert_eq!(items.len(), 1);
        let err = app.add("ann", "ghost", 1).await.unwrap_err();
        assert!(
            matches!(err, AppError::Cart(CartError::UnknownProduct(_))),
            "{err:?}"
        );
        assert_eq!(
            app.items("ann").await.unwrap().len(),
            1,
            "nothing stored for it"
        );
    }

    #[tokio::test]
    async fn with_the_catalog_down_nothing_is_added_and_the_error_says_so() {
        let catalog = FakeCatalog {
            known: vec!["mug"],
            ..Default::default()
        };
        catalog.down.store(true, Ordering::SeqCst);
        let (app, _dir) = app(catalog.clone()).await;
        let err = app.add("ann", "mug", 1).await.unwrap_err();
        assert!(matches!(err, AppError::CatalogUnavailable(_)), "{err:?}");
        assert!(app.items("ann").await.unwrap().is_empty());
        // Reading, removing and emptying need no catalog.
        assert!(app.remove("ann", "mug").await.unwrap().is_empty());
        app.empty("ann").await.unwrap();
    }

    #[tokio::test]
    async fn bad_input_is_refused_before_the_catalog_is_asked() {
        let catalog = FakeCatalog::default();
        catalog.down.store(true, Ordering::SeqCst);
        let (app, _dir) = app(catalog).await;
        let err = app.add("ann", "mug", 0).await.unwrap_err();
        assert!(
            matches!(err, AppError::Cart(CartError::InvalidArgument(_))),
            "{err:?}"
        );
        let err = app.items(" ").await.unwrap_err();
        assert!(
            matches!(err, AppError::Cart(CartError::InvalidArgument(_))),
            "{err:?}"
        );
    }
}
