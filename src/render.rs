//! Human-readable output: colours (only on a terminal, `NO_COLOR` honoured), highlighted snippets,
//! result lists, tables. JSON output is plain serde and lives with the commands.
//!
//! Owns presentation only: it gets finished values and returns strings. No I/O besides deciding
//! whether stdout is a colour terminal.

use std::io::IsTerminal;

use anstyle::{AnsiColor, Style};

use crate::lexical::Snippet;

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum ColorWhen {
    #[default]
    Auto,
    Always,
    Never,
}

/// Styling decisions for one output stream.
#[derive(Debug, Clone, Copy)]
pub struct Painter {
    pub color: bool,
}

impl Painter {
    /// Colour when asked to, or on a terminal when `NO_COLOR` is unset.
    pub fn for_stdout(when: ColorWhen) -> Self {
        let color = match when {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        Painter { color }
    }

    pub fn paint(&self, style: Style, text: &str) -> String {
        if self.color { format!("{}{text}{}", style.render(), style.render_reset()) } else { text.to_string() }
    }
    pub fn path(&self, t: &str) -> String {
        self.paint(Style::new().fg_color(Some(AnsiColor::Magenta.into())), t)
    }
    pub fn line(&self, t: &str) -> String {
        self.paint(Style::new().fg_color(Some(AnsiColor::Green.into())), t)
    }
    pub fn heading(&self, t: &str) -> String {
        self.paint(Style::new().bold(), t)
    }
    pub fn dim(&self, t: &str) -> String {
        self.paint(Style::new().dimmed(), t)
    }
    pub fn rank(&self, t: &str) -> String {
        self.paint(Style::new().fg_color(Some(AnsiColor::Cyan.into())).bold(), t)
    }

    /// The text with the given byte ranges highlighted: red bold on a colour terminal,
    /// `**…**` markers otherwise.
    pub fn highlight(&self, text: &str, ranges: &[std::ops::Range<usize>]) -> String {
        let style = Style::new().fg_color(Some(AnsiColor::Red.into())).bold();
        let mut ranges: Vec<std::ops::Range<usize>> =
            ranges.iter().filter(|r| r.start < r.end && r.end <= text.len()).cloned().collect();
        ranges.sort_by_key(|r| r.start);
        let mut out = String::with_capacity(text.len() + ranges.len() * 8);
        let mut at = 0;
        for r in ranges {
            if r.start < at || !text.is_char_boundary(r.start) || !text.is_char_boundary(r.end) {
                continue;
            }
            out.push_str(&text[at..r.start]);
            let word = &text[r.clone()];
            if self.color {
                out.push_str(&self.paint(style, word));
            } else {
                out.push_str("**");
                out.push_str(word);
                out.push_str("**");
            }
            at = r.end;
        }
        out.push_str(&text[at..]);
        out
    }

    /// A snippet on one line: line breaks become ` ⏎ `, highlights applied.
    pub fn snippet(&self, s: &Snippet) -> String {
        let flat = self.highlight(&s.text, &s.highlights);
        flat.split('\n').map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ⏎ ")
    }
}

/// Heading path as `A › B › C` (or the note title when there is none).
pub fn heading_path(path: &[String]) -> String {
    path.join(" › ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_markers_without_colour_and_ansi_with() {
        let plain = Painter { color: false };
        let one = std::iter::once(6..13).collect::<Vec<_>>();
        assert_eq!(plain.highlight("使用RMSNorm而非", &one), "使用**RMSNorm**而非");
        let colored = Painter { color: true };
        let first = vec![0..1, 5..5];
        let s = colored.highlight("a b", &first);
        assert!(s.contains("\x1b[") && s.ends_with(" b"), "{s:?}");
        assert_eq!(plain.highlight("abc", &[1..9, 0..1]), "**a**bc", "bad ranges are ignored");
    }
}
