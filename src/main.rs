//! The `notegraph` command line: parses arguments and dispatches to [`notegraph::commands`].

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use notegraph::commands::{self, AskArgs, ConceptSort, Context, DenseSettings, EvalArgs, GraphArgs, SearchArgs};
use notegraph::corpus::Corpus;
use notegraph::render::ColorWhen;
use notegraph::retrieve::{Fusion, Mode};
use notegraph::store::UpdateOptions;

/// mimalloc instead of the system allocator: indexing and search make millions of small
/// allocations on several threads, and glibc's per-thread arenas spend much of that time in the
/// kernel (a cold `index --no-graph` of the 93-note test corpus: user time 0.6 s with glibc, 0.3 s
/// with mimalloc; median wall time 505 → 306 ms).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// BM25 only: never load the embedding model.
    #[arg(long, global = true, env = "NOTEGRAPH_NO_DENSE", value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::SetTrue)]
    no_dense: bool,
    /// A fastembed-compatible ONNX embedding model folder to use instead of the bundled
    /// multilingual-e5-small.
    #[arg(long, global = true, env = "NOTEGRAPH_MODEL_DIR", value_name = "DIR")]
    model_dir: Option<PathBuf>,
    /// Rank search results without the concept graph (by default, sections that mention the
    /// concepts a query names rank a little higher).
    #[arg(long, global = true)]
    no_graph_rank: bool,
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
        /// Leave the concept graph out (for measuring what it costs: the next update builds it).
        #[arg(long, hide = true)]
        no_graph: bool,
    },
    /// Search the notes; prints the best sections with file, line and a highlighted snippet.
    Search {
        /// Free text, Chinese, English or mixed.
        query: String,
        /// Number of results.
        #[arg(short = 'k', long = "limit", default_value_t = 10)]
        k: usize,
        #[arg(long, value_enum, default_value_t = Mode::Hybrid)]
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
    /// Answer a question: the best sections grouped by note, with the sentences closest to it.
    Ask {
        /// The question, Chinese, English or mixed.
        question: String,
        /// Number of sections.
        #[arg(short = 'k', long = "limit", default_value_t = 5)]
        k: usize,
        #[arg(long, value_enum, default_value_t = Mode::Hybrid)]
        mode: Mode,
        /// How hybrid mode fuses BM25 and dense rankings.
        #[arg(long, value_enum, default_value_t = Fusion::default())]
        fusion: Fusion,
        /// Sentences shown per section.
        #[arg(long, default_value_t = 2)]
        sentences: usize,
        /// Print results as JSON (as `search`, plus each section's closest sentences).
        #[arg(long)]
        json: bool,
        /// Show each retriever's rank and score.
        #[arg(long)]
        explain: bool,
    },
    /// List the concepts of the notes' concept graph.
    Concepts {
        #[arg(long, value_enum, default_value_t = ConceptSort::Mentions)]
        sort: ConceptSort,
        /// Show at most N concepts.
        #[arg(short = 'n', long)]
        limit: Option<usize>,
        #[arg(long)]
        json: bool,
    },
    /// A concept (by any alias): its definition, typed relations with evidence, related sections and
    /// concepts close in meaning.
    Related {
        concept: String,
        /// Follow typed relations this many hops.
        #[arg(long, default_value_t = 1)]
        depth: usize,
        /// Related sections shown.
        #[arg(short = 'k', long = "limit", default_value_t = 5)]
        k: usize,
        #[arg(long)]
        json: bool,
    },
    /// The shortest chain of typed relations between two concepts, with evidence for each hop.
    Path {
        from: String,
        to: String,
        #[arg(long)]
        json: bool,
    },
    /// Interview prep: a study list for a concept or a free-text topic.
    Prep {
        topic: String,
        #[arg(long)]
        json: bool,
    },
    /// Export the concept map: DOT, SVG, PNG, Mermaid, JSON or GraphML.
    ///
    /// Default: the typed relations of the whole graph, capped at a readable size (the cut is
    /// reported). `--format json` with no filter flag gives the whole graph, related_to included.
    Graph(GraphArgs),
    /// Score the concept graph against hand-made gold graphs.
    EvalGraph {
        /// Gold graph JSON file(s).
        #[arg(long, required = true, num_args = 1..)]
        gold: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// The embedding model: fetch it now, or show what is used.
    Model {
        #[command(subcommand)]
        action: ModelAction,
    },
    /// Score retrieval against questions with gold sections (JSON lines).
    Eval {
        #[arg(long)]
        queries: PathBuf,
        #[arg(long, value_enum, default_value_t = Mode::Hybrid)]
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

#[derive(Subcommand)]
enum ModelAction {
    /// Fetch and convert the model into the cache now (otherwise it happens at first use).
    Fetch,
    /// Show which model is used, from where, its size, dimensions and load time.
    Info {
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let corpus = Corpus { root: cli.corpus, exclude: cli.exclude, include_site_nav: cli.include_nav };
    let dense = DenseSettings { disabled: cli.no_dense, model_dir: cli.model_dir };
    let ctx = Context { corpus, index: cli.index, color: cli.color, dense, no_graph_rank: cli.no_graph_rank };
    let result = match cli.command {
        Command::Index { json, no_graph } => commands::index(&ctx, json, UpdateOptions { concept_graph: !no_graph }),
        Command::Search { query, k, mode, fusion, json, explain } => {
            commands::search(&ctx, &SearchArgs { query, k, mode, fusion, json, explain })
        }
        Command::Ask { question, k, mode, fusion, sentences, json, explain } => {
            commands::ask(&ctx, &AskArgs { question, k, mode, fusion, json, explain, sentences })
        }
        Command::Concepts { sort, limit, json } => commands::concepts(&ctx, sort, limit, json),
        Command::Related { concept, depth, k, json } => commands::related(&ctx, &concept, depth, k, json),
        Command::Path { from, to, json } => commands::path(&ctx, &from, &to, json),
        Command::Prep { topic, json } => commands::prep(&ctx, &topic, json),
        Command::Graph(args) => commands::graph(&ctx, &args),
        Command::EvalGraph { gold, json } => commands::eval_graph_cmd(&ctx, &gold, json),
        Command::Model { action: ModelAction::Fetch } => commands::model_fetch(&ctx),
        Command::Model { action: ModelAction::Info { json } } => commands::model_info(&ctx, json),
        Command::Eval { queries, mode, fusion, k, json, runs_out } => {
            commands::eval(&ctx, &EvalArgs { queries, mode, fusion, k, json, runs_out })
        }
    };
    let code = match result {
        Ok(code) => code,
        Err(e) => commands::report_error(&e),
    };
    exit_without_teardown(code)
}

/// Ends the process without the allocator's teardown. On the way out mimalloc hands its freed
/// pages back to the system one `madvise` at a time (about 650 calls, 120 MB, after a cold index
/// of the 93-note test corpus), work the kernel does anyway when the process ends: skipping it
/// shortens that exit by about 4 ms (2 ms without the concept graph). Every command has closed
/// what it wrote by the time it returns; only stdout's buffer is left to flush.
fn exit_without_teardown(code: u8) -> ExitCode {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    #[cfg(target_os = "linux")]
    // SAFETY: `_exit` ends the process at once; nothing after this point needs to run.
    unsafe {
        libc::_exit(i32::from(code))
    }
    #[cfg(not(target_os = "linux"))]
    ExitCode::from(code)
}
