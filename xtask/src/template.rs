//! The templates under xtask/templates and the one function that fills them in.
//!
//! `{{key}}` is replaced by a value; a line that is only `{{key}}` becomes the value's lines (none
//! when it is empty). Lines between `{{#flag}}` and `{{/flag}}` are kept only when the flag is set,
//! between `{{^flag}}` and `{{/flag}}` only when it is not. Nothing else: no loops, no escaping.

use anyhow::bail;
use std::collections::BTreeMap;

/// The values and flags a template is filled with.
#[derive(Debug, Default, Clone)]
pub struct Vars {
    values: BTreeMap<&'static str, String>,
    flags: BTreeMap<&'static str, bool>,
}

impl Vars {
    pub fn value(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.values.insert(key, value.into());
        self
    }

    pub fn flag(mut self, key: &'static str, on: bool) -> Self {
        self.flags.insert(key, on);
        self
    }
}

/// Fills `template` in; an unknown placeholder or flag, or an unclosed section, is an error.
pub fn render(template: &str, vars: &Vars) -> anyhow::Result<String> {
    let mut out = Vec::new();
    let mut sections: Vec<(&str, bool)> = Vec::new();
    for (number, line) in template.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(inner) = trimmed
            .strip_prefix("{{")
            .and_then(|t| t.strip_suffix("}}"))
        {
            let flag = |name: &str| -> anyhow::Result<bool> {
                match vars.flags.get(name) {
                    Some(on) => Ok(*on),
                    None => bail!("line {}: unknown flag {name:?}", number + 1),
                }
            };
            if let Some(name) = inner.strip_prefix('#') {
                sections.push((name, flag(name)?));
                continue;
            }
            if let Some(name) = inner.strip_prefix('^') {
                sections.push((name, !flag(name)?));
                continue;
            }
            if let Some(name) = inner.strip_prefix('/') {
                match sections.pop() {
                    Some((open, _)) if open == name => continue,
                    _ => bail!("line {}: {{{{/{name}}}}} closes nothing", number + 1),
                }
            }
        }
        if !sections.iter().all(|(_, keep)| *keep) {
            continue;
        }
        let whole = trimmed
            .strip_prefix("{{")
            .and_then(|t| t.strip_suffix("}}"))
            .and_then(|key| vars.values.get(key));
        match whole {
            Some(value) => out.extend(value.lines().map(str::to_owned)),
            None => out.push(fill(line, vars, number + 1)?),
        }
    }
    if let Some((name, _)) = sections.last() {
        bail!("{{{{#{name}}}}} is not closed");
    }
    let mut text = out.join("\n");
    if template.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

fn fill(line: &str, vars: &Vars, number: usize) -> anyhow::Result<String> {
    let mut line = line.to_owned();
    for (key, value) in &vars.values {
        line = line.replace(&format!("{{{{{key}}}}}"), value);
    }
    if let Some(at) = line.find("{{")
        && line[at + 2..].starts_with(|c: char| c.is_ascii_alphabetic())
    {
        bail!("line {number}: unknown placeholder in {:?}", &line[at..]);
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(stateful: bool) -> Vars {
        Vars::default()
            .value("name", "shipping")
            .value("Pascal", "Shipping")
            .value("list", "a\nb")
            .value("nothing", "")
            .flag("stateful", stateful)
    }

    #[test]
    fn placeholders_are_replaced_even_next_to_braces() {
        let out = render(
            "use x::{{{Pascal}}Server};\nname = \"{{name}}\"\n",
            &vars(true),
        )
        .unwrap();
        assert_eq!(out, "use x::{ShippingServer};\nname = \"shipping\"\n");
    }

    #[test]
    fn sections_keep_lines_by_flag() {
        let t = "a\n{{#stateful}}\nb\n{{/stateful}}\n{{^stateful}}\nc\n{{/stateful}}\nd\n";
        assert_eq!(render(t, &vars(true)).unwrap(), "a\nb\nd\n");
        assert_eq!(render(t, &vars(false)).unwrap(), "a\nc\nd\n");
    }

    #[test]
    fn a_line_that_is_only_a_placeholder_takes_its_lines_or_disappears() {
        let out = render("x\n  {{list}}\n{{nothing}}\ny\n", &vars(true)).unwrap();
        assert_eq!(out, "x\na\nb\ny\n");
    }

    #[test]
    fn mistakes_in_a_template_are_errors() {
        assert!(render("{{nmae}}\n", &vars(true)).is_err());
        assert!(render("{{#stateful}}\nx\n", &vars(true)).is_err());
        assert!(render("{{#statefull}}\nx\n{{/statefull}}\n", &vars(true)).is_err());
    }
}
