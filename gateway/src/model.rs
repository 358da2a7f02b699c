//! The JSON shapes of the REST API, and their conversions from the gRPC messages.

use serde::{Deserialize, Serialize};
use shop_proto::{
    cart::v1 as cart_pb, catalog::v1 as catalog_pb, orders::v1 as orders_pb,
    payments::v1 as payments_pb,
};
use utoipa::{IntoParams, ToSchema};

/// An amount of money in integer minor units (cents), plus a decimal string for display.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Money {
    #[schema(example = "USD")]
    pub currency_code: String,
    /// Minor units: 1999 means 19.99.
    #[schema(example = 1999)]
    pub units: i64,
    #[schema(example = "19.99")]
    pub amount: String,
}

impl Money {
    pub fn new(currency_code: String, units: i64) -> Self {
        let amount = format!(
            "{}{}.{:02}",
            if units < 0 { "-" } else { "" },
            units.abs() / 100,
            units.abs() % 100
        );
        Self {
            currency_code,
            units,
            amount,
        }
    }
}

impl From<Option<catalog_pb::Money>> for Money {
    fn from(m: Option<catalog_pb::Money>) -> Self {
        let m = m.unwrap_or_default();
        Money::new(m.currency_code, m.units)
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Product {
    #[schema(example = "chef-knife")]
    pub id: String,
    pub name: String,
    pub description: String,
    #[schema(example = "kitchen")]
    pub category: String,
    pub price: Money,
    pub picture_url: String,
}

impl From<catalog_pb::Product> for Product {
    fn from(p: catalog_pb::Product) -> Self {
        Self {
            id: p.id,
            name: p.name,
            description: p.description,
            category: p.category,
            price: p.price.into(),
            picture_url: p.picture_url,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProductPage {
    pub products: Vec<Product>,
    /// Pass as `page_token` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListProductsQuery {
    /// 1 to 100; default (or 0) 20.
    #[param(minimum = 0, maximum = 100)]
    pub page_size: Option<i32>,
    pub page_token: Option<String>,
    /// Only products of this category.
    pub category: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Text to find in name, description or category (case-insensitive).
    #[param(min_length = 1, max_length = 100, pattern = r"\S")]
    pub q: String,
    /// 1 to 100; default (or 0) 20.
    #[param(minimum = 0, maximum = 100)]
    pub limit: Option<i32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SearchResults {
    pub products: Vec<Product>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NewSession {
    /// Your display name, 1 to 50 characters.
    #[schema(example = "Ann", min_length = 1, max_length = 50, pattern = r"\S")]
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionCreated {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub user_id: String,
    /// Unix time (seconds) when the token expires.
    pub expires_at: u64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AddCartItem {
    #[schema(example = "chef-knife")]
    pub product_id: String,
    /// 1 to 99; added to what the cart already holds (the total must stay at most 99).
    #[schema(example = 1, minimum = 1, maximum = 99)]
    pub quantity: i32,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CartLine {
    pub product_id: String,
    pub quantity: i32,
    pub name: String,
    pub unit_price: Money,
    pub line_total: Money,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Cart {
    pub items: Vec<CartLine>,
    pub total: Money,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Address {
    #[schema(
        example = "Ann Example",
        min_length = 1,
        max_length = 200,
        pattern = r"\S"
    )]
    pub name: String,
    #[schema(
        example = "1 Main St",
        min_length = 1,
        max_length = 200,
        pattern = r"\S"
    )]
    pub street: String,
    #[schema(
        example = "Springfield",
        min_length = 1,
        max_length = 200,
        pattern = r"\S"
    )]
    pub city: String,
    #[schema(example = "12345", min_length = 1, max_length = 200, pattern = r"\S")]
    pub postal_code: String,
    #[schema(example = "US", min_length = 1, max_length = 200, pattern = r"\S")]
    pub country: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Card {
    #[schema(example = "4111111111111111")]
    pub number: String,
    #[schema(example = 12)]
    pub expiry_month: i32,
    #[schema(example = 2099)]
    pub expiry_year: i32,
    #[schema(example = "123")]
    pub cvv: String,
}

/// The body of `POST /api/v1/checkout`; the `Idempotency-Key` header is required too.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CheckoutRequest {
    pub shipping_address: Address,
    pub card: Card,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrderLine {
    pub product_id: String,
    pub product_name: String,
    pub quantity: i32,
    pub unit_price: Money,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Order {
    pub id: String,
    pub lines: Vec<OrderLine>,
    pub total: Money,
    pub shipping_address: Address,
    pub transaction_id: String,
    /// RFC 3339.
    pub created_at: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrderList {
    pub orders: Vec<Order>,
}

impl From<orders_pb::Order> for Order {
    fn from(o: orders_pb::Order) -> Self {
        let a = o.shipping_address.unwrap_or_default();
        Self {
            id: o.id,
            lines: o
                .lines
                .into_iter()
                .map(|l| OrderLine {
                    product_id: l.product_id,
                    product_name: l.product_name,
                    quantity: l.quantity,
                    unit_price: l.unit_price.into(),
                })
                .collect(),
            total: o.total.into(),
            shipping_address: Address {
                name: a.name,
                street: a.street,
                city: a.city,
                postal_code: a.postal_code,
                country: a.country,
            },
            transaction_id: o.transaction_id,
            created_at: o.created_at,
        }
    }
}

impl From<Address> for orders_pb::Address {
    fn from(a: Address) -> Self {
        Self {
            name: a.name,
            street: a.street,
            city: a.city,
            postal_code: a.postal_code,
            country: a.country,
        }
    }
}

impl From<Card> for payments_pb::CreditCard {
    fn from(c: Card) -> Self {
        Self {
            number: c.number,
            expiry_month: c.expiry_month,
            expiry_year: c.expiry_year,
            cvv: c.cvv,
        }
    }
}

/// A cart priced with the catalog's current prices (lines of products that vanished are left out).
pub fn priced_cart(cart: cart_pb::Cart, products: Vec<Option<catalog_pb::Product>>) -> Cart {
    let mut currency = "USD".to_owned();
    let mut total = 0i64;
    let items = cart
        .items
        .into_iter()
        .zip(products)
        .filter_map(|(item, product)| {
            let product = product?;
            let price = product.price.unwrap_or_default();
            let line_units = price.units.saturating_mul(i64::from(item.quantity));
            total = total.saturating_add(line_units);
            currency.clone_from(&price.currency_code);
            Some(CartLine {
                product_id: item.product_id,
                quantity: item.quantity,
                name: product.name,
                line_total: Money::new(price.currency_code.clone(), line_units),
                unit_price: Money::new(price.currency_code, price.units),
            })
        })
        .collect();
    Cart {
        items,
        total: Money::new(currency, total),
    }
}

#[cfg(test)]
mod tests {
    use super::Money;

    #[test]
    fn money_displays_minor_units_as_decimals() {
        assert_eq!(Money::new("USD".into(), 1999).amount, "19.99");
        assert_eq!(Money::new("USD".into(), 5).amount, "0.05");
        assert_eq!(Money::new("USD".into(), -150).amount, "-1.50");
    }
}
