//! Retrieval: a free-text query → ranked sections with snippets, by BM25, dense vectors or both
//! fused.
//!
//! Owns the search modes, rank fusion, the one-result-per-section rule and the shape of a result.
//! It reads the index only through [`Store`], gets the query's vector from the caller (it never runs
//! a model) and never renders output.

use std::collections::HashMap;
use std::time::Instant;

use serde::Serialize;

use crate::concepts::ConceptGraph;
use crate::concepts::text::concept_key;
use crate::error::Result;
use crate::lexical::{Snippet, StoredChunk};
use crate::store::Store;
use crate::vectors::VectorSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Lexical BM25 over jieba tokens.
    Bm25,
    /// Embedding similarity (multilingual-e5).
    Dense,
    /// BM25 and dense fused.
    Hybrid,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Bm25 => "bm25",
            Mode::Dense => "dense",
            Mode::Hybrid => "hybrid",
        }
    }
    pub fn needs_vectors(self) -> bool {
        !matches!(self, Mode::Bm25)
    }
}

/// How hybrid mode fuses the two rankings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum Fusion {
    /// Reciprocal rank fusion: Σ 1 / (60 + rank).
    Rrf,
    /// Scores normalised per query (BM25 / max BM25, cosine min-max) and summed with weights.
    #[default]
    Score,
}

/// Where a result came from, per retriever: its rank (1-based) and raw score.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SourceRank {
    pub rank: usize,
    pub score: f32,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Sources {
    pub bm25: Option<SourceRank>,
    pub dense: Option<SourceRank>,
    /// Hybrid mode: the share of the query's terms the chunk contains (text or heading path), and
    /// the share its heading path contains.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
    /// Graph-aware ranking: the concepts of the query this section mentions (or whose typed
    /// neighbours it mentions), and the factor its score was multiplied by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graph: Option<GraphBoost>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Coverage {
    pub terms: f32,
    pub heading: f32,
}

#[derive(Debug, Clone, Serialize)]
pub struct GraphBoost {
    pub factor: f32,
    pub concepts: Vec<String>,
    pub neighbours: Vec<String>,
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

/// The dense side of a search: the chunk vectors and the query's vector.
pub struct DenseQuery<'a> {
    pub vectors: &'a VectorSet,
    pub query_vector: Vec<f32>,
}

#[derive(Debug, Clone, Copy)]
pub struct SearchOptions {
    pub mode: Mode,
    pub k: usize,
    pub fusion: Fusion,
}

/// Weight of a section's mention of a concept the query names (times the concept's specificity).
/// Measured on corpus_dev, hybrid nDCG@10 (0.730 without the graph): direct 0.02 / 0.05 / 0.1 /
/// 0.15 / 0.3 → 0.737 / 0.736 / 0.734 / 0.733 / 0.733 with no neighbour weight; neighbour weight
/// 0.02 → unchanged, 0.1 → 0.725 (it pulls in loosely related sections).
const GRAPH_DIRECT: f32 = 0.1;
/// Weight of a section's mention of a typed neighbour of such a concept.
const GRAPH_NEIGHBOUR: f32 = 0.02;

/// Concepts the query names, found by alias: the longest matches of concept aliases inside the
/// query (Latin names only at word boundaries), each with a specificity weight that shrinks with
/// the number of notes mentioning it.
pub fn concepts_named_in<'g>(graph: &'g ConceptGraph, query: &str) -> Vec<(&'g crate::concepts::Concept, f32)> {
    let chars: Vec<char> = concept_key(query).chars().collect();
    let latin = |c: char| c.is_ascii_alphanumeric();
    let boundary = |i: usize| i == 0 || i == chars.len() || !(latin(chars[i - 1]) && latin(chars[i]));
    let mut found: Vec<(usize, usize, usize)> = Vec::new(); // (start, end, node index)
    for start in 0..chars.len() {
        if !boundary(start) {
            continue;
        }
        for end in (start + 2..=chars.len().min(start + 24)).rev() {
            if !boundary(end) {
                continue;
            }
            let piece: String = chars[start..end].iter().collect();
            if let Some(i) = graph.node_index(&piece) {
                found.push((start, end, i));
                break;
            }
        }
    }
    // Longest first; drop matches inside a longer one.
    found.sort_by_key(|&(s, e, _)| (std::cmp::Reverse(e - s), s));
    let mut taken: Vec<(usize, usize, usize)> = Vec::new();
    for m in found {
        if !taken.iter().any(|t| m.0 < t.1 && t.0 < m.1) {
            taken.push(m);
        }
    }
    taken.sort_by_key(|t| t.0);
    let mut out: Vec<(&crate::concepts::Concept, f32)> = Vec::new();
    for (_, _, i) in taken {
        let c = &graph.nodes[i];
        if !out.iter().any(|(o, _)| o.id == c.id) {
            out.push((c, 1.0 / (1.0 + (1.0 + c.notes as f32).ln())));
        }
    }
    out
}

/// Concepts a query names, each with its specificity weight ([`concepts_named_in`]).
type Named<'g> = [(&'g crate::concepts::Concept, f32)];

/// The other names of the concepts a query names (`解码器` → `Decoder`), for the lexical side.
fn alias_expansions(named: &Named, query: &str) -> Vec<(String, f32)> {
    let q = concept_key(query);
    let mut out = Vec::new();
    for &(c, weight) in named {
        for a in &c.aliases {
            if !q.contains(&concept_key(a)) {
                out.push((a.clone(), ALIAS_EXPANSION_WEIGHT * weight));
            }
        }
    }
    out
}

/// Per chunk, the multiplicative boost from the concepts the query names.
fn graph_boosts(graph: &ConceptGraph, named: &Named) -> HashMap<String, GraphBoost> {
    let mut boosts: HashMap<String, GraphBoost> = HashMap::new();
    let named_ids: std::collections::HashSet<&str> = named.iter().map(|(c, _)| c.id.as_str()).collect();
    for &(c, weight) in named {
        let mut add = |chunk: &str, amount: f32, label: &str, direct: bool| {
            let b = boosts.entry(chunk.to_string()).or_insert_with(|| GraphBoost {
                factor: 1.0,
                concepts: Vec::new(),
                neighbours: Vec::new(),
            });
            let list = if direct { &mut b.concepts } else { &mut b.neighbours };
            if !list.iter().any(|l| l == label) {
                list.push(label.to_string());
                b.factor += amount;
            }
        };
        for m in c.mentions.iter().chain(c.home.iter()) {
            add(&m.chunk_id, GRAPH_DIRECT * weight, &c.label, true);
        }
        for e in graph.edges.iter().filter(|e| e.rel.is_typed() && (e.from == c.id || e.to == c.id)) {
            let other = if e.from == c.id { &e.to } else { &e.from };
            if named_ids.contains(other.as_str()) {
                continue;
            }
            if let Some(n) = graph.by_id(other) {
                for m in n.mentions.iter().chain(n.home.iter()) {
                    add(&m.chunk_id, GRAPH_NEIGHBOUR * weight, &n.label, false);
                }
            }
        }
    }
    boosts
}

/// Snippet length in bytes (about 120 Chinese characters or 360 Latin ones).
pub const SNIPPET_BYTES: usize = 360;
/// How deep each retriever's list goes before fusion.
const CANDIDATES: usize = 100;
/// RRF constant.
const RRF_K: f32 = 60.0;
/// Weight of the dense score in score fusion (BM25 gets the rest). corpus_dev nDCG@10 without
/// the coverage terms below: 0.3 → 0.733, 0.4 → 0.730, 0.5 → 0.729, 0.6 → 0.729 (flat); with
/// them 0.4 → 0.741 and 0.5 → 0.746 (both halves of the questions agree).
const DENSE_WEIGHT: f32 = 0.5;
/// Weight of the share of the query's terms a chunk contains (a coordination factor: BM25 lets
/// one frequent term outweigh several missing ones). corpus_dev nDCG@10 at dense weight 0.5:
/// 0 → 0.728, 0.2 → 0.744, 0.3 → 0.746 (with the heading weight below).
const COVERAGE_WEIGHT: f32 = 0.3;
/// Weight of the share of the query's terms the chunk's heading path contains.
/// 0 → 0.738, 0.1 → 0.746, 0.2 → 0.743.
const HEADING_COVERAGE_WEIGHT: f32 = 0.1;
/// Weight of the other names of a concept the query names, as extra BM25 clauses (times the
/// concept's specificity): 0 → 0.746, 0.3 → 0.748, 1 → 0.751.
const ALIAS_EXPANSION_WEIGHT: f32 = 1.0;

/// Runs `query` and returns the top `k` sections. `dense` is required for the dense and hybrid
/// modes (without it they fall back to BM25; the caller says so). With a concept graph, sections
/// that mention the concepts the query names (or their typed neighbours) rank higher.
pub fn search(
    store: &Store,
    query: &str,
    opts: SearchOptions,
    dense: Option<&DenseQuery>,
    graph: Option<&ConceptGraph>,
) -> Result<SearchOutcome> {
    let started = Instant::now();
    let mode = if dense.is_none() { Mode::Bm25 } else { opts.mode };
    // Graph-aware ranking (alias expansion and the boost below) where it measured better; it made
    // dense alone (0.681 → 0.667) and RRF (0.710 → 0.705) worse, so those stay as they are.
    let graph = graph.filter(|_| mode == Mode::Bm25 || (mode == Mode::Hybrid && opts.fusion == Fusion::Score));
    let named = graph.map(|g| concepts_named_in(g, query)).unwrap_or_default();
    let expansions = alias_expansions(&named, query);
    let lq = store.lexical.parse_query_expanded(query, &store.manifest.vocabulary, &expansions);
    let depth = (opts.k * 3).max(CANDIDATES);

    // Each retriever's ranked chunk ids with scores.
    let mut by_id: HashMap<String, (Sources, Option<StoredChunk>)> = HashMap::new();
    if mode != Mode::Dense {
        for (i, h) in store.lexical.search(&lq, depth)?.into_iter().enumerate() {
            let e = by_id.entry(h.chunk.chunk_id.clone()).or_default();
            e.0.bm25 = Some(SourceRank { rank: i + 1, score: h.score });
            e.1 = Some(h.chunk);
        }
    }
    if let (Some(d), true) = (dense, mode != Mode::Bm25) {
        // Every chunk's similarity (exact and cheap); the top `depth` join the candidates, and
        // lexical candidates get their true similarity too.
        for (i, h) in d.vectors.search(&d.query_vector, usize::MAX).into_iter().enumerate() {
            let dense = Some(SourceRank { rank: i + 1, score: h.score });
            if i < depth {
                by_id.entry(h.chunk_id).or_default().0.dense = dense;
            } else if let Some(e) = by_id.get_mut(&h.chunk_id) {
                e.0.dense = dense;
            }
        }
    }
    if mode == Mode::Hybrid && opts.fusion == Fusion::Score {
        add_coverage(store, &lq.terms[..lq.own_terms], &mut by_id)?;
    }
    let mut fused = fuse(mode, opts.fusion, &by_id);
    if let Some(g) = graph {
        let boosts = graph_boosts(g, &named);
        if !boosts.is_empty() {
            for (id, score) in fused.iter_mut() {
                if let Some(b) = boosts.get(id) {
                    *score *= b.factor;
                    if let Some(e) = by_id.get_mut(id) {
                        e.0.graph = Some(b.clone());
                    }
                }
            }
            fused.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        }
    }

    // Load what the lexical side did not already return, in rank order, one chunk per section.
    let mut hits = Vec::new();
    let mut sections = std::collections::HashSet::new();
    for (id, score) in fused {
        if hits.len() == opts.k {
            break;
        }
        let Some((sources, stored)) = by_id.remove(&id) else { continue };
        let chunk = match stored {
            Some(c) => c,
            None => match store.lexical.chunks_by_id(&[id.as_str()])?.into_iter().next() {
                Some(c) => c,
                None => continue, // a vector whose chunk is gone: ignore
            },
        };
        if !sections.insert((chunk.path.clone(), chunk.heading_path.clone())) {
            continue;
        }
        let snippet = store.lexical.snippet(&lq, &chunk.text, SNIPPET_BYTES);
        hits.push(SearchHit { rank: hits.len() + 1, score, chunk, snippet, sources });
    }
    Ok(SearchOutcome {
        query: query.to_string(),
        mode,
        took_ms: started.elapsed().as_secs_f64() * 1000.0,
        hits,
        terms: lq.terms.clone(),
    })
}

/// Lowercase NFKC, as the analyzer sees text.
fn normalized(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfkc().collect::<String>().to_lowercase()
}

/// Gives every candidate its term coverage (loading the text of candidates only the dense side
/// found). A term counts once however often it occurs: a coordination factor, which BM25 lacks.
fn add_coverage(
    store: &Store,
    terms: &[String],
    by_id: &mut HashMap<String, (Sources, Option<StoredChunk>)>,
) -> Result<()> {
    let terms: Vec<&String> = terms.iter().filter(|t| !(t.len() == 1 && t.is_ascii())).collect();
    if terms.is_empty() {
        return Ok(());
    }
    let missing: Vec<&str> = by_id.iter().filter(|(_, e)| e.1.is_none()).map(|(id, _)| id.as_str()).collect();
    let loaded = store.lexical.chunks_by_id(&missing)?;
    for c in loaded {
        if let Some(e) = by_id.get_mut(&c.chunk_id) {
            e.1 = Some(c);
        }
    }
    for (sources, chunk) in by_id.values_mut() {
        let Some(chunk) = chunk else { continue };
        let heading = normalized(&chunk.heading_path.join(" "));
        let text = normalized(&chunk.text);
        let share = |f: &dyn Fn(&str) -> bool| terms.iter().filter(|t| f(t)).count() as f32 / terms.len() as f32;
        sources.coverage = Some(Coverage {
            terms: share(&|t| heading.contains(t) || text.contains(t)),
            heading: share(&|t| heading.contains(t)),
        });
    }
    Ok(())
}

/// Orders chunk ids by the mode's score, best first.
fn fuse(mode: Mode, fusion: Fusion, by_id: &HashMap<String, (Sources, Option<StoredChunk>)>) -> Vec<(String, f32)> {
    let max_bm25 = by_id.values().filter_map(|(s, _)| s.bm25.map(|r| r.score)).fold(0.0f32, f32::max);
    let (min_cos, max_cos) = by_id
        .values()
        .filter_map(|(s, _)| s.dense.map(|r| r.score))
        .fold((f32::MAX, f32::MIN), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let mut scored: Vec<(String, f32)> = by_id
        .iter()
        .map(|(id, (s, _))| {
            let score = match mode {
                Mode::Bm25 => s.bm25.map_or(0.0, |r| r.score),
                Mode::Dense => s.dense.map_or(0.0, |r| r.score),
                Mode::Hybrid => match fusion {
                    Fusion::Rrf => {
                        s.bm25.map_or(0.0, |r| 1.0 / (RRF_K + r.rank as f32))
                            + s.dense.map_or(0.0, |r| 1.0 / (RRF_K + r.rank as f32))
                    }
                    Fusion::Score => {
                        let b = s.bm25.map_or(0.0, |r| if max_bm25 > 0.0 { r.score / max_bm25 } else { 0.0 });
                        let d = s.dense.map_or(0.0, |r| {
                            if max_cos > min_cos { (r.score - min_cos) / (max_cos - min_cos) } else { 1.0 }
                        });
                        let c =
                            s.coverage.map_or(0.0, |c| COVERAGE_WEIGHT * c.terms + HEADING_COVERAGE_WEIGHT * c.heading);
                        (1.0 - DENSE_WEIGHT) * b + DENSE_WEIGHT * d + c
                    }
                },
            };
            (id.clone(), score)
        })
        .filter(|(_, s)| *s > 0.0 || mode == Mode::Dense)
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    scored
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(bm25: Option<(usize, f32)>, dense: Option<(usize, f32)>) -> (Sources, Option<StoredChunk>) {
        let r = |(rank, score)| SourceRank { rank, score };
        (Sources { bm25: bm25.map(r), dense: dense.map(r), coverage: None, graph: None }, None)
    }

    #[test]
    fn rrf_rewards_agreement() {
        let mut m = HashMap::new();
        m.insert("both".to_string(), src(Some((2, 5.0)), Some((2, 0.8))));
        m.insert("bm25only".to_string(), src(Some((1, 9.0)), None));
        m.insert("denseonly".to_string(), src(None, Some((1, 0.9))));
        let order: Vec<String> = fuse(Mode::Hybrid, Fusion::Rrf, &m).into_iter().map(|x| x.0).collect();
        assert_eq!(order[0], "both");
    }

    #[test]
    fn score_fusion_normalises_each_side() {
        let mut m = HashMap::new();
        m.insert("a".to_string(), src(Some((1, 20.0)), Some((3, 0.70))));
        m.insert("b".to_string(), src(Some((2, 10.0)), Some((1, 0.90))));
        m.insert("c".to_string(), src(None, Some((2, 0.80))));
        let f = fuse(Mode::Hybrid, Fusion::Score, &m);
        // b is half the best BM25 and the best cosine; c has no BM25 and the middle cosine.
        let w = DENSE_WEIGHT;
        let score = |id: &str| f.iter().find(|x| x.0 == id).unwrap().1;
        assert!((score("a") - (1.0 - w)).abs() < 1e-6);
        assert!((score("b") - ((1.0 - w) * 0.5 + w)).abs() < 1e-6);
        assert!((score("c") - w * 0.5).abs() < 1e-6);
        assert_eq!(f.last().unwrap().0, "c");
        let bm25: Vec<String> = fuse(Mode::Bm25, Fusion::Score, &m).into_iter().map(|x| x.0).collect();
        assert_eq!(bm25, ["a", "b"], "bm25 mode ignores dense-only chunks");
    }

    #[test]
    fn score_fusion_rewards_chunks_holding_more_of_the_query_terms() {
        let mut m = HashMap::new();
        m.insert("one_term_often".to_string(), src(Some((1, 10.0)), Some((1, 0.90))));
        m.insert("all_terms".to_string(), src(Some((2, 9.0)), Some((2, 0.89))));
        m.insert("far".to_string(), src(None, Some((3, 0.50))));
        m.get_mut("one_term_often").unwrap().0.coverage = Some(Coverage { terms: 0.25, heading: 0.0 });
        m.get_mut("all_terms").unwrap().0.coverage = Some(Coverage { terms: 1.0, heading: 0.5 });
        let f = fuse(Mode::Hybrid, Fusion::Score, &m);
        assert_eq!(f[0].0, "all_terms", "{f:?}");
        let rrf = fuse(Mode::Hybrid, Fusion::Rrf, &m);
        assert_eq!(rrf[0].0, "one_term_often", "coverage is part of score fusion only");
    }

    #[test]
    fn named_concepts_are_found_by_alias_longest_first_at_word_boundaries() {
        use crate::concepts::model::{Concept, Kind};
        let concept = |id: &str, aliases: &[&str], notes: usize| Concept {
            id: id.into(),
            label: aliases[0].into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            kind: Kind::Unknown,
            mentions: vec![],
            definition: None,
            notes,
            home: None,
        };
        let g = ConceptGraph::new(
            vec![
                concept("gpt", &["GPT"], 1),
                concept("rl", &["强化学习"], 1),
                concept("learn", &["学习"], 50),
                concept("layernorm", &["LayerNorm", "layer norm"], 2),
            ],
            vec![],
        );
        let names =
            |q: &str| -> Vec<String> { concepts_named_in(&g, q).into_iter().map(|(c, _)| c.id.clone()).collect() };
        assert_eq!(names("强化学习和 Layer Norm"), ["rl", "layernorm"]);
        assert!(names("ChatGPT 是什么").is_empty(), "GPT inside ChatGPT is not GPT");
        assert_eq!(names("GPT 的学习"), ["gpt", "learn"]);
        let w = concepts_named_in(&g, "GPT 的学习");
        assert!(w[0].1 > w[1].1, "a concept in many notes weighs less");
    }
}
