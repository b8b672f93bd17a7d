//! The concept graph on real notes: the bundled sample note (`corpus/大模型复习.md`) and, when the
//! shared evaluation data sits beside the repository (`../shared`), the 93-note corpus scored
//! against the three dev gold graphs.

use std::path::{Path, PathBuf};

use notegraph::chunk::chunk_note;
use notegraph::concepts::eval::{eval_graph, read_gold};
use notegraph::concepts::{ConceptGraph, NoteFacts, Rel, build_graph, extract_note};
use notegraph::markdown::parse;

fn facts_of(root: &Path) -> Vec<NoteFacts> {
    let scan = notegraph::corpus::scan(root).expect("corpus scan");
    scan.notes
        .iter()
        .map(|n| {
            let parsed = parse(&n.text);
            let chunks = chunk_note(&n.rel_path, &parsed);
            extract_note(&n.rel_path, &parsed, &chunks)
        })
        .collect()
}

fn graph_of(root: &Path) -> ConceptGraph {
    let facts = facts_of(root);
    build_graph(&facts.iter().collect::<Vec<_>>())
}

fn has_edge(g: &ConceptGraph, from: &str, rel: Rel, to: &str) -> bool {
    let (Some(a), Some(b)) = (g.node_index(from), g.node_index(to)) else { return false };
    let (a, b) = (&g.nodes[a].id, &g.nodes[b].id);
    g.edges.iter().any(|e| e.rel == rel && &e.from == a && &e.to == b)
}

#[test]
fn sample_note_gives_the_stated_edges_and_nothing_it_does_not_say() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let g = graph_of(&root);
    let expected = [
        ("BERT", Rel::IsA, "encoder-only"),
        ("GPT", Rel::IsA, "decoder-only"),
        ("T5", Rel::IsA, "encoder-decoder"),
        ("LLaMA", Rel::Uses, "RMSNorm"),
        ("LLaMA", Rel::Uses, "SwiGLU"),
        ("Qwen", Rel::Uses, "RMSNorm"),
        ("RMSNorm", Rel::Replaces, "LayerNorm"),
        ("LoRA", Rel::PartOf, "微调"),
    ];
    let missing: Vec<_> = expected.iter().filter(|(a, r, b)| !has_edge(&g, a, *r, b)).collect();
    let typed: Vec<String> =
        g.edges.iter().filter(|e| e.rel.is_typed()).map(|e| format!("{} {} {}", e.from, e.rel, e.to)).collect();
    assert!(missing.is_empty(), "missing {missing:?}\nproduced:\n{}", typed.join("\n"));
    assert!(!has_edge(&g, "LoRA", Rel::IsA, "PEFT"), "the sample note never says LoRA is a PEFT method");
    // Every edge shows where it comes from.
    for e in &g.edges {
        assert!(!e.evidence.is_empty(), "{e:?}");
        for ev in &e.evidence {
            assert_eq!(&*ev.path, "大模型复习.md");
            assert!(ev.line > 0 && !ev.sentence.is_empty());
        }
    }
    let e = g.edges.iter().find(|e| e.rel == Rel::Replaces).unwrap();
    assert!(e.evidence.iter().any(|ev| ev.sentence.contains("而非")), "{e:?}");
}

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    p.join("eval/graphs").is_dir().then_some(p)
}

#[test]
fn dev_gold_graphs() {
    let Some(shared) = shared() else {
        eprintln!("skipped: ../shared (evaluation data) is not beside the repository");
        return;
    };
    let g = graph_of(&shared.join("corpus/llm_interview_note"));
    let mut failures = Vec::new();
    for name in ["llama-series.json", "layer-normalization.json", "adapter-tuning.json"] {
        let gold = read_gold(&shared.join("eval/graphs").join(name)).expect("gold file");
        let r = eval_graph(&g, &gold);
        eprintln!(
            "{name}: core recall {:.2} ({}/{}), all recall {:.2} ({}/{}), typed precision {:.2} ({}/{} judged, {} produced), \
             typed recall {:.2} ({}/{}), pair recall {:.2}, not-stated produced {}",
            r.core_recall,
            r.core_found,
            r.core_total,
            r.all_recall,
            r.all_found,
            r.all_total,
            r.typed_precision,
            r.typed_correct,
            r.typed_judged,
            r.typed_produced,
            r.typed_recall,
            r.gold_found,
            r.gold_relations,
            r.pair_recall,
            r.not_stated_produced.len()
        );
        if std::env::var_os("NOTEGRAPH_EVAL_VERBOSE").is_some() {
            eprintln!("  missed core: {:?}", r.missed_core);
            for f in &r.false_positives {
                eprintln!("  FP  {} {} {} (line {}: {})", f.from, f.rel, f.to, f.line, f.sentence);
            }
            for m in &r.missed_relations {
                eprintln!("  MISS {} {} {}", m.from, m.rel, m.to);
            }
        }
        for ns in &r.not_stated_produced {
            failures.push(format!("{name}: not-stated relation produced: {} {} {}", ns.from, ns.rel, ns.to));
        }
        if r.core_recall < 0.8 {
            failures.push(format!("{name}: core recall {:.2} < 0.8 (missed {:?})", r.core_recall, r.missed_core));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
