//! The use case of orders: placing an order. Read the cart, price it from the catalog (never from
//! the client), charge the card, store the order, empty the cart.
//!
//! Exactly once per idempotency key, under retries, concurrency and crashes: before any side
//! effect the key is reserved in the orders database with a fingerprint of the request and the id
//! of the order it will make, and the attempt takes a lease on it. The priced cart is kept before
//! the charge, and the charge's key is derived from the order id, so a retry after a crash charges
//! the same amount under the same key (payments returns the first charge) and completes the order.
//! A second request while an attempt holds the lease gets [`OrderError::InProgress`]; the same key
//! with another body gets [`OrderError::KeyReused`]. Checkouts that no retry completes are voided
//! by [`Checkout::void_abandoned`], which the service runs on a schedule.
//!
//! The other services are behind small traits in domain terms ([`Cart`], [`Catalog`],
//! [`Payments`]): `backends.rs` implements them over gRPC, the tests below with fakes.

use crate::{
    domain::{self, Address, Order, OrderError, OrderLine},
    store::{CheckoutRecord, CheckoutState, Lease, OrderStore, Priced},
};
use futures::future::try_join_all;
use sha2::{Digest, Sha256};
use shop_proto::payments::v1::CreditCard;
use std::{future::Future, time::Duration};

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

    /// Voids the charge made with `idempotency_key`; `false` when there was none.
    fn void(
        &self,
        idempotency_key: String,
    ) -> impl Future<Output = Result<bool, OrderError>> + Send;
}

/// How checkouts hold their keys.
#[derive(Debug, Clone, Copy)]
pub struct CheckoutPolicy {
    /// How long an attempt holds its key before a retry may take over (longer than an attempt
    /// takes: a crashed attempt's key is free again after this).
    pub lease: Duration,
    /// How long after its lease ended an unfinished checkout is voided.
    pub abandon_after: Duration,
    /// Fault injection: a pause between the charge and storing the order, to show crash recovery.
    pub pause_after_charge: Duration,
}

impl Default for CheckoutPolicy {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(15),
            abandon_after: Duration::from_secs(300),
            pause_after_charge: Duration::ZERO,
        }
    }
}

/// What [`Checkout::void_abandoned`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reconciled {
    /// Checkouts that never charged: their keys are free again.
    pub released: usize,
    /// Checkouts that may have charged: marked voided, their charge (if any) voided.
    pub voided: usize,
    /// Of those, the ones whose charge existed.
    pub charges_voided: usize,
}

pub struct Checkout<K, C, P> {
    store: OrderStore,
    cart: K,
    catalog: C,
    payments: P,
    policy: CheckoutPolicy,
}

/// The charge key of an order: derived from the order's id (fixed when the checkout is reserved),
/// so every attempt charges under the same key, and short whatever the client's key is.
pub fn payment_key(order_id: &str) -> String {
    format!("order:{order_id}")
}

/// A fingerprint of what a checkout request asks for: the same key with another body is refused.
pub fn fingerprint(shipping: &Address, card: &CreditCard) -> String {
    let mut hash = Sha256::new();
    for field in [
        shipping.name.as_str(),
        &shipping.street,
        &shipping.city,
        &shipping.postal_code,
        &shipping.country,
        &card.number,
        &card.expiry_month.to_string(),
        &card.expiry_year.to_string(),
        &card.cvv,
    ] {
        // Length-prefixed, so that ("ab", "c") and ("a", "bc") differ.
        hash.update((field.len() as u64).to_be_bytes());
        hash.update(field.as_bytes());
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn new_lease(now_ms: i64, length: Duration) -> Lease {
    Lease {
        id: uuid::Uuid::new_v4().to_string(),
        until_ms: now_ms + length.as_millis() as i64,
    }
}

impl<K: Cart, C: Catalog, P: Payments> Checkout<K, C, P> {
    pub fn new(store: OrderStore, cart: K, catalog: C, payments: P) -> Self {
        Self::with_policy(store, cart, catalog, payments, CheckoutPolicy::default())
    }

    pub fn with_policy(
        store: OrderStore,
        cart: K,
        catalog: C,
        payments: P,
        policy: CheckoutPolicy,
    ) -> Self {
        Self {
            store,
            cart,
            catalog,
            payments,
            policy,
        }
    }

    pub fn store(&self) -> &OrderStore {
        &self.store
    }

    pub fn policy(&self) -> CheckoutPolicy {
        self.policy
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
        let fingerprint = fingerprint(&shipping, &card);
        let checkout = match self.reserve(user_id, idempotency_key, fingerprint).await? {
            Reserved::Done(order) => {
                tracing::info!(order_id = %order.id, "retry of a placed order");
                return Ok(order);
            }
            Reserved::Mine(checkout) => checkout,
        };
        let result = self.proceed(&checkout, shipping, card).await;
        if let Err(error) = &result {
            // Nothing was charged: forget the key, so it can be used again (another card).
            // Otherwise (an outage, a bug) keep the checkout for a retry, which may resume at once.
            let forget = matches!(
                error,
                OrderError::EmptyCart
                    | OrderError::ProductGone(_)
                    | OrderError::MixedCurrencies
                    | OrderError::PaymentDeclined(_)
            );
            if let Err(e) = self.store.release(&checkout, forget, now_ms()).await {
                tracing::warn!(error = %e, "releasing the checkout failed; its lease will end");
            }
        }
        result
    }

    /// Reserves the key for this attempt, or says why not: the order it made already, another
    /// attempt running, a different request, an abandoned checkout.
    async fn reserve(
        &self,
        user_id: &str,
        idempotency_key: &str,
        fingerprint: String,
    ) -> Result<Reserved, OrderError> {
        let now = now_ms();
        let fresh = CheckoutRecord {
            user_id: user_id.to_owned(),
            idempotency_key: idempotency_key.to_owned(),
            fingerprint,
            order_id: uuid::Uuid::now_v7().to_string(),
            state: CheckoutState::Started,
            lease: new_lease(now, self.policy.lease),
            priced: None,
            created_at: platform::clock::now_rfc3339(),
        };
        loop {
            if let Some(existing) = self
                .store
                .checkout(user_id, idempotency_key)
                .await
                .map_err(storage)?
            {
                return self.resume(existing, &fresh, now).await;
            }
            // An order placed before checkouts were recorded (an upgrade) answers its key too.
            if let Some(order) = self
                .store
                .find_by_key(user_id, idempotency_key)
                .await
                .map_err(storage)?
            {
                return Ok(Reserved::Done(order));
            }
            if self.store.reserve(&fresh).await.map_err(storage)? {
                return Ok(Reserved::Mine(fresh));
            }
            // Another attempt reserved the key between the two reads: look again.
        }
    }

    async fn resume(
        &self,
        existing: CheckoutRecord,
        fresh: &CheckoutRecord,
        now: i64,
    ) -> Result<Reserved, OrderError> {
        if existing.fingerprint != fresh.fingerprint {
            return Err(OrderError::KeyReused);
        }
        match existing.state {
            CheckoutState::Completed => self
                .store
                .find(&existing.user_id, &existing.order_id)
                .await
                .map_err(storage)?
                .map(Reserved::Done)
                .ok_or_else(|| {
                    OrderError::Internal(format!(
                        "checkout {} is completed but its order is missing",
                        existing.order_id
                    ))
                }),
            CheckoutState::Voided => Err(OrderError::Abandoned),
            CheckoutState::Started | CheckoutState::Charging => {
                if existing.lease.until_ms > now {
                    return Err(OrderError::InProgress);
                }
                let lease = new_lease(now, self.policy.lease);
                if !self
                    .store
                    .take_over(&existing, &lease, now)
                    .await
                    .map_err(storage)?
                {
                    return Err(OrderError::InProgress);
                }
                tracing::info!(order_id = %existing.order_id, state = ?existing.state, "resuming an unfinished checkout");
                Ok(Reserved::Mine(CheckoutRecord { lease, ..existing }))
            }
        }
    }

    /// Prices (unless an earlier attempt did), charges, stores the order, empties the cart.
    async fn proceed(
        &self,
        checkout: &CheckoutRecord,
        shipping: Address,
        card: CreditCard,
    ) -> Result<Order, OrderError> {
        let priced = match &checkout.priced {
            Some(priced) => priced.clone(),
            None => {
                let lines = self.priced_cart(&checkout.user_id).await?;
                let currency_code = lines_currency(&lines)?;
                let lines: Vec<OrderLine> = lines.into_iter().map(|(line, _)| line).collect();
                let total_units = domain::total(&lines)?;
                let priced = Priced {
                    lines,
                    currency_code,
                    total_units,
                };
                if !self
                    .store
                    .priced(checkout, &priced)
                    .await
                    .map_err(storage)?
                {
                    // Our lease ended and another attempt took over: it answers.
                    return Err(OrderError::InProgress);
                }
                priced
            }
        };

        let transaction_id = self
            .payments
            .charge(
                payment_key(&checkout.order_id),
                priced.currency_code.clone(),
                priced.total_units,
                card,
            )
            .await?;
        if !self.policy.pause_after_charge.is_zero() {
            tracing::warn!(pause = ?self.policy.pause_after_charge, "fault injection: pausing between the charge and the order");
            tokio::time::sleep(self.policy.pause_after_charge).await;
        }

        let order = Order {
            id: checkout.order_id.clone(),
            user_id: checkout.user_id.clone(),
            idempotency_key: checkout.idempotency_key.clone(),
            lines: priced.lines,
            currency_code: priced.currency_code,
            total_units: priced.total_units,
            shipping,
            transaction_id,
            created_at: platform::clock::now_rfc3339(),
        };
        let order = self.store.complete(&order).await.map_err(storage)?;
        if order.id != checkout.order_id {
            // The key's order was placed by another attempt under another payment key (an order
            // from the previous release, during a rollout): it stands, and our charge must not.
            tracing::warn!(order_id = %order.id, ours = %checkout.order_id, "the key already had an order: voiding this attempt's charge");
            self.payments.void(payment_key(&checkout.order_id)).await?;
        }

        // The order stands even if emptying the cart fails; the user can empty it by hand.
        if let Err(error) = self.cart.empty(&checkout.user_id).await {
            tracing::warn!(%error, "order placed but emptying the cart failed");
        }
        tracing::info!(order_id = %order.id, total_units = order.total_units, "order placed");
        Ok(order)
    }

    /// Settles the checkouts whose lease ended more than `abandon_after` before `now_ms`: one that
    /// never charged is forgotten (its key is free again); one that may have charged gets its
    /// charge voided and is marked voided, so a charge never stays without an order. Each is taken
    /// over with a lease first, so a late retry and two replicas never settle the same checkout
    /// twice.
    pub async fn void_abandoned(&self, now_ms: i64) -> Result<Reconciled, OrderError> {
        let ended_before = now_ms - self.policy.abandon_after.as_millis() as i64;
        let mut done = Reconciled::default();
        for checkout in self.store.abandoned(ended_before).await.map_err(storage)? {
            let lease = new_lease(now_ms, self.policy.lease);
            if !self
                .store
                .take_over(&checkout, &lease, now_ms)
                .await
                .map_err(storage)?
            {
                continue;
            }
            let checkout = CheckoutRecord { lease, ..checkout };
            if checkout.state == CheckoutState::Started {
                self.store
                    .release(&checkout, true, now_ms)
                    .await
                    .map_err(storage)?;
                done.released += 1;
                continue;
            }
            let found = self.payments.void(payment_key(&checkout.order_id)).await?;
            if self.store.voided(&checkout).await.map_err(storage)? {
                done.voided += 1;
                done.charges_voided += usize::from(found);
                tracing::warn!(order_id = %checkout.order_id, charge_found = found, "abandoned checkout voided");
            }
        }
        Ok(done)
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

/// The outcome of reserving a key.
enum Reserved {
    /// The key's order exists: the answer.
    Done(Order),
    /// This attempt holds the key.
    Mine(CheckoutRecord),
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
        /// When set, reading the cart waits for a permit: an attempt held in the middle.
        gate: Option<Arc<tokio::sync::Semaphore>>,
        /// Stored when the cart is read: an order for the same key placed meanwhile elsewhere.
        placed_meanwhile: Arc<Mutex<Option<(OrderStore, Order)>>>,
    }

    impl Cart for FakeCart {
        async fn items(&self, _user_id: &str) -> Result<Vec<(String, i32)>, OrderError> {
            if let Some(gate) = &self.gate {
                gate.acquire().await.unwrap().forget();
            }
            let placed = self.placed_meanwhile.lock().unwrap().take();
            if let Some((store, order)) = placed {
                store.insert(&order).await.unwrap();
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
        voided: Arc<Mutex<Vec<String>>>,
        decline: bool,
        /// Answers to lose after charging (the charge stands, the caller sees UNAVAILABLE).
        lose_answers: Arc<Mutex<u32>>,
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
            let (charged, tx) = charges
                .entry(key)
                .or_insert((units, format!("tx-{n}")))
                .clone();
            assert_eq!(
                charged, units,
                "a retry charges the amount of the first attempt"
            );
            let mut lose = self.lose_answers.lock().unwrap();
            if *lose > 0 {
                *lose -= 1;
                return Err(OrderError::Unavailable("payments", "answer lost".into()));
            }
            Ok(tx)
        }

        async fn void(&self, key: String) -> Result<bool, OrderError> {
            self.voided.lock().unwrap().push(key.clone());
            Ok(self.charges.lock().unwrap().contains_key(&key))
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
        assert_eq!(
            payments.charges.lock().unwrap()[&payment_key(&order.id)].0,
            4900
        );
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
    async fn a_second_request_while_the_first_runs_is_told_it_is_in_progress() {
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let cart = FakeCart {
            gate: Some(gate.clone()),
            ..cart_with(&[("mug", 1)])
        };
        let payments = FakePayments::default();
        let (checkout, _dir) = checkout(cart, catalog(), payments.clone()).await;
        let checkout = Arc::new(checkout);
        let first = tokio::spawn({
            let checkout = checkout.clone();
            async move {
                checkout
                    .place("u1", "k1", address(), CreditCard::default())
                    .await
            }
        });
        // The first attempt holds the key (it waits at the cart).
        while checkout
            .store()
            .checkout("u1", "k1")
            .await
            .unwrap()
            .is_none()
        {
            tokio::task::yield_now().await;
        }
        let second = checkout
            .place("u1", "k1", address(), CreditCard::default())
            .await;
        assert_eq!(second.unwrap_err(), OrderError::InProgress);
        gate.add_permits(1);
        let order = first.await.unwrap().unwrap();
        let again = checkout
            .place("u1", "k1", address(), CreditCard::default())
            .await
            .unwrap();
        assert_eq!(again, order);
        assert_eq!(payments.charges.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn the_same_key_with_another_request_is_refused_and_a_declined_key_can_be_reused() {
        let declining = FakePayments {
            decline: true,
            ..Default::default()
        };
        let (checkout, _dir) = checkout(cart_with(&[("mug", 1)]), catalog(), declining).await;
        let declined = checkout
            .place("u1", "k1", address(), CreditCard::default())
            .await
            .unwrap_err();
        assert!(matches!(declined, OrderError::PaymentDeclined(_)));
        assert!(
            checkout
                .store()
                .checkout("u1", "k1")
                .await
                .unwrap()
                .is_none(),
            "a declined checkout charged nothing and frees its key"
        );

        let payments = FakePayments::default();
        let (checkout, _dir) = self::checkout(cart_with(&[("mug", 1)]), catalog(), payments).await;
        checkout
            .place("u1", "k1", address(), CreditCard::default())
            .await
            .unwrap();
        let other_card = CreditCard {
            number: "5555555555554444".into(),
            ..Default::default()
        };
        let err = checkout
            .place("u1", "k1", address(), other_card)
            .await
            .unwrap_err();
        assert_eq!(err, OrderError::KeyReused);
    }

    #[tokio::test]
    async fn a_long_client_key_still_gives_a_short_payment_key() {
        let payments = FakePayments::default();
        let (checkout, _dir) =
            checkout(cart_with(&[("mug", 1)]), catalog(), payments.clone()).await;
        let key = "k".repeat(200);
        let order = checkout
            .place("u1", &key, address(), CreditCard::default())
            .await
            .unwrap();
        let charges = payments.charges.lock().unwrap();
        let charge_key = charges.keys().next().unwrap();
        assert_eq!(charge_key, &payment_key(&order.id));
        assert!(charge_key.len() <= 50, "{charge_key}");
    }

    #[tokio::test]
    async fn a_retry_after_a_lost_charge_answer_completes_the_order_with_the_one_charge() {
        let cart = cart_with(&[("mug", 2)]);
        let payments = FakePayments::default();
        *payments.lose_answers.lock().unwrap() = 1;
        let (checkout, _dir) = checkout(cart.clone(), catalog(), payments.clone()).await;
        let err = checkout
            .place("u1", "k1", address(), CreditCard::default())
            .await
            .unwrap_err();
        assert!(
            matches!(err, OrderError::Unavailable("payments", _)),
            "{err:?}"
        );
        let open = checkout
            .store()
            .checkout("u1", "k1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(open.state, CheckoutState::Charging);

        // The price changes in between: the retry charges what the first attempt priced.
        let mut catalog = catalog();
        catalog.products.extend([product("mug", "USD", 9999)]);
        let checkout = Checkout::new(
            checkout.store().clone(),
            cart.clone(),
            catalog,
            payments.clone(),
        );
        let order = checkout
            .place("u1", "k1", address(), CreditCard::default())
            .await
            .unwrap();
        assert_eq!(order.id, open.order_id);
        assert_eq!(order.total_units, 2400);
        let charges = payments.charges.lock().unwrap();
        assert_eq!(charges.len(), 1);
        assert_eq!(charges[&payment_key(&order.id)].1, order.transaction_id);
        assert_eq!(*cart.emptied.lock().unwrap(), 1);
    }

    #[tokio::test]
    async fn abandoned_checkouts_are_voided_or_forgotten_and_a_late_retry_is_told_so() {
        let payments = FakePayments::default();
        *payments.lose_answers.lock().unwrap() = 1;
        let (checkout, _dir) =
            checkout(cart_with(&[("mug", 1)]), catalog(), payments.clone()).await;
        checkout
            .place("u1", "charged", address(), CreditCard::default())
            .await
            .unwrap_err();
        // One that never got to the charge: the cart was down.
        let down = Checkout::new(
            checkout.store().clone(),
            FakeCart {
                fail: Some(OrderError::Unavailable("cart", "down".into())),
                ..Default::default()
            },
            catalog(),
            payments.clone(),
        );
        down.place("u1", "uncharged", address(), CreditCard::default())
            .await
            .unwrap_err();

        let policy = checkout.policy();
        let not_yet = checkout.void_abandoned(now_ms()).await.unwrap();
        assert_eq!(
            not_yet,
            Reconciled::default(),
            "too early: a retry may still come"
        );

        let later = now_ms() + policy.abandon_after.as_millis() as i64 + 1;
        let done = checkout.void_abandoned(later).await.unwrap();
        assert_eq!(
            done,
            Reconciled {
                released: 1,
                voided: 1,
                charges_voided: 1
            }
        );
        assert_eq!(payments.voided.lock().unwrap().len(), 1);
        assert_eq!(
            checkout.void_abandoned(later).await.unwrap(),
            Reconciled::default()
        );

        let late = checkout
            .place("u1", "charged", address(), CreditCard::default())
            .await
            .unwrap_err();
        assert_eq!(late, OrderError::Abandoned);
        checkout
            .place("u1", "uncharged", address(), CreditCard::default())
            .await
            .expect("the key of a checkout that charged nothing is free again");
    }

    #[tokio::test]
    async fn an_order_placed_meanwhile_under_another_payment_key_stands_and_ours_is_voided() {
        let cart = cart_with(&[("mug", 1)]);
        let payments = FakePayments::default();
        let (checkout, _dir) = checkout(cart.clone(), catalog(), payments.clone()).await;
        // As a pod of the previous release would during a rollout: same key, its own order.
        let theirs = Order {
            id: "order-of-the-previous-release".into(),
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
            transaction_id: "tx-previous".into(),
            created_at: platform::clock::now_rfc3339(),
        };
        *cart.placed_meanwhile.lock().unwrap() = Some((checkout.store().clone(), theirs.clone()));
        let order = checkout
            .place("u1", "k1", address(), CreditCard::default())
            .await
            .unwrap();
        assert_eq!(order, theirs, "the order that holds the key answers");
        let ours = checkout
            .store()
            .checkout("u1", "k1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ours.state, CheckoutState::Completed);
        assert_eq!(ours.order_id, theirs.id, "retries find that order");
        let voided = payments.voided.lock().unwrap().clone();
        assert_eq!(
            voided.len(),
            1,
            "this attempt's charge is voided: {voided:?}"
        );
        assert_ne!(voided[0], payment_key(&theirs.id));
        let again = checkout
            .place("u1", "k1", address(), CreditCard::default())
            .await
            .unwrap();
        assert_eq!(again, theirs);
    }

    #[test]
    fn fingerprints_tell_requests_apart() {
        let card = CreditCard::default();
        assert_eq!(
            fingerprint(&address(), &card),
            fingerprint(&address(), &card)
        );
        let moved = Address {
            street: "2 Main St".into(),
            ..address()
        };
        assert_ne!(fingerprint(&address(), &card), fingerprint(&moved, &card));
        let shifted = Address {
            name: "An".into(),
            street: "n1 Main St".into(),
            ..address()
        };
        assert_ne!(fingerprint(&address(), &card), fingerprint(&shifted, &card));
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
