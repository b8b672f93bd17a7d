//! The lexical index: chunks in a tantivy index, searched with BM25.
//!
//! Owns the tantivy schema, the registration of the notegraph tokenizer, query construction
//! (query terms, heading boost, folded spelling variants) and snippets. It works inside the folder
//! `store` gives it and knows nothing of the manifest, vectors or the graph.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use tantivy::collector::TopDocs;
use tantivy::directory::error::LockError;
use tantivy::indexer::UserOperation;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, OwnedValue, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, TantivyError, Term};

use crate::chunk::Chunk;
use crate::error::{Error, Result};
use crate::tokenize::{Analyzer, TantivyTokenizer, Vocabulary};

const TOKENIZER_NAME: &str = "notegraph";
/// Extra weight of a match in the heading field. The body field already holds the heading path
/// (as the embedding text does), so this is a bonus on top; 0.5 measured best on the dev questions
/// (nDCG@10 0.704 vs 0.693 at 0.7 and 0.657 at 0; see README).
pub const HEADING_BOOST: f32 = 0.5;
/// Weight of a folded spelling variant relative to the query's own spelling.
const VARIANT_BOOST: f32 = 0.8;

/// Query words that carry no topic: English function words and Chinese particles and question
/// words. Left out of queries (not of the index), unless the query has nothing else.
const STOP_WORDS: &[&str] = &[
    "a",
    "an",
    "and",
    "are",
    "as",
    "at",
    "be",
    "by",
    "can",
    "do",
    "does",
    "for",
    "from",
    "how",
    "in",
    "into",
    "is",
    "it",
    "its",
    "of",
    "on",
    "or",
    "that",
    "the",
    "their",
    "them",
    "there",
    "these",
    "they",
    "this",
    "to",
    "was",
    "what",
    "when",
    "where",
    "which",
    "who",
    "why",
    "will",
    "with",
    "we",
    "you",
    "i",
    "vs",
    "than",
    "between",
    "的",
    "了",
    "是",
    "吗",
    "呢",
    "吧",
    "啊",
    "和",
    "与",
    "及",
    "或",
    "在",
    "有",
    "都",
    "也",
    "就",
    "把",
    "被",
    "让",
    "什么",
    "为什么",
    "怎么",
    "怎样",
    "如何",
    "哪些",
    "哪个",
    "哪几",
    "哪",
    "几",
    "是否",
    "一个",
    "一种",
    "这个",
    "那个",
    "这些",
    "那些",
    "一般",
    "分别",
    "主要",
    "哪里",
    "多少",
    "么",
    "之",
    "其",
    "而",
    "时",
    "中",
    "上",
    "下",
];

fn is_stop_word(t: &str) -> bool {
    STOP_WORDS.contains(&t)
}

#[derive(Clone, Copy)]
struct Fields {
    chunk_id: Field,
    path: Field,
    heading: Field,
    heading_path: Field,
    /// Indexed: heading path + body. Not stored.
    text: Field,
    /// Stored: the chunk's text as printed.
    body: Field,
    line_start: Field,
    line_end: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let indexed = TextFieldIndexing::default()
        .set_tokenizer(TOKENIZER_NAME)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let text_opts = TextOptions::default().set_indexing_options(indexed.clone());
    let fields = Fields {
        chunk_id: b.add_text_field("chunk_id", STRING | STORED),
        path: b.add_text_field("path", STRING | STORED),
        heading: b.add_text_field("heading", TextOptions::default().set_indexing_options(indexed)),
        heading_path: b.add_text_field("heading_path", STORED),
        text: b.add_text_field("text", text_opts),
        body: b.add_text_field("body", STORED),
        line_start: b.add_u64_field("line_start", STORED),
        line_end: b.add_u64_field("line_end", STORED),
    };
    (b.build(), fields)
}

/// A chunk as stored in the lexical index: everything a result needs to print.
#[derive(Debug, Clone)]
pub struct StoredChunk {
    pub chunk_id: String,
    pub path: String,
    pub heading_path: Vec<String>,
    pub line_start: usize,
    pub line_end: usize,
    pub text: String,
}

impl From<StoredChunk> for Chunk {
    fn from(c: StoredChunk) -> Chunk {
        Chunk {
            id: c.chunk_id,
            path: c.path,
            heading_path: c.heading_path,
            line_start: c.line_start,
            line_end: c.line_end,
            text: c.text,
            section: None,
        }
    }
}

/// One BM25 hit.
#[derive(Debug, Clone)]
pub struct LexicalHit {
    pub chunk: StoredChunk,
    pub score: f32,
}

/// A parsed query: the tantivy query plus what is needed to highlight it.
pub struct LexicalQuery {
    query: Box<dyn Query>,
    /// Distinct query terms (after tokenization and variant folding).
    pub terms: Vec<String>,
    /// How many of `terms` come from the query's own words (the rest are spelling variants).
    pub own_terms: usize,
}

/// A highlighted excerpt: text and the byte ranges inside it to highlight.
#[derive(Debug, Clone, Default)]
pub struct Snippet {
    pub text: String,
    pub highlights: Vec<std::ops::Range<usize>>,
}

pub struct LexicalIndex {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    fields: Fields,
    analyzer: Analyzer,
}

fn tantivy_err(dir: &Path, e: TantivyError) -> Error {
    match e {
        TantivyError::LockFailure(LockError::LockBusy, _) => Error::IndexBusy { path: dir.to_path_buf() },
        other => Error::index(dir, other),
    }
}

impl LexicalIndex {
    /// Opens the index in `dir`, creating it if the folder holds none.
    pub fn open_or_create(dir: &Path, analyzer: Analyzer) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let (schema, fields) = schema();
        let index = if dir.join("meta.json").exists() {
            Index::open_in_dir(dir).map_err(|e| tantivy_err(dir, e))?
        } else {
            Index::create_in_dir(dir, schema).map_err(|e| tantivy_err(dir, e))?
        };
        index.tokenizers().register(TOKENIZER_NAME, TextAnalyzer::from(TantivyTokenizer(analyzer.clone())));
        let reader =
            index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(|e| tantivy_err(dir, e))?;
        Ok(Self { dir: dir.to_path_buf(), index, reader, fields, analyzer })
    }

    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// Takes the index's writer lock. A second writer gets [`Error::IndexBusy`].
    pub fn writer(&self) -> Result<LexicalWriter<'_>> {
        let writer = self.index.writer_with_num_threads(1, 64_000_000).map_err(|e| tantivy_err(&self.dir, e))?;
        Ok(LexicalWriter { index: self, writer })
    }

    /// Number of chunks in the index.
    pub fn num_chunks(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Builds the BM25 query for free text: every query term against body and heading, plus the
    /// corpus's other spellings of its Latin terms.
    pub fn parse_query(&self, text: &str, vocab: &Vocabulary) -> LexicalQuery {
        self.parse_query_expanded(text, vocab, &[])
    }

    /// [`LexicalIndex::parse_query`] plus other names of what the query names (`expansions`:
    /// text and weight), each a bag of its terms that are new to the query, scored at that weight.
    /// Expansion terms widen the match; they are not highlighted.
    pub fn parse_query_expanded(&self, text: &str, vocab: &Vocabulary, expansions: &[(String, f32)]) -> LexicalQuery {
        let tokens = self.analyzer.tokenize(text);
        let mut terms: Vec<String> = Vec::new();
        let mut seen = BTreeSet::new();
        let all_stop = tokens.iter().all(|t| is_stop_word(&t.text));
        for t in &tokens {
            if (all_stop || !is_stop_word(&t.text)) && seen.insert(t.text.clone()) {
                terms.push(t.text.clone());
            }
        }
        let own_terms = terms.len();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for t in &terms {
            clauses.push((Occur::Should, self.term_clause(std::slice::from_ref(t), 1.0)));
        }
        // Spelling variants: single Latin words and runs of two or three adjacent ones.
        // Whole Latin terms only (the parts of `top-p` overlap it and are skipped).
        let mut words: Vec<(&str, usize, usize)> = Vec::new();
        for t in &tokens {
            let latin = t.text.chars().all(|c| c.is_ascii_alphanumeric() || "-_.+#'".contains(c));
            if latin && words.last().is_none_or(|w| t.start >= w.2) {
                words.push((&text[t.start..t.end], t.start, t.end));
            }
        }
        let mut variant_forms: BTreeSet<Vec<String>> = BTreeSet::new();
        for i in 0..words.len() {
            for n in 1..=3 {
                if i + n > words.len() {
                    break;
                }
                let run = &words[i..i + n];
                // Only words separated by white space or joiners form one spelling.
                let adjacent = run
                    .windows(2)
                    .all(|w| text[w[0].2..w[1].1].chars().all(|c| c.is_whitespace() || "-_.".contains(c)));
                if !adjacent {
                    break;
                }
                let parts: Vec<&str> = run.iter().map(|w| w.0).collect();
                for form in vocab.variants_of(&parts) {
                    if !(form.len() == 1 && seen.contains(&form[0])) {
                        variant_forms.insert(form);
                    }
                }
            }
        }
        for form in variant_forms {
            if form.len() == 1 {
                terms.push(form[0].clone());
            }
            clauses.push((Occur::Should, self.term_clause(&form, VARIANT_BOOST)));
        }
        let mut expanded: BTreeSet<String> = BTreeSet::new();
        for (alias, weight) in expansions {
            let bag: Vec<(Occur, Box<dyn Query>)> = self
                .analyzer
                .tokenize(alias)
                .into_iter()
                .filter(|t| !is_stop_word(&t.text) && !seen.contains(&t.text) && expanded.insert(t.text.clone()))
                .map(|t| (Occur::Should, self.term_clause(&[t.text], 1.0)))
                .collect();
            if !bag.is_empty() {
                clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(BooleanQuery::new(bag)), *weight))));
            }
        }
        LexicalQuery { query: Box::new(BooleanQuery::new(clauses)), terms, own_terms }
    }

    /// A term (or phrase) in the body, or in the heading path with [`HEADING_BOOST`].
    fn term_clause(&self, form: &[String], boost: f32) -> Box<dyn Query> {
        let make = |field: Field| -> Box<dyn Query> {
            if form.len() == 1 {
                Box::new(TermQuery::new(Term::from_field_text(field, &form[0]), IndexRecordOption::WithFreqs))
            } else {
                Box::new(PhraseQuery::new(form.iter().map(|w| Term::from_field_text(field, w)).collect()))
            }
        };
        let body = make(self.fields.text);
        let heading: Box<dyn Query> = Box::new(BoostQuery::new(make(self.fields.heading), HEADING_BOOST));
        let either = Box::new(BooleanQuery::new(vec![(Occur::Should, body), (Occur::Should, heading)]));
        if (boost - 1.0).abs() < f32::EPSILON { either } else { Box::new(BoostQuery::new(either, boost)) }
    }

    /// Top `k` chunks by BM25.
    pub fn search(&self, query: &LexicalQuery, k: usize) -> Result<Vec<LexicalHit>> {
        if query.terms.is_empty() || k == 0 {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let top = searcher
            .search(query.query.as_ref(), &TopDocs::with_limit(k).order_by_score())
            .map_err(|e| tantivy_err(&self.dir, e))?;
        top.into_iter()
            .map(|(score, addr)| {
                let doc: TantivyDocument = searcher.doc(addr).map_err(|e| tantivy_err(&self.dir, e))?;
                Ok(LexicalHit { chunk: self.stored(&doc), score })
            })
            .collect()
    }

    /// Loads stored chunks by id (ids not found are left out).
    pub fn chunks_by_id(&self, ids: &[&str]) -> Result<Vec<StoredChunk>> {
        let searcher = self.reader.searcher();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let q = TermQuery::new(Term::from_field_text(self.fields.chunk_id, id), IndexRecordOption::Basic);
            let top =
                searcher.search(&q, &TopDocs::with_limit(1).order_by_score()).map_err(|e| tantivy_err(&self.dir, e))?;
            if let Some((_, addr)) = top.first() {
                let doc: TantivyDocument = searcher.doc(*addr).map_err(|e| tantivy_err(&self.dir, e))?;
                out.push(self.stored(&doc));
            }
        }
        Ok(out)
    }

    /// A highlighted excerpt of `text` for `query`, at most about `max_bytes` long. Falls back to
    /// the start of the text when no query term occurs in it.
    pub fn snippet(&self, query: &LexicalQuery, text: &str, max_bytes: usize) -> Snippet {
        let searcher = self.reader.searcher();
        let generated =
            SnippetGenerator::create(&searcher, query.query.as_ref(), self.fields.text).ok().map(|mut g| {
                g.set_max_num_chars(max_bytes);
                let mut doc = TantivyDocument::default();
                doc.add_text(self.fields.text, text);
                g.snippet_from_doc(&doc)
            });
        match generated {
            Some(s) if !s.highlighted().is_empty() => {
                Snippet { text: s.fragment().to_string(), highlights: s.highlighted().to_vec() }
            }
            _ => {
                let mut end = max_bytes.min(text.len());
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                Snippet { text: text[..end].to_string(), highlights: Vec::new() }
            }
        }
    }

    fn stored(&self, doc: &TantivyDocument) -> StoredChunk {
        let f = &self.fields;
        let s = |field: Field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let n = |field: Field| doc.get_first(field).and_then(|v| v.as_u64()).unwrap_or_default() as usize;
        StoredChunk {
            chunk_id: s(f.chunk_id),
            path: s(f.path),
            heading_path: serde_json::from_str(&s(f.heading_path)).unwrap_or_default(),
            line_start: n(f.line_start),
            line_end: n(f.line_end),
            text: s(f.body),
        }
    }
}

/// The writer side: replace a note's chunks, commit once.
pub struct LexicalWriter<'a> {
    index: &'a LexicalIndex,
    writer: IndexWriter<TantivyDocument>,
}

impl LexicalWriter<'_> {
    /// Removes every chunk of the note at `path`.
    pub fn delete_note(&mut self, path: &str) {
        self.writer.delete_term(Term::from_field_text(self.index.fields.path, path));
    }

    /// Removes every chunk.
    pub fn delete_all(&mut self) -> Result<()> {
        self.writer.delete_all_documents().map_err(|e| tantivy_err(&self.index.dir, e))?;
        Ok(())
    }

    /// Adds a note's chunks, handed to tantivy's indexing thread in one batch: one send per note
    /// instead of one per chunk (a cold index of the 93-note corpus without the concept graph:
    /// 256 → 245 ms).
    pub fn add_note_chunks(&mut self, chunks: &[Chunk], title: &str) -> Result<()> {
        let docs: Vec<UserOperation<TantivyDocument>> =
            chunks.iter().map(|c| UserOperation::Add(self.chunk_document(c, title))).collect();
        self.writer.run(docs).map_err(|e| tantivy_err(&self.index.dir, e))?;
        Ok(())
    }

    /// The document that stands for `chunk` in the index.
    fn chunk_document(&self, chunk: &Chunk, title: &str) -> TantivyDocument {
        let f = &self.index.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.chunk_id, &chunk.id);
        doc.add_text(f.path, &chunk.path);
        // The note title joins the heading path for matching (it often names the topic).
        let mut heading = chunk.heading_path.join(" > ");
        if !title.is_empty() && chunk.heading_path.first().is_none_or(|h| h != title) {
            heading = format!("{title} > {heading}");
        }
        doc.add_text(f.heading, &heading);
        doc.add_field_value(
            f.heading_path,
            &OwnedValue::Str(serde_json::to_string(&chunk.heading_path).unwrap_or_default()),
        );
        // The body is matched together with its heading path, as the reference recipe and the
        // embedding model see it; the heading field adds a bonus for heading matches.
        doc.add_text(f.text, format!("{heading}\n{}", chunk.text));
        doc.add_text(f.body, &chunk.text);
        doc.add_u64(f.line_start, chunk.line_start as u64);
        doc.add_u64(f.line_end, chunk.line_end as u64);
        doc
    }

    /// Commits and makes the changes visible to this process's searches.
    pub fn commit(mut self) -> Result<()> {
        let dir = &self.index.dir;
        self.writer.commit().map_err(|e| tantivy_err(dir, e))?;
        self.writer.wait_merging_threads().map_err(|e| tantivy_err(dir, e))?;
        self.index.reader.reload().map_err(|e| tantivy_err(dir, e))?;
        Ok(())
    }
}
