//! A machine-readable reason on a gRPC error, carried in metadata (like `ErrorInfo.reason` of
//! Google's error model), so the gateway can tell e.g. a declined card from an empty cart.

use tonic::{Status, metadata::MetadataValue};

const REASON_KEY: &str = "shop-error-reason";

/// `status` with a stable reason code such as `payment_declined`.
pub fn with_reason(mut status: Status, reason: &'static str) -> Status {
    status
        .metadata_mut()
        .insert(REASON_KEY, MetadataValue::from_static(reason));
    status
}

/// The reason code of an error, if the service gave one.
pub fn reason(status: &Status) -> Option<&str> {
    status
        .metadata()
        .get(REASON_KEY)
        .and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_round_trip() {
        let status = with_reason(
            Status::failed_precondition("card declined"),
            "payment_declined",
        );
        assert_eq!(reason(&status), Some("payment_declined"));
        assert_eq!(reason(&Status::not_found("x")), None);
    }
}
