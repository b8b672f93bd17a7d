//! The concept graph as the index stores it: a compact binary form (postcard) in which every note
//! path and chunk id is written once and mentions and evidence refer to them by number.
//!
//! Owns that byte format and nothing else. The graph's public shape stays [`ConceptGraph`] and its
//! documented JSON (`graph --format json`); this module does not choose where the file lives (that
//! is `store`). Loading shares each path and chunk id among all the mentions that name it, so a
//! graph of tens of thousands of mentions loads with a few thousand string allocations.

use std::io::Write;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::model::{Concept, ConceptGraph, Definition, Evidence, Kind, Mention, Rel, Relation};
use super::text::FxMap;

/// First bytes of a stored graph; the last byte is the layout's version.
const MAGIC: &[u8; 8] = b"NGGRAPH\x01";

/// (path, chunk id, line): the first two index the tables.
type StoredMention = (u32, u32, usize);

#[derive(Serialize, Deserialize)]
struct StoredGraph<'a> {
    #[serde(borrow)]
    paths: Vec<&'a str>,
    #[serde(borrow)]
    chunk_ids: Vec<&'a str>,
    #[serde(borrow)]
    nodes: Vec<StoredConcept<'a>>,
    #[serde(borrow)]
    edges: Vec<StoredRelation<'a>>,
}

#[derive(Serialize, Deserialize)]
struct StoredConcept<'a> {
    id: &'a str,
    label: &'a str,
    #[serde(borrow)]
    aliases: Vec<&'a str>,
    kind: Kind,
    mentions: Vec<StoredMention>,
    /// (text, path, line).
    #[serde(borrow)]
    definition: Option<(&'a str, u32, usize)>,
    notes: usize,
    home: Option<StoredMention>,
}

#[derive(Serialize, Deserialize)]
struct StoredRelation<'a> {
    /// Node indices.
    from: u32,
    to: u32,
    rel: Rel,
    confidence: f32,
    /// (path, line, sentence).
    #[serde(borrow)]
    evidence: Vec<(u32, usize, &'a str)>,
    structural: bool,
}

/// Why stored bytes are not a graph.
#[derive(Debug)]
pub struct Damaged(String);

impl std::fmt::Display for Damaged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Numbers each distinct string in the order first seen. The strings are shared (`Arc`): each
/// copy is looked up by its address first, and only a copy not seen before by its text.
#[derive(Default)]
struct Table<'a> {
    by_address: FxMap<*const u8, u32>,
    numbers: FxMap<&'a str, u32>,
    strings: Vec<&'a str>,
}

impl<'a> Table<'a> {
    fn number(&mut self, s: &'a Arc<str>) -> u32 {
        if let Some(&n) = self.by_address.get(&s.as_ptr()) {
            return n;
        }
        let n = *self.numbers.entry(s).or_insert_with(|| {
            self.strings.push(s);
            (self.strings.len() - 1) as u32
        });
        self.by_address.insert(s.as_ptr(), n);
        n
    }
}

/// The stored bytes of `graph`.
pub fn to_bytes(graph: &ConceptGraph) -> Vec<u8> {
    let mut bytes = Vec::new();
    // Writing to memory cannot fail.
    write(graph, &mut bytes).expect("serialising to memory");
    bytes
}

/// Writes the stored bytes of `graph` to `w` as they are made: a file written this way needs no
/// copy of itself in memory (fresh memory is slow to touch on some machines).
pub fn write<'a>(graph: &'a ConceptGraph, w: &mut impl Write) -> std::io::Result<()> {
    let mut paths = Table::default();
    let mut chunk_ids = Table::default();
    let mut nodes = Vec::with_capacity(graph.nodes.len());
    for c in &graph.nodes {
        let mut mention =
            |m: &'a Mention| -> StoredMention { (paths.number(&m.path), chunk_ids.number(&m.chunk_id), m.line) };
        let mentions = c.mentions.iter().map(&mut mention).collect();
        let home = c.home.as_ref().map(&mut mention);
        nodes.push(StoredConcept {
            id: &c.id,
            label: &c.label,
            aliases: c.aliases.iter().map(String::as_str).collect(),
            kind: c.kind,
            mentions,
            definition: c.definition.as_ref().map(|d| (d.text.as_str(), paths.number(&d.path), d.line)),
            notes: c.notes,
            home,
        });
    }
    let node_of: FxMap<&str, u32> = graph.nodes.iter().enumerate().map(|(i, c)| (c.id.as_str(), i as u32)).collect();
    let edges = graph
        .edges
        .iter()
        .filter_map(|e| {
            Some(StoredRelation {
                from: *node_of.get(e.from.as_str())?,
                to: *node_of.get(e.to.as_str())?,
                rel: e.rel,
                confidence: e.confidence,
                evidence: e.evidence.iter().map(|ev| (paths.number(&ev.path), ev.line, ev.sentence.as_str())).collect(),
                structural: e.structural,
            })
        })
        .collect();
    let stored = StoredGraph { paths: paths.strings, chunk_ids: chunk_ids.strings, nodes, edges };
    w.write_all(MAGIC)?;
    write_postcard(&stored, w)
}

/// Serialises `value` (postcard) into `w`, returning the writer's own error if it fails (postcard
/// reports any as a full buffer).
pub(crate) fn write_postcard<T: Serialize + ?Sized>(value: &T, w: &mut impl Write) -> std::io::Result<()> {
    /// Passes writes on and keeps the first error.
    struct Keep<'a, W> {
        inner: &'a mut W,
        error: Option<std::io::Error>,
    }
    impl<W: Write> Write for Keep<'_, W> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.inner.write(buf).map_err(|e| {
                let kind = e.kind();
                self.error.get_or_insert(e);
                kind.into()
            })
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.inner.flush()
        }
    }
    let mut keep = Keep { inner: w, error: None };
    match postcard::to_io(value, &mut keep) {
        Ok(_) => Ok(()),
        Err(e) => Err(keep.error.take().unwrap_or_else(|| std::io::Error::other(e))),
    }
}

/// The graph stored in `bytes`.
pub fn from_bytes(bytes: &[u8]) -> Result<ConceptGraph, Damaged> {
    let body = bytes.strip_prefix(MAGIC).ok_or_else(|| Damaged("not a notegraph concept graph".into()))?;
    let (stored, rest): (StoredGraph, _) = postcard::take_from_bytes(body).map_err(|e| Damaged(e.to_string()))?;
    if !rest.is_empty() {
        return Err(Damaged(format!("{} unexpected bytes at the end", rest.len())));
    }
    let paths: Vec<Arc<str>> = stored.paths.iter().map(|&p| Arc::from(p)).collect();
    let chunk_ids: Vec<Arc<str>> = stored.chunk_ids.iter().map(|&c| Arc::from(c)).collect();
    let bad = |what: &str| Damaged(format!("a {what} number out of range"));
    let path = |i: u32| paths.get(i as usize).cloned().ok_or_else(|| bad("path"));
    let mention = |(p, c, line): StoredMention| -> Result<Mention, Damaged> {
        let chunk_id = chunk_ids.get(c as usize).cloned().ok_or_else(|| bad("chunk"))?;
        Ok(Mention { chunk_id, path: path(p)?, line })
    };
    let mut nodes = Vec::with_capacity(stored.nodes.len());
    for c in stored.nodes {
        nodes.push(Concept {
            id: c.id.to_string(),
            label: c.label.to_string(),
            aliases: c.aliases.iter().map(|a| a.to_string()).collect(),
            kind: c.kind,
            mentions: c.mentions.into_iter().map(mention).collect::<Result<_, _>>()?,
            definition: match c.definition {
                Some((text, p, line)) => Some(Definition { text: text.to_string(), path: path(p)?, line }),
                None => None,
            },
            notes: c.notes,
            home: c.home.map(mention).transpose()?,
        });
    }
    let mut edges = Vec::with_capacity(stored.edges.len());
    for e in stored.edges {
        let id = |i: u32| nodes.get(i as usize).map(|c: &Concept| c.id.clone()).ok_or_else(|| bad("concept"));
        edges.push(Relation {
            from: id(e.from)?,
            to: id(e.to)?,
            rel: e.rel,
            confidence: e.confidence,
            evidence: e
                .evidence
                .into_iter()
                .map(|(p, line, sentence)| Ok(Evidence { path: path(p)?, line, sentence: sentence.to_string() }))
                .collect::<Result<_, Damaged>>()?,
            structural: e.structural,
        });
    }
    Ok(ConceptGraph::new(nodes, edges))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ConceptGraph {
        let m = |chunk: &str, path: &str, line| Mention { chunk_id: chunk.into(), path: path.into(), line };
        let concept = |id: &str, mentions: Vec<Mention>| Concept {
            id: id.into(),
            label: id.to_uppercase(),
            aliases: vec![id.to_uppercase(), format!("{id} 别名")],
            kind: Kind::Model,
            home: mentions.first().cloned(),
            mentions,
            definition: None,
            notes: 1,
        };
        let mut a = concept("llama", vec![m("c1", "a.md", 3), m("c2", "a.md", 9)]);
        a.definition = Some(Definition { text: "LLaMA 是 Meta 的模型。".into(), path: "a.md".into(), line: 3 });
        let b = concept("rmsnorm", vec![m("c1", "a.md", 4), m("c9", "b/笔记.md", 1)]);
        let edge = Relation {
            from: "llama".into(),
            to: "rmsnorm".into(),
            rel: Rel::Uses,
            confidence: 0.8,
            evidence: vec![Evidence { path: "a.md".into(), line: 4, sentence: "LLaMA 使用 RMSNorm。".into() }],
            structural: false,
        };
        ConceptGraph::new(vec![a, b], vec![edge])
    }

    #[test]
    fn a_stored_graph_loads_back_the_same_and_shares_its_strings() {
        let g = sample();
        let back = from_bytes(&to_bytes(&g)).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), serde_json::to_string(&g).unwrap());
        let (x, y) = (&back.nodes[0].mentions[0], &back.nodes[1].mentions[0]);
        assert!(Arc::ptr_eq(&x.path, &y.path) && Arc::ptr_eq(&x.chunk_id, &y.chunk_id), "one allocation per string");
    }

    #[test]
    fn damaged_bytes_are_an_error_not_a_panic() {
        let bytes = to_bytes(&sample());
        assert!(from_bytes(b"{\"nodes\": []}").is_err(), "JSON is not the stored form");
        for cut in [8, bytes.len() / 2, bytes.len() - 1] {
            assert!(from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(from_bytes(&longer).is_err());
    }

    #[test]
    fn a_failed_write_reports_the_writers_own_error() {
        /// Takes 100 bytes, then fails as a full disk would.
        struct FillsUp(usize);
        impl Write for FillsUp {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                if self.0 + buf.len() > 100 {
                    return Err(std::io::Error::new(std::io::ErrorKind::StorageFull, "no space left (test)"));
                }
                self.0 += buf.len();
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let err = write(&sample(), &mut FillsUp(0)).expect_err("the writer fills up");
        assert_eq!(err.kind(), std::io::ErrorKind::StorageFull);
        assert!(err.to_string().contains("no space left (test)"), "{err}");
    }
}
