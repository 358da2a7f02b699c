//! The use cases of {{name}}: the rules of domain.rs applied to records kept behind a small trait,
//! so they are unit-tested below with an in-memory fake (store.rs is the SQL behind it).

use crate::domain::{self, {{Pascal}}, {{Pascal}}Error};

/// Where records are kept: SQL in production (store.rs), memory in the tests below.
pub trait {{Pascal}}Store: Send + Sync {
    /// Why a storage call failed (`sqlx::Error` for the SQL store).
    type Error: std::error::Error + Send + Sync + 'static;

    fn insert(&self, record: &{{Pascal}}) -> impl Future<Output = Result<(), Self::Error>> + Send;

    fn find(&self, id: &str)
    -> impl Future<Output = Result<Option<{{Pascal}}>, Self::Error>> + Send;
}

/// A use case failed: a rule refused it, or the storage did.
#[derive(Debug, thiserror::Error)]
pub enum AppError<E> {
    #[error(transparent)]
    Rule(#[from] {{Pascal}}Error),
    #[error("storage failed: {0}")]
    Storage(E),
}

/// The use cases, over a store `S`.
pub struct {{Pascal}}App<S> {
    store: S,
}

impl<S: {{Pascal}}Store> {{Pascal}}App<S> {
    pub fn new(store: S) -> Self {
        Self { store }
    }

    /// Records a new {{name}} record named `name`.
    pub async fn create(&self, name: &str) -> Result<{{Pascal}}, AppError<S::Error>> {
        let record = {{Pascal}} {
            id: uuid::Uuid::now_v7().to_string(),
            name: domain::validate_name(name)?,
            created_at: platform::clock::now_rfc3339(),
        };
        self.store.insert(&record).await.map_err(AppError::Storage)?;
        Ok(record)
    }

    /// The record with this id.
    pub async fn get(&self, id: &str) -> Result<{{Pascal}}, AppError<S::Error>> {
        let id = domain::validate_id(id)?;
        match self.store.find(id).await.map_err(AppError::Storage)? {
            Some(record) => Ok(record),
            None => Err({{Pascal}}Error::NotFound(id.to_owned()).into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{convert::Infallible, sync::Mutex};

    /// The fake: records in a Vec.
    #[derive(Default)]
    struct Memory(Mutex<Vec<{{Pascal}}>>);

    impl {{Pascal}}Store for Memory {
        type Error = Infallible;

        async fn insert(&self, record: &{{Pascal}}) -> Result<(), Infallible> {
            self.0.lock().unwrap().push(record.clone());
            Ok(())
        }

        async fn find(&self, id: &str) -> Result<Option<{{Pascal}}>, Infallible> {
            Ok(self.0.lock().unwrap().iter().find(|r| r.id == id).cloned())
        }
    }

    #[tokio::test]
    async fn a_created_record_can_be_read_back_by_its_id() {
        let app = {{Pascal}}App::new(Memory::default());
        let created = app.create("  first ").await.unwrap();
        assert_eq!(created.name, "first");
        assert_eq!(app.get(&created.id).await.unwrap(), created);
    }

    #[tokio::test]
    async fn a_blank_name_is_refused_and_nothing_is_stored() {
        let app = {{Pascal}}App::new(Memory::default());
        let error = app.create(" ").await.unwrap_err();
        assert!(matches!(error, AppError::Rule({{Pascal}}Error::Invalid(_))), "{error}");
        assert!(app.store.0.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_unknown_id_is_not_found() {
        let app = {{Pascal}}App::new(Memory::default());
        let error = app.get("nope").await.unwrap_err();
        assert!(matches!(error, AppError::Rule({{Pascal}}Error::NotFound(id)) if id == "nope"));
    }
}
