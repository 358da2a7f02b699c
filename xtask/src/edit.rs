//! Text edits at well-defined places: before an anchor comment, at the end of a YAML block (a list
//! or a mapping found by its path of keys), after the last line of a block that matches, at the end
//! of a multi-document file. The result of every YAML edit is parsed again before it is written
//! (see `new_service::verify`).

use anyhow::{Context, bail};

/// `text` with `snippet` inserted before the one line that contains `anchor`, each of its lines
/// indented like the anchor.
pub fn before_anchor(text: &str, anchor: &str, snippet: &str) -> anyhow::Result<String> {
    let lines: Vec<&str> = text.lines().collect();
    let found: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].trim() == anchor)
        .collect();
    let at = match found[..] {
        [at] => at,
        [] => bail!("no line `{anchor}`"),
        _ => bail!("`{anchor}` is there {} times, expected once", found.len()),
    };
    let pad = " ".repeat(indent(lines[at]));
    Ok(splice(
        &lines,
        at,
        &indented(snippet, &pad),
        text.ends_with('\n'),
    ))
}

/// Whether `text` has a line that is exactly `anchor` (apart from indentation).
pub fn has_anchor(text: &str, anchor: &str) -> bool {
    text.lines().any(|l| l.trim() == anchor)
}

/// `text` with `item` added at the end of the YAML block at `path` (keys from the outside in, e.g.
/// `["services", "orders", "environment"]`), indented like the block's first entry.
pub fn yaml_append(text: &str, path: &[&str], item: &str) -> anyhow::Result<String> {
    yaml_insert_after_last(text, path, |_| false, item)
}

/// `text` with `item` inserted after the last line of the YAML block at `path` for which `after`
/// is true, or at the end of the block when none is.
pub fn yaml_insert_after_last(
    text: &str,
    path: &[&str],
    after: impl Fn(&str) -> bool,
    item: &str,
) -> anyhow::Result<String> {
    let lines: Vec<&str> = text.lines().collect();
    let (key, end) = yaml_block(&lines, path)?;
    let first = (key + 1..=end)
        .find(|&i| !lines[i].trim().is_empty() && !lines[i].trim_start().starts_with('#'))
        .with_context(|| format!("the block `{}` is empty", path.join(".")))?;
    let at = (key + 1..=end)
        .rev()
        .find(|&i| after(lines[i]))
        .unwrap_or(end);
    let pad = " ".repeat(indent(lines[first]));
    Ok(splice(
        &lines,
        at + 1,
        &indented(item, &pad),
        text.ends_with('\n'),
    ))
}

/// Whether the YAML block at `path` exists.
pub fn yaml_has(text: &str, path: &[&str]) -> bool {
    let lines: Vec<&str> = text.lines().collect();
    yaml_block(&lines, path).is_ok()
}

/// `text` with `document` (which starts with `---`) appended as its last document.
pub fn append_document(text: &str, document: &str) -> String {
    let mut out = text.trim_end_matches('\n').to_owned();
    out.push('\n');
    out.push_str(document);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// (index of the key line, index of the block's last line) of the block at `path`: at each step, the
/// least indented line `key:` (or `- key:`) inside the previous block.
fn yaml_block(lines: &[&str], path: &[&str]) -> anyhow::Result<(usize, usize)> {
    let (mut start, mut end) = (0, lines.len().saturating_sub(1));
    let mut found = None;
    for key in path {
        let at = (start..=end)
            .filter(|&i| block_key(lines[i]) == Some(key))
            .min_by_key(|&i| key_indent(lines[i]))
            .with_context(|| format!("no block `{}`", path.join(".")))?;
        let last = block_end(lines, at);
        found = Some((at, last));
        (start, end) = (at + 1, last);
    }
    found.context("an empty path")
}

/// The last line of the block that starts at `key`: the lines indented deeper than its key, and list
/// items at the key's own indentation.
fn block_end(lines: &[&str], key: usize) -> usize {
    let k = key_indent(lines[key]);
    let mut last = key;
    for (i, line) in lines.iter().enumerate().skip(key + 1) {
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            continue;
        }
        if indent(line) == 0 && trimmed.starts_with("---") {
            break;
        }
        if indent(line) > k || (indent(line) == k && trimmed.starts_with("- ")) {
            last = i;
        } else {
            break;
        }
    }
    last
}

/// `env` for `    env:` and `    - from:`; `None` for a line that does not open a block.
fn block_key(line: &str) -> Option<&str> {
    let trimmed = line.trim();
    let trimmed = trimmed.strip_prefix("- ").unwrap_or(trimmed);
    let key = trimmed.strip_suffix(':')?;
    (!key.is_empty() && !key.contains([' ', '#', '"', '\''])).then_some(key)
}

/// Where a key's name starts: `    - from:` -> 6.
fn key_indent(line: &str) -> usize {
    let i = indent(line);
    if line.trim_start().starts_with("- ") {
        i + 2
    } else {
        i
    }
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn indented(snippet: &str, pad: &str) -> Vec<String> {
    snippet
        .lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect()
}

fn splice(lines: &[&str], at: usize, new: &[String], newline_at_end: bool) -> String {
    let mut out: Vec<String> = lines[..at].iter().map(|l| l.to_string()).collect();
    out.extend(new.iter().cloned());
    out.extend(lines[at..].iter().map(|l| l.to_string()));
    let mut text = out.join("\n");
    if newline_at_end {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUSTOMIZATION: &str = "\
resources:
  - a.yaml
  - b.yaml

# Settings.
images:
  - name: shop-a
    newTag: dev
  - name: shop-b
    newTag: dev
";

    #[test]
    fn an_item_goes_at_the_end_of_its_list_and_nowhere_else() {
        let out = yaml_append(KUSTOMIZATION, &["resources"], "- c.yaml").unwrap();
        assert!(
            out.contains("  - b.yaml\n  - c.yaml\n\n# Settings."),
            "{out}"
        );
        let out = yaml_append(KUSTOMIZATION, &["images"], "- name: shop-c\n  newTag: dev").unwrap();
        assert!(
            out.ends_with("  - name: shop-c\n    newTag: dev\n"),
            "{out}"
        );
    }

    #[test]
    fn a_nested_block_is_found_by_its_path() {
        let compose = "\
services:
  orders:
    environment:
      A_URL: http://a:1
      DATABASE_URL: x
    depends_on:
      a: { condition: service_healthy }
  gateway:
    environment:
      ORDERS_URL: http://orders:2
";
        let out = yaml_insert_after_last(
            compose,
            &["services", "orders", "environment"],
            |l| l.contains("_URL: http"),
            "B_URL: http://b:3",
        )
        .unwrap();
        assert!(
            out.contains("      A_URL: http://a:1\n      B_URL: http://b:3\n      DATABASE_URL"),
            "{out}"
        );
        let out = yaml_append(compose, &["services", "orders", "depends_on"], "b: {}").unwrap();
        assert!(
            out.contains("      a: { condition: service_healthy }\n      b: {}\n  gateway:"),
            "{out}"
        );
    }

    #[test]
    fn list_items_under_a_list_item_key_are_found() {
        let policy = "\
spec:
  ingress:
    - from:
        - podSelector: {}
      ports:
        - port: 1
";
        let out = yaml_append(policy, &["ingress", "from"], "- podSelector: { x: y }").unwrap();
        assert!(
            out.contains(
                "        - podSelector: {}\n        - podSelector: { x: y }\n      ports:"
            ),
            "{out}"
        );
    }

    #[test]
    fn a_missing_block_or_anchor_is_an_error_naming_it() {
        let err = yaml_append(KUSTOMIZATION, &["replicas"], "- x").unwrap_err();
        assert!(err.to_string().contains("replicas"), "{err}");
        let err = before_anchor("a\n", "// xtask:new-service entries", "b").unwrap_err();
        assert!(
            err.to_string().contains("xtask:new-service entries"),
            "{err}"
        );
    }

    #[test]
    fn a_snippet_goes_before_its_anchor_indented_like_it() {
        let text = "list = [\n    a,\n    // xtask:here\n]\n";
        let out = before_anchor(text, "// xtask:here", "b,\nc,").unwrap();
        assert_eq!(
            out,
            "list = [\n    a,\n    b,\n    c,\n    // xtask:here\n]\n"
        );
    }

    #[test]
    fn documents_are_appended_after_the_last() {
        assert_eq!(
            append_document("a: 1\n\n", "---\nb: 2\n"),
            "a: 1\n---\nb: 2\n"
        );
    }
}
