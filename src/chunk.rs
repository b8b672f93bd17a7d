//! Chunking: a parsed note → heading-aware chunks, the unit of retrieval.
//!
//! Owns the chunk shape, the size budget, the split rules and the stable chunk id. Every chunk
//! belongs to exactly one section (or to the text before the first heading) and carries the
//! section's heading path and the source lines it spans.
//!
//! Rules:
//! - A section's own body (its text up to the next heading of any level) is one chunk when it fits
//!   the budget ([`MAX_TOKENS`] estimated model tokens, about 600 Chinese characters); otherwise it is
//!   packed into several chunks at block boundaries (paragraphs, list items, code blocks, tables),
//!   splitting an oversized block at sentence ends, and a code block at line ends only when it alone
//!   exceeds the budget. Each piece keeps the heading path.
//! - A heading with no body and no sub-sections becomes a chunk whose text is the heading itself, so
//!   it can still be found. A heading with no body but with sub-sections yields no chunk of its own:
//!   its text is in the heading path of every chunk below it.
//! - Text before the first heading is a chunk with an empty heading path.
//!
//! Chunk ids are a hash of path, heading path and text (plus an ordinal for exact repeats), so they
//! stay the same while that text does not change, even when lines above it move.
//!
//! It does not read files, tokenize for search or embed.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::markdown::{Block, BlockKind, ParsedNote};

/// Budget per chunk in estimated model tokens (multilingual-e5 takes 512; headroom for the heading
/// path and the estimate's error).
pub const MAX_TOKENS: usize = 420;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    pub id: String,
    /// Note path relative to the corpus root, `/`-separated.
    pub path: String,
    pub heading_path: Vec<String>,
    pub line_start: usize,
    pub line_end: usize,
    pub text: String,
    /// Index of the section in the parsed note, `None` for text before the first heading.
    pub section: Option<usize>,
}

impl Chunk {
    /// Heading path and text, as given to the embedding model.
    pub fn embedding_text(&self) -> String {
        if self.heading_path.is_empty() {
            self.text.clone()
        } else {
            format!("{}\n{}", self.heading_path.join(" > "), self.text)
        }
    }
}

/// Rough count of multilingual-e5 (XLM-R sentencepiece) tokens: about 0.75 per CJK character,
/// 1.4 per Latin word or number, 0.5 per other symbol.
pub fn estimate_tokens(text: &str) -> usize {
    let mut cjk = 0usize;
    let mut words = 0usize;
    let mut symbols = 0usize;
    let mut in_word = false;
    for c in text.chars() {
        if c.is_alphanumeric() && !is_cjk(c) {
            if !in_word {
                words += 1;
                in_word = true;
            }
            continue;
        }
        in_word = false;
        if is_cjk(c) {
            cjk += 1;
        } else if !c.is_whitespace() {
            symbols += 1;
        }
    }
    (cjk * 3).div_ceil(4) + (words * 7).div_ceil(5) + symbols.div_ceil(2)
}

/// CJK ideographs, kana, hangul and the CJK radical blocks.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x2FDF | 0x3040..=0x30FF | 0x3100..=0x312F | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// A piece of body text with its lines, before packing.
struct Unit {
    text: String,
    line_start: usize,
    line_end: usize,
    tokens: usize,
}

/// Splits a parsed note into chunks.
pub fn chunk_note(path: &str, note: &ParsedNote) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut has_child = vec![false; note.sections.len()];
    for s in &note.sections {
        if let Some(p) = s.parent {
            has_child[p] = true;
        }
    }
    let mut has_body = vec![false; note.sections.len()];
    // Blocks of one section are contiguous: headings only occur between top-level blocks.
    let mut i = 0;
    while i < note.blocks.len() {
        let section = note.blocks[i].section;
        let mut j = i;
        while j < note.blocks.len() && note.blocks[j].section == section {
            j += 1;
        }
        if let Some(s) = section {
            has_body[s] = true;
        }
        let heading_path = section.map(|s| note.sections[s].heading_path.clone()).unwrap_or_default();
        let units: Vec<Unit> = note.blocks[i..j].iter().flat_map(units_of_block).collect();
        for (text, line_start, line_end) in pack(units) {
            chunks.push(Chunk {
                id: String::new(),
                path: path.to_string(),
                heading_path: heading_path.clone(),
                line_start,
                line_end,
                text,
                section,
            });
        }
        i = j;
    }
    for (s, sec) in note.sections.iter().enumerate() {
        if !has_body[s] && !has_child[s] {
            chunks.push(Chunk {
                id: String::new(),
                path: path.to_string(),
                heading_path: sec.heading_path.clone(),
                line_start: sec.line,
                line_end: sec.line,
                text: sec.heading.clone(),
                section: Some(s),
            });
        }
    }
    chunks.sort_by_key(|c| (c.line_start, c.line_end));
    assign_ids(&mut chunks);
    chunks
}

fn assign_ids(chunks: &mut [Chunk]) {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for c in chunks.iter_mut() {
        let mut h = Sha256::new();
        h.update(c.path.as_bytes());
        h.update([0x1f]);
        for part in &c.heading_path {
            h.update(part.as_bytes());
            h.update([0x1e]);
        }
        h.update([0x1f]);
        h.update(c.text.as_bytes());
        let base = crate::corpus::hex(&h.finalize()[..8]);
        let n = seen.entry(base.clone()).or_insert(0);
        c.id = if *n == 0 { base } else { format!("{base}-{n}") };
        *n += 1;
    }
}

/// A block's display text: list items get a bullet indented by depth.
fn block_text(b: &Block) -> String {
    match b.kind {
        BlockKind::ListItem => format!("{}- {}", "  ".repeat(b.depth as usize), b.text),
        _ => b.text.clone(),
    }
}

/// One unit per block, or several when the block alone exceeds the budget.
fn units_of_block(b: &Block) -> Vec<Unit> {
    let text = block_text(b);
    let tokens = estimate_tokens(&text);
    if tokens <= MAX_TOKENS {
        return vec![Unit { text, line_start: b.line_start, line_end: b.line_end, tokens }];
    }
    // Oversized: code splits at line ends, prose at sentence ends.
    let pieces: Vec<(usize, &str)> =
        if b.kind == BlockKind::Code { split_keep_offsets(&b.text, |c| c == '\n') } else { sentences(&b.text) };
    let mut units = Vec::new();
    for (off, piece) in pieces {
        if piece.trim().is_empty() {
            continue;
        }
        let line = b.line_at(off);
        let end_line = b.line_at(off + piece.len().saturating_sub(1));
        // A single sentence still over budget is cut at character boundaries.
        for part in hard_split(piece) {
            units.push(Unit { tokens: estimate_tokens(&part), text: part, line_start: line, line_end: end_line });
        }
    }
    units
}

/// The sentences of `text` with their byte offsets: split after `。！？；` and line breaks, and after
/// `. ! ? ;` followed by white space. Pieces keep their end punctuation; blank ones are dropped.
pub fn sentences(text: &str) -> Vec<(usize, &str)> {
    split_keep_offsets(text, |c| matches!(c, '。' | '！' | '？' | '；' | '\n' | '.' | '!' | '?' | ';'))
        .into_iter()
        .filter(|(_, s)| !s.trim().is_empty())
        .collect()
}

/// Splits after every char matching `is_end`, returning `(byte offset, piece)`.
fn split_keep_offsets(text: &str, is_end: impl Fn(char) -> bool) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        // An ASCII '.' only ends a sentence before white space (not in "3.5" or "a.b").
        let ends = is_end(c) && (c != '.' || text[i + 1..].starts_with(char::is_whitespace) || i + 1 == text.len());
        if ends {
            let end = i + c.len_utf8();
            out.push((start, &text[start..end]));
            start = end;
        }
    }
    if start < text.len() {
        out.push((start, &text[start..]));
    }
    out
}

fn hard_split(piece: &str) -> Vec<String> {
    if estimate_tokens(piece) <= MAX_TOKENS {
        return vec![piece.to_string()];
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in piece.chars() {
        cur.push(c);
        // Check every few characters; estimate is cheap enough for oversize pieces only.
        if cur.len().is_multiple_of(64) && estimate_tokens(&cur) >= MAX_TOKENS {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

/// Greedy packing of units into chunks within the budget.
fn pack(units: Vec<Unit>) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut tokens = 0;
    let mut lines = (0, 0);
    for u in units {
        if !text.is_empty() && tokens + u.tokens > MAX_TOKENS {
            out.push((std::mem::take(&mut text), lines.0, lines.1));
            tokens = 0;
        }
        if text.is_empty() {
            lines = (u.line_start, u.line_end);
        } else {
            text.push('\n');
        }
        text.push_str(u.text.trim_end());
        tokens += u.tokens;
        lines.1 = lines.1.max(u.line_end);
    }
    if !text.is_empty() {
        out.push((text, lines.0, lines.1));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markdown::parse;

    fn chunks(src: &str) -> Vec<Chunk> {
        chunk_note("n.md", &parse(src))
    }

    #[test]
    fn chunks_follow_sections_with_heading_paths_and_lines() {
        let src = "intro\n\n# A\n\n## B\n\nbody b\nmore b\n\n```\n# not heading\n```\n\n## C\n\n# D\n\ntext d\n";
        let c = chunks(src);
        let got: Vec<(Vec<&str>, usize, usize)> =
            c.iter().map(|c| (c.heading_path.iter().map(String::as_str).collect(), c.line_start, c.line_end)).collect();
        assert_eq!(
            got,
            [
                (vec![], 1, 1),
                (vec!["A", "B"], 7, 12),
                (vec!["A", "C"], 14, 14), // empty leaf heading: findable by its own text
                (vec!["D"], 18, 18),
            ]
        );
        assert!(c[1].text.contains("# not heading"));
        assert_eq!(c[2].text, "C");
        // "A" has only sub-sections: no chunk of its own.
        assert!(!c.iter().any(|c| c.heading_path == ["A"]));
    }

    #[test]
    fn long_sections_split_at_boundaries_and_keep_heading_path() {
        let para = "这是一个很长的句子，用来测试切分。".repeat(40); // ~680 CJK chars
        let src = format!("# 长\n\n{para}\n\n{para}\n\n```\ncode line\n```\n");
        let c = chunks(&src);
        assert!(c.len() >= 3, "{}", c.len());
        for ch in &c {
            assert_eq!(ch.heading_path, ["长"]);
            assert!(estimate_tokens(&ch.text) <= MAX_TOKENS, "{}", estimate_tokens(&ch.text));
            assert!(ch.text.ends_with('。') || ch.text.ends_with("code line"), "cut mid-sentence: {}", ch.text);
        }
        let total: usize = c.iter().map(|c| c.text.matches("切分").count()).sum();
        assert_eq!(total, 80, "no text lost or duplicated");
    }

    #[test]
    fn ids_are_stable_and_change_with_text() {
        let a = chunks("# H\n\nalpha\n\n# I\n\nbeta\n");
        let b = chunks("\n\n# H\n\nalpha\n\n# I\n\nbeta changed\n");
        assert_eq!(a[0].id, b[0].id, "moving lines does not change the id");
        assert_ne!(a[1].id, b[1].id);
        let again = chunks("# H\n\nalpha\n\n# I\n\nbeta\n");
        assert_eq!(a, again);
        let dup = chunks("# H\n\nx\n\n# H\n\nx\n");
        assert_ne!(dup[0].id, dup[1].id);
    }

    #[test]
    fn token_estimate_is_in_the_right_range() {
        assert_eq!(estimate_tokens(&"中".repeat(600)), 450);
        assert!(estimate_tokens("use RMSNorm instead of LayerNorm") >= 6);
    }
}
