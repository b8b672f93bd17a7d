//! The index folder: its layout, its manifest, its write lock, and the incremental update that
//! brings it in line with the corpus.
//!
//!
//! This is the only module that knows which files live in the index folder. It hands the lexical
//! index its own sub-folder, decides which notes are new, changed, removed or unchanged by content
//! hash, and commits once. It never prints: progress and outcomes go back to the caller as values.
//!
//! Layout:
//! - `manifest.json`: format and tokenizer versions, the corpus vocabulary, per note its content
//!   hash, title, chunk ids and vocabulary contribution. Written last, atomically.
//! - `tantivy/`: the lexical index.
//! - `facts.bin`: per note, the concept-graph facts extracted from it (re-extracted only when the
//!   note changes); `graph.bin`: the concept graph merged from all of them, in the compact form of
//!   `concepts::stored` (`graph --format json` gives it as JSON). Both are postcard: smaller and
//!   several times faster to write than JSON.
//! - `vectors.bin`: chunk embeddings (see `vectors`), filled in for chunks that lack one whenever an
//!   embedder is at hand.
//! - `.lock`: held (OS file lock) by the one process allowed to write.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::chunk::{Chunk, chunk_note};
use crate::concepts::{self, ConceptGraph, NoteFacts};
use crate::corpus::{self, Corpus, NoteSource, Skipped};
use crate::error::{Error, Result};
use crate::lexical::LexicalIndex;
use crate::markdown::{self, ParsedNote};
use crate::tokenize::{Analyzer, NoteVocabulary, TOKENIZER_VERSION, Vocabulary};
use crate::vectors::{TextEmbedder, VectorSet};

/// Bump when the layout or the meaning of stored data changes: older indexes are rebuilt.
pub const FORMAT_VERSION: u32 = 1;

const MANIFEST: &str = "manifest.json";
const LEXICAL_DIR: &str = "tantivy";
const LOCK: &str = ".lock";
const VECTORS: &str = "vectors.bin";
const FACTS: &str = "facts.bin";
/// First bytes of the facts file; the last byte is the layout's version.
const FACTS_MAGIC: &[u8; 8] = b"NGFACTS\x01";
const GRAPH: &str = "graph.bin";
/// Where earlier versions kept the facts and the graph (as JSON); removed once the new files are
/// written.
const LEGACY_FILES: [&str; 2] = ["concepts.json", "graph.json"];

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub tokenizer_version: u32,
    /// Hash of the domain terms the lexical index was tokenized with.
    pub dictionary_hash: String,
    pub vocabulary: Vocabulary,
    pub notes: BTreeMap<String, NoteEntry>,
    /// The concept-graph extractor and merge versions the stored graph was made with.
    #[serde(default)]
    pub graph_versions: (u32, u32),
}

/// The current concept-graph extractor and merge versions.
fn graph_versions() -> (u32, u32) {
    (concepts::FACTS_VERSION, concepts::build::BUILD_VERSION)
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NoteEntry {
    pub hash: String,
    pub title: String,
    pub chunk_ids: Vec<String>,
    pub vocabulary: NoteVocabulary,
}

/// Progress of a long operation, for the caller to draw.
#[derive(Debug, Clone)]
pub enum Progress {
    /// Notes parsed and indexed so far, out of the notes that need it.
    Indexing { done: usize, total: usize },
    /// Chunks embedded so far, out of the chunks that need a vector.
    Embedding { done: usize, total: usize },
    /// Finished.
    Done,
}

/// What an update builds besides the lexical index.
#[derive(Debug, Clone, Copy)]
pub struct UpdateOptions {
    /// Build the concept graph (on by default). Off leaves an index without a graph, for
    /// benchmarks that measure what the graph costs; the next default update builds it.
    pub concept_graph: bool,
}

impl Default for UpdateOptions {
    fn default() -> Self {
        UpdateOptions { concept_graph: true }
    }
}

/// What an update did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UpdateReport {
    pub added: Vec<String>,
    pub updated: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: usize,
    /// Unchanged notes re-tokenized because the corpus's domain terms changed.
    pub retokenized: Vec<String>,
    pub skipped: Vec<SkippedNote>,
    /// Site-navigation pages left out.
    pub site_nav: Vec<String>,
    pub chunks: usize,
    pub chunks_written: usize,
    /// Chunks embedded in this update.
    pub embedded: usize,
    /// Chunks that have no vector (no embedder was available).
    pub vectors_missing: usize,
    /// Set when the embedder failed: the chunks stay without vectors, everything else is indexed.
    pub embed_error: Option<String>,
    /// Notes whose concept facts were extracted in this update.
    pub graph_notes_extracted: usize,
    pub graph_concepts: usize,
    pub graph_typed_edges: usize,
    /// Wall time of the concept-graph build (extraction, merge, staging), on its own threads
    /// beside the lexical write.
    #[serde(serialize_with = "ser_secs")]
    pub graph_took: Duration,
    /// How long the update waited for the graph once the lexical index was committed. (What
    /// the graph's threads take from the lexical write on a busy machine is not in it: `cargo
    /// bench` measures the whole difference.)
    #[serde(serialize_with = "ser_secs")]
    pub graph_waited: Duration,
    /// Set when the whole index was rebuilt, with the reason.
    pub rebuilt: Option<String>,
    #[serde(serialize_with = "ser_secs")]
    pub took: Duration,
}

fn ser_secs<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

#[derive(Debug, Clone, Serialize)]
pub struct SkippedNote {
    pub path: String,
    pub reason: String,
}

impl From<Skipped> for SkippedNote {
    fn from(s: Skipped) -> Self {
        SkippedNote { path: s.rel_path, reason: s.reason }
    }
}

impl UpdateReport {
    /// True when nothing in the index changed.
    pub fn is_noop(&self) -> bool {
        self.embedded == 0 && self.lexical_noop()
    }

    /// True when no note was added, changed or removed.
    pub fn lexical_noop(&self) -> bool {
        self.added.is_empty()
            && self.updated.is_empty()
            && self.removed.is_empty()
            && self.retokenized.is_empty()
            && self.rebuilt.is_none()
    }
}

/// The index folder, opened for reading and searching.
pub struct Store {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub lexical: LexicalIndex,
}

/// The exclusive write lock on an index folder, released on drop.
struct WriteLock {
    _file: File,
}

fn lock(dir: &Path) -> Result<WriteLock> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let path = dir.join(LOCK);
    let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(WriteLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::IndexBusy { path: dir.to_path_buf() }),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&path, e)),
    }
}

fn read_manifest(dir: &Path) -> Result<Option<Manifest>> {
    let path = dir.join(MANIFEST);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(&path, e)),
    }
}

/// Writes `bytes` to `path` atomically (temp file in the same folder, then rename).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

fn dictionary_hash(terms: &[String]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for t in terms {
        h.update(t.as_bytes());
        h.update([0]);
    }
    corpus::hex(&h.finalize()[..8])
}

/// A note parsed and chunked, ready to index.
pub struct PreparedNote {
    pub source: NoteSource,
    pub parsed: ParsedNote,
    pub chunks: Vec<Chunk>,
    pub title: String,
}

fn note_title(source: &NoteSource, parsed: &ParsedNote) -> String {
    parsed.front_matter.title.clone().filter(|t| !t.trim().is_empty()).unwrap_or_else(|| {
        let name = source.rel_path.rsplit('/').next().unwrap_or(&source.rel_path);
        name.rsplit_once('.').map_or(name, |(stem, _)| stem).to_string()
    })
}

/// Parses and chunks one note.
pub fn prepare(source: NoteSource) -> PreparedNote {
    let parsed = markdown::parse(&source.text);
    let chunks = chunk_note(&source.rel_path, &parsed);
    let title = note_title(&source, &parsed);
    PreparedNote { source, parsed, chunks, title }
}

/// Why the stored index cannot be reused as is, if it cannot.
fn rebuild_reason(m: &Manifest) -> Option<String> {
    if m.format_version != FORMAT_VERSION {
        Some(format!("index format changed (v{} → v{FORMAT_VERSION})", m.format_version))
    } else if m.tokenizer_version != TOKENIZER_VERSION {
        Some(format!("tokenizer changed (v{} → v{TOKENIZER_VERSION})", m.tokenizer_version))
    } else {
        None
    }
}

impl Store {
    /// True when the index in `dir` matches the corpus scan exactly (nothing to add, change or
    /// remove, same versions) and, when `vectors_of` is given, every chunk has a vector made by
    /// that embedder fingerprint.
    pub fn is_fresh(dir: &Path, notes: &[NoteSource], vectors_of: Option<&str>) -> Result<bool> {
        let Some(m) = read_manifest(dir)? else { return Ok(false) };
        if rebuild_reason(&m).is_some() || !dir.join(LEXICAL_DIR).join("meta.json").exists() {
            return Ok(false);
        }
        let same = m.notes.len() == notes.len()
            && notes.iter().all(|n| m.notes.get(&n.rel_path).is_some_and(|e| e.hash == n.hash));
        if !same || !dir.join(GRAPH).exists() || m.graph_versions != graph_versions() {
            return Ok(false);
        }
        match vectors_of {
            None => Ok(true),
            Some(fingerprint) => {
                let chunks: usize = m.notes.values().map(|e| e.chunk_ids.len()).sum();
                Ok(VectorSet::read_header(&dir.join(VECTORS)).is_some_and(|(f, n)| f == fingerprint && n == chunks))
            }
        }
    }

    /// Every chunk of the index, note by note.
    pub fn all_chunks(&self) -> Result<Vec<Chunk>> {
        let ids: Vec<&str> =
            self.manifest.notes.values().flat_map(|e| e.chunk_ids.iter().map(String::as_str)).collect();
        Ok(self.lexical.chunks_by_id(&ids)?.into_iter().map(Chunk::from).collect())
    }

    /// The concept graph (empty when the index has none yet).
    pub fn load_graph(&self) -> Result<ConceptGraph> {
        let path = self.dir.join(GRAPH);
        match std::fs::read(&path) {
            Ok(bytes) => concepts::stored::from_bytes(&bytes).map_err(|e| {
                Error::index(&path, format!("damaged concept graph ({e}); run `notegraph index` after deleting it"))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConceptGraph::default()),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// The chunk vectors (empty when none were made yet).
    pub fn load_vectors(&self) -> Result<VectorSet> {
        VectorSet::load(&self.dir.join(VECTORS))
    }

    /// Opens an existing index for searching (no corpus check, no lock).
    pub fn open(dir: &Path) -> Result<Store> {
        let manifest = read_manifest(dir)?
            .ok_or_else(|| Error::index(dir, "no index here yet; run `notegraph index` (or any search) to build it"))?;
        if let Some(reason) = rebuild_reason(&manifest) {
            return Err(Error::index(dir, format!("{reason}; run `notegraph index` to rebuild it")));
        }
        let analyzer = Analyzer::new(&manifest.vocabulary.domain_terms);
        let lexical = LexicalIndex::open_or_create(&dir.join(LEXICAL_DIR), analyzer)?;
        Ok(Store { dir: dir.to_path_buf(), manifest, lexical })
    }

    /// Brings the index in `dir` up to date with the notes of `corpus`: unchanged notes are
    /// skipped, changed ones replaced, removed ones deleted, all in one commit.
    pub fn update(
        dir: &Path,
        corpus: &Corpus,
        embedder: Option<&mut dyn TextEmbedder>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(Store, UpdateReport)> {
        Self::update_with(dir, corpus, embedder, UpdateOptions::default(), progress)
    }

    /// [`Store::update`] with options.
    pub fn update_with(
        dir: &Path,
        corpus: &Corpus,
        embedder: Option<&mut dyn TextEmbedder>,
        options: UpdateOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(Store, UpdateReport)> {
        let started = Instant::now();
        crate::tokenize::preload_dictionary();
        let scan = corpus.scan()?;
        let _lock = lock(dir)?;
        let mut report = UpdateReport {
            skipped: scan.skipped.into_iter().map(Into::into).collect(),
            site_nav: scan.site_nav,
            ..Default::default()
        };

        let lexical_dir = dir.join(LEXICAL_DIR);
        let mut old = match read_manifest(dir)? {
            Some(m) => match rebuild_reason(&m) {
                Some(reason) => {
                    report.rebuilt = Some(reason);
                    Manifest::default()
                }
                None if !lexical_dir.join("meta.json").exists() => {
                    report.rebuilt = Some("the lexical index is missing".into());
                    Manifest::default()
                }
                None => m,
            },
            None => Manifest::default(),
        };
        if report.rebuilt.is_some() || old.notes.is_empty() {
            // Start from nothing: stale files from another format must not be opened.
            if lexical_dir.exists() {
                std::fs::remove_dir_all(&lexical_dir).map_err(|e| Error::io(&lexical_dir, e))?;
            }
            old.notes.clear();
        }

        // Decide what changed.
        let present: BTreeSet<&str> = scan.notes.iter().map(|n| n.rel_path.as_str()).collect();
        report.removed = old.notes.keys().filter(|p| !present.contains(p.as_str())).cloned().collect();
        let mut to_index: Vec<NoteSource> = Vec::new();
        let mut unchanged: Vec<NoteSource> = Vec::new();
        for n in scan.notes {
            match old.notes.get(&n.rel_path) {
                Some(e) if e.hash == n.hash => unchanged.push(n),
                Some(_) => {
                    report.updated.push(n.rel_path.clone());
                    to_index.push(n);
                }
                None => {
                    report.added.push(n.rel_path.clone());
                    to_index.push(n);
                }
            }
        }

        // Parse what changed, then settle the corpus vocabulary.
        let mut prepared: Vec<PreparedNote> = to_index.into_iter().map(prepare).collect();
        let mut entries: BTreeMap<String, NoteEntry> = BTreeMap::new();
        for p in &prepared {
            entries.insert(
                p.source.rel_path.clone(),
                NoteEntry {
                    hash: p.source.hash.clone(),
                    title: p.title.clone(),
                    chunk_ids: p.chunks.iter().map(|c| c.id.clone()).collect(),
                    vocabulary: NoteVocabulary::from_note(&p.parsed),
                },
            );
        }
        for n in &unchanged {
            if let Some(e) = old.notes.get(&n.rel_path) {
                entries.insert(n.rel_path.clone(), e.clone());
            }
        }
        let vocabulary = Vocabulary::merge(entries.values().map(|e| &e.vocabulary));
        let dict_hash = dictionary_hash(&vocabulary.domain_terms);
        if !old.notes.is_empty() && dict_hash != old.dictionary_hash {
            // Domain terms came or went: unchanged notes that contain one are tokenized anew.
            let before: BTreeSet<&String> = old.vocabulary.domain_terms.iter().collect();
            let after: BTreeSet<&String> = vocabulary.domain_terms.iter().collect();
            let delta: Vec<&String> = before.symmetric_difference(&after).copied().collect();
            let (retok, keep): (Vec<NoteSource>, Vec<NoteSource>) =
                unchanged.into_iter().partition(|n| delta.iter().any(|t| n.text.contains(t.as_str())));
            unchanged = keep;
            for n in retok {
                report.retokenized.push(n.rel_path.clone());
                prepared.push(prepare(n));
            }
        }
        report.unchanged = unchanged.len();

        // Write. The concept graph is built on its own threads while the lexical index is
        // written: the two read the same parsed notes and share nothing else.
        // The graph's threads keep out of the write's way until it ends.
        let lexical_write = LexicalWrite::default();
        let (written, extraction) = std::thread::scope(|scope| {
            let extraction = scope.spawn(|| match options.concept_graph {
                true => build_graph_files(dir, &entries, &prepared, &unchanged, &lexical_write),
                false => drop_graph_files(dir),
            });
            let written = {
                // Ended however the write ends, a panic included: workers wait on it.
                let _ends = lexical_write.ends_when_dropped();
                write_lexical(&lexical_dir, &vocabulary, &prepared, &mut report, progress)
            };
            let lexical_done = Instant::now();
            let extraction = extraction.join();
            if options.concept_graph {
                report.graph_waited = lexical_done.elapsed();
            }
            (written, extraction)
        });
        let lexical = match written {
            Ok(lexical) => lexical,
            Err(e) => {
                // The graph's staged files must not outlive an update that did not happen.
                if let Ok(Ok(graph)) = &extraction {
                    graph.staged.iter().for_each(|(tmp, _)| _ = std::fs::remove_file(tmp));
                }
                return Err(e);
            }
        };
        let graph = extraction.map_err(|_| Error::index(dir, EXTRACTION_FAILED))??;
        let manifest = Manifest {
            format_version: FORMAT_VERSION,
            tokenizer_version: TOKENIZER_VERSION,
            dictionary_hash: dict_hash,
            vocabulary,
            notes: entries,
            graph_versions: graph_versions(),
        };
        report.chunks = manifest.notes.values().map(|e| e.chunk_ids.len()).sum();
        install_graph(dir, graph, &mut report)?;
        refresh_vectors(dir, &manifest, &prepared, &lexical, embedder, &mut report, progress)?;
        let stored_versions = read_manifest(dir)?.map(|m| m.graph_versions);
        if !report.lexical_noop() || stored_versions != Some(graph_versions()) {
            let bytes = serde_json::to_vec(&manifest).map_err(|e| Error::index(dir, e))?;
            write_atomic(&dir.join(MANIFEST), &bytes)?;
        }
        progress(Progress::Done);
        report.took = started.elapsed();
        Ok((Store { dir: dir.to_path_buf(), manifest, lexical }, report))
    }
}

/// Replaces the changed notes' chunks in the lexical index (and drops the removed notes'), in one
/// commit; opens the index either way.
fn write_lexical(
    lexical_dir: &Path,
    vocabulary: &Vocabulary,
    prepared: &[PreparedNote],
    report: &mut UpdateReport,
    progress: &mut dyn FnMut(Progress),
) -> Result<LexicalIndex> {
    let analyzer = Analyzer::new(&vocabulary.domain_terms);
    let lexical = LexicalIndex::open_or_create(lexical_dir, analyzer)?;
    if report.lexical_noop() {
        return Ok(lexical);
    }
    let mut writer = lexical.writer()?;
    for path in &report.removed {
        writer.delete_note(path);
    }
    let total = prepared.len();
    for (i, p) in prepared.iter().enumerate() {
        writer.delete_note(&p.source.rel_path);
        writer.add_note_chunks(&p.chunks, &p.title)?;
        report.chunks_written += p.chunks.len();
        progress(Progress::Indexing { done: i + 1, total });
    }
    writer.commit()?;
    Ok(lexical)
}

/// Brings `vectors.bin` in line with the manifest's chunks: vectors of vanished chunks are dropped,
/// missing ones embedded (when an embedder is given) or counted as missing.
fn refresh_vectors(
    dir: &Path,
    manifest: &Manifest,
    prepared: &[PreparedNote],
    lexical: &LexicalIndex,
    embedder: Option<&mut dyn TextEmbedder>,
    report: &mut UpdateReport,
    progress: &mut dyn FnMut(Progress),
) -> Result<()> {
    let path = dir.join(VECTORS);
    // A damaged file is rebuilt from scratch below.
    let mut vectors = VectorSet::load(&path).unwrap_or_default();
    let before = vectors.len();
    let ids: Vec<&str> = manifest.notes.values().flat_map(|e| e.chunk_ids.iter().map(String::as_str)).collect();
    let Some(embedder) = embedder else {
        let keep: std::collections::HashSet<&str> = ids.iter().copied().collect();
        vectors.retain_ids(&keep);
        report.vectors_missing = ids.len() - vectors.len();
        if vectors.len() != before {
            vectors.save(&path)?;
        }
        return Ok(());
    };
    // Texts of the chunks parsed in this update; others are read back from the lexical index.
    let fresh: std::collections::HashMap<&str, &Chunk> =
        prepared.iter().flat_map(|p| p.chunks.iter().map(|c| (c.id.as_str(), c))).collect();
    let wanted: Vec<(&str, String)> = ids.iter().map(|id| (*id, String::new())).collect();
    let missing = vectors.retain_and_missing(&wanted, &embedder.fingerprint(), embedder.dims());
    if missing.is_empty() {
        if vectors.len() != before {
            vectors.save(&path)?;
        }
        return Ok(());
    }
    let mut texts: Vec<(&str, String)> = Vec::with_capacity(missing.len());
    let need_lookup: Vec<&str> = missing.iter().map(|m| m.0).filter(|id| !fresh.contains_key(id)).collect();
    let looked_up: std::collections::HashMap<String, String> = lexical
        .chunks_by_id(&need_lookup)?
        .into_iter()
        .map(|c| {
            let chunk = Chunk::from(c);
            (chunk.id.clone(), chunk.embedding_text())
        })
        .collect();
    for (id, _) in &missing {
        if let Some(c) = fresh.get(id) {
            texts.push((id, c.embedding_text()));
        } else if let Some(t) = looked_up.get(*id) {
            texts.push((id, t.clone()));
        }
    }
    let total = texts.len();
    let refs: Vec<&str> = texts.iter().map(|t| t.1.as_str()).collect();
    let embedded = match embedder.embed_passages(&refs, &mut |done| progress(Progress::Embedding { done, total })) {
        Ok(v) => v,
        Err(e) => {
            // A model that cannot run must not cost the user the lexical index and the graph.
            report.embed_error = Some(e.to_string());
            report.vectors_missing = ids.len() - vectors.len();
            return vectors.save(&path);
        }
    };
    for ((id, _), v) in texts.iter().zip(&embedded) {
        vectors.push(id, v);
    }
    report.embedded = embedded.len();
    report.vectors_missing = ids.len() - vectors.len();
    vectors.save(&path)
}

/// Per-note concept facts as stored. The layout is positional (postcard): a change to the shape of
/// [`NoteFacts`] comes with a new [`concepts::FACTS_VERSION`].
#[derive(Debug, Default, Serialize, Deserialize)]
struct FactsFile {
    version: u32,
    /// The merge rules the stored graph was built with.
    build_version: u32,
    /// The content hash of each note the facts were extracted from: facts of any other version
    /// of a note (say, from an update that failed after this file was staged) are not reused.
    hashes: BTreeMap<String, String>,
    notes: BTreeMap<String, NoteFacts>,
}

impl FactsFile {
    /// Compact binary (postcard) after a header of the magic bytes and the facts version:
    /// written on every graph update, read on every incremental one.
    fn write(&self, w: &mut impl Write) -> std::io::Result<()> {
        w.write_all(&Self::header())?;
        concepts::stored::write_postcard(self, w)
    }

    /// `None` for anything but a whole facts file of this layout and facts version (the facts are
    /// then extracted again, so a damaged or outdated file costs time, never correctness).
    fn from_bytes(bytes: &[u8]) -> Option<FactsFile> {
        let body = bytes.strip_prefix(&Self::header())?;
        match postcard::take_from_bytes::<FactsFile>(body) {
            Ok((facts, [])) if facts.version == concepts::FACTS_VERSION => Some(facts),
            _ => None,
        }
    }

    fn header() -> [u8; 12] {
        let mut h = [0; 12];
        h[..8].copy_from_slice(FACTS_MAGIC);
        h[8..].copy_from_slice(&concepts::FACTS_VERSION.to_le_bytes());
        h
    }
}

/// The concept graph built beside the lexical write: its files are staged (written under a
/// temporary name) and put in place only once the lexical index is committed.
struct GraphBuild {
    /// (staged file, final path); empty when the stored graph is already current.
    staged: Vec<(PathBuf, PathBuf)>,
    extracted: usize,
    concepts: usize,
    typed_edges: usize,
    took: Duration,
}

/// Reads the stored per-note facts, drops those of removed notes, extracts those of new and
/// changed notes (and of any note whose stored facts are missing, of another version or from
/// another extractor), merges everything into the graph and stages both files. Runs on its own
/// thread beside the lexical write, so it touches no file but its own.
fn build_graph_files(
    dir: &Path,
    notes: &BTreeMap<String, NoteEntry>,
    prepared: &[PreparedNote],
    unchanged: &[NoteSource],
    lexical_write: &LexicalWrite,
) -> Result<GraphBuild> {
    let started = Instant::now();
    // Everything on the graph's side runs at a lower priority until the lexical write ends
    // (threads started from here inherit it): the update waits for the write, and the graph is to
    // take only the core time that leaves. The patterns compile first, while jieba's dictionary is
    // still loading.
    yield_to_lexical_write();
    concepts::prepare();
    let facts_path = dir.join(FACTS);
    let graph_path = dir.join(GRAPH);
    let mut facts: FactsFile =
        std::fs::read(&facts_path).ok().and_then(|b| FactsFile::from_bytes(&b)).unwrap_or_default();
    facts.version = concepts::FACTS_VERSION;
    let before = facts.notes.len();
    let FactsFile { hashes, notes: stored, .. } = &mut facts;
    stored.retain(|path, _| notes.get(path).is_some_and(|e| hashes.get(path) == Some(&e.hash)));
    let mut changed = facts.notes.len() != before || facts.build_version != concepts::build::BUILD_VERSION;
    facts.build_version = concepts::build::BUILD_VERSION;
    let mut jobs: Vec<ExtractJob> = prepared.iter().map(ExtractJob::Parsed).collect();
    jobs.extend(unchanged.iter().filter(|n| !facts.notes.contains_key(&n.rel_path)).map(ExtractJob::Unparsed));
    changed |= !jobs.is_empty();
    let extracted = jobs.len();
    for (path, hash, note_facts) in
        extract_in_parallel(&jobs, lexical_write).ok_or_else(|| Error::index(dir, EXTRACTION_FAILED))?
    {
        facts.notes.insert(path.clone(), note_facts);
        facts.hashes.insert(path, hash);
    }
    lexical_write.leave_idle();
    facts.hashes.retain(|path, _| notes.contains_key(path));
    let mut build = GraphBuild { staged: Vec::new(), extracted, concepts: 0, typed_edges: 0, took: Duration::ZERO };
    if changed || !graph_path.exists() {
        // The facts file is written while the graph is merged: both only read the facts.
        let (graph, staged_facts) = std::thread::scope(|scope| {
            let facts_file = scope.spawn(|| stage(&facts_path, |w| facts.write(w)));
            let all: Vec<&NoteFacts> = facts.notes.values().collect();
            (concepts::build_graph(&all), facts_file.join())
        });
        build.concepts = graph.nodes.len();
        build.typed_edges = graph.edges.iter().filter(|e| e.rel.is_typed()).count();
        build.staged.push((stage(&graph_path, |w| concepts::stored::write(&graph, w))?, graph_path));
        let staged_facts = staged_facts.map_err(|_| Error::index(dir, EXTRACTION_FAILED))??;
        build.staged.push((staged_facts, facts_path));
        drop_in_background(graph);
    }
    drop_in_background(facts);
    build.took = started.elapsed();
    Ok(build)
}

/// Frees `value` on a thread of its own: the graph and the facts are tens of thousands of small
/// allocations that take milliseconds to free, and nothing needs to wait for that (a process that
/// exits first gives the memory back at once).
fn drop_in_background<T: Send + 'static>(value: T) {
    // If no thread can be started, the value comes back in the error and is freed here.
    _ = std::thread::Builder::new().spawn(move || drop(value));
}

const EXTRACTION_FAILED: &str = "building the concept graph failed (an internal error); run `index` again";

/// A note whose concept facts are to be extracted.
enum ExtractJob<'a> {
    /// Parsed in this update.
    Parsed(&'a PreparedNote),
    /// Unchanged, but without stored facts: parsed on the extraction thread.
    Unparsed(&'a NoteSource),
}

impl ExtractJob<'_> {
    fn size(&self) -> usize {
        match self {
            ExtractJob::Parsed(p) => p.source.text.len(),
            ExtractJob::Unparsed(n) => n.text.len(),
        }
    }

    /// (path, content hash, facts).
    fn run(&self) -> (String, String, NoteFacts) {
        let extract = |p: &PreparedNote| {
            let facts = concepts::extract_note(&p.source.rel_path, &p.parsed, &p.chunks);
            (p.source.rel_path.clone(), p.source.hash.clone(), facts)
        };
        match self {
            ExtractJob::Parsed(p) => extract(p),
            ExtractJob::Unparsed(n) => extract(&prepare((*n).clone())),
        }
    }
}

/// Extracts the facts of every job, largest notes first; `None` if a worker panicked. While the
/// lexical index is being written (until its `more_workers` gate opens) a core is left to it: more workers
/// there would take time from the write and delay the whole update. Then every core extracts. A
/// worker that runs out of notes opens the gate too: whoever still waits has nothing left to do.
/// The workers first do, for every note, the steps that need no dictionary: in a fresh process
/// they run while jieba's dictionary is still loading.
fn extract_in_parallel(jobs: &[ExtractJob], lexical_write: &LexicalWrite) -> Option<Vec<(String, String, NoteFacts)>> {
    let more_workers = &lexical_write.more_workers;
    use std::sync::Mutex;
    use std::sync::atomic::AtomicUsize;
    let mut order: Vec<&ExtractJob> = jobs.iter().collect();
    order.sort_by_key(|j| std::cmp::Reverse(j.size()));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = cores.clamp(1, order.len().max(1));
    let early = early_workers(cores, workers);
    // A note's slot is locked while its first steps run, so finishing it waits for them. A worker
    // finishes notes only once every note has been claimed for its first steps.
    let begun: Vec<Mutex<Option<concepts::BegunNote>>> = order.iter().map(|_| Mutex::new(None)).collect();
    let (next_begin, next_finish) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let work = |w: usize| -> Vec<(String, String, NoteFacts)> {
        if w >= early {
            more_workers.wait();
            lexical_write.checkpoint();
        }
        loop {
            let i = next_begin.fetch_add(1, Ordering::Relaxed);
            let Some(job) = order.get(i) else { break };
            lexical_write.checkpoint();
            if let (ExtractJob::Parsed(p), Ok(mut slot)) = (job, begun[i].lock()) {
                *slot = Some(concepts::begin_note(&p.source.rel_path, &p.parsed, &p.chunks));
            }
        }
        let mut done = Vec::new();
        loop {
            let i = next_finish.fetch_add(1, Ordering::Relaxed);
            let Some(job) = order.get(i) else { break };
            lexical_write.checkpoint();
            // A poisoned slot (its first steps panicked) is extracted anew.
            let started = begun[i].lock().ok().and_then(|mut slot| slot.take());
            done.push(match (started, job) {
                (Some(b), ExtractJob::Parsed(p)) => (p.source.rel_path.clone(), p.source.hash.clone(), b.finish()),
                _ => job.run(),
            });
        }
        more_workers.open();
        done
    };
    let work = &work;
    std::thread::scope(|scope| {
        let others: Vec<_> = (1..workers).map(|w| scope.spawn(move || work(w))).collect();
        // The first worker, which extracts most notes, runs on this thread, which merges the graph
        // next, in the same heap and caches: measured 10 ms faster than a thread of its own.
        let mut all = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(0))).ok()?;
        for h in others {
            all.extend(h.join().ok()?);
        }
        Some(all)
    })
}

/// How many of `workers` extraction workers start while the lexical index is being written: one
/// core is left to the write (on a single core, the one worker shares it).
fn early_workers(cores: usize, workers: usize) -> usize {
    cores.saturating_sub(1).clamp(1, workers.max(1))
}

/// The lexical write as the concept graph's threads see it: they keep out of its way until it ends.
#[derive(Default)]
struct LexicalWrite {
    /// Opens when the write ends, or when the extraction runs out of notes (a worker still waiting
    /// then has nothing left to do).
    more_workers: Gate,
    ended: AtomicBool,
}

impl LexicalWrite {
    /// A guard that marks the write ended (and opens the gate) when it goes out of scope.
    #[must_use = "the write counts as ended when the guard is dropped: bind it to a named variable"]
    fn ends_when_dropped(&self) -> impl Drop + '_ {
        struct Ender<'a>(&'a LexicalWrite);
        impl Drop for Ender<'_> {
            fn drop(&mut self) {
                self.0.ended.store(true, Ordering::Release);
                self.0.more_workers.open();
            }
        }
        Ender(self)
    }

    /// Called by the graph's threads between steps: once the write has ended, the calling thread
    /// takes back the normal priority. Nothing of the update is left to yield to, and a thread of
    /// the idle policy would also wait for every other process on the machine.
    fn checkpoint(&self) {
        if self.ended.load(Ordering::Acquire) {
            resume_normal_priority();
        }
    }

    /// Takes the calling thread out of the idle policy for good (the merge and the files, which
    /// have no step between which to check): at nice 10 while the write still runs, at the normal
    /// priority once it has ended. An idle thread could wait long on a machine busy with other work.
    fn leave_idle(&self) {
        if !self.ended.load(Ordering::Acquire) {
            lower_priority_to_nice_10();
        }
        resume_normal_priority();
    }
}

/// A one-way signal between threads: closed until [`Gate::open`], then open for good.
#[derive(Default)]
struct Gate {
    open: std::sync::Mutex<bool>,
    opened: std::sync::Condvar,
}

impl Gate {
    fn open(&self) {
        // A poisoned lock only means a waiter panicked; the flag is still set.
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        *open = true;
        self.opened.notify_all();
    }

    /// Blocks until the gate is open.
    fn wait(&self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        while !*open {
            open = self.opened.wait(open).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Lowers the calling thread's scheduling priority (on Linux the policy and the nice value apply
/// per thread and are inherited by the threads it starts): the idle policy, which runs the thread
/// only on a core that nothing else wants, or if that is refused nice 10. At equal priority the
/// graph's threads take a share of the lexical write's core and delay the commit by more than the
/// graph itself takes; at nice 10 they still delayed it by 20–27 ms.
fn yield_to_lexical_write() {
    #[cfg(target_os = "linux")]
    // SAFETY: sched_setscheduler and setpriority on the calling thread (pid 0, its own id) read
    // only the parameter passed; a failure (not permitted, say) leaves the priority as it was.
    unsafe {
        let param = libc::sched_param { sched_priority: 0 };
        if libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) != 0 {
            lower_priority_to_nice_10();
        }
    }
}

/// Gives the calling thread nice 10: a smaller share of a busy core, but never none.
fn lower_priority_to_nice_10() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on the calling thread's own id touches no memory; a failure leaves the
    // priority as it was.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 10);
    }
}

/// Gives the calling thread the normal policy back (a nice value it was given stays: only a
/// privileged thread may lower it again).
fn resume_normal_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: as in `yield_to_lexical_write`.
    unsafe {
        let param = libc::sched_param { sched_priority: 0 };
        libc::sched_setscheduler(0, libc::SCHED_OTHER, &param);
    }
}

/// Removes the graph files, so that no stale graph outlives an update that skipped it.
fn drop_graph_files(dir: &Path) -> Result<GraphBuild> {
    for path in [GRAPH, FACTS].into_iter().chain(LEGACY_FILES).map(|f| dir.join(f)) {
        remove_if_present(&path)?;
    }
    Ok(GraphBuild { staged: Vec::new(), extracted: 0, concepts: 0, typed_edges: 0, took: Duration::ZERO })
}

/// Writes a file under a temporary name beside `path`, through a buffer (no copy of the whole
/// file in memory); returns that name.
fn stage(path: &Path, write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>) -> Result<PathBuf> {
    let tmp = path.with_extension("staged");
    let mut w = BufWriter::with_capacity(1 << 16, File::create(&tmp).map_err(|e| Error::io(&tmp, e))?);
    write(&mut w).and_then(|()| w.flush()).map_err(|e| Error::io(&tmp, e))?;
    Ok(tmp)
}

/// Puts the staged graph files in place and removes those of the earlier (JSON) layout.
fn install_graph(dir: &Path, build: GraphBuild, report: &mut UpdateReport) -> Result<()> {
    report.graph_notes_extracted = build.extracted;
    report.graph_took = build.took;
    report.graph_concepts = build.concepts;
    report.graph_typed_edges = build.typed_edges;
    if build.staged.is_empty() {
        return Ok(());
    }
    for (tmp, path) in build.staged {
        std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
    }
    LEGACY_FILES.iter().try_for_each(|f| remove_if_present(&dir.join(f)))
}

/// Removes the file at `path` if there is one.
fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::{LexicalWrite, early_workers};
    use std::sync::atomic::Ordering;

    #[test]
    fn one_core_is_left_to_the_lexical_write_but_one_worker_always_starts() {
        assert_eq!(early_workers(2, 2), 1);
        assert_eq!(early_workers(8, 8), 7);
        assert_eq!(early_workers(8, 3), 3, "never more than there are workers");
        assert_eq!(early_workers(1, 1), 1, "a single core still extracts");
        assert_eq!(early_workers(4, 0), 1);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn graph_threads_run_at_idle_priority_until_the_lexical_write_ends() {
        // SAFETY: reads the calling thread's policy, nothing else.
        let policy = || unsafe { libc::sched_getscheduler(0) };
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let write = LexicalWrite::default();
                    super::yield_to_lexical_write();
                    assert_eq!(policy(), libc::SCHED_IDLE);
                    write.checkpoint();
                    assert_eq!(policy(), libc::SCHED_IDLE, "the write has not ended yet");
                    drop(write.ends_when_dropped());
                    write.checkpoint();
                    assert_eq!(policy(), libc::SCHED_OTHER);
                })
                .join()
                .expect("graph thread");
            // A merge that starts while the write runs leaves the idle policy at nice 10.
            scope
                .spawn(|| {
                    let write = LexicalWrite::default();
                    super::yield_to_lexical_write();
                    write.leave_idle();
                    assert_eq!(policy(), libc::SCHED_OTHER);
                    // SAFETY: reads the calling thread's nice value.
                    let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
                    assert!(nice >= 10, "nice {nice}");
                })
                .join()
                .expect("graph thread");
        });
    }

    #[test]
    fn waiting_workers_go_on_once_the_lexical_write_ends_even_by_a_panic() {
        let write = LexicalWrite::default();
        let gate = &write.more_workers;
        let passed = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| {
                gate.wait();
                passed.store(true, std::sync::atomic::Ordering::SeqCst);
            });
            std::thread::sleep(std::time::Duration::from_millis(20));
            assert!(!passed.load(std::sync::atomic::Ordering::SeqCst), "went through a closed gate");
            assert!(!write.ended.load(Ordering::Acquire));
            let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let _ends = write.ends_when_dropped();
                panic!("the lexical write failed");
            }));
            assert!(panicked.is_err());
            waiter.join().expect("waiter");
        });
        assert!(passed.into_inner());
        assert!(write.ended.load(Ordering::Acquire), "a failed write has ended too");
        // Open for good: a later waiter does not block.
        gate.wait();
        // Back to the normal policy (a no-op for a thread that never left it).
        write.checkpoint();
    }
}
