//! Scoring a concept graph against a hand-made gold graph (`eval-graph --gold FILE`).
//!
//! Owns the gold file format (see `eval/graphs/README.md` of the shared evaluation data), the
//! name normalisation of the scoring rule (NFKC, lower case, spaces / `-` / `_` removed), the
//! mapping of our relation names onto the gold's, and the figures: concept recall (core, all),
//! typed-relation precision and recall, pair recall, not-stated relations produced.
//!
//! The gold for one note is compared with the graph built from the whole corpus restricted to the
//! edges that have evidence in that note (`source.path`), and with the concepts mentioned in it.
//! It builds no graph and reads no notes.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use super::model::{ConceptGraph, Rel, Relation};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Deserialize)]
pub struct GoldGraph {
    pub source: GoldSource,
    pub concepts: Vec<GoldConcept>,
    pub relations: Vec<GoldRelation>,
    #[serde(default)]
    pub not_stated: Vec<GoldNotStated>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GoldSource {
    pub path: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GoldConcept {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub tier: String,
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GoldRelation {
    pub from: String,
    pub rel: String,
    pub to: String,
    #[serde(default)]
    pub support: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GoldNotStated {
    pub from: String,
    pub rel: String,
    pub to: String,
}

/// Reads a gold graph file.
pub fn read_gold(path: &Path) -> Result<GoldGraph> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::Input {
        path: path.to_path_buf(),
        msg: format!("not a gold graph ({e}); see the schema in eval/graphs/README.md"),
    })
}

/// One produced edge as the report lists it.
#[derive(Debug, Clone, Serialize)]
pub struct EdgeRow {
    pub from: String,
    pub rel: String,
    pub to: String,
    pub line: usize,
    /// The evidence sentence in the note (empty for gold rows).
    pub sentence: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct GraphEvalReport {
    pub source_path: String,
    pub core_found: usize,
    pub core_total: usize,
    pub core_recall: f64,
    pub all_found: usize,
    pub all_total: usize,
    pub all_recall: f64,
    /// Typed edges with evidence in the note.
    pub typed_produced: usize,
    /// Of those, edges whose two ends are gold concepts.
    pub typed_judged: usize,
    pub typed_correct: usize,
    pub typed_precision: f64,
    /// Gold relations with explicit or structural support.
    pub gold_relations: usize,
    pub gold_found: usize,
    pub typed_recall: f64,
    pub pair_recall: f64,
    pub not_stated_produced: Vec<EdgeRow>,
    pub missed_core: Vec<String>,
    pub false_positives: Vec<EdgeRow>,
    pub missed_relations: Vec<EdgeRow>,
}

/// The gold's name normalisation: NFKC, lower case, white space, `-` and `_` removed.
pub fn norm_name(s: &str) -> String {
    s.nfkc().filter(|c| !c.is_whitespace() && !matches!(c, '-' | '_')).flat_map(char::to_lowercase).collect()
}

/// Gold relation types our relation may stand for, and whether the direction flips.
/// `part_of(A, B)` is `has_part(B, A)`. A structural part_of (section A under heading B) says only that
/// A is discussed as part of B: the gold writes that fact as `has_part(B, A)`, as category membership
/// `is_a(A, B)`, or for a component section under a model's heading as `uses(B, A)`; any of the three
/// counts.
fn gold_forms(rel: Rel, structural: bool) -> Vec<(&'static str, bool)> {
    match rel {
        Rel::IsA => vec![("is_a", false)],
        Rel::Uses => vec![("uses", false), ("trained_with", false), ("requires", false), ("implements", false)],
        Rel::BasedOn => vec![("based_on", false), ("uses", false)],
        Rel::PartOf if structural => vec![("has_part", true), ("is_a", false), ("uses", true)],
        Rel::PartOf => vec![("has_part", true)],
        Rel::Replaces => vec![("replaces", false)],
        Rel::ContrastedWith => vec![("contrasted_with", false), ("contrasted_with", true)],
        Rel::SimilarTo => vec![("similar_to", false), ("similar_to", true)],
        Rel::ProposedBy => vec![("proposed_by", false)],
        Rel::UsedFor => vec![("used_for", false)],
        Rel::ImprovesOn => vec![("improves_on", false)],
        Rel::Outperforms => vec![("outperforms", false)],
        Rel::Mitigates => vec![("mitigates", false)],
        Rel::Causes => vec![("causes", false)],
        Rel::AppliedBefore => vec![("applied_before", false)],
        Rel::Implements => vec![("implements", false)],
        Rel::InsertedInto => vec![("inserted_into", false)],
        Rel::HasProblem => vec![("has_problem", false)],
        Rel::UsedWith => vec![("used_with", false), ("used_with", true)],
        Rel::Updates => vec![("updates", false)],
        Rel::RelatedTo => vec![],
    }
}

/// Scores `graph` against `gold`.
pub fn eval_graph(graph: &ConceptGraph, gold: &GoldGraph) -> GraphEvalReport {
    let path = gold.source.path.as_str();
    // Gold alias → gold concept ids.
    let mut alias_to_gold: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, c) in gold.concepts.iter().enumerate() {
        for a in c.aliases.iter().chain([&c.name, &c.id]) {
            let k = norm_name(a);
            if !k.is_empty() {
                alias_to_gold.entry(k).or_default().push(i);
            }
        }
    }
    let gold_index: BTreeMap<&str, usize> = gold.concepts.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();
    // Node → gold concepts it names.
    let node_gold: Vec<Vec<usize>> = graph
        .nodes
        .iter()
        .map(|n| {
            let mut v: Vec<usize> = n
                .aliases
                .iter()
                .chain([&n.label])
                .flat_map(|a| alias_to_gold.get(&norm_name(a)).cloned().unwrap_or_default())
                .collect();
            v.sort();
            v.dedup();
            v
        })
        .collect();
    let node_pos: BTreeMap<&str, usize> = graph.nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();

    // Concept recall over nodes mentioned in the note.
    let mut found_gold: HashSet<usize> = HashSet::new();
    for (i, n) in graph.nodes.iter().enumerate() {
        let in_note = n.mentions.iter().any(|m| &*m.path == path) || n.home.as_ref().is_some_and(|h| &*h.path == path);
        if in_note {
            found_gold.extend(node_gold[i].iter().copied());
        }
    }
    let core: Vec<usize> = (0..gold.concepts.len()).filter(|&i| gold.concepts[i].tier == "core").collect();
    let core_found = core.iter().filter(|i| found_gold.contains(i)).count();
    let all_found = (0..gold.concepts.len()).filter(|i| found_gold.contains(i)).count();

    // Edges in scope.
    let scoped: Vec<&Relation> =
        graph.edges.iter().filter(|e| e.rel.is_typed() && e.evidence.iter().any(|ev| &*ev.path == path)).collect();
    let ends = |e: &Relation| -> Option<(&Vec<usize>, &Vec<usize>)> {
        let (a, b) = (node_pos.get(e.from.as_str())?, node_pos.get(e.to.as_str())?);
        Some((&node_gold[*a], &node_gold[*b]))
    };
    let matches = |e: &Relation, gfrom: usize, grel: &str, gto: usize| -> bool {
        let Some((fa, fb)) = ends(e) else { return false };
        gold_forms(e.rel, e.structural).iter().any(|&(r, flip)| {
            r == grel
                && if flip {
                    fa.contains(&gto) && fb.contains(&gfrom)
                } else {
                    fa.contains(&gfrom) && fb.contains(&gto)
                }
        })
    };
    let gid = |id: &str| gold_index.get(id).copied();
    let row = |e: &Relation| EdgeRow {
        from: graph.by_id(&e.from).map_or(e.from.clone(), |c| c.label.clone()),
        rel: e.rel.as_str().to_string(),
        to: graph.by_id(&e.to).map_or(e.to.clone(), |c| c.label.clone()),
        line: e.evidence.iter().find(|ev| &*ev.path == path).map_or(0, |ev| ev.line),
        sentence: e.evidence.iter().find(|ev| &*ev.path == path).map_or(String::new(), |ev| ev.sentence.clone()),
    };

    let mut judged = 0;
    let mut correct = 0;
    let mut false_positives = Vec::new();
    for e in &scoped {
        let Some((fa, fb)) = ends(e) else { continue };
        if fa.is_empty() || fb.is_empty() {
            continue;
        }
        judged += 1;
        let ok = gold.relations.iter().any(|g| match (gid(&g.from), gid(&g.to)) {
            (Some(a), Some(b)) => matches(e, a, &g.rel, b),
            _ => false,
        });
        if ok {
            correct += 1;
        } else {
            false_positives.push(row(e));
        }
    }

    let gold_rels: Vec<&GoldRelation> =
        gold.relations.iter().filter(|g| g.support == "explicit" || g.support == "structural").collect();
    let mut gold_found = 0;
    let mut pairs_found = 0;
    let mut missed_relations = Vec::new();
    for g in &gold_rels {
        let (Some(a), Some(b)) = (gid(&g.from), gid(&g.to)) else { continue };
        if scoped.iter().any(|e| matches(e, a, &g.rel, b)) {
            gold_found += 1;
        } else {
            missed_relations.push(EdgeRow {
                from: g.from.clone(),
                rel: g.rel.clone(),
                to: g.to.clone(),
                line: 0,
                sentence: String::new(),
            });
        }
        let linked = scoped.iter().any(|e| {
            ends(e).is_some_and(|(fa, fb)| fa.contains(&a) && fb.contains(&b) || fa.contains(&b) && fb.contains(&a))
        });
        if linked {
            pairs_found += 1;
        }
    }
    let mut not_stated_produced = Vec::new();
    for ns in &gold.not_stated {
        let (Some(a), Some(b)) = (gid(&ns.from), gid(&ns.to)) else { continue };
        for e in &scoped {
            if matches(e, a, &ns.rel, b) {
                not_stated_produced.push(row(e));
            }
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    GraphEvalReport {
        source_path: path.to_string(),
        core_found,
        core_total: core.len(),
        core_recall: ratio(core_found, core.len()),
        all_found,
        all_total: gold.concepts.len(),
        all_recall: ratio(all_found, gold.concepts.len()),
        typed_produced: scoped.len(),
        typed_judged: judged,
        typed_correct: correct,
        typed_precision: ratio(correct, judged),
        gold_relations: gold_rels.len(),
        gold_found,
        typed_recall: ratio(gold_found, gold_rels.len()),
        pair_recall: ratio(pairs_found, gold_rels.len()),
        not_stated_produced,
        missed_core: core.iter().filter(|i| !found_gold.contains(i)).map(|&i| gold.concepts[i].name.clone()).collect(),
        false_positives,
        missed_relations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::concepts::model::{Concept, Evidence, Kind, Mention};

    fn node(id: &str, aliases: &[&str]) -> Concept {
        Concept {
            id: id.into(),
            label: aliases[0].into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            kind: Kind::Unknown,
            mentions: vec![Mention { chunk_id: "c".into(), path: "n.md".into(), line: 1 }],
            definition: None,
            notes: 1,
            home: None,
        }
    }

    fn edge(from: &str, rel: Rel, to: &str, structural: bool) -> Relation {
        Relation {
            from: from.into(),
            to: to.into(),
            rel,
            confidence: 0.8,
            evidence: vec![Evidence { path: "n.md".into(), line: 1, sentence: "s".into() }],
            structural,
        }
    }

    #[test]
    fn scoring_maps_names_and_relations() {
        let gold: GoldGraph = serde_json::from_str(
            r#"{"source":{"path":"n.md"},
                "concepts":[{"id":"ln","name":"LayerNorm","tier":"core","aliases":["Layer Norm","LN"]},
                            {"id":"norm","name":"Normalization","tier":"core","aliases":["归一化"]},
                            {"id":"rms","name":"RMSNorm","tier":"extended","aliases":["RMS Norm"]}],
                "relations":[{"from":"ln","rel":"is_a","to":"norm","support":"structural"},
                             {"from":"rms","rel":"contrasted_with","to":"ln","support":"explicit"},
                             {"from":"norm","rel":"has_part","to":"rms","support":"implied"}],
                "not_stated":[{"from":"rms","rel":"replaces","to":"ln"}]}"#,
        )
        .unwrap();
        let g = ConceptGraph::new(
            vec![
                node("layernorm", &["layer-norm", "LayerNorm"]),
                node("guiyi", &["归一化"]),
                node("rmsnorm", &["RMSNorm"]),
            ],
            vec![
                edge("layernorm", Rel::PartOf, "guiyi", true),
                edge("layernorm", Rel::ContrastedWith, "rmsnorm", false),
                edge("rmsnorm", Rel::Replaces, "layernorm", false),
            ],
        );
        let r = eval_graph(&g, &gold);
        assert_eq!((r.core_found, r.all_found), (2, 3));
        assert_eq!((r.typed_judged, r.typed_correct), (3, 2));
        assert_eq!((r.gold_relations, r.gold_found), (2, 2));
        assert_eq!(r.not_stated_produced.len(), 1);
        assert!((r.pair_recall - 1.0).abs() < 1e-9);
    }
}
