//! Choosing what to draw: the part of the concept graph a map shows, from the flags of
//! `notegraph graph` (`--concept`, `--depth`, `--rel`, `--min-confidence`, `--max-nodes`, `--note`,
//! `--cluster`).
//!
//! Owns edge filtering, the neighbourhood walk, capping at a readable size (by importance, keeping
//! what is shown connected), clustering by note or section, and the report of what was cut. It
//! borrows the graph and never changes it; it must not format or print anything (the writers and
//! the CLI do).

use std::collections::{HashMap, HashSet, VecDeque};
use std::str::FromStr;

use crate::chunk::Chunk;
use crate::concepts::model::{Concept, ConceptGraph, Lookup, Rel, Relation};

/// Default `--depth` around `--concept`.
pub const DEFAULT_DEPTH: usize = 2;
/// Default `--max-nodes`: about what a page or a screen shows legibly.
pub const DEFAULT_MAX_NODES: usize = 80;

/// How to group nodes into boxes (`--cluster`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cluster {
    #[default]
    None,
    /// By the note a concept lives in (its heading's note, else the note mentioning it most).
    Note,
    /// By the top-level section of that note (needs [`ViewOptions::sections`]).
    Section,
}

impl FromStr for Cluster {
    type Err = ViewError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "" => Ok(Cluster::None),
            "note" | "notes" => Ok(Cluster::Note),
            "section" | "sections" => Ok(Cluster::Section),
            _ => Err(ViewError::Usage(format!("unknown --cluster {s:?}; use none, note or section"))),
        }
    }
}

/// The top-level section of each chunk, for `--cluster section`: chunk id → (note, section title).
/// Built by the caller from the notes' chunks ([`Sections::from_chunks`]); the graph itself only
/// knows chunk ids.
#[derive(Debug, Clone, Default)]
pub struct Sections {
    by_chunk: HashMap<String, String>,
}

impl Sections {
    /// The top-level section of every chunk: the first heading, or the second when a note's
    /// headings all sit under one title heading (`# Note title` then `## …`).
    pub fn from_chunks<'a>(chunks: impl IntoIterator<Item = &'a Chunk>) -> Sections {
        let mut by_note: HashMap<&str, Vec<&Chunk>> = HashMap::new();
        for c in chunks {
            by_note.entry(c.path.as_str()).or_default().push(c);
        }
        let mut by_chunk = HashMap::new();
        for (_, cs) in by_note {
            let firsts: HashSet<&str> = cs.iter().filter_map(|c| c.heading_path.first().map(String::as_str)).collect();
            let titled = firsts.len() == 1 && cs.iter().any(|c| c.heading_path.len() >= 2);
            for c in cs {
                let level = if titled { 1 } else { 0 };
                let title = c.heading_path.get(level).or_else(|| c.heading_path.first());
                if let Some(t) = title {
                    by_chunk.insert(c.id.clone(), t.trim().to_string());
                }
            }
        }
        Sections { by_chunk }
    }

    pub fn insert(&mut self, chunk_id: impl Into<String>, section: impl Into<String>) {
        self.by_chunk.insert(chunk_id.into(), section.into());
    }

    pub fn get(&self, chunk_id: &str) -> Option<&str> {
        self.by_chunk.get(chunk_id).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.by_chunk.is_empty()
    }
}

/// What to show: one field per flag of `notegraph graph`.
#[derive(Debug, Clone)]
pub struct ViewOptions {
    /// `--concept`: centre the map on this concept (any alias, any spelling).
    pub concept: Option<String>,
    /// `--depth`: hops around the centre (default 2). Ignored without `concept`.
    pub depth: usize,
    /// `--rel is_a,uses`: only these relation types ([`parse_rels`]). `None`: every typed relation,
    /// plus `related_to` when `include_related`.
    pub rels: Option<Vec<Rel>>,
    /// `--min-confidence`: drop weaker edges.
    pub min_confidence: f32,
    /// `--max-nodes`: cap (default 80); the cut is reported.
    pub max_nodes: usize,
    /// `--note PATH`: only relations stated in this note (path, path suffix, or file name with or
    /// without `.md`).
    pub note: Option<String>,
    /// Add co-occurrence (`related_to`) edges when `rels` is `None`.
    pub include_related: bool,
    /// `--cluster`.
    pub cluster: Cluster,
    /// Chunk → top-level section, for `Cluster::Section` (without it, clusters fall back to notes).
    pub sections: Option<Sections>,
}

impl Default for ViewOptions {
    fn default() -> Self {
        ViewOptions {
            concept: None,
            depth: DEFAULT_DEPTH,
            rels: None,
            min_confidence: 0.0,
            max_nodes: DEFAULT_MAX_NODES,
            note: None,
            include_related: false,
            cluster: Cluster::None,
            sections: None,
        }
    }
}

/// Parses `--rel`: relation names separated by commas or spaces (`is_a,uses`, `is-a`, `part of`
/// also work); `typed` stands for every typed relation, `all` for those plus `related_to`.
pub fn parse_rels(s: &str) -> Result<Vec<Rel>, ViewError> {
    let mut out: Vec<Rel> = Vec::new();
    let mut push = |r: Rel| {
        if !out.contains(&r) {
            out.push(r);
        }
    };
    for part in s.split([',', ';']).map(str::trim).filter(|p| !p.is_empty()) {
        let norm = part.to_ascii_lowercase().replace(['-', ' '], "_");
        match norm.as_str() {
            "typed" => Rel::TYPED.iter().copied().for_each(&mut push),
            "all" => Rel::TYPED.iter().copied().chain([Rel::RelatedTo]).for_each(&mut push),
            "related" | "cooccurrence" => push(Rel::RelatedTo),
            "contrasts" | "vs" => push(Rel::ContrastedWith),
            n => match Rel::parse(n) {
                Some(r) => push(r),
                None => {
                    let known: Vec<&str> =
                        Rel::TYPED.iter().copied().chain([Rel::RelatedTo]).map(Rel::as_str).collect();
                    return Err(ViewError::Usage(format!(
                        "unknown relation {part:?} in --rel; use {} (or typed, all)",
                        known.join(", ")
                    )));
                }
            },
        }
    }
    if out.is_empty() {
        return Err(ViewError::Usage("--rel names no relation; e.g. --rel is_a,uses".into()));
    }
    Ok(out)
}

/// Why no view could be chosen. Each message says what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ViewError {
    #[error("no concept {name:?} in the graph{}", did_you_mean(suggestions))]
    ConceptNotFound { name: String, suggestions: Vec<String> },
    #[error("no note matching {note:?} mentions any concept{}", did_you_mean(suggestions))]
    NoteNotFound { note: String, suggestions: Vec<String> },
    #[error("{0}")]
    Usage(String),
}

fn did_you_mean(s: &[String]) -> String {
    if s.is_empty() { String::new() } else { format!("; did you mean {}?", s.join(", ")) }
}

/// A concept in the view.
#[derive(Debug, Clone)]
pub struct ViewNode<'g> {
    pub concept: &'g Concept,
    /// Hops from the centre (with `--concept`).
    pub distance: Option<usize>,
    /// Index into [`GraphView::groups`].
    pub group: Option<usize>,
}

/// A relation in the view; `from` and `to` index [`GraphView::nodes`].
#[derive(Debug, Clone)]
pub struct ViewEdge<'g> {
    pub relation: &'g Relation,
    pub from: usize,
    pub to: usize,
}

/// A cluster box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Stable key (note path, or note path + section).
    pub key: String,
    /// What the box says.
    pub label: String,
}

/// What was shown against what there was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    pub shown_nodes: usize,
    /// Concepts that matched (connected by a matching relation, within depth).
    pub total_nodes: usize,
    pub shown_edges: usize,
    pub total_edges: usize,
    /// One line for stderr: "showing 80 of 412 concepts …; narrow with --concept / --depth".
    pub message: String,
}

impl Cut {
    /// True when concepts or relations were left out by the cap.
    pub fn is_cut(&self) -> bool {
        self.shown_nodes < self.total_nodes || self.shown_edges < self.total_edges
    }
}

/// The subgraph to draw. Every edge's ends are in `nodes`.
#[derive(Debug, Clone)]
pub struct GraphView<'g> {
    pub nodes: Vec<ViewNode<'g>>,
    pub edges: Vec<ViewEdge<'g>>,
    /// Index into `nodes` of the `--concept`.
    pub centre: Option<usize>,
    pub groups: Vec<Group>,
    pub cut: Cut,
    /// A title for the picture ("LLaMA, 2 hops: typed relations").
    pub title: String,
}

impl GraphView<'_> {
    /// Relation types present, in legend order.
    pub fn rels(&self) -> Vec<Rel> {
        let mut r: Vec<Rel> = self.edges.iter().map(|e| e.relation.rel).collect();
        r.sort();
        r.dedup();
        r
    }

    /// Whether node `i` is the centre.
    pub fn is_centre(&self, i: usize) -> bool {
        self.centre == Some(i)
    }
}

/// Chooses the subgraph to draw.
///
/// Edges: the asked relation types (default: typed only), at or above `min_confidence`, stated in
/// `note` if given; symmetric duplicates merged. Without `concept`: every concept on such an edge,
/// ranked by weighted degree; with it: the concepts within `depth` hops (either direction), nearest
/// first. Over `max_nodes`, the most important are kept, never a node whose every link was cut
/// (unless nothing else is left); only edges between kept nodes are drawn.
pub fn select<'g>(graph: &'g ConceptGraph, opts: &ViewOptions) -> Result<GraphView<'g>, ViewError> {
    let pos: HashMap<&str, usize> = graph.nodes.iter().enumerate().map(|(i, c)| (c.id.as_str(), i)).collect();

    let centre = match &opts.concept {
        None => None,
        Some(name) => match graph.lookup(name) {
            Lookup::Found(c) => pos.get(c.id.as_str()).copied(),
            Lookup::NotFound { suggestions } => {
                return Err(ViewError::ConceptNotFound { name: name.clone(), suggestions });
            }
        },
    };

    let note = match &opts.note {
        None => None,
        Some(n) => Some(resolve_note(graph, n)?),
    };

    let allowed: Vec<Rel> = match &opts.rels {
        Some(r) => r.clone(),
        None => {
            let mut r = Rel::TYPED.to_vec();
            if opts.include_related {
                r.push(Rel::RelatedTo);
            }
            r
        }
    };

    // Filtered edges, as (graph edge index, from node, to node); symmetric duplicates merged.
    let mut kept: HashMap<(usize, usize, Rel), usize> = HashMap::new();
    for (ei, e) in graph.edges.iter().enumerate() {
        if !allowed.contains(&e.rel) || e.confidence < opts.min_confidence {
            continue;
        }
        if let Some(paths) = &note
            && !e.evidence.iter().any(|ev| paths.contains(&*ev.path))
        {
            continue;
        }
        let (Some(&a), Some(&b)) = (pos.get(e.from.as_str()), pos.get(e.to.as_str())) else { continue };
        let key = if e.rel.is_symmetric() { (a.min(b), a.max(b), e.rel) } else { (a, b, e.rel) };
        match kept.get(&key) {
            Some(&old) if graph.edges[old].confidence >= e.confidence => {}
            _ => {
                kept.insert(key, ei);
            }
        }
    }
    let mut edges: Vec<(usize, usize, usize)> = kept.into_iter().map(|((a, b, _), ei)| (ei, a, b)).collect();
    edges.sort_unstable();

    // Adjacency and importance over the filtered edges.
    let mut adj: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut weight: HashMap<usize, f32> = HashMap::new();
    for &(ei, a, b) in &edges {
        let c = graph.edges[ei].confidence.max(0.05);
        for (x, y) in [(a, b), (b, a)] {
            adj.entry(x).or_default().push(y);
            *weight.entry(x).or_default() += c;
        }
    }
    let importance = |i: usize| -> f32 {
        weight.get(&i).copied().unwrap_or(0.0) + 0.05 * (graph.nodes[i].mentions.len() as f32 + 1.0).ln()
    };

    // Candidates in preference order, with their distance from the centre.
    let mut distance: HashMap<usize, usize> = HashMap::new();
    let mut candidates: Vec<usize>;
    if let Some(c) = centre {
        distance.insert(c, 0);
        let mut q = VecDeque::from([c]);
        while let Some(u) = q.pop_front() {
            let d = distance[&u];
            if d >= opts.depth {
                continue;
            }
            for &v in adj.get(&u).map(Vec::as_slice).unwrap_or(&[]) {
                if let std::collections::hash_map::Entry::Vacant(slot) = distance.entry(v) {
                    slot.insert(d + 1);
                    q.push_back(v);
                }
            }
        }
        candidates = distance.keys().copied().collect();
        candidates.sort_by(|&a, &b| {
            distance[&a]
                .cmp(&distance[&b])
                .then(importance(b).total_cmp(&importance(a)))
                .then(graph.nodes[a].label.cmp(&graph.nodes[b].label))
        });
    } else {
        candidates = adj.keys().copied().collect();
        candidates.sort_by(|&a, &b| {
            importance(b).total_cmp(&importance(a)).then(graph.nodes[a].label.cmp(&graph.nodes[b].label))
        });
    }
    let total_nodes = candidates.len();
    let cand_set: HashSet<usize> = candidates.iter().copied().collect();
    let total_edges = edges.iter().filter(|&&(_, a, b)| cand_set.contains(&a) && cand_set.contains(&b)).count();

    let max = opts.max_nodes.max(1);
    let chosen: Vec<usize> = if candidates.len() <= max {
        candidates.clone()
    } else if centre.is_some() {
        // Nearest first: every kept node at distance d has a kept neighbour at d - 1.
        candidates[..max].to_vec()
    } else {
        cap_connected(&candidates, max, &adj)
    };

    // Build the view.
    let mut index: HashMap<usize, usize> = HashMap::new();
    let mut nodes: Vec<ViewNode<'g>> = Vec::with_capacity(chosen.len());
    for &gi in &chosen {
        index.insert(gi, nodes.len());
        nodes.push(ViewNode { concept: &graph.nodes[gi], distance: distance.get(&gi).copied(), group: None });
    }
    let view_edges: Vec<ViewEdge<'g>> = edges
        .iter()
        .filter_map(|&(ei, a, b)| {
            Some(ViewEdge { relation: &graph.edges[ei], from: *index.get(&a)?, to: *index.get(&b)? })
        })
        .collect();
    let centre_view = centre.and_then(|c| index.get(&c).copied());

    let mut notes_msg = String::new();
    let groups = match opts.cluster {
        Cluster::None => Vec::new(),
        Cluster::Note => assign_groups(&mut nodes, |c| home_note(c).map(|p| (p.to_string(), p.to_string()))),
        Cluster::Section => match &opts.sections {
            Some(s) if !s.is_empty() => assign_sections(&mut nodes, s),
            _ => {
                notes_msg = " (--cluster section needs the notes' sections; clustered by note)".into();
                assign_groups(&mut nodes, |c| home_note(c).map(|p| (p.to_string(), p.to_string())))
            }
        },
    };

    let what = describe_rels(&allowed);
    let mut filters = Vec::new();
    if opts.min_confidence > 0.0 {
        filters.push(format!("confidence ≥ {}", opts.min_confidence));
    }
    if let Some(n) = &opts.note {
        filters.push(format!("stated in {n}"));
    }
    let filters = if filters.is_empty() { String::new() } else { format!(", {}", filters.join(", ")) };
    let shown_nodes = nodes.len();
    let shown_edges = view_edges.len();
    let centre_label = centre.map(|c| graph.nodes[c].label.as_str());
    let (title, message) = match centre_label {
        Some(label) if opts.depth == 0 => (label.to_string(), format!("showing only {label} (--depth 0)")),
        Some(label) if total_nodes <= 1 => (
            format!("{label}: {what}"),
            format!(
                "{label} has no {what}{filters} within {} hop{}; try --rel related_to, a lower --min-confidence or another --concept",
                opts.depth,
                if opts.depth == 1 { "" } else { "s" }
            ),
        ),
        Some(label) => {
            let hops = format!("{} hop{}", opts.depth, if opts.depth == 1 { "" } else { "s" });
            let m = if shown_nodes < total_nodes {
                format!(
                    "showing {shown_nodes} of {total_nodes} concepts within {hops} of {label} ({shown_edges} of {total_edges} relations; {what}{filters}); narrow with a smaller --depth, --rel or --min-confidence, or raise --max-nodes"
                )
            } else {
                format!(
                    "showing all {shown_nodes} concepts within {hops} of {label} ({shown_edges} relations; {what}{filters})"
                )
            };
            (format!("{label} · {hops} · {what}"), m)
        }
        None if edges.is_empty() => (
            format!("concept map: {what}"),
            format!("no {what}{filters} in the graph; try --rel related_to or a lower --min-confidence"),
        ),
        None => {
            let m = if shown_nodes < total_nodes {
                format!(
                    "showing {shown_nodes} of {total_nodes} concepts ({shown_edges} of {total_edges} relations; {what}{filters}); narrow with --concept / --depth, or raise --max-nodes"
                )
            } else {
                format!("showing all {shown_nodes} concepts ({shown_edges} relations; {what}{filters})")
            };
            (format!("concept map · {what}"), m)
        }
    };

    // (A centre with no matching edges is still drawn, alone: it is always a candidate.)
    let cut = Cut { shown_nodes, total_nodes, shown_edges, total_edges, message: message + &notes_msg };
    Ok(GraphView { nodes, edges: view_edges, centre: centre_view, groups, cut, title })
}

/// Takes the `max` best candidates, then swaps out any left without a link to the others for the
/// best remaining candidates that link to what is kept.
fn cap_connected(ranked: &[usize], max: usize, adj: &HashMap<usize, Vec<usize>>) -> Vec<usize> {
    let mut chosen: Vec<usize> = ranked[..max].to_vec();
    let mut set: HashSet<usize> = chosen.iter().copied().collect();
    let mut dropped: HashSet<usize> = HashSet::new();
    let linked =
        |v: usize, set: &HashSet<usize>| adj.get(&v).is_some_and(|n| n.iter().any(|u| *u != v && set.contains(u)));
    for _ in 0..4 {
        let lonely: Vec<usize> = chosen.iter().copied().filter(|&v| !linked(v, &set)).collect();
        if lonely.is_empty() {
            break;
        }
        let mut refill: Vec<usize> = Vec::new();
        for &v in ranked {
            if refill.len() == lonely.len() {
                break;
            }
            if !set.contains(&v) && !dropped.contains(&v) && linked(v, &set) {
                refill.push(v);
            }
        }
        if refill.is_empty() {
            break;
        }
        // Swap out the least important lonely nodes, as many as there are replacements.
        let out: Vec<usize> = lonely.iter().rev().take(refill.len()).copied().collect();
        for v in &out {
            set.remove(v);
            dropped.insert(*v);
        }
        chosen.retain(|v| set.contains(v));
        for v in refill {
            set.insert(v);
            chosen.push(v);
        }
    }
    chosen
}

/// The note a concept lives in: its heading's note, else the note mentioning it most.
pub fn home_note(c: &Concept) -> Option<&str> {
    if let Some(h) = &c.home {
        return Some(&h.path);
    }
    most_common(c.mentions.iter().map(|m| &*m.path))
}

fn most_common<'a>(items: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for it in items {
        match counts.iter_mut().find(|(k, _)| *k == it) {
            Some((_, n)) => *n += 1,
            None => counts.push((it, 1)),
        }
    }
    // First seen wins ties.
    let mut best: Option<(&str, usize)> = None;
    for (k, n) in counts {
        if best.is_none_or(|(_, bn)| n > bn) {
            best = Some((k, n));
        }
    }
    best.map(|(k, _)| k)
}

/// Assigns each node the group `key_of` gives (key, label); groups in order of first appearance.
fn assign_groups(nodes: &mut [ViewNode<'_>], key_of: impl Fn(&Concept) -> Option<(String, String)>) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for n in nodes.iter_mut() {
        if let Some((key, label)) = key_of(n.concept) {
            let gi = *by_key.entry(key.clone()).or_insert_with(|| {
                groups.push(Group { key, label });
                groups.len() - 1
            });
            n.group = Some(gi);
        }
    }
    groups
}

fn assign_sections(nodes: &mut [ViewNode<'_>], sections: &Sections) -> Vec<Group> {
    let section_of = |c: &Concept| -> Option<(String, String)> {
        let (path, section) = match &c.home {
            Some(h) => (&*h.path, sections.get(&h.chunk_id)?),
            None => {
                let s = most_common(c.mentions.iter().filter_map(|m| sections.get(&m.chunk_id)))?;
                let path = c.mentions.iter().find(|m| sections.get(&m.chunk_id) == Some(s))?.path.as_ref();
                (path, s)
            }
        };
        Some((format!("{path}\n{section}"), section.to_string()))
    };
    let mut groups = assign_groups(nodes, section_of);
    // Name the note too when sections of several notes are shown.
    let notes: HashSet<&str> = groups.iter().filter_map(|g| g.key.split('\n').next()).collect();
    if notes.len() > 1 {
        for g in &mut groups {
            if let Some(path) = g.key.split('\n').next() {
                g.label = format!("{} › {}", note_name(path), g.label);
            }
        }
    }
    groups
}

/// A note's file name without `.md`.
pub fn note_name(path: &str) -> &str {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    name.strip_suffix(".md").or_else(|| name.strip_suffix(".markdown")).unwrap_or(name)
}

/// The note paths in the graph that `--note` names: the exact path, a path ending in `/NAME`, or a
/// file name with or without `.md`.
fn resolve_note(graph: &ConceptGraph, wanted: &str) -> Result<HashSet<String>, ViewError> {
    let w = wanted.trim().trim_start_matches("./").replace('\\', "/");
    let mut all: Vec<&str> = graph
        .nodes
        .iter()
        .flat_map(|c| c.mentions.iter().map(|m| &*m.path))
        .chain(graph.edges.iter().flat_map(|e| e.evidence.iter().map(|ev| &*ev.path)))
        .collect();
    all.sort_unstable();
    all.dedup();
    let matches = |p: &str| {
        let p = p.replace('\\', "/");
        p == w || p.ends_with(&format!("/{w}")) || note_name(&p) == w || note_name(&p) == note_name(&w)
    };
    let hits: HashSet<String> = all.iter().filter(|p| matches(p)).map(|p| p.to_string()).collect();
    if !hits.is_empty() {
        return Ok(hits);
    }
    // "Did you mean": paths containing what was typed, then file names within a few edits.
    let lw = note_name(&w).to_lowercase();
    let mut scored: Vec<(usize, &str)> = all
        .iter()
        .filter_map(|p| {
            let name = note_name(p).to_lowercase();
            if p.to_lowercase().contains(&lw) {
                return Some((0, *p));
            }
            let d = strsim::levenshtein(&name, &lw);
            (d <= (lw.chars().count() / 3).max(1)).then_some((d, *p))
        })
        .collect();
    scored.sort();
    let suggestions: Vec<String> = scored.into_iter().take(5).map(|(_, p)| p.to_string()).collect();
    Err(ViewError::NoteNotFound { note: wanted.to_string(), suggestions })
}

fn describe_rels(rels: &[Rel]) -> String {
    let typed_all = Rel::TYPED.iter().all(|r| rels.contains(r));
    let related = rels.contains(&Rel::RelatedTo);
    match (typed_all, related) {
        (true, false) if rels.len() == Rel::TYPED.len() => "typed relations".into(),
        (true, true) if rels.len() == Rel::TYPED.len() + 1 => "all relations".into(),
        _ => rels.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rel_list_parsing() {
        assert_eq!(parse_rels("is_a,uses").unwrap(), [Rel::IsA, Rel::Uses]);
        assert_eq!(parse_rels(" is-a , part of ,is_a").unwrap(), [Rel::IsA, Rel::PartOf]);
        assert_eq!(parse_rels("typed").unwrap().len(), Rel::TYPED.len());
        assert!(parse_rels("all").unwrap().contains(&Rel::RelatedTo));
        let e = parse_rels("is_a,owns").unwrap_err().to_string();
        assert!(e.contains("\"owns\"") && e.contains("part_of"), "{e}");
        assert!(parse_rels(" , ").is_err());
        assert_eq!("section".parse::<Cluster>().unwrap(), Cluster::Section);
        assert!("x".parse::<Cluster>().is_err());
    }

    #[test]
    fn note_names() {
        assert_eq!(note_name("a/b/大模型复习.md"), "大模型复习");
        assert_eq!(note_name("x.markdown"), "x");
        assert_eq!(most_common(["a", "b", "b", "a", "c"].into_iter()), Some("a"));
        assert_eq!(most_common(["a", "b", "b"].into_iter()), Some("b"));
    }
}
