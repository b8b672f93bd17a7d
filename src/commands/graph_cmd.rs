//! `concepts`, `related`, `path`, `prep` and `eval-graph`: questions asked of the concept graph,
//! printed for people or as JSON.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use serde_json::json;

use super::search_cmd::Session;
use super::{Context, FOUND, NOT_FOUND, print_json};
use crate::concepts::eval::{GraphEvalReport, eval_graph, read_gold};
use crate::concepts::model::{Concept, ConceptGraph, Evidence, Lookup, Rel};
use crate::concepts::query::{self, Neighbour};
use crate::error::{Error, Result};
use crate::render::Painter;
use crate::retrieve::{Fusion, Mode, SearchOptions};
use crate::vectors::TextEmbedder;

/// The graph of the (up-to-date) index, without loading the embedding model.
fn graph_only(ctx: &Context) -> Result<ConceptGraph> {
    let store = super::ensure_index(ctx, None)?;
    store.load_graph()
}

/// Finds a concept by any alias, or prints "did you mean" and returns `None`.
fn find<'g>(graph: &'g ConceptGraph, name: &str, json_out: bool) -> Result<Option<&'g Concept>> {
    match graph.lookup(name) {
        Lookup::Found(c) => Ok(Some(c)),
        Lookup::NotFound { suggestions } => {
            if json_out {
                print_json(&json!({"query": name, "found": false, "did_you_mean": suggestions}))?;
            } else if suggestions.is_empty() {
                eprintln!("no concept named {name:?} in the notes");
            } else {
                eprintln!("no concept named {name:?}; did you mean: {}?", suggestions.join(", "));
            }
            Ok(None)
        }
    }
}

fn evidence_ref(e: &Evidence) -> String {
    format!("{}:{}", e.path, e.line)
}

/// `A —rel→ B` read from the asked concept's side.
fn arrow(rel: Rel, outgoing: bool) -> String {
    if outgoing || rel.is_symmetric() { format!("—{}→", rel.as_str()) } else { format!("←{}—", rel.as_str()) }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum ConceptSort {
    #[default]
    Mentions,
    Degree,
    Name,
}

pub fn concepts(ctx: &Context, sort: ConceptSort, limit: Option<usize>, json_out: bool) -> Result<u8> {
    let graph = graph_only(ctx)?;
    let degrees = graph.degrees(true);
    let mut order: Vec<usize> = (0..graph.nodes.len()).collect();
    match sort {
        ConceptSort::Mentions => order.sort_by(|&a, &b| {
            graph.nodes[b].mentions.len().cmp(&graph.nodes[a].mentions.len()).then(degrees[b].cmp(&degrees[a]))
        }),
        ConceptSort::Degree => order.sort_by(|&a, &b| {
            degrees[b].cmp(&degrees[a]).then(graph.nodes[b].mentions.len().cmp(&graph.nodes[a].mentions.len()))
        }),
        ConceptSort::Name => {
            order.sort_by(|&a, &b| graph.nodes[a].label.to_lowercase().cmp(&graph.nodes[b].label.to_lowercase()))
        }
    }
    order.truncate(limit.unwrap_or(usize::MAX));
    if json_out {
        let rows: Vec<serde_json::Value> = order
            .iter()
            .map(|&i| {
                let c = &graph.nodes[i];
                json!({"id": c.id, "label": c.label, "aliases": c.aliases, "kind": c.kind,
                       "mentions": c.mentions.len(), "degree": degrees[i],
                       "definition": c.definition.as_ref().map(|d| &d.text)})
            })
            .collect();
        print_json(&json!({"concepts": rows, "total": graph.nodes.len()}))?;
    } else {
        let p = Painter::for_stdout(ctx.color);
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{:<28} {:<12} {:>8} {:>6}  aliases", "concept", "kind", "mentions", "degree");
        for &i in &order {
            let c = &graph.nodes[i];
            let aliases: Vec<&str> = c.aliases.iter().filter(|a| **a != c.label).map(String::as_str).take(4).collect();
            let _ = writeln!(
                out,
                "{:<28} {:<12} {:>8} {:>6}  {}",
                p.heading(&c.label),
                format!("{:?}", c.kind).to_lowercase(),
                c.mentions.len(),
                degrees[i],
                p.dim(&aliases.join(", "))
            );
        }
        let _ = writeln!(out, "{}", p.dim(&format!("{} of {} concepts", order.len(), graph.nodes.len())));
    }
    Ok(if graph.nodes.is_empty() { NOT_FOUND } else { FOUND })
}

/// A typed neighbour `hop` edges away, reached from the concept labelled `from`.
struct Near {
    hop: usize,
    from: String,
    rel: Rel,
    n: Neighbour,
}

/// Typed neighbours of `c` to `depth` hops.
fn neighbourhood(graph: &ConceptGraph, c: &Concept, depth: usize) -> Vec<Near> {
    let mut out = Vec::new();
    let mut seen = vec![c.id.clone()];
    let mut frontier = vec![(c.id.clone(), c.label.clone())];
    for hop in 1..=depth.max(1) {
        let mut next = Vec::new();
        for (id, label) in &frontier {
            for (rel, ns) in query::neighbours(graph, id) {
                if !rel.is_typed() {
                    continue;
                }
                for n in ns {
                    if seen.contains(&n.id) {
                        continue;
                    }
                    seen.push(n.id.clone());
                    next.push((n.id.clone(), n.label.clone()));
                    out.push(Near { hop, from: label.clone(), rel, n });
                }
            }
        }
        frontier = next;
    }
    out
}

pub fn related(ctx: &Context, name: &str, depth: usize, k: usize, json_out: bool) -> Result<u8> {
    let mut session = Session::open(ctx, Mode::Hybrid)?;
    let graph = session.store.load_graph()?;
    let Some(c) = find(&graph, name, json_out)? else { return Ok(NOT_FOUND) };
    let near = neighbourhood(&graph, c, depth);
    let linked: Vec<&str> = near.iter().map(|x| x.n.id.as_str()).collect();

    // Sections: hybrid search on the concept and its definition.
    let mut q = c.label.clone();
    if let Some(d) = &c.definition {
        q.push(' ');
        q.push_str(&d.text);
    }
    let outcome = session.search(&q, SearchOptions { mode: Mode::Hybrid, k, fusion: Fusion::default() })?;

    // Concepts close in meaning but not linked: those named in the related sections, ranked by
    // embedding similarity to the concept when the model is there, else by co-mention count.
    let in_sections: Vec<&Concept> = {
        let ids: std::collections::HashSet<&str> = outcome.hits.iter().map(|h| h.chunk.chunk_id.as_str()).collect();
        let mut v: Vec<&Concept> = graph
            .nodes
            .iter()
            .filter(|o| o.id != c.id && !linked.contains(&o.id.as_str()))
            .filter(|o| o.mentions.iter().any(|m| ids.contains(&*m.chunk_id)))
            .collect();
        v.sort_by_key(|x| std::cmp::Reverse(x.mentions.len()));
        v.truncate(40);
        v
    };
    let close: Vec<(String, f32)> = match session.embedder.as_mut() {
        Some(e) if !in_sections.is_empty() => {
            let text = |x: &Concept| match &x.definition {
                Some(d) => format!("{}: {}", x.label, d.text),
                None => x.label.clone(),
            };
            let texts: Vec<String> = in_sections.iter().map(|x| text(x)).collect();
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let embedded = e.embed_query(&text(c)).and_then(|me| Ok((me, e.embed_passages(&refs, &mut |_| {})?)));
            match embedded {
                Ok((me, vs)) => {
                    let mut scored: Vec<(String, f32)> = in_sections
                        .iter()
                        .zip(vs)
                        .map(|(x, v)| (x.label.clone(), v.iter().zip(&me).map(|(a, b)| a * b).sum::<f32>()))
                        .collect();
                    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
                    scored.truncate(8);
                    scored
                }
                Err(err) => {
                    super::warn_no_dense(&err.to_string());
                    in_sections.iter().take(8).map(|x| (x.label.clone(), x.mentions.len() as f32)).collect()
                }
            }
        }
        _ => in_sections.iter().take(8).map(|x| (x.label.clone(), x.mentions.len() as f32)).collect(),
    };

    if json_out {
        let neighbours: Vec<serde_json::Value> = near
            .iter()
            .map(|Near { hop, from, rel, n }| {
                json!({"hop": hop, "from": from, "rel": rel.as_str(), "outgoing": n.outgoing, "concept": n.label,
                       "id": n.id, "confidence": n.confidence, "structural": n.structural, "evidence": n.evidence})
            })
            .collect();
        print_json(&json!({
            "concept": {"id": c.id, "label": c.label, "aliases": c.aliases, "kind": c.kind, "definition": c.definition},
            "neighbours": neighbours,
            "sections": outcome.hits.iter().map(|h| json!({"path": h.chunk.path, "line": h.chunk.line_start,
                "heading_path": h.chunk.heading_path, "score": h.score})).collect::<Vec<_>>(),
            "close_not_linked": close.iter().map(|(l, s)| json!({"concept": l, "score": s})).collect::<Vec<_>>(),
        }))?;
        return Ok(FOUND);
    }
    let p = Painter::for_stdout(ctx.color);
    let mut out = std::io::stdout().lock();
    let aliases: Vec<&str> = c.aliases.iter().filter(|a| **a != c.label).map(String::as_str).collect();
    let _ =
        writeln!(out, "{}  {}", p.heading(&c.label), p.dim(&format!("[{}]", format!("{:?}", c.kind).to_lowercase())));
    if !aliases.is_empty() {
        let _ = writeln!(out, "  aka {}", aliases.join(", "));
    }
    if let Some(d) = &c.definition {
        let _ = writeln!(out, "  {}  {}", d.text, p.line(&format!("{}:{}", d.path, d.line)));
    }
    if near.is_empty() {
        let _ = writeln!(out, "\n  no typed relations in the notes");
    } else {
        let mut by_rel: BTreeMap<(usize, Rel), Vec<&Near>> = BTreeMap::new();
        for x in &near {
            by_rel.entry((x.hop, x.rel)).or_default().push(x);
        }
        for ((hop, rel), items) in by_rel {
            let _ = writeln!(
                out,
                "\n  {}{}",
                p.rank(rel.as_str()),
                if hop > 1 { p.dim(&format!("  (hop {hop})")) } else { String::new() }
            );
            for Near { from, rel: r, n, .. } in items {
                let who = if hop > 1 { format!("{from} ") } else { String::new() };
                let ev = n.evidence.first();
                let _ = writeln!(
                    out,
                    "    {}{} {}  {}{}",
                    who,
                    arrow(*r, n.outgoing),
                    p.heading(&n.label),
                    ev.map(|e| p.line(&evidence_ref(e))).unwrap_or_default(),
                    if n.structural { p.dim("  (heading structure)") } else { String::new() }
                );
                if let Some(e) = ev {
                    let _ = writeln!(out, "      {}", p.dim(&format!("“{}”", e.sentence.trim())));
                }
            }
        }
    }
    if !outcome.hits.is_empty() {
        let _ = writeln!(out, "\n  {}", p.rank("sections"));
        for h in &outcome.hits {
            let _ = writeln!(
                out,
                "    {}  {}",
                p.line(&format!("{}:{}", h.chunk.path, h.chunk.line_start)),
                h.chunk.heading_path.join(" › ")
            );
        }
    }
    if !close.is_empty() {
        let _ = writeln!(out, "\n  {}", p.rank("close in meaning, not linked"));
        let _ = writeln!(out, "    {}", close.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>().join(", "));
    }
    Ok(FOUND)
}

pub fn path(ctx: &Context, a: &str, b: &str, json_out: bool) -> Result<u8> {
    let graph = graph_only(ctx)?;
    let Some(from) = find(&graph, a, json_out)? else { return Ok(NOT_FOUND) };
    let Some(to) = find(&graph, b, json_out)? else { return Ok(NOT_FOUND) };
    let hops = query::shortest_path(&graph, &from.id, &to.id);
    let label = |id: &str| graph.by_id(id).map_or(id.to_string(), |c| c.label.clone());
    if json_out {
        print_json(&json!({
            "from": from.label, "to": to.label, "found": hops.is_some(),
            "hops": hops.as_ref().map(|hs| hs.iter().map(|h| json!({
                "from": label(&h.from), "rel": h.rel.as_str(), "to": label(&h.to), "reversed": h.reversed,
                "evidence": h.evidence})).collect::<Vec<_>>()),
        }))?;
    } else {
        let p = Painter::for_stdout(ctx.color);
        match &hops {
            None => println!("no chain of typed relations links {} and {} in the notes", from.label, to.label),
            Some(hs) => {
                println!(
                    "{} → {}: {} hop{}",
                    p.heading(&from.label),
                    p.heading(&to.label),
                    hs.len(),
                    if hs.len() == 1 { "" } else { "s" }
                );
                for (i, h) in hs.iter().enumerate() {
                    // A reversed hop is walked against the edge: show the edge as stated.
                    let (x, y) = if h.reversed { (&h.to, &h.from) } else { (&h.from, &h.to) };
                    println!("  {}. {} —{}→ {}", i + 1, label(x), h.rel.as_str(), label(y));
                    if let Some(e) = h.evidence.first() {
                        println!("     {}  {}", p.line(&evidence_ref(e)), p.dim(&format!("“{}”", e.sentence.trim())));
                    }
                }
            }
        }
    }
    Ok(if hops.is_some() { FOUND } else { NOT_FOUND })
}

pub fn prep(ctx: &Context, topic: &str, json_out: bool) -> Result<u8> {
    let mut session = Session::open(ctx, Mode::Hybrid)?;
    let graph = session.store.load_graph()?;
    // A concept by name, or else the concept whose own section best answers the free text.
    let concept: Option<&Concept> = match graph.lookup(topic) {
        Lookup::Found(c) => Some(c),
        Lookup::NotFound { .. } => {
            let outcome =
                session.search(topic, SearchOptions { mode: Mode::Hybrid, k: 5, fusion: Fusion::default() })?;
            outcome.hits.iter().find_map(|h| {
                let own = |c: &&Concept| c.home.as_ref().is_some_and(|m| *m.chunk_id == *h.chunk.chunk_id);
                let named = |c: &&Concept| c.mentions.iter().any(|m| *m.chunk_id == *h.chunk.chunk_id);
                let by_mentions = |c: &&Concept| c.mentions.len();
                graph
                    .nodes
                    .iter()
                    .filter(own)
                    .max_by_key(by_mentions)
                    .or_else(|| graph.nodes.iter().filter(named).max_by_key(by_mentions))
            })
        }
    };
    let Some(c) = concept else {
        if json_out {
            print_json(&json!({"topic": topic, "found": false}))?;
        } else {
            eprintln!("nothing in the notes to build a study list for {topic:?}");
        }
        return Ok(NOT_FOUND);
    };
    let Some(list) = query::prep(&graph, &c.id) else { return Ok(NOT_FOUND) };
    if json_out {
        print_json(&json!({"topic": topic, "concept": c.label, "items": list.items}))?;
        return Ok(FOUND);
    }
    let p = Painter::for_stdout(ctx.color);
    let mut out = std::io::stdout().lock();
    if c.label != topic {
        let _ = writeln!(out, "{}", p.dim(&format!("study list for {} (from {topic:?})", c.label)));
    }
    for (i, item) in list.items.iter().enumerate() {
        let _ = writeln!(
            out,
            "{} {}  {}  {}",
            p.rank(&format!("{:>2}.", i + 1)),
            p.heading(&item.label),
            p.dim(&item.why),
            item.read.as_deref().map(|r| p.line(r)).unwrap_or_default()
        );
        if let Some(d) = &item.definition {
            let _ = writeln!(out, "     {d}");
        }
        if let Some(e) = &item.evidence {
            let _ = writeln!(out, "     {}", p.dim(&format!("“{}” {}", e.sentence.trim(), evidence_ref(e))));
        }
    }
    Ok(FOUND)
}

/// `notegraph graph` options, one field per flag (strings parsed here so errors read well).
#[derive(Debug, Clone, clap::Args)]
pub struct GraphArgs {
    /// Centre the map on this concept (any alias) and show its neighbourhood.
    #[arg(long)]
    pub concept: Option<String>,
    /// Hops around --concept.
    #[arg(long, default_value_t = 2)]
    pub depth: usize,
    /// Only these relation types, comma-separated (is_a,uses,part_of,replaces,contrasted_with,
    /// proposed_by,used_for,…), or `typed`, or `all`.
    #[arg(long)]
    pub rel: Option<String>,
    /// Leave out relations below this confidence (0–1).
    #[arg(long, default_value_t = 0.0)]
    pub min_confidence: f32,
    /// Show at most N concepts (default 80 for pictures).
    #[arg(long, default_value_t = 0)]
    pub max_nodes: usize,
    /// Only relations stated in this note (path, or file name).
    #[arg(long)]
    pub note: Option<String>,
    /// Group concepts: none, note, or section (top-level section of their note).
    #[arg(long, default_value = "none")]
    pub cluster: String,
    /// Add co-occurrence (related_to) edges.
    #[arg(long)]
    pub related: bool,
    /// dot, svg, png, mermaid, json or graphml (default: from -o's extension, else dot).
    #[arg(long)]
    pub format: Option<String>,
    /// Layout direction: LR, TB, RL or BT.
    #[arg(long, default_value = "LR")]
    pub rankdir: String,
    /// Write to this file instead of stdout.
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
}

impl GraphArgs {
    /// True when no flag narrows or shapes the view: `--format json` then gives the whole graph.
    fn unfiltered(&self) -> bool {
        self.concept.is_none() && self.rel.is_none() && self.note.is_none() && self.min_confidence <= 0.0
    }
}

pub fn graph(ctx: &Context, args: &GraphArgs) -> Result<u8> {
    use crate::export::{self, ExportOptions, Format, Sections, ViewOptions, view::parse_rels};
    let usage = |e: &dyn std::fmt::Display| Error::Usage(e.to_string());
    let format = Format::resolve(args.format.as_deref(), args.output.as_deref()).map_err(|e| usage(&e))?;
    if format.is_binary() && args.output.is_none() {
        return Err(Error::Usage(format!(
            "{format} is binary: write it to a file with -o FILE.{}",
            format.extension()
        )));
    }
    let store = super::ensure_index(ctx, None)?;
    let graph = store.load_graph()?;

    // The whole graph as JSON (related_to included, no cap) unless a flag asks for a view.
    let (bytes, cut_message) = if format == Format::Json && args.unfiltered() && !args.related && args.max_nodes == 0 {
        let text = serde_json::to_string_pretty(&graph).map_err(|e| usage(&e))?;
        (text.into_bytes(), None)
    } else {
        let cluster = args.cluster.parse().map_err(|e: export::ViewError| usage(&e))?;
        let sections = if matches!(cluster, export::Cluster::Section) {
            Some(Sections::from_chunks(&store.all_chunks()?))
        } else {
            None
        };
        let view = ViewOptions {
            concept: args.concept.clone(),
            depth: args.depth,
            rels: args.rel.as_deref().map(parse_rels).transpose().map_err(|e| usage(&e))?,
            min_confidence: args.min_confidence,
            max_nodes: if args.max_nodes == 0 { ViewOptions::default().max_nodes } else { args.max_nodes },
            note: args.note.clone(),
            include_related: args.related,
            cluster,
            sections,
        };
        let rankdir = args.rankdir.parse().map_err(|e: String| Error::Usage(e))?;
        let exported = match export::export(&graph, &ExportOptions { view, format, rankdir }) {
            Ok(x) => x,
            Err(export::ExportError::View(e @ export::ViewError::ConceptNotFound { .. })) => {
                eprintln!("{e}");
                return Ok(NOT_FOUND);
            }
            Err(e) => return Err(usage(&e)),
        };
        (exported.bytes, Some(exported.cut.message))
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, &bytes).map_err(|e| Error::io(path, e))?;
            eprintln!("notegraph: wrote {} ({format}, {} bytes)", path.display(), bytes.len());
        }
        None => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(&bytes);
            if !bytes.ends_with(b"\n") {
                let _ = writeln!(out);
            }
        }
    }
    if let Some(m) = cut_message.filter(|m| !m.is_empty()) {
        eprintln!("notegraph: {m}");
    }
    Ok(if graph.nodes.is_empty() { NOT_FOUND } else { FOUND })
}

pub fn eval_graph_cmd(ctx: &Context, gold_files: &[PathBuf], json_out: bool) -> Result<u8> {
    let graph = graph_only(ctx)?;
    let mut reports: Vec<GraphEvalReport> = Vec::new();
    for f in gold_files {
        let gold = read_gold(f).map_err(|e| Error::Input { path: f.clone(), msg: e.to_string() })?;
        reports.push(eval_graph(&graph, &gold));
    }
    if json_out {
        print_json(&serde_json::to_value(&reports).map_err(|e| Error::Usage(e.to_string()))?)?;
        return Ok(FOUND);
    }
    let p = Painter::for_stdout(ctx.color);
    println!(
        "{:<60} {:>11} {:>11} {:>10} {:>10} {:>8} {:>10}",
        "gold (note)", "core recall", "all recall", "typed P", "typed R", "pair R", "not-stated"
    );
    for r in &reports {
        println!(
            "{:<60} {:>11} {:>11} {:>10} {:>10} {:>8.2} {:>10}",
            r.source_path,
            format!("{:.2} {}/{}", r.core_recall, r.core_found, r.core_total),
            format!("{:.2} {}/{}", r.all_recall, r.all_found, r.all_total),
            format!("{:.2} {}/{}", r.typed_precision, r.typed_correct, r.typed_judged),
            format!("{:.2} {}/{}", r.typed_recall, r.gold_found, r.gold_relations),
            r.pair_recall,
            r.not_stated_produced.len(),
        );
        for ns in &r.not_stated_produced {
            println!("  {} {} —{}→ {}  line {}", p.rank("not stated:"), ns.from, ns.rel, ns.to, ns.line);
        }
    }
    Ok(FOUND)
}
