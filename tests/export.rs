//! Concept-map export: hostile labels through the real Graphviz `dot`, Mermaid escaping, GraphML
//! through an XML parser, Chinese in PNG, view selection on hand-made graphs, and every format for
//! the sample note and (when `../shared` is beside the repository) the 93-note corpus.
//!
//! Tests that need Graphviz print "skipped: …" and pass when `dot` is not on PATH; .ci/run is meant
//! to install Graphviz and a CJK font so that they run in CI.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use notegraph::chunk::{Chunk, chunk_note};
use notegraph::concepts::{ConceptGraph, NoteFacts, Rel, build_graph, extract_note};
use notegraph::export::dot::{DotOptions, escape, node_name, to_dot, tooltip_text};
use notegraph::export::graphml::to_graphml;
use notegraph::export::json::to_json;
use notegraph::export::mermaid::to_mermaid;
use notegraph::export::render::{INSTALL_HINT, cjk_font_available, dot_available, run_dot};
use notegraph::export::style::{FONT_LIST, wrap};
use notegraph::export::view::parse_rels;
use notegraph::export::{
    Cluster, ExportOptions, Format, GraphView, RankDir, Sections, ViewError, ViewOptions, export, select, write_view,
};
use notegraph::markdown::parse;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Hand-made graphs, built through the model's JSON so that fields it gains later keep defaults.

const NOTE: &str = "notes/a.md";

fn node(id: &str, label: &str, kind: &str) -> Value {
    json!({
        "id": id,
        "label": label,
        "aliases": [label],
        "kind": kind,
        "mentions": [{"chunk_id": format!("chunk-{id}"), "path": NOTE, "line": 3}],
        "definition": {"text": format!("{label} — defined as {label}"), "path": NOTE, "line": 3},
    })
}

fn edge(from: &str, to: &str, rel: &str, confidence: f32) -> Value {
    json!({
        "from": from,
        "to": to,
        "rel": rel,
        "confidence": confidence,
        "evidence": [{"path": NOTE, "line": 7, "sentence": format!("{from} {rel} {to}")}],
    })
}

fn graph(nodes: Vec<Value>, edges: Vec<Value>) -> ConceptGraph {
    ConceptGraph::from_json(&json!({"nodes": nodes, "edges": edges}).to_string()).expect("graph JSON")
}

/// Labels that break naive DOT, Mermaid or XML writers.
const HOSTILE: &[&str] = &[
    r#"say "hi""#,
    r#"""#,
    r"back\slash",
    r"trailing\",
    r"\N \G \L \n \l \\",
    "two\nlines",
    "crlf\r\nline",
    "tab\there",
    "{braces}",
    "<angle> <<html>>",
    "<b>bold</b>",
    "semi;colon",
    "dash -- edge -> arrow",
    "[brackets] a=b, c=d",
    "归一化 层归一化",
    "emoji 🚀🧠",
    "12345",
    "",
    "&amp; &lt; & #35;",
    "'single' `tick`",
    "subgraph",
    "node",
    "|pipe| #quot; %% end",
    "nul\u{0}bell\u{7}",
    "a rather long label that needs wrapping over several lines: scaled dot-product attention 缩放点积注意力",
];

fn hostile_graph() -> ConceptGraph {
    let kinds = [
        "model",
        "method",
        "component",
        "problem",
        "task",
        "dataset",
        "metric",
        "framework",
        "organization",
        "unknown",
    ];
    let mut nodes: Vec<Value> = HOSTILE.iter().enumerate().map(|(i, l)| node(l, l, kinds[i % kinds.len()])).collect();
    nodes.push(node("ok", "ok", "unknown"));
    let rels: Vec<&str> = Rel::TYPED.iter().map(|r| r.as_str()).collect();
    let mut edges: Vec<Value> = Vec::new();
    for (i, l) in HOSTILE.iter().enumerate() {
        let next = HOSTILE.get(i + 1).copied().unwrap_or("ok");
        edges.push(edge(l, next, rels[i % rels.len()], 0.7));
        edges.push(edge(l, "ok", "uses", 0.6));
    }
    graph(nodes, edges)
}

fn dot_or_skip(test: &str) -> bool {
    if dot_available() {
        return true;
    }
    eprintln!("skipped {test}: Graphviz `dot` is not on PATH ({INSTALL_HINT})");
    false
}

/// Text as Graphviz draws it, for comparison: escString line breaks and white space ignored, the
/// control characters the writer turns into spaces dropped.
fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect()
}

/// All `<text>` contents of an SVG, in order, and all tooltips (`xlink:title`).
fn svg_texts(svg: &str) -> (String, Vec<String>) {
    let doc = parse_svg(svg);
    let mut text = String::new();
    let mut tips = Vec::new();
    for n in doc.descendants() {
        if n.has_tag_name("text") {
            text.push_str(n.text().unwrap_or(""));
        }
        for a in n.attributes() {
            if a.name() == "title" {
                tips.push(a.value().to_string());
            }
        }
    }
    (text, tips)
}

/// Parses Graphviz SVG (which has a DOCTYPE) as XML.
fn parse_svg(svg: &str) -> roxmltree::Document<'_> {
    let opts = roxmltree::ParsingOptions { allow_dtd: true, ..roxmltree::ParsingOptions::default() };
    roxmltree::Document::parse_with_options(svg, opts).unwrap_or_else(|e| panic!("SVG is not XML: {e}"))
}

fn all_view(g: &ConceptGraph) -> GraphView<'_> {
    select(g, &ViewOptions { max_nodes: 1000, ..ViewOptions::default() }).expect("view")
}

// ---------------------------------------------------------------------------------------------
// DOT escaping through the real `dot`.

#[test]
fn escape_quotes_everything_and_is_injective() {
    let escaped: HashSet<String> = HOSTILE.iter().map(|l| escape(l)).collect();
    assert_eq!(escaped.len(), HOSTILE.len());
    for l in HOSTILE {
        let e = escape(l);
        assert!(e.starts_with('"') && e.ends_with('"') && e.len() >= 2, "{e}");
        let inner = &e[1..e.len() - 1];
        // No unescaped quote and no raw line break can end the string early.
        let mut backslashes = 0;
        for c in inner.chars() {
            assert!(c != '"' || backslashes % 2 == 1, "unescaped quote in {e}");
            assert!(c != '\n' && c != '\r', "raw line break in {e}");
            backslashes = if c == '\\' { backslashes + 1 } else { 0 };
        }
        assert_eq!(backslashes % 2, 0, "dangling backslash in {e}");
    }
}

#[test]
fn hostile_labels_pass_through_real_dot() {
    if !dot_or_skip("hostile_labels_pass_through_real_dot") {
        return;
    }
    // One small graph per label, so that a failure names it.
    for &label in HOSTILE {
        let g = graph(
            vec![node(label, label, "model"), node("ok", "ok", "unknown")],
            vec![edge(label, "ok", "uses", 0.8), edge("ok", label, "contrasted_with", 0.6)],
        );
        let view = select(&g, &ViewOptions { concept: Some("ok".into()), ..ViewOptions::default() }).unwrap();
        assert_eq!(view.nodes.len(), 2, "{label:?}");
        let dot = to_dot(&view, &DotOptions::default());
        let svg = run_dot(&dot, Format::Svg).unwrap_or_else(|e| panic!("dot -Tsvg failed for {label:?}: {e}\n{dot}"));
        let (text, tips) = svg_texts(&String::from_utf8(svg).unwrap());
        let shown = squash(&wrap(label, DotOptions::default().wrap));
        assert!(squash(&text).contains(&shown), "label {label:?} not drawn as {shown:?}; SVG text: {text}");
        // The node tooltip carries the definition; the edge tooltip the evidence path:line.
        // (Backslashes show as `⧵` in tooltips: see `tooltip_text`.)
        let def = squash(&tooltip_text(&format!("{label} — defined as {label}")));
        assert!(tips.iter().any(|t| squash(t).contains(&def)), "definition of {label:?} not in tooltips {tips:?}");
        assert!(tips.iter().any(|t| t.contains(&format!("{NOTE}:7"))), "evidence path:line not in tooltips {tips:?}");
    }

    // All of them together, as ids, labels, tooltips and evidence, every kind and relation: SVG
    // and PNG, and no two ids merged into one node.
    let g = hostile_graph();
    let view = all_view(&g);
    assert_eq!(view.nodes.len(), HOSTILE.len() + 1);
    for rankdir in [RankDir::LR, RankDir::TB] {
        let dot = to_dot(&view, &DotOptions { rankdir, ..DotOptions::default() });
        let svg = String::from_utf8(run_dot(&dot, Format::Svg).unwrap_or_else(|e| panic!("{e}\n{dot}"))).unwrap();
        let doc = parse_svg(&svg);
        let titles: HashSet<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("g") && n.attribute("class") == Some("node"))
            .filter_map(|n| n.children().find(|c| c.has_tag_name("title")).and_then(|t| t.text()))
            .filter(|t| t.starts_with("c:"))
            .collect();
        assert_eq!(titles.len(), HOSTILE.len() + 1, "{titles:?}");
        let png = run_dot(&dot, Format::Png).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    }
}

#[test]
fn dot_has_styles_legend_centre_and_fonts() {
    let g = graph(
        vec![node("a", "LLaMA", "model"), node("b", "RMSNorm", "method"), node("c", "LayerNorm", "component")],
        vec![edge("a", "b", "uses", 0.9), edge("b", "c", "replaces", 0.8), edge("a", "c", "related_to", 0.5)],
    );
    let view = select(&g, &ViewOptions { concept: Some("llama".into()), ..ViewOptions::default() }).unwrap();
    let dot = to_dot(&view, &DotOptions::default());
    assert!(dot.contains(&format!("fontname={}", escape(FONT_LIST))), "{dot}");
    assert!(FONT_LIST.contains("WenQuanYi Micro Hei") && FONT_LIST.contains("Noto Sans CJK SC"));
    assert!(dot.contains("rankdir=\"LR\""));
    // The centre stands out; the other nodes do not.
    let centre_line = dot.lines().find(|l| l.trim_start().starts_with(&escape(&node_name("a")))).unwrap();
    assert!(centre_line.contains("peripheries=\"2\"") && centre_line.contains("penwidth=\"3\""), "{centre_line}");
    let other = dot.lines().find(|l| l.trim_start().starts_with(&escape(&node_name("b")))).unwrap();
    assert!(!other.contains("peripheries"), "{other}");
    // Shapes by kind, edge looks by relation, a legend, no related_to by default.
    assert!(centre_line.contains("shape=\"box\"") && other.contains("shape=\"ellipse\""));
    assert!(dot.contains("label=\"uses\"") && dot.contains("label=\"replaces\""));
    assert!(dot.contains("\"cluster_legend\""));
    assert!(!dot.contains("related"), "{dot}");
    assert!(to_dot(&view, &DotOptions { rankdir: RankDir::TB, ..DotOptions::default() }).contains("rankdir=\"TB\""));
    if dot_or_skip("dot_has_styles_legend_centre_and_fonts (SVG part)") {
        let svg = String::from_utf8(run_dot(&dot, Format::Svg).unwrap()).unwrap();
        assert!(svg.contains(&format!("font-family=\"{FONT_LIST}\"")), "SVG keeps the font list");
        assert!(svg.contains("xlink:title=\"LLaMA uses RMSNorm (0.90)"), "edge tooltip kept in SVG");
        assert!(svg.contains("notes/a.md:7"), "evidence path:line kept in SVG");
    }
}

// ---------------------------------------------------------------------------------------------
// Chinese in PNG.

#[test]
fn png_draws_chinese_with_a_cjk_font_not_boxes() {
    if !dot_or_skip("png_draws_chinese_with_a_cjk_font_not_boxes") {
        return;
    }
    // A CJK font is installed, and the font list resolves to one.
    assert_eq!(cjk_font_available(), Some(true), "no CJK font: PNG would draw Chinese as boxes; {INSTALL_HINT}");
    let zh = Command::new("fc-list").args([":lang=zh", "family"]).output().unwrap();
    let zh_families = String::from_utf8_lossy(&zh.stdout).to_string();
    let matched = Command::new("fc-match").args(["-f", "%{family}", FONT_LIST]).output().unwrap();
    let matched = String::from_utf8_lossy(&matched.stdout).to_string();
    let first = matched.split(',').next().unwrap_or("").trim().to_string();
    assert!(
        !first.is_empty() && zh_families.contains(&first),
        "the font list resolves to {matched:?}, which has no Chinese (fonts with Chinese: {zh_families})"
    );

    // The same Chinese-only map rendered with the fonts here and with no fonts at all (where every
    // glyph is a box): if the two pictures were the same, ours would be boxes too.
    let g = graph(vec![node("a", "大模型", "model"), node("b", "归一化", "method")], vec![edge("a", "b", "uses", 0.9)]);
    let view = select(&g, &ViewOptions { concept: Some("大模型".into()), ..ViewOptions::default() }).unwrap();
    let dot =
        to_dot(&view, &DotOptions { legend: false, ..DotOptions::default() }).replace("label=\"uses\"", "label=\"\"");
    let dot = dot.replace(&format!("label={}", escape(&view.title)), "label=\"\"");
    let ours = run_dot(&dot, Format::Png).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("fonts.conf");
    std::fs::write(
        &conf,
        format!(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"fonts.dtd\">\n<fontconfig><cachedir>{}</cachedir></fontconfig>\n",
            tmp.path().join("cache").display()
        ),
    )
    .unwrap();
    let mut child = Command::new("dot")
        .args(["-Tpng", "-Gdpi=144"])
        .env("FONTCONFIG_FILE", &conf)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), dot.as_bytes()).unwrap();
    let tofu = child.wait_with_output().unwrap().stdout;
    assert!(tofu.starts_with(b"\x89PNG"), "font-less render failed");
    assert_ne!(ours, tofu, "Chinese rendered the same as with no fonts at all: boxes");
}

// ---------------------------------------------------------------------------------------------
// Mermaid.

/// Undoes the Mermaid escaping (entity codes, `<br>`), as Mermaid does when it draws a label.
fn mermaid_unescape(s: &str) -> String {
    let s = s.replace("<br>", "\n").replace("#quot;", "\"").replace("#lt;", "<").replace("#gt;", ">");
    let mut out = String::new();
    let mut rest = s.as_str();
    while let Some(i) = rest.find('#') {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 1..];
        let end = tail.find(';').expect("entity ends with ;");
        let code: u32 = tail[..end].parse().unwrap_or_else(|_| panic!("bad entity #{}", &tail[..end]));
        out.push(char::from_u32(code).unwrap());
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn mermaid_ids_are_safe_and_labels_escaped() {
    let g = hostile_graph();
    let view = all_view(&g);
    let mm = to_mermaid(&view, RankDir::LR);
    let mut lines = mm.lines();
    assert_eq!(lines.next(), Some("flowchart LR"));
    let node_re = regex::Regex::new(
        r#"^ *n(\d+)(\(|\(\[|\[\[|\{\{|>|\[\(|\[\\|\[/|\[)"([^"]*)"(\)|\]\)|\]\]|\}\}|\]|\)\]|\\\]|/\]|\\\])$"#,
    )
    .unwrap();
    let entity = regex::Regex::new(r"#(quot|lt|gt|\d+);").unwrap();
    let edge_re = regex::Regex::new(r"^ *n\d+ (-->|-\.->|==>|---|-\.-|===)\|[a-z ]+\| n\d+$").unwrap();
    let mut seen_nodes = HashSet::new();
    let mut edges = 0;
    for line in lines {
        if let Some(c) = node_re.captures(line) {
            let i: usize = c[1].parse().unwrap();
            let label = &c[3];
            let bare = entity.replace_all(label, "");
            for bad in ['"', '|', '[', ']', '{', '}', '(', ')', '`', '\\', ';', '%'] {
                assert!(!bare.contains(bad), "{bad:?} left raw in {line}");
            }
            let no_br = label.replace("<br>", "");
            assert!(!no_br.contains('<') && !no_br.contains('>'), "{line}");
            let want = wrap(&view.nodes[i].concept.label, 18).replace('\r', "");
            let got = mermaid_unescape(label);
            let norm = |s: &str| s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>();
            assert_eq!(norm(&got).trim(), norm(&want).trim(), "{line}");
            seen_nodes.insert(i);
        } else if edge_re.is_match(line) {
            edges += 1;
        } else {
            assert!(
                line.starts_with("  linkStyle ")
                    || line.starts_with("  classDef ")
                    || line.starts_with("  class ")
                    || line.starts_with("  style "),
                "unexpected line {line:?}"
            );
        }
    }
    assert_eq!(seen_nodes.len(), view.nodes.len());
    assert_eq!(edges, view.edges.len());

    // Clusters become subgraphs with escaped titles; the centre is styled.
    let g =
        graph(vec![node("a", "A \"x\" [y]", "model"), node("b", "B|C", "unknown")], vec![edge("a", "b", "is_a", 0.9)]);
    let view =
        select(&g, &ViewOptions { concept: Some("b|c".into()), cluster: Cluster::Note, ..ViewOptions::default() });
    let view = view.unwrap();
    let mm = to_mermaid(&view, RankDir::TB);
    assert!(mm.starts_with("flowchart TB\n"));
    assert!(mm.contains("  subgraph g0[\"notes/a.md\"]\n"), "{mm}");
    assert!(mm.contains("\"A #quot;x#quot; #91;y#93;\""), "{mm}");
    assert!(mm.contains("\"B#124;C\""), "{mm}");
    assert!(mm.contains("  end\n"));
    assert!(mm.contains(&format!("  style n{} ", view.centre.unwrap())), "{mm}");
    let md = String::from_utf8(write_view(&view, Format::MermaidMarkdown, RankDir::TB).unwrap()).unwrap();
    assert!(md.contains("```mermaid\nflowchart TB\n") && md.trim_end().ends_with("```"), "{md}");
}

// ---------------------------------------------------------------------------------------------
// GraphML and JSON.

fn check_graphml(xml: &str, view: &GraphView<'_>) {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("GraphML is not XML: {e}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "graphml");
    assert_eq!(root.tag_name().namespace(), Some("http://graphml.graphdrawing.org/xmlns"));
    let keys: HashSet<(&str, &str)> = root
        .children()
        .filter(|n| n.has_tag_name("key"))
        .map(|k| (k.attribute("for").unwrap(), k.attribute("attr.name").unwrap()))
        .collect();
    for want in [("node", "label"), ("node", "kind"), ("edge", "rel"), ("edge", "confidence"), ("edge", "label")] {
        assert!(keys.contains(&want), "missing key {want:?}");
    }
    let key_ids: HashSet<&str> =
        root.children().filter(|n| n.has_tag_name("key")).map(|k| k.attribute("id").unwrap()).collect();
    let g = root.children().find(|n| n.has_tag_name("graph")).unwrap();
    let nodes: Vec<_> = g.children().filter(|n| n.has_tag_name("node")).collect();
    let edges: Vec<_> = g.children().filter(|n| n.has_tag_name("edge")).collect();
    assert_eq!(nodes.len(), view.nodes.len());
    assert_eq!(edges.len(), view.edges.len());
    let ids: HashSet<&str> = nodes.iter().map(|n| n.attribute("id").unwrap()).collect();
    assert_eq!(ids.len(), nodes.len(), "node ids unique");
    for (n, vn) in nodes.iter().zip(&view.nodes) {
        assert_eq!(n.attribute("id"), Some(vn.concept.id.replace(['\u{0}', '\u{7}'], "\u{fffd}").as_str()));
        let label = n.children().find(|d| d.attribute("key") == Some("n_label")).and_then(|d| d.text()).unwrap_or("");
        assert_eq!(label, vn.concept.label.replace(['\u{0}', '\u{7}'], "\u{fffd}"));
        for d in n.children().filter(|d| d.is_element()) {
            assert!(key_ids.contains(d.attribute("key").unwrap()));
        }
    }
    for e in &edges {
        assert!(ids.contains(e.attribute("source").unwrap()) && ids.contains(e.attribute("target").unwrap()));
        let rel = e.children().find(|d| d.attribute("key") == Some("e_rel")).and_then(|d| d.text()).unwrap();
        assert!(Rel::parse(rel).is_some(), "{rel}");
        let conf: f64 = e
            .children()
            .find(|d| d.attribute("key") == Some("e_confidence"))
            .and_then(|d| d.text())
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=1.0).contains(&conf));
    }
}

#[test]
fn graphml_parses_and_keeps_hostile_text() {
    let g = hostile_graph();
    let view = all_view(&g);
    check_graphml(&to_graphml(&view), &view);
}

#[test]
fn json_is_the_graph_schema_filtered() {
    let g = graph(
        vec![node("a", "A", "model"), node("b", "B", "method"), node("c", "C", "unknown")],
        vec![edge("a", "b", "uses", 0.9), edge("b", "c", "related_to", 0.9)],
    );
    let view = select(&g, &ViewOptions::default()).unwrap();
    let v: Value = serde_json::from_str(&to_json(&view)).unwrap();
    assert_eq!(v["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(v["edges"].as_array().unwrap().len(), 1);
    for f in ["id", "label", "aliases", "kind", "mentions", "definition"] {
        assert!(v["nodes"][0].get(f).is_some(), "{f}");
    }
    for f in ["from", "to", "rel", "confidence", "evidence"] {
        assert!(v["edges"][0].get(f).is_some(), "{f}");
    }
    assert_eq!(v["edges"][0]["evidence"][0]["path"], NOTE);
    assert_eq!(v["edges"][0]["evidence"][0]["line"], 7);
    let back = ConceptGraph::from_json(&v.to_string()).unwrap();
    assert_eq!(back.digraph().edge_count(), 1);
}

// ---------------------------------------------------------------------------------------------
// View selection.

/// a - b - c - d (uses), a - e (is_a), a - f (related_to), b - g (uses, weak).
fn chain() -> ConceptGraph {
    graph(
        ["a", "b", "c", "d", "e", "f", "g"].iter().map(|i| node(i, &i.to_uppercase(), "unknown")).collect(),
        vec![
            edge("a", "b", "uses", 0.9),
            edge("b", "c", "uses", 0.9),
            edge("c", "d", "uses", 0.9),
            edge("a", "e", "is_a", 0.8),
            edge("a", "f", "related_to", 0.9),
            edge("b", "g", "uses", 0.3),
        ],
    )
}

fn ids(view: &GraphView<'_>) -> Vec<String> {
    let mut v: Vec<String> = view.nodes.iter().map(|n| n.concept.id.clone()).collect();
    v.sort();
    v
}

fn no_dangling(view: &GraphView<'_>) {
    for e in &view.edges {
        assert!(e.from < view.nodes.len() && e.to < view.nodes.len());
        assert_eq!(view.nodes[e.from].concept.id, e.relation.from);
        assert_eq!(view.nodes[e.to].concept.id, e.relation.to);
    }
}

#[test]
fn depth_rel_filter_confidence_and_related() {
    let g = chain();
    let at = |depth, rels: Option<&str>, min_confidence, include_related| {
        let opts = ViewOptions {
            concept: Some("A".into()),
            depth,
            rels: rels.map(|r| parse_rels(r).unwrap()),
            min_confidence,
            include_related,
            ..ViewOptions::default()
        };
        let v = select(&g, &opts).unwrap();
        no_dangling(&v);
        assert_eq!(v.nodes[v.centre.unwrap()].concept.id, "a");
        ids(&v)
    };
    assert_eq!(at(1, None, 0.0, false), ["a", "b", "e"]);
    assert_eq!(at(2, None, 0.0, false), ["a", "b", "c", "e", "g"]);
    assert_eq!(at(3, None, 0.0, false), ["a", "b", "c", "d", "e", "g"]);
    assert_eq!(at(2, None, 0.5, false), ["a", "b", "c", "e"]);
    assert_eq!(at(2, Some("is_a"), 0.0, false), ["a", "e"]);
    assert_eq!(at(1, None, 0.0, true), ["a", "b", "e", "f"]);
    assert_eq!(at(1, Some("related_to"), 0.0, false), ["a", "f"]);
    assert_eq!(at(0, None, 0.0, false), ["a"]);

    // The whole graph: typed only by default, with the counts.
    let v = select(&g, &ViewOptions::default()).unwrap();
    assert_eq!(ids(&v), ["a", "b", "c", "d", "e", "g"]);
    assert!(!v.cut.is_cut());
    assert_eq!(v.cut.message, "showing all 6 concepts (5 relations; typed relations)");
    assert!(v.centre.is_none());
}

#[test]
fn concept_lookup_by_alias_with_suggestions() {
    let g = graph(
        vec![
            json!({"id": "layernorm", "label": "LayerNorm", "aliases": ["LayerNorm", "layer norm", "层归一化"], "kind": "method",
                   "mentions": [], "definition": null}),
            node("rmsnorm", "RMSNorm", "method"),
        ],
        vec![edge("rmsnorm", "layernorm", "replaces", 0.9)],
    );
    for name in ["层归一化", "Layer-Norm", "layer norm"] {
        let v = select(&g, &ViewOptions { concept: Some(name.into()), ..ViewOptions::default() }).unwrap();
        assert_eq!(v.nodes[v.centre.unwrap()].concept.id, "layernorm", "{name}");
    }
    let e = select(&g, &ViewOptions { concept: Some("RMSNrom".into()), ..ViewOptions::default() }).unwrap_err();
    assert_eq!(e, ViewError::ConceptNotFound { name: "RMSNrom".into(), suggestions: vec!["RMSNorm".into()] });
    assert_eq!(e.to_string(), "no concept \"RMSNrom\" in the graph; did you mean RMSNorm?");

    // A concept with no matching relation is drawn alone, and the message says what to try.
    let v = select(
        &g,
        &ViewOptions { concept: Some("RMSNorm".into()), rels: Some(vec![Rel::IsA]), ..ViewOptions::default() },
    )
    .unwrap();
    assert_eq!(ids(&v), ["rmsnorm"]);
    assert!(v.cut.message.contains("RMSNorm has no is_a"), "{}", v.cut.message);
}

#[test]
fn cap_keeps_the_important_connected_and_reports_the_cut() {
    // A hub with 60 leaves, a second hub with 30 leaves linked to the first, and 20 pairs.
    let mut nodes = vec![node("hub", "Hub", "model"), node("hub2", "Hub2", "model")];
    let mut edges = vec![edge("hub2", "hub", "is_a", 0.9)];
    for i in 0..60 {
        nodes.push(node(&format!("l{i}"), &format!("Leaf {i}"), "unknown"));
        edges.push(edge(&format!("l{i}"), "hub", "part_of", 0.6 + (i as f32) / 1000.0));
    }
    for i in 0..30 {
        nodes.push(node(&format!("m{i}"), &format!("Mid {i}"), "unknown"));
        edges.push(edge("hub2", &format!("m{i}"), "uses", 0.7));
    }
    for i in 0..20 {
        nodes.push(node(&format!("p{i}"), &format!("P {i}"), "unknown"));
        nodes.push(node(&format!("q{i}"), &format!("Q {i}"), "unknown"));
        edges.push(edge(&format!("p{i}"), &format!("q{i}"), "causes", 0.95));
    }
    let g = graph(nodes, edges);
    let v = select(&g, &ViewOptions { max_nodes: 25, ..ViewOptions::default() }).unwrap();
    no_dangling(&v);
    assert_eq!(v.nodes.len(), 25);
    assert!(v.cut.is_cut());
    assert_eq!(v.cut.total_nodes, 2 + 60 + 30 + 40);
    assert!(
        v.cut.message.starts_with("showing 25 of 132 concepts (")
            && v.cut.message.contains("narrow with --concept / --depth"),
        "{}",
        v.cut.message
    );
    let shown = ids(&v);
    assert!(shown.contains(&"hub".to_string()) && shown.contains(&"hub2".to_string()), "{shown:?}");
    // Nothing drawn without a link to the rest.
    for i in 0..v.nodes.len() {
        assert!(v.edges.iter().any(|e| e.from == i || e.to == i), "{} is alone", v.nodes[i].concept.label);
    }

    // Around a concept: nearest first, the cut reported with what to narrow.
    let v =
        select(&g, &ViewOptions { concept: Some("Hub2".into()), depth: 2, max_nodes: 40, ..ViewOptions::default() })
            .unwrap();
    no_dangling(&v);
    assert_eq!(v.nodes.len(), 40);
    let d1 = v.nodes.iter().filter(|n| n.distance == Some(1)).count();
    assert_eq!(d1, 31, "all 31 direct neighbours kept before any at depth 2");
    assert!(v.cut.message.starts_with("showing 40 of 92 concepts within 2 hops of Hub2"), "{}", v.cut.message);
    assert!(v.cut.message.contains("smaller --depth"));
    let dot = to_dot(&v, &DotOptions::default());
    assert!(dot.contains("label=\"Hub2 · 2 hops · typed relations\""), "title");
}

#[test]
fn symmetric_duplicates_merge_and_note_filter() {
    let mut e1 = edge("a", "b", "contrasted_with", 0.6);
    let e2 = edge("b", "a", "contrasted_with", 0.8);
    let mut e3 = edge("a", "c", "uses", 0.9);
    e3["evidence"][0]["path"] = json!("notes/other.md");
    e1["evidence"][0]["line"] = json!(9);
    let mut c = node("c", "C", "unknown");
    c["mentions"][0]["path"] = json!("notes/other.md");
    let g = graph(vec![node("a", "A", "model"), node("b", "B", "model"), c], vec![e1, e2, e3]);
    let v = select(&g, &ViewOptions::default()).unwrap();
    assert_eq!(v.edges.len(), 2);
    let vs = v.edges.iter().find(|e| e.relation.rel == Rel::ContrastedWith).unwrap();
    assert_eq!(vs.relation.confidence, 0.8);

    for note in ["other.md", "notes/other.md", "other"] {
        let v = select(&g, &ViewOptions { note: Some(note.into()), ..ViewOptions::default() }).unwrap();
        assert_eq!(ids(&v), ["a", "c"], "{note}");
        assert!(v.cut.message.contains(&format!("stated in {note}")));
    }
    let e = select(&g, &ViewOptions { note: Some("othr.md".into()), ..ViewOptions::default() }).unwrap_err();
    assert!(
        matches!(&e, ViewError::NoteNotFound { suggestions, .. } if suggestions.contains(&"notes/other.md".to_string())),
        "{e:?}"
    );
}

#[test]
fn clusters_by_note_and_section() {
    let text = "# 大模型\n\n## LLM 概念\n\nLLaMA 使用 RMSNorm。\n\n## 微调\n\nLoRA 是一种微调方法。\n";
    let parsed = parse(text);
    let chunks: Vec<Chunk> = chunk_note("n.md", &parsed);
    let sections = Sections::from_chunks(&chunks);
    let llm = chunks.iter().find(|c| c.text.contains("LLaMA")).unwrap();
    let ft = chunks.iter().find(|c| c.text.contains("LoRA")).unwrap();
    assert_eq!(sections.get(&llm.id), Some("LLM 概念"), "{chunks:?}");
    assert_eq!(sections.get(&ft.id), Some("微调"));

    let mut a = node("a", "LLaMA", "model");
    a["mentions"] = json!([{"chunk_id": llm.id, "path": "n.md", "line": 5}]);
    let mut b = node("b", "RMSNorm", "method");
    b["mentions"] = json!([{"chunk_id": llm.id, "path": "n.md", "line": 5}]);
    let mut c = node("c", "LoRA", "method");
    c["mentions"] = json!([{"chunk_id": ft.id, "path": "n.md", "line": 9}]);
    let mut d = node("d", "QLoRA", "method");
    d["mentions"] = json!([{"chunk_id": "elsewhere", "path": "m.md", "line": 2}]);
    let g = graph(
        vec![a, b, c, d],
        vec![edge("a", "b", "uses", 0.9), edge("b", "c", "uses", 0.9), edge("d", "c", "based_on", 0.9)],
    );

    let by_note = select(&g, &ViewOptions { cluster: Cluster::Note, ..ViewOptions::default() }).unwrap();
    let labels: Vec<&str> = by_note.groups.iter().map(|g| g.label.as_str()).collect();
    assert_eq!(labels.len(), 2);
    assert!(labels.contains(&"n.md") && labels.contains(&"m.md"));

    let by_section =
        select(&g, &ViewOptions { cluster: Cluster::Section, sections: Some(sections), ..ViewOptions::default() })
            .unwrap();
    let mut labels: Vec<&str> = by_section.groups.iter().map(|g| g.label.as_str()).collect();
    labels.sort();
    assert_eq!(labels, ["LLM 概念", "微调"], "one note among the sections: not named");
    let group_of = |id: &str| by_section.nodes.iter().find(|n| n.concept.id == id).unwrap().group;
    assert_eq!(group_of("a"), group_of("b"));
    assert_ne!(group_of("a"), group_of("c"));
    assert_eq!(group_of("d"), None, "no section known for it");
    let dot = to_dot(&by_section, &DotOptions::default());
    assert!(dot.contains("subgraph \"cluster_0\"") && dot.contains("subgraph \"cluster_1\""), "{dot}");

    // Without the sections, clusters fall back to notes and the message says so.
    let fallback = select(&g, &ViewOptions { cluster: Cluster::Section, ..ViewOptions::default() }).unwrap();
    assert_eq!(fallback.groups.len(), 2);
    assert!(fallback.cut.message.contains("clustered by note"));
}

// ---------------------------------------------------------------------------------------------
// Real notes: every format for the sample note and the 93-note corpus.

fn corpus_graph(root: &Path) -> (ConceptGraph, Vec<Chunk>) {
    let scan = notegraph::corpus::scan(root).expect("corpus scan");
    let mut chunks = Vec::new();
    let facts: Vec<NoteFacts> = scan
        .notes
        .iter()
        .map(|n| {
            let p = parse(&n.text);
            let c = chunk_note(&n.rel_path, &p);
            let f = extract_note(&n.rel_path, &p, &c);
            chunks.extend(c);
            f
        })
        .collect();
    (build_graph(&facts.iter().collect::<Vec<_>>()), chunks)
}

/// Writes every format into `dir`, checks each, and returns the time of the export itself
/// (selection and the formats written without Graphviz).
fn every_format(g: &ConceptGraph, chunks: &[Chunk], opts: ViewOptions, dir: &Path, name: &str) -> Duration {
    let opts = ViewOptions { sections: Some(Sections::from_chunks(chunks)), ..opts };
    let t = Instant::now();
    let view = select(g, &opts).unwrap();
    let mut written = Vec::new();
    for f in [Format::Dot, Format::Mermaid, Format::MermaidMarkdown, Format::Json, Format::Graphml] {
        written.push((f, write_view(&view, f, RankDir::LR).unwrap()));
    }
    let took = t.elapsed();
    no_dangling(&view);
    assert!(view.nodes.len() <= opts.max_nodes && !view.edges.is_empty(), "{}", view.cut.message);
    eprintln!("{name}: {} ({:.1} ms)", view.cut.message, took.as_secs_f64() * 1e3);
    for (f, bytes) in &written {
        std::fs::write(dir.join(format!("{name}.{}", f.extension())), bytes).unwrap();
        let text = std::str::from_utf8(bytes).unwrap();
        match f {
            Format::Graphml => check_graphml(text, &view),
            Format::Json => {
                let back = ConceptGraph::from_json(text).unwrap();
                assert_eq!(back.nodes.len(), view.nodes.len());
                assert_eq!(back.digraph().edge_count(), view.edges.len(), "every edge's ends are in the file");
            }
            Format::Mermaid => assert!(text.starts_with("flowchart LR\n")),
            _ => {}
        }
    }
    if dot_available() {
        let dot = std::str::from_utf8(&written[0].1).unwrap();
        for f in [Format::Svg, Format::Png] {
            let out = run_dot(dot, f).unwrap_or_else(|e| panic!("{name}: dot -T{f}: {e}"));
            std::fs::write(dir.join(format!("{name}.{}", f.extension())), &out).unwrap();
            if f == Format::Svg {
                parse_svg(std::str::from_utf8(&out).unwrap());
            } else {
                assert!(out.starts_with(b"\x89PNG"));
            }
        }
    } else {
        eprintln!("skipped SVG and PNG of {name}: Graphviz `dot` is not on PATH");
    }
    took
}

#[test]
fn sample_note_every_format() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let (g, chunks) = corpus_graph(&root);
    let tmp = tempfile::tempdir().unwrap();
    every_format(&g, &chunks, ViewOptions::default(), tmp.path(), "sample");
    every_format(
        &g,
        &chunks,
        ViewOptions { cluster: Cluster::Section, ..ViewOptions::default() },
        tmp.path(),
        "sections",
    );
    let llama = ViewOptions { concept: Some("LLaMA".into()), ..ViewOptions::default() };
    every_format(&g, &chunks, llama.clone(), tmp.path(), "llama");
    let view = select(&g, &llama).unwrap();
    let labels: Vec<&str> = view.nodes.iter().map(|n| n.concept.label.as_str()).collect();
    for want in ["RMSNorm", "SwiGLU"] {
        assert!(labels.contains(&want), "{want} not around LLaMA: {labels:?}");
    }
    // The one-call API, as the CLI uses it.
    let out = export(&g, &ExportOptions { view: llama, format: Format::Json, rankdir: RankDir::LR }).unwrap();
    assert_eq!(out.format, Format::Json);
    assert!(!out.cut.is_cut() && out.cut.message.starts_with("showing all"), "{}", out.cut.message);
}

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/llm_interview_note");
    p.is_dir().then_some(p)
}

#[test]
fn corpus_93_notes_every_format_fast() {
    let Some(root) = shared() else {
        eprintln!("skipped: ../shared (evaluation data) is not beside the repository");
        return;
    };
    let (g, chunks) = corpus_graph(&root);
    let tmp = tempfile::tempdir().unwrap();
    let took = every_format(&g, &chunks, ViewOptions::default(), tmp.path(), "corpus");
    assert!(took < Duration::from_secs(1), "export took {took:?}");
    let v = select(&g, &ViewOptions::default()).unwrap();
    assert!(v.cut.is_cut() && v.nodes.len() == 80, "{}", v.cut.message);
    every_format(
        &g,
        &chunks,
        ViewOptions { concept: Some("LLaMA".into()), cluster: Cluster::Note, ..ViewOptions::default() },
        tmp.path(),
        "corpus-llama",
    );
    every_format(
        &g,
        &chunks,
        ViewOptions { rels: Some(parse_rels("all").unwrap()), cluster: Cluster::Section, ..ViewOptions::default() },
        tmp.path(),
        "corpus-all",
    );
}
