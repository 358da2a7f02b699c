//! The rules of a cart.

/// Most of one product a cart may hold.
pub const MAX_QUANTITY: i32 = 99;
/// Most distinct products in one cart, so a cart cannot grow without bound.
pub const MAX_LINES: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartItem {
    pub product_id: String,
    pub quantity: i32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CartError {
    #[error("{0}")]
    InvalidArgument(String),
    #[error("product {0:?} not found")]
    UnknownProduct(String),
    #[error(
        "the cart would hold {total} of product {product_id:?}; at most {MAX_QUANTITY} are allowed"
    )]
    TooMany { product_id: String, total: i32 },
    #[error("the cart already holds {MAX_LINES} different products")]
    CartFull,
}

/// Checks the fields of an add request.
pub fn validate_add(user_id: &str, product_id: &str, quantity: i32) -> Result<(), CartError> {
    validate_user(user_id)?;
    if product_id.trim().is_empty() {
        return Err(CartError::InvalidArgument(
            "product_id must not be empty".into(),
        ));
    }
    if !(1..=MAX_QUANTITY).contains(&quantity) {
        return Err(CartError::InvalidArgument(format!(
            "quantity must be between 1 and {MAX_QUANTITY}, got {quantity}"
        )));
    }
    Ok(())
}

pub fn validate_user(user_id: &str) -> Result<(), CartError> {
    if user_id.trim().is_empty() {
        return Err(CartError::InvalidArgument(
            "user_id must not be empty".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_outside_one_to_ninety_nine_are_rejected() {
        assert!(validate_add("u", "p", 1).is_ok());
        assert!(validate_add("u", "p", 99).is_ok());
        assert!(matches!(
            validate_add("u", "p", 0),
            Err(CartError::InvalidArgument(_))
        ));
        assert!(matches!(
            validate_add("u", "p", 100),
            Err(CartError::InvalidArgument(_))
        ));
        assert!(validate_add("", "p", 1).is_err());
        assert!(validate_add("u", " ", 1).is_err());
    }

    proptest::proptest! {
        /// Exactly the quantities 1..=MAX_QUANTITY of a named product are accepted.
        #[test]
        fn only_quantities_within_the_limit_are_accepted(
            quantity in proptest::num::i32::ANY,
            product in "[ a-z-]{0,20}",
        ) {
            let valid = (1..=MAX_QUANTITY).contains(&quantity) && !product.trim().is_empty();
            proptest::prop_assert_eq!(validate_add("u", &product, quantity).is_ok(), valid);
        }
    }
}
