//! The storefront's pages: rendered on the server (minijinja templates under `templates/`), plain
//! HTML forms, so every page works without JavaScript except "behind the scenes", which is live by
//! nature. Every call goes to the shop's public REST API; every failure of it becomes a page a
//! shopper understands, never raw JSON or a blank page.

use crate::shop_api::{Failure, ShopApi};
use axum::{
    Form, Router,
    extract::{Path, Query, State, rejection::FormRejection},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use gateway::model::{Address, Card, CheckoutRequest};
use minijinja::{Environment, context};
use platform::identity::Identity;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The cookie that holds the shopper's session token (issued by the API's `POST /session`).
pub const SESSION_COOKIE: &str = "shop_session";

/// Requests per second the behind-the-scenes page sends, and how many answers it draws.
const TRICKLE_PER_SECOND: u32 = 5;
const HISTORY: u32 = 120;

/// What every page handler shares.
#[derive(Clone)]
pub struct Site {
    pub api: ShopApi,
    templates: Arc<Environment<'static>>,
    identity: Identity,
}

impl Site {
    pub fn new(api: ShopApi, identity: Identity) -> Self {
        let mut env = Environment::new();
        for (name, source) in [
            ("base.html", include_str!("../templates/base.html")),
            ("products.html", include_str!("../templates/products.html")),
            ("product.html", include_str!("../templates/product.html")),
            ("cart.html", include_str!("../templates/cart.html")),
            ("checkout.html", include_str!("../templates/checkout.html")),
            ("order.html", include_str!("../templates/order.html")),
            ("orders.html", include_str!("../templates/orders.html")),
            ("error.html", include_str!("../templates/error.html")),
            ("behind.html", include_str!("../templates/behind.html")),
            ("api_docs.html", include_str!("../templates/api_docs.html")),
        ] {
            env.add_template(name, source)
                .expect("the templates compile (tests render each)");
        }
        Self {
            api,
            templates: Arc::new(env),
            identity,
        }
    }

    /// Renders `template` with `values` plus what the layout needs.
    fn render(&self, status: StatusCode, template: &str, values: minijinja::Value) -> Response {
        let layout = context! {
            served_by => self.identity.served_by.to_str().unwrap_or("unknown"),
            version => self.identity.version.to_str().unwrap_or("unknown"),
        };
        let html = self
            .templates
            .get_template(template)
            .and_then(|t| t.render(context! { ..values, ..layout }));
        match html {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(template, "cannot render: {e:#}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Html("<!doctype html><title>Sorry</title><h1>Sorry</h1><p>This page cannot be shown right now.</p>"),
                )
                    .into_response()
            }
        }
    }

    /// The page for a form that cannot be read (a field missing or not a number): 400.
    fn bad_form(&self, rejection: &FormRejection) -> Response {
        tracing::debug!("unreadable form: {rejection}");
        self.render(
            StatusCode::BAD_REQUEST,
            "error.html",
            context! {
                heading => "That did not work",
                message => "The form was incomplete or had a value we could not read (a quantity must be a whole number from 1 to 99). Please try again.",
                back => "/cart",
                back_label => "Back to your cart",
            },
        )
    }

    /// A failed call of a page that uses the session: a fresh start if the session ended,
    /// otherwise [`Site::trouble`].
    fn failed(&self, failure: &Failure, jar: CookieJar) -> Response {
        session_ended(failure, jar).unwrap_or_else(|| self.trouble(failure))
    }

    /// The page for a failed API call, in words a shopper understands.
    fn trouble(&self, failure: &Failure) -> Response {
        let (status, heading, message) = explain(failure);
        if status.is_server_error() {
            tracing::warn!(?failure, "the shop's API failed");
        }
        self.render(
            status,
            "error.html",
            context! { heading => heading, message => message },
        )
    }
}

/// (status of the page, heading, message) for a failed API call.
pub fn explain(failure: &Failure) -> (StatusCode, &'static str, String) {
    let busy = "The shop is having trouble right now";
    match failure {
        Failure::Unreachable(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            busy,
            "We cannot reach the shop at the moment. Please try again in a few seconds.".into(),
        ),
        Failure::Garbled(_) => (
            StatusCode::BAD_GATEWAY,
            busy,
            "The shop gave an answer we did not understand. Please try again.".into(),
        ),
        Failure::Refused {
            status, message, ..
        } => match status.as_u16() {
            404 => (
                StatusCode::NOT_FOUND,
                "Not found",
                "We could not find that. It may have been removed.".into(),
            ),
            // The API names what is down ("the catalog service is unavailable").
            503 | 504 => (
                StatusCode::SERVICE_UNAVAILABLE,
                busy,
                format!(
                    "Part of the shop is not answering ({message}). Please try again in a few seconds."
                ),
            ),
            400..=499 => (
                StatusCode::BAD_REQUEST,
                "That did not work",
                format!("{message}."),
            ),
            _ => (
                StatusCode::BAD_GATEWAY,
                busy,
                "Something went wrong on our side. Please try again.".into(),
            ),
        },
    }
}

pub fn router(site: Site) -> Router {
    Router::new()
        .route("/", get(products))
        .route("/products/{id}", get(product))
        .route("/cart", get(cart))
        .route("/cart/items", post(add_to_cart))
        .route("/cart/items/{id}/quantity", post(set_quantity))
        .route("/cart/items/{id}/remove", post(remove_from_cart))
        .route("/checkout", get(checkout_form).post(place_order))
        .route("/orders", get(orders))
        .route("/orders/{id}", get(order))
        .route("/behind-the-scenes", get(behind_the_scenes))
        .route("/api-docs", get(api_docs))
        .fallback(not_found)
        .with_state(site)
}

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
    page: Option<String>,
}

async fn products(State(site): State<Site>, Query(query): Query<ListQuery>) -> Response {
    let q = query.q.as_deref().map(str::trim).unwrap_or_default();
    if !q.is_empty() {
        return match site.api.search(q).await {
            Ok(found) => site.render(
                StatusCode::OK,
                "products.html",
                context! { products => found.products, query => q },
            ),
            Err(failure) => site.trouble(&failure),
        };
    }
    match site.api.products(query.page.as_deref()).await {
        Ok(page) => site.render(
            StatusCode::OK,
            "products.html",
            context! { products => page.products, next_page => page.next_page_token },
        ),
        Err(failure) => site.trouble(&failure),
    }
}

async fn product(State(site): State<Site>, Path(id): Path<String>) -> Response {
    match site.api.product(&id).await {
        Ok(product) => site.render(
            StatusCode::OK,
            "product.html",
            context! { product => product },
        ),
        Err(failure) => site.trouble(&failure),
    }
}

/// The session token, if the shopper has one.
fn token(jar: &CookieJar) -> Option<String> {
    jar.get(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|t| !t.is_empty())
}

/// The shopper's token, or a new session's (with its cookie added to `jar`).
async fn token_or_new(site: &Site, jar: CookieJar) -> Result<(String, CookieJar), Failure> {
    if let Some(token) = token(&jar) {
        return Ok((token, jar));
    }
    let session = site.api.new_session().await?;
    let cookie = Cookie::build((SESSION_COOKIE, session.token.clone()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .build();
    Ok((session.token, jar.add(cookie)))
}

/// A page that needs the session: a token the API no longer accepts (it expired, or the shop's
/// secret changed) is dropped, and the shopper starts afresh rather than seeing an error.
fn session_ended(failure: &Failure, jar: CookieJar) -> Option<Response> {
    (failure.status() == Some(StatusCode::UNAUTHORIZED)).then(|| {
        (
            jar.remove(Cookie::build(SESSION_COOKIE).path("/")),
            Redirect::to("/cart?notice=session"),
        )
            .into_response()
    })
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

/// A message shown once after a redirect, by name (never text from the URL).
fn notice(name: Option<&str>) -> Option<&'static str> {
    match name? {
        "added" => Some("Added to your cart."),
        "updated" => Some("Your cart is updated."),
        "removed" => Some("Removed from your cart."),
        "session" => Some("Your session had ended, so you start with a fresh cart."),
        _ => None,
    }
}

async fn cart(
    State(site): State<Site>,
    jar: CookieJar,
    Query(query): Query<NoticeQuery>,
) -> Response {
    let notice = notice(query.notice.as_deref());
    let Some(token) = token(&jar) else {
        return site.render(StatusCode::OK, "cart.html", context! { notice => notice });
    };
    match site.api.cart(&token).await {
        Ok(cart) => site.render(
            StatusCode::OK,
            "cart.html",
            context! { cart => cart, notice => notice },
        ),
        Err(failure) => site.failed(&failure, jar),
    }
}

#[derive(Deserialize)]
struct AddForm {
    product_id: String,
    quantity: i32,
}

async fn add_to_cart(
    State(site): State<Site>,
    jar: CookieJar,
    form: Result<Form<AddForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => return site.bad_form(&rejection),
    };
    let (token, jar) = match token_or_new(&site, jar).await {
        Ok(pair) => pair,
        Err(failure) => return site.trouble(&failure),
    };
    match site
        .api
        .add_to_cart(&token, &form.product_id, form.quantity)
        .await
    {
        Ok(_) => (jar, Redirect::to("/cart?notice=added")).into_response(),
        Err(failure) => site.failed(&failure, jar),
    }
}

#[derive(Deserialize)]
struct QuantityForm {
    quantity: i32,
}

/// The API adds quantities and removes lines; a new quantity is "remove, then add" when it is
/// lower, "add the difference" when it is higher.
async fn set_quantity(
    State(site): State<Site>,
    jar: CookieJar,
    Path(id): Path<String>,
    form: Result<Form<QuantityForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => return site.bad_form(&rejection),
    };
    let Some(token) = token(&jar) else {
        return Redirect::to("/cart").into_response();
    };
    let current = match site.api.cart(&token).await {
        Ok(cart) => cart
            .items
            .iter()
            .find(|l| l.product_id == id)
            .map_or(0, |l| l.quantity),
        Err(failure) => {
            return site.failed(&failure, jar);
        }
    };
    let wanted = form.quantity.max(0);
    let result = if wanted > current {
        site.api.add_to_cart(&token, &id, wanted - current).await
    } else if wanted < current {
        match site.api.remove_from_cart(&token, &id).await {
            Ok(cart) if wanted == 0 => Ok(cart),
            Ok(_) => site.api.add_to_cart(&token, &id, wanted).await,
            Err(failure) => Err(failure),
        }
    } else {
        return Redirect::to("/cart").into_response();
    };
    match result {
        Ok(_) => Redirect::to("/cart?notice=updated").into_response(),
        Err(failure) => site.failed(&failure, jar),
    }
}

async fn remove_from_cart(
    State(site): State<Site>,
    jar: CookieJar,
    Path(id): Path<String>,
) -> Response {
    let Some(token) = token(&jar) else {
        return Redirect::to("/cart").into_response();
    };
    match site.api.remove_from_cart(&token, &id).await {
        Ok(_) => Redirect::to("/cart?notice=removed").into_response(),
        Err(failure) => site.failed(&failure, jar),
    }
}

/// The checkout form's fields, kept when the form is shown again. A missing field is empty, and
/// the API says what is wrong with it.
#[derive(Deserialize, Serialize, Default)]
#[serde(default)]
struct CheckoutForm {
    idempotency_key: String,
    name: String,
    street: String,
    city: String,
    postal_code: String,
    country: String,
    card_number: String,
    expiry_month: String,
    expiry_year: String,
    /// Not shown again.
    #[serde(skip_serializing)]
    cvv: String,
}

async fn checkout_form(State(site): State<Site>, jar: CookieJar) -> Response {
    checkout_page(&site, jar, CheckoutForm::default(), None).await
}

/// The checkout page: the cart's total, the form (as filled in) and what went wrong, if anything.
async fn checkout_page(
    site: &Site,
    jar: CookieJar,
    form: CheckoutForm,
    problem: Option<String>,
) -> Response {
    let Some(token) = token(&jar) else {
        return Redirect::to("/cart").into_response();
    };
    let cart = match site.api.cart(&token).await {
        Ok(cart) if cart.items.is_empty() => return Redirect::to("/cart").into_response(),
        Ok(cart) => cart,
        Err(failure) => {
            return site.failed(&failure, jar);
        }
    };
    // One key per attempt the shopper sees: submitting the same form twice places one order.
    let key = if form.idempotency_key.is_empty() || problem.is_some() {
        uuid::Uuid::new_v4().to_string()
    } else {
        form.idempotency_key.clone()
    };
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    site.render(
        status,
        "checkout.html",
        context! { cart => cart, form => form, key => key, problem => problem },
    )
}

async fn place_order(
    State(site): State<Site>,
    jar: CookieJar,
    form: Result<Form<CheckoutForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => return site.bad_form(&rejection),
    };
    let Some(token) = token(&jar) else {
        return Redirect::to("/cart").into_response();
    };
    let number = |field: &str, value: &str| -> Result<i32, String> {
        value
            .trim()
            .parse()
            .map_err(|_| format!("The card's {field} must be a number."))
    };
    let card = match (
        number("expiry month", &form.expiry_month),
        number("expiry year", &form.expiry_year),
    ) {
        (Ok(expiry_month), Ok(expiry_year)) => Card {
            number: form.card_number.clone(),
            expiry_month,
            expiry_year,
            cvv: form.cvv.clone(),
        },
        (Err(problem), _) | (_, Err(problem)) => {
            return checkout_page(&site, jar, form, Some(problem)).await;
        }
    };
    let request = CheckoutRequest {
        shipping_address: Address {
            name: form.name.clone(),
            street: form.street.clone(),
            city: form.city.clone(),
            postal_code: form.postal_code.clone(),
            country: form.country.clone(),
        },
        card,
    };
    let key = if form.idempotency_key.trim().is_empty() {
        uuid::Uuid::new_v4().to_string()
    } else {
        form.idempotency_key.clone()
    };
    match site.api.checkout(&token, &key, &request).await {
        Ok(order) => Redirect::to(&format!("/orders/{}?placed=1", order.id)).into_response(),
        Err(failure) => {
            if let Some(ended) = session_ended(&failure, jar.clone()) {
                return ended;
            }
            // What the shopper can fix is said on the form; the cart is kept (the API charges
            // nothing and keeps the cart when a checkout fails).
            let problem = match (failure.status().map(|s| s.as_u16()), failure.code()) {
                (Some(402), _) => Some(format!(
                    "Your card was declined{}. Nothing was charged and your cart is kept: try another card.",
                    refused_message(&failure)
                        .map(|m| format!(" ({m})"))
                        .unwrap_or_default()
                )),
                (Some(400 | 422), _) => {
                    refused_message(&failure).map(|m| format!("Please check the form: {m}."))
                }
                (Some(409), "checkout_in_progress") => Some(
                    "Your order is already being placed. Wait a moment, then look at My orders."
                        .into(),
                ),
                (Some(409), _) => refused_message(&failure).map(|m| format!("{m}.")),
                _ => None,
            };
            match problem {
                Some(problem) => checkout_page(&site, jar, form, Some(problem)).await,
                None => site.trouble(&failure),
            }
        }
    }
}

fn refused_message(failure: &Failure) -> Option<String> {
    match failure {
        Failure::Refused { message, .. } => Some(message.clone()),
        _ => None,
    }
}

async fn orders(State(site): State<Site>, jar: CookieJar) -> Response {
    let Some(token) = token(&jar) else {
        return site.render(StatusCode::OK, "orders.html", context! {});
    };
    match site.api.orders(&token).await {
        Ok(list) => site.render(
            StatusCode::OK,
            "orders.html",
            context! { orders => list.orders },
        ),
        Err(failure) => site.failed(&failure, jar),
    }
}

#[derive(Deserialize)]
struct OrderQuery {
    placed: Option<String>,
}

async fn order(
    State(site): State<Site>,
    jar: CookieJar,
    Path(id): Path<String>,
    Query(query): Query<OrderQuery>,
) -> Response {
    let Some(token) = token(&jar) else {
        return Redirect::to("/orders").into_response();
    };
    match site.api.order(&token, &id).await {
        Ok(order) => site.render(
            StatusCode::OK,
            "order.html",
            context! { order => order, placed => query.placed.is_some() },
        ),
        Err(failure) => site.failed(&failure, jar),
    }
}

async fn behind_the_scenes(State(site): State<Site>) -> Response {
    site.render(
        StatusCode::OK,
        "behind.html",
        context! { rate => TRICKLE_PER_SECOND, history => HISTORY },
    )
}

async fn api_docs(State(site): State<Site>) -> Response {
    site.render(StatusCode::OK, "api_docs.html", context! {})
}

async fn not_found(State(site): State<Site>) -> Response {
    site.render(
        StatusCode::NOT_FOUND,
        "error.html",
        context! {
            heading => "Page not found",
            message => "There is no page at this address.",
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_read_as_sentences_with_the_right_status() {
        let refused = |status: u16, message: &str| Failure::Refused {
            status: StatusCode::from_u16(status).unwrap(),
            code: "x".into(),
            message: message.into(),
        };
        let (status, _, text) = explain(&Failure::Unreachable("connection refused".into()));
        assert_eq!(status, 503);
        assert!(text.contains("cannot reach the shop"), "{text}");
        let (status, _, text) = explain(&refused(503, "the catalog service is unavailable"));
        assert_eq!(status, 503);
        assert!(
            text.contains("the catalog service is unavailable"),
            "{text}"
        );
        assert_eq!(explain(&refused(404, "no product x")).0, 404);
        let (status, _, text) = explain(&refused(500, "internal error"));
        assert_eq!(status, 502);
        assert!(!text.contains('{'), "{text}");
        assert_eq!(explain(&Failure::Garbled("eof".into())).0, 502);
    }

    #[test]
    fn notices_are_chosen_by_name_not_taken_from_the_url() {
        assert_eq!(notice(Some("added")), Some("Added to your cart."));
        assert_eq!(notice(Some("<script>")), None);
    }
}
