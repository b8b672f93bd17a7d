//! Retrieval evaluation: questions with gold sections (JSON lines) → Hit@1, Hit@5, Recall@10,
//! MRR@10 and nDCG@10, overall and split by question kind and language.
//!
//! Owns the question format, heading normalisation and the scoring rule of the evaluation sets: a
//! retrieved chunk hits a gold section when it is in the same file and its heading path starts with
//! the gold heading path; each gold section counts once; binary gains. It does not run searches
//! itself: the caller supplies a ranking per question.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::error::{Error, Result};

pub const CUTOFF: usize = 10;

#[derive(Debug, Clone, Deserialize)]
pub struct Question {
    pub id: String,
    pub query: String,
    #[serde(default)]
    pub lang: String,
    #[serde(default)]
    pub kind: String,
    pub relevant: Vec<GoldSection>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GoldSection {
    pub path: String,
    #[serde(default)]
    pub heading_path: Vec<String>,
}

/// One retrieved chunk, as the scorer needs it.
#[derive(Debug, Clone, Serialize)]
pub struct Retrieved {
    pub path: String,
    pub heading_path: Vec<String>,
    pub line_start: usize,
    pub score: f32,
}

/// Reads a questions file (one JSON object a line; blank lines ignored).
pub fn read_questions(path: &Path) -> Result<Vec<Question>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let q: Question = serde_json::from_str(line).map_err(|e| Error::Input {
            path: path.to_path_buf(),
            msg: format!("line {}: not a question ({e}); see the format in the README", i + 1),
        })?;
        out.push(q);
    }
    if out.is_empty() {
        return Err(Error::Input { path: path.to_path_buf(), msg: "no questions in this file".into() });
    }
    Ok(out)
}

/// Normalises a heading for comparison: NFKC, `&#x20;` → space, `**` / `__` / backticks dropped,
/// backslash escapes undone, white space collapsed, trimmed, lower case.
pub fn normalize_heading(s: &str) -> String {
    let s: String = s.replace("&#x20;", " ").replace("&nbsp;", " ").nfkc().collect();
    let s = s.replace("**", "").replace("__", "").replace('`', "");
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek().is_some_and(|n| n.is_ascii_punctuation()) {
            continue;
        }
        out.push(c);
    }
    crate::markdown::collapse_ws(&out).to_lowercase()
}

/// The metrics of one question.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Scores {
    pub hit1: f64,
    pub hit5: f64,
    pub recall10: f64,
    pub mrr10: f64,
    pub ndcg10: f64,
}

impl Scores {
    fn add(&mut self, o: &Scores) {
        self.hit1 += o.hit1;
        self.hit5 += o.hit5;
        self.recall10 += o.recall10;
        self.mrr10 += o.mrr10;
        self.ndcg10 += o.ndcg10;
    }
    fn div(&self, n: f64) -> Scores {
        Scores {
            hit1: self.hit1 / n,
            hit5: self.hit5 / n,
            recall10: self.recall10 / n,
            mrr10: self.mrr10 / n,
            ndcg10: self.ndcg10 / n,
        }
    }
}

fn starts_with(path: &[String], prefix: &[String]) -> bool {
    path.len() >= prefix.len() && path.iter().zip(prefix).all(|(a, b)| a == b)
}

/// Scores one ranking against the gold sections of a question.
pub fn score(gold: &[GoldSection], ranking: &[Retrieved]) -> Scores {
    let gold: Vec<(&str, Vec<String>)> =
        gold.iter().map(|g| (g.path.as_str(), g.heading_path.iter().map(|h| normalize_heading(h)).collect())).collect();
    let mut found: HashSet<usize> = HashSet::new();
    let mut s = Scores::default();
    let mut first_hit = None;
    let mut dcg = 0.0;
    for (i, r) in ranking.iter().take(CUTOFF).enumerate() {
        let hp: Vec<String> = r.heading_path.iter().map(|h| normalize_heading(h)).collect();
        let matched: Vec<usize> =
            gold.iter().enumerate().filter(|(_, (p, g))| *p == r.path && starts_with(&hp, g)).map(|(j, _)| j).collect();
        let new: Vec<usize> = matched.iter().copied().filter(|j| !found.contains(j)).collect();
        if !new.is_empty() {
            dcg += 1.0 / ((i + 2) as f64).log2();
            found.extend(new);
        }
        if !matched.is_empty() && first_hit.is_none() {
            first_hit = Some(i);
        }
    }
    if let Some(i) = first_hit {
        s.hit1 = (i == 0) as u8 as f64;
        s.hit5 = (i < 5) as u8 as f64;
        s.mrr10 = 1.0 / (i + 1) as f64;
    }
    if !gold.is_empty() {
        s.recall10 = found.len() as f64 / gold.len() as f64;
        let ideal: f64 = (0..gold.len().min(CUTOFF)).map(|i| 1.0 / ((i + 2) as f64).log2()).sum();
        s.ndcg10 = dcg / ideal;
    }
    s
}

/// Aggregated metrics for a group of questions.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub name: String,
    pub n: usize,
    #[serde(flatten)]
    pub scores: Scores,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub mode: String,
    pub questions: usize,
    pub overall: Group,
    pub by_kind: Vec<Group>,
    pub by_lang: Vec<Group>,
}

/// Averages per-question scores overall, by kind and by language.
pub fn aggregate(mode: &str, questions: &[Question], scores: &[Scores]) -> Report {
    let mut total = Scores::default();
    let mut kinds: BTreeMap<&str, (usize, Scores)> = BTreeMap::new();
    let mut langs: BTreeMap<&str, (usize, Scores)> = BTreeMap::new();
    for (q, s) in questions.iter().zip(scores) {
        total.add(s);
        for (map, key) in [(&mut kinds, q.kind.as_str()), (&mut langs, q.lang.as_str())] {
            let e = map.entry(if key.is_empty() { "-" } else { key }).or_default();
            e.0 += 1;
            e.1.add(s);
        }
    }
    let groups = |m: BTreeMap<&str, (usize, Scores)>| {
        m.into_iter().map(|(k, (n, s))| Group { name: k.to_string(), n, scores: s.div(n as f64) }).collect()
    };
    let n = questions.len().max(1);
    Report {
        mode: mode.to_string(),
        questions: questions.len(),
        overall: Group { name: "overall".into(), n: questions.len(), scores: total.div(n as f64) },
        by_kind: groups(kinds),
        by_lang: groups(langs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gold(path: &str, hp: &[&str]) -> GoldSection {
        GoldSection { path: path.into(), heading_path: hp.iter().map(|s| s.to_string()).collect() }
    }
    fn got(path: &str, hp: &[&str]) -> Retrieved {
        Retrieved {
            path: path.into(),
            heading_path: hp.iter().map(|s| s.to_string()).collect(),
            line_start: 1,
            score: 0.0,
        }
    }

    #[test]
    fn normalises_markdown_in_gold_headings() {
        assert_eq!(normalize_heading("**1.概述**"), "1.概述");
        assert_eq!(normalize_heading("6.top\\_p"), "6.top_p");
        assert_eq!(normalize_heading("5.Flash Attention&#x20;"), "5.flash attention");
        assert_eq!(normalize_heading("（1）采⽤"), "(1)采用");
        assert_eq!(normalize_heading("  `RMSNorm`   Intro "), "rmsnorm intro");
    }

    #[test]
    fn perfect_ranking_scores_one() {
        let g = [gold("a.md", &["A", "B"])];
        let s = score(&g, &[got("a.md", &["A", "B", "C"])]);
        assert_eq!((s.hit1, s.hit5, s.recall10, s.mrr10, s.ndcg10), (1.0, 1.0, 1.0, 1.0, 1.0));
    }

    #[test]
    fn hit_at_rank_three_and_gold_counted_once() {
        let g = [gold("a.md", &["A"]), gold("b.md", &["X"])];
        let r = [got("c.md", &["A"]), got("a.md", &["B"]), got("a.md", &["A", "sub"]), got("a.md", &["A"])];
        let s = score(&g, &r);
        assert_eq!(s.hit1, 0.0);
        assert_eq!(s.hit5, 1.0);
        assert!((s.mrr10 - 1.0 / 3.0).abs() < 1e-9);
        assert!((s.recall10 - 0.5).abs() < 1e-9);
        // One gain at rank 3 (the second hit on the same gold counts nothing); ideal has two gains.
        let ideal = 1.0 + 1.0 / 3f64.log2();
        assert!((s.ndcg10 - (1.0 / 4f64.log2()) / ideal).abs() < 1e-9, "{}", s.ndcg10);
    }

    #[test]
    fn heading_prefix_must_match_whole_components_and_only_top_ten_count() {
        let g = [gold("a.md", &["LLM"])];
        assert_eq!(score(&g, &[got("a.md", &["LLM 概念"])]).hit5, 0.0);
        let mut r: Vec<Retrieved> = (0..10).map(|_| got("z.md", &["Z"])).collect();
        r.push(got("a.md", &["LLM"]));
        assert_eq!(score(&g, &r).recall10, 0.0);
    }

    #[test]
    fn aggregates_by_kind_and_lang() {
        let q = |kind: &str, lang: &str| Question {
            id: "x".into(),
            query: "q".into(),
            lang: lang.into(),
            kind: kind.into(),
            relevant: vec![],
        };
        let qs = [q("factoid", "zh"), q("factoid", "en"), q("keyword", "zh")];
        let ones = Scores { hit1: 1.0, hit5: 1.0, recall10: 1.0, mrr10: 1.0, ndcg10: 1.0 };
        let r = aggregate("bm25", &qs, &[ones, Scores::default(), ones]);
        assert!((r.overall.scores.hit1 - 2.0 / 3.0).abs() < 1e-9);
        let factoid = r.by_kind.iter().find(|g| g.name == "factoid").unwrap();
        assert_eq!((factoid.n, factoid.scores.hit1), (2, 0.5));
        let zh = r.by_lang.iter().find(|g| g.name == "zh").unwrap();
        assert_eq!(zh.scores.ndcg10, 1.0);
    }
}
