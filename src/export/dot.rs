//! Graphviz DOT for a [`GraphView`], built as a `graphviz-rust` AST with the `dot-generator`
//! macros and printed by `graphviz-rust`.
//!
//! Owns DOT syntax and the one escaping function, [`escape`], that every id, label and tooltip goes
//! through: neither crate escapes anything (graphviz-rust issues #3 and #37). Text never reaches
//! the macros raw: `attr!`'s arms misread an expression such as `labels[1]` as `ident expr`, and
//! `id!`, `attr!`, `node!` and `subgraph!` turn whatever they are given into a plain id with
//! `format!("{}")` (an `Id` passed to `subgraph!` prints as `esc "…"`, which `dot` rejects). So
//! ids and values are built as `Id::Escaped(escape(text))` and put into the AST's `Node`, `Edge`,
//! `Subgraph` and `Attribute` directly; the macros are used for keywords and structure
//! (`graph!`, `edge!`, `stmt!`, `id!` of attribute names). It must not choose what to draw
//! ([`super::view`]) nor run Graphviz ([`super::render`]).

use graphviz_rust::dot_generator::*;
use graphviz_rust::dot_structures::*;
use graphviz_rust::printer::{DotPrinter, PrinterContext};

use super::style::{FONT_LIST, KindStyle, RankDir, kind_name, kind_style, rel_style, shorten, wrap};
use super::view::GraphView;
use crate::concepts::model::{Kind, Rel};

/// Look options for DOT (and so SVG / PNG).
#[derive(Debug, Clone)]
pub struct DotOptions {
    pub rankdir: RankDir,
    /// Draw a legend of the kinds and relation types present.
    pub legend: bool,
    /// `fontname` for everything: a comma-separated family list with a CJK font in it.
    pub fontname: String,
    /// Wrap node labels at this many columns (a CJK character counts two).
    pub wrap: usize,
}

impl Default for DotOptions {
    fn default() -> Self {
        DotOptions { rankdir: RankDir::default(), legend: true, fontname: FONT_LIST.to_string(), wrap: 18 }
    }
}

/// Any text as a quoted DOT string, safe as an id, a label or a tooltip.
///
/// `"` and `\` are backslash-escaped (so no label can end the string or start a Graphviz escape
/// such as `\N`, `\G`, `\l`); a line break becomes `\n` (Graphviz's centred line break; `\r\n`
/// counts once); `&` becomes `&amp;` because Graphviz reads `&name;` entities in labels; other
/// control characters become spaces. Everything else, `{}` `<>` `;` `--` `[]`, CJK and emoji
/// included, is safe inside the quotes as it is. Being quoted, digits-only and empty strings are
/// ids too. Injective: different texts give different strings.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '&' => out.push_str("&amp;"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text for a `tooltip`, before [`escape`]: a backslash becomes `⧵` (U+29F5). Graphviz expands
/// `\N`, `\G`, `\E`, `\T`, `\H` and `\L` in tooltips even when the backslash itself is escaped
/// (checked with 2.43: `"\\N"` shows the node's name), so LaTeX such as `\Theta` in a sentence
/// would come out mangled; labels do not have this problem and keep real backslashes.
pub fn tooltip_text(text: &str) -> String {
    text.replace('\\', "\u{29f5}")
}

/// An id (node, cluster or attribute value) for any text: [`escape`]d.
fn id(text: &str) -> Id {
    Id::Escaped(escape(text))
}

/// An attribute whose name is a Graphviz keyword and whose value is any text. (Not `attr!(name,
/// value)`: that formats the value as a plain, unescaped id.)
fn at(name: &'static str, value: &str) -> Attribute {
    Attribute(id!(name), id(value))
}

/// The DOT id of a concept (prefixed so that no concept id can collide with legend nodes).
pub fn node_name(concept_id: &str) -> String {
    format!("c:{concept_id}")
}

/// Writes the view as a DOT digraph.
pub fn to_dot(view: &GraphView<'_>, opts: &DotOptions) -> String {
    let font = opts.fontname.as_str();
    let mut stmts: Vec<Stmt> = vec![
        stmt!(GraphAttributes::Graph(vec![
            at("rankdir", opts.rankdir.as_str()),
            at("fontname", font),
            at("fontsize", "16"),
            at("label", &view.title),
            at("labelloc", "t"),
            at("tooltip", &tooltip_text(&view.cut.message)),
            at("charset", "UTF-8"),
            at("newrank", "true"),
            at("nodesep", "0.35"),
            at("ranksep", "0.7"),
            at("pad", "0.3"),
            at("bgcolor", "white"),
        ])),
        stmt!(GraphAttributes::Node(vec![
            at("fontname", font),
            at("fontsize", "13"),
            at("style", "filled"),
            at("margin", "0.12,0.06"),
        ])),
        stmt!(GraphAttributes::Edge(vec![at("fontname", font), at("fontsize", "10"), at("arrowsize", "0.8")])),
    ];

    // The legend first: dot then places it after (below or right of) the map.
    if opts.legend && !view.nodes.is_empty() {
        stmts.push(stmt!(legend(view)));
    }

    // Nodes, in their cluster boxes.
    let node_stmt = |i: usize| -> Stmt {
        let n = &view.nodes[i];
        let c = n.concept;
        let s = kind_style(c.kind);
        let mut attrs = vec![
            at("label", &wrap(&c.label, opts.wrap)),
            at("tooltip", &tooltip_text(&node_tooltip(c))),
            at("shape", s.shape),
            at("style", &node_style(s, view.is_centre(i))),
            at("fillcolor", if view.is_centre(i) { "#fde047" } else { s.fill }),
            at("color", if view.is_centre(i) { "#111827" } else { s.border }),
        ];
        if view.is_centre(i) {
            attrs.extend([at("penwidth", "3"), at("fontsize", "16"), at("peripheries", "2")]);
        }
        stmt!(Node::new(NodeId(id(&node_name(&c.id)), None), attrs))
    };
    for (gi, g) in view.groups.iter().enumerate() {
        let mut inner = vec![stmt!(GraphAttributes::Graph(vec![
            at("label", &wrap(&g.label, 40)),
            at("tooltip", &tooltip_text(&g.key.replace('\n', " › "))),
            at("style", "rounded,filled"),
            at("fillcolor", "#f8fafc"),
            at("color", "#94a3b8"),
            at("fontcolor", "#475569"),
            at("fontsize", "14"),
        ]))];
        inner.extend((0..view.nodes.len()).filter(|&i| view.nodes[i].group == Some(gi)).map(node_stmt));
        stmts.push(stmt!(Subgraph { id: id(&format!("cluster_{gi}")), stmts: inner }));
    }
    stmts.extend((0..view.nodes.len()).filter(|&i| view.nodes[i].group.is_none()).map(node_stmt));

    // Edges.
    for e in &view.edges {
        let r = e.relation;
        let s = rel_style(r.rel);
        let from = node_name(&view.nodes[e.from].concept.id);
        let to = node_name(&view.nodes[e.to].concept.id);
        let tip = tooltip_text(&edge_tooltip(view, e.from, e.to, r));
        // Structural edges (from headings rather than a sentence) are drawn lighter.
        let color = if r.structural { format!("{}99", s.color) } else { s.color.to_string() };
        let mut attrs = vec![
            at("label", s.label),
            at("color", &color),
            at("fontcolor", s.color),
            at("style", s.line),
            at("arrowhead", s.arrowhead),
            at("penwidth", &format!("{:.1}", 0.8 + 1.4 * r.confidence.clamp(0.0, 1.0))),
            at("tooltip", &tip),
            at("labeltooltip", &tip),
        ];
        if !s.directed {
            attrs.push(at("dir", "none"));
        }
        stmts.push(stmt!(edge!(NodeId(id(&from), None) => NodeId(id(&to), None), attrs)));
    }

    let graph = graph!(di id!("notegraph"), stmts);
    let mut ctx = PrinterContext::default();
    let mut out = graph.print(&mut ctx);
    out.push('\n');
    out
}

fn node_style(s: KindStyle, centre: bool) -> String {
    let mut parts = vec!["filled"];
    if s.rounded {
        parts.push("rounded");
    }
    if centre {
        parts.push("bold");
    }
    parts.join(",")
}

/// Node tooltip: label and kind, the definition, where it is defined or discussed.
fn node_tooltip(c: &crate::concepts::model::Concept) -> String {
    let mut t = format!("{} ({})", c.label, kind_name(c.kind));
    let others: Vec<&str> = c.aliases.iter().map(String::as_str).filter(|a| *a != c.label).take(6).collect();
    if !others.is_empty() {
        t.push_str(&format!("\naka {}", others.join(" / ")));
    }
    if let Some(d) = &c.definition {
        t.push_str(&format!("\n{}\n— {}:{}", shorten(&d.text, 240), d.path, d.line));
    } else if let Some(h) = &c.home {
        t.push_str(&format!("\nsection at {}:{}", h.path, h.line));
    } else if let Some(m) = c.mentions.first() {
        t.push_str(&format!("\nfirst mention {}:{}", m.path, m.line));
    }
    if c.mentions.len() > 1 {
        t.push_str(&format!("\n{} mentions", c.mentions.len()));
    }
    t
}

/// Edge tooltip: the relation in words, confidence, then evidence as `path:line sentence`.
fn edge_tooltip(view: &GraphView<'_>, from: usize, to: usize, r: &crate::concepts::model::Relation) -> String {
    let mut t = format!(
        "{} {} {} ({:.2}{})",
        view.nodes[from].concept.label,
        r.rel.as_str(),
        view.nodes[to].concept.label,
        r.confidence,
        if r.structural { ", from headings" } else { "" }
    );
    for ev in r.evidence.iter().take(3) {
        t.push_str(&format!("\n{}:{} {}", ev.path, ev.line, shorten(&ev.sentence, 160)));
    }
    if r.evidence.len() > 3 {
        t.push_str(&format!("\n… {} more", r.evidence.len() - 3));
    }
    t
}

/// Entries per legend row.
const LEGEND_ROW: usize = 3;

/// A boxed legend, in compact rows: one sample node per kind present (chained by invisible
/// edges so they line up), then one chain of sample edges, one per relation type present.
fn legend(view: &GraphView<'_>) -> Subgraph {
    let mut kinds: Vec<Kind> = view.nodes.iter().map(|n| n.concept.kind).collect();
    kinds.sort();
    kinds.dedup();
    let rels: Vec<Rel> = view.rels();
    let mut stmts = vec![stmt!(GraphAttributes::Graph(vec![
        at("label", "legend"),
        at("style", "rounded,dashed"),
        at("color", "#cbd5e1"),
        at("fontcolor", "#64748b"),
        at("fontsize", "12"),
        at("margin", "8"),
    ]))];
    let mut row: Vec<String> = Vec::new();
    for k in &kinds {
        let s = kind_style(*k);
        let name = kind_name(*k);
        let n = format!("legend:kind:{name}");
        stmts.push(stmt!(Node::new(
            NodeId(id(&n), None),
            vec![
                at("label", &name),
                at("shape", s.shape),
                at("style", &node_style(s, false)),
                at("fillcolor", s.fill),
                at("color", s.border),
                at("fontsize", "10"),
                at("tooltip", &format!("concept kind: {name}")),
            ]
        )));
        row.push(n);
    }
    if let Some(c) = view.centre {
        stmts.push(stmt!(Node::new(
            NodeId(id("legend:centre"), None),
            vec![
                at("label", "centre"),
                at("shape", kind_style(view.nodes[c].concept.kind).shape),
                at("style", "filled,bold"),
                at("fillcolor", "#fde047"),
                at("penwidth", "3"),
                at("peripheries", "2"),
                at("fontsize", "10"),
                at("tooltip", "the --concept the map is centred on"),
            ]
        )));
        row.push("legend:centre".into());
    }
    // Rows of a few entries, so that the legend is no wider than a small map.
    for chunk in row.chunks(LEGEND_ROW) {
        for pair in chunk.windows(2) {
            stmts.push(stmt!(
                edge!(NodeId(id(&pair[0]), None) => NodeId(id(&pair[1]), None), vec![at("style", "invis")])
            ));
        }
    }
    for (i, r) in rels.iter().enumerate() {
        let s = rel_style(*r);
        // Each row is a chain of points: edge i runs from point i to point i + 1 of its row.
        let (a, b) =
            (format!("legend:point:{}:{}", i / LEGEND_ROW, i), format!("legend:point:{}:{}", i / LEGEND_ROW, i + 1));
        for p in [&a, &b] {
            stmts.push(stmt!(Node::new(
                NodeId(id(p), None),
                vec![at("label", ""), at("shape", "point"), at("width", "0.05"), at("color", "#94a3b8")]
            )));
        }
        let mut attrs = vec![
            at("label", s.label),
            at("color", s.color),
            at("fontcolor", s.color),
            at("style", s.line),
            at("arrowhead", s.arrowhead),
            at("tooltip", &format!("relation {}", r.as_str())),
        ];
        if !s.directed {
            attrs.push(at("dir", "none"));
        }
        stmts.push(stmt!(edge!(NodeId(id(&a), None) => NodeId(id(&b), None), attrs)));
    }
    Subgraph { id: id("cluster_legend"), stmts }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_cases() {
        assert_eq!(escape(""), "\"\"");
        assert_eq!(escape("12345"), "\"12345\"");
        assert_eq!(escape(r#"say "hi""#), r#""say \"hi\"""#);
        assert_eq!(escape(r"a\b"), r#""a\\b""#);
        assert_eq!(escape(r"\N"), r#""\\N""#);
        assert_eq!(escape("a\nb\r\nc\rd"), r#""a\nb\nc\nd""#);
        assert_eq!(escape("tab\there"), "\"tab here\"");
        assert_eq!(escape("&lt; & co"), "\"&amp;lt; &amp; co\"");
        assert_eq!(escape("{a}; <b> -- c"), "\"{a}; <b> -- c\"");
        assert_eq!(escape("归一化 🚀"), "\"归一化 🚀\"");
        // Injective on the tricky pairs.
        assert_ne!(escape("a\nb"), escape("a\\nb"));
        assert_ne!(escape("\\\""), escape("\""));
    }

    #[test]
    fn attr_values_never_go_through_the_macro_raw() {
        let labels = ["a", "b \"c\""];
        let a = at("label", labels[1]);
        assert_eq!(a, Attribute(Id::Plain("label".into()), Id::Escaped("\"b \\\"c\\\"\"".into())));
        let mut ctx = PrinterContext::default();
        assert_eq!(a.print(&mut ctx), "label=\"b \\\"c\\\"\"");
    }
}
