//! The concept graph as data: concepts (nodes) with aliases, kind, mentions and definition;
//! typed relations (edges) with evidence and confidence; lookup of a concept by any alias.
//!
//! Owns the JSON shape (`{"nodes": […], "edges": […]}`) and the meaning of each relation type.
//! It does not extract or merge (that is `extract` and `build`), and it never prints: queries
//! (`query`) return plain data for the CLI to render.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use petgraph::graph::{DiGraph, NodeIndex};
use serde::{Deserialize, Serialize};

use super::text::concept_key;

/// What kind of thing a concept is, when the notes tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Model,
    Method,
    Component,
    Problem,
    Task,
    Dataset,
    Metric,
    Framework,
    Organization,
    #[default]
    Unknown,
}

/// A relation type. Directed unless [`Rel::is_symmetric`]. `related_to` is co-occurrence, the
/// weakest kind, kept apart from the typed ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rel {
    /// `from` is a kind / an instance / a variant of `to`.
    IsA,
    /// `from` uses, adopts or introduces component or technique `to`.
    Uses,
    /// `from` is built on `to` (`基于`, `在…基础上`, `based on`).
    BasedOn,
    /// `from` is a part of `to` (sub-module, or a section under `to`'s heading when structural).
    PartOf,
    /// `from` takes the place of `to` (`用 from 取代 to`, `from 而非 to`).
    Replaces,
    /// The notes set `from` against `to` (`与…相比`, `X 和 Y` headings).
    ContrastedWith,
    /// `from` was proposed / released by `to`.
    ProposedBy,
    /// `from` is used for / suited to task or setting `to`.
    UsedFor,
    /// `from` improves on `to`.
    ImprovesOn,
    /// `from` does better than `to` (in the aspect the sentence gives).
    Outperforms,
    /// The notes say `from` is similar / comparable to `to`.
    SimilarTo,
    /// `from` mitigates, avoids or solves problem `to`.
    Mitigates,
    /// `from` causes `to`.
    Causes,
    /// `from` comes before `to` in a computation or pipeline (`X 放在 Y 之前`, `placed before`).
    AppliedBefore,
    /// `from` is an implementation of `to` (code, library, operator: `X 在 Y 库中的实现`).
    Implements,
    /// `from` (a module, parameters) is inserted into the structure of `to` (`插入到 Y 中`).
    InsertedInto,
    /// `from` has problem or drawback `to` (`X 存在 Y 问题`, `suffers from`).
    HasProblem,
    /// `from` is used together with `to` (`X 与 Y 结合使用`, `combined with`).
    UsedWith,
    /// Method `from` (only) updates / trains parameters or module `to` (`只更新 Y`, `仅对 Y 进行微调`).
    Updates,
    /// Co-occurrence within sentences, weighted by PMI.
    RelatedTo,
}

impl Rel {
    pub const TYPED: &'static [Rel] = &[
        Rel::IsA,
        Rel::Uses,
        Rel::BasedOn,
        Rel::PartOf,
        Rel::Replaces,
        Rel::ContrastedWith,
        Rel::ProposedBy,
        Rel::UsedFor,
        Rel::ImprovesOn,
        Rel::Outperforms,
        Rel::SimilarTo,
        Rel::Mitigates,
        Rel::Causes,
        Rel::AppliedBefore,
        Rel::Implements,
        Rel::InsertedInto,
        Rel::HasProblem,
        Rel::UsedWith,
        Rel::Updates,
    ];

    pub fn is_symmetric(self) -> bool {
        matches!(self, Rel::ContrastedWith | Rel::SimilarTo | Rel::UsedWith | Rel::RelatedTo)
    }

    pub fn is_typed(self) -> bool {
        self != Rel::RelatedTo
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Rel::IsA => "is_a",
            Rel::Uses => "uses",
            Rel::BasedOn => "based_on",
            Rel::PartOf => "part_of",
            Rel::Replaces => "replaces",
            Rel::ContrastedWith => "contrasted_with",
            Rel::ProposedBy => "proposed_by",
            Rel::UsedFor => "used_for",
            Rel::ImprovesOn => "improves_on",
            Rel::Outperforms => "outperforms",
            Rel::SimilarTo => "similar_to",
            Rel::Mitigates => "mitigates",
            Rel::Causes => "causes",
            Rel::AppliedBefore => "applied_before",
            Rel::Implements => "implements",
            Rel::InsertedInto => "inserted_into",
            Rel::HasProblem => "has_problem",
            Rel::UsedWith => "used_with",
            Rel::Updates => "updates",
            Rel::RelatedTo => "related_to",
        }
    }

    pub fn parse(s: &str) -> Option<Rel> {
        Rel::TYPED.iter().copied().chain([Rel::RelatedTo]).find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Rel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a concept is mentioned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mention {
    /// Shared: a graph holds tens of thousands of mentions of a few thousand chunks.
    pub chunk_id: Arc<str>,
    pub path: Arc<str>,
    pub line: usize,
}

/// The sentence an edge comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub path: Arc<str>,
    pub line: usize,
    pub sentence: String,
}

/// A concept's definition and where the notes give it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Definition {
    pub text: String,
    pub path: Arc<str>,
    pub line: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Concept {
    /// Stable id: the concept key of the label, made unique.
    pub id: String,
    /// Canonical label: the heading form, else the most frequent form.
    pub label: String,
    /// Every spelling seen, the label first.
    pub aliases: Vec<String>,
    pub kind: Kind,
    pub mentions: Vec<Mention>,
    pub definition: Option<Definition>,
    /// Notes that mention it.
    #[serde(default)]
    pub notes: usize,
    /// The section that is about it (its heading), if any: `path:line` of the heading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home: Option<Mention>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Relation {
    /// Concept id.
    pub from: String,
    /// Concept id.
    pub to: String,
    pub rel: Rel,
    pub confidence: f32,
    pub evidence: Vec<Evidence>,
    /// Shown by heading or list structure rather than stated in a sentence.
    #[serde(default)]
    pub structural: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ConceptGraph {
    pub nodes: Vec<Concept>,
    pub edges: Vec<Relation>,
    /// Alias key → node index, built on the first lookup (an index update only writes the
    /// graph and never needs it).
    #[serde(skip)]
    index: OnceLock<HashMap<String, usize>>,
}

/// The answer to a lookup.
#[derive(Debug, Clone)]
pub enum Lookup<'a> {
    Found(&'a Concept),
    /// Nothing by that name; the closest labels, best first.
    NotFound {
        suggestions: Vec<String>,
    },
}

impl ConceptGraph {
    pub fn new(nodes: Vec<Concept>, edges: Vec<Relation>) -> Self {
        ConceptGraph { nodes, edges, index: OnceLock::new() }
    }

    /// Forgets the alias index (call after changing the nodes); the next lookup rebuilds it.
    pub fn reindex(&mut self) {
        self.index = OnceLock::new();
    }

    fn alias_index(&self) -> &HashMap<String, usize> {
        self.index.get_or_init(|| {
            let mut index = HashMap::new();
            for (i, c) in self.nodes.iter().enumerate() {
                for a in std::iter::once(&c.label).chain(&c.aliases).chain(std::iter::once(&c.id)) {
                    index.entry(concept_key(a)).or_insert(i);
                }
            }
            index
        })
    }

    pub fn from_json(s: &str) -> serde_json::Result<Self> {
        serde_json::from_str(s)
    }

    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.alias_index().get(&concept_key(name)).copied()
    }

    pub fn by_id(&self, id: &str) -> Option<&Concept> {
        self.nodes.iter().find(|c| c.id == id)
    }

    /// Finds a concept by any alias, case- and spelling-insensitively (`layer norm` finds
    /// `LayerNorm`); otherwise up to five "did you mean" labels.
    pub fn lookup(&self, name: &str) -> Lookup<'_> {
        match self.node_index(name) {
            Some(i) => Lookup::Found(&self.nodes[i]),
            None => Lookup::NotFound { suggestions: self.suggest(name, 5) },
        }
    }

    /// Labels whose aliases are closest to `name` (substring first, then edit distance).
    pub fn suggest(&self, name: &str, n: usize) -> Vec<String> {
        let k = concept_key(name);
        if k.is_empty() {
            return Vec::new();
        }
        let mut scored: Vec<(usize, usize, &str)> = Vec::new();
        for c in &self.nodes {
            let mut best = usize::MAX;
            for a in c.aliases.iter().chain(std::iter::once(&c.label)) {
                let ak = concept_key(a);
                let d = if ak.contains(&k) || k.contains(&ak) && ak.chars().count() >= 2 {
                    ak.chars().count().abs_diff(k.chars().count()) / 4
                } else {
                    strsim::levenshtein(&ak, &k)
                };
                best = best.min(d);
            }
            let limit = (k.chars().count() / 3).max(1);
            if best <= limit {
                scored.push((best, usize::MAX - c.mentions.len(), &c.label));
            }
        }
        scored.sort();
        scored.into_iter().take(n).map(|(_, _, l)| l.to_string()).collect()
    }

    /// A petgraph view: node weights are indices into `nodes`, edge weights indices into `edges`.
    pub fn digraph(&self) -> DiGraph<usize, usize> {
        let mut g = DiGraph::with_capacity(self.nodes.len(), self.edges.len());
        let idx: Vec<NodeIndex> = (0..self.nodes.len()).map(|i| g.add_node(i)).collect();
        let pos: HashMap<&str, usize> = self.nodes.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
        for (e, r) in self.edges.iter().enumerate() {
            if let (Some(&a), Some(&b)) = (pos.get(r.from.as_str()), pos.get(r.to.as_str())) {
                g.add_edge(idx[a], idx[b], e);
            }
        }
        g
    }

    /// Number of edges (typed and related_to) touching each node, by node index.
    pub fn degrees(&self, typed_only: bool) -> Vec<usize> {
        let pos: HashMap<&str, usize> = self.nodes.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
        let mut d = vec![0; self.nodes.len()];
        for r in &self.edges {
            if typed_only && !r.rel.is_typed() {
                continue;
            }
            for id in [&r.from, &r.to] {
                if let Some(&i) = pos.get(id.as_str()) {
                    d[i] += 1;
                }
            }
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn concept(id: &str, aliases: &[&str]) -> Concept {
        Concept {
            id: id.into(),
            label: aliases[0].into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            kind: Kind::Unknown,
            mentions: vec![],
            definition: None,
            notes: 1,
            home: None,
        }
    }

    #[test]
    fn lookup_by_any_alias_and_suggestions() {
        let g = ConceptGraph::new(
            vec![concept("layernorm", &["LayerNorm", "layer norm", "层归一化"]), concept("rmsnorm", &["RMSNorm"])],
            vec![],
        );
        assert!(matches!(g.lookup("Layer-Norm"), Lookup::Found(c) if c.id == "layernorm"));
        assert!(matches!(g.lookup("层归一化"), Lookup::Found(c) if c.id == "layernorm"));
        match g.lookup("RMSNrom") {
            Lookup::NotFound { suggestions } => assert_eq!(suggestions, ["RMSNorm"]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn json_shape() {
        let g = ConceptGraph::new(
            vec![concept("a", &["A"]), concept("b", &["B"])],
            vec![Relation {
                from: "a".into(),
                to: "b".into(),
                rel: Rel::Uses,
                confidence: 0.8,
                evidence: vec![Evidence { path: "n.md".into(), line: 3, sentence: "A uses B.".into() }],
                structural: false,
            }],
        );
        let v: serde_json::Value = serde_json::to_value(&g).unwrap();
        assert_eq!(v["edges"][0]["rel"], "uses");
        assert_eq!(v["nodes"][0]["kind"], "unknown");
        for f in ["id", "label", "aliases", "kind", "mentions", "definition"] {
            assert!(v["nodes"][0].get(f).is_some(), "{f}");
        }
        let back = ConceptGraph::from_json(&v.to_string()).unwrap();
        assert_eq!(back.node_index("b"), Some(1));
        assert_eq!(back.digraph().edge_count(), 1);
    }
}
