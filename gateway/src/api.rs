//! The REST handlers under `/api/v1`. Each translates JSON to a gRPC call and back; prices and
//! totals always come from the services, never from the client.

use crate::{
    AppState,
    auth::User,
    error::{ApiError, ErrorBody},
    model::*,
};
use axum::{
    Json,
    extract::{FromRequest, FromRequestParts, State},
    http::{HeaderMap, StatusCode},
};
use futures::future::join_all;
use shop_proto::{cart::v1 as cart_pb, catalog::v1 as catalog_pb, orders::v1 as orders_pb};

/// `Json` whose rejections (malformed JSON, wrong fields, too large) are our JSON errors.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct AppJson<T>(pub T);

/// `Query` whose rejections are our JSON errors.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct AppQuery<T>(pub T);

/// `Path` whose rejections (e.g. a segment that is not valid UTF-8 once decoded) are our JSON
/// errors.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct AppPath<T>(pub T);

/// List products, a page at a time, optionally of one category.
#[utoipa::path(get, path = "/api/v1/products", tag = "products", params(ListProductsQuery),
    responses((status = 200, body = ProductPage), (status = 400, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn list_products(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<ListProductsQuery>,
) -> Result<Json<ProductPage>, ApiError> {
    let request = catalog_pb::ListProductsRequest {
        page_size: query.page_size.unwrap_or(0),
        page_token: query.page_token.unwrap_or_default(),
        category: query.category.unwrap_or_default(),
    };
    let catalog = state.catalog.clone();
    let page = state
        .retries
        .catalog
        .run(move || {
            let (mut catalog, request) = (catalog.clone(), request.clone());
            async move { catalog.list_products(request).await }
        })
        .await
        .map_err(ApiError::backend("catalog"))?
        .into_inner();
    Ok(Json(ProductPage {
        products: page.products.into_iter().map(Product::from).collect(),
        next_page_token: Some(page.next_page_token).filter(|t| !t.is_empty()),
    }))
}

/// Find products by text.
#[utoipa::path(get, path = "/api/v1/products/search", tag = "products", params(SearchQuery),
    responses((status = 200, body = SearchResults), (status = 400, body = ErrorBody)))]
pub async fn search_products(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<SearchQuery>,
) -> Result<Json<SearchResults>, ApiError> {
    let request = catalog_pb::SearchProductsRequest {
        query: query.q,
        limit: query.limit.unwrap_or(0),
    };
    let catalog = state.catalog.clone();
    let found = state
        .retries
        .catalog
        .run(move || {
            let (mut catalog, request) = (catalog.clone(), request.clone());
            async move { catalog.search_products(request).await }
        })
        .await
        .map_err(ApiError::backend("catalog"))?
        .into_inner();
    Ok(Json(SearchResults {
        products: found.products.into_iter().map(Product::from).collect(),
    }))
}

/// One product.
#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "products", params(("id" = String, Path)),
    responses((status = 200, body = Product), (status = 404, body = ErrorBody)))]
pub async fn get_product(
    State(state): State<AppState>,
    AppPath(id): AppPath<String>,
) -> Result<Json<Product>, ApiError> {
    Ok(Json(
        fetch_product(&state, id)
            .await
            .map_err(ApiError::backend("catalog"))?
            .into(),
    ))
}

async fn fetch_product(state: &AppState, id: String) -> Result<catalog_pb::Product, tonic::Status> {
    let catalog = state.catalog.clone();
    let request = catalog_pb::GetProductRequest { id };
    Ok(state
        .retries
        .catalog
        .run(move || {
            let (mut catalog, request) = (catalog.clone(), request.clone());
            async move { catalog.get_product(request).await }
        })
        .await?
        .into_inner())
}

/// Start a session as a guest: returns a bearer token for the cart, checkout and orders.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = NewSession,
    responses((status = 201, body = SessionCreated), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_session(
    State(state): State<AppState>,
    AppJson(body): AppJson<NewSession>,
) -> Result<(StatusCode, Json<SessionCreated>), ApiError> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 50 {
        return Err(ApiError::bad_request(
            "invalid_argument",
            "name must be 1 to 50 characters",
        ));
    }
    let session = state.tokens.issue(name)?;
    Ok((
        StatusCode::CREATED,
        Json(SessionCreated {
            token: session.token,
            user_id: session.user_id,
            expires_at: session.expires_at,
        }),
    ))
}

/// The signed-in user's cart, priced with current catalog prices.
#[utoipa::path(get, path = "/api/v1/cart", tag = "cart", security(("bearer" = [])),
    responses((status = 200, body = Cart), (status = 401, body = ErrorBody)))]
pub async fn get_cart(State(state): State<AppState>, user: User) -> Result<Json<Cart>, ApiError> {
    let cart = state.cart.clone();
    let request = cart_pb::GetCartRequest { user_id: user.id };
    let cart = state
        .retries
        .cart
        .run(move || {
            let (mut cart, request) = (cart.clone(), request.clone());
            async move { cart.get_cart(request).await }
        })
        .await
        .map_err(ApiError::backend("cart"))?
        .into_inner();
    Ok(Json(price(&state, cart).await?))
}

async fn price(state: &AppState, cart: cart_pb::Cart) -> Result<Cart, ApiError> {
    let lookups = cart
        .items
        .iter()
        .map(|item| fetch_product(state, item.product_id.clone()));
    let mut products = Vec::with_capacity(cart.items.len());
    for result in join_all(lookups).await {
        match result {
            Ok(product) => products.push(Some(product)),
            Err(status) if status.code() == tonic::Code::NotFound => products.push(None),
            Err(status) => return Err(ApiError::backend("catalog")(status)),
        }
    }
    Ok(priced_cart(cart, products))
}

/// Add a product to the cart (the quantity is added to what is there; at most 99 per product).
#[utoipa::path(post, path = "/api/v1/cart/items", tag = "cart", security(("bearer" = [])), request_body = AddCartItem,
    responses((status = 200, body = Cart), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, description = "unknown product", body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn add_cart_item(
    State(state): State<AppState>,
    user: User,
    AppJson(body): AppJson<AddCartItem>,
) -> Result<Json<Cart>, ApiError> {
    // Not retried: adding is not idempotent.
    let cart = state
        .cart
        .clone()
        .add_item(cart_pb::AddItemRequest {
            user_id: user.id,
            product_id: body.product_id,
            quantity: body.quantity,
        })
        .await
        .map_err(ApiError::backend("cart"))?
        .into_inner();
    Ok(Json(price(&state, cart).await?))
}

/// Remove a product from the cart.
#[utoipa::path(delete, path = "/api/v1/cart/items/{product_id}", tag = "cart", security(("bearer" = [])),
    params(("product_id" = String, Path)), responses((status = 200, body = Cart), (status = 401, body = ErrorBody)))]
pub async fn remove_cart_item(
    State(state): State<AppState>,
    user: User,
    AppPath(product_id): AppPath<String>,
) -> Result<Json<Cart>, ApiError> {
    let cart = state
        .cart
        .clone()
        .remove_item(cart_pb::RemoveItemRequest {
            user_id: user.id,
            product_id,
        })
        .await
        .map_err(ApiError::backend("cart"))?
        .into_inner();
    Ok(Json(price(&state, cart).await?))
}

/// Place an order from the cart. Retrying with the same `Idempotency-Key` returns the same order
/// and never charges twice.
#[utoipa::path(post, path = "/api/v1/checkout", tag = "orders", security(("bearer" = [])), request_body = CheckoutRequest,
    params(("Idempotency-Key" = String, Header, min_length = 1, max_length = 200, pattern = r"^[!-~]+$",
        description = "unique per checkout attempt, e.g. a UUID")),
    responses((status = 201, body = Order), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 402, description = "card declined", body = ErrorBody),
        (status = 409, description = "cart empty, a product gone, a checkout with this key in progress (see Retry-After) or abandoned", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, description = "invalid body, or the Idempotency-Key used before for another request", body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn checkout(
    State(state): State<AppState>,
    user: User,
    headers: HeaderMap,
    AppJson(body): AppJson<CheckoutRequest>,
) -> Result<(StatusCode, Json<Order>), ApiError> {
    let key = headers
        .get("idempotency-key")
        .ok_or_else(|| {
            ApiError::bad_request(
                "missing_idempotency_key",
                "the Idempotency-Key header is required",
            )
        })?
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 200 visible ASCII characters",
            )
        })?
        .to_owned();
    let request = orders_pb::PlaceOrderRequest {
        user_id: user.id,
        idempotency_key: key,
        shipping_address: Some(body.shipping_address.into()),
        card: Some(body.card.into()),
    };
    // Not retried here: orders retries the calls it makes (one layer per call path), and the
    // client retries the checkout with its Idempotency-Key.
    let order = state
        .orders
        .clone()
        .place_order(request)
        .await
        .map_err(ApiError::backend("orders"))?
        .into_inner();
    Ok((StatusCode::CREATED, Json(order.into())))
}

/// The signed-in user's orders, newest first.
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", security(("bearer" = [])),
    responses((status = 200, body = OrderList), (status = 401, body = ErrorBody)))]
pub async fn list_orders(
    State(state): State<AppState>,
    user: User,
) -> Result<Json<OrderList>, ApiError> {
    let orders = state.orders.clone();
    let request = orders_pb::ListOrdersRequest { user_id: user.id };
    let list = state
        .retries
        .orders
        .run(move || {
            let (mut orders, request) = (orders.clone(), request.clone());
            async move { orders.list_orders(request).await }
        })
        .await
        .map_err(ApiError::backend("orders"))?
        .into_inner();
    Ok(Json(OrderList {
        orders: list.orders.into_iter().map(Order::from).collect(),
    }))
}

/// One of the signed-in user's orders.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = Order), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_order(
    State(state): State<AppState>,
    user: User,
    AppPath(id): AppPath<String>,
) -> Result<Json<Order>, ApiError> {
    let orders = state.orders.clone();
    let request = orders_pb::GetOrderRequest {
        user_id: user.id,
        order_id: id,
    };
    let order = state
        .retries
        .orders
        .run(move || {
            let (mut orders, request) = (orders.clone(), request.clone());
            async move { orders.get_order(request).await }
        })
        .await
        .map_err(ApiError::backend("orders"))?
        .into_inner();
    Ok(Json(order.into()))
}

/// Unknown routes.
pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such route; the API is described at /api/v1/openapi.json",
    )
}

/// Known route, wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not accept that method",
    )
}
