//! Pipeline benchmark: prints figures, asserts nothing.
//!
//! `cargo bench --bench pipeline` (needs `../shared/corpus/llm_interview_note` and
//! `../shared/eval/corpus_dev.jsonl` beside the repository; set NOTEGRAPH_BENCH_CORPUS /
//! NOTEGRAPH_BENCH_QUERIES to use others). Measures, median of several runs:
//! - full index of the corpus (lexical + graph; dense vectors when a model is available and
//!   NOTEGRAPH_NO_DENSE is unset),
//! - re-index after editing one note,
//! - search latency over the dev questions inside one process (p50 / p95),
//! - the same questions as cold CLI runs of the release binary (p50 / p95),
//! - peak RSS of this process.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use notegraph::corpus::Corpus;
use notegraph::retrieve::{self, Fusion, Mode, SearchOptions};
use notegraph::store::{Store, UpdateOptions};

// The same allocator as the binary, so that in-process figures match what the CLI does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn percentile(v: &[Duration], p: f64) -> Duration {
    let mut s = v.to_vec();
    s.sort();
    s[((s.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read corpus") {
        let entry = entry.expect("entry");
        let dest = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&dest).expect("mkdir");
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).expect("copy");
        }
    }
}

/// Cold `index` runs with and without the graph: this machine's timings swing by ±10 % from run
/// to run, so the medians need more runs than the in-process ones.
const COLD_INDEX_RUNS: usize = 15;

fn main() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let source = std::env::var_os("NOTEGRAPH_BENCH_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("../shared/corpus/llm_interview_note"));
    let queries_file = std::env::var_os("NOTEGRAPH_BENCH_QUERIES")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("../shared/eval/corpus_dev.jsonl"));
    if !source.is_dir() || !queries_file.is_file() {
        println!("pipeline bench: skipped ({} or {} not found)", source.display(), queries_file.display());
        return;
    }
    let questions = notegraph::eval::read_questions(&queries_file).expect("questions");
    let work = tempfile::tempdir().expect("tempdir");
    let corpus_dir = work.path().join("corpus");
    std::fs::create_dir_all(&corpus_dir).expect("mkdir");
    copy_tree(&source, &corpus_dir);
    let corpus = Corpus::new(&corpus_dir);
    let index = work.path().join("index");
    let bin = repo.join("target/release/notegraph");
    println!(
        "machine: {} cores; corpus: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        source.display()
    );

    // Full index, fresh each time, with and without the concept graph (runs interleaved).
    let mut full = Vec::new();
    let mut lexical_only = Vec::new();
    let mut notes = 0;
    let mut chunks = 0;
    for _ in 0..5 {
        for concept_graph in [true, false] {
            let _ = std::fs::remove_dir_all(&index);
            let t = Instant::now();
            let options = UpdateOptions { concept_graph };
            let (_, report) = Store::update_with(&index, &corpus, None, options, &mut |_| {}).expect("index");
            if concept_graph {
                full.push(t.elapsed());
            } else {
                lexical_only.push(t.elapsed());
            }
            notes = report.added.len();
            chunks = report.chunks;
        }
    }
    // Leave the index complete for what follows.
    let _ = std::fs::remove_dir_all(&index);
    Store::update(&index, &corpus, None, &mut |_| {}).expect("index");
    let (with, without) = (median(full.clone()), median(lexical_only));
    println!(
        "full index: {notes} notes, {chunks} chunks: median {} (runs: {:?})",
        ms(with),
        full.iter().map(|d| ms(*d)).collect::<Vec<_>>()
    );
    println!(
        "  without the concept graph: median {}; the graph adds {} ({:.0} % of the index without it)",
        ms(without),
        ms(with.saturating_sub(without)),
        with.saturating_sub(without).as_secs_f64() / without.as_secs_f64() * 100.0,
    );

    // Re-index after editing one note.
    let victim = corpus.scan().expect("scan").notes[notes / 2].abs_path.clone();
    let original = std::fs::read_to_string(&victim).expect("read");
    let mut touched = Vec::new();
    for i in 0..5 {
        std::fs::write(&victim, format!("{original}\n\nedit {i}\n")).expect("write");
        let t = Instant::now();
        let (_, report) = Store::update(&index, &corpus, None, &mut |_| {}).expect("index");
        touched.push(t.elapsed());
        assert_eq!(report.updated.len(), 1);
    }
    println!("re-index after editing 1 note (1 updated, {} unchanged): median {}", notes - 1, ms(median(touched)));

    // Warm searches in one process.
    let store = Store::open(&index).expect("open");
    // Lexical figures: BM25 alone, whatever the environment says about the model.
    let mut lat = Vec::new();
    for _ in 0..3 {
        for q in &questions {
            let t = Instant::now();
            let opts = SearchOptions { mode: Mode::Bm25, k: 10, fusion: Fusion::default() };
            let _ = retrieve::search(&store, &q.query, opts, None, None).expect("search");
            lat.push(t.elapsed());
        }
    }
    println!(
        "search in-process (bm25, {} queries x3): p50 {}  p95 {}",
        questions.len(),
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.95))
    );

    // Cold CLI runs.
    if bin.is_file() {
        // `index --no-dense` as a user runs it (a fresh process, so jieba's dictionary and the
        // patterns load every time), with and without the concept graph, interleaved.
        let cold_index = work.path().join("index-cold");
        let (mut with_graph, mut without_graph) = (Vec::new(), Vec::new());
        for round in 0..COLD_INDEX_RUNS {
            // Which of the two runs first alternates, so that neither always follows the other.
            let order = if round % 2 == 0 { [true, false] } else { [false, true] };
            for graph in order {
                let _ = std::fs::remove_dir_all(&cold_index);
                let mut cmd = Command::new(&bin);
                cmd.arg("--corpus").arg(&corpus_dir).arg("--index").arg(&cold_index).args(["index", "--no-dense"]);
                if !graph {
                    cmd.arg("--no-graph");
                }
                let t = Instant::now();
                let out = cmd.output().expect("run");
                assert!(out.status.success(), "index failed: {}", String::from_utf8_lossy(&out.stderr));
                if graph { with_graph.push(t.elapsed()) } else { without_graph.push(t.elapsed()) }
            }
        }
        let (with, without) = (median(with_graph), median(without_graph));
        println!(
            "index as a cold CLI run (`index --no-dense`, {COLD_INDEX_RUNS} runs each): median {}; with `--no-graph` {}; the graph adds {} ({:.0} %)",
            ms(with),
            ms(without),
            ms(with.saturating_sub(without)),
            with.saturating_sub(without).as_secs_f64() / without.as_secs_f64() * 100.0,
        );

        let mut cold = Vec::new();
        for q in questions.iter().take(30) {
            let t = Instant::now();
            let out = Command::new(&bin)
                .arg("--corpus")
                .arg(&corpus_dir)
                .arg("--index")
                .arg(&index)
                .args(["--no-dense", "search", "--mode", "bm25", &q.query])
                .output()
                .expect("run");
            cold.push(t.elapsed());
            assert!(out.status.code().is_some_and(|c| c <= 1));
        }
        println!(
            "search as cold CLI runs (bm25, {} queries, incl. corpus freshness check): p50 {}  p95 {}",
            cold.len(),
            ms(percentile(&cold, 0.5)),
            ms(percentile(&cold, 0.95))
        );
    } else {
        println!("cold CLI runs: skipped (build target/release/notegraph first: cargo build --release)");
    }
    println!("peak RSS of this process (lexical only): {:.0} MB", peak_rss_mb());

    if std::env::var_os("NOTEGRAPH_NO_DENSE").is_some() {
        println!("dense figures: skipped (NOTEGRAPH_NO_DENSE is set)");
        return;
    }
    dense_figures(&corpus, &corpus_dir, &work.path().join("index-dense"), &questions, &bin);
}

/// Full index with embeddings, warm hybrid latency, cold `ask` wall time, peak RSS.
fn dense_figures(
    corpus: &Corpus,
    corpus_dir: &Path,
    index: &Path,
    questions: &[notegraph::eval::Question],
    bin: &Path,
) {
    use notegraph::vectors::TextEmbedder;
    let t = Instant::now();
    let resolved = match notegraph::model::resolve(&notegraph::model::ModelRequest::default(), &mut |_| {}) {
        Ok(m) => m,
        Err(e) => {
            println!("dense figures: skipped (no model: {})", e.to_string().lines().next().unwrap_or_default());
            return;
        }
    };
    let mut embedder = notegraph::embed::Embedder::load(&resolved).expect("load model");
    println!("model resolve + load: {}", ms(t.elapsed()));
    let t = Instant::now();
    let (store, report) =
        Store::update(index, corpus, Some(&mut embedder as &mut dyn TextEmbedder), &mut |_| {}).expect("index");
    let took = t.elapsed();
    println!(
        "full index with embeddings: {} notes, {} chunks embedded in {:.1} s ({:.1} chunks/s)",
        report.added.len(),
        report.embedded,
        took.as_secs_f64(),
        report.embedded as f64 / took.as_secs_f64()
    );
    let vectors = store.load_vectors().expect("vectors");
    let graph = store.load_graph().ok();
    let mut lat = Vec::new();
    for _ in 0..3 {
        for q in questions {
            let t = Instant::now();
            let qv = embedder.embed_query(&q.query).expect("embed");
            let dense = notegraph::retrieve::DenseQuery { vectors: &vectors, query_vector: qv };
            let opts = SearchOptions { mode: Mode::Hybrid, k: 10, fusion: Fusion::default() };
            let _ = retrieve::search(&store, &q.query, opts, Some(&dense), graph.as_ref()).expect("search");
            lat.push(t.elapsed());
        }
    }
    println!(
        "hybrid search in-process, model loaded (query embedding + BM25 + dense + fusion), {} queries x3: p50 {}  p95 {}",
        questions.len(),
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.95))
    );
    let mut dense_only = Vec::new();
    let qv = embedder.embed_query(&questions[0].query).expect("embed");
    for _ in 0..50 {
        let t = Instant::now();
        let _ = vectors.search(&qv, 100);
        dense_only.push(t.elapsed());
    }
    println!(
        "brute-force dot product over {} vectors: median {:.3} ms",
        vectors.len(),
        median(dense_only).as_secs_f64() * 1000.0
    );
    println!("peak RSS of this process (with the model): {:.0} MB", peak_rss_mb());
    if bin.is_file() {
        let mut cold = Vec::new();
        for q in questions.iter().take(5) {
            let t = Instant::now();
            let out = Command::new(bin)
                .arg("--corpus")
                .arg(corpus_dir)
                .arg("--index")
                .arg(index)
                .args(["ask", &q.query])
                .output()
                .expect("run");
            cold.push(t.elapsed());
            assert!(out.status.code().is_some_and(|c| c <= 1), "{}", String::from_utf8_lossy(&out.stderr));
        }
        println!("cold `ask` CLI runs (5 questions): median {}", ms(median(cold)));
    }
}
