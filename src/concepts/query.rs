//! Questions asked of a built graph: a concept's neighbours grouped by relation, the shortest
//! typed path between two concepts (evidence per hop), and a `prep` study list.
//!
//! Owns only graph traversal and ordering. It returns plain data structs for the CLI to render; it
//! never prints, extracts or changes the graph.

use std::collections::{BTreeMap, HashMap, VecDeque};

use petgraph::visit::EdgeRef;
use serde::Serialize;

use super::model::{Concept, ConceptGraph, Evidence, Rel, Relation};

/// A neighbour across one edge.
#[derive(Debug, Clone, Serialize)]
pub struct Neighbour {
    pub id: String,
    pub label: String,
    /// True when the edge points from the asked concept to this one.
    pub outgoing: bool,
    pub confidence: f32,
    pub structural: bool,
    pub evidence: Vec<Evidence>,
}

/// Neighbours of `id` grouped by relation (typed first, related_to last), strongest first.
pub fn neighbours(g: &ConceptGraph, id: &str) -> BTreeMap<Rel, Vec<Neighbour>> {
    let mut out: BTreeMap<Rel, Vec<Neighbour>> = BTreeMap::new();
    for e in &g.edges {
        let (other, outgoing) = if e.from == id {
            (&e.to, true)
        } else if e.to == id {
            (&e.from, false)
        } else {
            continue;
        };
        let Some(c) = g.by_id(other) else { continue };
        out.entry(e.rel).or_default().push(Neighbour {
            id: c.id.clone(),
            label: c.label.clone(),
            outgoing: outgoing || e.rel.is_symmetric(),
            confidence: e.confidence,
            structural: e.structural,
            evidence: e.evidence.clone(),
        });
    }
    for v in out.values_mut() {
        v.sort_by(|a, b| b.confidence.total_cmp(&a.confidence).then(a.label.cmp(&b.label)));
    }
    out
}

/// One hop of a path.
#[derive(Debug, Clone, Serialize)]
pub struct Hop {
    pub from: String,
    pub rel: Rel,
    pub to: String,
    /// True when the edge is read against its direction (`B is_a A` walked from A to B).
    pub reversed: bool,
    pub evidence: Vec<Evidence>,
}

/// The shortest path between two concepts over typed edges (either direction), fewest hops, then
/// highest confidence. `None` when they are not connected.
pub fn shortest_path(g: &ConceptGraph, from_id: &str, to_id: &str) -> Option<Vec<Hop>> {
    let dg = g.digraph();
    let pos: HashMap<&str, usize> = g.nodes.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
    let (&s, &t) = (pos.get(from_id)?, pos.get(to_id)?);
    if s == t {
        return Some(Vec::new());
    }
    let ni = |i: usize| petgraph::graph::NodeIndex::new(i);
    let mut prev: Vec<Option<(usize, usize, bool)>> = vec![None; g.nodes.len()];
    let mut seen = vec![false; g.nodes.len()];
    seen[s] = true;
    let mut q = VecDeque::from([s]);
    while let Some(u) = q.pop_front() {
        let mut next: Vec<(f32, usize, usize, bool)> = Vec::new();
        for er in dg.edges_directed(ni(u), petgraph::Direction::Outgoing) {
            let e = &g.edges[*er.weight()];
            if e.rel.is_typed() {
                next.push((e.confidence, er.target().index(), *er.weight(), false));
            }
        }
        for er in dg.edges_directed(ni(u), petgraph::Direction::Incoming) {
            let e = &g.edges[*er.weight()];
            if e.rel.is_typed() {
                next.push((e.confidence, er.source().index(), *er.weight(), true));
            }
        }
        next.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (_, v, e, rev) in next {
            if !seen[v] {
                seen[v] = true;
                prev[v] = Some((u, e, rev));
                if v == t {
                    q.clear();
                    break;
                }
                q.push_back(v);
            }
        }
    }
    prev[t]?;
    let mut hops = Vec::new();
    let mut cur = t;
    while cur != s {
        let (p, e, rev) = prev[cur]?;
        let r: &Relation = &g.edges[e];
        hops.push(Hop {
            from: g.nodes[p].label.clone(),
            rel: r.rel,
            to: g.nodes[cur].label.clone(),
            reversed: rev,
            evidence: r.evidence.clone(),
        });
        cur = p;
    }
    hops.reverse();
    Some(hops)
}

/// One entry of a study list.
#[derive(Debug, Clone, Serialize)]
pub struct PrepItem {
    pub id: String,
    pub label: String,
    /// Why it is on the list: `itself`, `builds on (uses)`, `contrast (replaces)`, `sibling under X` …
    pub why: String,
    pub definition: Option<String>,
    /// The section to read: `path:line`.
    pub read: Option<String>,
    pub evidence: Option<Evidence>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PrepList {
    pub concept: String,
    /// Read in this order: what it builds on, the concept itself, contrasts, siblings.
    pub items: Vec<PrepItem>,
}

fn strongest(mut v: Vec<&Relation>) -> Vec<&Relation> {
    v.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    v
}

fn where_to_read(c: &Concept) -> Option<String> {
    c.home
        .as_ref()
        .map(|h| format!("{}:{}", h.path, h.line))
        .or_else(|| c.definition.as_ref().map(|d| format!("{}:{}", d.path, d.line)))
        .or_else(|| c.mentions.first().map(|m| format!("{}:{}", m.path, m.line)))
}

fn item(c: &Concept, why: String, evidence: Option<Evidence>) -> PrepItem {
    PrepItem {
        id: c.id.clone(),
        label: c.label.clone(),
        why,
        definition: c.definition.as_ref().map(|d| d.text.clone()),
        read: where_to_read(c),
        evidence,
    }
}

/// A study list for one concept: what it builds on (its is_a / uses / part_of / based_on
/// targets), the concept itself, what it is contrasted with or replaces, and its siblings (other
/// concepts under the same is_a / part_of parent), each with the section to read.
pub fn prep(g: &ConceptGraph, id: &str) -> Option<PrepList> {
    let me = g.by_id(id)?;
    let mut items: Vec<PrepItem> = Vec::new();
    let mut listed: Vec<String> = vec![id.to_string()];
    let mut push = |items: &mut Vec<PrepItem>, c: &Concept, why: String, ev: Option<Evidence>| {
        if !listed.contains(&c.id) {
            listed.push(c.id.clone());
            items.push(item(c, why, ev));
        }
    };
    let foundations = strongest(
        g.edges
            .iter()
            .filter(|e| {
                e.from == id
                    && matches!(
                        e.rel,
                        Rel::IsA
                            | Rel::Uses
                            | Rel::PartOf
                            | Rel::BasedOn
                            | Rel::Implements
                            | Rel::InsertedInto
                            | Rel::Updates
                    )
            })
            .collect(),
    );
    for e in &foundations {
        if let Some(c) = g.by_id(&e.to) {
            push(&mut items, c, format!("builds on ({})", e.rel), e.evidence.first().cloned());
        }
    }
    items.push(item(me, "itself".into(), None));
    let contrasts = strongest(
        g.edges
            .iter()
            .filter(|e| {
                (e.from == id || e.to == id)
                    && matches!(
                        e.rel,
                        Rel::ContrastedWith | Rel::Replaces | Rel::SimilarTo | Rel::Outperforms | Rel::ImprovesOn
                    )
            })
            .collect(),
    );
    for e in &contrasts {
        let other = if e.from == id { &e.to } else { &e.from };
        if let Some(c) = g.by_id(other) {
            push(&mut items, c, format!("contrast ({})", e.rel), e.evidence.first().cloned());
        }
    }
    for parent in foundations.iter().filter(|e| matches!(e.rel, Rel::IsA | Rel::PartOf)) {
        let pl = g.by_id(&parent.to).map_or(parent.to.clone(), |c| c.label.clone());
        let sibs =
            strongest(g.edges.iter().filter(|e| e.to == parent.to && e.rel == parent.rel && e.from != id).collect());
        for e in sibs.into_iter().take(8) {
            if let Some(c) = g.by_id(&e.from) {
                push(&mut items, c, format!("sibling under {pl}"), e.evidence.first().cloned());
            }
        }
    }
    Some(PrepList { concept: me.label.clone(), items })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::concepts::model::{Definition, Kind, Mention};

    fn node(id: &str) -> Concept {
        Concept {
            id: id.into(),
            label: id.into(),
            aliases: vec![id.into()],
            kind: Kind::Unknown,
            mentions: vec![Mention { chunk_id: "c".into(), path: "n.md".into(), line: 1 }],
            definition: Some(Definition { text: format!("{id} is …"), path: "n.md".into(), line: 2 }),
            notes: 1,
            home: None,
        }
    }

    fn e(from: &str, rel: Rel, to: &str) -> Relation {
        Relation {
            from: from.into(),
            to: to.into(),
            rel,
            confidence: 0.7,
            evidence: vec![Evidence { path: "n.md".into(), line: 3, sentence: format!("{from} {rel} {to}") }],
            structural: false,
        }
    }

    fn g() -> ConceptGraph {
        ConceptGraph::new(
            ["llama", "rmsnorm", "layernorm", "norm", "swiglu"].into_iter().map(node).collect(),
            vec![
                e("llama", Rel::Uses, "rmsnorm"),
                e("llama", Rel::Uses, "swiglu"),
                e("rmsnorm", Rel::Replaces, "layernorm"),
                e("rmsnorm", Rel::IsA, "norm"),
                e("layernorm", Rel::IsA, "norm"),
                e("llama", Rel::RelatedTo, "norm"),
            ],
        )
    }

    #[test]
    fn neighbours_by_relation() {
        let n = neighbours(&g(), "rmsnorm");
        assert_eq!(n[&Rel::Uses][0].label, "llama");
        assert!(!n[&Rel::Uses][0].outgoing);
        assert_eq!(n[&Rel::Replaces][0].label, "layernorm");
    }

    #[test]
    fn path_over_typed_edges_with_evidence() {
        let p = shortest_path(&g(), "llama", "layernorm").unwrap();
        let labels: Vec<(&str, Rel, &str)> = p.iter().map(|h| (h.from.as_str(), h.rel, h.to.as_str())).collect();
        assert_eq!(labels, [("llama", Rel::Uses, "rmsnorm"), ("rmsnorm", Rel::Replaces, "layernorm")]);
        assert!(!p[0].evidence.is_empty());
        assert!(shortest_path(&g(), "swiglu", "norm").is_some());
    }

    #[test]
    fn prep_lists_foundations_contrasts_and_siblings() {
        let p = prep(&g(), "rmsnorm").unwrap();
        let order: Vec<(&str, &str)> = p.items.iter().map(|i| (i.label.as_str(), i.why.as_str())).collect();
        assert_eq!(order[0], ("norm", "builds on (is_a)"));
        assert_eq!(order[1], ("rmsnorm", "itself"));
        assert_eq!(order[2], ("layernorm", "contrast (replaces)"));
        assert!(p.items.iter().all(|i| i.read.is_some()));
    }
}
