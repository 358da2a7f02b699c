//! The use cases of {{name}}, on domain types. It has no backend yet; when it needs one (a database,
//! another service), put it behind a small trait here, as a service generated with `--stateful`
//! does, so that the use cases stay unit-testable with a fake.

use crate::domain::{self, Info, {{Pascal}}Error};

/// The use cases.
#[derive(Debug, Clone, Default)]
pub struct {{Pascal}}App;

impl {{Pascal}}App {
    pub fn new() -> Self {
        Self
    }

    /// What {{name}} answers to `caller`.
    pub fn info(&self, caller: &str) -> Result<Info, {{Pascal}}Error> {
        domain::info(caller)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_names_the_service_and_greets_the_caller() {
        let info = {{Pascal}}App::new().info("orders").unwrap();
        assert_eq!(info.service, "{{name}}");
        assert!(info.greeting.contains("orders"));
    }
}
