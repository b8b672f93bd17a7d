//! The concept graph: concepts (with cross-language aliases) and typed relations (with the
//! sentence each comes from), extracted from the notes without any language model.
//!
//! Extraction is deterministic and explainable: every edge carries its evidence (path, line,
//! sentence) and the rule that found it. Nothing here lists the concepts or relations of any
//! particular corpus; only general stop lists, general category words and general Chinese /
//! English relation cue words.
//!
//! Flow: [`extract::extract_note`] per note (cacheable: [`extract::NoteFacts`] is serde) →
//! [`build::build_graph`] over all notes' facts → [`model::ConceptGraph`] (JSON, petgraph view,
//! lookup) → [`query`] (neighbours, paths, study lists) and [`eval`] (scoring against gold graphs).
//!
//! Modules: [`text`] (normalisation, sentence splitting, Latin term shapes), [`lexicon`] (general
//! word lists), [`patterns`] (sentence relation patterns), [`extract`], [`build`], [`model`],
//! [`query`], [`eval`].

pub mod build;
pub mod eval;
pub mod extract;
pub mod lexicon;
pub mod model;
pub mod patterns;
pub mod query;
pub mod stored;
pub mod text;

/// Compiles the relation patterns and fills the word lists now rather than on the first note
/// (about 15 ms; the indexer does it while jieba's dictionary is still loading).
pub fn prepare() {
    patterns::compile();
    extract::compile_cues();
}

pub use build::build_graph;
pub use extract::{BegunNote, FACTS_VERSION, NoteFacts, begin_note, extract_note};
pub use model::{Concept, ConceptGraph, Kind, Lookup, Rel, Relation};
