//! Mermaid flowchart for a [`GraphView`], to paste into a GitHub or Obsidian note.
//!
//! Owns Mermaid syntax and its own escaping ([`escape`]): node ids are generated (`n0`, `n1`, …),
//! so no concept text ever reaches an id; labels are always double-quoted with every character
//! Mermaid could read as syntax written as an entity code (`#quot;`, `#lt;`, `#124;`, …). It must not
//! choose what to draw ([`super::view`]).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::style::{RankDir, kind_name, kind_style, rel_style, wrap};
use super::view::GraphView;
use crate::concepts::model::Kind;

/// Text for inside a double-quoted Mermaid label. Quotes, `#` (the entity marker), `&`, `<>`, `|`,
/// brackets of every kind, backquote, backslash, `;` and `%` become entity codes; a line break
/// becomes `<br>`; other control characters become spaces.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' | '&' | '|' | '[' | ']' | '{' | '}' | '(' | ')' | '`' | '\\' | ';' | '%' => {
                let _ = write!(out, "#{};", c as u32);
            }
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("<br>");
            }
            '\n' => out.push_str("<br>"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    if out.trim().is_empty() {
        // Mermaid rejects an empty label.
        out = " ".into();
    }
    out
}

/// The node's shape: opening and closing brackets around the quoted label.
fn shape(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Model => ("(", ")"),
        Kind::Method => ("([", "])"),
        Kind::Component => ("[[", "]]"),
        Kind::Problem => ("{{", "}}"),
        Kind::Task => (">", "]"),
        Kind::Dataset => ("[(", ")]"),
        Kind::Metric => ("[\\", "\\]"),
        Kind::Framework => ("[/", "\\]"),
        Kind::Organization => ("[/", "/]"),
        _ => ("[", "]"),
    }
}

/// The link for an edge, with its label: `-->|uses|`, `-.->|used for|`, `==>|replaces|`, `-.-|vs|`.
fn link(line: &str, directed: bool, label: &str) -> String {
    let arrow = match (line, directed) {
        ("bold", true) => "==>",
        ("bold", false) => "===",
        ("dashed" | "dotted", true) => "-.->",
        ("dashed" | "dotted", false) => "-.-",
        (_, true) => "-->",
        (_, false) => "---",
    };
    format!("{arrow}|{}|", escape(label))
}

/// Writes the view as a Mermaid flowchart (no code fence).
pub fn to_mermaid(view: &GraphView<'_>, rankdir: RankDir) -> String {
    let mut out = String::new();
    let dir = match rankdir {
        RankDir::TB => "TB",
        RankDir::BT => "BT",
        RankDir::LR => "LR",
        RankDir::RL => "RL",
    };
    let _ = writeln!(out, "flowchart {dir}");
    let node_line = |i: usize| -> String {
        let c = view.nodes[i].concept;
        let (open, close) = shape(c.kind);
        format!("n{i}{open}\"{}\"{close}", escape(&wrap(&c.label, 18)))
    };
    for (gi, g) in view.groups.iter().enumerate() {
        let _ = writeln!(out, "  subgraph g{gi}[\"{}\"]", escape(&g.label));
        for i in (0..view.nodes.len()).filter(|&i| view.nodes[i].group == Some(gi)) {
            let _ = writeln!(out, "    {}", node_line(i));
        }
        let _ = writeln!(out, "  end");
    }
    for i in (0..view.nodes.len()).filter(|&i| view.nodes[i].group.is_none()) {
        let _ = writeln!(out, "  {}", node_line(i));
    }
    // Edges, then one linkStyle per colour.
    let mut by_colour: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (k, e) in view.edges.iter().enumerate() {
        let s = rel_style(e.relation.rel);
        let _ = writeln!(out, "  n{} {} n{}", e.from, link(s.line, s.directed, s.label), e.to);
        by_colour.entry(s.color).or_default().push(k);
    }
    for (colour, links) in &by_colour {
        let ids: Vec<String> = links.iter().map(usize::to_string).collect();
        let _ = writeln!(out, "  linkStyle {} stroke:{colour},color:{colour}", ids.join(","));
    }
    // Node colours by kind.
    let mut by_kind: BTreeMap<Kind, Vec<usize>> = BTreeMap::new();
    for (i, n) in view.nodes.iter().enumerate() {
        by_kind.entry(n.concept.kind).or_default().push(i);
    }
    for (kind, nodes) in &by_kind {
        let s = kind_style(*kind);
        let name = kind_name(*kind);
        let _ = writeln!(out, "  classDef k_{name} fill:{},stroke:{},color:#111827", s.fill, s.border);
        let ids: Vec<String> = nodes.iter().map(|i| format!("n{i}")).collect();
        let _ = writeln!(out, "  class {} k_{name}", ids.join(","));
    }
    if let Some(c) = view.centre {
        let _ = writeln!(out, "  style n{c} fill:#fde047,stroke:#000000,stroke-width:4px");
    }
    out
}

/// The flowchart in a ```` ```mermaid ```` fence: a Markdown note of its own.
pub fn to_markdown(view: &GraphView<'_>, rankdir: RankDir) -> String {
    format!("<!-- {} -->\n\n```mermaid\n{}```\n", view.cut.message.replace("--", "—"), to_mermaid(view, rankdir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape(r#"a "b""#), "a #quot;b#quot;");
        assert_eq!(escape("x|y"), "x#124;y");
        assert_eq!(escape("[a](b){c}"), "#91;a#93;#40;b#41;#123;c#125;");
        assert_eq!(escape("<br> & #1;"), "#lt;br#gt; #38; #35;1#59;");
        assert_eq!(escape("line\nnext"), "line<br>next");
        assert_eq!(escape(""), " ");
        assert_eq!(escape("归一化 🚀"), "归一化 🚀");
        assert_eq!(escape("end"), "end");
    }
}
