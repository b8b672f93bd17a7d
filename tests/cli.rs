//! End-to-end tests: the real `notegraph` binary on real files (the bundled corpus and small
//! corpora written into temporary folders).

mod cli_support;

use std::path::Path;

use cli_support::{json, repo, run, stderr, stdout, write};

#[test]
fn sample_corpus_search_finds_the_llama_section_first() {
    let index = tempfile::tempdir().unwrap();
    let o = run(&repo().join("corpus"), index.path(), &["search", "LLaMA 用了什么归一化", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("1 added"), "first search reports what it indexed: {}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["query"], "LLaMA 用了什么归一化");
    assert!(v["took_ms"].is_number());
    let first = &v["results"][0];
    assert_eq!(first["path"], "大模型复习.md");
    assert_eq!(first["heading_path"], serde_json::json!(["LLM 概念", "LlaMA"]));
    assert!(first["text"].as_str().unwrap().contains("RMSNorm"));
    for key in ["rank", "score", "line_start", "line_end", "chunk_id", "snippet"] {
        assert!(!first[key].is_null(), "result has {key}");
    }
    assert_eq!(first["line_start"], 61);
    // A second search reuses the index: nothing reported on stderr.
    let again = run(&repo().join("corpus"), index.path(), &["search", "RMSNorm"]);
    assert_eq!(again.status.code(), Some(0));
    assert!(!stderr(&again).contains("indexed"), "{}", stderr(&again));
}

#[test]
fn human_output_has_path_line_heading_and_plain_markers_when_piped() {
    let index = tempfile::tempdir().unwrap();
    let o = run(&repo().join("corpus"), index.path(), &["search", "RMSNorm", "-k", "2"]);
    let out = stdout(&o);
    assert!(out.contains("大模型复习.md:61"), "{out}");
    assert!(out.contains("LLM 概念 › LlaMA"), "{out}");
    assert!(out.contains("**RMSNorm**"), "plain highlight markers: {out}");
    assert!(!out.contains('\x1b'), "no colour codes in a pipe");
    let colored = run(&repo().join("corpus"), index.path(), &["--color", "always", "search", "RMSNorm"]);
    assert!(stdout(&colored).contains('\x1b'));
}

#[test]
fn nothing_found_exits_1_and_errors_exit_2() {
    let index = tempfile::tempdir().unwrap();
    let o = run(&repo().join("corpus"), index.path(), &["search", "zzqqxx"]);
    assert_eq!(o.status.code(), Some(1));
    let missing = run(Path::new("/no/such/corpus"), index.path(), &["search", "x"]);
    assert_eq!(missing.status.code(), Some(2));
    let err = stderr(&missing);
    assert!(err.contains("/no/such/corpus") && err.contains("--corpus"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one-line error: {err}");
}

#[test]
fn incremental_add_update_delete_and_unchanged() {
    let corpus = tempfile::tempdir().unwrap();
    let index = tempfile::tempdir().unwrap();
    let (c, i) = (corpus.path(), index.path());
    write(c, "a.md", "# Alpha\n\nLoRA 低秩分解\n");
    write(c, "sub/b.md", "# Beta\n\nRMSNorm 替换 LayerNorm\n");
    write(c, "c.md", "# Gamma\n\ntop-p sampling\n");
    let first = json(&run(c, i, &["index", "--json"]));
    assert_eq!(first["added"].as_array().unwrap().len(), 3);
    assert_eq!(first["chunks"], 3);

    let same = json(&run(c, i, &["index", "--json"]));
    assert_eq!((same["unchanged"].as_u64(), same["chunks_written"].as_u64()), (Some(3), Some(0)));

    write(c, "a.md", "# Alpha\n\nLoRA 低秩分解, edited\n\n## More\n\nQLoRA\n");
    std::fs::remove_file(c.join("c.md")).unwrap();
    write(c, "d.md", "# Delta\n\nvLLM PagedAttention\n");
    let r = json(&run(c, i, &["index", "--json"]));
    assert_eq!(r["updated"], serde_json::json!(["a.md"]));
    assert_eq!(r["removed"], serde_json::json!(["c.md"]));
    assert_eq!(r["added"], serde_json::json!(["d.md"]));
    assert_eq!(r["unchanged"], 1);
    assert_eq!(r["chunks"], 4);

    // The removed note is gone from search, the edit is in.
    assert_eq!(run(c, i, &["search", "sampling"]).status.code(), Some(1));
    let v = json(&run(c, i, &["search", "QLoRA", "--json"]));
    assert_eq!(v["results"][0]["heading_path"], serde_json::json!(["Alpha", "More"]));
    assert_eq!(v["results"][0]["line_start"], 7);
}

#[test]
fn bad_notes_are_skipped_with_a_warning_and_the_rest_indexed() {
    let corpus = tempfile::tempdir().unwrap();
    let index = tempfile::tempdir().unwrap();
    let (c, i) = (corpus.path(), index.path());
    write(c, "good.md", "# Good\n\nSwiGLU activation\n");
    std::fs::write(c.join("broken.md"), b"# Broken \xff\xfe\xfd\n").unwrap();
    std::fs::write(c.join("binary.md"), [0u8, 159, 146, 150, 0, 1]).unwrap();
    let o = run(c, i, &["index"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("warning: skipped broken.md") && err.contains("UTF-8"), "{err}");
    assert!(err.contains("warning: skipped binary.md"), "{err}");
    assert_eq!(run(c, i, &["search", "SwiGLU"]).status.code(), Some(0));
}

#[test]
fn a_second_writer_gets_a_one_line_message() {
    let corpus = tempfile::tempdir().unwrap();
    let index = tempfile::tempdir().unwrap();
    write(corpus.path(), "a.md", "# A\n\ntext\n");
    assert_eq!(run(corpus.path(), index.path(), &["index"]).status.code(), Some(0));
    // Hold the index's write lock as another notegraph process would.
    let lock = std::fs::File::create(index.path().join(".lock")).unwrap();
    lock.try_lock().unwrap();
    write(corpus.path(), "b.md", "# B\n\nmore\n");
    let o = run(corpus.path(), index.path(), &["index"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("another notegraph process"), "{err}");
    // A search meanwhile still answers from the index as it is.
    let s = run(corpus.path(), index.path(), &["search", "text"]);
    assert_eq!(s.status.code(), Some(0), "{}", stderr(&s));
    assert!(stderr(&s).contains("being updated by another process"));
    drop(lock);
    assert_eq!(run(corpus.path(), index.path(), &["index"]).status.code(), Some(0));
}

#[test]
fn a_format_version_change_rebuilds_and_says_so() {
    let corpus = tempfile::tempdir().unwrap();
    let index = tempfile::tempdir().unwrap();
    write(corpus.path(), "a.md", "# A\n\nGPT-4\n");
    run(corpus.path(), index.path(), &["index"]);
    let manifest = index.path().join("manifest.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    m["format_version"] = 0.into();
    std::fs::write(&manifest, m.to_string()).unwrap();
    let o = run(corpus.path(), index.path(), &["search", "gpt-4"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("rebuilding the index: index format changed"), "{}", stderr(&o));
}

#[test]
fn site_navigation_pages_are_left_out() {
    let corpus = tempfile::tempdir().unwrap();
    let index = tempfile::tempdir().unwrap();
    let c = corpus.path();
    write(c, "README.md", "# Home\n\n[a](a.md)\n");
    write(c, "_sidebar.md", "* [a](a.md)\n");
    write(c, "a.md", "# A\n\nnote\n");
    let v = json(&run(c, index.path(), &["index", "--json"]));
    assert_eq!(v["added"], serde_json::json!(["a.md"]));
    assert_eq!(v["site_nav_left_out"], serde_json::json!(["README.md", "_sidebar.md"]));
}

#[test]
fn eval_prints_metrics_and_writes_runs() {
    let index = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("q.jsonl");
    std::fs::write(
        &q,
        concat!(
            r#"{"id":"t1","query":"LLaMA 用了什么归一化","lang":"mixed","kind":"factoid","relevant":[{"path":"大模型复习.md","heading":"LlaMA","level":3,"heading_path":["LLM 概念","LlaMA"]}]}"#,
            "\n",
            r#"{"id":"t2","query":"zzqqxx","lang":"en","kind":"keyword","relevant":[{"path":"大模型复习.md","heading":"MoE","level":3,"heading_path":["大模型结构","MoE"]}]}"#,
            "\n"
        ),
    )
    .unwrap();
    let runs = dir.path().join("runs.jsonl");
    let o = run(
        &repo().join("corpus"),
        index.path(),
        &["eval", "--queries", q.to_str().unwrap(), "--json", "--runs-out", runs.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["questions"], 2);
    assert_eq!(v["overall"]["hit1"], 0.5);
    let by_kind = v["by_kind"].as_array().unwrap();
    assert!(by_kind.iter().any(|g| g["name"] == "factoid" && g["ndcg10"] == 1.0));
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&runs).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], "t1");
    assert_eq!(lines[0]["results"][0]["heading_path"], serde_json::json!(["LLM 概念", "LlaMA"]));
    assert!(lines[0]["results"][0]["line_start"].is_number());

    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"id\": 1}\n").unwrap();
    let o = run(&repo().join("corpus"), index.path(), &["eval", "--queries", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad.jsonl: line 1"), "{}", stderr(&o));
}

#[test]
fn a_query_finds_sections_that_use_another_name_of_its_concept() {
    // The graph learns 解码器 = Decoder from the gloss in a.md; b.md says only `Decoder`.
    let corpus = tempfile::tempdir().unwrap();
    let index = tempfile::tempdir().unwrap();
    write(
        corpus.path(),
        "a.md",
        "# 模型结构\n\n## 解码器（Decoder）\n\n解码器（Decoder）逐个生成输出。\n\n## 其他\n\n无关内容。\n",
    );
    write(
        corpus.path(),
        "b.md",
        "# Sequence models\n\n## Inputs\n\nDuring training the Decoder receives the shifted target sequence.\n",
    );
    let paths = |args: &[&str]| -> Vec<String> {
        let v = json(&run(corpus.path(), index.path(), args));
        v["results"].as_array().unwrap().iter().map(|r| r["path"].as_str().unwrap().to_string()).collect()
    };
    let with_graph = paths(&["search", "解码器的输入", "--mode", "bm25", "--json"]);
    assert!(with_graph.contains(&"b.md".to_string()), "{with_graph:?}");
    let without = paths(&["--no-graph-rank", "search", "解码器的输入", "--mode", "bm25", "--json"]);
    assert!(!without.contains(&"b.md".to_string()), "{without:?}");
}
