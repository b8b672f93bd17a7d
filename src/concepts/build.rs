//! The global merge: every note's [`NoteFacts`] → one [`ConceptGraph`].
//!
//! Owns the decisions that need the whole corpus: which candidates are concepts (termhood by
//! signal and shape, generic words filtered by document frequency across notes and by general
//! word frequency), alias merging across notes and languages (parenthesised pairs, restatements,
//! spelling keys, plurals), the canonical label, the kind, the best definition, edge aggregation
//! and confidence, and `related_to` by PMI over sentence co-occurrence. It reads no files and
//! parses no text: only facts.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::extract::{COMMON_WORD_FREQ, NoteFacts, signal};
use super::model::{Concept, ConceptGraph, Definition, Evidence, Kind, Mention, Rel, Relation};
use super::text::{FxMap, FxSet, LatinShape, concept_key, has_cjk};

/// Below this many notes, document frequency says nothing and is not used to filter.
const MIN_NOTES_FOR_DF: usize = 10;
/// A Chinese candidate in more than this share of notes, without a strong signal, is a generic word.
const GENERIC_DF: f64 = 0.30;
/// The same for Latin words: a name written in Latin inside Chinese notes (`Transformer`) is
/// rarely generic, so only near-ubiquity counts.
const GENERIC_DF_LATIN: f64 = 0.60;
/// Two concepts each mentioned this often are not merged on the word of a single note.
const ESTABLISHED_MENTIONS: u64 = 15;
/// `related_to` edges kept per concept.
const RELATED_PER_NODE: usize = 5;

const STRONG: u16 = signal::HEADING
    | signal::BOLD
    | signal::GLOSS
    | signal::WIKILINK
    | signal::TAG
    | signal::DEFINED
    | signal::HEADING_PART
    | signal::LIST_ITEM;

/// A candidate across all notes; its strings are borrowed from the notes' facts.
#[derive(Default)]
struct Global<'a> {
    key: &'a str,
    /// Spellings and how often each is seen (a handful per key: lists, not maps, keep the merge's
    /// allocations few).
    forms: Vec<(&'a str, u32)>,
    heading_forms: Vec<(&'a str, u32)>,
    signals: u16,
    /// Notes in which a strong signal marks it.
    strong_notes: u32,
    shape: Option<LatinShape>,
    count: u32,
    df: u32,
    general_freq: u32,
    kind_votes: Vec<(Kind, u32)>,
    /// (note index, local term id)
    locals: Vec<(usize, u32)>,
}

impl Global<'_> {
    fn form_names(&self) -> impl Iterator<Item = &str> {
        self.forms.iter().map(|(f, _)| *f)
    }
}

/// Adds `n` to `key`'s count in a short list of counts.
fn tally<K: PartialEq>(counts: &mut Vec<(K, u32)>, key: K, n: u32) {
    match counts.iter_mut().find(|(k, _)| *k == key) {
        Some((_, c)) => *c += n,
        None => counts.push((key, n)),
    }
}

/// Adds to `form`'s (count, heading count) in a concept's short list of forms.
fn tally_form<'a>(forms: &mut Vec<(&'a str, u32, u32)>, form: &'a str, count: u32, headings: u32) {
    match forms.iter_mut().find(|r| r.0 == form) {
        Some(r) => {
            r.1 += count;
            r.2 += headings;
        }
        None => forms.push((form, count, headings)),
    }
}

struct UnionFind {
    parent: Vec<usize>,
    size: Vec<usize>,
    /// Mentions of the group (sum of its keys' counts).
    weight: Vec<u64>,
    /// Acronym keys of the group (`ppo`): a concept has one acronym, so two groups with
    /// different acronyms are different concepts (`近端策略优化（PPO）`, `直接策略优化（DPO）`
    /// both cut to `策略优化` must not join PPO and DPO).
    acronyms: Vec<Vec<String>>,
}

impl UnionFind {
    fn new(weights: Vec<u64>, acronyms: Vec<Vec<String>>) -> Self {
        let n = weights.len();
        UnionFind { parent: (0..n).collect(), size: vec![1; n], weight: weights, acronyms }
    }
    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }
    /// Joins two groups unless the result would exceed `max` keys (a chain of loose pairs), or
    /// both are established concepts (`min_weight` mentions each) and only one note pairs them.
    fn union(&mut self, a: usize, b: usize, max: usize, support: usize, min_weight: u64) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb || self.size[ra] + self.size[rb] > max {
            return;
        }
        if support < 2 && self.weight[ra].min(self.weight[rb]) >= min_weight {
            return;
        }
        let (xa, xb) = (&self.acronyms[ra], &self.acronyms[rb]);
        if !xa.is_empty() && !xb.is_empty() && !xa.iter().any(|a| xb.contains(a)) {
            return;
        }
        let (big, small) = if self.size[ra] >= self.size[rb] { (ra, rb) } else { (rb, ra) };
        self.parent[small] = big;
        self.size[big] += self.size[small];
        self.weight[big] += self.weight[small];
        let moved = std::mem::take(&mut self.acronyms[small]);
        self.acronyms[big].extend(moved);
    }
}

/// Builds the concept graph from per-note facts (any order; the result does not depend on it).
pub fn build_graph(facts: &[&NoteFacts]) -> ConceptGraph {
    let mut facts: Vec<&NoteFacts> = facts.to_vec();
    facts.sort_by(|a, b| a.path.cmp(&b.path));
    let n_notes = facts.len();
    let strings: Vec<NoteStrings> = facts.iter().map(|f| NoteStrings::of(f)).collect();

    // 1. Candidates by key, with corpus statistics.
    let terms: usize = facts.iter().map(|f| f.terms.len()).sum();
    let mut globals: Vec<Global> = Vec::with_capacity(terms);
    let mut by_key: FxMap<&str, usize> = FxMap::with_capacity_and_hasher(terms, Default::default());
    let mut local_to_global: Vec<Vec<usize>> = Vec::with_capacity(n_notes);
    for (ni, f) in facts.iter().enumerate() {
        let mut map = Vec::with_capacity(f.terms.len());
        for (li, t) in f.terms.iter().enumerate() {
            let gi = *by_key.entry(t.key.as_str()).or_insert_with(|| {
                globals.push(Global { key: t.key.as_str(), ..Default::default() });
                globals.len() - 1
            });
            let g = &mut globals[gi];
            for (form, c) in &t.forms {
                tally(&mut g.forms, form.as_str(), *c.max(&1));
                if t.signals & signal::HEADING != 0 {
                    tally(&mut g.heading_forms, form.as_str(), 1);
                }
            }
            g.signals |= t.signals;
            if t.signals & STRONG != 0 {
                g.strong_notes += 1;
            }
            if let Some(s) = t.shape {
                g.shape = Some(g.shape.map_or(s, |x| x.max(s)));
            }
            g.count += t.count;
            if t.count > 0 || t.signals & STRONG != 0 {
                g.df += 1;
            }
            g.general_freq = g.general_freq.max(t.general_freq);
            for (k, v) in &t.kind_votes {
                tally(&mut g.kind_votes, *k, *v);
            }
            g.locals.push((ni, li as u32));
            map.push(gi);
        }
        local_to_global.push(map);
    }

    // 2. Which candidates are concepts.
    let accepted: Vec<bool> = globals.iter().map(|g| is_concept(g, n_notes)).collect();

    // 3. Alias merging.
    let acronyms: Vec<Vec<String>> = globals
        .iter()
        .map(|g| {
            let acr = g.form_names().any(|f| {
                let letters = f.chars().filter(|c| c.is_ascii_alphabetic()).count();
                (2..=6).contains(&letters) && f.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            });
            if acr { vec![g.key.to_string()] } else { vec![] }
        })
        .collect();
    let mut uf = UnionFind::new(globals.iter().map(|g| g.count as u64).collect(), acronyms);
    // Pairs by the number of notes that state them, best supported first.
    let mut support: FxMap<(usize, usize), usize> = FxMap::default();
    for (ni, f) in facts.iter().enumerate() {
        let mut seen: FxSet<(usize, usize)> = FxSet::default();
        for p in &f.alias_pairs {
            let (a, b) = (local_to_global[ni][p.a as usize], local_to_global[ni][p.b as usize]);
            let k = if a < b { (a, b) } else { (b, a) };
            if accepted[a] && accepted[b] && a != b && seen.insert(k) {
                *support.entry(k).or_insert(0) += 1;
            }
        }
    }
    let mut pairs: Vec<((usize, usize), usize)> = support.into_iter().collect();
    pairs.sort_unstable_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    for ((a, b), n) in pairs {
        uf.union(a, b, 8, n, ESTABLISHED_MENTIONS);
    }
    // Plurals of Latin names: `Adapters` → `Adapter`, `LLMs` → `LLM`.
    for (gi, g) in globals.iter().enumerate() {
        if !accepted[gi] || g.shape.is_none() || g.key.len() < 4 || !g.key.ends_with('s') || g.key.ends_with("ss") {
            continue;
        }
        let plain_s = g.form_names().any(|f| f.ends_with('s'));
        if let Some(&other) = by_key.get(&g.key[..g.key.len() - 1])
            && accepted[other]
            && plain_s
        {
            uf.union(gi, other, 8, 2, ESTABLISHED_MENTIONS);
        }
    }

    // 4. Nodes.
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (gi, &ok) in accepted.iter().enumerate() {
        if ok {
            groups.entry(uf.find(gi)).or_default().push(gi);
        }
    }
    let mut node_of: Vec<Option<usize>> = vec![None; globals.len()];
    for (ni, members) in groups.values().enumerate() {
        for &m in members {
            node_of[m] = Some(ni);
        }
    }
    // The concepts are made while another thread counts the sentences concepts share (for
    // `related_to`, step 6), which needs only to know which node each candidate went to.
    let n_nodes = groups.len();
    let (mut nodes, shared) = std::thread::scope(|scope| {
        let shared = scope.spawn(|| SharedSentences::count(&facts, &local_to_global, &node_of, n_nodes));
        let nodes: Vec<Concept> = groups.values().map(|m| make_concept(m, &globals, &facts, &strings)).collect();
        (nodes, shared.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    });
    let mut used_ids: FxSet<String> = FxSet::default();
    for c in &mut nodes {
        let base = std::mem::take(&mut c.id);
        let mut id = base.clone();
        let mut n = 2;
        while !used_ids.insert(id.clone()) {
            id = format!("{base}-{n}");
            n += 1;
        }
        c.id = id;
    }

    // 5. Typed edges.
    let mut edges: FxMap<(usize, usize, Rel), EdgeAcc> = FxMap::default();
    for (ni, f) in facts.iter().enumerate() {
        for r in &f.relations {
            let Some((a, b)) = node_pair(&node_of, &local_to_global[ni], r.from, r.to) else { continue };
            let (a, b) = if r.rel.is_symmetric() && b < a { (b, a) } else { (a, b) };
            let e = edges.entry((a, b, r.rel)).or_default();
            e.miss *= 1.0 - r.confidence.clamp(0.0, 0.99);
            e.structural &= r.structural;
            if !e.evidence.iter().any(|x| *x.path == *f.path && x.line == r.line) {
                let path = strings[ni].path.clone();
                e.evidence.push(Evidence { path, line: r.line, sentence: r.sentence.clone() });
            }
        }
    }
    // Opposite part_of / is_a between the same two concepts: keep the better supported direction.
    let keys: Vec<(usize, usize, Rel)> = edges.keys().copied().collect();
    for (a, b, rel) in keys {
        if matches!(rel, Rel::PartOf | Rel::IsA)
            && a < b
            && let (Some(x), Some(y)) = (edges.get(&(a, b, rel)), edges.get(&(b, a, rel)))
        {
            let loser =
                if (x.evidence.len(), -x.miss) >= (y.evidence.len(), -y.miss) { (b, a, rel) } else { (a, b, rel) };
            edges.remove(&loser);
        }
    }
    // A proposer is an organisation or a person: drop proposed_by edges whose proposer the notes
    // call a method, model, component, task … (`AdapterFusion提出了…结构`).
    edges.retain(|&(_, b, rel), _| {
        rel != Rel::ProposedBy || matches!(nodes[b].kind, Kind::Organization | Kind::Unknown)
    });
    let typed_pairs: FxSet<(usize, usize)> = edges.keys().flat_map(|&(a, b, _)| [(a, b), (b, a)]).collect();
    for &(_, b, rel) in edges.keys() {
        if rel == Rel::ProposedBy {
            nodes[b].kind = Kind::Organization;
        }
    }
    let mut out_edges: Vec<Relation> = edges
        .into_iter()
        .map(|((a, b, rel), mut e)| {
            e.evidence.sort_unstable_by(|x, y| (&x.path, x.line).cmp(&(&y.path, y.line)));
            Relation {
                from: nodes[a].id.clone(),
                to: nodes[b].id.clone(),
                rel,
                confidence: round3(1.0 - e.miss),
                evidence: e.evidence,
                structural: e.structural,
            }
        })
        .collect();

    // 6. related_to by PMI over sentence co-occurrence.
    out_edges.extend(related_edges(shared, &facts, &strings, &nodes, &typed_pairs));

    out_edges.sort_unstable_by(|x, y| {
        (!x.rel.is_typed(), x.rel, &x.from, &x.to).cmp(&(!y.rel.is_typed(), y.rel, &y.from, &y.to))
    });
    ConceptGraph::new(nodes, out_edges)
}

struct EdgeAcc {
    miss: f32,
    structural: bool,
    evidence: Vec<Evidence>,
}

impl Default for EdgeAcc {
    fn default() -> Self {
        EdgeAcc { miss: 1.0, structural: true, evidence: Vec::new() }
    }
}

fn round3(x: f32) -> f32 {
    (x * 1000.0).round() / 1000.0
}

/// Termhood: is this candidate a concept?
fn is_concept(g: &Global, n_notes: usize) -> bool {
    let strong = g.signals & STRONG != 0;
    let use_df = n_notes >= MIN_NOTES_FOR_DF;
    let df_frac = g.df as f64 / n_notes.max(1) as f64;
    if g.key.chars().count() < 2 && !has_cjk(g.key) {
        return false;
    }
    let acronym = g.form_names().any(|f| f.len() >= 2 && f.chars().all(|c| c.is_ascii_uppercase()));
    if !acronym && super::lexicon::is_en_stop(g.key) || super::lexicon::is_zh_stop_word(g.key) {
        return false;
    }
    let rel_arg = g.signals & signal::REL_ARG != 0;
    let multiword = g.form_names().any(|f| f.contains(' ') || f.contains('-'));
    match g.shape {
        // Short technical tokens (`T5`, `W1`) need a second sighting or a mark.
        // A name a sentence relates to another (`支持 Python、C# 和 Bash`) counts as a sighting.
        Some(LatinShape::Technical) => g.key.chars().count() > 2 || strong || g.count >= 2 || rel_arg,
        Some(LatinShape::Capitalised) => {
            let generic = use_df && df_frac > GENERIC_DF_LATIN && g.strong_notes * 4 < g.df;
            (strong || g.count >= 2 || multiword || rel_arg) && !generic
        }
        Some(LatinShape::Plain) => {
            let generic = use_df && df_frac > GENERIC_DF_LATIN && g.strong_notes * 4 < g.df;
            (strong || multiword && (g.count >= 2 || rel_arg)) && !generic
        }
        None => {
            // Chinese (or mixed) candidates.
            // A common general word (参数, 内存) is a concept only when a note pairs it with a Latin
            // name or links it explicitly; a heading or bold span is not enough.
            let common = g.general_freq > COMMON_WORD_FREQ;
            let marked = g.signals & (signal::GLOSS | signal::WIKILINK | signal::TAG) != 0;
            if common && !marked {
                return false;
            }
            if use_df && df_frac > GENERIC_DF && g.strong_notes * 4 < g.df {
                return false;
            }
            strong || g.count >= 3 || (g.count >= 2 || rel_arg) && g.key.chars().count() >= 3
        }
    }
}

/// Bump when the merge rules change: stored graphs are merged again from the cached per-note facts.
pub const BUILD_VERSION: u32 = 3;

/// A note's path and chunk ids, allocated once and shared by every mention and evidence of it; and
/// its definitions by term.
struct NoteStrings {
    path: Arc<str>,
    chunk_ids: Vec<Arc<str>>,
    /// Local term id → indices of its definitions in the note's facts, in order.
    definitions: Vec<Vec<u32>>,
}

impl NoteStrings {
    fn of(f: &NoteFacts) -> Self {
        let mut definitions = vec![Vec::new(); f.terms.len()];
        for (i, d) in f.definitions.iter().enumerate() {
            if let Some(of_term) = definitions.get_mut(d.term as usize) {
                of_term.push(i as u32);
            }
        }
        NoteStrings {
            path: f.path.as_str().into(),
            chunk_ids: f.chunk_ids.iter().map(|c| c.as_str().into()).collect(),
            definitions,
        }
    }

    fn chunk(&self, i: u32) -> Arc<str> {
        self.chunk_ids.get(i as usize).cloned().unwrap_or_else(|| "".into())
    }
}

/// The concept of a group of candidate keys; its id is the label's key, made unique by the caller.
fn make_concept(members: &[usize], globals: &[Global], facts: &[&NoteFacts], strings: &[NoteStrings]) -> Concept {
    // Forms with counts, heading forms first for the label.
    // (form, count, heading count); a concept has a handful of forms.
    let mut ranked: Vec<(&str, u32, u32)> = Vec::new();
    for &m in members {
        for &(f, c) in &globals[m].forms {
            tally_form(&mut ranked, f, c, 0);
        }
        for &(f, c) in &globals[m].heading_forms {
            tally_form(&mut ranked, f, 0, c);
        }
    }
    // Label: a heading form, else the most frequent; Latin names before Chinese on ties.
    ranked.sort_by(|a, b| {
        (b.2 > 0)
            .cmp(&(a.2 > 0))
            .then(b.1.cmp(&a.1))
            .then(has_cjk(a.0).cmp(&has_cjk(b.0)))
            .then(a.0.len().cmp(&b.0.len()))
            .then(a.0.cmp(b.0))
    });
    let mut label = ranked.first().map(|r| r.0.to_string()).unwrap_or_default();
    // An all-lower-case Latin label (`llm`) gives way to the best-ranked spelling of the same
    // letters with capitals (`LLM`): names are written with their capitals.
    if !label.chars().any(char::is_uppercase)
        && let Some(cased) = ranked.iter().find(|r| r.0 != label && r.0.to_lowercase() == label)
    {
        label = cased.0.to_string();
    }
    let aliases: Vec<String> = ranked.iter().map(|r| r.0.to_string()).collect();

    let mut kinds: Vec<(Kind, u32)> = Vec::new();
    // (note, line, chunk): the notes are in path order, so this sorts as (path, line) does,
    // without comparing paths; the shared strings are cloned only for the mentions kept.
    let mut mentions: Vec<(usize, usize, u32)> = Vec::new();
    let mut notes: Vec<usize> = Vec::new();
    let mut best_def: Option<(u8, bool, Definition)> = None;
    let mut home: Option<Mention> = None;
    for &m in members {
        for &(k, v) in &globals[m].kind_votes {
            tally(&mut kinds, k, v);
        }
        for &(ni, li) in &globals[m].locals {
            let (f, s) = (facts[ni], &strings[ni]);
            let t = &f.terms[li as usize];
            if (t.count > 0 || t.home.is_some()) && !notes.contains(&ni) {
                notes.push(ni);
            }
            mentions.extend(t.mentions.iter().map(|x| (ni, x.line, x.chunk)));
            if let Some(h) = &t.home
                && home.is_none()
            {
                home = Some(Mention { chunk_id: s.chunk(h.chunk), path: s.path.clone(), line: h.line });
            }
            let definitions = s.definitions.get(li as usize).map_or(&[][..], Vec::as_slice);
            for d in definitions.iter().filter_map(|&i| f.definitions.get(i as usize)) {
                let in_home = t.home.is_some();
                let better = best_def.as_ref().is_none_or(|(s, h, bd)| {
                    (d.score, in_home, std::cmp::Reverse(d.text.chars().count().abs_diff(60)))
                        > (*s, *h, std::cmp::Reverse(bd.text.chars().count().abs_diff(60)))
                });
                if better {
                    best_def = Some((
                        d.score,
                        in_home,
                        Definition { text: d.text.clone(), path: s.path.clone(), line: d.line },
                    ));
                }
            }
        }
    }
    // Stable, so that of two mentions on one line the first seen is kept, as before.
    mentions.sort_by_key(|&(ni, line, _)| (ni, line));
    mentions.dedup_by_key(|&mut (ni, line, _)| (ni, line));
    let mentions: Vec<Mention> = mentions
        .into_iter()
        .map(|(ni, line, chunk)| Mention { chunk_id: strings[ni].chunk(chunk), path: strings[ni].path.clone(), line })
        .collect();
    let kind = kinds
        .into_iter()
        .filter(|(k, _)| *k != Kind::Unknown)
        .max_by_key(|(k, v)| (*v, std::cmp::Reverse(*k)))
        .map_or(Kind::Unknown, |(k, _)| k);

    let id = match concept_key(&label) {
        k if k.is_empty() => "concept".to_string(),
        k => k,
    };
    Concept { id, label, aliases, kind, mentions, definition: best_def.map(|(_, _, d)| d), notes: notes.len(), home }
}

/// The nodes two of a note's terms (by local id) went to, if both are concepts and not the same one.
fn node_pair(node_of: &[Option<usize>], local_to_global: &[usize], a: u32, b: u32) -> Option<(usize, usize)> {
    let (a, b) = (node_of[local_to_global[a as usize]]?, node_of[local_to_global[b as usize]]?);
    (a != b).then_some((a, b))
}

/// Sentences two concepts share, and the first (note, sentence) holding both, for evidence. In
/// 32-bit numbers, like the pair of node indices it is kept under: tens of thousands of pairs are
/// counted in one map, and half the bytes are half the fresh memory to touch.
type PairStats = (u32, (u32, u32));

/// Sentence co-occurrence over the whole corpus, by node: what `related_to` is scored on.
struct SharedSentences {
    total_sentences: f64,
    /// Mentions of each node.
    occurrences: Vec<f64>,
    /// (lower node, higher node) → stats.
    pairs: FxMap<(u32, u32), PairStats>,
}

impl SharedSentences {
    fn count(
        facts: &[&NoteFacts],
        local_to_global: &[Vec<usize>],
        node_of: &[Option<usize>],
        n_nodes: usize,
    ) -> SharedSentences {
        let total_sentences: f64 = facts.iter().map(|f| f.sentence_count as f64).sum::<f64>().max(1.0);
        let mut occurrences: Vec<f64> = vec![0.0; n_nodes];
        let pairs_at_most: usize = facts.iter().map(|f| f.cooccurrence.len()).sum();
        let mut pairs: FxMap<(u32, u32), PairStats> =
            FxMap::with_capacity_and_hasher(pairs_at_most, Default::default());
        for (ni, f) in facts.iter().enumerate() {
            for (li, t) in f.terms.iter().enumerate() {
                if let Some(n) = node_of[local_to_global[ni][li]] {
                    occurrences[n] += t.count as f64;
                }
            }
            for c in &f.cooccurrence {
                let Some((a, b)) = node_pair(node_of, &local_to_global[ni], c.a, c.b) else { continue };
                let k = if a < b { (a as u32, b as u32) } else { (b as u32, a as u32) };
                pairs.entry(k).or_insert((0, (ni as u32, c.sentence))).0 += c.count;
            }
        }
        SharedSentences { total_sentences, occurrences, pairs }
    }
}

/// `related_to` edges by PMI over shared sentences, at most [`RELATED_PER_NODE`] per node, never
/// between two concepts a typed relation already links.
fn related_edges(
    shared: SharedSentences,
    facts: &[&NoteFacts],
    strings: &[NoteStrings],
    nodes: &[Concept],
    typed_pairs: &FxSet<(usize, usize)>,
) -> Vec<Relation> {
    let SharedSentences { total_sentences, occurrences: occ, pairs: pair } = shared;
    let mut scored: Vec<(f64, usize, usize, (u32, u32))> = Vec::new();
    for (&(a, b), &(c, first)) in &pair {
        let (a, b) = (a as usize, b as usize);
        if c < 2 || typed_pairs.contains(&(a, b)) {
            continue;
        }
        let (ca, cb) = (occ[a].max(1.0), occ[b].max(1.0));
        let pmi = (total_sentences * c as f64 / (ca * cb)).ln();
        if pmi < 1.0 {
            continue;
        }
        scored.push((pmi * (1.0 + c as f64).ln(), a, b, first));
    }
    scored.sort_unstable_by(|x, y| y.0.total_cmp(&x.0).then((x.1, x.2).cmp(&(y.1, y.2))));
    let mut per_node: Vec<usize> = vec![0; nodes.len()];
    let mut out = Vec::new();
    for (score, a, b, (ni, si)) in scored {
        if per_node[a] >= RELATED_PER_NODE || per_node[b] >= RELATED_PER_NODE {
            continue;
        }
        per_node[a] += 1;
        per_node[b] += 1;
        let ni = ni as usize;
        let f = facts[ni];
        let evidence: Vec<Evidence> = f
            .sentences
            .get(si as usize)
            .map(|(line, s)| Evidence { path: strings[ni].path.clone(), line: *line, sentence: s.clone() })
            .into_iter()
            .collect();
        out.push(Relation {
            from: nodes[a].id.clone(),
            to: nodes[b].id.clone(),
            rel: Rel::RelatedTo,
            confidence: round3((score / (score + 10.0)) as f32 * 0.5),
            evidence,
            structural: false,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::chunk_note;
    use crate::concepts::extract::extract_note;
    use crate::concepts::model::Lookup;
    use crate::markdown::parse;

    fn graph(notes: &[(&str, &str)]) -> ConceptGraph {
        let facts: Vec<NoteFacts> = notes
            .iter()
            .map(|(p, src)| {
                let n = parse(src);
                let c = chunk_note(p, &n);
                extract_note(p, &n, &c)
            })
            .collect();
        build_graph(&facts.iter().collect::<Vec<_>>())
    }

    fn edge(g: &ConceptGraph, a: &str, rel: Rel, b: &str) -> bool {
        let (Some(x), Some(y)) = (g.node_index(a), g.node_index(b)) else { return false };
        let (x, y) = (&g.nodes[x].id, &g.nodes[y].id);
        g.edges
            .iter()
            .any(|e| e.rel == rel && (&e.from == x && &e.to == y || rel.is_symmetric() && &e.from == y && &e.to == x))
    }

    #[test]
    fn spellings_and_languages_merge_into_one_concept() {
        let g = graph(&[
            ("a.md", "# LLaMA\n\nLlaMA 使用RMSNorm而非layernorm。LLaMa 很好。\n\n前置归一化（Pre-Norm）很常用。\n"),
            (
                "b.md",
                "# LayerNorm\n\nlayer norm 和 Layer Norm 都是写法。vllm 与 vLLM。top-p 和 top_p。\n\nPre-Norm 被广泛使用。\n",
            ),
            ("c.md", "# 多头 （缩写MHA）\n\nfeed forward network （缩写是FFN）很常见。FFN 用于变换。\n"),
        ]);
        for (a, b) in [
            ("LlaMA", "LLaMA"),
            ("LLaMa", "LLaMA"),
            ("layer norm", "LayerNorm"),
            ("layernorm", "LayerNorm"),
            ("vllm", "vLLM"),
            ("top-p", "top_p"),
            ("前置归一化", "Pre-Norm"),
            ("多头", "MHA"),
            ("feed forward network", "FFN"),
        ] {
            let (Lookup::Found(x), Lookup::Found(y)) = (g.lookup(a), g.lookup(b)) else {
                panic!("{a} / {b} missing: {:?}", g.nodes.iter().map(|n| &n.label).collect::<Vec<_>>())
            };
            assert_eq!(x.id, y.id, "{a} and {b} are one concept");
        }
        let llama = g.by_id(&g.nodes[g.node_index("llama").unwrap()].id).unwrap();
        assert_eq!(llama.label, "LLaMA", "heading form is the label");
        assert!(edge(&g, "LLaMA", Rel::Uses, "RMSNorm"));
        assert!(edge(&g, "RMSNorm", Rel::Replaces, "LayerNorm"));
        let e = g.edges.iter().find(|e| e.rel == Rel::Replaces).unwrap();
        assert_eq!((&*e.evidence[0].path, e.evidence[0].line), ("a.md", 3));
        assert!(e.evidence[0].sentence.contains("而非"));
    }
}
