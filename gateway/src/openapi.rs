//! The OpenAPI document, generated from the handlers' annotations and the model types.

use crate::{api, error, model};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Shop API", description = "The REST edge of the Rust microservices shop."),
    paths(
        api::list_products, api::search_products, api::get_product, api::create_session, api::get_cart,
        api::add_cart_item, api::remove_cart_item, api::checkout, api::list_orders, api::get_order
    ),
    components(schemas(error::ErrorBody, error::ErrorDetail, model::Money, model::Product, model::ProductPage,
        model::SearchResults, model::NewSession, model::SessionCreated, model::AddCartItem, model::Cart,
        model::CartLine, model::Address, model::Card, model::CheckoutRequest, model::Order, model::OrderLine,
        model::OrderList)),
    modifiers(&BearerAuth),
    tags((name = "products"), (name = "session"), (name = "cart"), (name = "orders"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}
