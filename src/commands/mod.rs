//! The commands behind the CLI: each takes parsed options, runs the library, prints human output or
//! JSON on stdout and progress and notices on stderr, and returns the exit status.
//!
//! Owns the wiring between stages and the user-facing wording; the stages themselves live in their
//! modules. It never touches index files directly (that is `store`) and never runs the embedding
//! model except through `embed`.

mod graph_cmd;
mod model_cmd;
mod search_cmd;

pub use graph_cmd::{ConceptSort, GraphArgs, concepts, eval_graph_cmd, graph, path, prep, related};
pub use model_cmd::{model_fetch, model_info};
pub use search_cmd::{AskArgs, EvalArgs, SearchArgs, ask, eval, search};

use std::io::Write;
use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::corpus::Corpus;
use crate::embed::LazyEmbedder;
use crate::error::{Error, Result};
use crate::model::{self, FetchEvent, ModelRequest};
use crate::render::{ColorWhen, Painter};
use crate::store::{Progress, Store, UpdateOptions, UpdateReport};
use crate::vectors::TextEmbedder;

/// Options every command shares.
#[derive(Debug, Clone)]
pub struct Context {
    pub corpus: Corpus,
    pub index: PathBuf,
    pub color: ColorWhen,
    pub dense: DenseSettings,
    /// Rank without the concept graph (`--no-graph-rank`).
    pub no_graph_rank: bool,
}

/// Whether and with which model dense retrieval runs.
#[derive(Debug, Clone, Default)]
pub struct DenseSettings {
    /// `--no-dense`: BM25 only, the model is never loaded.
    pub disabled: bool,
    /// `--model-dir`: a model folder of the user's.
    pub model_dir: Option<PathBuf>,
}

impl DenseSettings {
    pub fn request(&self) -> ModelRequest {
        ModelRequest { model_dir: self.model_dir.clone(), ..ModelRequest::default() }
    }
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
        if bar.as_ref().is_some_and(|(w, _)| *w != what)
            && let Some((_, b)) = bar.take()
        {
            b.finish_and_clear();
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
    let mut vectors = format!("{} embedded", r.embedded);
    if r.vectors_missing > 0 {
        vectors.push_str(&format!(", {} without a vector", r.vectors_missing));
    }
    let graph = if r.graph_notes_extracted > 0 {
        format!(
            "; concept graph: {} concepts, {} typed relations ({} extracted in {:.2}s beside the lexical index, \
             done {:.2}s after it)",
            r.graph_concepts,
            r.graph_typed_edges,
            plural(r.graph_notes_extracted, "note", "notes"),
            r.graph_took.as_secs_f64(),
            r.graph_waited.as_secs_f64()
        )
    } else {
        String::new()
    };
    format!(
        "notes: {}; {} in the index ({} written, {vectors}){graph} in {:.2}s",
        parts.join(", "),
        plural(r.chunks, "chunk", "chunks"),
        r.chunks_written,
        r.took.as_secs_f64()
    )
}

fn warn_skipped(r: &UpdateReport) {
    if r.chunks == 0 && r.skipped.is_empty() {
        eprintln!("warning: the corpus has no Markdown notes (*.md, *.markdown); pass --corpus DIR");
    }
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

/// Draws a first-use model fetch on stderr: one line per stage, a bar for long steps.
pub(crate) fn fetch_drawer() -> impl FnMut(FetchEvent) {
    let mut bar: Option<ProgressBar> = None;
    move |e| match e {
        FetchEvent::Stage { index, count, message } => {
            if let Some(b) = bar.take() {
                b.finish_and_clear();
            }
            eprintln!("notegraph: [{index}/{count}] {message}");
        }
        FetchEvent::Progress { done, total, unit } => {
            let b = bar.get_or_insert_with(|| {
                let b = ProgressBar::new(total);
                let template = match unit {
                    model::ProgressUnit::Bytes => "  {bar:30} {bytes}/{total_bytes} {elapsed}",
                    model::ProgressUnit::Steps => "  {bar:30} {pos}/{len} {elapsed}",
                };
                b.set_style(ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()));
                b
            });
            b.set_length(total);
            b.set_position(done);
            if done >= total
                && let Some(b) = bar.take()
            {
                b.finish_and_clear();
            }
        }
    }
}

/// Finds the embedding model (fetching it once on first use); it loads when first needed. When it
/// cannot be had, says so in one line on stderr and returns `None`: the caller goes on with BM25.
pub(crate) fn load_embedder(ctx: &Context) -> Option<LazyEmbedder> {
    if ctx.dense.disabled {
        return None;
    }
    match model::resolve(&ctx.dense.request(), &mut fetch_drawer()) {
        Ok(m) => Some(LazyEmbedder::new(m)),
        Err(e) => {
            warn_no_dense(&e.to_string());
            None
        }
    }
}

/// The one-line notice that dense retrieval is off.
pub(crate) fn warn_no_dense(error: &str) {
    let first = error.lines().next().unwrap_or_default();
    eprintln!(
        "warning: dense retrieval unavailable, using BM25 only: {first} (`notegraph model fetch` shows details; --no-dense silences this)"
    );
}

/// Opens the index, first bringing it up to date with the corpus when it is missing or stale
/// (what that does is reported on stderr). With an embedder, chunks lacking a vector get one.
pub fn ensure_index(ctx: &Context, mut embedder: Option<&mut dyn TextEmbedder>) -> Result<Store> {
    let scan = ctx.corpus.scan()?;
    let fingerprint = embedder.as_ref().map(|e| e.fingerprint());
    if Store::is_fresh(&ctx.index, &scan.notes, fingerprint.as_deref())? {
        return Store::open(&ctx.index);
    }
    match Store::update(&ctx.index, &ctx.corpus, embedder.take(), &mut progress_drawer()) {
        Ok((store, report)) => {
            warn_skipped(&report);
            if let Some(reason) = &report.rebuilt {
                eprintln!("notegraph: rebuilding the index: {reason}");
            }
            if !report.is_noop() {
                eprintln!("notegraph: indexed {}: {}", ctx.corpus.root.display(), summary(&report));
            }
            if let Some(e) = &report.embed_error {
                warn_no_dense(e);
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

pub fn index(ctx: &Context, json_out: bool, options: UpdateOptions) -> Result<u8> {
    let mut embedder = load_embedder(ctx);
    let (_store, report) = Store::update_with(
        &ctx.index,
        &ctx.corpus,
        embedder.as_mut().map(|e| e as &mut dyn TextEmbedder),
        options,
        &mut progress_drawer(),
    )?;
    warn_skipped(&report);
    if let Some(reason) = &report.rebuilt {
        eprintln!("notegraph: rebuilding the index: {reason}");
    }
    if let Some(e) = &report.embed_error {
        warn_no_dense(e);
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
            "embedded": report.embedded,
            "graph": {
                "notes_extracted": report.graph_notes_extracted,
                "concepts": report.graph_concepts,
                "typed_edges": report.graph_typed_edges,
                "took_s": report.graph_took.as_secs_f64(),
                "waited_s": report.graph_waited.as_secs_f64(),
            },
            "vectors_missing": report.vectors_missing,
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

pub(crate) fn print_json(v: &serde_json::Value) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let s = serde_json::to_string_pretty(v).map_err(|e| Error::Usage(e.to_string()))?;
    // A closed pipe (`| head`) is not an error worth a message.
    let _ = writeln!(out, "{s}");
    Ok(())
}

/// Maps a library error to the exit status, after printing it.
pub fn report_error(e: &Error) -> u8 {
    eprintln!("notegraph: error: {e}");
    2
}
