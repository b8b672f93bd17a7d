//! Throughput of `Embedder::embed_passages` against a bare fastembed loop on the same model.
//! The embedder is loaded and run once before the bare model is loaded, so the first peak-RSS
//! figures are the embedder's alone; the timed runs are interleaved.
//!
//! Usage: `cargo run --release --example embed_bench [PARAGRAPHS.txt]`
//! (default: ../shared/reference/embed-vectors/paras200.txt, one passage a line). The model comes
//! from the usual resolution (NOTEGRAPH_MODEL_DIR / NOTEGRAPH_CACHE_DIR / fetch on first use).

use fastembed::{InitOptionsUserDefined, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel};
use notegraph::embed::{Embedder, MAX_BATCH, MAX_BATCH_TOKENS};
use notegraph::model::{self, FetchEvent, ModelRequest};
use std::path::PathBuf;
use std::time::Instant;

// The binary's allocator, so that the figures match what the CLI does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RUNS: usize = 3;
const BARE_BATCH: usize = 32;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let input = std::env::args_os().nth(1).map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/embed-vectors/paras200.txt")
    });
    let text = std::fs::read_to_string(&input).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let passages: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();

    let request = ModelRequest {
        model_dir: std::env::var_os("NOTEGRAPH_MODEL_DIR").map(PathBuf::from),
        ..ModelRequest::default()
    };
    let resolved = model::resolve(&request, &mut |event| {
        if let FetchEvent::Stage { index, count, message } = event {
            eprintln!("[{index}/{count}] {message}");
        }
    })?;
    println!("model: {} ({}) in {}", resolved.settings.name, resolved.origin, resolved.dir.display());
    println!("runtime: {} ({})", resolved.ort_dylib.display(), resolved.ort_origin);

    let started = Instant::now();
    let mut embedder = Embedder::load(&resolved)?;
    let load_secs = started.elapsed().as_secs_f64();
    let rss_after_load = peak_rss_mb();

    // One untimed run with only the embedder loaded gives its own peak RSS.
    let mut ours_vecs = embedder.embed_passages(&passages, &mut |_| {})?;
    let rss_embedder = peak_rss_mb();

    // The bare loop: plain fastembed on the same model files, unsorted, fixed batch of 32.
    let read = |name: &str| std::fs::read(resolved.file(name));
    let bare_model = UserDefinedEmbeddingModel::new(
        read(model::ONNX_FILE)?,
        TokenizerFiles {
            tokenizer_file: read("tokenizer.json")?,
            config_file: read("config.json")?,
            special_tokens_map_file: read("special_tokens_map.json")?,
            tokenizer_config_file: read("tokenizer_config.json")?,
        },
    )
    .with_pooling(fastembed::Pooling::Mean);
    let mut bare = TextEmbedding::try_new_from_user_defined(
        bare_model,
        InitOptionsUserDefined::new().with_max_length(resolved.settings.max_length),
    )?;
    let prefixed: Vec<String> = passages.iter().map(|p| format!("{}{p}", resolved.settings.passage_prefix)).collect();
    // Token count, timed: the embedder pays about the same to sort its input by length.
    let t = Instant::now();
    let mut tokens = 0usize;
    for p in &prefixed {
        tokens += bare.tokenizer.encode(p.as_str(), true).map_err(|e| e.to_string())?.len();
    }
    let tokenize_secs = t.elapsed().as_secs_f64();

    // Timed runs, interleaved so that both loops see the same machine load.
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let mut bare_vecs = Vec::new();
    for run in 0..RUNS {
        let t = Instant::now();
        ours_vecs = embedder.embed_passages(&passages, &mut |_| {})?;
        ours.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        bare_vecs = bare.embed(&prefixed, Some(BARE_BATCH))?;
        theirs.push(t.elapsed().as_secs_f64());
        eprintln!("run {}: embedder {:.2}s, bare {:.2}s", run + 1, ours[run], theirs[run]);
    }

    let (ours, theirs) = (median(&mut ours), median(&mut theirs));
    let n = passages.len() as f64;
    let min_cos = ours_vecs
        .iter()
        .zip(&bare_vecs)
        .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>())
        .fold(f32::INFINITY, f32::min);

    println!(
        "{} passages, {tokens} tokens ({:.0} per passage), median of {RUNS} runs",
        passages.len(),
        tokens as f64 / n
    );
    println!(
        "embedder (sorted, <={MAX_BATCH} passages, <={MAX_BATCH_TOKENS} tokens): {:>5.1} passages/s {:>6.0} tokens/s ({ours:.2}s)",
        n / ours,
        tokens as f64 / ours
    );
    println!(
        "bare fastembed (batch {BARE_BATCH}, unsorted):              {:>5.1} passages/s {:>6.0} tokens/s ({theirs:.2}s)",
        n / theirs,
        tokens as f64 / theirs
    );
    println!("ratio embedder/bare: {:.2}", theirs / ours);
    println!(
        "tokenizing for the sort: {:.0} ms ({:.1}% of the embedder's time)",
        tokenize_secs * 1e3,
        100.0 * tokenize_secs / ours
    );
    println!("min cosine embedder vs bare: {min_cos:.6}");
    println!("model load: {load_secs:.2}s");
    println!(
        "peak RSS (VmHWM), embedder alone: {rss_after_load:.0} MB after load, {rss_embedder:.0} MB after embedding; \
         {:.0} MB with the bare model loaded too",
        peak_rss_mb()
    );
    Ok(())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// VmHWM from /proc/self/status, in MB (0 if unavailable).
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}
