//! The Korean tutorial stays in step with the English one: the same sections and the same commands
//! (every fenced code block, byte for byte, in the same order), and every relative link of both
//! resolves. Change one, change the other.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The fenced code blocks of a Markdown text, in order.
fn code_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            match current.take() {
                Some(block) => blocks.push(block.join("\n")),
                None => current = Some(Vec::new()),
            }
        } else if let Some(block) = current.as_mut() {
            block.push(line);
        }
    }
    assert!(current.is_none(), "an unclosed code block");
    blocks
}

/// The heading levels, in order (`##` -> 2), outside code blocks.
fn headings(text: &str) -> Vec<usize> {
    let mut in_code = false;
    text.lines()
        .filter(|line| {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
            }
            !in_code && line.starts_with('#')
        })
        .map(|line| line.chars().take_while(|c| *c == '#').count())
        .collect()
}

/// The relative link targets (`](target)`) of a Markdown text, without anchors.
fn relative_links(text: &str) -> Vec<String> {
    text.split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .map(|target| target.split('#').next().unwrap_or("").to_owned())
        .filter(|t| !t.is_empty() && !t.contains("://") && !t.starts_with("mailto:"))
        .collect()
}

fn assert_links_resolve(doc: &str) {
    let dir = root().join(doc);
    let dir = dir.parent().unwrap();
    for link in relative_links(&read(doc)) {
        assert!(
            Path::new(&dir.join(&link)).exists(),
            "{doc}: the link {link} leads nowhere"
        );
    }
}

#[test]
fn the_korean_tutorial_keeps_in_step_with_the_english_one() {
    let english = read("docs/tutorial.md");
    let korean = read("docs/ko/tutorial.md");
    assert_eq!(
        headings(&korean),
        headings(&english),
        "docs/ko/tutorial.md has other sections than docs/tutorial.md"
    );
    let (en, ko) = (code_blocks(&english), code_blocks(&korean));
    assert_eq!(ko.len(), en.len(), "the number of code blocks");
    for (i, (en, ko)) in en.iter().zip(&ko).enumerate() {
        assert_eq!(ko, en, "code block {} differs between the tutorials", i + 1);
    }
    assert!(
        korean.contains("](../tutorial.md)"),
        "the Korean edition links the English one"
    );
    assert_links_resolve("docs/tutorial.md");
    assert_links_resolve("docs/ko/tutorial.md");
}

#[test]
fn the_storefront_docs_and_readme_link_what_exists() {
    for doc in ["README.md", "docs/services/storefront.md"] {
        assert_links_resolve(doc);
    }
}
