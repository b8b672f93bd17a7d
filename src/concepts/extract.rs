//! Per-note extraction: one parsed note and its chunks → [`NoteFacts`]: term candidates with their
//! signals and mentions, alias pairs, definitions, typed relation instances with evidence, and
//! sentence co-occurrence counts.
//!
//! Owns what counts as a candidate inside one note (headings, bold spans, wikilinks, tags,
//! parenthesised pairs, Latin technical terms, repeated Chinese word n-grams), the structural
//! relations a note's layout shows (a section under a parent heading, a list under an intro line,
//! `X：Y` lines, `A 和 B` headings), and the sentence scan that calls `patterns`. It sees one note
//! only: no corpus statistics, no merging across notes, no final filtering (that is `build`), so
//! its output can be cached per note and a removed note's facts simply disappear.

use super::text::FxMap;
use std::sync::OnceLock;

use jieba_rs::Jieba;
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::lexicon::{
    EN_VERBS, ZH_END_CHARS, category_kind, category_suffix, is_en_stop, is_generic_heading, is_zh_function_char,
    is_zh_stop_word, trim_generic_suffix,
};
use super::model::{Kind, Rel};
use super::patterns::{self, Context, Span};
use super::text::{
    LatinShape, concept_key, has_cjk, has_letter_pair, is_all_cjk, is_numberish, nfkc_clean, phrase_shape,
    split_sentences, strip_brackets, strip_numbering,
};
use crate::chunk::{Chunk, is_cjk};
use crate::markdown::{BlockKind, ParsedNote};

/// Bump when extraction rules change: cached facts of another version are re-extracted.
pub const FACTS_VERSION: u32 = 5;

/// Why a string is a term candidate (bit flags).
pub mod signal {
    /// A heading is this term (after numbering and words like 介绍 are removed).
    pub const HEADING: u16 = 1;
    pub const BOLD: u16 = 2;
    /// One side of a parenthesised pair or an `X，即 Y` pair.
    pub const GLOSS: u16 = 4;
    pub const WIKILINK: u16 = 8;
    pub const TAG: u16 = 16;
    /// A Chinese word n-gram repeated in the note.
    pub const NGRAM: u16 = 32;
    /// A Latin technical term or name found in running text.
    pub const LATIN: u16 = 64;
    /// Opens a definition sentence (`X 是 …`, `X：…`).
    pub const DEFINED: u16 = 128;
    /// One of several terms a heading sets side by side (`A 和 B`).
    pub const HEADING_PART: u16 = 256;
    /// Opens an item of a list introduced by a category line.
    pub const LIST_ITEM: u16 = 512;
    /// The noun phrase right after a relation cue (`防止梯度爆炸`, `适用于固定深度的前向神经网络`).
    pub const REL_ARG: u16 = 1024;
}

/// Everything one note contributes to the concept graph.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NoteFacts {
    pub version: u32,
    pub path: String,
    /// Sentences scanned (for co-occurrence statistics).
    pub sentence_count: u32,
    pub terms: Vec<TermFacts>,
    pub alias_pairs: Vec<AliasPair>,
    pub relations: Vec<RelationFact>,
    pub definitions: Vec<DefinitionFact>,
    pub cooccurrence: Vec<Cooc>,
    /// Sentences referred to by `cooccurrence` (line, text).
    pub sentences: Vec<(usize, String)>,
    /// Ids of the chunks mentions point into.
    pub chunk_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TermFacts {
    /// [`concept_key`] of the forms.
    pub key: String,
    /// Spellings seen and how often.
    pub forms: Vec<(String, u32)>,
    /// [`signal`] flags.
    pub signals: u16,
    /// For Latin terms, the shape.
    pub shape: Option<LatinShape>,
    /// Mentions in running text (headings not counted).
    pub count: u32,
    pub mentions: Vec<NoteMention>,
    /// The heading of the section about it.
    pub home: Option<NoteMention>,
    /// Category words seen right after it (`LLaMA 大模型` → model).
    pub kind_votes: Vec<(Kind, u32)>,
    /// Frequency in jieba's general dictionary (0 when not a dictionary word): general language,
    /// not this corpus.
    pub general_freq: u32,
}

/// Stored as `[chunk, line]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "(u32, usize)", into = "(u32, usize)")]
pub struct NoteMention {
    /// Index into [`NoteFacts::chunk_ids`].
    pub chunk: u32,
    pub line: usize,
}

impl From<(u32, usize)> for NoteMention {
    fn from((chunk, line): (u32, usize)) -> Self {
        NoteMention { chunk, line }
    }
}

impl From<NoteMention> for (u32, usize) {
    fn from(m: NoteMention) -> Self {
        (m.chunk, m.line)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AliasPair {
    pub a: u32,
    pub b: u32,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelationFact {
    pub from: u32,
    pub to: u32,
    pub rel: Rel,
    pub confidence: f32,
    pub structural: bool,
    pub line: usize,
    /// The sentence as written (or the heading line for structural edges).
    pub sentence: String,
    /// The rule that found it.
    pub cue: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DefinitionFact {
    pub term: u32,
    pub text: String,
    pub line: usize,
    /// 3: `X 是 …` in its own section; 2: elsewhere or `X：…`; 1: first sentence of its section.
    pub score: u8,
}

/// Stored as `[a, b, count, sentence]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "[u32; 4]", into = "[u32; 4]")]
pub struct Cooc {
    pub a: u32,
    pub b: u32,
    pub count: u32,
    /// Index into [`NoteFacts::sentences`] of the first sentence holding both.
    pub sentence: u32,
}

impl From<[u32; 4]> for Cooc {
    fn from([a, b, count, sentence]: [u32; 4]) -> Self {
        Cooc { a, b, count, sentence }
    }
}

impl From<Cooc> for [u32; 4] {
    fn from(c: Cooc) -> Self {
        [c.a, c.b, c.count, c.sentence]
    }
}

/// A single dictionary word more frequent than this in jieba's general dictionary (性能, 参数, 训练)
/// is general language: not a term unless a note marks it (heading, bold, gloss).
pub const COMMON_WORD_FREQ: u32 = 1_500;

pub(crate) fn jieba() -> &'static Jieba {
    crate::tokenize::base_jieba()
}

/// One sentence to scan.
struct Unit {
    block: usize,
    section: Option<usize>,
    line: usize,
    orig: String,
    norm: String,
    skeleton: String,
    /// Where the relation patterns may match in the skeleton (not for tables, which are not read
    /// for relations). Worked out for every sentence among the dictionary-free steps, though about
    /// one in nine never reaches the patterns (it names fewer than two concepts): that window has
    /// the time, the steps after it do not.
    cues: Option<patterns::SentenceCues>,
    kind: BlockKind,
    depth: u8,
    first_in_block: bool,
    last_in_block: bool,
}

/// Finds the known Chinese (or mixed) forms of a note's terms in a sentence: leftmost-longest,
/// ASCII case-insensitive. Forms are bucketed by their first character, so building costs
/// nothing and a search looks at the few forms that can start at each position.
#[derive(Default)]
struct FormMatcher {
    /// First character (ASCII lower-cased) → (form, term id), longest first; among forms of
    /// one length, in sorted order.
    by_first: FxMap<char, Vec<(String, u32)>>,
}

impl FormMatcher {
    fn new(forms: Vec<(String, u32)>) -> Self {
        let mut by_first: FxMap<char, Vec<(String, u32)>> = FxMap::default();
        for (f, id) in forms {
            if let Some(c) = f.chars().next() {
                by_first.entry(c.to_ascii_lowercase()).or_default().push((f, id));
            }
        }
        for v in by_first.values_mut() {
            v.sort_by_key(|(f, _)| std::cmp::Reverse(f.len()));
        }
        FormMatcher { by_first }
    }

    fn find(&self, text: &str, out: &mut Vec<Span>) {
        if self.by_first.is_empty() {
            return;
        }
        let bytes = text.as_bytes();
        let mut free = 0usize;
        for (i, c) in text.char_indices() {
            if i < free {
                continue;
            }
            let Some(list) = self.by_first.get(&c.to_ascii_lowercase()) else { continue };
            if let Some((f, id)) = list
                .iter()
                .find(|(f, _)| bytes.len() - i >= f.len() && bytes[i..i + f.len()].eq_ignore_ascii_case(f.as_bytes()))
            {
                out.push(Span { start: i, end: i + f.len(), term: *id });
                free = i + f.len();
            }
        }
    }
}

/// How a heading (or a bold span) names concepts.
#[derive(Debug, Clone, PartialEq)]
enum Named {
    None,
    Single(String),
    /// `scaled dot-product attention 缩放点积注意力`: two names of one concept.
    Pair(String, String),
    /// `A 和 B`, `A & B & C`, `A vs B`.
    Coord(Vec<String>),
}

pub fn extract_note(path: &str, note: &ParsedNote, chunks: &[Chunk]) -> NoteFacts {
    begin_note(path, note, chunks).finish()
}

/// A note's extraction, begun: the steps that need no dictionary (sentences and where the relation
/// patterns may match in each; headings, bold terms, links and tags as candidates; the strings
/// after relation cue words) are done, so that they can run while jieba's dictionary loads.
pub struct BegunNote<'a>(Extractor<'a>);

/// Starts [`extract_note`]; [`BegunNote::finish`] ends it with the same facts.
pub fn begin_note<'a>(path: &'a str, note: &'a ParsedNote, chunks: &'a [Chunk]) -> BegunNote<'a> {
    let mut x = Extractor::new(path, note, chunks);
    x.collect_units();
    x.structure_candidates();
    x.argument_cues();
    BegunNote(x)
}

impl BegunNote<'_> {
    /// The rest of the extraction (n-grams, glosses, relation patterns: these need jieba).
    pub fn finish(self) -> NoteFacts {
        let mut x = self.0;
        x.ngram_candidates();
        x.gloss_candidates();
        x.argument_candidates();
        x.build_matcher();
        x.scan();
        x.heading_edges();
        x.finish()
    }
}

struct Extractor<'a> {
    note: &'a ParsedNote,
    chunks: Vec<&'a Chunk>,
    units: Vec<Unit>,
    facts: NoteFacts,
    ids: FxMap<String, u32>,
    section_subject: Vec<Option<u32>>,
    /// The subject an omitted-subject sentence of the section refers to: its own concept, or for a
    /// section with a generic heading (`背景`, `技术原理`) the nearest ancestor's.
    context_subject: Vec<Option<u32>>,
    section_named: Vec<Named>,
    matcher: FormMatcher,
    cooc: FxMap<(u32, u32), (u32, u32)>,
    sentence_ids: FxMap<usize, u32>,
    /// Latin mentions already registered (surface → term): registering one again changes nothing.
    latin_mentions: FxMap<String, Option<u32>>,
    /// Found by the dictionary-free steps, read by [`Self::argument_candidates`].
    argument_cues: Vec<ArgumentCue>,
}

/// What a relation cue has in argument position (see [`Extractor::argument_cues`]).
enum ArgumentCue {
    /// To be read as a noun phrase.
    Phrase(String),
    /// The category a bracketed list names members of, as it is.
    Category(String),
}

impl<'a> Extractor<'a> {
    fn new(path: &'a str, note: &'a ParsedNote, chunks: &'a [Chunk]) -> Self {
        let mut cs: Vec<&Chunk> = chunks.iter().filter(|c| c.path == path).collect();
        if cs.is_empty() {
            cs = chunks.iter().collect();
        }
        cs.sort_by_key(|c| (c.line_start, c.line_end));
        Extractor {
            note,
            chunks: cs,
            units: Vec::new(),
            facts: NoteFacts { version: FACTS_VERSION, path: path.to_string(), ..Default::default() },
            ids: FxMap::default(),
            section_subject: vec![None; note.sections.len()],
            context_subject: vec![None; note.sections.len()],
            section_named: vec![Named::None; note.sections.len()],
            matcher: FormMatcher::default(),
            cooc: FxMap::default(),
            sentence_ids: FxMap::default(),
            latin_mentions: FxMap::default(),
            argument_cues: Vec::new(),
        }
    }

    /// Index (into `facts.chunk_ids`) of the chunk holding `line`.
    fn chunk_at(&mut self, line: usize, section: Option<usize>) -> u32 {
        let id = self.chunk_id_at(line, section);
        if let Some(i) = self.facts.chunk_ids.iter().rposition(|c| *c == id) {
            return i as u32;
        }
        self.facts.chunk_ids.push(id);
        (self.facts.chunk_ids.len() - 1) as u32
    }

    fn chunk_id_at(&self, line: usize, section: Option<usize>) -> String {
        let i = self.chunks.partition_point(|c| c.line_start <= line);
        let by_line = if i > 0 { Some(self.chunks[i - 1]) } else { self.chunks.first().copied() };
        let c = match by_line {
            Some(c) if c.line_end >= line || section.is_none() => Some(c),
            _ => self.chunks.iter().find(|c| c.section == section).copied().or(by_line),
        };
        c.map(|c| c.id.clone()).unwrap_or_default()
    }

    /// The id of a term, registering it (with `signals`) if new.
    fn term(&mut self, surface: &str, signals: u16) -> Option<u32> {
        let surface = surface.trim();
        let key = concept_key(surface);
        if key.chars().count() < 2 && !key.chars().any(is_cjk) || key.is_empty() {
            return None;
        }
        let shape = if has_cjk(surface) {
            None
        } else {
            let words: Vec<&str> = surface.split(' ').collect();
            Some(phrase_shape(&words))
        };
        let id = match self.ids.get(&key) {
            Some(&id) => id,
            None => {
                let id = self.facts.terms.len() as u32;
                self.ids.insert(key.clone(), id);
                self.facts.terms.push(TermFacts { key, shape, ..Default::default() });
                id
            }
        };
        let t = &mut self.facts.terms[id as usize];
        t.signals |= signals;
        if !t.forms.iter().any(|(f, _)| f == surface) {
            t.forms.push((surface.to_string(), 0));
        }
        if let (Some(a), Some(b)) = (t.shape, shape)
            && b > a
        {
            t.shape = Some(b);
        }
        Some(id)
    }

    fn alias(&mut self, a: u32, b: u32, line: usize) {
        if a != b && !self.facts.alias_pairs.iter().any(|p| (p.a, p.b) == (a, b) || (p.a, p.b) == (b, a)) {
            self.facts.alias_pairs.push(AliasPair { a, b, line });
        }
    }

    fn collect_units(&mut self) {
        for (bi, b) in self.note.blocks.iter().enumerate() {
            match b.kind {
                BlockKind::Code => {
                    // Prose written in a code fence (no language, mostly Chinese) is read; code is not.
                    let cjk = b.text.chars().filter(|&c| is_cjk(c)).count();
                    let total = b.text.chars().filter(|c| !c.is_whitespace()).count().max(1);
                    if b.lang.is_some() || cjk * 10 < total * 3 {
                        continue;
                    }
                }
                BlockKind::Html => continue,
                _ => {}
            }
            let sents = split_sentences(&b.text);
            let n = sents.len();
            for (k, s) in sents.into_iter().enumerate() {
                let norm = nfkc_clean(s.text);
                if norm.matches('\\').count() >= 2 || norm.chars().count() > 600 {
                    continue; // formulas and run-on text
                }
                let (skeleton, _) = strip_brackets(&norm);
                let cues = (b.kind != BlockKind::Table).then(|| patterns::SentenceCues::of(&skeleton));
                self.units.push(Unit {
                    block: bi,
                    section: b.section,
                    line: b.line_at(s.offset),
                    orig: s.text.to_string(),
                    norm,
                    skeleton,
                    cues,
                    kind: b.kind,
                    depth: b.depth,
                    first_in_block: k == 0,
                    last_in_block: k + 1 == n,
                });
            }
        }
        self.facts.sentence_count = self.units.len() as u32;
    }

    /// Headings, bold spans, wikilinks and tags.
    fn structure_candidates(&mut self) {
        for (si, s) in self.note.sections.iter().enumerate() {
            let (named, asides) = analyse_name(&s.heading, true);
            let ids = self.register_named(&named, signal::HEADING, signal::HEADING_PART);
            if let Some(&first) = ids.first()
                && !matches!(named, Named::Coord(_))
            {
                self.section_subject[si] = Some(first);
                for a in asides {
                    if let Some(b) = self.term(&a, signal::GLOSS) {
                        self.alias(first, b, s.line);
                    }
                }
                let chunk_id = self.chunk_at(s.line, Some(si));
                for &id in &ids {
                    let t = &mut self.facts.terms[id as usize];
                    if t.home.is_none() {
                        t.home = Some(NoteMention { chunk: chunk_id, line: s.line });
                    }
                }
            }
            self.section_named[si] = named;
        }
        for si in 0..self.note.sections.len() {
            let mut cur = Some(si);
            while let Some(c) = cur {
                if let Some(t) = self.section_subject[c] {
                    self.context_subject[si] = Some(t);
                    break;
                }
                if matches!(self.section_named[c], Named::Coord(_)) || c != si && self.section_named[c] != Named::None {
                    break;
                }
                cur = self.note.sections[c].parent;
            }
        }
        for st in &self.note.strong_terms {
            let text = st.text.trim().trim_end_matches([':', '：', '。', '，', ',']);
            if text.chars().count() > 24 {
                continue;
            }
            let (named, asides) = analyse_name(text, false);
            if matches!(named, Named::Coord(_)) {
                continue;
            }
            let ids = self.register_named(&named, signal::BOLD, 0);
            if let Some(&first) = ids.first() {
                for a in asides {
                    if let Some(b) = self.term(&a, signal::GLOSS) {
                        self.alias(first, b, st.line);
                    }
                }
            }
        }
        for l in &self.note.links {
            if l.wikilink {
                let name = if l.text.trim().is_empty() { &l.target } else { &l.text };
                let name = nfkc_clean(name.split('|').next().unwrap_or(name));
                if name.chars().count() <= 40 {
                    self.term(&name, signal::WIKILINK);
                }
            }
        }
        for t in &self.note.front_matter.tags {
            let t = nfkc_clean(t);
            if !t.is_empty() && t.chars().count() <= 40 {
                self.term(&t, signal::TAG);
            }
        }
    }

    fn register_named(&mut self, named: &Named, sig: u16, part_sig: u16) -> Vec<u32> {
        match named {
            Named::None => vec![],
            Named::Single(s) => {
                let mut v: Vec<u32> = self.term(s, sig).into_iter().collect();
                // `前置层归一化方法` also names `前置层归一化`.
                if let Some((suffix, _)) = category_suffix(s)
                    && matches!(suffix, "方法" | "技术" | "机制" | "算法" | "策略")
                {
                    let stem = &s[..s.len() - suffix.len()];
                    if is_all_cjk(stem)
                        && stem.chars().count() >= 3
                        && term_like_cjk(stem)
                        && let (Some(&a), Some(b)) = (v.first(), self.term(stem, sig))
                    {
                        self.alias(a, b, 0);
                        v.push(b);
                    }
                }
                v
            }
            Named::Pair(a, b) => {
                let ia = self.term(a, sig);
                let ib = self.term(b, sig | signal::GLOSS);
                if let (Some(x), Some(y)) = (ia, ib) {
                    self.alias(x, y, 0);
                }
                ia.into_iter().chain(ib).collect()
            }
            Named::Coord(parts) => parts.iter().filter_map(|p| self.term(p, part_sig)).collect(),
        }
    }

    /// Chinese word n-grams (1–3 jieba words, 2–8 characters) seen at least twice, keeping only
    /// those not always inside a longer repeated one.
    fn ngram_candidates(&mut self) {
        let jb = jieba();
        // n-gram → (count, word count, byte lengths of its words); n-grams are slices of the
        // sentences, so counting allocates nothing.
        // Sized for the note at once: the 93-note corpus has one distinct n-gram per 16 bytes of
        // text. Growing it from empty was a noticeable part of the extraction; sizing it by one
        // per three bytes (seven times too large) cost as much again in fresh memory.
        let bytes: usize = self.units.iter().map(|u| u.norm.len()).sum();
        let mut counts: FxMap<&str, (u32, u8, [u8; 3])> =
            FxMap::with_capacity_and_hasher(bytes / 10, Default::default());
        // Reused from run to run.
        let mut words: Vec<&str> = Vec::new();
        let mut info: Vec<(usize, bool, bool)> = Vec::new();
        for u in &self.units {
            // n-grams never cross a non-Chinese character: jieba cuts each Chinese run alone.
            for run in cjk_runs(&u.norm) {
                // One character is no n-gram (they have two or more).
                if run.chars().nth(1).is_none() {
                    continue;
                }
                words.clear();
                words.extend(jb.cut(run, true).into_iter().map(|t| t.word));
                let base = run.as_ptr() as usize;
                // Per word, once: its length in characters and whether it may open / close an n-gram.
                info.clear();
                info.extend(words.iter().map(|w| {
                    let (start, end) = ngram_bounds(w);
                    (w.chars().count(), start, end)
                }));
                for i in 0..words.len() {
                    if !info[i].1 {
                        continue;
                    }
                    let start = words[i].as_ptr() as usize - base;
                    let mut lens = [0u8; 3];
                    let mut chars = 0;
                    for n in 1..=3usize {
                        let Some(w) = words.get(i + n - 1) else { break };
                        lens[n - 1] = w.len().min(255) as u8;
                        chars += info[i + n - 1].0;
                        if chars > 8 {
                            break;
                        }
                        if chars < 2 || !info[i + n - 1].2 {
                            continue;
                        }
                        let end = w.as_ptr() as usize - base + w.len();
                        let e = counts.entry(&run[start..end]).or_insert((0, n as u8, lens));
                        e.0 += 1;
                    }
                }
            }
        }
        // Maximality: drop an n-gram that occurs only inside a longer repeated one.
        let mut container: FxMap<&str, u32> = FxMap::default();
        for (s, &(c, n, lens)) in &counts {
            if c < 2 || n < 2 {
                continue;
            }
            let mut bounds = [0usize; 4];
            for k in 0..n as usize {
                bounds[k + 1] = bounds[k] + lens[k] as usize;
            }
            for a in 0..=n as usize {
                for b in a + 1..=n as usize {
                    if b - a == n as usize {
                        continue;
                    }
                    if let Some(sub) = s.get(bounds[a]..bounds[b])
                        && let Some((k, _)) = counts.get_key_value(sub)
                    {
                        let e = container.entry(k).or_insert(0);
                        *e = (*e).max(c);
                    }
                }
            }
        }
        let mut chosen: Vec<(&str, bool)> = counts
            .iter()
            .filter(|(s, (c, _, _))| *c >= 2 && container.get(*s).is_none_or(|m| m < c))
            .map(|(s, (_, n, _))| (*s, *n == 1))
            .collect();
        chosen.sort_unstable();
        let chosen: Vec<(String, bool)> = chosen
            .into_iter()
            // A single very common dictionary word (问题, 模型, 训练) is general language, not a term.
            .filter(|(s, one_word)| !(*one_word && general_freq(s) > COMMON_WORD_FREQ as usize))
            .map(|(s, one)| (s.to_string(), one))
            .collect();
        for (s, _) in chosen {
            self.term(&s, signal::NGRAM);
        }
    }

    /// Parenthesised pairs: `旋转位置嵌入（Rotary Positional Embeddings，RoPE）`,
    /// `Internal Covariate Shift (ICS)`, `多头（缩写MHA）`.
    fn gloss_candidates(&mut self) {
        // Borrowed out and put back: no copy of every sentence.
        let units = std::mem::take(&mut self.units);
        for u in &units {
            let line = u.line;
            if !u.norm.contains('(') {
                continue;
            }
            for (left, inner) in bracket_pairs(&u.norm) {
                let parts = gloss_parts(inner);
                if parts.is_empty() {
                    continue;
                }
                let all_latin = parts.iter().all(|p| !has_cjk(p));
                // `（GShard，Switch-Transformer，GLaM）` lists examples; only an expansion and its
                // acronym (`Rotary Positional Embeddings，RoPE`) are several names of one thing.
                let parts: Vec<String> = if parts.len() > 1 {
                    let acr: Vec<&String> = parts.iter().filter(|p| is_acronym(p)).collect();
                    let consistent =
                        acr.len() == 1 && parts.iter().all(|p| is_acronym(p) || acronym_matches(acr[0], p, false));
                    if consistent { parts } else { continue }
                } else {
                    parts
                };
                let left_term = if all_latin {
                    left_name_for_latin(left, &parts, &self.ids)
                } else {
                    trailing_latin_run(left).filter(|r| latin_name(r, 6).is_some())
                };
                // A general word (网络, 设备, 输入) takes no alias from a bracket.
                let left_term = left_term
                    .filter(|l| !(is_bare_category(l) || is_all_cjk(l) && general_freq(l) > COMMON_WORD_FREQ as usize));
                let Some(left_term) = left_term else { continue };
                let Some(a) = self.term(&left_term, signal::GLOSS) else { continue };
                for p in parts {
                    if let Some(b) = self.term(&p, signal::GLOSS) {
                        self.alias(a, b, line);
                    }
                }
            }
        }
        self.units = units;
    }

    /// Noun phrases in argument position of a relation cue become candidates, so that
    /// `适用于固定深度的前向神经网络，如CNN` can be read even when `前向神经网络` is said only once.
    /// The cues are found among the dictionary-free steps ([`Self::argument_cues`]); reading the
    /// phrases may need the dictionary.
    fn argument_candidates(&mut self) {
        let found: Vec<String> = std::mem::take(&mut self.argument_cues)
            .into_iter()
            .filter_map(|c| match c {
                ArgumentCue::Phrase(p) => argument_phrase(&p),
                ArgumentCue::Category(c) => Some(c),
            })
            .collect();
        for p in found {
            self.term(&p, signal::REL_ARG);
        }
    }

    /// The strings in argument position of a relation cue, for [`Self::argument_candidates`].
    fn argument_cues(&mut self) {
        let mut found: Vec<ArgumentCue> = Vec::new();
        for u in &self.units {
            if u.kind == BlockKind::Table {
                continue;
            }
            let s = &u.skeleton;
            for m in cue_re().find_iter(s) {
                let rest = &s[m.end()..];
                // The whole coordinated object (`用于A、B和C`): `、` is not a Han character.
                let run: String = rest.chars().take_while(|&c| is_cjk(c) || c == '、').collect();
                // Two-character conjunctions first: `或者` split at `或` would leave `者…`.
                let run = run.replace("或者", "、").replace("以及", "、");
                for part in run.split(['、', '和', '与', '及', '或']).take(4) {
                    let part = part.strip_suffix("者").unwrap_or(part);
                    found.push(ArgumentCue::Phrase(part.to_string()));
                }
            }
            for m in enum_cues(s) {
                let head = m.as_str().split(',').next().unwrap_or("");
                found.push(ArgumentCue::Phrase(head.to_string()));
            }
            // `参数高效迁移学习方法（A、B和C）`: the category a bracketed list names members of.
            if u.norm.contains('(') {
                for (left, inner) in bracket_pairs(&u.norm) {
                    if (inner.contains(['、', ',']) || inner.contains('和'))
                        && let Some(c) = bracket_category(left)
                    {
                        found.push(ArgumentCue::Category(c.to_string()));
                    }
                }
            }
        }
        self.argument_cues = found;
    }

    fn build_matcher(&mut self) {
        let mut forms: Vec<(String, u32)> = Vec::new();
        for (id, t) in self.facts.terms.iter().enumerate() {
            for (f, _) in &t.forms {
                if has_cjk(f) {
                    forms.push((f.clone(), id as u32));
                }
            }
        }
        forms.sort_unstable();
        forms.dedup_by(|a, b| a.0 == b.0);
        self.matcher = FormMatcher::new(forms);
    }

    /// Mentions in `text`: Latin terms (registered on the way) and known Chinese terms.
    fn mentions(&mut self, text: &str) -> Vec<Span> {
        let mut out = Vec::new();
        for (s, e) in latin_term_spans(text) {
            let surface = &text[s..e];
            let id = match self.latin_mentions.get(surface) {
                Some(&id) => id,
                None => {
                    let id = self.term(surface, signal::LATIN);
                    self.latin_mentions.insert(surface.to_string(), id);
                    id
                }
            };
            if let Some(id) = id {
                out.push(Span { start: s, end: e, term: id });
            }
        }
        self.matcher.find(text, &mut out);
        out.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
        // Latin and Chinese spans cannot overlap, but keep the invariant anyway.
        let mut clean: Vec<Span> = Vec::with_capacity(out.len());
        for s in out {
            if clean.last().is_none_or(|l| s.start >= l.end) {
                clean.push(s);
            }
        }
        clean
    }

    fn scan(&mut self) {
        let mut pending: Option<ListIntro> = None;
        let mut prev_block = usize::MAX;
        let mut section_first_sentence: Vec<bool> = vec![false; self.note.sections.len()];
        for ui in 0..self.units.len() {
            let (block, section, line, kind, depth, first_in_block, last_in_block) = {
                let u = &self.units[ui];
                (u.block, u.section, u.line, u.kind, u.depth, u.first_in_block, u.last_in_block)
            };
            // Not read after the scan: taken, not copied.
            let norm = std::mem::take(&mut self.units[ui].norm);
            let skeleton = std::mem::take(&mut self.units[ui].skeleton);
            let cues = self.units[ui].cues.take();
            // Put back at the end of the step (the co-occurrence records below keep some).
            let orig = std::mem::take(&mut self.units[ui].orig);
            let chunk_id = self.chunk_at(line, section);
            let subject = section.and_then(|s| self.section_subject[s]);
            let context_subject = section.and_then(|s| self.context_subject[s]);

            // Mentions, counts, kind votes.
            let spans = self.mentions(&norm);
            let mut seen: Vec<u32> = Vec::new();
            for sp in &spans {
                let surface = &norm[sp.start..sp.end];
                let t = &mut self.facts.terms[sp.term as usize];
                t.count += 1;
                if let Some(f) = t.forms.iter_mut().find(|(f, _)| f == surface) {
                    f.1 += 1;
                } else {
                    t.forms.push((surface.to_string(), 1));
                }
                if t.mentions.last().is_none_or(|m| m.line != line) {
                    t.mentions.push(NoteMention { chunk: chunk_id, line });
                }
                if let Some(k) = following_category(&norm[sp.end..]) {
                    match t.kind_votes.iter_mut().find(|(kk, _)| *kk == k) {
                        Some(v) => v.1 += 1,
                        None => t.kind_votes.push((k, 1)),
                    }
                }
                if !seen.contains(&sp.term) {
                    seen.push(sp.term);
                }
            }
            // Co-occurrence within the sentence.
            seen.truncate(12);
            for i in 0..seen.len() {
                for j in i + 1..seen.len() {
                    let (a, b) = if seen[i] < seen[j] { (seen[i], seen[j]) } else { (seen[j], seen[i]) };
                    let next_sid = self.sentence_ids.len() as u32;
                    let sid = *self.sentence_ids.entry(ui).or_insert(next_sid);
                    let e = self.cooc.entry((a, b)).or_insert((0, sid));
                    e.0 += 1;
                }
            }

            // Definitions.
            self.definition(&norm, &spans, &orig, line, section, subject, &mut section_first_sentence);

            if kind == BlockKind::Table {
                self.units[ui].orig = orig;
                continue;
            }
            // Facts stated by a bracket: `方法（A、B和C）`, `两个 X（分别是 A 之后和 B 之后）`.
            if norm.contains('(') {
                self.bracket_relations(&norm, &spans, line, &orig);
            }
            // Bare category words (模型, 方法, 激活函数) are never relation arguments.
            let sk_all = if skeleton == norm { spans } else { self.mentions(&skeleton) };
            let sk_spans: Vec<Span> =
                sk_all.into_iter().filter(|m| !is_bare_category(&skeleton[m.start..m.end])).collect();
            let ctx = Context { section_subject: context_subject };

            // `X，即 Y`: two names of one thing.
            self.restatement_aliases(&skeleton, &sk_spans, line);

            // Typed relations stated by the sentence.
            let cues = cues.unwrap_or_else(|| patterns::SentenceCues::of(&skeleton));
            for f in patterns::find_relations(&skeleton, &cues, &sk_spans, ctx) {
                self.facts.relations.push(RelationFact {
                    from: f.from,
                    to: f.to,
                    rel: f.rel,
                    confidence: f.confidence,
                    structural: false,
                    line,
                    sentence: orig.clone(),
                    cue: f.cue.to_string(),
                });
            }

            // `BERT：encoder only` on a line of its own.
            if first_in_block && last_in_block {
                self.colon_is_a(&skeleton, &sk_spans, line, &orig);
            }

            // Lists introduced by a category line (`常用的 Normalization 方法主要有：`).
            if block != prev_block && first_in_block {
                let is_item = kind == BlockKind::ListItem;
                let keep = match &pending {
                    Some(p) if is_item && depth == p.depth && block != p.block => {
                        if let Some(first) = sk_spans.first()
                            && strip_numbering(&skeleton[..first.start]).trim().is_empty()
                            && first.term != p.parent
                        {
                            let t = &mut self.facts.terms[first.term as usize];
                            t.signals |= signal::LIST_ITEM;
                            self.facts.relations.push(RelationFact {
                                from: first.term,
                                to: p.parent,
                                rel: p.rel,
                                confidence: 0.6,
                                structural: true,
                                line,
                                sentence: format!("{} … {}", p.sentence, orig),
                                cue: "list under intro".into(),
                            });
                        }
                        true
                    }
                    Some(p) => is_item && depth > p.depth || block == p.block,
                    None => false,
                };
                if !keep {
                    pending = None;
                }
            }
            if last_in_block
                && skeleton.trim_end().ends_with(':')
                && let Some((parent, rel)) = list_intro(&skeleton, &sk_spans)
            {
                let d = if kind == BlockKind::ListItem { depth + 1 } else { 0 };
                pending = Some(ListIntro { parent, rel, depth: d, block, sentence: orig.clone() });
            }
            prev_block = block;
            self.units[ui].orig = orig;
        }
        // Co-occurrence records.
        let mut sid_to_unit: Vec<(u32, usize)> = self.sentence_ids.iter().map(|(&u, &s)| (s, u)).collect();
        sid_to_unit.sort_unstable();
        self.facts.sentences =
            sid_to_unit.iter().map(|&(_, u)| (self.units[u].line, std::mem::take(&mut self.units[u].orig))).collect();
        let mut co: Vec<Cooc> =
            self.cooc.iter().map(|(&(a, b), &(count, sentence))| Cooc { a, b, count, sentence }).collect();
        co.sort_unstable_by_key(|c| (c.a, c.b));
        self.facts.cooccurrence = co;
    }

    #[allow(clippy::too_many_arguments)]
    fn definition(
        &mut self,
        norm: &str,
        spans: &[Span],
        orig: &str,
        line: usize,
        section: Option<usize>,
        subject: Option<u32>,
        first_seen: &mut [bool],
    ) {
        let body = strip_numbering(norm);
        let off = norm.len() - body.len();
        let long_enough = body.chars().count() >= 8;
        if let Some(first) = spans.first()
            && first.start <= off + 1
            && long_enough
        {
            let rest = norm[first.end..].trim_start();
            let is_def = ["是指", "指的是", "就是", "是", "指", "is ", "refers to", "means"]
                .iter()
                .any(|c| rest.starts_with(c) && !rest.starts_with("是否"))
                && !rest.starts_with("是不是");
            let colon = rest.starts_with(':') && rest[1..].trim().chars().count() >= 8;
            if is_def || colon {
                let own = subject == Some(first.term);
                let score = if is_def && own { 3 } else { 2 };
                self.facts.terms[first.term as usize].signals |= signal::DEFINED;
                self.facts.definitions.push(DefinitionFact { term: first.term, text: orig.to_string(), line, score });
            }
        }
        if let (Some(s), Some(subj)) = (section, subject)
            && !first_seen[s]
        {
            first_seen[s] = true;
            if long_enough && !norm.trim_end().ends_with(':') {
                self.facts.definitions.push(DefinitionFact { term: subj, text: orig.to_string(), line, score: 1 });
            }
        }
    }

    fn restatement_aliases(&mut self, s: &str, spans: &[Span], line: usize) {
        for w in spans.windows(2) {
            let (a, b) = (w[0], w[1]);
            let gap = s[a.end..b.start].trim();
            let cue = ["即", "也就是", "亦即", "又称", "也称为", "也称", "又称为", "简称", "也叫", "i.e."]
                .iter()
                .any(|c| gap.strip_prefix(',').unwrap_or(gap).trim() == *c);
            if !cue
                || !gap.starts_with(',') && !gap.starts_with("又") && !gap.starts_with("也") && !gap.starts_with("简")
            {
                continue;
            }
            // Both names must fill their clause.
            let before = s[..a.start].trim_end();
            let after = s[b.end..].trim_start();
            let starts_clause = before.is_empty() || before.ends_with([',', ';', ':']) || before.ends_with("是");
            let ends_clause = after.is_empty() || after.starts_with([',', ';', ':', '。', '.']);
            if starts_clause && ends_clause {
                self.facts.terms[a.term as usize].signals |= signal::GLOSS;
                self.facts.terms[b.term as usize].signals |= signal::GLOSS;
                self.alias(a.term, b.term, line);
            }
        }
    }

    /// What a bracket states about the name right before it. A list of names after a category
    /// (`参数高效迁移学习方法（Adapter、Prefix Tuning和LoRA）`, `PEFT methods (LoRA, Adapter)`): each is_a
    /// the category. Positions after a component (`增加了两个 X（分别是 A 之后和 B 之后）`): A, B
    /// applied_before X.
    fn bracket_relations(&mut self, norm: &str, spans: &[Span], line: usize, orig: &str) {
        for (left, inner) in bracket_pairs(norm) {
            let open = left.len();
            let (lo, hi) = (open + 1, open + 1 + inner.len());
            let inside: Vec<&Span> = spans.iter().filter(|m| m.start >= lo && m.end <= hi).collect();
            if inside.is_empty() {
                continue;
            }
            let l = left.trim_end();
            let ends_at = |end: usize| spans.iter().find(|m| m.end == end && m.start < end);
            let mut push = |from: u32, to: u32, rel: Rel, cue: &str| {
                if from != to {
                    self.facts.relations.push(RelationFact {
                        from,
                        to,
                        rel,
                        confidence: 0.65,
                        structural: false,
                        line,
                        sentence: orig.to_string(),
                        cue: cue.into(),
                    });
                }
            };
            // A list: two or more names and nothing but separators between them.
            let gaps_ok = inside.windows(2).all(|w| is_list_separator(&norm[w[0].end..w[1].start]))
                && norm[lo..inside[0].start].trim().is_empty()
                && norm[inside[inside.len() - 1].end..hi].trim().is_empty();
            if inside.len() >= 2 && gaps_ok {
                let names: Vec<&str> = inside.iter().map(|m| &norm[m.start..m.end]).collect();
                // `（Low-Rank Adaptation，LoRA）` is one name written twice.
                let gloss = names.len() == 2
                    && names
                        .iter()
                        .any(|a| is_acronym(a) && names.iter().any(|b| b != a && acronym_matches(a, b, false)));
                // The category: a mention ending the text before the bracket with a category word
                // (`…迁移学习方法`), or followed by one (`PEFT methods`).
                let cat = ends_at(l.len())
                    .filter(|m| LIST_CATEGORY_WORDS.iter().any(|w| norm[m.start..m.end].ends_with(w)))
                    .or_else(|| {
                        let w = LIST_CATEGORY_WORDS.iter().find(|w| {
                            l.len() > w.len()
                                && l.is_char_boundary(l.len() - w.len())
                                && l[l.len() - w.len()..].eq_ignore_ascii_case(w)
                        })?;
                        ends_at(l[..l.len() - w.len()].trim_end().len())
                    });
                let cat_ok = |m: &Span| {
                    let t = &norm[m.start..m.end];
                    !is_bare_category(t)
                        && !t.starts_with(|c: char| {
                            c.is_ascii_digit() || "一二两三四五六七八九十几多各这那该此其每".contains(c)
                        })
                };
                if let Some(cat) = cat
                    && !gloss
                    && cat_ok(cat)
                {
                    for m in &inside {
                        push(m.term, cat.term, Rel::IsA, "CATEGORY（A、B）");
                    }
                }
                continue;
            }
            // Positions: `分别是 A 之后和 B 之后`, `(after A and after B)`.
            let head_end =
                ["结构", "模块", "层"].iter().find_map(|w| l.strip_suffix(w)).map_or(l.len(), |r| r.trim_end().len());
            let Some(head) = ends_at(head_end).or_else(|| ends_at(l.len())) else { continue };
            let body = inner.trim();
            let body = ["分别是", "分别位于", "分别在", "分别放在", "分别", "位于", "放在", "在"]
                .iter()
                .find_map(|w| body.strip_prefix(w))
                .unwrap_or(body);
            let base = lo + (inner.len() - inner.trim_start().len()) + (inner.trim().len() - body.len());
            let mut seg_start = base;
            let mut pos = 0;
            while pos < body.len() {
                // Each segment ends with its position word; a separator or the end follows it.
                let rest = &body[pos..];
                let Some((k, w)) = ["之后", "之前", "后面", "前面"]
                    .iter()
                    .filter_map(|w| rest.find(w).map(|k| (k, *w)))
                    .min_by_key(|&(k, _)| k)
                else {
                    break;
                };
                let seg_end = base + pos + k;
                let after = &body[pos + k + w.len()..];
                let next = after.trim_start();
                let sep = ["和", "与", "及", "、", ","].iter().find(|s| next.starts_with(*s));
                if !(next.is_empty() || sep.is_some()) {
                    break;
                }
                // The segment's name opens it; at most `的` and a short word follow (`A 的投影之后`).
                if let Some(a) = spans.iter().find(|m| m.start >= seg_start && m.end <= seg_end) {
                    let lead = norm[seg_start..a.start].trim();
                    let tail = norm[a.end..seg_end].trim();
                    let tail_ok = tail.is_empty() || tail.starts_with('的') && tail.chars().count() <= 4;
                    if (lead.is_empty() || lead.starts_with("第")) && tail_ok {
                        let (f, t) = if w.starts_with('后') || w.ends_with('后') {
                            (a.term, head.term)
                        } else {
                            (head.term, a.term)
                        };
                        push(f, t, Rel::AppliedBefore, "X（分别是A之后）");
                    }
                }
                pos = body.len() - next.len() + sep.map_or(0, |s| s.len());
                seg_start = base + pos;
            }
        }
    }

    /// `BERT：encoder only`: a line that is just `X：Y`, both names.
    fn colon_is_a(&mut self, s: &str, spans: &[Span], line: usize, orig: &str) {
        let Some(colon) = s.find(':') else { return };
        let left: Vec<&Span> = spans.iter().filter(|m| m.end <= colon).collect();
        let right: Vec<&Span> = spans.iter().filter(|m| m.start > colon).collect();
        if left.len() != 1 || right.len() != 1 {
            return;
        }
        let lrest =
            strip_numbering(&s[..left[0].start]).trim().chars().count() + s[left[0].end..colon].trim().chars().count();
        let rrest = s[colon + 1..right[0].start].trim().chars().count()
            + s[right[0].end..].trim().trim_end_matches(['。', '.', ';', ',']).chars().count();
        if lrest == 0 && rrest == 0 && left[0].term != right[0].term {
            self.facts.relations.push(RelationFact {
                from: left[0].term,
                to: right[0].term,
                rel: Rel::IsA,
                confidence: 0.7,
                structural: false,
                line,
                sentence: orig.to_string(),
                cue: "X：Y".into(),
            });
        }
    }

    /// Section under a parent heading → part_of (structural); `A 和 B` headings → contrasted_with.
    fn heading_edges(&mut self) {
        let secs = &self.note.sections;
        // The note's title: a first top-level heading that repeats the file name. Sections under it
        // are the note's topics, not parts of the title's concept; only a family title (`llama系列模型`)
        // makes them members (is_a).
        let stem = self.facts.path.rsplit('/').next().unwrap_or(&self.facts.path);
        let stem = stem.rsplit_once('.').map_or(stem, |(s, _)| s);
        let min_level = secs.iter().map(|s| s.level).min().unwrap_or(1);
        let title = secs.first().is_some_and(|s0| {
            s0.level == min_level
                && concept_key(strip_numbering(&nfkc_clean(&s0.heading)))
                    == concept_key(strip_numbering(&nfkc_clean(stem)))
        });
        let family = title && super::lexicon::FAMILY_WORDS.iter().any(|w| secs[0].heading.to_lowercase().contains(w));
        let mut edges = Vec::new();
        for (si, s) in secs.iter().enumerate() {
            let parent = s.parent.or(if title && si > 0 && s.level == secs[0].level { Some(0) } else { None });
            let heading_line = format!("{} {}", "#".repeat(s.level as usize), s.heading);
            let rel =
                if title && parent == Some(0) { if family { Some(Rel::IsA) } else { None } } else { Some(Rel::PartOf) };
            if let (Some(rel), Some(c), Some(p)) =
                (rel, self.section_subject[si], parent.and_then(|p| self.section_subject[p]))
                && c != p
            {
                let pl = parent.map(|p| &secs[p]).map(|ps| format!("{} {}", "#".repeat(ps.level as usize), ps.heading));
                edges.push(RelationFact {
                    from: c,
                    to: p,
                    rel,
                    confidence: 0.6,
                    structural: true,
                    line: s.line,
                    sentence: format!("{} › {}", pl.unwrap_or_default(), heading_line),
                    cue: "section under heading".into(),
                });
            }
            if let Named::Coord(parts) = &self.section_named[si] {
                let ids: Vec<u32> = parts.iter().filter_map(|p| self.ids.get(&concept_key(p)).copied()).collect();
                for i in 0..ids.len() {
                    for j in i + 1..ids.len() {
                        if ids[i] != ids[j] {
                            edges.push(RelationFact {
                                from: ids[i],
                                to: ids[j],
                                rel: Rel::ContrastedWith,
                                confidence: 0.55,
                                structural: true,
                                line: s.line,
                                sentence: heading_line.clone(),
                                cue: "A 和 B heading".into(),
                            });
                        }
                    }
                }
            }
        }
        self.facts.relations.extend(edges);
    }

    fn finish(mut self) -> NoteFacts {
        // A name a sentence relates to another is treated as a term.
        for r in &self.facts.relations {
            if !r.structural {
                for t in [r.from, r.to] {
                    self.facts.terms[t as usize].signals |= signal::REL_ARG;
                }
            }
        }
        for t in &mut self.facts.terms {
            if t.shape.is_none() && is_all_cjk(&t.key) {
                t.general_freq = general_freq(&t.key) as u32;
            }
            if let Some((_, k)) = category_suffix(&t.key) {
                t.kind_votes.push((k, 1));
            }
        }
        self.facts
    }
}

struct ListIntro {
    parent: u32,
    rel: Rel,
    depth: u8,
    block: usize,
    sentence: String,
}

/// An intro line naming a category (`常用的Normalization方法主要有：`) → the parent and the
/// relation its items have to it.
fn list_intro(s: &str, spans: &[Span]) -> Option<(u32, Rel)> {
    // Only one concept named in the intro: otherwise the list's parent is unclear.
    let distinct = spans.iter().map(|m| m.term).collect::<std::collections::BTreeSet<_>>();
    if distinct.len() != 1 {
        return None;
    }
    let last = spans.last()?;
    // The category word follows the parent closely (`Normalization方法主要有`, `X 包括以下几个部分`).
    let after: String = s[last.end..].chars().take(8).collect::<String>().to_lowercase();
    let rel = if [
        "方法", "模型", "种", "类", "类型", "技术", "变体", "算法", "methods", "models", "types", "kinds", "variants",
    ]
    .iter()
    .any(|w| after.contains(w))
    {
        Rel::IsA
    } else if ["组成", "包含", "包括", "组件", "部分", "模块", "consists", "components", "parts"]
        .iter()
        .any(|w| after.contains(w))
    {
        Rel::PartOf
    } else {
        return None;
    };
    (!after.contains(',')).then_some((last.term, rel))
}

/// A mention that is only a category or generic word (`模型`, `方法`, `激活函数`).
fn is_bare_category(s: &str) -> bool {
    category_kind(s).is_some()
        || super::lexicon::is_heading_meta(s)
        || super::lexicon::is_heading_generic_word(s)
        || is_zh_stop_word(s)
}

/// Compiles the cue expressions and fills the word lists now (see [`super::preload`]).
pub(crate) fn compile_cues() {
    cue_re();
    enum_cue_re();
    is_zh_stop_word("");
}

fn cue_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            r"(?:使用了?|采用了?|用了|用于|适用于|适合于?|应用于|防止|避免|缓解|减轻|导致|引起|造成|替换为|代替|取代|而非|",
            r"属于|是一种|是一个|包含|包括|例如|比如|优于|不如|解决了?|基于|类似于?|相当于|媲美|支持|实现为|存在)"
        ))
        .expect("valid regex")
    })
}

/// The words that open an enumeration after a comma (`…的方法，包括 A、B`).
const ENUM_CUE_WORDS: [&str; 5] = ["包括", "例如", "比如", "如", "诸如"];

fn enum_cue_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(&format!(r"[\p{{Han}}]+,\s*(?:{})", ENUM_CUE_WORDS.join("|"))).expect("valid regex"))
}

/// The matches of [`enum_cue_re`] in `s`. Most sentences have no comma followed by a cue word, and
/// are not searched: the regex would look back from every `如` (`如何`, `例如`) for the run of
/// Chinese characters before it.
fn enum_cues(s: &str) -> impl Iterator<Item = regex::Match<'_>> {
    let cued = s.match_indices(',').any(|(i, _)| {
        let rest = s[i + 1..].trim_start();
        ENUM_CUE_WORDS.iter().any(|w| rest.starts_with(w))
    });
    cued.then(|| enum_cue_re().find_iter(s)).into_iter().flatten()
}

/// Maximal runs of Chinese characters.
fn cjk_runs(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !is_cjk(c)).filter(|r| !r.is_empty())
}

/// A noun phrase usable as a relation argument: the head after the last `的`, without quantity
/// words, 2–6 characters, not opening with a general verb.
fn argument_phrase(s: &str) -> Option<String> {
    // `训练不稳定的问题`: the problem named before a trailing `的问题`.
    let s = ["的问题", "问题"].iter().find_map(|w| s.strip_suffix(w)).unwrap_or(s);
    let s = s.rsplit('的').next().unwrap_or(s);
    // `支持多种编程语言`: the noun phrase after a quantity word.
    let s = ["多种", "多个", "各种", "各类", "多类"]
        .iter()
        .filter_map(|q| s.rfind(q).map(|i| &s[i + q.len()..]))
        .min_by_key(|r| r.len())
        .unwrap_or(s);
    let mut t = s;
    // `避免发生梯度消失`: a light verb of occurrence before the noun phrase.
    for v in ["发生", "出现", "产生"] {
        t = t.strip_prefix(v).unwrap_or(t);
    }
    for q in [
        "多种", "多个", "一些", "一种", "一个", "各种", "两种", "两个", "所有", "整个", "每个", "不同", "部分", "传统",
        "原有", "原始", "标准",
    ] {
        t = t.strip_prefix(q).unwrap_or(t);
    }
    let n = t.chars().count();
    if !(2..=6).contains(&n) || !term_like_cjk(t) || is_bare_category(t) {
        return None;
    }
    // Only a first word on these lists matters: cut only when one of them opens the phrase.
    let listed = |w: &str| super::lexicon::ZH_VERB_STARTS.contains(&w) || is_zh_stop_word(w);
    if t.char_indices().skip(1).map(|(i, _)| &t[..i]).chain([t]).any(listed) {
        let first = jieba().cut(t, false).first().map(|w| w.word.to_string()).unwrap_or_default();
        if listed(&first) {
            return None;
        }
    }
    Some(t.to_string())
}

/// The kind told by a category word right after a mention (`LLaMA大模型`, `ReLU 函数`).
fn following_category(rest: &str) -> Option<Kind> {
    let r = rest.trim_start();
    if r.starts_with(|c: char| c.is_ascii_alphabetic()) {
        let end = r.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(r.len());
        return category_kind(&r[..end]);
    }
    // Within the first five characters.
    let head = r.char_indices().nth(5).map_or(r, |(i, _)| &r[..i]);
    super::lexicon::category_prefix(head)
}

/// The part of speech jieba's dictionary gives `word`, or `x` for a word it does not hold (the
/// words here are Chinese: `trailing_cjk_term` cuts runs of CJK characters).
///
/// jieba-rs 0.11 would guess an unknown word's tag with a POS model that takes about 40 ms to
/// load; the stop decision in `trailing_cjk_term` leaves unknown words untagged instead, as
/// jieba-rs 0.8 did. One difference from 0.8 remains: a dictionary word that jieba cuts into
/// pieces when it stands alone (it came out whole only by the HMM joining single characters) is
/// `x` here, where 0.8 gave its dictionary tag.
fn dictionary_tag(word: &str) -> String {
    let jb = jieba();
    match jb.has_word(word).then(|| jb.tag(word, false)).as_deref() {
        Some([only]) => only.tag.to_string(),
        _ => "x".to_string(),
    }
}

fn general_freq(word: &str) -> usize {
    let jb = jieba();
    if jb.has_word(word) { jb.suggest_freq(word) } else { 0 }
}

/// Whether an n-gram may open with this word (not a function character, stop word or numeral) and
/// whether it may close with it (not a function or locative character, stop word or heading word
/// such as `介绍`).
fn ngram_bounds(word: &str) -> (bool, bool) {
    let flags = super::lexicon::zh_word_flags(word);
    let fc = word.chars().next().unwrap_or(' ');
    let lc = word.chars().next_back().unwrap_or(' ');
    // A postposition, `当` or `不` cut off as a word of its own (`在 GPU 上|进行|训练`, `用 X 来|计算`,
    // `当|输入`, `不|考虑`) belongs to the phrase around it; in a longer word it may open a term
    // (上下文, 前馈, 不确定性).
    let lone_non_opener = word.len() == fc.len_utf8() && (ZH_END_CHARS.contains(&fc) || matches!(fc, '当' | '不'));
    let start = !is_zh_function_char(fc)
        && !lone_non_opener
        && !flags.stop
        && !word.chars().all(|c| "一二三四五六七八九十两几多少".contains(c));
    let end = !is_zh_function_char(lc) && !ZH_END_CHARS.contains(&lc) && !flags.stop && !flags.heading_meta;
    (start, end)
}

/// A Chinese string usable as a term on its own.
fn term_like_cjk(s: &str) -> bool {
    let n = s.chars().count();
    if !is_all_cjk(s) || !(2..=10).contains(&n) || is_zh_stop_word(s) || is_generic_heading(s) {
        return false;
    }
    // `上图的灰色区域`: a description, not a name.
    if s.contains('的') || ["上图", "下图", "图中", "如图", "本文", "这个", "那个"].iter().any(|w| s.contains(w))
    {
        return false;
    }
    let f = s.chars().next().unwrap_or(' ');
    let l = s.chars().next_back().unwrap_or(' ');
    !is_zh_function_char(f) && !is_zh_function_char(l) && !ZH_END_CHARS.contains(&l)
}

/// End of the Latin word starting at `i`: alphanumerics joined by single `-`, `_`, `.`, then any
/// `+` / `#` (`GPT-4`, `d_k`, `1.4T`, `C++`).
fn latin_word_end(b: &[u8], mut i: usize) -> usize {
    let n = b.len();
    while i < n && b[i].is_ascii_alphanumeric() {
        i += 1;
    }
    while i + 1 < n && matches!(b[i], b'-' | b'_' | b'.') && b[i + 1].is_ascii_alphanumeric() {
        i += 1;
        while i < n && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
    }
    while i < n && matches!(b[i], b'+' | b'#') {
        i += 1;
    }
    i
}

/// Runs of Latin words separated by single white space characters, as the words' byte ranges.
fn latin_runs(text: &str, mut f: impl FnMut(&[(usize, usize)])) {
    let b = text.as_bytes();
    let mut words: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        words.clear();
        let mut start = i;
        loop {
            let end = latin_word_end(b, start);
            words.push((start, end));
            i = end;
            // One white space character, then another word.
            let Some(c) = text[end..].chars().next() else { break };
            if !c.is_whitespace() {
                break;
            }
            let next = end + c.len_utf8();
            if next < b.len() && b[next].is_ascii_alphanumeric() {
                start = next;
            } else {
                break;
            }
        }
        f(&words);
    }
}

/// Latin term spans in `text` (byte ranges): short runs of Latin words embedded in Chinese are one
/// name (`Layer Norm`, `next token prediction`); in English prose only technical words and runs of
/// capitalised words are names.
pub(crate) fn latin_term_spans(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    latin_runs(text, |words| {
        let w = |i: usize| &text[words[i].0..words[i].1];
        let is_clause =
            words.len() > 4 || (0..words.len()).any(|i| EN_VERBS.iter().any(|v| w(i).eq_ignore_ascii_case(v)));
        if !is_clause {
            let mut a = 0;
            let mut b = words.len();
            while a < b && (is_en_stop(w(a)) || is_numberish(w(a))) {
                a += 1;
            }
            while b > a && (is_en_stop(w(b - 1)) || is_numberish(w(b - 1))) {
                b -= 1;
            }
            if a < b && (a..b).any(|i| name_ok(w(i))) {
                out.push((words[a].0, words[b - 1].1));
            }
            return;
        }
        // Prose: technical words, and runs of capitalised words.
        let mut i = 0;
        while i < words.len() {
            let shape = super::text::word_shape(w(i));
            if is_en_stop(w(i)) || shape == LatinShape::Plain || is_numberish(w(i)) || !name_ok(w(i)) {
                i += 1;
                continue;
            }
            let mut j = i + 1;
            while j < words.len()
                && j - i < 5
                && !is_en_stop(w(j))
                && super::text::word_shape(w(j)) != LatinShape::Plain
                && !is_numberish(w(j))
            {
                j += 1;
            }
            out.push((words[i].0, words[j - 1].1));
            i = j;
        }
    });
    out
}

/// A Latin word that can be (part of) a name: two letters in a row, or a capital with digits (`T5`),
/// or a capital with `+` / `#` (`C++`, `C#`). Rules out `d_k`, `x`, `a_i`.
fn name_ok(w: &str) -> bool {
    let first_upper = w.starts_with(|c: char| c.is_ascii_uppercase());
    has_letter_pair(w)
        || first_upper && w.chars().any(|c| c.is_ascii_digit())
        || first_upper && w.len() >= 2 && w[1..].chars().all(|c| c == '+' || c == '#')
}

/// The Latin name a whole string is, if it is one (`≤ max_words` words, not a clause).
fn latin_name(s: &str, max_words: usize) -> Option<String> {
    let s = s.trim();
    if s.is_empty() || has_cjk(s) {
        return None;
    }
    let spans = latin_term_spans(s);
    let words = s.split_whitespace().count();
    (spans.len() == 1 && spans[0] == (0, s.len()) && words <= max_words).then(|| s.to_string())
}

/// How a heading or bold text names concepts; also returns bracketed aliases (`（缩写MHA）`).
fn analyse_name(raw: &str, heading: bool) -> (Named, Vec<String>) {
    let t = nfkc_clean(raw);
    let t = strip_numbering(&t).trim_end_matches([':', '。', '.', ',']).trim().to_string();
    let (t, asides) = strip_brackets(&t);
    let t = nfkc_clean(&t);
    let asides: Vec<String> = asides.iter().flat_map(|a| gloss_parts(a)).collect();
    if t.contains('?') || ["为什么", "如何", "什么", "怎么", "哪些", "是否", "哪个"].iter().any(|q| t.contains(q))
    {
        return (Named::None, vec![]);
    }
    let t = trim_generic_suffix(&t).to_string();
    if is_generic_heading(&t) {
        return (Named::None, vec![]);
    }
    let single = |s: &str| -> Option<String> {
        let s = s.trim();
        if let Some(l) = latin_name(s, if heading { 6 } else { 4 }) {
            return Some(l);
        }
        if term_like_cjk(s) {
            return Some(s.to_string());
        }
        // `RMSNorm归一化函数`, `LoRA方法`: a Latin name and a category word → the Latin name;
        // `llama系列模型`: a Latin name and a Chinese head → the whole, a concept of its own.
        let split = s.find(|c: char| is_cjk(c))?;
        let (latin, tail) = s.split_at(split);
        if latin.ends_with(' ') {
            return None;
        }
        let tail = tail.trim();
        let name = latin_name(latin, 6)?;
        if category_kind(tail).is_some() || super::lexicon::is_heading_meta(tail) {
            return Some(name);
        }
        let n = tail.chars().count();
        if is_all_cjk(tail) && (2..=6).contains(&n) && term_like_cjk(tail) && !is_generic_heading(tail) {
            return Some(s.to_string());
        }
        None
    };
    if let Some(s) = single(&t) {
        return (Named::Single(s), asides);
    }
    // Coordination: `A 和 B`, `A & B & C`, `A vs B`, `A、B`.
    static COORD: OnceLock<Regex> = OnceLock::new();
    let coord = COORD.get_or_init(|| {
        Regex::new(r"\s*(?:&|和|与|及|、|/|(?-u:\b)vs\.?(?-u:\b)|(?-u:\b)VS(?-u:\b)|(?-u:\b)and(?-u:\b))\s*")
            .expect("valid regex")
    });
    let parts: Vec<&str> = coord.split(&t).map(str::trim).filter(|p| !p.is_empty()).collect();
    if heading && parts.len() >= 2 {
        let names: Vec<String> = parts.iter().filter_map(|p| single(p)).collect();
        if names.len() == parts.len() {
            return (Named::Coord(names), vec![]);
        }
    }
    // `scaled dot-product attention 缩放点积注意力`, `分词 tokenize`: two names of one thing. A name
    // followed by a descriptor (`Top-k 采样`, `Encoder-Decoder 注意力`) is not a pair.
    let pair = |latin: &str, zh: &str| -> Option<Named> {
        let l = latin_name(latin, 6)?;
        if !term_like_cjk(zh) || is_bare_category(zh) || is_generic_heading(zh) {
            return None;
        }
        let words: Vec<&str> = l.split(' ').collect();
        let plain = phrase_shape(&words) == LatinShape::Plain;
        (plain || words.len() >= 2 && zh.chars().count() >= 3).then(|| Named::Pair(l, zh.to_string()))
    };
    if t.contains(' ') {
        let (a, b) = t.split_at(t.find(' ').unwrap_or(0));
        let (a, b) = (a.trim(), b.trim());
        let halves = if has_cjk(b) && !has_cjk(a) {
            Some((a, b))
        } else if has_cjk(a) && !has_cjk(b) {
            Some((b, a))
        } else {
            split_scripts(&t)
        };
        if let Some((latin, zh)) = halves
            && let Some(p) = pair(latin, zh)
        {
            return (p, asides);
        }
        if let Some((latin, zh)) = split_scripts(&t)
            && let Some(p) = pair(latin, zh)
        {
            return (p, asides);
        }
    }
    (Named::None, vec![])
}

/// `multi head 多头` → ("multi head", "多头"): one Latin part and one Chinese part.
fn split_scripts(t: &str) -> Option<(&str, &str)> {
    let first_cjk = t.find(|c: char| is_cjk(c))?;
    let last_cjk = t.char_indices().rfind(|(_, c)| is_cjk(*c))?.0;
    let last_end = last_cjk + t[last_cjk..].chars().next()?.len_utf8();
    if first_cjk > 0 && t[last_end..].trim().is_empty() {
        Some((t[..first_cjk].trim(), t[first_cjk..].trim()))
    } else if first_cjk == 0 {
        let latin_start = t.find(|c: char| c.is_ascii_alphanumeric())?;
        t[..latin_start]
            .chars()
            .all(|c| is_cjk(c) || c.is_whitespace())
            .then(|| (t[latin_start..].trim(), t[..latin_start].trim()))
    } else {
        None
    }
}

/// Category words that make a bracketed list after them a list of members.
const LIST_CATEGORY_WORDS: &[&str] = &["方法", "模型", "算法", "技术", "methods", "models", "algorithms", "techniques"];

/// Text between two names of a list: `、`, `,`, `和`, `and` …
fn is_list_separator(gap: &str) -> bool {
    matches!(
        gap.trim(),
        "、" | "," | ";" | "和" | "与" | "及" | "以及" | "或" | "and" | "or" | ", and" | ",and" | "、和"
    )
}

/// The category phrase ending the text before a bracketed list: the noun phrase after the last
/// `的`, ending with a method / model category word (`当下最先进的参数高效迁移学习方法` → `参数高效迁移学习方法`).
fn bracket_category(left: &str) -> Option<&str> {
    let l = left.trim_end();
    let start = l.char_indices().rev().take_while(|&(_, c)| is_cjk(c)).last().map(|(i, _)| i)?;
    let run = &l[start..];
    let p = run.rsplit('的').next().unwrap_or(run);
    let p = ["多种", "多个", "各种", "一些", "几种", "两种", "三种", "不同"]
        .iter()
        .find_map(|q| p.strip_prefix(q))
        .unwrap_or(p);
    let n = p.chars().count();
    let first = p.chars().next()?;
    (n >= 4
        && LIST_CATEGORY_WORDS.iter().any(|w| p.ends_with(w))
        && term_like_cjk(p)
        && !is_bare_category(p)
        && !"最很较更非各该这那此其某".contains(first))
    .then_some(p)
}

/// `(left text, inner text)` for each top-level bracket pair in a normalised sentence.
fn bracket_pairs(s: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut open = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '(' => {
                if depth == 0 {
                    open = i;
                }
                depth += 1;
            }
            ')' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    out.push((&s[..open], &s[open + 1..i]));
                }
            }
            _ => {}
        }
    }
    out
}

/// The names inside a bracket: `缩写是FFN` → [FFN]; `Rotary Positional Embeddings,RoPE` → both;
/// `BN,2015年` → [BN]; an explanation → [].
fn gloss_parts(inner: &str) -> Vec<String> {
    let mut t = inner.trim();
    for p in ["缩写是", "缩写为", "缩写", "简称为", "简称", "又称为", "又称", "也称为", "也叫", "即", "aka", "abbr."]
    {
        if let Some(r) = t.strip_prefix(p) {
            t = r.trim_start_matches([':', ' ']);
            break;
        }
    }
    let mut out = Vec::new();
    for part in t.split([',', ';', '、']) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        if let Some(l) = latin_name(part, 6) {
            out.push(l);
        } else if term_like_cjk(part) {
            out.push(part.to_string());
        } else if !part.chars().any(|c| c.is_ascii_digit()) {
            // An explanation, not a list of names.
            return Vec::new();
        }
    }
    out
}

fn trailing_latin_run(left: &str) -> Option<String> {
    let t = left.trim_end();
    let spans = latin_term_spans(t);
    let &(s, e) = spans.last()?;
    (e == t.len()).then(|| t[s..e].to_string())
}

/// Initials of a phrase, hyphenated parts counted: `Position-wise Feed-Forward Network` → `pffn`.
fn initials(phrase: &str) -> String {
    phrase
        .split(|c: char| c.is_whitespace() || c == '-')
        .filter(|w| !w.is_empty())
        .filter_map(|w| w.chars().next())
        .flat_map(char::to_lowercase)
        .collect()
}

/// True when `acronym` (letters only) can be read off the initials of `phrase`, first letter first.
fn acronym_matches(acronym: &str, phrase: &str, strict_first: bool) -> bool {
    let a: Vec<char> = acronym.chars().filter(|c| c.is_ascii_alphabetic()).flat_map(char::to_lowercase).collect();
    let ini: Vec<char> = initials(phrase).chars().collect();
    if a.len() < 2 || ini.len() < 2 || strict_first && a.first() != ini.first() {
        return false;
    }
    // Every acronym letter in order, matched against initials or letters of the phrase's words.
    let letters: Vec<char> = phrase.chars().filter(|c| c.is_ascii_alphabetic()).flat_map(char::to_lowercase).collect();
    let mut k = 0;
    for c in &letters {
        if k < a.len() && *c == a[k] {
            k += 1;
        }
    }
    k == a.len() && a.iter().filter(|c| ini.contains(c)).count() * 2 >= a.len()
}

fn is_acronym(s: &str) -> bool {
    let letters = s.chars().filter(|c| c.is_ascii_alphabetic()).count();
    let uppers = s.chars().filter(|c| c.is_ascii_uppercase()).count();
    !s.contains(' ') && letters >= 2 && uppers * 2 > letters && s.len() <= 8
}

/// The name a Latin gloss belongs to: the Chinese term before the bracket, or the Latin phrase
/// before it when the two are acronym and expansion.
fn left_name_for_latin(left: &str, parts: &[String], known: &FxMap<String, u32>) -> Option<String> {
    let t = left.trim_end();
    let last = t.chars().next_back()?;
    if is_cjk(last) {
        let run: String = t.chars().rev().take_while(|&c| is_cjk(c)).collect::<Vec<_>>().into_iter().rev().collect();
        return trailing_cjk_term(&run, known);
    }
    let run = trailing_latin_run(t)?;
    let words: Vec<&str> = run.split(' ').collect();
    for p in parts {
        if is_acronym(p) {
            // The shortest tail of the run whose initials spell the acronym.
            for k in 1..=words.len() {
                let tail = words[words.len() - k..].join(" ");
                if k >= 2 && acronym_matches(p, &tail, true) {
                    return Some(tail);
                }
            }
        } else if is_acronym(&run) && acronym_matches(&run, p, false) {
            return Some(run);
        }
    }
    None
}

/// The term at the end of a Chinese run: a known candidate if one ends it, else its last jieba
/// words up to a function word (`使用旋转位置嵌入` → `旋转位置嵌入`).
fn trailing_cjk_term(run: &str, known: &FxMap<String, u32>) -> Option<String> {
    let chars: Vec<char> = run.chars().collect();
    // A known term ending the run, when it starts at a word boundary (`使用|旋转位置嵌入`, not
    // `通用|语言模型`).
    let known_tail = (2..=chars.len().min(10)).rev().find_map(|k| {
        let s: String = chars[chars.len() - k..].iter().collect();
        if !known.contains_key(&concept_key(&s)) || !term_like_cjk(&s) {
            return None;
        }
        let before: String = chars[..chars.len() - k].iter().collect();
        let boundary = before.is_empty()
            || before.ends_with(is_zh_function_char)
            || jieba()
                .cut(&before, false)
                .last()
                .is_some_and(|w| is_zh_stop_word(w.word) || general_freq(w.word) > COMMON_WORD_FREQ as usize);
        boundary.then_some(s)
    });
    if known_tail.is_some() {
        return known_tail;
    }
    // Last words up to a function word or a verb before the head (`高度关注智能体` → `智能体`).
    let words = jieba().cut(run, true);
    let mut acc: Vec<&str> = Vec::new();
    let mut n = 0;
    for w in words.iter().rev().map(|t| t.word) {
        let wc = w.chars().count();
        let stop = is_zh_stop_word(w)
            || (wc == 1 && is_zh_function_char(w.chars().next().unwrap_or(' ')))
            || !acc.is_empty() && {
                let tag = dictionary_tag(w);
                ["d", "p", "c", "u", "r", "m", "ad"].contains(&tag.as_str())
                    || tag.starts_with('v') && general_freq(w) > COMMON_WORD_FREQ as usize
            };
        if stop || n + wc > 8 {
            break;
        }
        acc.push(w);
        n += wc;
    }
    acc.reverse();
    let s = acc.concat();
    term_like_cjk(&s).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::chunk_note;
    use crate::markdown::parse;

    #[test]
    fn enumeration_cues_skip_only_sentences_the_regex_cannot_match() {
        for s in [
            "常见的归一化方法,包括LayerNorm和RMSNorm",
            "激活函数,  例如ReLU, 比如GELU",
            "如何选择激活函数,如ReLU",
            "位置编码,诸如RoPE,如ALiBi",
            "如何训练",
            "例如,包括",
            "A,如B",
            "没有逗号的句子如此",
        ] {
            let by_regex: Vec<&str> = enum_cue_re().find_iter(s).map(|m| m.as_str()).collect();
            let ours: Vec<&str> = enum_cues(s).map(|m| m.as_str()).collect();
            assert_eq!(ours, by_regex, "{s}");
        }
        assert_eq!(enum_cues("如何选择激活函数,如ReLU").count(), 1);
        assert_eq!(enum_cues("例如ReLU和GELU").count(), 0);
    }

    fn facts(src: &str) -> NoteFacts {
        let note = parse(src);
        let chunks = chunk_note("n.md", &note);
        extract_note("n.md", &note, &chunks)
    }

    fn id(f: &NoteFacts, name: &str) -> Option<u32> {
        let k = concept_key(name);
        f.terms.iter().position(|t| t.key == k).map(|i| i as u32)
    }

    #[test]
    fn phrase_words_are_tagged_from_the_dictionary_and_unknown_words_are_untagged() {
        assert_eq!(dictionary_tag("的"), "uj");
        assert!(dictionary_tag("使用").starts_with('v'));
        assert_eq!(dictionary_tag("非常"), "d");
        // Not a dictionary word: no guess (which would load jieba's POS model).
        assert!(!jieba().has_word("旋转位置嵌入"));
        assert_eq!(dictionary_tag("旋转位置嵌入"), "x");
    }

    fn aliased(f: &NoteFacts, a: &str, b: &str) -> bool {
        let (Some(x), Some(y)) = (id(f, a), id(f, b)) else { return false };
        f.alias_pairs.iter().any(|p| (p.a, p.b) == (x, y) || (p.a, p.b) == (y, x))
    }

    fn rel(f: &NoteFacts, a: &str, r: Rel, b: &str) -> bool {
        let (Some(x), Some(y)) = (id(f, a), id(f, b)) else { return false };
        f.relations.iter().any(|e| e.from == x && e.to == y && e.rel == r)
    }

    #[test]
    fn latin_spans() {
        let t = "使用RMSNorm而非layer norm，Encoder和Decoder共享 next token prediction。";
        let got: Vec<&str> = latin_term_spans(t).into_iter().map(|(s, e)| &t[s..e]).collect();
        assert_eq!(got, ["RMSNorm", "layer norm", "Encoder", "Decoder", "next token prediction"]);
        let t = "LlamaRMSNorm is equivalent to T5LayerNorm in the HuggingFace code.";
        let got: Vec<&str> = latin_term_spans(t).into_iter().map(|(s, e)| &t[s..e]).collect();
        assert_eq!(got, ["LlamaRMSNorm", "T5LayerNorm", "HuggingFace"]);
        let t = "模型只有65B，用了1.4T token 和 d_k";
        let got: Vec<&str> = latin_term_spans(t).into_iter().map(|(s, e)| &t[s..e]).collect();
        assert_eq!(got, ["token"]);
    }

    #[test]
    fn names_from_headings() {
        assert_eq!(analyse_name("1.4 pRMSNorm介绍", true).0, Named::Single("pRMSNorm".into()));
        assert_eq!(analyse_name("LLM 概念", true).0, Named::Single("LLM".into()));
        assert_eq!(analyse_name("基本概念", true).0, Named::None);
        assert_eq!(analyse_name("为什么大部分都是decoder only结构", true).0, Named::None);
        assert_eq!(analyse_name("1.2 RMSNorm归一化函数", true).0, Named::Single("RMSNorm".into()));
        assert_eq!(analyse_name("3.Post-LN 和 Pre-LN", true).0, Named::Coord(vec!["Post-LN".into(), "Pre-LN".into()]));
        assert_eq!(
            analyse_name("2. BN & LN & IN & GN", true).0,
            Named::Coord(vec!["BN".into(), "LN".into(), "IN".into(), "GN".into()])
        );
        let (n, asides) = analyse_name("multi head 多头  （缩写MHA）", true);
        assert_eq!(n, Named::Pair("multi head".into(), "多头".into()));
        assert_eq!(asides, ["MHA"]);
        assert_eq!(
            analyse_name("scaled dot-product attention 缩放点积注意力", true).0,
            Named::Pair("scaled dot-product attention".into(), "缩放点积注意力".into())
        );
        assert_eq!(analyse_name("分词 tokenize", true).0, Named::Pair("tokenize".into(), "分词".into()));
        let (n, asides) = analyse_name("feed forward network （缩写是FFN）", true);
        assert_eq!((n, asides), (Named::Single("feed forward network".into()), vec!["FFN".to_string()]));
    }

    #[test]
    fn alias_pairs_from_brackets_and_restatements() {
        let f = facts(
            "# A\n\n采用了前置归一化（Pre-Norm），并使用**旋转位置嵌入**（Rotary Positional Embeddings，RoPE）代替原有的绝对位置编码。\n\n\
             Internal Covariate Shift (ICS) 问题很难。FFN（Position-wise Feed-Forward Network）很常见。\n\n\
             Meta（原Facebook）推出了LLaMA。\n\n采用前置归一化。\n",
        );
        assert!(aliased(&f, "前置归一化", "Pre-Norm"), "{:?}", f.alias_pairs);
        assert!(aliased(&f, "旋转位置嵌入", "RoPE"));
        assert!(aliased(&f, "旋转位置嵌入", "Rotary Positional Embeddings"));
        assert!(aliased(&f, "Internal Covariate Shift", "ICS"));
        assert!(aliased(&f, "FFN", "Position-wise Feed-Forward Network"));
        assert!(!aliased(&f, "Meta", "原Facebook"));
        let f = facts(
            "# A\n\n**多头注意力**\n\n多头注意力，即MHA，是一种注意力。\n\n左边是Post-LN，即将LN放在addition之后。\n",
        );
        assert!(aliased(&f, "多头注意力", "MHA"), "{:?}", f.terms.iter().map(|t| &t.key).collect::<Vec<_>>());
        assert!(!aliased(&f, "Post-LN", "LN"));
    }

    #[test]
    fn heading_structure_gives_part_of_and_contrast() {
        let f = facts(
            "# 微调\n\n### LoRA\n\n低秩分解。\n\n### 基本概念\n\ntext\n\n# 对比\n\n## Post-LN 和 Pre-LN\n\ntext\n",
        );
        assert!(rel(&f, "LoRA", Rel::PartOf, "微调"));
        assert!(rel(&f, "Post-LN", Rel::ContrastedWith, "Pre-LN"));
        assert!(f.relations.iter().filter(|r| r.rel == Rel::PartOf).count() == 1, "{:?}", f.relations);
        let e = f.relations.iter().find(|r| r.rel == Rel::PartOf).unwrap();
        assert!(e.structural && e.line == 3, "{e:?}");
    }

    #[test]
    fn list_under_category_intro_and_colon_lines() {
        let f = facts(
            "# N\n\n常用的Normalization方法主要有：\n\n- Batch Normalization（BN，2015年）、\n- Layer Normalization（LN，2016年）、\n\nBERT：encoder only\n\nPEFT ： 仅训练少量模型参数适应到下游任务\n",
        );
        assert!(rel(&f, "Batch Normalization", Rel::IsA, "Normalization"), "{:?}", f.relations);
        assert!(rel(&f, "Layer Normalization", Rel::IsA, "Normalization"));
        assert!(
            rel(&f, "BERT", Rel::IsA, "encoder only"),
            "{:?} {:?}",
            f.relations,
            f.terms.iter().map(|t| &t.key).collect::<Vec<_>>()
        );
        assert!(aliased(&f, "Batch Normalization", "BN"));
        let d = f.definitions.iter().find(|d| Some(d.term) == id(&f, "PEFT")).expect("PEFT defined");
        assert!(d.text.contains("仅训练少量"));
    }

    #[test]
    fn every_member_of_a_listed_object_is_an_argument() {
        let f = facts("# N\n\nXNet可以很好地用于机器翻译、跨语言迁移、社区问答和迁移学习。\n");
        for m in ["机器翻译", "跨语言迁移", "社区问答", "迁移学习"] {
            assert!(
                rel(&f, "XNet", Rel::UsedFor, m),
                "{m}: {:?} {:?}",
                f.relations,
                f.terms.iter().map(|t| &t.key).collect::<Vec<_>>()
            );
        }
        let f = facts("# N\n\nAdaBoost解决了梯度消失、梯度爆炸和数值溢出的问题。\n");
        for m in ["梯度消失", "梯度爆炸", "数值溢出"] {
            assert!(
                rel(&f, "AdaBoost", Rel::Mitigates, m),
                "{m}: {:?} {:?}",
                f.relations,
                f.terms.iter().map(|t| &t.key).collect::<Vec<_>>()
            );
        }
        // Listed words without a cue are not relation arguments.
        let f = facts("# N\n\nXNet、跨语言迁移、社区问答都很常见。\n");
        assert!(id(&f, "社区问答").is_none() && f.relations.is_empty(), "{:?}", f.relations);
    }

    #[test]
    fn a_bracketed_list_after_a_category_names_its_members() {
        let f = facts("# N\n\n作者分解了当下最先进的参数高效迁移学习方法（FooNet、Bar Tuning和BazA）的设计。\n");
        for m in ["FooNet", "Bar Tuning", "BazA"] {
            assert!(
                rel(&f, m, Rel::IsA, "参数高效迁移学习方法"),
                "{m}: {:?} {:?}",
                f.relations,
                f.terms.iter().map(|t| &t.key).collect::<Vec<_>>()
            );
        }
        let f = facts("# N\n\nWe compare three PEFT methods (FooNet, BarTuning, BazA) on GLUE.\n");
        for m in ["FooNet", "BarTuning", "BazA"] {
            assert!(
                rel(&f, m, Rel::IsA, "PEFT"),
                "{m}: {:?} {:?}",
                f.relations,
                f.terms.iter().map(|t| &t.key).collect::<Vec<_>>()
            );
        }
        // No category word before the bracket, a quantity as the category, an expansion and its
        // acronym, or an explanation: no member edge.
        for src in [
            "# N\n\n实验在两个数据集（GLUE、SuperGLUE）上进行。\n",
            "# N\n\n这三种方法（FooNet、Bar Tuning和BazA）效果近似。\n",
            "# N\n\n低秩适配方法（Low-Rank Adaptation，LoRA）很常见。\n",
            "# N\n\n参数高效迁移学习方法（只训练FooNet和BazA的参数）很常见。\n",
        ] {
            let f = facts(src);
            assert!(f.relations.iter().all(|r| r.rel != Rel::IsA), "{src}: {:?}", f.relations);
        }
    }

    #[test]
    fn bracketed_positions_after_a_component() {
        let f = facts(
            "# N\n\n**FooNet**很有用。针对每一层，增加了两个FooNet结构(分别是多头注意力的投影之后和BazNorm之后)，其余不变。\n\n多头注意力很常见。\n",
        );
        assert!(rel(&f, "多头注意力", Rel::AppliedBefore, "FooNet"), "{:?}", f.relations);
        assert!(rel(&f, "BazNorm", Rel::AppliedBefore, "FooNet"), "{:?}", f.relations);
        // A bracket that places nothing.
        let f = facts("# N\n\n增加了两个FooNet结构(分别是BazNorm的参数和QuxNet的参数)，其余不变。\n");
        assert!(f.relations.iter().all(|r| r.rel != Rel::AppliedBefore), "{:?}", f.relations);
        let f = facts("# N\n\n训练两个FooNet(在BazNorm之后合并权重)，其余不变。\n");
        assert!(f.relations.iter().all(|r| r.rel != Rel::AppliedBefore), "{:?}", f.relations);
    }

    #[test]
    fn a_lone_postposition_opens_no_n_gram() {
        let f = facts(
            "# 训练\n\n模型在 GPU 上进行训练，用下游任务来计算损失。\n\n\
             再在 TPU 上进行训练，用下游任务来计算梯度，不考虑顺序。\n\n\
             当输入很长时不考虑顺序，当输入很短时也一样。\n",
        );
        for junk in ["上进行训练", "上进行", "来计算", "当输入", "不考虑"] {
            assert!(id(&f, junk).is_none(), "{junk} is a candidate");
        }
        // In a longer word the same character may open one.
        assert!(id(&f, "下游任务").is_some(), "下游任务 is not a candidate");
    }

    #[test]
    fn a_list_without_relating_words_gives_no_typed_edge() {
        let f = facts("# 模型列表\n\n- BERT\n- GPT-4\n- T5\n- LLaMA\n\nBERT、GPT-4、T5 和 LLaMA 都很有名。\n");
        assert!(f.relations.is_empty(), "{:?}", f.relations);
        assert!(!f.cooccurrence.is_empty());
    }
}
