//! Helpers shared by the integration tests: the shared reference folder and one model cache
//! per target directory, fetched once with the real pip path and reused by every test binary.
#![allow(dead_code)]

use notegraph::embed::Embedder;
use notegraph::model::{self, FetchEvent, ModelRequest, ResolvedModel};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, OnceLock};

/// `../shared` next to the crate, or `None` (with a note on stderr) when it is absent.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/embed-vectors");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: reference vectors not found at {}", dir.display());
        None
    }
}

/// The cache all real-model tests share: `<target>/tmp/model-cache`.
pub fn test_cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("model-cache")
}

/// The bundled model, fetched into the test cache on first use.
pub fn resolved() -> &'static ResolvedModel {
    static MODEL: OnceLock<ResolvedModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        let request = ModelRequest { cache_dir: Some(test_cache_dir()), ..ModelRequest::default() };
        let started = std::time::Instant::now();
        let resolved = model::resolve(&request, &mut |event| {
            if let FetchEvent::Stage { index, count, message } = event {
                eprintln!("[{index}/{count}] {message}");
            }
        });
        match resolved {
            Ok(m) => {
                eprintln!("model ready ({}) in {:.1}s", m.origin, started.elapsed().as_secs_f64());
                m
            }
            Err(e) => panic!("resolving the test model failed:\n{e}"),
        }
    })
}

/// One embedder per test binary (loading takes a second and ~0.7 GB).
pub fn embedder() -> MutexGuard<'static, Embedder> {
    static EMBEDDER: OnceLock<Mutex<Embedder>> = OnceLock::new();
    EMBEDDER
        .get_or_init(|| match Embedder::load(resolved()) {
            Ok(e) => Mutex::new(e),
            Err(e) => panic!("loading the test model failed:\n{e}"),
        })
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Reads little-endian f32 rows of `dims` values.
pub fn read_f32_rows(path: &std::path::Path, dims: usize) -> Vec<Vec<f32>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    assert_eq!(bytes.len() % (dims * 4), 0, "{} is not rows of {dims} f32", path.display());
    bytes
        .chunks_exact(dims * 4)
        .map(|row| row.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
        .collect()
}
