//! The general word lists of the concept graph: English function words, Chinese function words and
//! light verbs, generic heading words, category words that tell a concept's kind.
//!
//! Everything here is general Chinese/English, true of any technical notes: it must never hold a
//! concept or a relation of a particular corpus (no model names, no method names). Relation cue
//! words live with the patterns that use them (`patterns`).

use std::sync::OnceLock;

use super::model::Kind;
use super::text::{FxMap, FxSet};

fn set(words: &'static [&'static str]) -> FxSet<&'static str> {
    words.iter().copied().collect()
}

/// Set and map lookups for the lists below (they are consulted for every candidate and mention).
struct Sets {
    en_stop: FxSet<&'static str>,
    generic: FxSet<&'static str>,
    function_chars: FxSet<char>,
    /// Chinese stop words and heading meta words: one lookup answers both (n-gram bounds ask both
    /// of every word of every note).
    zh_word_flags: FxMap<&'static str, ZhWordFlags>,
    categories: FxMap<&'static str, Kind>,
    /// The Chinese category words by first character, longest first: a text's category prefix is
    /// found without looking up each of its prefixes.
    chinese_categories_by_first: FxMap<char, Vec<(&'static str, Kind)>>,
    /// Bytes in the longest category word.
    longest_category: usize,
}

fn sets() -> &'static Sets {
    static S: OnceLock<Sets> = OnceLock::new();
    S.get_or_init(|| {
        let categories: FxMap<&'static str, Kind> = CATEGORY_WORDS.iter().copied().collect();
        let mut chinese_categories_by_first: FxMap<char, Vec<(&'static str, Kind)>> = FxMap::default();
        for (&w, &k) in categories.iter().filter(|(w, _)| !w.is_ascii()) {
            if let Some(c) = w.chars().next() {
                chinese_categories_by_first.entry(c).or_default().push((w, k));
            }
        }
        for words in chinese_categories_by_first.values_mut() {
            words.sort_by_key(|(w, _)| std::cmp::Reverse(w.len()));
        }
        Sets {
            en_stop: set(EN_STOP),
            generic: set(ZH_HEADING_GENERIC),
            function_chars: ZH_FUNCTION_CHARS.iter().copied().collect(),
            zh_word_flags: {
                let mut m: FxMap<&'static str, ZhWordFlags> = FxMap::default();
                for &w in ZH_STOP_WORDS {
                    m.entry(w).or_default().stop = true;
                }
                for &w in ZH_HEADING_META {
                    m.entry(w).or_default().heading_meta = true;
                }
                m
            },
            longest_category: categories.keys().map(|w| w.len()).max().unwrap_or(0),
            categories,
            chinese_categories_by_first,
        }
    })
}

/// What the general lists say of one Chinese word.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct ZhWordFlags {
    /// In the stop list ([`is_zh_stop_word`]).
    pub stop: bool,
    /// A heading meta word ([`is_heading_meta`]).
    pub heading_meta: bool,
}

/// [`is_zh_stop_word`] and [`is_heading_meta`] of `w` in one lookup.
pub fn zh_word_flags(w: &str) -> ZhWordFlags {
    sets().zh_word_flags.get(w).copied().unwrap_or_default()
}

pub fn is_heading_meta(w: &str) -> bool {
    zh_word_flags(w).heading_meta
}

pub fn is_heading_generic_word(w: &str) -> bool {
    sets().generic.contains(w)
}

/// English function words and very common verbs: never a concept on their own, trimmed from the
/// edges of a Latin phrase.
#[rustfmt::skip]
pub const EN_STOP: &[&str] = &[
    "a", "an", "the", "of", "and", "or", "to", "in", "on", "for", "with", "by", "from", "as", "at", "is", "are",
    "was", "were", "be", "been", "being", "it", "its", "this", "that", "these", "those", "we", "you", "they", "he",
    "she", "i", "our", "your", "their", "can", "could", "may", "might", "will", "would", "should", "must", "do",
    "does", "did", "has", "have", "had", "not", "no", "yes", "if", "then", "than", "so", "but", "also", "very",
    "more", "most", "less", "all", "any", "some", "each", "every", "one", "two", "which", "what", "who", "how", "why",
    "when", "where", "there", "here", "into", "over", "under", "about", "via", "per", "vs", "etc", "eg", "ie", "e.g",
    "i.e", "such", "use", "used", "using", "uses", "based", "see", "get", "make", "let", "like", "just", "both", "up",
    "down", "out", "off", "after", "before", "while", "because", "since", "until", "between", "through", "during",
    "without", "within", "following", "above", "below", "note", "example", "true", "false", "none", "null", "http",
    "https", "www", "com", "html", "pdf", "png", "jpg", "image", "img", "src", "href", "id", "ok",
];

/// Words whose presence inside a short Latin run means it is a clause, not a name.
#[rustfmt::skip]
pub const EN_VERBS: &[&str] = &[
    "is", "are", "was", "were", "be", "can", "will", "would", "should", "does", "did", "has", "have", "had", "to",
    "we", "you", "it", "they", "this", "that",
];

pub fn is_en_stop(w: &str) -> bool {
    // An acronym (`IN`, `OR` written in capitals) is a name, not a function word.
    if w.len() >= 2 && w.chars().all(|c| c.is_ascii_uppercase()) {
        return false;
    }
    if w.bytes().any(|b| b.is_ascii_uppercase()) {
        sets().en_stop.contains(w.to_ascii_lowercase().as_str())
    } else {
        sets().en_stop.contains(w)
    }
}

/// Chinese function characters that never start or end a term.
#[rustfmt::skip]
pub const ZH_FUNCTION_CHARS: &[char] = &[
    '的', '是', '了', '和', '与', '及', '或', '在', '为', '吗', '呢', '吧', '啊', '么', '把', '被', '对', '从', '到', '中', '有', '将', '就',
    '都', '也', '而', '并', '其', '之', '这', '那', '个', '些', '如', '何', '怎', '哪', '谁', '什', '又', '再', '还', '很', '更', '最', '着',
    '过', '给', '让', '使', '由', '以', '于', '即', '等', '则', '若', '但', '所', '我', '你', '他', '它', '们', '每', '各', '该', '此', '啥',
    '嘛', '呀', '地', '得', '用', '会', '能', '可', '要', '做',
];

/// Postpositions: fine at the start of a term (前馈, 上下文, 下游), never at its end (模型中, 训练时).
pub const ZH_END_CHARS: &[char] = &['中', '上', '下', '里', '内', '外', '后', '前', '时', '来', '去', '间'];

/// Chinese words (general language) that are never a term by themselves nor the edge of one:
/// pronouns, light verbs, adverbs, quantities.
#[rustfmt::skip]
pub const ZH_STOP_WORDS: &[&str] = &[
    "使用", "采用", "进行", "可以", "通过", "我们", "一个", "一种", "一些", "这个", "那个", "这些", "那些", "这种", "以及", "因为", "所以", "但是", "然后",
    "如果", "虽然", "并且", "而且", "或者", "还是", "就是", "不是", "没有", "需要", "能够", "已经", "可能", "比较", "非常", "一般", "主要", "通常", "其中",
    "之后", "之前", "以上", "以下", "如下", "如何", "什么", "为什么", "怎么", "怎样", "哪些", "多少", "同时", "此外", "另外", "例如", "比如", "包括", "利用",
    "根据", "对于", "关于", "由于", "基于", "因此", "相比", "相对", "不同", "相同", "一样", "其他", "其它", "具有", "具体", "得到", "实现", "提出", "提高",
    "提升", "增加", "减少", "直接", "间接", "每个", "所有", "部分", "整个", "任何", "这样", "那样", "这里", "那里", "目前", "现在", "以后", "之间", "当中",
    "作者", "论文", "本文", "文章", "下图", "上图", "如图", "图中", "表示", "表明", "认为", "发现", "看到", "可见", "问题", "方法", "方式", "作用", "情况",
    "过程", "结果", "效果", "时候", "地方", "东西", "内容", "原因", "目的", "特点", "优点", "缺点", "区别", "一下", "一起", "分别", "几个", "两个", "三个",
    "第一", "第二", "第三", "第一步", "第二步", "第三步", "相应", "对应", "对其", "较大", "较小", "更多", "更好", "很多", "大量", "少量", "不断", "逐渐",
    "开始", "最后", "最终", "首先", "其次", "接着", "然而", "只是", "只有", "还有", "也是", "都是", "称为", "叫做", "所谓", "简单", "一定", "一次", "每次",
    "一步", "进一步", "以便", "为了", "从而", "使得", "导致", "造成", "影响", "来说", "而言", "很好", "更好", "较好", "不好", "很大", "较大", "更大",
    "很多", "较多", "很高", "较高", "更高", "很低", "较低", "明显", "显著", "相关", "有关", "有效", "简单", "重要",
    "相较", "相较于", "相比于", "相对于", "趋近", "趋近于", "接近", "接近于", "类似", "类似于", "发生", "出现", "新增",
    "公式", "计算公式",
];

/// Heading words that name a part of a note, not a concept (`介绍`, `原理`, `代码实现`): trimmed from the
/// end of a heading or bold term (`pRMSNorm介绍` → `pRMSNorm`, `LLM 概念` → `LLM`).
#[rustfmt::skip]
pub const ZH_HEADING_META: &[&str] = &[
    "简介", "介绍", "概述", "概念", "基本概念", "基础知识", "原理", "总结", "小结", "背景", "动机", "思路", "详解", "解析", "分析", "说明", "定义", "代码实现",
    "代码", "笔记", "优缺点", "细节", "示例", "例子", "介绍一下", "是什么", "汇总", "整理", "概览", "篇", "章", "节", "理论篇", "实践篇", "入门", "题目", "面试题", "习题",
];

/// Heading words that, standing alone or only with meta words, are no concept (`基本概念`,
/// `方法对比`, `参考资料`); unlike the meta words they are not trimmed from a longer heading (`分布式训练`
/// keeps `训练`).
#[rustfmt::skip]
pub const ZH_HEADING_GENERIC: &[&str] = &[
    "基础", "实现", "参考", "参考资料", "参考文献", "资料", "其他", "其它", "相关", "常见问题", "问题", "面试题", "题目", "答案", "优点", "缺点", "区别", "对比",
    "比较", "特点", "方法", "应用", "实验", "结论", "效果", "评估", "讨论", "附录", "目录", "前言", "引言", "合集", "技术", "理论", "流程", "步骤", "案例",
    "模型结构", "结构", "架构", "公式", "推导", "算法", "训练", "基本", "常见", "主要", "总体", "整体", "核心", "关键", "一些", "几种", "不同", "各种",
    "改进", "变体", "优化", "模型", "数据", "源码", "格式", "使用", "方式", "过程", "部分", "内容",
];

/// Words that mark a heading as a family of things (`llama系列模型`): the sections under such a
/// note title are members of it (is_a).
pub const FAMILY_WORDS: &[&str] = &["系列", "家族", "一族", "series", "family", "families"];

/// General verbs that never open a noun phrase taken as a relation argument.
#[rustfmt::skip]
pub const ZH_VERB_STARTS: &[&str] = &[
    "提高", "降低", "进行", "解决", "减少", "增加", "保持", "实现", "提升", "加速", "处理", "完成", "得到", "获得",
    "生成", "计算", "训练", "学习", "构建", "构造", "建模", "判断", "预测", "选择", "调整", "控制", "避免", "防止",
    "产生", "使得", "导致", "达到", "改变", "影响", "满足", "支持", "需要", "利用", "采用", "使用",
];

/// English heading words of the same kind.
#[rustfmt::skip]
pub const EN_HEADING_GENERIC: &[&str] = &[
    "introduction", "overview", "summary", "background", "motivation", "references", "reference", "appendix",
    "conclusion", "conclusions", "details", "notes", "faq", "contents", "related work", "method", "methods",
    "experiments", "results", "discussion", "abstract", "code", "implementation",
];

/// Category words that, following or ending a term, tell its kind; the same words are trimmed from
/// the end of a heading or bold term when what is left is a term (`AdapterDrop方法` → `AdapterDrop`).
pub const CATEGORY_WORDS: &[(&str, Kind)] = &[
    ("大模型", Kind::Model),
    ("模型", Kind::Model),
    ("model", Kind::Model),
    ("models", Kind::Model),
    ("方法", Kind::Method),
    ("算法", Kind::Method),
    ("技术", Kind::Method),
    ("机制", Kind::Method),
    ("策略", Kind::Method),
    ("method", Kind::Method),
    ("tuning", Kind::Method),
    ("微调", Kind::Method),
    ("函数", Kind::Component),
    ("激活函数", Kind::Component),
    ("归一化函数", Kind::Component),
    ("层", Kind::Component),
    ("模块", Kind::Component),
    ("结构", Kind::Component),
    ("网络", Kind::Component),
    ("组件", Kind::Component),
    ("算子", Kind::Component),
    ("layer", Kind::Component),
    ("function", Kind::Component),
    ("module", Kind::Component),
    ("问题", Kind::Problem),
    ("现象", Kind::Problem),
    ("problem", Kind::Problem),
    ("任务", Kind::Task),
    ("task", Kind::Task),
    ("数据集", Kind::Dataset),
    ("dataset", Kind::Dataset),
    ("指标", Kind::Metric),
    ("metric", Kind::Metric),
    ("框架", Kind::Framework),
    ("库", Kind::Framework),
    ("工具", Kind::Framework),
    ("framework", Kind::Framework),
    ("library", Kind::Framework),
    ("公司", Kind::Organization),
    ("团队", Kind::Organization),
    ("实验室", Kind::Organization),
];

/// The kind a category word tells, if it is one.
pub fn category_kind(word: &str) -> Option<Kind> {
    let categories = &sets().categories;
    match word.bytes().any(|b| b.is_ascii_uppercase()) {
        true => categories.get(word.to_ascii_lowercase().as_str()).copied(),
        false => categories.get(word).copied(),
    }
}

/// The longest category word `s` ends with (Chinese), and the kind; `s` is more than the word.
pub fn category_suffix(s: &str) -> Option<(&'static str, Kind)> {
    // The suffixes no longer than the longest category word, longest first.
    let Sets { categories, longest_category, .. } = sets();
    (s.len().saturating_sub(*longest_category).max(1)..s.len())
        .filter(|&i| s.is_char_boundary(i))
        .find_map(|i| categories.get_key_value(&s[i..]).filter(|(w, _)| !w.is_ascii()))
        .map(|(w, k)| (*w, *k))
}

/// The longest Chinese category word `s` starts with, and the kind.
pub fn category_prefix(s: &str) -> Option<Kind> {
    let words = sets().chinese_categories_by_first.get(&s.chars().next()?)?;
    words.iter().find(|(w, _)| s.starts_with(w)).map(|&(_, k)| k)
}

/// Heading or bold text made only of generic heading words.
pub fn is_generic_heading(s: &str) -> bool {
    let t = s.trim();
    if t.is_empty() {
        return true;
    }
    let l = t.to_ascii_lowercase();
    if EN_HEADING_GENERIC.contains(&l.as_str()) {
        return true;
    }
    // Made of generic pieces: 基本概念, 原理介绍, 代码实现 … (the first listed piece that opens the
    // rest is taken; pieces are bucketed by their first character).
    static PIECES: OnceLock<FxMap<char, Vec<&'static str>>> = OnceLock::new();
    let pieces = PIECES.get_or_init(|| {
        let mut m: FxMap<char, Vec<&'static str>> = FxMap::default();
        for w in ZH_HEADING_META.iter().chain(ZH_HEADING_GENERIC).chain(["与", "和", "及", "的", "&", " "].iter()) {
            if let Some(c) = w.chars().next() {
                m.entry(c).or_default().push(w);
            }
        }
        m
    });
    let mut rest = t;
    while let Some(c) = rest.chars().next() {
        match pieces.get(&c).and_then(|ws| ws.iter().find_map(|w| rest.strip_prefix(w))) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    true
}

/// Trims generic heading words from the end of a heading (`pRMSNorm介绍` → `pRMSNorm`).
pub fn trim_generic_suffix(s: &str) -> &str {
    let mut t = s.trim();
    loop {
        let before = t;
        for w in ZH_HEADING_META {
            if let Some(r) = t.strip_suffix(w)
                && r.trim().chars().count() >= 2
            {
                t = r.trim_end_matches(['的', ' ']).trim();
            }
        }
        if t == before {
            return t;
        }
    }
}

/// One of [`ZH_FUNCTION_CHARS`] (a set lookup: this is asked for every word of every note).
pub fn is_zh_function_char(c: char) -> bool {
    c > '\u{2000}' && sets().function_chars.contains(&c)
}

pub fn is_zh_stop_word(w: &str) -> bool {
    zh_word_flags(w).stop
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_words_are_distinct_and_found_by_prefix_suffix_and_case() {
        let distinct: FxSet<&str> = CATEGORY_WORDS.iter().map(|(w, _)| *w).collect();
        assert_eq!(distinct.len(), CATEGORY_WORDS.len(), "a category word listed twice");
        assert_eq!(category_kind("Model"), Some(Kind::Model));
        assert_eq!(category_kind("模型"), Some(Kind::Model));
        assert_eq!(category_kind("模型们"), None);
        // The longest word wins; the word alone is no suffix of itself.
        assert_eq!(category_suffix("Swish激活函数"), Some(("激活函数", Kind::Component)));
        assert_eq!(category_suffix("激活函数"), Some(("函数", Kind::Component)));
        assert_eq!(category_suffix("函数"), None);
        assert_eq!(category_suffix("LLaMA model"), None, "Chinese words only");
        assert_eq!(category_prefix("激活函数，它"), Some(Kind::Component));
        assert_eq!(category_prefix("大模型的"), Some(Kind::Model));
        assert_eq!(category_prefix("model"), None, "Chinese words only");
        assert_eq!(category_prefix("的模型"), None);
    }

    #[test]
    fn generic_headings() {
        assert!(is_generic_heading("基本概念"));
        assert!(is_generic_heading("原理介绍"));
        assert!(is_generic_heading("References"));
        assert!(!is_generic_heading("微调"));
        assert!(!is_generic_heading("LoRA"));
        assert_eq!(trim_generic_suffix("pRMSNorm介绍"), "pRMSNorm");
        assert_eq!(trim_generic_suffix("LLM 概念"), "LLM");
        assert_eq!(trim_generic_suffix("分布式训练"), "分布式训练");
        assert_eq!(category_suffix("前置层归一化方法"), Some(("方法", Kind::Method)));
    }

    #[test]
    fn word_flags_agree_with_the_lists() {
        for &w in ZH_STOP_WORDS.iter().chain(ZH_HEADING_META).chain(["微调", "", "the"].iter()) {
            let f = zh_word_flags(w);
            assert_eq!((f.stop, f.heading_meta), (ZH_STOP_WORDS.contains(&w), ZH_HEADING_META.contains(&w)), "{w}");
            assert_eq!((is_zh_stop_word(w), is_heading_meta(w)), (f.stop, f.heading_meta), "{w}");
        }
        assert!(zh_word_flags("介绍").heading_meta);
        assert_eq!(zh_word_flags("微调"), ZhWordFlags::default());
    }
}
