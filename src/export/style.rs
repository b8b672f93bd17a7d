//! How a concept map looks, whatever the format: node shape and colours by concept kind, edge
//! colour, line style, arrowhead and label by relation type, layout direction, the font list, and
//! label wrapping and shortening.
//!
//! Owns only these tables and text helpers. It must not escape text for any format (each writer
//! has its own escaping) nor choose what to draw (that is [`super::view`]).

use std::str::FromStr;

use crate::chunk::is_cjk;
use crate::concepts::model::{Kind, Rel};

/// Fonts for every label, first match wins: CJK fonts first (Noto / Source Han, WenQuanYi on
/// Linux, YaHei on Windows, PingFang / Hiragino on macOS) so that Chinese never renders as boxes
/// and text width is measured with the font that draws it; then the generic family.
pub const FONT_LIST: &str =
    "Noto Sans CJK SC,Source Han Sans SC,WenQuanYi Micro Hei,Microsoft YaHei,PingFang SC,Hiragino Sans GB,sans-serif";

/// Layout direction (`--rankdir`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RankDir {
    /// Left to right: the default, as labels are wider than tall.
    #[default]
    LR,
    TB,
    RL,
    BT,
}

impl RankDir {
    pub fn as_str(self) -> &'static str {
        match self {
            RankDir::LR => "LR",
            RankDir::TB => "TB",
            RankDir::RL => "RL",
            RankDir::BT => "BT",
        }
    }
}

impl FromStr for RankDir {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "LR" => Ok(RankDir::LR),
            "TB" | "TD" => Ok(RankDir::TB),
            "RL" => Ok(RankDir::RL),
            "BT" => Ok(RankDir::BT),
            _ => Err(format!("unknown rankdir {s:?}; use LR, TB, RL or BT")),
        }
    }
}

/// The look of one concept kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindStyle {
    /// Graphviz shape.
    pub shape: &'static str,
    /// Rounded corners (for `box`).
    pub rounded: bool,
    pub fill: &'static str,
    pub border: &'static str,
}

/// The kind's name as in the graph's JSON (`model`, `unknown`, …).
pub fn kind_name(kind: Kind) -> String {
    serde_json::to_value(kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_else(|| "unknown".into())
}

pub fn kind_style(kind: Kind) -> KindStyle {
    let (shape, rounded, fill, border) = match kind {
        Kind::Model => ("box", true, "#dbeafe", "#1e40af"),
        Kind::Method => ("ellipse", false, "#dcfce7", "#166534"),
        Kind::Component => ("box", false, "#fef3c7", "#92400e"),
        Kind::Problem => ("octagon", false, "#fee2e2", "#991b1b"),
        Kind::Task => ("hexagon", false, "#ede9fe", "#5b21b6"),
        Kind::Dataset => ("cylinder", false, "#e0f2fe", "#075985"),
        Kind::Metric => ("parallelogram", false, "#fce7f3", "#9d174d"),
        Kind::Framework => ("component", false, "#e2e8f0", "#334155"),
        Kind::Organization => ("house", false, "#ffedd5", "#9a3412"),
        // `Unknown`, and any kind added later.
        _ => ("ellipse", false, "#ffffff", "#6b7280"),
    };
    KindStyle { shape, rounded, fill, border }
}

/// The look of one relation type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelStyle {
    /// Short label drawn on the edge.
    pub label: &'static str,
    pub color: &'static str,
    /// Graphviz line style: `solid`, `dashed`, `dotted` or `bold`.
    pub line: &'static str,
    /// Graphviz arrowhead (`none` for symmetric relations).
    pub arrowhead: &'static str,
    /// Drawn with an arrow (false for symmetric relations).
    pub directed: bool,
}

pub fn rel_style(rel: Rel) -> RelStyle {
    let (label, color, line, arrowhead) = match rel {
        Rel::IsA => ("is a", "#1565c0", "solid", "empty"),
        Rel::Uses => ("uses", "#2e7d32", "solid", "normal"),
        Rel::BasedOn => ("based on", "#00838f", "dashed", "empty"),
        Rel::PartOf => ("part of", "#6d4c41", "solid", "odiamond"),
        Rel::Replaces => ("replaces", "#c62828", "bold", "normal"),
        Rel::ContrastedWith => ("vs", "#ef6c00", "dashed", "none"),
        Rel::ProposedBy => ("proposed by", "#6a1b9a", "dotted", "vee"),
        Rel::UsedFor => ("used for", "#283593", "dashed", "vee"),
        Rel::ImprovesOn => ("improves on", "#827717", "bold", "onormal"),
        Rel::Outperforms => ("outperforms", "#ad1457", "bold", "normalnormal"),
        Rel::SimilarTo => ("similar to", "#546e7a", "dotted", "none"),
        Rel::Mitigates => ("mitigates", "#00695c", "solid", "tee"),
        Rel::Causes => ("causes", "#d84315", "dashed", "normal"),
        Rel::AppliedBefore => ("before", "#37474f", "solid", "normal"),
        Rel::Implements => ("implements", "#4527a0", "dashed", "empty"),
        Rel::InsertedInto => ("inserted into", "#558b2f", "solid", "odot"),
        Rel::HasProblem => ("has problem", "#b71c1c", "dotted", "normal"),
        Rel::UsedWith => ("used with", "#0277bd", "dotted", "none"),
        Rel::Updates => ("updates", "#ff8f00", "dashed", "normal"),
        // `RelatedTo`, and any relation added later.
        _ => (rel.as_str(), "#9e9e9e", "dotted", "none"),
    };
    let label = if rel == Rel::RelatedTo { "related" } else { label };
    RelStyle { label, color, line, arrowhead, directed: !rel.is_symmetric() }
}

/// Display width: CJK and full-width characters count 2, others 1.
pub fn display_width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

fn char_width(c: char) -> usize {
    if is_cjk(c) || matches!(c as u32, 0x3000..=0x303F | 0xFF00..=0xFF60 | 0x1F300..=0x1FAFF) { 2 } else { 1 }
}

/// Breaks a label into lines of at most `width` columns: between words for Latin text, between
/// characters for CJK; a word longer than a line is split. Returns the lines joined by `\n`.
pub fn wrap(text: &str, width: usize) -> String {
    let width = width.max(4);
    if display_width(text) <= width {
        return text.to_string();
    }
    // Tokens: runs of non-space non-CJK characters, single CJK characters, and spaces.
    let mut tokens: Vec<String> = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        if c == ' ' || is_cjk(c) || c == '\n' {
            if !cur.is_empty() {
                tokens.push(std::mem::take(&mut cur));
            }
            tokens.push(c.to_string());
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for t in tokens {
        if t == "\n" {
            lines.push(std::mem::take(&mut line));
            continue;
        }
        let w = display_width(&t);
        if display_width(&line) + w > width && !line.trim().is_empty() {
            lines.push(std::mem::take(&mut line).trim_end().to_string());
        }
        if t == " " && line.is_empty() {
            continue;
        }
        if w > width {
            // A long word: split it.
            for c in t.chars() {
                if display_width(&line) + char_width(c) > width && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                line.push(c);
            }
        } else {
            line.push_str(&t);
        }
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines.join("\n")
}

/// At most `max` characters, with `…` when shortened.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_typed_relation_looks_different() {
        let mut seen = std::collections::HashSet::new();
        for &r in Rel::TYPED.iter().chain([&Rel::RelatedTo]) {
            let s = rel_style(r);
            assert!(seen.insert(s.label), "{r}: label {}", s.label);
            assert_eq!(s.directed, !r.is_symmetric());
        }
        let looks: std::collections::HashSet<_> =
            Rel::TYPED.iter().map(|&r| (rel_style(r).color, rel_style(r).line, rel_style(r).arrowhead)).collect();
        assert_eq!(looks.len(), Rel::TYPED.len());
        let colours: std::collections::HashSet<_> = Rel::TYPED.iter().map(|&r| rel_style(r).color).collect();
        assert_eq!(colours.len(), Rel::TYPED.len());
    }

    #[test]
    fn wrapping_keeps_words_and_splits_cjk() {
        assert_eq!(wrap("scaled dot-product attention", 16), "scaled\ndot-product\nattention");
        assert_eq!(wrap("缩放点积注意力机制的计算", 10), "缩放点积注\n意力机制的\n计算");
        assert_eq!(wrap("short", 16), "short");
        assert_eq!(wrap("", 16), "");
        assert_eq!(wrap("abcdefghijklmnopqrstuvwxyz", 10), "abcdefghij\nklmnopqrst\nuvwxyz");
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(display_width("LLaMA 归一化"), 12);
    }
}
