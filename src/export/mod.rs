//! Concept-map export: the concept graph, or the part of it a reader asked for, as DOT, SVG, PNG,
//! Mermaid, JSON or GraphML.
//!
//! Owns choosing what to draw ([`view`]), how it looks ([`style`]) and writing each format
//! ([`dot`], [`mermaid`], [`json`], [`graphml`]); rendering SVG / PNG by running Graphviz `dot`
//! ([`render`]). Everything returns bytes or strings with a report of what was cut, for the CLI to
//! write and print. It must not build or change the graph (that is [`crate::concepts`]), read
//! notes, write files or print: the CLI (`notegraph graph`) does the I/O.
//!
//! One call does it all: [`export`] with [`ExportOptions`] (one field per flag of
//! `notegraph graph`). The pieces are public for other callers: [`view::select`] →
//! [`dot::to_dot`] / [`mermaid::to_mermaid`] / [`json::to_json`] / [`graphml::to_graphml`] →
//! [`render::run_dot`].

pub mod dot;
pub mod graphml;
pub mod json;
pub mod mermaid;
pub mod render;
pub mod style;
pub mod view;

use std::path::Path;
use std::str::FromStr;

use crate::concepts::model::ConceptGraph;

pub use render::{RenderError, run_dot};
pub use style::RankDir;
pub use view::{Cluster, Cut, GraphView, Sections, ViewError, ViewOptions, select};

/// An output format of `notegraph graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Graphviz DOT source.
    #[default]
    Dot,
    /// Rendered by Graphviz `dot`; keeps node and edge tooltips.
    Svg,
    /// Rendered by Graphviz `dot` at 144 dpi.
    Png,
    /// A Mermaid flowchart (paste into a ```` ```mermaid ```` block).
    Mermaid,
    /// The same Mermaid flowchart inside a ```` ```mermaid ```` fence: a Markdown note of its own
    /// (chosen by `-o map.md`).
    MermaidMarkdown,
    /// `{"nodes": […], "edges": […]}`, the concept graph's own JSON shape.
    Json,
    /// GraphML (Gephi, yEd, Neo4j import).
    Graphml,
}

impl Format {
    pub const ALL: &'static [Format] = &[
        Format::Dot,
        Format::Svg,
        Format::Png,
        Format::Mermaid,
        Format::MermaidMarkdown,
        Format::Json,
        Format::Graphml,
    ];

    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Dot => "dot",
            Format::Svg => "svg",
            Format::Png => "png",
            Format::Mermaid => "mermaid",
            Format::MermaidMarkdown => "md",
            Format::Json => "json",
            Format::Graphml => "graphml",
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Dot => "dot",
            Format::Svg => "svg",
            Format::Png => "png",
            Format::Mermaid => "mmd",
            Format::MermaidMarkdown => "md",
            Format::Json => "json",
            Format::Graphml => "graphml",
        }
    }

    /// The format an output file's extension asks for (`llama.png` → PNG), case-insensitively;
    /// takes a bare extension (`"svg"`) or a path. `None` for an unknown or missing extension.
    pub fn from_extension(path_or_ext: impl AsRef<Path>) -> Option<Format> {
        let p = path_or_ext.as_ref();
        let ext = p.extension().or_else(|| (p.components().count() == 1).then_some(p.as_os_str()))?;
        let ext = ext.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "dot" | "gv" => Format::Dot,
            "svg" => Format::Svg,
            "png" => Format::Png,
            "mmd" | "mermaid" => Format::Mermaid,
            "md" | "markdown" => Format::MermaidMarkdown,
            "json" => Format::Json,
            "graphml" => Format::Graphml,
            _ => return None,
        })
    }

    /// `--format` wins; else the extension of `-o`; else DOT. An explicit but unknown format, or
    /// an `-o` whose extension names no format, is an error (rather than a surprise file).
    pub fn resolve(format: Option<&str>, output: Option<&Path>) -> Result<Format, ExportError> {
        if let Some(f) = format {
            return f.parse();
        }
        match output {
            None => Ok(Format::Dot),
            Some(p) => Format::from_extension(p).ok_or_else(|| {
                ExportError::Usage(format!(
                    "cannot tell the format from {}; add --format ({})",
                    p.display(),
                    Format::names()
                ))
            }),
        }
    }

    /// SVG and PNG need Graphviz `dot`.
    pub fn needs_dot(self) -> bool {
        matches!(self, Format::Svg | Format::Png)
    }

    /// PNG is binary: the CLI should not write it to a terminal (ask for `-o`).
    pub fn is_binary(self) -> bool {
        self == Format::Png
    }

    fn names() -> String {
        ["dot", "svg", "png", "mermaid", "json", "graphml"].join(", ")
    }
}

impl FromStr for Format {
    type Err = ExportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        Ok(match s.as_str() {
            "dot" | "gv" | "graphviz" => Format::Dot,
            "svg" => Format::Svg,
            "png" => Format::Png,
            "mermaid" | "mmd" => Format::Mermaid,
            "md" | "markdown" => Format::MermaidMarkdown,
            "json" => Format::Json,
            "graphml" => Format::Graphml,
            _ => {
                return Err(ExportError::Usage(format!("unknown format {s:?}; use one of {}", Format::names())));
            }
        })
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an export failed. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    View(#[from] ViewError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("{0}")]
    Usage(String),
}

/// Everything `notegraph graph` takes, one field per flag.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// `--concept`, `--depth`, `--rel`, `--min-confidence`, `--max-nodes`, `--note`, `--cluster`.
    pub view: ViewOptions,
    /// `--format`, or from `-o`'s extension ([`Format::resolve`]).
    pub format: Format,
    /// `--rankdir` (DOT, SVG, PNG, Mermaid).
    pub rankdir: RankDir,
}

/// What [`export`] produced: the bytes to write and what was left out.
#[derive(Debug, Clone)]
pub struct Exported {
    pub format: Format,
    /// UTF-8 text for every format but PNG.
    pub bytes: Vec<u8>,
    /// Shown vs total, with a one-line message for stderr.
    pub cut: Cut,
}

/// Selects the view and writes it in the chosen format; runs `dot` for SVG and PNG.
pub fn export(graph: &ConceptGraph, opts: &ExportOptions) -> Result<Exported, ExportError> {
    let view = select(graph, &opts.view)?;
    let format = opts.format;
    let bytes = write_view(&view, format, opts.rankdir)?;
    Ok(Exported { format, bytes, cut: view.cut.clone() })
}

/// Writes an already selected view in `format`.
pub fn write_view(view: &GraphView<'_>, format: Format, rankdir: RankDir) -> Result<Vec<u8>, ExportError> {
    let dot_opts = dot::DotOptions { rankdir, ..dot::DotOptions::default() };
    Ok(match format {
        Format::Dot => dot::to_dot(view, &dot_opts).into_bytes(),
        Format::Svg => run_dot(&dot::to_dot(view, &dot_opts), Format::Svg)?,
        Format::Png => run_dot(&dot::to_dot(view, &dot_opts), Format::Png)?,
        Format::Mermaid => mermaid::to_mermaid(view, rankdir).into_bytes(),
        Format::MermaidMarkdown => mermaid::to_markdown(view, rankdir).into_bytes(),
        Format::Json => json::to_json(view).into_bytes(),
        Format::Graphml => graphml::to_graphml(view).into_bytes(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_from_extension_and_flag() {
        assert_eq!(Format::from_extension("docs/llama.PNG"), Some(Format::Png));
        assert_eq!(Format::from_extension("map.gv"), Some(Format::Dot));
        assert_eq!(Format::from_extension("svg"), Some(Format::Svg));
        assert_eq!(Format::from_extension("out/map.md"), Some(Format::MermaidMarkdown));
        assert_eq!(Format::from_extension("map.txt"), None);
        assert_eq!(Format::from_extension("map"), None);
        assert_eq!(Format::resolve(None, Some(Path::new("a.graphml"))).unwrap(), Format::Graphml);
        assert_eq!(Format::resolve(Some("mermaid"), Some(Path::new("a.png"))).unwrap(), Format::Mermaid);
        assert_eq!(Format::resolve(None, None).unwrap(), Format::Dot);
        assert!(Format::resolve(None, Some(Path::new("a.txt"))).is_err());
        assert!(Format::resolve(Some("jpeg"), None).unwrap_err().to_string().contains("graphml"));
        for f in Format::ALL {
            assert_eq!(Format::from_extension(f.extension()), Some(*f));
            assert_eq!(f.name().parse::<Format>().unwrap(), *f);
        }
    }
}
