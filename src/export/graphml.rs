//! GraphML for a [`GraphView`], for Gephi, yEd, Cytoscape or Neo4j (APOC) import.
//!
//! Owns the GraphML document: declared keys for node attributes (label, kind, aliases,
//! definition, mentions, home note, cluster, centre) and edge attributes (label, rel, confidence,
//! structural, evidence), and XML escaping ([`escape`]). It must not choose what to show.

use std::fmt::Write;

use super::style::{kind_name, rel_style};
use super::view::{GraphView, home_note};

/// Text safe in XML content and in double-quoted attributes: `& < > " '` as entities, line
/// breaks and tabs as character references (so attribute values keep them), and the characters
/// XML 1.0 cannot carry at all (most C0 controls, U+FFFE, U+FFFF) as U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// (id, for, attr.name, attr.type)
const KEYS: &[(&str, &str, &str, &str)] = &[
    ("n_label", "node", "label", "string"),
    ("n_kind", "node", "kind", "string"),
    ("n_aliases", "node", "aliases", "string"),
    ("n_definition", "node", "definition", "string"),
    ("n_definition_at", "node", "definition_at", "string"),
    ("n_mentions", "node", "mentions", "int"),
    ("n_note", "node", "note", "string"),
    ("n_cluster", "node", "cluster", "string"),
    ("n_centre", "node", "centre", "boolean"),
    ("e_label", "edge", "label", "string"),
    ("e_rel", "edge", "rel", "string"),
    ("e_confidence", "edge", "confidence", "double"),
    ("e_structural", "edge", "structural", "boolean"),
    ("e_evidence", "edge", "evidence", "string"),
];

/// Writes the view as a GraphML document (UTF-8). Symmetric relations (`contrasted_with`,
/// `similar_to`, `related_to`) are marked `directed="false"`.
pub fn to_graphml(view: &GraphView<'_>) -> String {
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(
        "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n",
    );
    for (id, for_, name, ty) in KEYS {
        let _ = writeln!(out, "  <key id=\"{id}\" for=\"{for_}\" attr.name=\"{name}\" attr.type=\"{ty}\"/>");
    }
    let _ = writeln!(out, "  <graph id=\"notegraph\" edgedefault=\"directed\">");
    let _ = writeln!(out, "    <desc>{}</desc>", escape(&view.cut.message));
    for (i, n) in view.nodes.iter().enumerate() {
        let c = n.concept;
        let _ = writeln!(out, "    <node id=\"{}\">", escape(&c.id));
        data(&mut out, "n_label", &c.label);
        data(&mut out, "n_kind", &kind_name(c.kind));
        data(&mut out, "n_aliases", &c.aliases.join(" | "));
        if let Some(d) = &c.definition {
            data(&mut out, "n_definition", &d.text);
            data(&mut out, "n_definition_at", &format!("{}:{}", d.path, d.line));
        }
        data(&mut out, "n_mentions", &c.mentions.len().to_string());
        if let Some(p) = home_note(c) {
            data(&mut out, "n_note", p);
        }
        if let Some(g) = n.group {
            data(&mut out, "n_cluster", &view.groups[g].label);
        }
        data(&mut out, "n_centre", if view.is_centre(i) { "true" } else { "false" });
        out.push_str("    </node>\n");
    }
    for (k, e) in view.edges.iter().enumerate() {
        let r = e.relation;
        let undirected = if r.rel.is_symmetric() { " directed=\"false\"" } else { "" };
        let _ = writeln!(
            out,
            "    <edge id=\"e{k}\" source=\"{}\" target=\"{}\"{undirected}>",
            escape(&view.nodes[e.from].concept.id),
            escape(&view.nodes[e.to].concept.id)
        );
        data(&mut out, "e_label", rel_style(r.rel).label);
        data(&mut out, "e_rel", r.rel.as_str());
        data(&mut out, "e_confidence", &format!("{}", r.confidence));
        data(&mut out, "e_structural", if r.structural { "true" } else { "false" });
        let ev: Vec<String> = r.evidence.iter().map(|ev| format!("{}:{} {}", ev.path, ev.line, ev.sentence)).collect();
        data(&mut out, "e_evidence", &ev.join("\n"));
        out.push_str("    </edge>\n");
    }
    out.push_str("  </graph>\n</graphml>\n");
    out
}

fn data(out: &mut String, key: &str, value: &str) {
    let _ = writeln!(out, "      <data key=\"{key}\">{}</data>", escape(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escaping() {
        assert_eq!(escape(r#"<a href="x">&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;");
        assert_eq!(escape("a\nb\u{0}c\u{7}"), "a&#10;b\u{fffd}c\u{fffd}");
        assert_eq!(escape("归一化 🚀 ]]>"), "归一化 🚀 ]]&gt;");
    }
}
