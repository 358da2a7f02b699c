//! One error shape for the whole REST API: a status code and
//! `{"error": {"code": "...", "message": "..."}}`.

use axum::{
    Json,
    extract::rejection::{JsonRejection, PathRejection, QueryRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use tonic::Code;
use utoipa::ToSchema;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds after which a retry may succeed (`Retry-After`).
    pub retry_after: Option<u32>,
}

/// The JSON body of every error response.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable, e.g. `invalid_argument`, `payment_declined`.
    #[schema(example = "invalid_argument")]
    pub code: String,
    /// What is wrong, for a person.
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The same error, telling the client to retry after `seconds`.
    pub fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(status = %self.status, code = self.code, message = %self.message, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                "Bearer".parse().expect("static header"),
            );
        }
        response
    }
}

/// Errors from the services, mapped to HTTP. Backends that are down or too slow give 503.
impl From<tonic::Status> for ApiError {
    fn from(status: tonic::Status) -> Self {
        let message = status.message().to_owned();
        match (status.code(), platform::errors::reason(&status)) {
            (_, Some("payment_declined")) => {
                Self::new(StatusCode::PAYMENT_REQUIRED, "payment_declined", message)
            }
            (_, Some("cart_empty")) => Self::new(StatusCode::CONFLICT, "cart_empty", message),
            (_, Some("product_gone")) => Self::new(StatusCode::CONFLICT, "product_gone", message),
            (_, Some("checkout_in_progress")) => {
                Self::new(StatusCode::CONFLICT, "checkout_in_progress", message).retry_after(1)
            }
            (_, Some("checkout_abandoned")) => {
                Self::new(StatusCode::CONFLICT, "checkout_abandoned", message)
            }
            (_, Some("idempotency_key_reused")) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                message,
            ),
            (Code::InvalidArgument | Code::OutOfRange, _) => {
                Self::bad_request("invalid_argument", message)
            }
            (Code::NotFound, _) => Self::new(StatusCode::NOT_FOUND, "not_found", message),
            (Code::FailedPrecondition | Code::AlreadyExists | Code::Aborted, _) => {
                Self::new(StatusCode::CONFLICT, "conflict", message)
            }
            (Code::Unauthenticated, _) => Self::unauthenticated(message),
            (Code::PermissionDenied, _) => Self::new(StatusCode::FORBIDDEN, "forbidden", message),
            (Code::ResourceExhausted, _) => {
                Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
            }
            (Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Unknown, _) => {
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "backend_unavailable",
                    format!("a backend service is unavailable, try again: {message}"),
                )
            }
            (code, _) => {
                // Not for the client to see, but kept whole in the log.
                tracing::error!(?code, message = %message, "unexpected backend error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let code = match &rejection {
            JsonRejection::JsonDataError(_) => "invalid_body",
            JsonRejection::JsonSyntaxError(_) => "malformed_json",
            JsonRejection::MissingJsonContentType(_) => "unsupported_media_type",
            _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
            _ => "invalid_body",
        };
        Self::new(rejection.status(), code, rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::bad_request("invalid_path", rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request("invalid_query", rejection.body_text())
    }
}

impl ApiError {
    /// The request's time budget ran out: 504.
    pub fn deadline_exceeded(budget: std::time::Duration) -> Self {
        Self::new(
            StatusCode::GATEWAY_TIMEOUT,
            "deadline_exceeded",
            format!(
                "the shop did not answer within the request's time budget ({} ms); try again",
                budget.as_millis()
            ),
        )
    }

    /// Maps an error from the backend `service`: one that is down or too slow gives 503 naming
    /// it, so a client (and the storefront) can tell which part of the shop is out; when the
    /// request's own budget ran out, 504.
    pub fn backend(service: &'static str) -> impl Fn(tonic::Status) -> ApiError {
        move |status| match status.code() {
            Code::DeadlineExceeded | Code::Cancelled if platform::deadline::expired() => Self::new(
                StatusCode::GATEWAY_TIMEOUT,
                "deadline_exceeded",
                format!(
                    "the {service} service did not answer within the request's time budget; try again"
                ),
            ),
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Unknown
                if platform::errors::reason(&status).is_none() =>
            {
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "backend_unavailable",
                    format!(
                        "the {service} service is unavailable, try again: {}",
                        status.message()
                    ),
                )
            }
            _ => status.into(),
        }
    }

    /// The response, for places that need a `Response` rather than an `impl IntoResponse`.
    pub fn into_response_now(self) -> Response {
        self.into_response()
    }
}
