//! Builds the concept graph of a corpus and prints the build time and the 50 highest-degree
//! concepts (for reports). Run in release:
//!
//! ```sh
//! cargo run --release --example concept_graph -- ../shared/corpus/llm_interview_note [graph.json]
//! ```
//!
//! Times are split into parsing + chunking (done by the indexer anyway), per-note extraction
//! (cached per note in the index) and the global merge (run on every update).

use std::path::PathBuf;
use std::time::Instant;

use notegraph::chunk::chunk_note;
use notegraph::concepts::{NoteFacts, build_graph, extract_note};
use notegraph::markdown::parse;

// The binary's allocator, so that the figures match what the CLI does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(args.next().unwrap_or_else(|| "corpus".into()));
    let out = args.next();
    let scan = notegraph::corpus::scan(&root)?;

    // Warm the shared dictionary once: the indexer has it loaded already.
    let t = Instant::now();
    let warm = parse("# 预热\n\n预热 jieba 词典。\n");
    let _ = extract_note("warm.md", &warm, &chunk_note("warm.md", &warm));
    let dict = t.elapsed();

    let t = Instant::now();
    let prepared: Vec<_> = scan
        .notes
        .iter()
        .map(|n| {
            let p = parse(&n.text);
            let c = chunk_note(&n.rel_path, &p);
            (n.rel_path.clone(), p, c)
        })
        .collect();
    let parse_time = t.elapsed();

    let t = Instant::now();
    let facts: Vec<NoteFacts> = prepared.iter().map(|(path, p, c)| extract_note(path, p, c)).collect();
    let extract_time = t.elapsed();

    // NOTEGRAPH_DEBUG_ALIASES=key1,key2 prints the alias pairs touching those concept keys.
    if let Ok(keys) = std::env::var("NOTEGRAPH_DEBUG_ALIASES") {
        let keys: Vec<String> = keys.split(',').map(notegraph::concepts::text::concept_key).collect();
        for f in &facts {
            for p in &f.alias_pairs {
                let (a, b) = (&f.terms[p.a as usize].key, &f.terms[p.b as usize].key);
                if keys.contains(a) || keys.contains(b) {
                    println!("alias {a} ~ {b}  {}:{}", f.path, p.line);
                }
            }
        }
    }
    let refs: Vec<&NoteFacts> = facts.iter().collect();
    let t = Instant::now();
    let graph = build_graph(&refs);
    let build_time = t.elapsed();
    // The merge again, as an update with every note's facts cached would run it.
    let t = Instant::now();
    let _ = build_graph(&refs);
    let rebuild_time = t.elapsed();

    // What the index stores after a full build: every note's facts and the merged graph, in the
    // stored (postcard) form.
    let t = Instant::now();
    let facts_bytes: usize = facts.iter().map(|f| postcard::to_allocvec(f).map_or(0, |v| v.len())).sum();
    let facts_time = t.elapsed();
    let t = Instant::now();
    let graph_bytes = notegraph::concepts::stored::to_bytes(&graph).len();
    let graph_time = t.elapsed();
    println!(
        "{} notes: dictionary load {:.1} ms (once), parse+chunk {:.1} ms, extraction {:.1} ms, merge {:.1} ms (again: {:.1} ms)",
        scan.notes.len(),
        dict.as_secs_f64() * 1e3,
        parse_time.as_secs_f64() * 1e3,
        extract_time.as_secs_f64() * 1e3,
        build_time.as_secs_f64() * 1e3,
        rebuild_time.as_secs_f64() * 1e3,
    );
    let n_cooc: usize = facts.iter().map(|f| f.cooccurrence.len()).sum();
    let n_terms: usize = facts.iter().map(|f| f.terms.len()).sum();
    let n_mentions: usize = facts.iter().flat_map(|f| &f.terms).map(|t| t.mentions.len()).sum();
    println!("facts: {n_terms} note terms, {n_mentions} mentions, {n_cooc} co-occurrence pairs");
    let typed = graph.edges.iter().filter(|e| e.rel.is_typed()).count();
    println!(
        "{} concepts, {} typed edges, {} related_to edges; stored facts {:.0} KiB ({:.1} ms to serialise), \
         graph {:.0} KiB ({:.1} ms)",
        graph.nodes.len(),
        typed,
        graph.edges.len() - typed,
        facts_bytes as f64 / 1024.0,
        facts_time.as_secs_f64() * 1e3,
        graph_bytes as f64 / 1024.0,
        graph_time.as_secs_f64() * 1e3
    );
    for (label, typed_only) in [("all edges", false), ("typed edges only", true)] {
        let deg = graph.degrees(typed_only);
        let mut order: Vec<usize> = (0..graph.nodes.len()).collect();
        order.sort_by(|&a, &b| deg[b].cmp(&deg[a]).then(graph.nodes[a].label.cmp(&graph.nodes[b].label)));
        println!("\n50 highest-degree concepts ({label}):");
        for (rank, &i) in order.iter().take(50).enumerate() {
            let n = &graph.nodes[i];
            let aliases: Vec<&str> = n.aliases.iter().skip(1).take(4).map(String::as_str).collect();
            println!(
                "{:>2}. {} [{}] degree {} notes {}{}",
                rank + 1,
                n.label,
                serde_json::to_value(n.kind)?.as_str().unwrap_or(""),
                deg[i],
                n.notes,
                if aliases.is_empty() { String::new() } else { format!("  aka {}", aliases.join(" / ")) }
            );
        }
    }
    if let Some(out) = out {
        std::fs::write(&out, serde_json::to_vec_pretty(&graph)?)?;
        println!("\nwrote {out}");
    }
    Ok(())
}
