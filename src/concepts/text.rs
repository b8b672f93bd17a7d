//! Text helpers for the concept graph: concept keys, sentence splitting, masking of bracketed
//! asides, and the shapes of Latin technical terms.
//!
//! Owns the normalisation every other concept module relies on (one `concept_key` for matching
//! spellings) and the purely lexical tests on a string (is this an acronym, a CamelCase word, a
//! number). It knows no note structure, no corpus and no relation: it gets strings, returns facts
//! about them.

use unicode_normalization::UnicodeNormalization;

use crate::chunk::is_cjk;

/// The key two spellings of one concept share: NFKC, lower case, white space, `-`, `_`, `.`, `'`,
/// `·` and `/` removed. `Layer Norm`, `layernorm`, `LayerNorm` → `layernorm`; `top_p`, `top-p` →
/// `topp`.
pub fn concept_key(s: &str) -> String {
    let keep = |c: &char| !c.is_whitespace() && !matches!(c, '-' | '_' | '.' | '\'' | '·' | '/' | '\\' | '*' | '`');
    if s.is_ascii() {
        return s.chars().filter(keep).map(|c| c.to_ascii_lowercase()).collect();
    }
    let mut out = String::with_capacity(s.len());
    for_nfkc(s, |c| {
        if keep(&c) {
            out.extend(c.to_lowercase());
        }
    });
    out
}

/// A character NFKC leaves alone whatever surrounds it: ASCII, CJK ideographs and the CJK
/// punctuation that has no compatibility form (`、`, `。`, `〈〉《》「」『』【】`): the bulk of the
/// notes, neither decomposed nor composed with a neighbour unless a combining mark follows.
fn nfkc_stable(c: char) -> bool {
    c.is_ascii() || matches!(c as u32, 0x3001 | 0x3002 | 0x3008..=0x3011 | 0x3400..=0x4DBF | 0x4E00..=0x9FFF)
}

/// What NFKC makes of a full-width ASCII form (`，`, `（`, `ｘ`) or the ideographic space, on its
/// own: the ASCII character (the `<wide>` decompositions), which composes with no neighbour unless
/// a combining mark follows.
fn nfkc_wide(c: char) -> Option<char> {
    match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0),
        0x3000 => Some(' '),
        _ => None,
    }
}

/// Whether `c` can compose with the character before it: a combining mark, or a character whose
/// compatibility form starts with one (the half-width kana voicing marks `ﾞ` `ﾟ` are letters that
/// NFKC turns into the combining U+3099 / U+309A).
fn may_attach(c: char) -> bool {
    use unicode_normalization::char::{canonical_combining_class, decompose_compatible, is_combining_mark};
    let mut first = None;
    decompose_compatible(c, |d| _ = first.get_or_insert(d));
    is_combining_mark(c) || first.is_some_and(|d| canonical_combining_class(d) != 0)
}

/// Feeds the NFKC form of `s` to `f`: stable and full-width characters directly, the stretches
/// between them through the normaliser (the whole string when something that may compose with a
/// character follows one of them).
fn for_nfkc(s: &str, mut f: impl FnMut(char)) {
    let direct = |c: char| nfkc_stable(c) || nfkc_wide(c).is_some();
    let mut prev_direct = false;
    for c in s.chars() {
        let d = direct(c);
        if !d && prev_direct && may_attach(c) {
            s.nfkc().for_each(f);
            return;
        }
        prev_direct = d;
    }
    // Where the stretch of other characters being passed over started.
    let mut other: Option<usize> = None;
    for (i, c) in s.char_indices() {
        let d = if nfkc_stable(c) { Some(c) } else { nfkc_wide(c) };
        match (d, other) {
            (Some(d), Some(from)) => {
                s[from..i].nfkc().for_each(&mut f);
                other = None;
                f(d);
            }
            (Some(d), None) => f(d),
            (None, None) => other = Some(i),
            (None, Some(_)) => {}
        }
    }
    if let Some(from) = other {
        s[from..].nfkc().for_each(&mut f);
    }
}

/// NFKC with white space runs (including no-break spaces) collapsed to one space, trimmed.
pub fn nfkc_clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for_nfkc(s, |c| {
        if c.is_whitespace() {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    });
    out
}

/// Maps and sets keyed by short strings and integers, with rustc's fast hash (no untrusted input
/// to defend against).
pub type FxMap<K, V> = rustc_hash::FxHashMap<K, V>;
pub type FxSet<K> = rustc_hash::FxHashSet<K>;

pub fn is_latin_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

pub fn cjk_count(s: &str) -> usize {
    s.chars().filter(|&c| is_cjk(c)).count()
}

pub fn has_cjk(s: &str) -> bool {
    s.chars().any(is_cjk)
}

pub fn is_all_cjk(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_cjk)
}

/// A sentence of a block: its text (as written) and its byte offset in the block.
#[derive(Debug, Clone)]
pub struct SentenceSpan<'a> {
    pub text: &'a str,
    pub offset: usize,
}

/// Splits block text into sentences at `。！？；!?;`, line breaks, and `. ` after Latin text.
/// Terminators stay with their sentence; empty pieces are dropped.
pub fn split_sentences(text: &str) -> Vec<SentenceSpan<'_>> {
    let mut out = Vec::new();
    let mut start = 0usize;
    let bytes = text.as_bytes();
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let end = i + c.len_utf8();
        let cut = match c {
            '。' | '！' | '？' | '；' | '!' | '?' | ';' | '\n' => true,
            '.' => {
                // An English full stop: followed by white space or the end, preceded by a letter.
                let next_ws = bytes.get(end).is_none_or(|b| b.is_ascii_whitespace());
                let prev_alpha = text[..i].chars().next_back().is_some_and(|p| p.is_ascii_alphabetic() || p == ')');
                next_ws && prev_alpha
            }
            _ => false,
        };
        if cut {
            push_sentence(text, start, end, &mut out);
            start = end;
        }
        let _ = iter.peek();
    }
    push_sentence(text, start, text.len(), &mut out);
    out
}

fn push_sentence<'a>(text: &'a str, start: usize, end: usize, out: &mut Vec<SentenceSpan<'a>>) {
    let s = &text[start..end];
    let trimmed_start = s.len() - s.trim_start().len();
    let t = s.trim();
    if t.chars().any(|c| c.is_alphanumeric()) {
        out.push(SentenceSpan { text: t, offset: start + trimmed_start });
    }
}

/// Removes bracketed asides `(…)`, `（…）`, `【…】`, `[…]` (after NFKC the full-width forms are ASCII)
/// from a normalised sentence, keeping everything else. Returns the skeleton and the asides.
pub fn strip_brackets(s: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(s.len());
    let mut asides = Vec::new();
    let mut depth = 0usize;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' | '【' | '[' => {
                if depth > 0 {
                    cur.push(c);
                }
                depth += 1;
            }
            ')' | '】' | ']' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    asides.push(std::mem::take(&mut cur));
                } else {
                    cur.push(c);
                }
            }
            _ if depth > 0 => cur.push(c),
            _ => out.push(c),
        }
    }
    if depth > 0 {
        // Unbalanced: keep the text rather than lose the rest of the sentence.
        out.push_str(&cur);
    }
    (out, asides)
}

/// Strips a list marker or section numbering from the start: `1. `, `1.2 `, `(3)`, `- `, `第一步：`.
pub fn strip_numbering(s: &str) -> &str {
    let mut t = s.trim_start();
    loop {
        let before = t;
        t = t.trim_start_matches(['-', '*', '+', '•', '·', '>', ' ', '\u{3000}']);
        // 1. / 1.2 / 1.2.3 / 1) / 1、: cut when the number ends with a dot or is followed by a
        // separator; "2023年", "1.4T", "7B" are kept.
        let digits = t.chars().take_while(|c| c.is_ascii_digit() || *c == '.').count();
        if digits > 0 && t.starts_with(|c: char| c.is_ascii_digit()) {
            let rest = &t[digits..];
            if t[..digits].ends_with('.') || rest.starts_with(['、', ')', '）', ' ', ':', '：']) {
                t = rest.trim_start_matches(['、', ')', '）', ':', '：']);
            }
        }
        if t.starts_with('(') || t.starts_with('（') {
            let inner: String = t.chars().skip(1).take_while(|c| c.is_ascii_digit()).collect();
            if !inner.is_empty() {
                let after = &t[t.char_indices().nth(1 + inner.len()).map_or(t.len(), |x| x.0)..];
                if after.starts_with([')', '）']) {
                    t = &after[after.chars().next().map_or(0, char::len_utf8)..];
                }
            }
        }
        if t == before {
            break;
        }
    }
    t.trim_start()
}

/// Shape of a Latin word or phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum LatinShape {
    /// All lower case plain words: `attention`, `layer norm`.
    Plain,
    /// Capitalised words: `Transformer`, `Code Llama`.
    Capitalised,
    /// Acronym, CamelCase, digits or joiners: `BERT`, `RMSNorm`, `GPT-4`, `top-p`, `vLLM`.
    Technical,
}

/// The shape of one Latin word (no spaces).
pub fn word_shape(w: &str) -> LatinShape {
    let letters = w.chars().filter(|c| c.is_ascii_alphabetic()).count();
    let uppers = w.chars().filter(|c| c.is_ascii_uppercase()).count();
    let digits = w.chars().any(|c| c.is_ascii_digit());
    let joined = w.contains(['-', '_', '+', '#']);
    let inner_upper = w.chars().skip(1).any(|c| c.is_ascii_uppercase());
    if uppers >= 2 || (digits && letters > 0) || (joined && letters > 1) || inner_upper {
        LatinShape::Technical
    } else if uppers == 1 && w.starts_with(|c: char| c.is_ascii_uppercase()) {
        LatinShape::Capitalised
    } else {
        LatinShape::Plain
    }
}

/// The shape of a phrase: its most technical word decides; a phrase of capitalised words is
/// capitalised.
pub fn phrase_shape(words: &[&str]) -> LatinShape {
    let shapes: Vec<LatinShape> = words.iter().map(|w| word_shape(w)).collect();
    if shapes.contains(&LatinShape::Technical) {
        LatinShape::Technical
    } else if shapes.iter().filter(|s| **s == LatinShape::Capitalised).count() * 2 >= shapes.len().max(1) {
        LatinShape::Capitalised
    } else {
        LatinShape::Plain
    }
}

/// A number, a size or a unit (`7B`, `1.4T`, `65B`, `2023`, `6.7%`, `4x`): never a concept.
pub fn is_numberish(w: &str) -> bool {
    let t = w.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if t.is_empty() {
        return true;
    }
    let digits = t.chars().filter(|c| c.is_ascii_digit()).count();
    let letters = t.chars().filter(|c| c.is_ascii_alphabetic()).count();
    if letters == 0 {
        return true;
    }
    // 7B, 65B, 1.4T, 2k, 4x, 10th, 3D? (keep things like T5, GPT4: letters first)
    digits > 0 && t.starts_with(|c: char| c.is_ascii_digit()) && letters <= 2
}

/// True when at least two letters stand next to each other (rules out `d_k`, `a_i`, `W`).
pub fn has_letter_pair(w: &str) -> bool {
    let mut prev = false;
    for c in w.chars() {
        let a = c.is_ascii_alphabetic();
        if a && prev {
            return true;
        }
        prev = a;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fold_case_space_and_joiners() {
        for (a, b) in [
            ("LlaMA", "LLaMA"),
            ("LLaMa", "llama"),
            ("vllm", "vLLM"),
            ("layer norm", "LayerNorm"),
            ("layernorm", "Layer Norm"),
            ("top-p", "top_p"),
            ("Ｌｏｒａ", "LoRA"),
            ("encoder only", "encoder-only"),
        ] {
            assert_eq!(concept_key(a), concept_key(b), "{a} vs {b}");
        }
        assert_ne!(concept_key("GPT-4"), concept_key("GPT"));
        assert_eq!(concept_key("Ｌｏｒａ 微调"), "lora微调");
        assert_eq!(nfkc_clean("  a\u{a0} b\n（c）  "), "a b (c)");
        assert_eq!(nfkc_clean("e\u{301}和ｘ"), "\u{e9}和x");
        assert_eq!(concept_key("Ｌｏｒａ，微调"), "lora,微调");
    }

    #[test]
    fn the_fast_paths_give_exactly_nfkc() {
        // Stable and full-width characters next to each other, to combining marks, to characters
        // that decompose (`…`, `ﬁ`, `①`, `Ⅻ`), to ones that compose (`e` + U+0301, Hangul jamo) and
        // to letters whose compatibility form is a combining mark (`ｅﾞ` + U+0301, `＝ﾟ` + U+0338).
        let pieces = [
            "a", "Z", "和", "。", "、", "《", "】", "，", "（", "ｘ", "Ａ", "\u{3000}", "\u{301}", "\u{308}", "…", "ﬁ",
            "①", "Ⅻ", "é", "\u{1100}", "\u{1161}", "가", "\u{11a8}", " ", "\u{a0}", "℃", "㎏", "·", "“", "—", "ﾞ", "ﾟ",
            "＝", "\u{338}", "ｅ", "e",
        ];
        let mut checked = 0;
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let s = format!("{a}{b}{c}");
                    let mut ours = String::new();
                    for_nfkc(&s, |ch| ours.push(ch));
                    assert_eq!(ours, s.nfkc().collect::<String>(), "{s:?}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, pieces.len().pow(3));
    }

    #[test]
    fn sentences_split_on_chinese_and_english_ends() {
        let s: Vec<&str> =
            split_sentences("BN的作用：允许较大的学习率；减弱依赖。It is good. See top-p 0.9 too\n下一行")
                .iter()
                .map(|s| s.text)
                .collect();
        assert_eq!(s, ["BN的作用：允许较大的学习率；", "减弱依赖。", "It is good.", "See top-p 0.9 too", "下一行"]);
    }

    #[test]
    fn brackets_are_stripped_and_kept() {
        let (s, a) = strip_brackets("Meta(原Facebook)推出了LLaMA(65B)");
        assert_eq!(s, "Meta推出了LLaMA");
        assert_eq!(a, ["原Facebook", "65B"]);
    }

    #[test]
    fn numbering_is_stripped() {
        assert_eq!(strip_numbering("1. 使用了"), "使用了");
        assert_eq!(strip_numbering("1.2 Layer Norm"), "Layer Norm");
        assert_eq!(strip_numbering("- BERT"), "BERT");
        assert_eq!(strip_numbering("1.LLama"), "LLama");
        assert_eq!(strip_numbering("1.4T token"), "1.4T token");
        assert_eq!(strip_numbering("1.概述"), "概述");
        assert_eq!(strip_numbering("2023年"), "2023年");
        assert_eq!(strip_numbering("(2) GPT"), "GPT");
    }

    #[test]
    fn shapes() {
        assert_eq!(word_shape("RMSNorm"), LatinShape::Technical);
        assert_eq!(word_shape("GPT-4"), LatinShape::Technical);
        assert_eq!(word_shape("top-p"), LatinShape::Technical);
        assert_eq!(word_shape("vLLM"), LatinShape::Technical);
        assert_eq!(word_shape("Transformer"), LatinShape::Capitalised);
        assert_eq!(word_shape("attention"), LatinShape::Plain);
        assert!(is_numberish("65B") && is_numberish("1.4T") && is_numberish("2023"));
        assert!(!is_numberish("T5") && !is_numberish("GPT-4") && !is_numberish("word2vec"));
        assert!(!has_letter_pair("d_k") && has_letter_pair("top_p"));
    }
}
