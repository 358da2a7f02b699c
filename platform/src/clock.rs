//! Timestamps as stored and shown: RFC 3339 in UTC with a fixed six-digit fraction, so that they
//! sort as text in the same order as in time (SQL `ORDER BY created_at` on any database).

use time::{OffsetDateTime, macros::format_description};

/// Now, e.g. `2026-11-25T15:00:26.933086Z`.
pub fn now_rfc3339() -> String {
    format(OffsetDateTime::now_utc())
}

fn format(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    utc.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    ))
    .expect("a UTC date always formats")
}

#[cfg(test)]
mod tests {
    use super::format;
    use time::macros::datetime;

    #[test]
    fn timestamps_sort_as_text_in_time_order() {
        let earlier = format(datetime!(2026-11-25 15:00:26.9 UTC));
        let later = format(datetime!(2026-11-25 15:00:26.93 UTC));
        assert_eq!(earlier, "2026-11-25T15:00:26.900000Z");
        assert!(earlier < later);
    }
}
