//! The `notegraph` command line: parses arguments and dispatches to [`notegraph::commands`].

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use notegraph::commands::{self, Context, EvalArgs, SearchArgs};
use notegraph::corpus::Corpus;
use notegraph::render::ColorWhen;
use notegraph::retrieve::{Fusion, Mode};

/// Search your Markdown notes (Chinese, English or mixed) and map their concepts.
#[derive(Parser)]
#[command(name = "notegraph", version, about, long_about = None)]
struct Cli {
    /// Folder of Markdown notes.
    #[arg(long, global = true, env = "NOTEGRAPH_CORPUS", default_value = "corpus")]
    corpus: PathBuf,
    /// Folder holding the index (created and kept up to date automatically).
    #[arg(long, global = true, env = "NOTEGRAPH_INDEX", default_value = "index")]
    index: PathBuf,
    /// Leave out notes matching this glob (gitignore syntax, relative to the corpus; repeatable).
    #[arg(long, global = true, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Keep site-navigation pages (_sidebar.md, _navbar.md, SUMMARY.md, and the README.md beside them).
    #[arg(long, global = true)]
    include_nav: bool,
    /// Colour output: auto (terminal, honours NO_COLOR), always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto)]
    color: ColorWhen,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build or update the index (incremental: only new or changed notes are read again).
    Index {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Search the notes; prints the best sections with file, line and a highlighted snippet.
    Search {
        /// Free text, Chinese, English or mixed.
        query: String,
        /// Number of results.
        #[arg(short = 'k', long = "limit", default_value_t = 10)]
        k: usize,
        #[arg(long, value_enum, default_value_t = Mode::Bm25)]
        mode: Mode,
        /// How hybrid mode fuses BM25 and dense rankings.
        #[arg(long, value_enum, default_value_t = Fusion::default())]
        fusion: Fusion,
        /// Print results as JSON.
        #[arg(long)]
        json: bool,
        /// Show each retriever's rank and score.
        #[arg(long)]
        explain: bool,
    },
    /// Score retrieval against questions with gold sections (JSON lines).
    Eval {
        #[arg(long)]
        queries: PathBuf,
        #[arg(long, value_enum, default_value_t = Mode::Bm25)]
        mode: Mode,
        /// How hybrid mode fuses BM25 and dense rankings.
        #[arg(long, value_enum, default_value_t = Fusion::default())]
        fusion: Fusion,
        #[arg(short = 'k', long = "limit", default_value_t = 10)]
        k: usize,
        #[arg(long)]
        json: bool,
        /// Write each question's top 10 as one JSON line to this file.
        #[arg(long)]
        runs_out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let corpus = Corpus { root: cli.corpus, exclude: cli.exclude, include_site_nav: cli.include_nav };
    let ctx = Context { corpus, index: cli.index, color: cli.color };
    let result = match cli.command {
        Command::Index { json } => commands::index(&ctx, json),
        Command::Search { query, k, mode, fusion, json, explain } => {
            commands::search(&ctx, &SearchArgs { query, k, mode, fusion, json, explain })
        }
        Command::Eval { queries, mode, fusion, k, json, runs_out } => {
            commands::eval(&ctx, &EvalArgs { queries, mode, fusion, k, json, runs_out })
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => commands::report_error(&e),
    }
}
