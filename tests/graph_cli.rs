//! End-to-end tests of the concept-graph commands through the real binary (BM25 only, so they
//! need no model).

mod cli_support;

use std::process::Output;

use cli_support::{json, repo, run, stdout as out, write};

fn sample(args: &[&str]) -> Output {
    static INDEX: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(run(&repo().join("corpus"), d.path(), &["index"]).status.code(), Some(0));
        d
    });
    run(&repo().join("corpus"), index.path(), args)
}

#[test]
fn related_llama_shows_uses_rmsnorm_and_swiglu_with_evidence() {
    let o = sample(&["related", "LLaMA"]);
    assert_eq!(o.status.code(), Some(0));
    let text = out(&o);
    assert!(text.contains("—uses→ RMSNorm  大模型复习.md:63"), "{text}");
    assert!(text.contains("—uses→ SwiGLU  大模型复习.md:65"), "{text}");
    let v = json(&sample(&["related", "llama", "--json"]));
    let uses: Vec<&str> = v["neighbours"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["rel"] == "uses" && n["outgoing"] == true)
        .map(|n| n["concept"].as_str().unwrap())
        .collect();
    assert!(uses.contains(&"RMSNorm") && uses.contains(&"SwiGLU"), "{uses:?}");
}

#[test]
fn related_finds_layernorm_by_another_spelling_and_misses_suggest() {
    let v = json(&sample(&["related", "layer norm", "--json"]));
    let aliases: Vec<String> =
        v["concept"]["aliases"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_lowercase()).collect();
    assert!(aliases.contains(&"layernorm".to_string()), "{aliases:?}");
    let miss = sample(&["related", "RMSNorn"]);
    assert_eq!(miss.status.code(), Some(1));
    let err = String::from_utf8_lossy(&miss.stderr);
    assert!(err.contains("did you mean") && err.contains("RMSNorm"), "{err}");
}

#[test]
fn path_bert_gpt_is_a_chain_with_evidence() {
    let v = json(&sample(&["path", "BERT", "GPT", "--json"]));
    assert_eq!(v["found"], true);
    let hops = v["hops"].as_array().unwrap();
    assert!(!hops.is_empty());
    for h in hops {
        assert!(h["evidence"][0]["line"].as_u64().unwrap() > 0, "{h}");
    }
    assert_eq!(sample(&["path", "BERT", "GPT"]).status.code(), Some(0));
}

#[test]
fn prep_rmsnorm_lists_layernorm_as_the_contrast() {
    let v = json(&sample(&["prep", "RMSNorm", "--json"]));
    let items = v["items"].as_array().unwrap();
    let contrast = items
        .iter()
        .find(|i| i["label"].as_str().unwrap().to_lowercase().replace(' ', "") == "layernorm")
        .expect("LayerNorm on the list");
    assert!(contrast["why"].as_str().unwrap().contains("contrast"), "{contrast}");
    assert!(contrast["read"].as_str().unwrap().starts_with("大模型复习.md:"));
}

#[test]
fn graph_json_has_the_documented_schema_and_related_to_edges() {
    let v = json(&sample(&["graph", "--format", "json"]));
    let node = &v["nodes"][0];
    for key in ["id", "label", "aliases", "kind", "mentions", "definition"] {
        assert!(node.get(key).is_some(), "node has {key}: {node}");
    }
    let edges = v["edges"].as_array().unwrap();
    for key in ["from", "to", "rel", "confidence", "evidence"] {
        assert!(edges[0].get(key).is_some(), "edge has {key}");
    }
    assert!(edges.iter().any(|e| e["rel"] == "related_to"));
    assert!(edges.iter().any(|e| e["rel"] == "is_a" && e["from"] == "bert"));
}

#[test]
fn the_graph_follows_note_edits_and_removals() {
    let corpus = tempfile::tempdir().unwrap();
    let index = tempfile::tempdir().unwrap();
    let c = corpus.path();
    write(c, "a.md", "# 模型\n\n## Alpaca\n\nAlpaca 基于 LLaMA 微调。\n");
    write(c, "b.md", "# 其他\n\nBERT、GPT、T5 都很常见。\n");
    assert_eq!(run(c, index.path(), &["index"]).status.code(), Some(0));
    let g = json(&run(c, index.path(), &["graph", "--format", "json"]));
    let typed = |g: &serde_json::Value| -> Vec<(String, String, String)> {
        g["edges"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["rel"] != "related_to")
            .map(|e| (e["from"].to_string(), e["rel"].to_string(), e["to"].to_string()))
            .collect()
    };
    // A note that lists things without relating them yields no typed edge between them.
    let listed = ["\"bert\"", "\"gpt\"", "\"t5\""];
    assert!(
        !typed(&g).iter().any(|(f, _, t)| listed.contains(&f.as_str()) && listed.contains(&t.as_str())),
        "{:?}",
        typed(&g)
    );

    write(c, "b.md", "# 其他\n\nGPT 使用 RMSNorm。\n");
    std::fs::remove_file(c.join("a.md")).unwrap();
    let report = json(&run(c, index.path(), &["index", "--json"]));
    assert_eq!(report["graph"]["notes_extracted"], 1, "only the changed note is extracted again");
    let g = json(&run(c, index.path(), &["graph", "--format", "json"]));
    assert!(
        typed(&g).iter().any(|(f, r, t)| f == "\"gpt\"" && r == "\"uses\"" && t == "\"rmsnorm\""),
        "{:?}",
        typed(&g)
    );
    let evidence_paths: Vec<String> = g["edges"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["evidence"].as_array().unwrap().iter().map(|ev| ev["path"].as_str().unwrap().to_string()))
        .chain(g["nodes"].as_array().unwrap().iter().flat_map(|n| {
            n["mentions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["path"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }))
        .collect();
    assert!(evidence_paths.iter().all(|p| p == "b.md"), "no orphan evidence from the removed note: {evidence_paths:?}");
}

#[test]
fn graph_exports_pick_the_format_from_the_extension_and_report_the_cut() {
    let dir = tempfile::tempdir().unwrap();
    for (file, check) in
        [("map.dot", "digraph"), ("map.mmd", "flowchart"), ("map.graphml", "<graphml"), ("map.json", "\"nodes\"")]
    {
        let path = dir.path().join(file);
        let o = sample(&["graph", "--concept", "LLaMA", "-o", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(check), "{file}: {text}");
        assert!(text.contains("RMSNorm"), "{file} has the neighbourhood");
        assert!(String::from_utf8_lossy(&o.stderr).contains("within 2 hops"), "the view is reported");
    }
    let png = sample(&["graph", "--format", "png"]);
    assert_eq!(png.status.code(), Some(2), "PNG needs -o");
    let miss = sample(&["graph", "--concept", "LLaMAA"]);
    assert_eq!(miss.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&miss.stderr).contains("LLaMa"), "did you mean");
}

#[test]
fn stored_facts_of_another_version_of_a_note_are_extracted_again() {
    // Facts are tied to the content hash of the note they came from: facts left by an update
    // that failed after staging them must not stand in for the note's current text. Simulated by
    // putting back the facts file of the note's previous version.
    let corpus = tempfile::tempdir().unwrap();
    let index = tempfile::tempdir().unwrap();
    let c = corpus.path();
    write(c, "a.md", "# 模型\n\n## Alpaca\n\nAlpaca 是一个模型。\n");
    write(c, "b.md", "# 其他\n\nGPT 使用 RMSNorm。\n");
    assert_eq!(run(c, index.path(), &["index"]).status.code(), Some(0));
    let report = json(&run(c, index.path(), &["index", "--json"]));
    assert_eq!(report["graph"]["notes_extracted"], 0, "nothing changed, nothing extracted");
    let facts_path = index.path().join("facts.bin");
    let old_facts = std::fs::read(&facts_path).unwrap();

    write(c, "a.md", "# 模型\n\n## Alpaca\n\nAlpaca 基于 LLaMA 微调。\n");
    assert_eq!(run(c, index.path(), &["index"]).status.code(), Some(0));
    std::fs::write(&facts_path, &old_facts).unwrap();
    let report = json(&run(c, index.path(), &["index", "--json"]));
    assert_eq!(report["graph"]["notes_extracted"], 1, "only a.md, whose stored facts are stale: {report}");
    let g = json(&run(c, index.path(), &["graph", "--format", "json"]));
    assert!(
        g["edges"].as_array().unwrap().iter().any(|e| e["rel"] == "based_on" || e["rel"] == "uses"),
        "the re-extracted note's edges are back: {g}"
    );
    assert!(!index.path().join("graph.staged").exists() && !index.path().join("facts.staged").exists());

    // A damaged facts file costs an extraction, not the index.
    std::fs::write(&facts_path, &old_facts[..old_facts.len() / 2]).unwrap();
    let report = json(&run(c, index.path(), &["index", "--json"]));
    assert_eq!(report["graph"]["notes_extracted"], 2, "{report}");
}

/// A corpus of one note (`LLaMA 使用 RMSNorm。`) and its index, built.
fn indexed_one_note() -> (tempfile::TempDir, tempfile::TempDir) {
    let corpus = tempfile::tempdir().unwrap();
    let index = tempfile::tempdir().unwrap();
    write(corpus.path(), "a.md", "# 模型\n\nLLaMA 使用 RMSNorm。\n");
    assert_eq!(run(corpus.path(), index.path(), &["index"]).status.code(), Some(0));
    (corpus, index)
}

#[test]
fn an_index_without_the_graph_gets_it_on_the_next_update() {
    // `index --no-graph` (hidden; for measuring what the graph costs) leaves no graph behind, not
    // even a stale one, and the next plain update builds it from scratch.
    let (corpus, index) = indexed_one_note();
    let c = corpus.path();
    assert!(index.path().join("graph.bin").exists());
    let report = json(&run(c, index.path(), &["index", "--json", "--no-graph"]));
    assert_eq!(report["graph"]["concepts"], 0, "{report}");
    assert_eq!(report["graph"]["waited_s"].as_f64(), Some(0.0), "nothing to wait for: {report}");
    assert!(!index.path().join("graph.bin").exists() && !index.path().join("facts.bin").exists());
    let report = json(&run(c, index.path(), &["index", "--json"]));
    assert_eq!(report["graph"]["notes_extracted"], 1, "{report}");
    let g = json(&run(c, index.path(), &["graph", "--format", "json"]));
    assert!(g["edges"].as_array().unwrap().iter().any(|e| e["rel"] == "uses"), "{g}");
}

#[test]
fn an_index_with_json_graph_files_of_an_earlier_version_gets_the_compact_ones() {
    // Earlier versions stored the facts and the graph as JSON (`concepts.json`, `graph.json`): the
    // next update writes `facts.bin` and `graph.bin` and removes the old files, and the commands
    // read the new ones.
    let (corpus, index) = indexed_one_note();
    let c = corpus.path();
    let (bin, legacy) = (index.path().join("graph.bin"), index.path().join("graph.json"));
    let (facts, legacy_facts) = (index.path().join("facts.bin"), index.path().join("concepts.json"));
    std::fs::remove_file(&bin).unwrap();
    std::fs::rename(&facts, &legacy_facts).unwrap();
    std::fs::write(&legacy, br#"{"nodes": [], "edges": []}"#).unwrap();
    let report = json(&run(c, index.path(), &["index", "--json"]));
    assert_eq!(report["graph"]["notes_extracted"], 1, "the facts are extracted anew: {report}");
    assert!(bin.exists() && facts.exists() && !legacy.exists() && !legacy_facts.exists());
    let o = run(c, index.path(), &["related", "LLaMA"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("RMSNorm"));
}

#[test]
fn a_damaged_stored_graph_is_reported_with_its_path_and_the_fix() {
    let (corpus, index) = indexed_one_note();
    let c = corpus.path();
    let bin = index.path().join("graph.bin");
    let bytes = std::fs::read(&bin).unwrap();
    std::fs::write(&bin, &bytes[..bytes.len() / 2]).unwrap();
    let o = run(c, index.path(), &["related", "LLaMA"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("graph.bin") && err.contains("notegraph index"), "{err}");
}
