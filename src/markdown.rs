//! Markdown reading: one note's text → a [`ParsedNote`] (front matter, heading tree, blocks of plain
//! text with source line numbers, links, wikilinks and bold terms).
//!
//! Owns the pulldown-cmark configuration and every rule about what counts as a heading, a block or a
//! link. It does not split text into chunks (that is `chunk`), does not tokenize, and never touches the
//! file system: it gets a string and returns data.

use std::collections::BTreeMap;

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};
use serde::{Deserialize, Serialize};

/// A note after parsing. Line numbers are 1-based lines of the source file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ParsedNote {
    pub front_matter: FrontMatter,
    /// Headings in document order; `Block::section` and `Section::parent` index into this.
    pub sections: Vec<Section>,
    /// Blocks of plain text in document order.
    pub blocks: Vec<Block>,
    pub links: Vec<LinkRef>,
    /// `**bold**` spans (plain text), for the concept graph.
    pub strong_terms: Vec<Spanned>,
}

/// YAML front matter: the well-known keys typed, everything else kept as text.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FrontMatter {
    pub title: Option<String>,
    pub tags: Vec<String>,
    pub date: Option<String>,
    pub other: BTreeMap<String, String>,
    /// Set when a front matter block was present but was not valid YAML.
    pub error: Option<String>,
}

/// One heading and the section it opens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Section {
    /// The heading as plain text (markup removed, escapes and entities resolved).
    pub heading: String,
    pub level: u8,
    /// The line the heading starts on.
    pub line: usize,
    pub parent: Option<usize>,
    /// Ancestor headings and this one.
    pub heading_path: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    Paragraph,
    ListItem,
    Code,
    Table,
    Quote,
    Html,
}

/// A unit of body text: a paragraph, one list item (without its nested items), a fenced or indented
/// code block, a table, a block quote.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Block {
    pub kind: BlockKind,
    /// Index of the section the block belongs to; `None` before the first heading.
    pub section: Option<usize>,
    /// Nesting depth for list items (0 = top level), 0 otherwise.
    pub depth: u8,
    /// For a nested list item, the index (in `blocks`) of the item that contains it.
    pub parent_item: Option<usize>,
    pub text: String,
    pub line_start: usize,
    pub line_end: usize,
    /// `(byte offset in text, source line)` pairs, increasing: the text from that offset on comes
    /// from that line (until the next pair).
    pub line_map: Vec<(usize, usize)>,
    /// The code block's info string (language), if any.
    pub lang: Option<String>,
}

impl Block {
    /// The source line the byte offset `pos` of `text` comes from.
    pub fn line_at(&self, pos: usize) -> usize {
        let i = self.line_map.partition_point(|&(off, _)| off <= pos);
        if i == 0 { self.line_start } else { self.line_map[i - 1].1 }
    }
}

/// A Markdown link or a `[[wikilink]]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkRef {
    pub target: String,
    pub text: String,
    pub line: usize,
    pub wikilink: bool,
    pub section: Option<usize>,
}

/// A piece of text with the line it is on and its section.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Spanned {
    pub text: String,
    pub line: usize,
    pub section: Option<usize>,
}

fn parser_options() -> Options {
    Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
        | Options::ENABLE_MATH
        | Options::ENABLE_TABLES
        | Options::ENABLE_WIKILINKS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
}

/// Maps byte offsets of the source to 1-based line numbers.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }
    fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }
}

/// A block being assembled while events stream past.
struct OpenBlock {
    kind: BlockKind,
    depth: u8,
    parent_item: Option<usize>,
    text: String,
    line_start: usize,
    line_end: usize,
    line_map: Vec<(usize, usize)>,
    lang: Option<String>,
    /// Index reserved in the output for list items (so nested items can point at their parent).
    slot: usize,
}

impl OpenBlock {
    fn push(&mut self, s: &str, line: usize) {
        if self.line_map.last().is_none_or(|&(_, l)| l != line) {
            self.line_map.push((self.text.len(), line));
        }
        self.text.push_str(s);
        self.line_end = self.line_end.max(line);
    }
    fn push_break(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push('\n');
        }
    }
}

/// Parses one note. Never fails: Markdown has no syntax errors; a broken front matter block is
/// reported in `FrontMatter::error` and otherwise ignored.
pub fn parse(source: &str) -> ParsedNote {
    let lines = LineIndex::new(source);
    let mut note = ParsedNote::default();
    // Output slots: list items reserve their slot when they open, so a nested item can name its parent.
    let mut slots: Vec<Option<Block>> = Vec::new();
    let mut open: Vec<OpenBlock> = Vec::new();
    let mut heading: Option<(u8, usize, String)> = None;
    let mut current_section: Option<usize> = None;
    let mut in_front_matter = false;
    let mut link_stack: Vec<(String, bool, usize, String)> = Vec::new();
    let mut strong_stack: Vec<(String, usize)> = Vec::new();
    let mut image_depth = 0usize;

    let emit = |b: OpenBlock, section: Option<usize>, slots: &mut Vec<Option<Block>>| {
        let text = b.text.trim_end().to_string();
        if text.trim().is_empty() {
            return;
        }
        slots[b.slot] = Some(Block {
            kind: b.kind,
            section,
            depth: b.depth,
            parent_item: b.parent_item,
            text,
            line_start: b.line_start,
            line_end: b.line_end.max(b.line_start),
            line_map: b.line_map,
            lang: b.lang,
        });
    };

    for (event, range) in Parser::new_ext(source, parser_options()).into_offset_iter() {
        let line = lines.line(range.start);
        // Text of the current inline context: heading, or the innermost open block.
        let mut push_text = |s: &str, open: &mut Vec<OpenBlock>, heading: &mut Option<(u8, usize, String)>| {
            if image_depth > 0 {
                return;
            }
            for (_, _, _, t) in link_stack.iter_mut() {
                t.push_str(s);
            }
            for (t, _) in strong_stack.iter_mut() {
                t.push_str(s);
            }
            if let Some((_, _, h)) = heading.as_mut() {
                h.push_str(s);
            } else if let Some(b) = open.last_mut() {
                b.push(s, line);
            }
        };
        match event {
            Event::Start(Tag::MetadataBlock(_)) => in_front_matter = true,
            Event::End(TagEnd::MetadataBlock(_)) => in_front_matter = false,
            Event::Text(t) if in_front_matter => note.front_matter = parse_front_matter(&t),
            Event::Start(Tag::Heading { level, .. }) => {
                heading = Some((heading_level(level), line, String::new()));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, hline, text)) = heading.take() {
                    let text = collapse_ws(&text);
                    let mut parent = current_section;
                    while let Some(p) = parent {
                        if note.sections[p].level < level {
                            break;
                        }
                        parent = note.sections[p].parent;
                    }
                    let mut heading_path = parent.map(|p| note.sections[p].heading_path.clone()).unwrap_or_default();
                    heading_path.push(text.clone());
                    note.sections.push(Section { heading: text, level, line: hline, parent, heading_path });
                    current_section = Some(note.sections.len() - 1);
                }
            }
            Event::Start(
                tag @ (Tag::Paragraph
                | Tag::CodeBlock(_)
                | Tag::Table(_)
                | Tag::BlockQuote(_)
                | Tag::HtmlBlock
                | Tag::Item),
            ) => {
                let is_item = matches!(tag, Tag::Item);
                if is_item || open.is_empty() {
                    let kind = match &tag {
                        Tag::Paragraph => BlockKind::Paragraph,
                        Tag::CodeBlock(_) => BlockKind::Code,
                        Tag::Table(_) => BlockKind::Table,
                        Tag::BlockQuote(_) => BlockKind::Quote,
                        Tag::HtmlBlock => BlockKind::Html,
                        _ => BlockKind::ListItem,
                    };
                    let parent_item = open.iter().rev().find(|b| b.kind == BlockKind::ListItem).map(|b| b.slot);
                    let depth = open.iter().filter(|b| b.kind == BlockKind::ListItem).count() as u8;
                    let lang = match &tag {
                        Tag::CodeBlock(CodeBlockKind::Fenced(info)) => {
                            info.split_whitespace().next().map(str::to_string)
                        }
                        _ => None,
                    };
                    slots.push(None);
                    open.push(OpenBlock {
                        kind,
                        depth: if is_item { depth } else { 0 },
                        parent_item: if is_item { parent_item } else { None },
                        text: String::new(),
                        line_start: line,
                        line_end: line,
                        line_map: Vec::new(),
                        lang,
                        slot: slots.len() - 1,
                    });
                } else if let Some(b) = open.last_mut() {
                    b.push_break();
                }
            }
            Event::End(
                end @ (TagEnd::Paragraph
                | TagEnd::CodeBlock
                | TagEnd::Table
                | TagEnd::BlockQuote(_)
                | TagEnd::HtmlBlock
                | TagEnd::Item),
            ) => {
                let closes = match open.last() {
                    Some(b) => match end {
                        TagEnd::Item => b.kind == BlockKind::ListItem,
                        TagEnd::Paragraph => b.kind == BlockKind::Paragraph,
                        TagEnd::CodeBlock => b.kind == BlockKind::Code,
                        TagEnd::Table => b.kind == BlockKind::Table,
                        TagEnd::BlockQuote(_) => b.kind == BlockKind::Quote,
                        _ => b.kind == BlockKind::Html,
                    },
                    None => false,
                };
                if closes {
                    if let Some(mut b) = open.pop() {
                        // The block ends on the line of its last byte (the range end is exclusive).
                        let last = lines.line(range.end.saturating_sub(1).max(range.start));
                        if b.kind != BlockKind::ListItem {
                            b.line_end = b.line_end.max(last);
                        }
                        emit(b, current_section, &mut slots);
                    }
                } else if let Some(b) = open.last_mut() {
                    b.push_break();
                }
            }
            Event::End(TagEnd::TableHead | TagEnd::TableRow) => {
                if let Some(b) = open.last_mut() {
                    b.push_break();
                }
            }
            Event::End(TagEnd::TableCell) => {
                if let Some(b) = open.last_mut() {
                    b.push(" | ", line);
                }
            }
            Event::Start(Tag::Link { link_type, dest_url, .. }) => {
                link_stack.push((
                    dest_url.to_string(),
                    matches!(link_type, LinkType::WikiLink { .. }),
                    line,
                    String::new(),
                ));
            }
            Event::End(TagEnd::Link) => {
                if let Some((target, wikilink, lline, text)) = link_stack.pop() {
                    note.links.push(LinkRef {
                        target,
                        text: collapse_ws(&text),
                        line: lline,
                        wikilink,
                        section: current_section,
                    });
                }
            }
            Event::Start(Tag::Image { .. }) => image_depth += 1,
            Event::End(TagEnd::Image) => image_depth = image_depth.saturating_sub(1),
            Event::Start(Tag::Strong) => strong_stack.push((String::new(), line)),
            Event::End(TagEnd::Strong) => {
                if let Some((text, sline)) = strong_stack.pop() {
                    let text = collapse_ws(&text);
                    if !text.is_empty() {
                        note.strong_terms.push(Spanned { text, line: sline, section: current_section });
                    }
                }
            }
            Event::Text(t) | Event::Code(t) => {
                // Text of a code block arrives with its own newlines; keep them and their lines.
                if open.last().is_some_and(|b| b.kind == BlockKind::Code) && heading.is_none() {
                    let mut offset = range.start;
                    for piece in t.split_inclusive('\n') {
                        let l = lines.line(offset);
                        if let Some(b) = open.last_mut() {
                            b.push(piece, l);
                        }
                        offset += piece.len();
                    }
                } else {
                    push_text(&t, &mut open, &mut heading);
                }
            }
            Event::InlineMath(t) => push_text(&t, &mut open, &mut heading),
            Event::DisplayMath(t) => {
                push_text("\n", &mut open, &mut heading);
                push_text(t.trim(), &mut open, &mut heading);
                push_text("\n", &mut open, &mut heading);
            }
            Event::Html(t) | Event::InlineHtml(t) => {
                // Keep the words of HTML blocks (tables written in HTML), drop the tags.
                let stripped = strip_tags(&t);
                if !stripped.trim().is_empty() {
                    push_text(&stripped, &mut open, &mut heading);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if heading.is_some() {
                    push_text(" ", &mut open, &mut heading);
                } else {
                    push_text("\n", &mut open, &mut heading);
                }
            }
            _ => {}
        }
    }
    // Unbalanced input cannot happen with pulldown-cmark, but never lose text if it did.
    while let Some(b) = open.pop() {
        emit(b, current_section, &mut slots);
    }
    note.blocks = renumber(slots);
    note
}

/// Drops empty slots and rewrites `parent_item` to the final block indices.
fn renumber(slots: Vec<Option<Block>>) -> Vec<Block> {
    let mut new_index = vec![None; slots.len()];
    let mut n = 0;
    for (i, s) in slots.iter().enumerate() {
        if s.is_some() {
            new_index[i] = Some(n);
            n += 1;
        }
    }
    slots
        .into_iter()
        .flatten()
        .map(|mut b| {
            b.parent_item = b.parent_item.and_then(|p| new_index[p]);
            b
        })
        .collect()
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// Collapses runs of white space (including no-break spaces) to one space and trims.
pub fn collapse_ws(s: &str) -> String {
    s.split(|c: char| c.is_whitespace()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn parse_front_matter(yaml: &str) -> FrontMatter {
    use yaml_rust2::{Yaml, YamlLoader};
    let mut fm = FrontMatter::default();
    let docs = match YamlLoader::load_from_str(yaml) {
        Ok(d) => d,
        Err(e) => {
            fm.error = Some(e.to_string());
            return fm;
        }
    };
    let Some(Yaml::Hash(map)) = docs.into_iter().next() else {
        return fm;
    };
    fn scalar(y: &Yaml) -> Option<String> {
        match y {
            Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
            Yaml::Integer(i) => Some(i.to_string()),
            Yaml::Boolean(b) => Some(b.to_string()),
            Yaml::Array(items) => Some(items.iter().filter_map(scalar).collect::<Vec<_>>().join(", ")),
            _ => None,
        }
    }
    for (k, v) in map {
        let Some(key) = scalar(&k) else { continue };
        match key.as_str() {
            "title" => fm.title = scalar(&v),
            "date" => fm.date = scalar(&v),
            "tags" | "tag" => {
                fm.tags = match &v {
                    Yaml::Array(items) => items.iter().filter_map(scalar).collect(),
                    other => scalar(other)
                        .map(|s| s.split([',', ' ']).filter(|t| !t.is_empty()).map(str::to_string).collect())
                        .unwrap_or_default(),
                }
            }
            _ => {
                if let Some(val) = scalar(&v) {
                    fm.other.insert(key, val);
                }
            }
        }
    }
    fm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_are_plain_text_with_escapes_and_entities_resolved() {
        let n = parse("# **1.概述**\n\n## 6.top\\_p\n\n### 5.Flash Attention&#x20;\n\n#### `code` and [link](x)\n");
        let h: Vec<&str> = n.sections.iter().map(|s| s.heading.as_str()).collect();
        assert_eq!(h, ["1.概述", "6.top_p", "5.Flash Attention", "code and link"]);
        assert_eq!(n.sections[2].heading_path, ["1.概述", "6.top_p", "5.Flash Attention"]);
        assert_eq!(n.sections[3].line, 7);
    }

    #[test]
    fn hash_in_code_fence_is_not_a_heading_and_setext_is() {
        let src = "Title\n=====\n\n```python\n# not a heading\nx = 1\n```\n\nSub\n---\ntext\n";
        let n = parse(src);
        let h: Vec<(&str, u8, usize)> = n.sections.iter().map(|s| (s.heading.as_str(), s.level, s.line)).collect();
        assert_eq!(h, [("Title", 1, 1), ("Sub", 2, 9)]);
        let code = n.blocks.iter().find(|b| b.kind == BlockKind::Code).unwrap();
        assert!(code.text.contains("# not a heading"));
        assert_eq!((code.line_start, code.line_end), (4, 7));
        assert_eq!(code.lang.as_deref(), Some("python"));
        assert_eq!(code.section, Some(0));
    }

    #[test]
    fn front_matter_is_read_and_line_numbers_count_it() {
        let src =
            "---\ntitle: 大模型复习\ntags: [Others, LLM]\ndate: 2025-08-27 11:40:00\nexcerpt: x\n---\n\n# H\n\npara\n";
        let n = parse(src);
        assert_eq!(n.front_matter.title.as_deref(), Some("大模型复习"));
        assert_eq!(n.front_matter.tags, ["Others", "LLM"]);
        assert_eq!(n.front_matter.date.as_deref(), Some("2025-08-27 11:40:00"));
        assert_eq!(n.front_matter.other.get("excerpt").map(String::as_str), Some("x"));
        assert_eq!(n.sections[0].line, 8);
        assert_eq!(n.blocks[0].line_start, 10);
        assert_eq!(n.blocks[0].text, "para");
    }

    #[test]
    fn lists_tables_links_and_math() {
        let src = "# A\n\n- BERT：encoder only\n  - nested [[RMSNorm]]\n- see [doc](http://x)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n$$\nx^2\n$$\n**粗体术语** and $y$\n";
        let n = parse(src);
        let items: Vec<(&str, u8, Option<usize>)> = n
            .blocks
            .iter()
            .filter(|b| b.kind == BlockKind::ListItem)
            .map(|b| (b.text.as_str(), b.depth, b.parent_item))
            .collect();
        assert_eq!(items[0], ("BERT：encoder only", 0, None));
        assert_eq!(items[1].0, "nested RMSNorm");
        assert_eq!(items[1].1, 1);
        assert_eq!(n.blocks[items[1].2.unwrap()].text, "BERT：encoder only");
        assert!(n.links.iter().any(|l| l.wikilink && l.target == "RMSNorm" && l.line == 4));
        assert!(n.links.iter().any(|l| !l.wikilink && l.target == "http://x" && l.text == "doc"));
        let table = n.blocks.iter().find(|b| b.kind == BlockKind::Table).unwrap();
        assert!(table.text.contains("1 | 2"));
        assert_eq!((table.line_start, table.line_end), (7, 9));
        assert!(n.blocks.iter().any(|b| b.text.contains("x^2")));
        assert_eq!(n.strong_terms[0].text, "粗体术语");
        assert_eq!(n.strong_terms[0].line, 14);
    }

    #[test]
    fn line_at_maps_text_offsets_back_to_source_lines() {
        let n = parse("# H\n\nfirst line\nsecond line\n");
        let b = &n.blocks[0];
        assert_eq!(b.line_at(0), 3);
        let pos = b.text.find("second").unwrap();
        assert_eq!(b.line_at(pos), 4);
    }
}
