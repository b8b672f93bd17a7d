//! JSON for a [`GraphView`]: the concept graph's own shape (`{"nodes": [{"id", "label", "aliases",
//! "kind", "mentions", "definition", …}], "edges": [{"from", "to", "rel", "confidence", "evidence":
//! [{"path", "line", "sentence"}], …}]}`), holding only what the view shows, so that
//! [`ConceptGraph::from_json`](crate::concepts::model::ConceptGraph::from_json) reads it back.
//!
//! Owns nothing of the shape itself: nodes and edges are serialised by the concept model's own
//! serde derives, so fields the model gains appear here too. It must not choose what to show.

use serde::Serialize;

use super::view::GraphView;
use crate::concepts::model::{Concept, Relation};

#[derive(Serialize)]
struct Out<'a> {
    nodes: Vec<&'a Concept>,
    edges: Vec<&'a Relation>,
}

/// Pretty-printed JSON of the view's nodes and edges, in view order.
pub fn to_json(view: &GraphView<'_>) -> String {
    let out = Out {
        nodes: view.nodes.iter().map(|n| n.concept).collect(),
        edges: view.edges.iter().map(|e| e.relation).collect(),
    };
    let mut s = serde_json::to_string_pretty(&out).expect("the concept model serialises");
    s.push('\n');
    s
}
