//! Orders and the rules for placing one.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub name: String,
    pub street: String,
    pub city: String,
    pub postal_code: String,
    pub country: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub product_id: String,
    pub product_name: String,
    pub quantity: i32,
    /// Minor units of `Order::currency_code`, as the catalog priced it.
    pub unit_units: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: String,
    pub user_id: String,
    pub idempotency_key: String,
    pub lines: Vec<OrderLine>,
    pub currency_code: String,
    pub total_units: i64,
    pub shipping: Address,
    pub transaction_id: String,
    pub created_at: String,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum OrderError {
    #[error("{0}")]
    InvalidArgument(String),
    #[error("the cart is empty")]
    EmptyCart,
    #[error("product {0:?} in the cart no longer exists")]
    ProductGone(String),
    #[error("{0}")]
    PaymentDeclined(String),
    #[error("order {0:?} not found")]
    NotFound(String),
    #[error("products in the cart are priced in different currencies")]
    MixedCurrencies,
    #[error("{0} is unavailable: {1}")]
    Unavailable(&'static str, String),
    /// The idempotency key was used before for a request with another body.
    #[error("the Idempotency-Key was already used for a different checkout request; use a new key")]
    KeyReused,
    /// Another attempt with the same key is running; try again shortly.
    #[error("a checkout with this Idempotency-Key is in progress; try again in a moment")]
    InProgress,
    /// The attempt with this key never completed and its payment was voided.
    #[error(
        "the checkout with this Idempotency-Key was abandoned and its payment voided; check out again with a new key"
    )]
    Abandoned,
    /// A fault that a retry cannot fix (a bug); the cause is logged where it happened.
    #[error("{0}")]
    Internal(String),
}

/// Checks the fields of a place-order request that need no other service.
pub fn validate_place(
    user_id: &str,
    idempotency_key: &str,
    address: &Address,
) -> Result<(), OrderError> {
    let invalid = |m: &str| Err(OrderError::InvalidArgument(m.to_owned()));
    if user_id.trim().is_empty() {
        return invalid("user_id must not be empty");
    }
    if idempotency_key.trim().is_empty() || idempotency_key.len() > 200 {
        return invalid("idempotency_key must be 1 to 200 characters");
    }
    for (field, value) in [
        ("name", &address.name),
        ("street", &address.street),
        ("city", &address.city),
        ("postal_code", &address.postal_code),
        ("country", &address.country),
    ] {
        if value.trim().is_empty() {
            return Err(OrderError::InvalidArgument(format!(
                "shipping_address.{field} must not be empty"
            )));
        }
        if value.len() > 200 {
            return Err(OrderError::InvalidArgument(format!(
                "shipping_address.{field} is longer than 200 characters"
            )));
        }
    }
    Ok(())
}

/// The total of some lines, failing on overflow rather than wrapping.
pub fn total(lines: &[OrderLine]) -> Result<i64, OrderError> {
    lines.iter().try_fold(0i64, |sum, l| {
        l.unit_units
            .checked_mul(i64::from(l.quantity))
            .and_then(|line| sum.checked_add(line))
            .ok_or_else(|| OrderError::InvalidArgument("order total is too large".into()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address() -> Address {
        Address {
            name: "Ann".into(),
            street: "1 Main St".into(),
            city: "Springfield".into(),
            postal_code: "12345".into(),
            country: "US".into(),
        }
    }

    #[test]
    fn totals_multiply_and_add_exactly() {
        let line = |q, u| OrderLine {
            product_id: "p".into(),
            product_name: "P".into(),
            quantity: q,
            unit_units: u,
        };
        assert_eq!(total(&[line(2, 1999), line(1, 1)]), Ok(3999));
        assert!(total(&[line(99, i64::MAX / 2)]).is_err());
    }

    #[test]
    fn place_requests_need_user_key_and_full_address() {
        assert!(validate_place("u", "k", &address()).is_ok());
        assert!(validate_place("", "k", &address()).is_err());
        assert!(validate_place("u", "", &address()).is_err());
        let err = validate_place(
            "u",
            "k",
            &Address {
                city: " ".into(),
                ..address()
            },
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "shipping_address.city must not be empty");
    }

    proptest::proptest! {
        /// The total is the exact sum of quantity x price, or an error, never a wrapped number.
        #[test]
        fn totals_are_exact_or_refused(
            lines in proptest::collection::vec((1i32..=99, 0i64..=i64::MAX / 50), 0..20)
        ) {
            let lines: Vec<OrderLine> = lines
                .iter()
                .map(|(quantity, unit_units)| OrderLine {
                    product_id: "p".into(),
                    product_name: "P".into(),
                    quantity: *quantity,
                    unit_units: *unit_units,
                })
                .collect();
            let exact: i128 = lines
                .iter()
                .map(|l| i128::from(l.unit_units) * i128::from(l.quantity))
                .sum();
            match total(&lines) {
                Ok(sum) => proptest::prop_assert_eq!(i128::from(sum), exact),
                Err(_) => proptest::prop_assert!(exact > i128::from(i64::MAX)),
            }
        }

        /// Any address with every field 1 to 200 non-blank characters is accepted; a blank
        /// field is refused, naming it.
        #[test]
        fn addresses_are_accepted_or_refused_by_field(
            fields in proptest::array::uniform5("[a-zA-Z0-9 ]{0,210}"),
            key in "[!-~]{1,200}",
        ) {
            let address = Address {
                name: fields[0].clone(),
                street: fields[1].clone(),
                city: fields[2].clone(),
                postal_code: fields[3].clone(),
                country: fields[4].clone(),
            };
            let valid = fields.iter().all(|f| !f.trim().is_empty() && f.len() <= 200);
            let result = validate_place("u", &key, &address);
            proptest::prop_assert_eq!(result.is_ok(), valid, "{:?}", result);
        }
    }
}
