//! The OpenAPI document, generated from the handlers' annotations and the model types.

use crate::{api, error, model};
use utoipa::{
    Modify, OpenApi,
    openapi::{
        RefOr,
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
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
    modifiers(&BearerAuth, &ResponseDescriptions),
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

/// OpenAPI 3.1 requires a description on every response, and utoipa 6 leaves an empty one out of
/// the document: a response the handlers do not describe gets its status code's reason phrase.
struct ResponseDescriptions;

impl Modify for ResponseDescriptions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let operations = openapi.paths.paths.values_mut().flat_map(|item| {
            [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ]
            .into_iter()
            .flatten()
        });
        for operation in operations {
            for (status, response) in &mut operation.responses.responses {
                if let RefOr::T(response) = response
                    && response.description.is_empty()
                {
                    response.description = status
                        .parse::<http::StatusCode>()
                        .ok()
                        .and_then(|code| code.canonical_reason())
                        .unwrap_or("Response")
                        .to_owned();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_response_has_a_description_as_openapi_3_1_requires() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let mut responses = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                for (status, response) in operation["responses"].as_object().unwrap() {
                    responses += 1;
                    let description = response["description"].as_str().unwrap_or("");
                    assert!(!description.is_empty(), "{method} {path} {status}");
                }
            }
        }
        assert!(responses > 10, "{responses} responses");
        assert_eq!(
            doc["paths"]["/api/v1/session"]["post"]["responses"]["201"]["description"],
            "Created"
        );
    }
}
