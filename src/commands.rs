//! The commands behind the CLI: each takes parsed options, runs the library, prints human output or
//! JSON on stdout and progress and notices on stderr, and returns the exit status.
//!
//! Owns the wiring between stages and the user-facing wording; the stages themselves live in their
//! modules. It never touches index files directly (that is `store`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::corpus::Corpus;
use crate::error::{Error, Result};
use crate::eval;
use crate::render::{self, ColorWhen, Painter};
use crate::retrieve::{self, Fusion, Mode, SearchOptions, SearchOutcome};
use crate::store::{Progress, Store, UpdateReport};

/// Options every command shares.
#[derive(Debug, Clone)]
pub struct Context {
    pub corpus: Corpus,
    pub index: PathBuf,
    pub color: ColorWhen,
}

/// Exit status: 0 success, 1 nothing found, 2 error.
pub const FOUND: u8 = 0;
pub const NOT_FOUND: u8 = 1;

fn progress_drawer() -> impl FnMut(Progress) {
    let mut bar: Option<(&'static str, ProgressBar)> = None;
    move |p| {
        let (what, done, total) = match p {
            Progress::Indexing { done, total } => ("indexing", done, total),
            Progress::Embedding { done, total } => ("embedding", done, total),
            Progress::Done => {
                if let Some((_, b)) = bar.take() {
                    b.finish_and_clear();
                }
                return;
            }
        };
        if bar.as_ref().is_some_and(|(w, _)| *w != what) {
            if let Some((_, b)) = bar.take() {
                b.finish_and_clear();
            }
        }
        let (_, b) = bar.get_or_insert_with(|| {
            let b = ProgressBar::new(total as u64);
            // Short runs stay quiet; indicatif draws nothing when stderr is not a terminal.
            if total < 20 {
                b.set_draw_target(indicatif::ProgressDrawTarget::hidden());
            }
            let unit = if what == "indexing" { "notes" } else { "chunks" };
            b.set_style(
                ProgressStyle::with_template(&format!(
                    "{what} {{bar:30}} {{pos}}/{{len}} {unit} {{elapsed}} (eta {{eta}})"
                ))
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            (what, b)
        });
        b.set_position(done as u64);
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One line saying what an update did.
fn summary(r: &UpdateReport) -> String {
    let mut parts = vec![
        format!("{} added", r.added.len()),
        format!("{} updated", r.updated.len()),
        format!("{} removed", r.removed.len()),
        format!("{} unchanged", r.unchanged),
    ];
    if !r.retokenized.is_empty() {
        parts.push(format!("{} re-tokenized for new domain terms", r.retokenized.len()));
    }
    format!(
        "notes: {}; {} in the index ({} written) in {:.2}s",
        parts.join(", "),
        plural(r.chunks, "chunk", "chunks"),
        r.chunks_written,
        r.took.as_secs_f64()
    )
}

fn warn_skipped(r: &UpdateReport) {
    for s in &r.skipped {
        eprintln!("warning: skipped {}: {}", s.path, s.reason);
    }
    if !r.site_nav.is_empty() && !r.is_noop() {
        eprintln!(
            "notegraph: left out {} site-navigation page{} ({}); --include-nav keeps them",
            r.site_nav.len(),
            if r.site_nav.len() == 1 { "" } else { "s" },
            r.site_nav.join(", ")
        );
    }
}

/// Opens the index, first bringing it up to date with the corpus when it is missing or stale
/// (what that does is reported on stderr).
pub fn ensure_index(ctx: &Context) -> Result<Store> {
    let scan = ctx.corpus.scan()?;
    if Store::is_fresh(&ctx.index, &scan.notes, None)? {
        return Store::open(&ctx.index);
    }
    match Store::update(&ctx.index, &ctx.corpus, None, &mut progress_drawer()) {
        Ok((store, report)) => {
            warn_skipped(&report);
            if let Some(reason) = &report.rebuilt {
                eprintln!("notegraph: rebuilding the index: {reason}");
            }
            if !report.is_noop() {
                eprintln!("notegraph: indexed {}: {}", ctx.corpus.root.display(), summary(&report));
            }
            Ok(store)
        }
        Err(Error::IndexBusy { path }) if Store::open(&ctx.index).is_ok() => {
            eprintln!("warning: index {} is being updated by another process; searching it as it is", path.display());
            Store::open(&ctx.index)
        }
        Err(e) => Err(e),
    }
}

pub fn index(ctx: &Context, json_out: bool) -> Result<u8> {
    let (_store, report) = Store::update(&ctx.index, &ctx.corpus, None, &mut progress_drawer())?;
    warn_skipped(&report);
    if let Some(reason) = &report.rebuilt {
        eprintln!("notegraph: rebuilding the index: {reason}");
    }
    if json_out {
        print_json(&json!({
            "corpus": ctx.corpus.root,
            "site_nav_left_out": report.site_nav,
            "index": ctx.index,
            "added": report.added,
            "updated": report.updated,
            "removed": report.removed,
            "unchanged": report.unchanged,
            "retokenized": report.retokenized,
            "skipped": report.skipped,
            "chunks": report.chunks,
            "chunks_written": report.chunks_written,
            "rebuilt": report.rebuilt,
            "took_s": report.took.as_secs_f64(),
        }))?;
    } else {
        let p = Painter::for_stdout(ctx.color);
        println!("{} → {}", p.path(&ctx.corpus.root.display().to_string()), p.path(&ctx.index.display().to_string()));
        println!("{}", summary(&report));
        for (label, list) in [("added", &report.added), ("updated", &report.updated), ("removed", &report.removed)] {
            if list.len() <= 10 {
                for path in list.iter() {
                    println!("  {label}: {path}");
                }
            }
        }
    }
    Ok(FOUND)
}

fn char_ranges(text: &str, ranges: &[std::ops::Range<usize>]) -> Vec<[usize; 2]> {
    ranges
        .iter()
        .filter(|r| r.end <= text.len() && text.is_char_boundary(r.start) && text.is_char_boundary(r.end))
        .map(|r| [text[..r.start].chars().count(), text[..r.end].chars().count()])
        .collect()
}

fn outcome_json(o: &SearchOutcome) -> serde_json::Value {
    json!({
        "query": o.query,
        "mode": o.mode.as_str(),
        "took_ms": (o.took_ms * 1000.0).round() / 1000.0,
        "results": o.hits.iter().map(|h| json!({
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
        })).collect::<Vec<_>>(),
    })
}

fn print_json(v: &serde_json::Value) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let s = serde_json::to_string_pretty(v).map_err(|e| Error::Usage(e.to_string()))?;
    // A closed pipe (`| head`) is not an error worth a message.
    let _ = writeln!(out, "{s}");
    Ok(())
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
    if args.query.trim().is_empty() {
        return Err(Error::Usage("the query is empty; try e.g. notegraph search \"LLaMA 用了什么归一化\"".into()));
    }
    let store = ensure_index(ctx)?;
    let outcome =
        retrieve::search(&store, &args.query, SearchOptions { mode: args.mode, k: args.k, fusion: args.fusion }, None)?;
    if args.json {
        print_json(&outcome_json(&outcome))?;
    } else {
        print_hits(ctx, &outcome, args.explain);
    }
    Ok(if outcome.hits.is_empty() { NOT_FOUND } else { FOUND })
}

fn print_hits(ctx: &Context, o: &SearchOutcome, explain: bool) {
    let p = Painter::for_stdout(ctx.color);
    let mut out = std::io::stdout().lock();
    if o.hits.is_empty() {
        let _ = writeln!(out, "no results for {:?} ({} mode)", o.query, o.mode.as_str());
        return;
    }
    for h in &o.hits {
        let hp = if h.chunk.heading_path.is_empty() {
            "(before the first heading)".to_string()
        } else {
            render::heading_path(&h.chunk.heading_path)
        };
        let _ = writeln!(
            out,
            "{} {}:{}  {}  {}",
            p.rank(&format!("{:>2}.", h.rank)),
            p.path(&h.chunk.path),
            p.line(&h.chunk.line_start.to_string()),
            p.heading(&hp),
            p.dim(&format!("score {:.3}", h.score)),
        );
        let _ = writeln!(out, "    {}", p.snippet(&h.snippet));
        if explain {
            let src = |s: Option<retrieve::SourceRank>| {
                s.map_or("-".to_string(), |s| format!("rank {} score {:.4}", s.rank, s.score))
            };
            let _ = writeln!(
                out,
                "    {}",
                p.dim(&format!(
                    "bm25: {} | dense: {} | fused: {:.4}",
                    src(h.sources.bm25),
                    src(h.sources.dense),
                    h.score
                ))
            );
        }
    }
    let _ =
        writeln!(out, "{}", p.dim(&format!("{} results in {:.1} ms ({})", o.hits.len(), o.took_ms, o.mode.as_str())));
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
    let store = ensure_index(ctx)?;
    let mut scores = Vec::with_capacity(questions.len());
    let mut runs = Vec::new();
    for q in &questions {
        let o = retrieve::search(
            &store,
            &q.query,
            SearchOptions { mode: args.mode, k: args.k.max(eval::CUTOFF), fusion: args.fusion },
            None,
        )?;
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
    if let Some(path) = &args.runs_out {
        let mut text = String::new();
        for r in &runs {
            text.push_str(&r.to_string());
            text.push('\n');
        }
        std::fs::write(path, text).map_err(|e| Error::io(path, e))?;
    }
    let report = eval::aggregate(args.mode.as_str(), &questions, &scores);
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

/// Maps a library error to the exit status, after printing it.
pub fn report_error(e: &Error) -> ExitCode {
    eprintln!("notegraph: error: {e}");
    ExitCode::from(2)
}
