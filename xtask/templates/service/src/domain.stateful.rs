//! The rules of {{name}}: pure functions on plain data, unit-tested below. The example rule (a
//! record has a name of 1 to 100 characters) is the one to replace with yours.

/// One record kept by {{name}}.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct {{Pascal}} {
    pub id: String,
    pub name: String,
    /// RFC 3339 in UTC, e.g. `2026-11-25T15:00:26.933086Z`.
    pub created_at: String,
}

/// The longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// Why a request was refused. grpc.rs maps each variant to one gRPC status.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum {{Pascal}}Error {
    #[error("{0}")]
    Invalid(String),
    #[error("no {{name}} record has id {0:?}")]
    NotFound(String),
}

/// The name to store: trimmed, 1 to [`MAX_NAME_CHARS`] characters.
pub fn validate_name(name: &str) -> Result<String, {{Pascal}}Error> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err({{Pascal}}Error::Invalid(format!(
            "name must be 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(name.to_owned())
}

/// The id to look up: not blank.
pub fn validate_id(id: &str) -> Result<&str, {{Pascal}}Error> {
    let id = id.trim();
    if id.is_empty() {
        return Err({{Pascal}}Error::Invalid("id is required".into()));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_between_1_and_100_characters() {
        assert_eq!(validate_name("  first ").unwrap(), "first");
        assert!(validate_name(" ").is_err());
        assert!(validate_name(&"x".repeat(MAX_NAME_CHARS)).is_ok());
        assert!(validate_name(&"x".repeat(MAX_NAME_CHARS + 1)).is_err());
    }

    #[test]
    fn a_blank_id_is_refused() {
        assert_eq!(validate_id(" a1 "), Ok("a1"));
        assert!(validate_id("  ").is_err());
    }
}
