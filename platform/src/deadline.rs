//! Request deadlines that travel: the gateway gives each request a budget, and every gRPC call made
//! while handling it carries the time left (`grpc-timeout`), so a slow service deep in the call
//! path makes the user wait no longer than the budget and no service keeps working for a caller
//! that has given up.
//!
//! The deadline lives in a task-local for the duration of a request: servers set it from the
//! incoming `grpc-timeout` (or the gateway from its budget) with [`within`], and the channels of
//! `grpc_client` read it with [`remaining`] for each outgoing call.

use std::time::Duration;
use tokio::time::Instant;

tokio::task_local! {
    static DEADLINE: Instant;
}

/// Runs `future` with `deadline` as the deadline of the work it does (an earlier deadline already
/// in force stays).
pub async fn within<F: Future>(deadline: Instant, future: F) -> F::Output {
    let deadline = DEADLINE
        .try_with(|outer| (*outer).min(deadline))
        .unwrap_or(deadline);
    DEADLINE.scope(deadline, future).await
}

/// The time left before the current request's deadline; `None` when it has none.
pub fn remaining() -> Option<Duration> {
    DEADLINE
        .try_with(|deadline| deadline.saturating_duration_since(Instant::now()))
        .ok()
}

/// Whether the current request's deadline has passed.
pub fn expired() -> bool {
    remaining().is_some_and(|left| left.is_zero())
}

/// The `grpc-timeout` header value for `timeout`: whole milliseconds (at most 8 digits, as the
/// gRPC spec allows), rounded up so that a short but non-zero timeout is not sent as 0.
pub fn grpc_timeout(timeout: Duration) -> String {
    let millis = timeout.as_micros().div_ceil(1000).min(99_999_999);
    format!("{millis}m")
}

/// Parses a `grpc-timeout` header value (`<digits><unit>`, unit one of H M S m u n).
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.checked_mul(3600)?),
        "M" => Duration::from_secs(n.checked_mul(60)?),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_deadline_holds_inside_and_the_earlier_one_wins() {
        assert_eq!(remaining(), None);
        let soon = Instant::now() + Duration::from_millis(500);
        within(soon, async {
            let left = remaining().unwrap();
            assert!(left <= Duration::from_millis(500) && left > Duration::from_millis(400));
            within(soon + Duration::from_secs(10), async {
                assert!(
                    remaining().unwrap() <= Duration::from_millis(500),
                    "the earlier wins"
                );
            })
            .await;
            assert!(!expired());
        })
        .await;
        within(Instant::now(), async { assert!(expired()) }).await;
    }

    #[test]
    fn grpc_timeout_headers_round_trip() {
        assert_eq!(grpc_timeout(Duration::from_millis(1500)), "1500m");
        assert_eq!(
            grpc_timeout(Duration::from_micros(1)),
            "1m",
            "never rounded to 0"
        );
        assert_eq!(
            parse_grpc_timeout("1500m"),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_grpc_timeout("2S"), Some(Duration::from_secs(2)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        for bad in ["", "m", "12", "12x", "123456789m", "-1m"] {
            assert_eq!(parse_grpc_timeout(bad), None, "{bad:?}");
        }
    }
}
