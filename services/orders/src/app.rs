//! The use case of orders: placing an order. Read the cart, price it from the catalog (never from
//! the client), charge the card, store the order, empty the cart. Safe to retry with the same
//! idempotency key at any point: the stored order is found, and payments returns the first charge
//! instead of charging again.
//!
//! The other services are behind small traits in domain terms ([`Cart`], [`Catalog`],
//! [`Payments`]): `backends.rs` implements them over gRPC, the tests below with fakes.

use crate::{
    domain::{self, Address, Order, OrderError, OrderLine},
    store::OrderStore,
};
use futures::future::try_join_all;
use shop_proto::payments::v1::CreditCard;
use std::future::Future;

/// A product as the catalog prices it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedProduct {
    pub id: String,
    pub name: String,
    pub currency_code: String,
    pub unit_units: i64,
}

/// The user's cart: (product id, quantity) lines.
pub trait Cart: Send + Sync {
    fn items(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<Vec<(String, i32)>, OrderError>> + Send;
    fn empty(&self, user_id: &str) -> impl Future<Output = Result<(), OrderError>> + Send;
}

/// Current prices. A product that no longer exists is `OrderError::ProductGone`.
pub trait Catalog: Send + Sync {
    fn price(
        &self,
        product_id: &str,
    ) -> impl Future<Output = Result<PricedProduct, OrderError>> + Send;
}

/// One charge per idempotency key; returns the transaction id. A declined card is
/// `OrderError::PaymentDeclined`.
pub trait Payments: Send + Sync {
    fn charge(
        &self,
        idempotency_key: String,
        currency_code: String,
        units: i64,
        card: CreditCard,
    ) -> impl Future<Output = Result<String, OrderError>> + Send;
}

pub struct Checkout<K, C, P> {
    store: OrderStore,
    cart: K,
    catalog: C,
    payments: P,
}

impl<K: Cart, C: Catalog, P: Payments> Checkout<K, C, P> {
    pub fn new(store: OrderStore, cart: K, catalog: C, payments: P) -> Self {
        Self {
            store,
            cart,
            catalog,
            payments,
        }
    }

    pub fn store(&self) -> &OrderStore {
        &self.store
    }

    #[tracing::instrument(skip_all, fields(user_id))]
    pub async fn place(
        &self,
        user_id: &str,
        idempotency_key: &str,
        shipping: Address,
        card: CreditCard,
    ) -> Result<Order, OrderError> {
        domain::validate_place(user_id, idempotency_key, &shipping)?;
        if let Some(order) = self
            .store
            .find_by_key(user_id, idempotency_key)
            .await
            .map_err(storage)?
        {
            tracing::info!(order_id = %order.id, "retry of a placed order");
            return Ok(order);
        }

        let lines = match self.priced_cart(user_id).await {
            // A concurrent attempt with this key may have placed the order and emptied the cart
            // since the lookup above: then its order is the answer, not "cart empty".
            Err(OrderError::EmptyCart) => {
                return match self
                    .store
                    .find_by_key(user_id, idempotency_key)
                    .await
                    .map_err(storage)?
                {
                    Some(order) => Ok(order),
                    None => Err(OrderError::EmptyCart),
                };
            }
            other => other?,
        };
        let currency_code = lines_currency(&lines)?;
        let lines: Vec<OrderLine> = lines.into_iter().map(|(line, _)| line).collect();
        let total_units = domain::total(&lines)?;

        // The payment key is derived from the order key, so a retried checkout cannot charge twice.
        let transaction_id = self
            .payments
            .charge(
                format!("order:{user_id}:{idempotency_key}"),
                currency_code.clone(),
                total_units,
                card,
            )
            .await?;

        let order = Order {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user_id.to_owned(),
            idempotency_key: idempotency_key.to_owned(),
            lines,
            currency_code,
            total_units,
            shipping,
            transaction_id,
            created_at: platform::clock::now_rfc3339(),
        };
        let order = self.store.insert(&order).await.map_err(storage)?;

        // The order stands even if emptying the cart fails; the user can empty it by hand.
        if let Err(error) = self.cart.empty(user_id).await {
            tracing::warn!(%error, "order placed but emptying the cart failed");
        }
        tracing::info!(order_id = %order.id, total_units = order.total_units, "order placed");
        Ok(order)
    }

    /// The cart's lines with names and prices from the catalog, and each line's currency.
    async fn priced_cart(&self, user_id: &str) -> Result<Vec<(OrderLine, String)>, OrderError> {
        let items = self.cart.items(user_id).await?;
        if items.is_empty() {
            return Err(OrderError::EmptyCart);
        }
        try_join_all(items.into_iter().map(|(product_id, quantity)| async move {
            let product = self.catalog.price(&product_id).await?;
            Ok::<_, OrderError>((
                OrderLine {
                    product_id: product.id,
                    product_name: product.name,
                    quantity,
                    unit_units: product.unit_units,
                },
                product.currency_code,
            ))
        }))
        .await
    }
}

fn lines_currency(lines: &[(OrderLine, String)]) -> Result<String, OrderError> {
    let currency = lines.first().map(|(_, c)| c.clone()).unwrap_or_default();
    if lines.iter().any(|(_, c)| *c != currency) {
        return Err(OrderError::MixedCurrencies);
    }
    Ok(currency)
}

fn storage(error: sqlx::Error) -> OrderError {
    let status = platform::db::storage_status("orders", &error);
    match status.code() {
        tonic::Code::Unavailable => OrderError::Unavailable("orders storage", "try again".into()),
        _ => OrderError::Internal(status.message().to_owned()),
    }
}

#[cfg(test)]
mod tests {
    //! The use case with fakes of cart, catalog and payments, and a real (SQLite) order store.
    use super::*;
    use std::{
        collections::BTreeMap,
        sync::{Arc, Mutex},
    };

    #[derive(Clone, Default)]
    struct FakeCart {
        items: Arc<Mutex<Vec<(String, i32)>>>,
        fail: Option<OrderError>,
        emptied: Arc<Mutex<u32>>,
        /// Stored, then the cart emptied, as a concurrent attempt would, when the cart is read.
        race: Arc<Mutex<Option<(OrderStore, Order)>>>,
    }

    impl Cart for FakeCart {
        async fn items(&self, _user_id: &str) -> Result<Vec<(String, i32)>, OrderError> {
            let race = self.race.lock().unwrap().take();
            if let Some((store, order)) = race {
                store.insert(&order).await.unwrap();
                self.items.lock().unwrap().clear();
            }
            match &self.fail {
                Some(e) => Err(e.clone()),
                None => Ok(self.items.lock().unwrap().clone()),
            }
        }
        async fn empty(&self, _user_id: &str) -> Result<(), OrderError> {
            self.items.lock().unwrap().clear();
            *self.emptied.lock().unwrap() += 1;
            Ok(())
        }
    }

    #[derive(Clone, Default)]
    struct FakeCatalog {
        products: BTreeMap<String, PricedProduct>,
    }

    impl Catalog for FakeCatalog {
        async fn price(&self, product_id: &str) -> Result<PricedProduct, OrderError> {
            self.products
                .get(product_id)
                .cloned()
                .ok_or_else(|| OrderError::ProductGone(product_id.to_owned()))
        }
    }

    /// Records every charge by key; a repeated key returns the first transaction, as payments does.
    #[derive(Clone, Default)]
    struct FakePayments {
        charges: Arc<Mutex<BTreeMap<String, (i64, String)>>>,
        decline: bool,
    }

    impl Payments for FakePayments {
        async fn charge(
            &self,
            key: String,
            _currency: String,
            units: i64,
            _card: CreditCard,
        ) -> Result<String, OrderError> {
            if self.decline {
                return Err(OrderError::PaymentDeclined("card declined".into()));
            }
            let mut charges = self.charges.lock().unwrap();
            let n = charges.len();
            Ok(charges
                .entry(key)
                .or_insert((units, format!("tx-{n}")))
                .1
                .clone())
        }
    }

    fn product(id: &str, currency: &str, units: i64) -> (String, PricedProduct) {
        let p = PricedProduct {
            id: id.into(),
            name: id.to_uppercase(),
            currency_code: currency.into(),
            unit_units: units,
        };
        (id.into(), p)
    }

    fn address() -> Address {
        Address {
            name: "Ann".into(),
            street: "1 Main St".into(),
            city: "Springfield".into(),
            postal_code: "12345".into(),
            country: "US".into(),
        }
    }

    async fn checkout(
        cart: FakeCart,
        catalog: FakeCatalog,
        payments: FakePayments,
    ) -> (
        Checkout<FakeCart, FakeCatalog, FakePayments>,
        tempfile::TempDir,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/orders.db", dir.path().display());
        let pool = platform::db::connect(&url, &crate::store::MIGRATOR)
            .await
            .unwrap();
        (
            Checkout::new(OrderStore::new(pool), cart, catalog, payments),
            dir,
        )
    }

    fn catalog() -> FakeCatalog {
        FakeCatalog {
            products: [product("mug", "USD", 1200), product("tee", "USD", 2500)].into(),
        }
    }

    fn cart_with(items: &[(&str, i32)]) -> FakeCart {
        let cart = FakeCart::default();
        *cart.items.lock().unwrap() = items.iter().map(|(p, q)| (p.to_string(), *q)).collect();
        cart
    }

    #[tokio::test]
    async fn an_order_is_priced_by_the_catalog_charged_once_and_empties_the_cart() {
        let (cart, payments) = (
            cart_with(&[("mug", 2), ("tee", 1)]),
            FakePayments::default(),
        );
        let (checkout, _dir) = checkout(cart.clone(), catalog(), payments.clone()).await;
        let order = checkout
            .place("u1", "k1", address(), CreditCard::default())
            .await
            .unwrap();
        assert_eq!(order.total_units, 2 * 1200 + 2500);
        assert_eq!(order.currency_code, "USD");
        assert_eq!(order.lines[0].product_name, "MUG");
        assert_eq!(payments.charges.lock().unwrap()["order:u1:k1"].0, 4900);
        assert_eq!(*cart.emptied.lock().unwrap(), 1);
    }

    #[tokio::test]
    async fn the_same_key_twice_gives_the_same_order_and_one_charge() {
        let (cart, payments) = (cart_with(&[("mug", 1)]), FakePayments::default());
        let (checkout, _dir) = checkout(cart.clone(), catalog(), payments.clone()).await;
        let first = checkout
            .place("u1", "k1", address(), CreditCard::default())
            .await
            .unwrap();
        let again = checkout
            .place("u1", "k1", address(), CreditCard::default())
            .await
            .unwrap();
        assert_eq!(first, again);
        assert_eq!(payments.charges.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_concurrent_attempt_that_placed_the_order_first_gives_its_order_not_cart_empty() {
        let cart = cart_with(&[("mug", 1)]);
        let payments = FakePayments::default();
        let (checkout, _dir) = checkout(cart.clone(), catalog(), payments.clone()).await;
        let placed = Order {
            id: "order-of-the-other-attempt".into(),
            user_id: "u1".into(),
            idempotency_key: "k1".into(),
            lines: vec![OrderLine {
                product_id: "mug".into(),
                product_name: "MUG".into(),
                quantity: 1,
                unit_units: 1200,
            }],
            currency_code: "USD".into(),
            total_units: 1200,
            shipping: address(),
            transaction_id: "tx-other".into(),
            created_at: platform::clock::now_rfc3339(),
        };
        *cart.race.lock().unwrap() = Some((checkout.store().clone(), placed));
        let order = checkout
            .place("u1", "k1", address(), CreditCard::default())
            .await
            .unwrap();
        assert_eq!(order.id, "order-of-the-other-attempt");
        assert!(
            payments.charges.lock().unwrap().is_empty(),
            "no second charge"
        );
    }

    #[tokio::test]
    async fn an_empty_cart_is_refused_before_any_charge() {
        let payments = FakePayments::default();
        let (checkout, _dir) = checkout(cart_with(&[]), catalog(), payments.clone()).await;
        let err = checkout
            .place("u1", "k1", address(), CreditCard::default())
            .await
            .unwrap_err();
        assert_eq!(err, OrderError::EmptyCart);
        assert!(payments.charges.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_product_gone_from_the_catalog_stops_the_order() {
        let payments = FakePayments::default();
        let (checkout, _dir) = checkout(
            cart_with(&[("mug", 1), ("gone", 1)]),
            catalog(),
            payments.clone(),
        )
        .await;
        let err = checkout
            .place("u1", "k1", address(), CreditCard::default())
            .await
            .unwrap_err();
        assert_eq!(err, OrderError::ProductGone("gone".into()));
        assert!(payments.charges.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn mixed_currencies_are_refused() {
        let mut catalog = catalog();
        catalog.products.extend([product("euro-mug", "EUR", 900)]);
        let (checkout, _dir) = checkout(
            cart_with(&[("mug", 1), ("euro-mug", 1)]),
            catalog,
            FakePayments::default(),
        )
        .await;
        let err = checkout
            .place("u1", "k1", address(), CreditCard::default())
            .await
            .unwrap_err();
        assert_eq!(err, OrderError::MixedCurrencies);
    }

    #[tokio::test]
    async fn a_declined_card_stores_no_order_and_keeps_the_cart() {
        let cart = cart_with(&[("mug", 1)]);
        let payments = FakePayments {
            decline: true,
            ..Default::default()
        };
        let (checkout, _dir) = checkout(cart.clone(), catalog(), payments).await;
        let err = checkout
            .place("u1", "k1", address(), CreditCard::default())
            .await
            .unwrap_err();
        assert!(matches!(err, OrderError::PaymentDeclined(_)));
        assert!(
            checkout
                .store()
                .find_by_key("u1", "k1")
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(cart.items.lock().unwrap().len(), 1, "the cart is kept");
    }

    #[tokio::test]
    async fn a_cart_that_is_down_is_unavailable_and_nothing_is_charged() {
        let cart = FakeCart {
            fail: Some(OrderError::Unavailable("cart", "down".into())),
            ..Default::default()
        };
        let payments = FakePayments::default();
        let (checkout, _dir) = checkout(cart, catalog(), payments.clone()).await;
        let err = checkout
            .place("u1", "k1", address(), CreditCard::default())
            .await
            .unwrap_err();
        assert!(matches!(err, OrderError::Unavailable("cart", _)));
        assert!(payments.charges.lock().unwrap().is_empty());
    }
}
