//! End-to-end tests of dense and hybrid retrieval through the real binary, with the real model
//! (fetched once into the shared test cache, see `model_support`).

mod model_support;

mod cli_support;

use std::path::Path;
use std::process::Output;

use cli_support::{command, json, repo, stderr, write};

/// Runs notegraph with the test model cache (populated in-process first, so concurrent child
/// processes never race to fetch it).
fn run(corpus: &Path, index: &Path, args: &[&str]) -> Output {
    let _ = model_support::resolved();
    command(corpus, index, args)
        .env("NOTEGRAPH_CACHE_DIR", model_support::test_cache_dir())
        .env_remove("NOTEGRAPH_NO_DENSE")
        .env_remove("NOTEGRAPH_ORT_DYLIB")
        .env_remove("ORT_DYLIB_PATH")
        .output()
        .expect("run notegraph")
}

#[test]
fn ask_puts_the_decoder_only_section_first_and_a_second_run_reuses_the_index() {
    let index = tempfile::tempdir().unwrap();
    let corpus = repo().join("corpus");
    let q = "为什么现在的大模型大多是 decoder-only";
    let o = run(&corpus, index.path(), &["ask", q, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("24 embedded"), "vectors computed at index time: {}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["mode"], "hybrid");
    let first = &v["results"][0];
    assert_eq!(first["heading_path"], serde_json::json!(["LLM 概念", "为什么大部分都是decoder only结构"]));
    assert!(first["sources"]["dense"]["rank"].is_number() && first["sources"]["bm25"]["rank"].is_number());
    let sentences = first["sentences"].as_array().expect("closest sentences");
    assert!(!sentences.is_empty() && sentences.len() <= 2);

    let again = run(&corpus, index.path(), &["ask", q]);
    assert_eq!(again.status.code(), Some(0));
    let err = stderr(&again);
    assert!(!err.contains("indexed") && !err.contains("embedded") && !err.contains("Download"), "{err}");
    let out = String::from_utf8_lossy(&again.stdout);
    assert!(out.starts_with("大模型复习.md\n"), "grouped by note: {out}");
    assert!(out.contains("大模型复习.md:23"), "{out}");
}

#[test]
fn editing_one_note_embeds_only_its_changed_chunks() {
    let corpus = tempfile::tempdir().unwrap();
    let index = tempfile::tempdir().unwrap();
    let c = corpus.path();
    write(c, "a.md", "# LoRA\n\n低秩分解来模拟参数的改变量。\n\n## QLoRA\n\n4-bit 量化。\n");
    write(c, "b.md", "# RMSNorm\n\nRMSNorm 去掉了减均值。\n");
    write(c, "c.md", "# top-p\n\nnucleus sampling keeps the smallest set above p.\n");
    let first = json(&run(c, index.path(), &["index", "--json"]));
    assert_eq!((first["chunks"].as_u64(), first["embedded"].as_u64()), (Some(4), Some(4)));

    write(c, "a.md", "# LoRA\n\n低秩分解来模拟参数的改变量。\n\n## QLoRA\n\n4-bit NF4 量化。\n");
    let second = json(&run(c, index.path(), &["index", "--json"]));
    assert_eq!(second["updated"], serde_json::json!(["a.md"]));
    assert_eq!(second["embedded"], 1, "only the edited section of the edited note is embedded again");
    assert_eq!(second["vectors_missing"], 0);

    let third = json(&run(c, index.path(), &["index", "--json"]));
    assert_eq!(third["embedded"], 0);
}

#[test]
fn a_chinese_question_finds_an_english_note_through_the_dense_side() {
    let corpus = tempfile::tempdir().unwrap();
    let index = tempfile::tempdir().unwrap();
    let c = corpus.path();
    write(
        c,
        "sampling.md",
        "# Sampling\n\nNucleus sampling keeps the smallest set of tokens whose probability mass exceeds p, then samples from it.\n",
    );
    std::fs::write(
        c.join("cooking.md"),
        "# Dumplings\n\nFold the dough around the filling and boil for eight minutes.\n",
    )
    .unwrap();
    let v = json(&run(c, index.path(), &["search", "核采样是怎么选词的", "--mode", "dense", "--json"]));
    assert_eq!(v["results"][0]["path"], "sampling.md");
}

#[test]
fn without_a_model_search_falls_back_to_bm25_with_a_one_line_warning() {
    let index = tempfile::tempdir().unwrap();
    let o = command(&repo().join("corpus"), index.path(), &["search", "RMSNorm", "--json"])
        .env("NOTEGRAPH_MODEL_DIR", "/no/such/model")
        .env_remove("NOTEGRAPH_NO_DENSE")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("dense retrieval unavailable")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(warnings[0].contains("/no/such/model"), "{err}");
    assert_eq!(json(&o)["mode"], "bm25");
}
