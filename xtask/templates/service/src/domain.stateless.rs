//! The rules of {{name}}: pure functions on plain data, unit-tested below. The example rule (a
//! caller names itself in 1 to 100 characters) is the one to replace with yours.

/// The longest caller name accepted, in characters.
pub const MAX_CALLER_CHARS: usize = 100;

/// What {{name}} says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    pub service: &'static str,
    pub greeting: String,
}

/// Why a request was refused. grpc.rs maps each variant to one gRPC status.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum {{Pascal}}Error {
    #[error("{0}")]
    Invalid(String),
}

/// The answer to `caller`, whose name is trimmed and must be 1 to [`MAX_CALLER_CHARS`] characters.
pub fn info(caller: &str) -> Result<Info, {{Pascal}}Error> {
    let caller = caller.trim();
    if caller.is_empty() || caller.chars().count() > MAX_CALLER_CHARS {
        return Err({{Pascal}}Error::Invalid(format!(
            "caller must be 1 to {MAX_CALLER_CHARS} characters"
        )));
    }
    Ok(Info {
        service: "{{name}}",
        greeting: format!("Hello, {caller}, from {{name}}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caller_is_greeted_by_its_trimmed_name() {
        assert_eq!(info(" orders ").unwrap().greeting, "Hello, orders, from {{name}}");
    }

    #[test]
    fn a_blank_or_overlong_caller_is_refused() {
        assert!(info(" ").is_err());
        assert!(info(&"x".repeat(MAX_CALLER_CHARS + 1)).is_err());
    }
}
