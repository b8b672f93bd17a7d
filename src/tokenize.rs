//! The one tokenizer for Chinese, English and the mix, used at index time and at query time, and the
//! corpus-derived vocabulary that goes with it (domain terms matched ahead of jieba, spelling variants
//! to fold).
//!
//! Text is NFKC-normalised character by character (full-width letters, Kangxi radicals), cut into
//! runs: in CJK runs the corpus's domain terms are matched first (longest first) and the text
//! between them goes through jieba in search mode (a word and its dictionary sub-words), Latin runs
//! become technical terms kept whole (`rmsnorm`, `top-p`, `gpt-4`) plus their parts when joined by
//! `-`, `_` or `.` (`top`, `p`). Everything is lower-cased; white space and punctuation never become
//! tokens. Offsets always point into the original text, so highlighting works on it.
//!
//! It owns no files: the vocabulary is built from parsed notes and serialised by whoever stores it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use jieba_rs::{Jieba, TokenizeMode};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::chunk::is_cjk;
use crate::markdown::ParsedNote;

/// Bump when tokenization rules change: indexes built with another version are rebuilt.
pub const TOKENIZER_VERSION: u32 = 2;

/// A token with byte offsets into the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub start: usize,
    pub end: usize,
    pub position: usize,
}

/// The mixed-language tokenizer. Cheap to clone (the dictionary and the domain terms are shared).
#[derive(Clone)]
pub struct Analyzer {
    /// jieba's default dictionary, as loaded: the concept extractor reads the same one.
    jieba: &'static Jieba,
    domain: Arc<DomainTerms>,
}

/// The corpus's Chinese domain terms, matched in a CJK run before jieba cuts the rest. (Adding them
/// to jieba's dictionary instead would need a copy of it beside the one the concept extractor
/// reads: 30 MB, and 6–7 ms to make in a fast run.)
struct DomainTerms {
    /// First character → the terms starting with it, longest first. A run is scanned once; a bit
    /// set of the first characters (BMP) passes over the rest. (An Aho-Corasick automaton over the
    /// ~1,200 terms of the test corpus cost as much time as jieba's own cut, or 13 MB as a DFA.)
    by_first: BTreeMap<char, Vec<Box<str>>>,
    starts: Vec<u64>,
}

impl DomainTerms {
    fn contains(&self, s: &str) -> bool {
        s.chars().next().and_then(|c| self.by_first.get(&c)).is_some_and(|ts| ts.iter().any(|t| **t == *s))
    }

    /// The leftmost, then longest, terms of `run`, as byte ranges, not overlapping.
    fn find(&self, run: &str) -> Vec<(usize, usize)> {
        let mut found = Vec::new();
        let mut skip_to = 0;
        for (i, c) in run.char_indices() {
            let code = c as usize;
            if i < skip_to || code < 0x1_0000 && self.starts[code / 64] & (1 << (code % 64)) == 0 {
                continue;
            }
            if let Some(t) = self.by_first.get(&c).and_then(|ts| ts.iter().find(|t| run[i..].starts_with(&***t))) {
                found.push((i, i + t.len()));
                skip_to = i + t.len();
            }
        }
        found
    }
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Analyzer")
    }
}

/// Characters allowed inside a Latin term between alphanumerics.
fn is_joiner(c: char) -> bool {
    matches!(c, '-' | '_' | '.' | '\'')
}

fn is_latin(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

/// Chinese function words that never start or end a domain term taken from a heading.
const FUNCTION_CHARS: &[char] = &[
    '的', '是', '了', '和', '与', '及', '或', '在', '为', '吗', '呢', '吧', '啊', '么', '把', '被', '对', '从', '到',
    '中', '有', '用', '将', '就', '都', '也', '而', '并', '其', '之', '这', '那', '个', '些', '如', '何', '怎', '哪',
    '谁', '什',
];

/// jieba with its default dictionary, loaded once per process (parsing the dictionary takes about
/// 0.1 s) and shared by the tokenizer and the concept extractor.
pub fn base_jieba() -> &'static Jieba {
    BASE_JIEBA.get_or_init(Jieba::new)
}

static BASE_JIEBA: std::sync::OnceLock<Jieba> = std::sync::OnceLock::new();

/// Starts loading jieba's dictionary on a background thread, so that work which does not need it
/// yet (reading and parsing notes) overlaps the load. A no-op once it is loaded.
pub fn preload_dictionary() {
    if BASE_JIEBA.get().is_none() {
        std::thread::spawn(|| {
            base_jieba();
        });
    }
}

impl Analyzer {
    /// jieba's default dictionary, with the given domain terms matched ahead of it (only terms
    /// written in CJK characters can match inside a CJK run; the others are Latin, kept whole anyway).
    pub fn new(domain_terms: &[String]) -> Self {
        let terms: BTreeSet<&str> = domain_terms.iter().map(String::as_str).filter(|t| t.chars().all(is_cjk)).collect();
        let mut by_first: BTreeMap<char, Vec<Box<str>>> = BTreeMap::new();
        let mut starts = vec![0u64; 0x1_0000 / 64];
        for t in terms {
            if let Some(c) = t.chars().next() {
                by_first.entry(c).or_default().push(t.into());
                if (c as usize) < 0x1_0000 {
                    starts[c as usize / 64] |= 1 << (c as usize % 64);
                }
            }
        }
        for v in by_first.values_mut() {
            v.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        }
        Self { jieba: base_jieba(), domain: Arc::new(DomainTerms { by_first, starts }) }
    }

    /// jieba's search-mode tokens of a CJK run (offsets in characters of `run`), with the domain
    /// terms matched first: each gives its 2- and 3-character words and then itself, as jieba's
    /// search mode does for a dictionary word, and the text between them is cut by jieba.
    fn cut_run<'r>(&self, run: &'r str) -> Vec<jieba_rs::Token<'r>> {
        let found = self.domain.find(run);
        if found.is_empty() {
            return self.jieba.tokenize(run, TokenizeMode::Search, true);
        }
        let mut out = Vec::new();
        let (mut last, mut last_char) = (0, 0);
        let cut = |out: &mut Vec<jieba_rs::Token<'r>>, a: usize, b: usize, first_char: usize| {
            for mut t in self.jieba.tokenize(&run[a..b], TokenizeMode::Search, true) {
                (t.start, t.end) = (t.start + first_char, t.end + first_char);
                (t.byte_start, t.byte_end) = (t.byte_start + a, t.byte_end + a);
                out.push(t);
            }
        };
        for (m_start, m_end) in found {
            if m_start > last {
                cut(&mut out, last, m_start, last_char);
            }
            let first_char = last_char + run[last..m_start].chars().count();
            let word = &run[m_start..m_end];
            let offsets: Vec<usize> = word.char_indices().map(|(b, _)| b).chain([word.len()]).collect();
            let n = offsets.len() - 1;
            for len in [2, 3].into_iter().filter(|&len| n > len) {
                for i in 0..=n - len {
                    let gram = &word[offsets[i]..offsets[i + len]];
                    if self.jieba.has_word(gram) || self.domain.contains(gram) {
                        out.push(jieba_rs::Token {
                            word: gram,
                            start: first_char + i,
                            end: first_char + i + len,
                            byte_start: m_start + offsets[i],
                            byte_end: m_start + offsets[i + len],
                        });
                    }
                }
            }
            out.push(jieba_rs::Token {
                word,
                start: first_char,
                end: first_char + n,
                byte_start: m_start,
                byte_end: m_end,
            });
            (last, last_char) = (m_end, first_char + n);
        }
        if last < run.len() {
            cut(&mut out, last, run.len(), last_char);
        }
        out
    }

    /// Tokens of `text`, offsets into `text`.
    pub fn tokenize(&self, text: &str) -> Vec<Token> {
        // NFKC per character, remembering where each normalised char came from.
        let mut norm = String::with_capacity(text.len());
        let mut origin: Vec<(usize, usize)> = Vec::with_capacity(text.len()); // per normalised byte
        for (i, c) in text.char_indices() {
            let end = i + c.len_utf8();
            if c.is_ascii() {
                norm.push(c);
                origin.push((i, end));
                continue;
            }
            for n in c.nfkc() {
                let before = norm.len();
                norm.push(n);
                origin.extend(std::iter::repeat_n((i, end), norm.len() - before));
            }
        }
        let span = |s: usize, e: usize| (origin[s].0, origin[e - 1].1);

        let mut out = Vec::new();
        let mut pos = 0usize;
        let chars: Vec<(usize, char)> = norm.char_indices().collect();
        let mut k = 0;
        while k < chars.len() {
            let (start, c) = chars[k];
            if is_cjk(c) {
                let mut j = k;
                while j < chars.len() && is_cjk(chars[j].1) {
                    j += 1;
                }
                let end = chars.get(j).map_or(norm.len(), |x| x.0);
                let run = &norm[start..end];
                let char_starts: Vec<usize> = run.char_indices().map(|(b, _)| b).chain([run.len()]).collect();
                let mut last_end = 0usize;
                for t in self.cut_run(run) {
                    let (s, e) = (start + char_starts[t.start], start + char_starts[t.end]);
                    let (os, oe) = span(s, e);
                    // Search mode emits sub-words before the word that contains them: they share its
                    // position range; a new word advances.
                    if t.start >= last_end {
                        pos += 1;
                    }
                    last_end = last_end.max(t.end);
                    out.push(Token { text: t.word.to_string(), start: os, end: oe, position: pos });
                }
                k = j;
            } else if is_latin(c) {
                // A Latin term: alphanumerics joined by single joiners, plus trailing '+' / '#' (C++, C#).
                let mut j = k + 1;
                loop {
                    while j < chars.len() && is_latin(chars[j].1) {
                        j += 1;
                    }
                    if j + 1 < chars.len() && is_joiner(chars[j].1) && is_latin(chars[j + 1].1) {
                        j += 2;
                        continue;
                    }
                    break;
                }
                while j < chars.len() && matches!(chars[j].1, '+' | '#') && j - k < 40 {
                    j += 1;
                }
                let end = chars.get(j).map_or(norm.len(), |x| x.0);
                let term = &norm[start..end];
                let (os, oe) = span(start, end);
                pos += 1;
                out.push(Token { text: term.to_lowercase(), start: os, end: oe, position: pos });
                if term.contains(is_joiner) {
                    let mut first = true;
                    let mut off = start;
                    for part in term.split(is_joiner) {
                        if !part.is_empty() {
                            if !first {
                                pos += 1;
                            }
                            first = false;
                            let (ps, pe) = span(off, off + part.len());
                            out.push(Token { text: part.to_lowercase(), start: ps, end: pe, position: pos });
                        }
                        off += part.len() + 1;
                    }
                }
                k = j;
            } else {
                k += 1;
            }
        }
        out
    }

    /// Token texts only.
    pub fn terms(&self, text: &str) -> Vec<String> {
        self.tokenize(text).into_iter().map(|t| t.text).collect()
    }
}

/// The tantivy face of [`Analyzer`].
#[derive(Clone)]
pub struct TantivyTokenizer(pub Analyzer);

pub struct VecTokenStream {
    tokens: Vec<tantivy::tokenizer::Token>,
    next: usize,
}

impl tantivy::tokenizer::Tokenizer for TantivyTokenizer {
    type TokenStream<'a> = VecTokenStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let tokens = self
            .0
            .tokenize(text)
            .into_iter()
            .map(|t| tantivy::tokenizer::Token {
                offset_from: t.start,
                offset_to: t.end,
                position: t.position,
                text: t.text,
                position_length: 1,
            })
            .collect();
        VecTokenStream { tokens, next: 0 }
    }
}

impl tantivy::tokenizer::TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }
    fn token(&self) -> &tantivy::tokenizer::Token {
        &self.tokens[self.next - 1]
    }
    fn token_mut(&mut self) -> &mut tantivy::tokenizer::Token {
        &mut self.tokens[self.next - 1]
    }
}

/// The vocabulary a corpus contributes: Chinese domain terms for jieba and the spelling variants of
/// Latin terms seen in it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Vocabulary {
    /// Chinese terms added to jieba's dictionary, sorted.
    pub domain_terms: Vec<String>,
    /// Fold key (lower case, no spaces, `-`, `_` or `.`) → the spellings seen, each as a token
    /// sequence: `layernorm` → [["layernorm"], ["layer", "norm"]].
    pub variants: BTreeMap<String, BTreeSet<Vec<String>>>,
}

/// Fold key of a Latin spelling: lower case, joiners and spaces removed.
pub fn fold_key(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace() && !is_joiner(*c)).flat_map(char::to_lowercase).collect()
}

/// Per-note contribution to the vocabulary (kept per note so that updates stay incremental).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NoteVocabulary {
    pub domain_terms: BTreeSet<String>,
    /// Single-token Latin terms seen (lower case).
    pub latin_terms: BTreeSet<String>,
    /// Adjacent Latin word pairs seen separated by white space (lower case).
    pub latin_pairs: BTreeSet<(String, String)>,
}

impl NoteVocabulary {
    /// Collects the candidates from one parsed note.
    pub fn from_note(note: &ParsedNote) -> Self {
        let mut v = NoteVocabulary::default();
        let mut terms = BTreeSet::new();
        let mut add_cjk_term = |s: &str, strict: bool| {
            for run in s.split(|c: char| !is_cjk(c)) {
                let n = run.chars().count();
                if !(2..=8).contains(&n) {
                    continue;
                }
                if strict && run.chars().any(|c| FUNCTION_CHARS.contains(&c)) {
                    continue;
                }
                terms.insert(run.nfkc().collect::<String>());
            }
        };
        for s in &note.sections {
            add_cjk_term(&s.heading, true);
        }
        for t in &note.strong_terms {
            // A bold span is a term only when it is short; long bold spans are emphasised sentences.
            if t.text.chars().count() <= 12 {
                add_cjk_term(&t.text, true);
            }
        }
        // Chinese words glossed by a Latin term in brackets: 前置归一化（Pre-Norm）.
        let gloss = regex_gloss();
        for b in &note.blocks {
            for cap in gloss.captures_iter(&b.text) {
                add_cjk_term(&cap[1], true);
            }
        }
        for b in &note.blocks {
            collect_latin(&b.text, &mut v);
        }
        for s in &note.sections {
            collect_latin(&s.heading, &mut v);
        }
        v.domain_terms = terms;
        v
    }
}

fn regex_gloss() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"([\p{Han}]{2,8})\s*[（(]\s*[A-Za-z][A-Za-z0-9 \-_.]{0,40}[）)]").expect("valid regex")
    })
}

fn collect_latin(text: &str, v: &mut NoteVocabulary) {
    let mut prev: Option<(String, usize)> = None;
    let mut k = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    while k < chars.len() {
        let c = chars[k].1;
        if !c.is_ascii_alphanumeric() {
            if !c.is_whitespace() {
                prev = None;
            }
            k += 1;
            continue;
        }
        let start = chars[k].0;
        let mut j = k;
        while j < chars.len()
            && (chars[j].1.is_ascii_alphanumeric()
                || (is_joiner(chars[j].1) && chars.get(j + 1).is_some_and(|x| x.1.is_ascii_alphanumeric())))
        {
            j += 1;
        }
        let end = chars.get(j).map_or(text.len(), |x| x.0);
        let term = text[start..end].to_lowercase();
        if term.chars().any(|c| c.is_ascii_alphabetic()) {
            v.latin_terms.insert(term.clone());
            if let Some((p, _)) = &prev
                && !p.contains(is_joiner)
                && !term.contains(is_joiner)
            {
                v.latin_pairs.insert((p.clone(), term.clone()));
            }
            prev = Some((term, end));
        } else {
            prev = None;
        }
        k = j;
    }
}

impl Vocabulary {
    /// Merges per-note contributions. A fold key is kept only when the corpus spells it in more
    /// than one way.
    pub fn merge<'a>(notes: impl IntoIterator<Item = &'a NoteVocabulary>) -> Self {
        // Each distinct word and pair once: the notes share most of theirs.
        let mut domain: BTreeSet<&str> = BTreeSet::new();
        let mut terms: std::collections::HashSet<&str> = std::collections::HashSet::new();
        let mut pairs: std::collections::HashSet<(&str, &str)> = std::collections::HashSet::new();
        for n in notes {
            domain.extend(n.domain_terms.iter().map(String::as_str));
            terms.extend(n.latin_terms.iter().map(String::as_str));
            pairs.extend(n.latin_pairs.iter().map(|(a, b)| (a.as_str(), b.as_str())));
        }
        let mut variants: BTreeMap<String, BTreeSet<Vec<String>>> = BTreeMap::new();
        for t in terms {
            let key = fold_key(t);
            if key.chars().count() >= 2 {
                variants.entry(key).or_default().insert(vec![t.to_string()]);
            }
        }
        // A pair spelling counts only where its key is also seen as one term ("layer norm" ~ "layernorm").
        for (a, b) in pairs {
            let key = fold_key(&format!("{a}{b}"));
            if let Some(set) = variants.get_mut(&key) {
                set.insert(vec![a.to_string(), b.to_string()]);
            }
        }
        variants.retain(|_, forms| forms.len() > 1);
        Vocabulary { domain_terms: domain.into_iter().map(str::to_string).collect(), variants }
    }

    /// Spellings (token sequences) the corpus uses for what the query writes as `words`
    /// (consecutive Latin words of the query), other than the query's own.
    pub fn variants_of(&self, words: &[&str]) -> Vec<Vec<String>> {
        let key = fold_key(&words.concat());
        let own: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
        self.variants.get(&key).map(|forms| forms.iter().filter(|f| **f != own).cloned().collect()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyzer() -> &'static Analyzer {
        static A: std::sync::OnceLock<Analyzer> = std::sync::OnceLock::new();
        A.get_or_init(|| Analyzer::new(&["低秩分解".to_string()]))
    }

    fn assert_clean(tokens: &[Token], text: &str) {
        for t in tokens {
            assert!(!t.text.is_empty());
            assert!(
                t.text.chars().all(|c| c.is_alphanumeric() || is_joiner(c) || c == '+' || c == '#'),
                "{:?}",
                t.text
            );
            assert!(text.get(t.start..t.end).is_some(), "offsets point into the text");
        }
    }

    #[test]
    fn mixed_chinese_english() {
        let text = "BERT是一种仅编码器的模型";
        let t = analyzer().terms(text);
        assert!(t.contains(&"bert".to_string()), "{t:?}");
        assert!(t.contains(&"编码器".to_string()), "{t:?}");
        assert_clean(&analyzer().tokenize(text), text);
    }

    #[test]
    fn long_chinese_phrase_yields_tokens() {
        let text = "大语言模型的参数高效微调方法概述与比较";
        let t = analyzer().terms(text);
        assert!(t.len() >= 5, "{t:?}");
        assert!(t.contains(&"微调".to_string()), "{t:?}");
        assert!(t.iter().all(|x| x.len() <= 40));
    }

    #[test]
    fn latin_terms_whole_and_in_parts() {
        let text = "使用RMSNorm而非layernorm，top-p 与 GPT-4、SwiGLU，C++ 和 top_p。";
        let t = analyzer().terms(text);
        for want in ["rmsnorm", "layernorm", "top-p", "top", "p", "gpt-4", "gpt", "4", "swiglu", "c++", "top_p"] {
            assert!(t.contains(&want.to_string()), "{want} missing from {t:?}");
        }
        assert_clean(&analyzer().tokenize(text), text);
    }

    #[test]
    fn no_punctuation_or_space_tokens_and_offsets_match() {
        let text = "  。，、！？（）【】 —— ... --- ***  \n\t";
        assert!(analyzer().tokenize(text).is_empty());
        let text = "Ｌｏｒａ：⽤低秩分解";
        let toks = analyzer().tokenize(text);
        let t: Vec<&str> = toks.iter().map(|t| t.text.as_str()).collect();
        assert!(t.contains(&"lora"), "full-width folded: {t:?}");
        assert!(t.contains(&"用"), "Kangxi radical folded: {t:?}");
        assert!(t.contains(&"低秩分解"), "domain term kept whole: {t:?}");
        let lora = toks.iter().find(|t| t.text == "lora").unwrap();
        assert_eq!(&text[lora.start..lora.end], "Ｌｏｒａ");
    }

    #[test]
    fn domain_terms_change_segmentation() {
        let plain = Analyzer::new(&[]).terms("低秩分解");
        assert!(!plain.contains(&"低秩分解".to_string()), "{plain:?}");
        assert!(analyzer().terms("采用低秩分解的方式").contains(&"低秩分解".to_string()));
    }

    #[test]
    fn a_domain_term_gives_its_dictionary_words_and_shares_their_position() {
        let text = "我们采用低秩分解的方式";
        let toks = analyzer().tokenize(text);
        let term = toks.iter().find(|t| t.text == "低秩分解").expect("the term, whole");
        assert_eq!(&text[term.start..term.end], "低秩分解");
        // Its 2-character dictionary word comes before it, at the same position, as jieba's search
        // mode gives a dictionary word's sub-words; the text around it is cut by jieba.
        let sub = toks.iter().position(|t| t.text == "分解").expect("sub-word");
        let whole = toks.iter().position(|t| t.text == "低秩分解").unwrap();
        assert!(sub < whole && toks[sub].position == toks[whole].position, "{toks:?}");
        assert_eq!(&text[toks[sub].start..toks[sub].end], "分解");
        let t: Vec<&str> = toks.iter().map(|t| t.text.as_str()).collect();
        assert!(t.contains(&"采用") && t.contains(&"方式"), "{t:?}");
        let before = toks.iter().find(|t| t.text == "采用").unwrap();
        let after = toks.iter().find(|t| t.text == "方式").unwrap();
        assert!(before.position < term.position && term.position < after.position, "{toks:?}");
    }

    #[test]
    fn variants_are_learned_from_the_notes() {
        let note =
            crate::markdown::parse("# LayerNorm\n\nlayer norm and Layer Norm; top-p, top_p; vLLM vllm; GPT-4 only\n");
        let vocab = Vocabulary::merge([&NoteVocabulary::from_note(&note)]);
        let forms = vocab.variants_of(&["layernorm"]);
        assert!(forms.contains(&vec!["layer".to_string(), "norm".to_string()]), "{forms:?}");
        let forms = vocab.variants_of(&["top", "p"]);
        assert!(forms.contains(&vec!["top-p".to_string()]) && forms.contains(&vec!["top_p".to_string()]), "{forms:?}");
        assert!(vocab.variants_of(&["gpt-4"]).is_empty(), "single spelling: nothing to fold");
        assert!(vocab.variants_of(&["VLLM"]).is_empty(), "case alone is folded by lower-casing");
    }
}
