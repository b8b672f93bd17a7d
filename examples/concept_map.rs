//! Builds the concept graph of a corpus and writes concept maps with the export API, until the CLI
//! has `notegraph graph`. Run in release:
//!
//! ```sh
//! # docs/llama.png and docs/llama.svg from the sample note
//! cargo run --release --example concept_map -- corpus docs/llama --concept LLaMA --formats png,svg
//! # every format of the whole graph of a corpus, and the export time (median of 9 runs)
//! cargo run --release --example concept_map -- ../shared/corpus/llm_interview_note /tmp/map --bench 9
//! ```
//!
//! Arguments: CORPUS (a folder of notes, or a saved graph `.json`) OUT_STEM, then `--concept X`, `--depth N`, `--rel a,b`, `--min-confidence C`,
//! `--max-nodes N`, `--note PATH`, `--cluster none|note|section`, `--rankdir LR|TB`,
//! `--formats dot,svg,png,mermaid,md,json,graphml` (default: all), `--bench N`. Writes
//! `OUT_STEM.EXT` per format and prints what was cut.

use std::path::PathBuf;
use std::time::{Duration, Instant};

// The binary's allocator, so that the figures match what the CLI does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::{Context, bail};
use notegraph::chunk::chunk_note;
use notegraph::concepts::{NoteFacts, build_graph, extract_note};
use notegraph::export::view::parse_rels;
use notegraph::export::{Format, RankDir, Sections, ViewOptions, select, write_view};
use notegraph::markdown::parse;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(args.next().context("usage: concept_map CORPUS OUT_STEM [flags]")?);
    let stem = PathBuf::from(args.next().context("usage: concept_map CORPUS OUT_STEM [flags]")?);
    let mut opts = ViewOptions::default();
    let mut rankdir = RankDir::default();
    let mut formats: Vec<Format> =
        vec![Format::Dot, Format::Svg, Format::Png, Format::Mermaid, Format::Json, Format::Graphml];
    let mut bench = 0usize;
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--concept" => opts.concept = Some(value()?),
            "--depth" => opts.depth = value()?.parse()?,
            "--rel" => opts.rels = Some(parse_rels(&value()?)?),
            "--min-confidence" => opts.min_confidence = value()?.parse()?,
            "--max-nodes" => opts.max_nodes = value()?.parse()?,
            "--note" => opts.note = Some(value()?),
            "--cluster" => opts.cluster = value()?.parse()?,
            "--rankdir" => rankdir = value()?.parse().map_err(anyhow::Error::msg)?,
            "--formats" => {
                formats = value()?.split(',').map(str::parse).collect::<Result<_, _>>()?;
            }
            "--bench" => bench = value()?.parse()?,
            other => bail!("unknown flag {other}"),
        }
    }

    if root.extension().is_some_and(|e| e == "json") {
        // A saved graph (the concept graph's JSON): no sections, so no --cluster section.
        let graph = notegraph::concepts::ConceptGraph::from_json(&std::fs::read_to_string(&root)?)?;
        let view = select(&graph, &opts)?;
        eprintln!("{}", view.cut.message);
        for f in &formats {
            let out = stem.with_extension(f.extension());
            std::fs::write(&out, write_view(&view, *f, rankdir)?)?;
            eprintln!("wrote {}", out.display());
        }
        return Ok(());
    }
    let scan = notegraph::corpus::scan(&root)?;
    let t = Instant::now();
    let mut chunks_all = Vec::new();
    let facts: Vec<NoteFacts> = scan
        .notes
        .iter()
        .map(|n| {
            let p = parse(&n.text);
            let chunks = chunk_note(&n.rel_path, &p);
            let f = extract_note(&n.rel_path, &p, &chunks);
            chunks_all.extend(chunks);
            f
        })
        .collect();
    let graph = build_graph(&facts.iter().collect::<Vec<_>>());
    let typed = graph.edges.iter().filter(|e| e.rel.is_typed()).count();
    eprintln!(
        "{} notes → {} concepts, {} typed + {} related_to edges in {:.2} s",
        scan.notes.len(),
        graph.nodes.len(),
        typed,
        graph.edges.len() - typed,
        t.elapsed().as_secs_f64()
    );
    opts.sections = Some(Sections::from_chunks(&chunks_all));

    let view = select(&graph, &opts)?;
    eprintln!("{}", view.cut.message);
    if let Some(parent) = stem.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    for f in &formats {
        let t = Instant::now();
        let bytes = write_view(&view, *f, rankdir)?;
        let out = stem.with_extension(f.extension());
        std::fs::write(&out, &bytes).with_context(|| out.display().to_string())?;
        eprintln!("wrote {} ({} bytes) in {:.1} ms", out.display(), bytes.len(), t.elapsed().as_secs_f64() * 1e3);
    }

    if bench > 0 {
        // Selection plus every format written without Graphviz (DOT, Mermaid, JSON, GraphML).
        let text = [Format::Dot, Format::Mermaid, Format::MermaidMarkdown, Format::Json, Format::Graphml];
        let mut times: Vec<Duration> = Vec::with_capacity(bench);
        let mut bytes = 0;
        for _ in 0..bench {
            let t = Instant::now();
            let view = select(&graph, &opts)?;
            bytes = 0;
            for f in text {
                bytes += write_view(&view, f, rankdir)?.len();
            }
            times.push(t.elapsed());
        }
        times.sort();
        eprintln!(
            "export (select + dot, mermaid, md, json, graphml; {} bytes): median {:.2} ms, min {:.2} ms, max {:.2} ms over {bench} runs",
            bytes,
            times[bench / 2].as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3,
            times[bench - 1].as_secs_f64() * 1e3
        );
    }
    Ok(())
}
