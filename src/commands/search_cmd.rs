//! `search`, `ask` and `eval`: queries against the index, printed for people or as JSON.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::{Context, FOUND, NOT_FOUND, ensure_index, load_embedder, print_json};
use crate::chunk;
use crate::concepts::ConceptGraph;
use crate::embed::LazyEmbedder;
use crate::error::{Error, Result};
use crate::eval;
use crate::render::{self, Painter};
use crate::retrieve::{self, DenseQuery, Fusion, Mode, SearchHit, SearchOptions, SearchOutcome, SourceRank};
use crate::store::Store;
use crate::vectors::{TextEmbedder, VectorSet};

/// The index, the model (when the mode needs one and it can be had) and the chunk vectors.
pub(super) struct Session {
    pub(super) store: Store,
    pub(super) embedder: Option<LazyEmbedder>,
    vectors: VectorSet,
    /// For graph-aware ranking.
    graph: Option<ConceptGraph>,
}

impl Session {
    pub(super) fn open(ctx: &Context, mode: Mode) -> Result<Session> {
        let mut embedder = if mode.needs_vectors() { load_embedder(ctx) } else { None };
        let store = ensure_index(ctx, embedder.as_mut().map(|e| e as &mut dyn TextEmbedder))?;
        let vectors = if embedder.is_some() { store.load_vectors()? } else { VectorSet::default() };
        let graph = if ctx.no_graph_rank { None } else { Some(store.load_graph()?) };
        Ok(Session { store, embedder, vectors, graph })
    }

    /// Runs one query; dense and hybrid fall back to BM25 when there is no model or no vectors.
    pub(super) fn search(&mut self, query: &str, opts: SearchOptions) -> Result<SearchOutcome> {
        let started = std::time::Instant::now();
        let dense = match (&mut self.embedder, opts.mode.needs_vectors() && !self.vectors.is_empty()) {
            (Some(e), true) => match e.embed_query(query) {
                Ok(v) => Some(DenseQuery { vectors: &self.vectors, query_vector: v }),
                Err(err) => {
                    // The model would not load or run: say so once and go on with BM25.
                    super::warn_no_dense(&err.to_string());
                    self.embedder = None;
                    None
                }
            },
            _ => None,
        };
        let mut outcome = retrieve::search(&self.store, query, opts, dense.as_ref(), self.graph.as_ref())?;
        // The time includes embedding the query.
        outcome.took_ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(outcome)
    }
}

fn check_query(q: &str) -> Result<()> {
    if q.trim().is_empty() {
        return Err(Error::Usage("the query is empty; try e.g. notegraph search \"LLaMA 用了什么归一化\"".into()));
    }
    Ok(())
}

fn char_ranges(text: &str, ranges: &[std::ops::Range<usize>]) -> Vec<[usize; 2]> {
    ranges
        .iter()
        .filter(|r| r.end <= text.len() && text.is_char_boundary(r.start) && text.is_char_boundary(r.end))
        .map(|r| [text[..r.start].chars().count(), text[..r.end].chars().count()])
        .collect()
}

fn hit_json(h: &SearchHit) -> serde_json::Value {
    json!({
        "rank": h.rank,
        "score": h.score,
        "path": h.chunk.path,
        "heading_path": h.chunk.heading_path,
        "line_start": h.chunk.line_start,
        "line_end": h.chunk.line_end,
        "chunk_id": h.chunk.chunk_id,
        "text": h.chunk.text,
        "snippet": h.snippet.text,
        "snippet_highlights": char_ranges(&h.snippet.text, &h.snippet.highlights),
        "sources": h.sources,
    })
}

fn outcome_json(o: &SearchOutcome, results: Vec<serde_json::Value>) -> serde_json::Value {
    json!({
        "query": o.query,
        "mode": o.mode.as_str(),
        "took_ms": (o.took_ms * 1000.0).round() / 1000.0,
        "results": results,
    })
}

/// Says why a dense or hybrid query was answered by BM25 alone, unless the missing model was
/// already reported when loading it.
fn warn_if_fallback(session: &Session, requested: Mode, got: Mode) {
    if requested != got && session.embedder.is_some() {
        eprintln!("notegraph: the index has no vectors yet; {} query answered with bm25", requested.as_str());
    }
}

pub struct SearchArgs {
    pub query: String,
    pub k: usize,
    pub mode: Mode,
    pub fusion: Fusion,
    pub json: bool,
    pub explain: bool,
}

pub fn search(ctx: &Context, args: &SearchArgs) -> Result<u8> {
    check_query(&args.query)?;
    let mut session = Session::open(ctx, args.mode)?;
    let outcome = session.search(&args.query, SearchOptions { mode: args.mode, k: args.k, fusion: args.fusion })?;
    warn_if_fallback(&session, args.mode, outcome.mode);
    if args.json {
        print_json(&outcome_json(&outcome, outcome.hits.iter().map(hit_json).collect()))?;
    } else {
        print_hits(ctx, &outcome, args.explain);
    }
    Ok(if outcome.hits.is_empty() { NOT_FOUND } else { FOUND })
}

fn heading_or_preamble(h: &SearchHit) -> String {
    if h.chunk.heading_path.is_empty() {
        "(before the first heading)".to_string()
    } else {
        render::heading_path(&h.chunk.heading_path)
    }
}

fn explain_line(p: &Painter, h: &SearchHit) -> String {
    let src = |s: Option<SourceRank>| s.map_or("-".to_string(), |s| format!("rank {} score {:.4}", s.rank, s.score));
    let graph = match &h.sources.graph {
        Some(g) => {
            let mut why = g.concepts.clone();
            why.extend(g.neighbours.iter().map(|n| format!("{n} (neighbour)")));
            format!(" | graph: ×{:.3} ({})", g.factor, why.join(", "))
        }
        None => String::new(),
    };
    let coverage = h.sources.coverage.map_or(String::new(), |c| {
        format!(" | query terms held: {:.0} % (heading {:.0} %)", c.terms * 100.0, c.heading * 100.0)
    });
    p.dim(&format!(
        "bm25: {} | dense: {}{coverage} | fused: {:.4}{graph}",
        src(h.sources.bm25),
        src(h.sources.dense),
        h.score
    ))
}

fn print_hits(ctx: &Context, o: &SearchOutcome, explain: bool) {
    let p = Painter::for_stdout(ctx.color);
    let mut out = std::io::stdout().lock();
    if o.hits.is_empty() {
        let _ = writeln!(out, "no results for {:?} ({} mode)", o.query, o.mode.as_str());
        return;
    }
    for h in &o.hits {
        let _ = writeln!(
            out,
            "{} {}:{}  {}  {}",
            p.rank(&format!("{:>2}.", h.rank)),
            p.path(&h.chunk.path),
            p.line(&h.chunk.line_start.to_string()),
            p.heading(&heading_or_preamble(h)),
            p.dim(&format!("score {:.3}", h.score)),
        );
        let _ = writeln!(out, "    {}", p.snippet(&h.snippet));
        if explain {
            let _ = writeln!(out, "    {}", explain_line(&p, h));
        }
    }
    let _ =
        writeln!(out, "{}", p.dim(&format!("{} results in {:.1} ms ({})", o.hits.len(), o.took_ms, o.mode.as_str())));
}

pub struct AskArgs {
    pub question: String,
    pub k: usize,
    pub mode: Mode,
    pub fusion: Fusion,
    pub json: bool,
    pub explain: bool,
    /// Sentences shown per section.
    pub sentences: usize,
}

/// A sentence of a result with its similarity to the question.
struct Sentence {
    text: String,
    score: f32,
}

/// The sentences of each hit closest to the question by embedding, in text order (empty when
/// there is no model: the caller shows the snippet instead).
fn best_sentences(
    embedder: &mut dyn TextEmbedder,
    question: &[f32],
    hits: &[SearchHit],
    n: usize,
) -> Result<Vec<Vec<Sentence>>> {
    let per_hit: Vec<Vec<&str>> = hits
        .iter()
        .map(|h| {
            chunk::sentences(&h.chunk.text)
                .into_iter()
                .map(|(_, s)| s.trim())
                .filter(|s| s.chars().filter(|c| c.is_alphanumeric()).count() >= 4)
                .collect()
        })
        .collect();
    let flat: Vec<&str> = per_hit.iter().flatten().copied().collect();
    let vectors = embedder.embed_passages(&flat, &mut |_| {})?;
    let mut at = 0;
    let mut out = Vec::with_capacity(hits.len());
    for sents in per_hit {
        let mut scored: Vec<(usize, f32)> = (0..sents.len())
            .map(|i| (i, vectors[at + i].iter().zip(question).map(|(a, b)| a * b).sum::<f32>()))
            .collect();
        at += sents.len();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        let mut keep: Vec<(usize, f32)> = scored.into_iter().take(n).collect();
        keep.sort_by_key(|k| k.0);
        out.push(keep.into_iter().map(|(i, score)| Sentence { text: sents[i].to_string(), score }).collect());
    }
    Ok(out)
}

pub fn ask(ctx: &Context, args: &AskArgs) -> Result<u8> {
    check_query(&args.question)?;
    let mut session = Session::open(ctx, args.mode)?;
    let outcome = session.search(&args.question, SearchOptions { mode: args.mode, k: args.k, fusion: args.fusion })?;
    warn_if_fallback(&session, args.mode, outcome.mode);
    let sentences = match (&mut session.embedder, outcome.hits.is_empty()) {
        (Some(e), false) => {
            // Without sentence vectors the sections still print, with their snippets.
            let picked =
                e.embed_query(&args.question).and_then(|q| best_sentences(e, &q, &outcome.hits, args.sentences));
            picked.unwrap_or_else(|err| {
                super::warn_no_dense(&err.to_string());
                Vec::new()
            })
        }
        _ => Vec::new(),
    };
    if args.json {
        let results = outcome
            .hits
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let mut v = hit_json(h);
                if let Some(s) = sentences.get(i) {
                    v["sentences"] = s.iter().map(|s| json!({"text": s.text, "score": s.score})).collect();
                }
                v
            })
            .collect();
        print_json(&outcome_json(&outcome, results))?;
    } else {
        print_answer(ctx, &outcome, &sentences, args.explain);
    }
    Ok(if outcome.hits.is_empty() { NOT_FOUND } else { FOUND })
}

/// Results grouped by note (notes in the order of their best section), each section with its
/// heading path, `path:line` and closest sentences highlighted.
fn print_answer(ctx: &Context, o: &SearchOutcome, sentences: &[Vec<Sentence>], explain: bool) {
    let p = Painter::for_stdout(ctx.color);
    let mut out = std::io::stdout().lock();
    if o.hits.is_empty() {
        let _ = writeln!(out, "nothing in the notes answers {:?}", o.query);
        return;
    }
    let mut notes: Vec<&str> = Vec::new();
    for h in &o.hits {
        if !notes.contains(&h.chunk.path.as_str()) {
            notes.push(&h.chunk.path);
        }
    }
    let highlight = anstyle::Style::new().bold().fg_color(Some(anstyle::AnsiColor::Yellow.into()));
    for note in notes {
        let _ = writeln!(out, "{}", p.path(note));
        for (i, h) in o.hits.iter().enumerate().filter(|(_, h)| h.chunk.path == note) {
            let _ = writeln!(
                out,
                "  {} {}  {}",
                p.rank(&format!("{}.", h.rank)),
                p.heading(&heading_or_preamble(h)),
                p.line(&format!("{}:{}", h.chunk.path, h.chunk.line_start)),
            );
            match sentences.get(i).filter(|s| !s.is_empty()) {
                Some(best) => {
                    for s in best {
                        let text = s.text.replace('\n', " ");
                        let shown = if p.color { p.paint(highlight, &text) } else { format!("» {text}") };
                        let _ = writeln!(out, "     {shown}");
                    }
                }
                None => {
                    let _ = writeln!(out, "     {}", p.snippet(&h.snippet));
                }
            }
            if explain {
                let _ = writeln!(out, "     {}", explain_line(&p, h));
            }
        }
        let _ = writeln!(out);
    }
    let _ =
        write!(out, "{}", p.dim(&format!("{} sections in {:.0} ms ({})\n", o.hits.len(), o.took_ms, o.mode.as_str())));
}

pub struct EvalArgs {
    pub queries: PathBuf,
    pub mode: Mode,
    pub fusion: Fusion,
    pub k: usize,
    pub json: bool,
    pub runs_out: Option<PathBuf>,
}

pub fn eval(ctx: &Context, args: &EvalArgs) -> Result<u8> {
    let questions = eval::read_questions(&args.queries)?;
    let mut session = Session::open(ctx, args.mode)?;
    let mut scores = Vec::with_capacity(questions.len());
    let mut runs = Vec::new();
    let mut modes_used = HashSet::new();
    let opts = SearchOptions { mode: args.mode, k: args.k.max(eval::CUTOFF), fusion: args.fusion };
    for q in &questions {
        let o = session.search(&q.query, opts)?;
        modes_used.insert(o.mode);
        let ranking: Vec<eval::Retrieved> = o
            .hits
            .iter()
            .map(|h| eval::Retrieved {
                path: h.chunk.path.clone(),
                heading_path: h.chunk.heading_path.clone(),
                line_start: h.chunk.line_start,
                score: h.score,
            })
            .collect();
        scores.push(eval::score(&q.relevant, &ranking));
        runs.push(json!({"id": q.id, "results": ranking.iter().take(eval::CUTOFF).collect::<Vec<_>>()}));
    }
    let mode = if modes_used.contains(&args.mode) { args.mode } else { Mode::Bm25 };
    warn_if_fallback(&session, args.mode, mode);
    if let Some(path) = &args.runs_out {
        let text: String = runs.iter().map(|r| format!("{r}\n")).collect();
        std::fs::write(path, text).map_err(|e| Error::io(path, e))?;
    }
    let mut label = mode.as_str().to_string();
    if mode == Mode::Hybrid {
        label.push_str(&format!(" ({} fusion)", if args.fusion == Fusion::Rrf { "rrf" } else { "score" }));
    }
    let report = eval::aggregate(&label, &questions, &scores);
    if args.json {
        print_json(&serde_json::to_value(&report).map_err(|e| Error::Usage(e.to_string()))?)?;
    } else {
        print_eval_table(ctx, &report, &args.queries);
    }
    Ok(FOUND)
}

fn print_eval_table(ctx: &Context, r: &eval::Report, queries: &Path) {
    let p = Painter::for_stdout(ctx.color);
    println!("{} — {} questions, mode {}", p.path(&queries.display().to_string()), r.questions, r.mode);
    println!(
        "{:<22} {:>4}  {:>6} {:>6} {:>9} {:>7} {:>8}",
        "", "n", "Hit@1", "Hit@5", "Recall@10", "MRR@10", "nDCG@10"
    );
    let row = |g: &eval::Group| {
        let s = &g.scores;
        println!(
            "{:<22} {:>4}  {:>6.3} {:>6.3} {:>9.3} {:>7.3} {:>8.3}",
            g.name, g.n, s.hit1, s.hit5, s.recall10, s.mrr10, s.ndcg10
        );
    };
    row(&r.overall);
    for (title, groups) in [("by kind", &r.by_kind), ("by lang", &r.by_lang)] {
        println!("{}", p.dim(title));
        for g in groups.iter() {
            row(&eval::Group { name: format!("  {}", g.name), ..g.clone() });
        }
    }
}
