//! Products and the rules for paging and searching them.

use serde::Deserialize;

/// Page size when the caller gives none.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// Largest page or search result a caller may ask for.
pub const MAX_PAGE_SIZE: u32 = 100;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Money {
    pub currency_code: String,
    /// Minor units (cents).
    pub units: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Product {
    pub id: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub price: Money,
    pub picture_url: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CatalogError {
    #[error("product {0:?} not found")]
    NotFound(String),
    #[error("{0}")]
    InvalidArgument(String),
}

/// The products the catalog starts with, from the data file in the repository.
pub fn seed_products() -> Vec<Product> {
    serde_json::from_str(include_str!("../data/products.json"))
        .expect("data/products.json is valid")
}

/// Turns a requested page size (0 = default) into a checked limit.
pub fn page_size(requested: i32) -> Result<u32, CatalogError> {
    match requested {
        0 => Ok(DEFAULT_PAGE_SIZE),
        n if n > 0 && n as u32 <= MAX_PAGE_SIZE => Ok(n as u32),
        n => Err(CatalogError::InvalidArgument(format!(
            "page_size must be between 1 and {MAX_PAGE_SIZE}, got {n}"
        ))),
    }
}

/// The token of the page after the product `last_id`: opaque to clients (`p.` and the id in hex),
/// so that they pass back what they were given rather than build their own.
pub fn page_token(last_id: &str) -> String {
    let hex: String = last_id.bytes().map(|b| format!("{b:02x}")).collect();
    format!("p.{hex}")
}

/// The product id a page token continues after; `""` for the first page. A token the API did not
/// issue is an error, not an empty page.
pub fn after_page_token(token: &str) -> Result<String, CatalogError> {
    if token.is_empty() {
        return Ok(String::new());
    }
    let invalid = || {
        CatalogError::InvalidArgument(
            "page_token is not one this API issued: pass back a next_page_token unchanged".into(),
        )
    };
    let hex = token.strip_prefix("p.").ok_or_else(invalid)?;
    if hex.is_empty() || hex.len() % 2 != 0 || hex.len() > 400 {
        return Err(invalid());
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| invalid())?;
    String::from_utf8(bytes).map_err(|_| invalid())
}

/// Normalizes a search query: trimmed, lower-case, not empty, not absurdly long.
pub fn search_query(query: &str) -> Result<String, CatalogError> {
    let query = query.trim().to_lowercase();
    if query.is_empty() {
        return Err(CatalogError::InvalidArgument(
            "query must not be empty".into(),
        ));
    }
    if query.chars().count() > 100 {
        return Err(CatalogError::InvalidArgument(
            "query must be at most 100 characters".into(),
        ));
    }
    Ok(query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_queries_are_normalized_and_checked() {
        assert_eq!(search_query("  Coffee ").unwrap(), "coffee");
        assert!(search_query("   ").is_err());
    }

    #[test]
    fn seed_has_at_least_twenty_distinct_priced_products() {
        let products = seed_products();
        assert!(products.len() >= 20);
        let ids: std::collections::HashSet<_> = products.iter().map(|p| &p.id).collect();
        assert_eq!(ids.len(), products.len(), "product ids are unique");
        assert!(
            products
                .iter()
                .all(|p| p.price.units > 0 && p.price.currency_code == "USD")
        );
    }

    #[test]
    fn page_size_defaults_and_bounds() {
        assert_eq!(page_size(0), Ok(DEFAULT_PAGE_SIZE));
        assert_eq!(page_size(100), Ok(100));
        assert!(page_size(101).is_err());
        assert!(page_size(-1).is_err());
    }

    #[test]
    fn page_tokens_round_trip_and_foreign_ones_are_refused() {
        assert_eq!(after_page_token("").unwrap(), "");
        assert_eq!(
            after_page_token(&page_token("e-reader")).unwrap(),
            "e-reader"
        );
        for foreign in ["e-reader", "p.", "p.zz", "p.abc", "q.6162"] {
            assert!(
                matches!(
                    after_page_token(foreign),
                    Err(CatalogError::InvalidArgument(_))
                ),
                "{foreign}"
            );
        }
    }

    proptest::proptest! {
        /// Every product id survives the page token, and no other text is taken for one.
        #[test]
        fn page_tokens_round_trip_any_id(id in "\\PC{1,60}", other in "\\PC{0,30}") {
            proptest::prop_assert_eq!(after_page_token(&page_token(&id)).unwrap(), id);
            if !other.starts_with("p.") && !other.is_empty() {
                proptest::prop_assert!(after_page_token(&other).is_err());
            }
        }
    }
}
