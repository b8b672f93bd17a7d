//! Retrieval: a free-text query → ranked chunks with snippets, by BM25, dense vectors or both fused.
//!
//! Owns the search modes, rank fusion and the shape of a result. It reads the index only through
//! [`Store`] and never renders output.

use std::time::Instant;

use serde::Serialize;

use crate::error::Result;
use crate::lexical::{LexicalQuery, Snippet, StoredChunk};
use crate::store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Lexical BM25 over jieba tokens.
    Bm25,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Bm25 => "bm25",
        }
    }
}

/// Where a result came from, per retriever: its rank (1-based) and raw score.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SourceRank {
    pub rank: usize,
    pub score: f32,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Sources {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bm25: Option<SourceRank>,
}

#[derive(Debug, Clone)]
pub struct SearchHit {
    pub rank: usize,
    pub score: f32,
    pub chunk: StoredChunk,
    pub snippet: Snippet,
    pub sources: Sources,
}

#[derive(Debug, Clone)]
pub struct SearchOutcome {
    pub query: String,
    pub mode: Mode,
    pub took_ms: f64,
    pub hits: Vec<SearchHit>,
    /// Distinct query terms after tokenization (for highlighting elsewhere).
    pub terms: Vec<String>,
}

/// Snippet length in bytes (about 120 Chinese characters or 360 Latin ones).
pub const SNIPPET_BYTES: usize = 360;

/// Runs `query` in `mode` and returns the top `k` chunks.
pub fn search(store: &Store, query: &str, mode: Mode, k: usize) -> Result<SearchOutcome> {
    let started = Instant::now();
    let lq: LexicalQuery = store.lexical.parse_query(query, &store.manifest.vocabulary);
    let hits = match mode {
        Mode::Bm25 => collapse_sections(store.lexical.search(&lq, k * 3)?, |h| &h.chunk, k)
            .into_iter()
            .enumerate()
            .map(|(i, h)| SearchHit {
                rank: i + 1,
                score: h.score,
                snippet: Snippet::default(),
                sources: Sources { bm25: Some(SourceRank { rank: i + 1, score: h.score }) },
                chunk: h.chunk,
            })
            .collect::<Vec<_>>(),
    };
    let mut hits = hits;
    for h in &mut hits {
        h.snippet = store.lexical.snippet(&lq, &h.chunk.text, SNIPPET_BYTES);
    }
    Ok(SearchOutcome {
        query: query.to_string(),
        mode,
        took_ms: started.elapsed().as_secs_f64() * 1000.0,
        hits,
        terms: lq.terms.clone(),
    })
}

/// Keeps the best-ranked chunk of each section (a long section is split into several chunks; one
/// result per section leaves room for other sections), then the first `k`.
fn collapse_sections<T>(ranked: Vec<T>, chunk: impl Fn(&T) -> &StoredChunk, k: usize) -> Vec<T> {
    let mut seen = std::collections::HashSet::new();
    ranked
        .into_iter()
        .filter(|h| {
            let c = chunk(h);
            seen.insert((c.path.clone(), c.heading_path.clone()))
        })
        .take(k)
        .collect()
}
