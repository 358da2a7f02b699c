//! Card validation and the rules of a charge.

use std::time::Duration;

/// A card number that passes every check but is declined by the "issuer", for demos and tests.
pub const ALWAYS_DECLINED_CARD: &str = "4000000000000002";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    pub number: String,
    pub expiry_month: i32,
    pub expiry_year: i32,
    pub cvv: String,
}

/// Why a charge was refused. `Declined` is a property of the card; `Invalid` of the request.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChargeError {
    #[error("card declined: {0}")]
    Declined(String),
    #[error("{0}")]
    Invalid(String),
    #[error("idempotency key {0:?} was already used for a different amount")]
    KeyReused(String),
    #[error("the charge with idempotency key {0:?} was voided")]
    Voided(String),
}

/// Demo fault injection, off unless configured.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub failure_rate: f64,
    pub added_latency: Duration,
}

impl Faults {
    pub fn is_active(&self) -> bool {
        self.failure_rate > 0.0 || !self.added_latency.is_zero()
    }
}

/// Checks the request apart from the card: a positive amount in a three-letter currency, a key.
pub fn validate_request(
    currency_code: &str,
    units: i64,
    idempotency_key: &str,
) -> Result<(), ChargeError> {
    if currency_code.len() != 3 || !currency_code.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(ChargeError::Invalid(format!(
            "currency_code must be three upper-case letters, got {currency_code:?}"
        )));
    }
    if units <= 0 {
        return Err(ChargeError::Invalid(format!(
            "amount must be positive, got {units}"
        )));
    }
    validate_key(idempotency_key)
}

/// An idempotency key is 1 to 200 bytes.
pub fn validate_key(idempotency_key: &str) -> Result<(), ChargeError> {
    if idempotency_key.trim().is_empty() || idempotency_key.len() > 200 {
        return Err(ChargeError::Invalid(
            "idempotency_key must be 1 to 200 characters".into(),
        ));
    }
    Ok(())
}

/// Validates a card as of (`year`, `month`) and returns its digits.
pub fn validate_card(card: &Card, year: i32, month: i32) -> Result<String, ChargeError> {
    let digits: String = card
        .number
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    if !(12..=19).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(ChargeError::Declined(
            "card number must be 12 to 19 digits".into(),
        ));
    }
    if !luhn_valid(&digits) {
        return Err(ChargeError::Declined(
            "card number fails the Luhn check".into(),
        ));
    }
    if !(1..=12).contains(&card.expiry_month) {
        return Err(ChargeError::Declined(format!(
            "expiry month must be 1 to 12, got {}",
            card.expiry_month
        )));
    }
    // A card is valid through the last day of its expiry month.
    if (card.expiry_year, card.expiry_month) < (year, month) {
        return Err(ChargeError::Declined(format!(
            "card expired in {:02}/{}",
            card.expiry_month, card.expiry_year
        )));
    }
    if !(3..=4).contains(&card.cvv.len()) || !card.cvv.chars().all(|c| c.is_ascii_digit()) {
        return Err(ChargeError::Declined("CVV must be 3 or 4 digits".into()));
    }
    if digits == ALWAYS_DECLINED_CARD {
        return Err(ChargeError::Declined("insufficient funds".into()));
    }
    Ok(digits)
}

/// The Luhn checksum of a string of digits.
pub fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(number: &str, month: i32, year: i32, cvv: &str) -> Card {
        Card {
            number: number.into(),
            expiry_month: month,
            expiry_year: year,
            cvv: cvv.into(),
        }
    }

    #[test]
    fn luhn_accepts_test_cards_and_rejects_typos() {
        assert!(luhn_valid("4111111111111111"));
        assert!(luhn_valid("5555555555554444"));
        assert!(!luhn_valid("4111111111111112"));
    }

    #[test]
    fn cards_are_declined_with_a_reason() {
        let ok = card("4111 1111 1111 1111", 12, 2030, "123");
        assert_eq!(validate_card(&ok, 2026, 11).unwrap(), "4111111111111111");
        let reason = |c: Card| validate_card(&c, 2026, 11).unwrap_err().to_string();
        assert!(reason(card("4111111111111112", 12, 2030, "123")).contains("Luhn"));
        assert!(reason(card("4111111111111111", 10, 2026, "123")).contains("expired"));
        assert!(reason(card("4111111111111111", 13, 2030, "123")).contains("month"));
        assert!(reason(card("4111111111111111", 12, 2030, "12a")).contains("CVV"));
        assert!(reason(card("41111", 12, 2030, "123")).contains("digits"));
        assert!(reason(card(ALWAYS_DECLINED_CARD, 12, 2030, "123")).contains("insufficient funds"));
        // The expiry month itself is still valid.
        assert!(validate_card(&card("4111111111111111", 11, 2026, "123"), 2026, 11).is_ok());
    }

    #[test]
    fn requests_need_amount_currency_and_key() {
        assert!(validate_request("USD", 100, "k").is_ok());
        assert!(validate_request("usd", 100, "k").is_err());
        assert!(validate_request("USD", 0, "k").is_err());
        assert!(validate_request("USD", 100, " ").is_err());
    }

    proptest::proptest! {
        /// A number completed with its Luhn check digit passes; changing any one digit fails.
        #[test]
        fn luhn_accepts_the_check_digit_and_catches_any_single_typo(
            body in proptest::collection::vec(0u32..10, 11..18),
            at in proptest::num::usize::ANY,
            change in 1u32..10,
        ) {
            let body: String = body.iter().map(|d| char::from_digit(*d, 10).unwrap()).collect();
            let check = (0..10)
                .find(|d| luhn_valid(&format!("{body}{d}")))
                .expect("one check digit works");
            let number = format!("{body}{check}");
            proptest::prop_assert!(luhn_valid(&number));
            let i = at % number.len();
            let mut typo: Vec<u32> = number.chars().map(|c| c.to_digit(10).unwrap()).collect();
            typo[i] = (typo[i] + change) % 10;
            let typo: String = typo.iter().map(|d| char::from_digit(*d, 10).unwrap()).collect();
            proptest::prop_assert!(!luhn_valid(&typo), "{} -> {}", number, typo);
        }

        /// Amounts must be positive and currencies three capital letters, whatever else comes.
        #[test]
        fn requests_are_valid_exactly_when_amount_and_currency_are(
            currency in "[A-Za-z]{0,4}",
            units in proptest::num::i64::ANY,
        ) {
            let valid = units > 0
                && currency.len() == 3
                && currency.chars().all(|c| c.is_ascii_uppercase());
            proptest::prop_assert_eq!(validate_request(&currency, units, "k").is_ok(), valid);
        }
    }
}
