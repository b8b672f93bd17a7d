//! Sentence patterns for typed relations: general Chinese and English cue words ("使用", "而非",
//! "与…相比", "is a", "replaces" …) and the rules that find each cue's two arguments among the
//! concept mentions of the sentence.
//!
//! Owns the cue lexicon and argument finding (nearest mention before the cue in the clause, first
//! mention after it, coordination `A、B 和 C`, the head of `X 的 Y`, an omitted subject taken from
//! the sentence topic or the section's concept). It works on one sentence at a time and knows
//! nothing of notes, files or the corpus; it must hold no concept names, only cue words.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex_automata::meta::Regex;
use regex_automata::util::captures::Captures;
use regex_automata::{Anchored, Input, PatternID};

use super::model::Rel;

/// A concept mention in a sentence: byte span in the sentence skeleton and a term id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub term: u32,
}

/// Where a subject may come from when the clause has none.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context {
    /// The concept the section is about (its heading), if any.
    pub section_subject: Option<u32>,
}

/// One relation found in a sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub from: u32,
    pub to: u32,
    pub rel: Rel,
    pub confidence: f32,
    pub cue: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    /// Nearest mention(s) before the match in the clause; else the sentence topic; else the
    /// section's concept when the clause starts with the cue.
    Before,
    /// Like `Before` but never falls back: the argument must be written in the clause.
    BeforeExplicit,
    /// Like `Before`, but falls back only from a clause with no words of its own before the match:
    /// `每个专家都是一个 Y` says what each expert is, not what the sentence's topic is.
    BeforeOrOmitted,
    /// `Before`, or when nothing precedes in the clause, the first mention of the next clause
    /// (`与 Y 相比，X …`).
    BeforeOrNext,
    /// Mention(s) right after the match.
    After,
    /// The last mention of the clause after the match, the head of `…的 Y` (for `is a`).
    Head,
    /// Mention(s) inside the named group: the last one and those coordinated with it.
    Group(&'static str),
    /// Like `Group`, falling back to `Before` when the group holds none.
    GroupOrBefore(&'static str),
    /// The mention that ends right before the match (across a comma): `Y，如 X1、X2`.
    Previous,
    /// Like `After`, from the end of the named group instead of the match's end (the match ends
    /// with a guard or a closing word: `通过一个 Y`, `相对于 Y 的改进`).
    AfterGroup(&'static str),
    /// `BeforeExplicit`, else the mention opening the clause (`X 仅用 100 个示例就展示了…`), else
    /// the fallbacks of `Before`.
    BeforeOrClauseSubject,
    /// `BeforeExplicit`, else `After`: `X 在 Y 中插入…` vs. `在 Y 中插入 X`.
    BeforeElseAfter,
}

struct Pattern {
    name: &'static str,
    rel: Rel,
    re: &'static str,
    from: Slot,
    to: Slot,
    confidence: f32,
    /// Also emit `uses(subject, from)` (`Qwen 用 RMSNorm 取代了 LayerNorm`).
    also_uses: bool,
    /// Words one of which every match contains, for a pattern whose literal prefix is too common
    /// to select sentences: the closing words of a circumfix (`与 … 相比`: `与`, `是`, `用` alone
    /// are everywhere), the cue after a leading comma.
    needs: &'static [&'static str],
}

const fn p(name: &'static str, rel: Rel, re: &'static str, from: Slot, to: Slot, confidence: f32) -> Pattern {
    Pattern { name, rel, re, from, to, confidence, also_uses: false, needs: &[] }
}

const fn circumfix(pat: Pattern, needs: &'static [&'static str]) -> Pattern {
    Pattern { needs, ..pat }
}

/// Characters of one clause (no clause delimiter).
macro_rules! c {
    () => {
        r"[^,;:!?。]"
    };
}

/// A prefilter: the literal prefixes every match of each pattern starts with (`使用`, `而非`, `is a` …),
/// the patterns' needed words and the question words, in one Aho-Corasick automaton: one pass over
/// a sentence tells which patterns can match in it, and where.
struct Prefilter {
    ac: aho_corasick::AhoCorasick,
    /// Literal index → what it stands for (a string can be several things).
    what: Vec<Vec<Literal>>,
    /// Patterns without a usable literal prefix: always run.
    always: Vec<usize>,
}

#[derive(Debug, Clone, Copy)]
enum Literal {
    /// A prefix of pattern `i`: it may match where the literal starts.
    Start(usize),
    /// One of pattern `i`'s needed words.
    Needed(usize),
    /// The sentence asks (`为什么`, `如何`): it states nothing.
    Question,
}

/// Words that make a sentence a question.
const QUESTION_WORDS: &[&str] = &["为什么", "如何", "是否", "吗?", "怎么"];

static PREFILTER: OnceLock<Prefilter> = OnceLock::new();

fn prefilter() -> &'static Prefilter {
    PREFILTER.get_or_init(|| {
        use regex_syntax::hir::literal::Extractor;
        let mut lits: BTreeMap<Vec<u8>, Vec<Literal>> = BTreeMap::new();
        let mut always = Vec::new();
        for (i, (pat, _)) in patterns().iter().enumerate() {
            // A case-insensitive pattern's prefixes are taken as written and found without regard to
            // ASCII case (spelled out, `used for` alone has 128 spellings, too many to list). The
            // sentences are NFKC-normalised, so no non-ASCII letter (`ſ`, the Kelvin sign) folds to
            // an ASCII one. Extra starts from the looser matching only cost an anchored search.
            let hir = regex_syntax::parse(pat.re.strip_prefix("(?i)").unwrap_or(pat.re)).expect("valid pattern");
            let seq = Extractor::new().extract(&hir);
            match seq.literals() {
                Some(ls) if !ls.is_empty() && ls.iter().all(|l| !l.as_bytes().is_empty()) => {
                    for l in ls {
                        lits.entry(l.as_bytes().to_vec()).or_default().push(Literal::Start(i));
                    }
                }
                _ => always.push(i),
            }
            // Needed words are matched without regard to case too: that only lets more sentences
            // through to the regex, which decides.
            for w in pat.needs {
                lits.entry(w.as_bytes().to_vec()).or_default().push(Literal::Needed(i));
            }
        }
        // No ASCII letter in these: the looser matching makes no difference.
        for w in QUESTION_WORDS {
            lits.entry(w.as_bytes().to_vec()).or_default().push(Literal::Question);
        }
        let ac =
            aho_corasick::AhoCorasick::builder().ascii_case_insensitive(true).build(lits.keys()).expect("literals");
        Prefilter { ac, what: lits.into_values().collect(), always }
    })
}

/// Compiles the patterns and their prefilter now.
pub(crate) fn compile() {
    prefilter();
}

/// Where each pattern may match in a sentence: every match of a prefiltered pattern starts at an
/// occurrence of one of its literals, so it is searched for only there, anchored.
struct Candidates {
    /// (pattern, start) of every literal occurrence, sorted and without duplicates.
    starts: Vec<(u32, u32)>,
    /// Patterns that may match: a literal occurs (or the pattern has none) and a needed word too.
    present: PatternSet,
}

/// A set of patterns by index, in one word: every sentence keeps one, so it takes no allocation.
#[derive(Clone, Copy, Default)]
struct PatternSet(u128);

impl PatternSet {
    /// How many patterns a set can hold (the pattern list is checked against it when built).
    const CAPACITY: usize = u128::BITS as usize;

    fn insert(&mut self, i: usize) {
        self.0 |= 1 << i;
    }

    fn remove(&mut self, i: usize) {
        self.0 &= !(1 << i);
    }

    fn contains(self, i: usize) -> bool {
        self.0 & (1 << i) != 0
    }
}

impl Candidates {
    /// `None` for a question.
    fn new(s: &str) -> Option<Self> {
        let p = prefilter();
        let (mut present, mut needed) = (PatternSet::default(), PatternSet::default());
        for &i in &p.always {
            present.insert(i);
        }
        let mut starts: Vec<(u32, u32)> = Vec::new();
        for m in p.ac.find_overlapping_iter(s) {
            for &what in &p.what[m.pattern().as_usize()] {
                match what {
                    Literal::Start(i) => {
                        // Sentences are far shorter than 4 GiB; patterns are fewer than 128.
                        starts.push((i as u32, m.start() as u32));
                        present.insert(i);
                    }
                    Literal::Needed(i) => needed.insert(i),
                    Literal::Question => return None,
                }
            }
        }
        starts.sort_unstable();
        starts.dedup();
        for (i, (pat, _)) in patterns().iter().enumerate() {
            if !pat.needs.is_empty() && !needed.contains(i) {
                present.remove(i);
            }
        }
        Some(Candidates { starts, present })
    }

    /// Sorted literal starts of pattern `i`.
    fn starts_of(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        let i = i as u32;
        let from = self.starts.partition_point(|&(p, _)| p < i);
        self.starts[from..].iter().take_while(move |&&(p, _)| p == i).map(|&(_, at)| at as usize)
    }
}

/// The leftmost match of pattern `i` at or after `pos`, with its groups when it has any. Patterns
/// with literals are tried only where one occurs, anchored (the same match an unanchored search
/// finds, without trying every position in between).
fn next_match(
    i: usize,
    re: &Regex,
    s: &str,
    pos: usize,
    candidates: &Candidates,
    always: bool,
) -> Option<(usize, usize, Option<Captures>)> {
    let with_groups = re.group_info().group_len(PatternID::ZERO) > 1;
    let at = |input: Input| -> Option<(usize, usize, Option<Captures>)> {
        if with_groups {
            let mut caps = re.create_captures();
            re.search_captures(&input, &mut caps);
            let m = caps.get_match()?;
            Some((m.start(), m.end(), Some(caps)))
        } else {
            re.search(&input).map(|m| (m.start(), m.end(), None))
        }
    };
    if always {
        return at(Input::new(s).range(pos..));
    }
    candidates.starts_of(i).filter(|&st| st >= pos).find_map(|st| at(Input::new(s).range(st..).anchored(Anchored::Yes)))
}

/// The patterns, most specific first. A cue consumed by an earlier pattern is not read again by a
/// later one.
fn patterns() -> &'static [(Pattern, Regex)] {
    static P: OnceLock<Vec<(Pattern, Regex)>> = OnceLock::new();
    P.get_or_init(|| {
        use Rel::*;
        use Slot::*;
        let list = vec![
            // ---- replaces
            circumfix(
                Pattern {
                    also_uses: true,
                    ..p(
                        "用Y取代X",
                        Replaces,
                        concat!(
                            r"(?:使用|采用|用|以)(?P<y>",
                            c!(),
                            r"{1,30}?)(?:来|去)?(?:取代|代替|替代|替换)了?(?P<x>",
                            c!(),
                            r"{0,30})"
                        ),
                        Group("y"),
                        GroupOrBefore("x"),
                        0.85,
                    )
                },
                &["取代", "代替", "替代", "替换"],
            ),
            circumfix(
                p(
                    "将X替换为Y",
                    Replaces,
                    concat!(r"(?:将|把)(?P<x>", c!(), r"{1,30}?)(?:替换|更换|换|改)(?:为|成)(?P<y>", c!(), r"{0,30})"),
                    Group("y"),
                    Group("x"),
                    0.85,
                ),
                &["换为", "换成", "改为", "改成"],
            ),
            p("X替换为Y", Replaces, r"(?:替换为|替换成|更换为|换成|改成|改为)", After, BeforeExplicit, 0.8),
            p("Y而非X", Replaces, r"而(?:非|不是)", BeforeExplicit, After, 0.85),
            p("Y取代X", Replaces, r"(?:取代|代替|替代)了?", BeforeExplicit, After, 0.8),
            p(
                "X is replaced by Y",
                Replaces,
                r"(?i)(?-u:\b)(?:is|are|was|were|be) replaced (?:by|with)(?-u:\b)",
                After,
                BeforeExplicit,
                0.85,
            ),
            p("Y instead of X", Replaces, r"(?i)(?-u:\b)instead of(?-u:\b)", BeforeExplicit, After, 0.75),
            p("Y replaces X", Replaces, r"(?i)(?-u:\b)(?:replaces|replaced|replacing)(?-u:\b)", BeforeExplicit, After, 0.8),
            // ---- `相对于 Y 的显著改进`: a comparison that states a gain (before the plain contrast)
            circumfix(
                p(
                    "X相对于Y有提升",
                    Outperforms,
                    concat!(
                        r"(?P<cue>相对于|相较于|相比于)(?P<y>",
                        c!(),
                        r"{1,40}?)(?:都有|有|的)",
                        c!(),
                        r"{0,6}?(?:改进|提升|提高|改善)"
                    ),
                    BeforeOrClauseSubject,
                    AfterGroup("cue"),
                    0.7,
                ),
                &["改进", "提升", "提高", "改善"],
            ),
            // ---- used_with
            circumfix(
                p(
                    "X与Y结合使用",
                    UsedWith,
                    concat!(
                        r"(?:与|和|跟|同)(?P<y>",
                        c!(),
                        r"{1,25}?)(?:结合|配合|搭配|联用|(?:一起|一同|共同)(?:使用|用))"
                    ),
                    BeforeExplicit,
                    Group("y"),
                    0.7,
                ),
                &["结合", "配合", "搭配", "联用", "一起", "一同", "共同"],
            ),
            p(
                "X used together with Y",
                UsedWith,
                r"(?i)(?-u:\b)(?:used |applied )?(?:together with|in combination with|in conjunction with|combined with|paired with)(?-u:\b)",
                BeforeExplicit,
                After,
                0.7,
            ),
            // ---- contrasted_with / similar_to (circumfix forms first)
            circumfix(
                p(
                    "X与Y类似",
                    SimilarTo,
                    concat!(
                        r"(?:与|和|跟|同)(?P<y>",
                        c!(),
                        r"{1,25}?)(?:类似|相似|相近|相当|近似|接近|一致|等价|相匹敌|差不多|可比较|可比|相媲美)"
                    ),
                    Before,
                    Group("y"),
                    0.75,
                ),
                &["类似", "相似", "相近", "相当", "近似", "接近", "一致", "等价", "相匹敌", "差不多", "可比", "相媲美"],
            ),
            circumfix(
                p(
                    "X与Y相比",
                    ContrastedWith,
                    concat!(
                        r"(?:与|和|跟|同)(?P<y>",
                        c!(),
                        r"{1,25}?)(?:相比|相较|对比|进行比较|进行对比|作比较|的?(?:主要)?(?:区别|不同|差异|差别)|有所不同)"
                    ),
                    BeforeOrNext,
                    Group("y"),
                    0.75,
                ),
                &["相比", "相较", "对比", "比较", "不同", "区别", "差异", "差别"],
            ),
            p("X相较于Y", ContrastedWith, r"(?:相较于|相比于|相对于|相比|相较|对比于)", BeforeExplicit, After, 0.75),
            p(
                "X compared to Y",
                ContrastedWith,
                r"(?i)(?-u:\b)(?:compared (?:to|with)|in contrast to|versus|vs\.?)(?:\s|$)",
                Before,
                After,
                0.7,
            ),
            p(
                "X类似Y",
                SimilarTo,
                r"(?:类似于|类似|相当于|近似于|等价于|可以媲美|媲美|相匹敌)",
                BeforeExplicit,
                After,
                0.7,
            ),
            circumfix(
                p(
                    "X是A和B的折中",
                    SimilarTo,
                    concat!(r"是(?P<y>", c!(), r"{1,25}?)(?:之间)?的(?:折中|折衷|中间形态)"),
                    Before,
                    Group("y"),
                    0.7,
                ),
                &["折中", "折衷", "中间形态"],
            ),
            p("X接近Y", SimilarTo, r"(?:趋近于|接近于|接近)", Before, After, 0.6),
            p(
                "X is similar to Y",
                SimilarTo,
                r"(?i)(?-u:\b)(?:is|are) (?:similar|equivalent|comparable|analogous) to(?-u:\b)",
                BeforeExplicit,
                After,
                0.75,
            ),
            // ---- outperforms
            circumfix(
                p(
                    "X比Y更好",
                    Outperforms,
                    concat!(r"比(?P<y>", c!(), r"{1,20}?)(?:更|还|要)?(?:好|优|强|有更好|效果更好|表现更好|性能更好|更好)"),
                    BeforeExplicit,
                    Group("y"),
                    0.7,
                ),
                &["好", "优", "强"],
            ),
            p("X不如Y", Outperforms, r"不如", After, Before, 0.7),
            p("X优于Y", Outperforms, r"(?:优于|好于|强于|胜过|超越了?|超过了?)", Before, After, 0.7),
            p(
                "X outperforms Y",
                Outperforms,
                r"(?i)(?-u:\b)(?:outperforms?|outperformed|surpass(?:es|ed)?|(?:is|are|performs?) better than)(?-u:\b)",
                BeforeExplicit,
                After,
                0.75,
            ),
            // ---- improves_on / mitigates
            circumfix(
                p(
                    "X是对Y的改进",
                    ImprovesOn,
                    concat!(r"是(?:对)?(?P<y>", c!(), r"{1,20}?)的+(?:改进|改良|优化|升级|扩展)"),
                    BeforeExplicit,
                    Group("y"),
                    0.8,
                ),
                &["改进", "改良", "优化", "升级", "扩展"],
            ),
            p(
                "X improves on Y",
                ImprovesOn,
                r"(?i)(?-u:\b)(?:improves? (?:on|upon)|an improvement (?:on|over)|improved version of)(?-u:\b)",
                BeforeExplicit,
                After,
                0.75,
            ),
            p("X改进了Y", ImprovesOn, r"改进了", BeforeExplicit, After, 0.7),
            circumfix(
                p(
                    "X在Y的基础上改进",
                    ImprovesOn,
                    concat!(r"在(?P<y>", c!(), r"{1,20}?)的?基础上(?:进行|做|作)?了?(?:优化|改进|改良|改善)"),
                    Before,
                    Group("y"),
                    0.75,
                ),
                &["优化", "改进", "改良", "改善"],
            ),
            circumfix(
                p(
                    "X为了解决Y的问题",
                    ImprovesOn,
                    concat!(r"解决了?(?P<y>", c!(), r"{1,20}?)(?:对|在)", c!(), r"{0,30}?的问题"),
                    Before,
                    Group("y"),
                    0.7,
                ),
                &["的问题"],
            ),
            p("X缓解Y", Mitigates, r"(?:缓解|避免|减轻|防止|克服|抑制|消除|解决)了?", Before, After, 0.7),
            p(
                "X mitigates Y",
                Mitigates,
                r"(?i)(?-u:\b)(?:mitigates?|alleviates?|avoids?|prevents?|solves?|addresses)(?-u:\b)",
                BeforeExplicit,
                After,
                0.7,
            ),
            // ---- has_problem
            circumfix(
                p(
                    "X存在Y问题",
                    HasProblem,
                    concat!(r"(?:存在|面临|遭遇|遇到)(?:着|了)?(?P<y>", c!(), r"{1,25}?)的?(?:问题|缺陷|缺点|瓶颈|困难)"),
                    Before,
                    Group("y"),
                    0.7,
                ),
                &["问题", "缺陷", "缺点", "瓶颈", "困难"],
            ),
            p(
                "X suffers from Y",
                HasProblem,
                r"(?i)(?-u:\b)(?:suffers? from|suffered from|is prone to|are prone to|struggles? with)(?-u:\b)",
                BeforeExplicit,
                After,
                0.7,
            ),
            p("X导致Y", Causes, r"(?:导致|引起|造成|引发)了?", BeforeExplicit, After, 0.65),
            p("X causes Y", Causes, r"(?i)(?-u:\b)(?:causes?|leads? to|results? in)(?-u:\b)", BeforeExplicit, After, 0.65),
            // ---- proposed_by
            circumfix(
                p(
                    "X由Y提出",
                    ProposedBy,
                    concat!(r"由(?P<y>", c!(), r"{1,20}?)(?:提出|推出|发布|开发|开源)"),
                    Before,
                    Group("y"),
                    0.8,
                ),
                &["提出", "推出", "发布", "开发", "开源"],
            ),
            circumfix(
                p(
                    "X是Y提出的",
                    ProposedBy,
                    concat!(r"是(?P<y>", c!(), r"{1,20}?)(?:提出|推出|发布|开发|开源)"),
                    BeforeExplicit,
                    Group("y"),
                    0.8,
                ),
                &["提出", "推出", "发布", "开发", "开源"],
            ),
            p("Y提出了X", ProposedBy, r"(?:提出|推出|发布|开源)(?:了|的)?", After, BeforeExplicit, 0.75),
            p(
                "X proposed by Y",
                ProposedBy,
                r"(?i)(?-u:\b)(?:proposed|introduced|released|developed|published) by(?-u:\b)",
                BeforeExplicit,
                After,
                0.8,
            ),
            // ---- is_a
            circumfix(
                p(
                    "X是Y的一种",
                    IsA,
                    concat!(r"是(?P<y>", c!(), r"{1,25}?)的+(?:一种|变体|一个|一类|特例|实例|特殊情况|子集|一员)"),
                    BeforeOrOmitted,
                    Group("y"),
                    0.8,
                ),
                &["一种", "变体", "一个", "一类", "特例", "实例", "特殊情况", "子集", "一员"],
            ),
            // Its literal prefix is a comma: the needed word picks the sentences.
            circumfix(
                p(
                    "X，一种…Y的变体",
                    IsA,
                    concat!(r",\s*(?:是)?一种(?P<y>", c!(), r"{1,25}?)的+(?:变体|变种|改进版|扩展)"),
                    Previous,
                    Group("y"),
                    0.7,
                ),
                &["一种"],
            ),
            p("X是一种Y", IsA, r"(?:是|为)(?:一种|一个|一类|一款|一项|一系列)", BeforeOrOmitted, Head, 0.75),
            p("X属于Y", IsA, r"属于", BeforeOrOmitted, Head, 0.75),
            circumfix(
                p("Y，如X", IsA, r",\s*(?:例如|比如|譬如|诸如|如|包括|such as|including|e\.g\.)", After, Previous, 0.65),
                &["如", "包括", "such as", "including", "e.g."],
            ),
            p(
                "X is a Y",
                IsA,
                r"(?i)(?-u:\b)(?:is|are) (?:a|an|one of the|a kind of|a type of|a variant of|a form of)(?-u:\b)",
                BeforeExplicit,
                Head,
                0.7,
            ),
            p("X is a Y (plain)", IsA, r"(?i)(?-u:\b)(?:is|are) (?:a|an)(?-u:\b)", BeforeExplicit, Head, 0.6),
            // ---- part_of
            circumfix(
                p(
                    "X由Y组成",
                    PartOf,
                    concat!(r"由(?P<y>", c!(), r"{1,30}?)(?:组成|构成|组合而成)"),
                    Group("y"),
                    BeforeExplicit,
                    0.75,
                ),
                &["组成", "构成"],
            ),
            circumfix(
                p(
                    "X是A和B的组合",
                    PartOf,
                    concat!(r"是(?:用|由)?(?P<y>", c!(), r"{1,40}?)的[^,;:!?。的]{0,3}?(?:组合|结合|集成)"),
                    Group("y"),
                    BeforeExplicit,
                    0.7,
                ),
                &["组合", "结合", "集成"],
            ),
            p(
                "将Y作为X的子模块",
                PartOf,
                concat!(
                    r"(?:将|把)(?P<y>",
                    c!(),
                    r"{1,30}?)作为(?:其|它的)?(?:子模块|组件|组成部分|一部分|子网络|子结构)"
                ),
                Group("y"),
                Before,
                0.7,
            ),
            p("X包含Y", PartOf, r"(?:包含|包括|含有)了?", After, BeforeExplicit, 0.65),
            p(
                "X is part of Y",
                PartOf,
                r"(?i)(?-u:\b)(?:is|are) (?:a )?(?:part|component|module)s? of(?-u:\b)",
                BeforeExplicit,
                After,
                0.75,
            ),
            p(
                "X consists of Y",
                PartOf,
                r"(?i)(?-u:\b)(?:consists of|is composed of|comprises|contains)(?-u:\b)",
                After,
                BeforeExplicit,
                0.7,
            ),
            // ---- based_on
            circumfix(
                p(
                    "X在Y基础上",
                    BasedOn,
                    concat!(r"在(?P<y>", c!(), r"{1,20}?)(?:的)?基础上"),
                    BeforeExplicit,
                    Group("y"),
                    0.75,
                ),
                &["基础上"],
            ),
            p("X基于Y", BasedOn, r"基于", BeforeExplicit, After, 0.7),
            p("X based on Y", BasedOn, r"(?i)(?-u:\b)(?:is|are) (?:based|built) on(?-u:\b)", BeforeExplicit, After, 0.75),
            // ---- applied_before: a placement verb with `之前` / `之后`
            p(
                "X放在Y之前",
                AppliedBefore,
                concat!(
                    r"(?:放在|放到|放置在|放置于|移动到|移到|置于|调整到|加在|添加在|位于)了?(?P<y>",
                    c!(),
                    r"{1,30}?)(?:之前|前面)"
                ),
                BeforeExplicit,
                Group("y"),
                0.75,
            ),
            p(
                "X放在Y之后",
                AppliedBefore,
                concat!(
                    r"(?:放在|放到|放置在|放置于|移动到|移到|置于|调整到|加在|添加在|位于)了?(?P<y>",
                    c!(),
                    r"{1,30}?)(?:之后|后面)"
                ),
                Group("y"),
                BeforeExplicit,
                0.75,
            ),
            circumfix(
                p(
                    "在Y之后添加X",
                    AppliedBefore,
                    concat!(r"在(?P<y>", c!(), r"{1,30}?)(?:之后|后面)(?:添加|加入|插入|接入|接上|使用|应用)了?"),
                    Group("y"),
                    After,
                    0.7,
                ),
                &["添加", "加入", "插入", "接入", "接上", "使用", "应用"],
            ),
            circumfix(
                p(
                    "在Y之前添加X",
                    AppliedBefore,
                    concat!(r"在(?P<y>", c!(), r"{1,30}?)(?:之前|前面)(?:添加|加入|插入|接入|使用|应用)了?"),
                    After,
                    Group("y"),
                    0.7,
                ),
                &["添加", "加入", "插入", "接入", "使用", "应用"],
            ),
            p(
                "X is placed before Y",
                AppliedBefore,
                r"(?i)(?-u:\b)(?:placed|applied|put|inserted|moved|added) (?:right |just |directly )?before(?-u:\b)",
                BeforeExplicit,
                After,
                0.7,
            ),
            p(
                "X is placed after Y",
                AppliedBefore,
                r"(?i)(?-u:\b)(?:placed|applied|put|inserted|moved|added) (?:right |just |directly )?after(?-u:\b)",
                After,
                BeforeExplicit,
                0.7,
            ),
            // ---- implements
            circumfix(
                p(
                    "X在Y库中的实现",
                    Implements,
                    concat!(
                        r"在(?P<y>",
                        c!(),
                        r"{1,30}?)(?:库|框架|包|代码)?(?:中|里)(?:的(?:代码)?实现|的?代码实现|实现(?:如下|代码))"
                    ),
                    Group("y"),
                    BeforeExplicit,
                    0.75,
                ),
                &["实现"],
            ),
            p("X被实现为Y", Implements, r"(?:被)?实现(?:为|成)", After, BeforeExplicit, 0.75),
            p(
                "X is implemented in Y",
                Implements,
                r"(?i)(?-u:\b)(?:is|are|was|were|be|been) implemented (?:in|by|with|using|as)(?-u:\b)",
                After,
                BeforeExplicit,
                0.75,
            ),
            p("Y implements X", Implements, r"(?i)(?-u:\b)implements(?-u:\b)", BeforeExplicit, After, 0.7),
            // ---- inserted_into
            circumfix(
                p(
                    "X插入到Y中",
                    InsertedInto,
                    concat!(
                        r"(?:插入|嵌入|注入|添加|加入)(?:到|在|进|至)(?P<y>",
                        c!(),
                        r"{1,30}?)的?(?:结构|网络)?(?:里面|之中|内部|中|里|内)"
                    ),
                    Before,
                    Group("y"),
                    0.7,
                ),
                &["中", "里", "内"],
            ),
            circumfix(
                p(
                    "X嵌入Y的结构中",
                    InsertedInto,
                    concat!(r"(?:插入|嵌入|注入)(?P<y>", c!(), r"{1,30}?)的?(?:结构|网络)(?:里面|之中|内部|中|里|内)"),
                    Before,
                    Group("y"),
                    0.7,
                ),
                &["结构", "网络"],
            ),
            circumfix(
                p(
                    "X在Y中插入",
                    InsertedInto,
                    concat!(r"在(?P<y>", c!(), r"{1,30}?)(?:中|里|内)(?:插入|嵌入|注入)了?"),
                    BeforeElseAfter,
                    Group("y"),
                    0.7,
                ),
                &["插入", "嵌入", "注入"],
            ),
            p(
                "X is inserted into Y",
                InsertedInto,
                r"(?i)(?-u:\b)(?:is|are|was|were|be|been) (?:inserted|embedded|injected) (?:into|in)(?-u:\b)",
                BeforeExplicit,
                After,
                0.75,
            ),
            // ---- updates: only / merely tuning part of a model
            p(
                "X只对Y进行微调",
                Updates,
                concat!(r"(?:只|仅|仅仅|只需)对(?P<y>", c!(), r"{1,30}?)(?:进行)?(?:微调|训练|更新|调整)"),
                Before,
                Group("y"),
                0.7,
            ),
            p("X只更新Y", Updates, r"(?:只|仅|仅仅|只需)(?:更新|训练|微调)了?", BeforeExplicit, After, 0.65),
            p(
                "X only updates Y",
                Updates,
                r"(?i)(?-u:\b)(?:only (?:updates|trains|fine-tunes|tunes)|(?:updates|trains|fine-tunes|tunes) only)(?-u:\b)",
                BeforeExplicit,
                After,
                0.7,
            ),
            // ---- uses (shapes other than a verb followed by its object)
            circumfix(
                p(
                    "X是Y中最常用的",
                    Uses,
                    concat!(
                        r"是(?P<y>",
                        c!(),
                        r"{1,30}?)(?:结构|架构|模型)?中(?:最)?(?:常用|常见|广泛使用|普遍使用)的"
                    ),
                    Group("y"),
                    BeforeExplicit,
                    0.7,
                ),
                &["常用", "常见", "广泛使用", "普遍使用"],
            ),
            p("带有Y的X", Uses, concat!(r"带有(?P<y>", c!(), r"{1,25}?)的"), After, Group("y"), 0.7),
            p(
                "X通过Y",
                Uses,
                r"通过(?P<cue>(?:使用|采用|引入)?(?:一个|一种|一些)?)[^对将把从在让使给向,;:!?。]",
                Before,
                AfterGroup("cue"),
                0.6,
            ),
            p(
                "X by using Y",
                Uses,
                r"(?i)(?-u:\b)by (?:using|means of|applying|adding)(?-u:\b)",
                BeforeExplicit,
                After,
                0.65,
            ),
            // ---- used_for
            circumfix(
                p(
                    "X有Y作用",
                    UsedFor,
                    concat!(
                        r"(?:具有|起到|起着|有)了?(?:一定的|轻微的|较强的|很强的|重要的|显著的|明显的)?(?P<y>",
                        c!(),
                        r"{1,15}?)的?作用"
                    ),
                    Before,
                    Group("y"),
                    0.65,
                ),
                &["作用"],
            ),
            p(
                "X用于Y",
                UsedFor,
                r"(?:适用于|适合于|适合|被用于|被用来|用于|用来|用在|应用于|应用在)",
                Before,
                After,
                0.7,
            ),
            p(
                "X is used for Y",
                UsedFor,
                r"(?i)(?-u:\b)(?:(?:is|are|was|were|be|been) )?(?:used for|used to|suitable for|applied to|designed for)(?-u:\b)",
                BeforeExplicit,
                After,
                0.7,
            ),
            p("X支持Y", UsedFor, r"支持(?:了)?", Before, After, 0.6),
            p(
                "X supports Y",
                UsedFor,
                r"(?i)(?-u:\b)(?:supports|supported)(?-u:\b)",
                BeforeExplicit,
                After,
                0.6,
            ),
            // ---- uses
            p("X使用Y", Uses, r"(?:使用|采用|运用|引入|借助|用了|加入了)了?", Before, After, 0.75),
            p(
                "X uses Y",
                Uses,
                r"(?i)(?-u:\b)(?:uses|adopts|adopted|employs|employed|utilizes|utilises|leverages|introduces)(?-u:\b)",
                BeforeExplicit,
                After,
                0.75,
            ),
        ];
        // A fixed list: every test that reads a sentence would fail here first.
        assert!(list.len() <= PatternSet::CAPACITY, "more patterns than a PatternSet holds");
        list.into_iter()
            .map(|pat| {
                // No prefilter of the regex's own and no DFA, full or lazy: the NFA engines
                // (one-pass, bounded backtracking) are enough for sentences. Compiling the full
                // DFAs was most of the cost of the patterns; the lazy DFA is built state by state
                // in every process and for every thread, in fresh memory, and over 12,000 short
                // searches a cold index took 15 ms more with it than without. Patterns with a
                // literal cue are searched only where the shared prefilter found one; the few
                // without are searched unanchored and lose a prefilter that did not pay for its
                // compilation either.
                let re = Regex::builder()
                    .configure(Regex::config().auto_prefilter(false).dfa(false).hybrid(false))
                    .build(pat.re)
                    .unwrap_or_else(|e| panic!("pattern {}: {e}", pat.name));
                (pat, re)
            })
            .collect()
    })
}

fn is_clause_delim(c: char) -> bool {
    matches!(c, ',' | ';' | ':' | '!' | '?' | '。')
}

fn slot_is_strict_group(slot: Slot) -> bool {
    matches!(slot, Slot::Group(_))
}

/// Text that may stand between coordinated mentions.
fn is_coordinator(gap: &str) -> bool {
    let g = gap.trim();
    // `A 结构和 B 层`: a category word after the first mention, then the conjunction.
    let g = ["结构", "模块", "层", "函数", "机制", "方法", "模型"]
        .iter()
        .find_map(|w| g.strip_prefix(w).filter(|r| !r.trim().is_empty()))
        .map_or(g, str::trim);
    g.is_empty() && !gap.is_empty()
        || matches!(
            g,
            "、" | "和" | "与" | "及" | "以及" | "或" | "或者" | "&" | "/" | "and" | "or" | "、和" | "+" | "跟"
        )
}

/// Words allowed between a cue and its object: particles, determiners, light modifiers.
fn light_gap(gap: &str, max_chars: usize) -> bool {
    let g = gap.trim();
    if g.chars().count() > max_chars {
        return false;
    }
    // No other verb cue in between.
    !["使用", "采用", "用于", "而非", "取代", "代替", "提出", "是", "包括", "适用"].iter().any(|v| g.contains(v))
}

/// Connectors, adverbs and pronouns that may open a clause whose subject is left out.
#[rustfmt::skip]
const SUBJECTLESS_OPENERS: &[&str] = &[
    "并且", "而且", "同时", "此外", "另外", "其次", "然后", "最后", "首先", "主要", "则", "还", "也", "都", "均",
    "可以", "会", "直接", "进一步", "并", "且", "又", "它", "其", "通过", "在", "该方法", "该模型", "这里", "本文",
    "作者", "进而", "从而", "因此", "所以", "故", "还可以", "也可以", "不仅", "就", "便", "只", "仅", "而", "但是",
    "但", "可", "能", "即", "以", "来", "本方法", "此方法", "这种方法", "该框架", "该算法",
];

/// Prefix text that leaves a clause without a subject: connectors, numbering, adverbs.
fn subjectless_prefix(prefix: &str) -> bool {
    let mut t = super::text::strip_numbering(prefix).trim();
    loop {
        let before = t;
        for w in SUBJECTLESS_OPENERS {
            t = t.strip_prefix(w).unwrap_or(t).trim_start();
        }
        if t == before {
            break;
        }
    }
    t.chars().filter(|c| c.is_alphanumeric()).count() <= 2
}

struct Sentence<'a> {
    s: &'a str,
    mentions: &'a [Span],
    /// Clause boundaries: byte ranges.
    clauses: Vec<(usize, usize)>,
    /// Mentions that are the object of a comparison or a base (`与 Y 相比`, `在 Y 基础上`): never the
    /// subject of a later verb.
    oblique: Vec<bool>,
    /// For mentions already read as objects: the subjects of that relation (`A 采用了 B 并使用 C`:
    /// C's subject is A).
    subject_of_object: Vec<Option<Vec<u32>>>,
}

impl<'a> Sentence<'a> {
    fn new(s: &'a str, mentions: &'a [Span]) -> Self {
        let mut clauses = Vec::new();
        let mut start = 0;
        for (i, c) in s.char_indices() {
            if is_clause_delim(c) {
                clauses.push((start, i));
                start = i + c.len_utf8();
            }
        }
        clauses.push((start, s.len()));
        Sentence {
            s,
            mentions,
            clauses,
            oblique: vec![false; mentions.len()],
            subject_of_object: vec![None; mentions.len()],
        }
    }

    fn clause_of(&self, pos: usize) -> (usize, usize) {
        self.clauses.iter().copied().find(|&(a, b)| pos >= a && pos <= b).unwrap_or((0, self.s.len()))
    }

    fn clause_index(&self, pos: usize) -> usize {
        self.clauses.iter().position(|&(a, b)| pos >= a && pos <= b).unwrap_or(0)
    }

    /// Mentions coordinated with mention `i`, walking left (`dir < 0`) or right.
    fn coordinated(&self, i: usize, right: bool, lo: usize, hi: usize) -> Vec<usize> {
        let mut out = vec![i];
        let mut cur = i;
        loop {
            let next = if right { cur + 1 } else { cur.wrapping_sub(1) };
            let Some(m) = self.mentions.get(next) else { break };
            if m.start < lo || m.end > hi {
                break;
            }
            let (a, b) = if right { (self.mentions[cur].end, m.start) } else { (m.end, self.mentions[cur].start) };
            if a > b || !is_coordinator(&self.s[a..b]) {
                break;
            }
            out.push(next);
            cur = next;
        }
        out
    }

    /// Follows `X 的 Y` to its head Y (`带有 SwiGLU 激活函数的 FFN` → FFN), through adjacent
    /// modifiers (`多头注意力并行放置的 Adapter` → Adapter).
    fn head_of(&self, i: usize, hi: usize) -> usize {
        let mut head = i;
        loop {
            let from = self.mentions[head].end;
            let rest = &self.s[from..hi.max(from)];
            // The first `的` within a short modifier stretch, then a mention right after it.
            let Some(de) = rest.char_indices().take(8).find(|&(_, c)| c == '的').map(|(k, _)| k) else { break };
            let stretch = &rest[..de];
            if stretch.contains(['、', ',', ';'])
                || ["是", "使用", "采用", "用于", "优于", "而"].iter().any(|v| stretch.contains(v))
            {
                break;
            }
            let after = from + de + '的'.len_utf8();
            let after = after + (self.s[after..].len() - self.s[after..].trim_start().len());
            match self.mentions.iter().position(|m| m.start == after && m.end <= hi) {
                Some(n) if n > head => head = n,
                _ => break,
            }
        }
        head
    }

    fn before(&self, pos: usize, lo: usize, max_gap: usize) -> Option<usize> {
        let mut limit = pos;
        let mut i = loop {
            let i = (0..self.mentions.len())
                .rev()
                .find(|&i| self.mentions[i].end <= limit && self.mentions[i].start >= lo && !self.oblique[i])?;
            // `在 Xsum 和 MT 这两个任务上`: a place, not the subject; look further left.
            let group = self.coordinated(i, false, lo, pos);
            let first = *group.last().unwrap_or(&i);
            if self.is_locative(first, i) {
                limit = self.mentions[first].start;
                continue;
            }
            break i;
        };
        // `A 相较于 B 引入了 C`: B is the thing compared with, A the subject.
        if i > 0 && self.mentions[i - 1].start >= lo {
            let g = self.s[self.mentions[i - 1].end..self.mentions[i].start].trim();
            if matches!(
                g,
                "相较于" | "相比于" | "相比" | "相对于" | "比" | "对比" | "较" | "compared to" | "compared with"
            ) {
                i -= 1;
            }
        }
        let gap = &self.s[self.mentions[i].end..pos];
        let enumerated = gap.contains('、') || {
            let b = gap.as_bytes();
            (1..b.len()).any(|k| b[k] == b'.' && b[k - 1].is_ascii_digit())
        };
        (gap.chars().count() <= max_gap && !gap.contains(['(', '[']) && !enumerated).then_some(i)
    }

    /// True when mention `first` (through `last`, coordinated) is a place: `在 X 上`, `对 X`, `从 X`.
    fn is_locative(&self, first: usize, last: usize) -> bool {
        let prefix = self.s[..self.mentions[first].start].trim_end();
        let suffix = self.s[self.mentions[last].end..].trim_start();
        ["在", "对", "对于", "从", "当", "于"].iter().any(|p| prefix.ends_with(p))
            || ["上", "中", "里", "内", "时"].iter().any(|p| suffix.starts_with(p))
    }

    /// `A 采用了 B 并使用 C`: when the mention before the cue was the object of an earlier verb and
    /// only a conjunction stands between, the earlier verb's subject is this one's.
    fn shared_subject(&self, i: usize, pos: usize) -> Option<Vec<u32>> {
        let subj = self.subject_of_object[i].as_ref()?;
        let gap = self.s[self.mentions[i].end..pos].trim();
        ["并", "并且", "且", "同时", "而且", "还", "也", "并使用", ""]
            .iter()
            .any(|c| gap.starts_with(c) && gap.chars().count() <= 4)
            .then(|| subj.clone())
    }

    fn after(&self, pos: usize, hi: usize, max_gap: usize) -> Option<usize> {
        let i = self.mentions.iter().position(|m| m.start >= pos && m.end <= hi)?;
        light_gap(&self.s[pos..self.mentions[i].start], max_gap).then_some(i)
    }

    /// The topic for a clause without a subject: the first earlier clause's opening mention, as a
    /// Chinese topic chain carries the subject of its first clause over the comma-joined ones
    /// after it (`BN的目的在于…,变成均值0,方差1的正态分布,避免梯度消失`: BN, not 方差).
    fn topic(&self, clause: usize) -> Option<usize> {
        for ci in 0..clause {
            let (a, b) = self.clauses[ci];
            if let Some(i) = self.mentions.iter().position(|m| m.start >= a && m.end <= b) {
                let prefix = self.s[a..self.mentions[i].start].trim_end();
                let suffix = self.s[self.mentions[i].end..b].trim_start();
                // `在 CNN 上` is a place, not a subject.
                let locative = ["在", "对", "对于", "从", "当", "于"].iter().any(|p| prefix.ends_with(p))
                    || ["上", "中", "里", "内", "时"].iter().any(|p| suffix.starts_with(p));
                // An object of an earlier verb (`可以采用 A、B、C 等`) is not what the sentence is about.
                let object = self.subject_of_object[i].is_some();
                if subjectless_prefix(prefix) && !self.oblique[i] && !locative && !object {
                    return Some(i);
                }
            }
        }
        None
    }
}

/// Where the relation patterns may match in a sentence: one pass of the prefilter, which needs
/// neither the dictionary nor the sentence's mentions, so the extractor works it out ahead.
pub struct SentenceCues(Option<Candidates>);

impl SentenceCues {
    /// The cues of `skeleton` (the NFKC sentence without bracketed asides).
    pub fn of(skeleton: &str) -> Self {
        SentenceCues(Candidates::new(skeleton))
    }
}

/// The relations one sentence states. `skeleton` is the NFKC sentence without bracketed asides,
/// `cues` its [`SentenceCues`]; `mentions` are sorted, non-overlapping spans in it.
pub fn find_relations(skeleton: &str, cues: &SentenceCues, mentions: &[Span], ctx: Context) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    // A relation links two different concepts, each a mention of the sentence or the section's
    // subject (every slot resolves to one of those): with fewer than two, there is nothing to find.
    let Some(first) = mentions.first().map(|m| m.term) else { return out };
    if mentions.iter().map(|m| m.term).chain(ctx.section_subject).all(|t| t == first) {
        return out;
    }
    if skeleton.trim_end().ends_with('?') {
        return out;
    }
    // One pass to find which patterns can match at all, and where (and whether the sentence asks).
    // A question states nothing.
    let Some(candidates) = &cues.0 else { return out };
    let mut sent = Sentence::new(skeleton, mentions);
    let mut consumed: Vec<(usize, usize)> = Vec::new();
    let always = &prefilter().always;
    for (pi, (pat, re)) in patterns().iter().enumerate() {
        if !candidates.present.contains(pi) {
            continue;
        }
        let mut pos = 0;
        while pos < skeleton.len() {
            let Some((ms, me, caps)) = next_match(pi, re, skeleton, pos, candidates, always.contains(&pi)) else {
                break;
            };
            // On failure try again from the next character: a lazy group may have started too early.
            pos = ms + skeleton[ms..].chars().next().map_or(1, char::len_utf8);
            if consumed.iter().any(|&(a, b)| ms < b && a < me) {
                continue;
            }
            // A cue inside a mention is part of a name, not a cue. A pattern whose match runs past its
            // cue (a guard character, `的改进`) names the cue as group `cue`.
            let cue_end = caps.as_ref().and_then(|c| c.get_group_by_name("cue")).map_or(me, |g| g.end);
            if mentions.iter().any(|x| (x.start <= ms && ms < x.end) || (x.start < cue_end && cue_end < x.end)) {
                continue;
            }
            if negated(skeleton, ms) {
                pos = me;
                continue;
            }
            // `超过0.9`, `优于 50%`: a comparison with a quantity, not with a concept.
            if pat.rel == Rel::Outperforms && skeleton[cue_end..].trim_start().starts_with(|c: char| c.is_ascii_digit())
            {
                continue;
            }
            let group = |name: &str| caps.as_ref().and_then(|c| c.get_group_by_name(name)).map(|g| (g.start, g.end));
            // `X 的具体结构就是一个 Y`: a statement about an attribute of X, not that X is a Y.
            if pat.rel == Rel::IsA && attribute_before(skeleton, mentions, ms) {
                continue;
            }
            let Some((froms, fconf)) = resolve(&sent, pat.from, ms, me, &group, ctx) else { continue };
            let Some((tos, tconf)) = resolve(&sent, pat.to, ms, me, &group, ctx) else { continue };
            let conf = pat.confidence * fconf * tconf;
            let mut any = false;
            for &f in &froms {
                for &to in &tos {
                    if f != to {
                        out.push(Found { from: f, to, rel: pat.rel, confidence: conf, cue: pat.name });
                        any = true;
                    }
                }
            }
            if any {
                consumed.push((ms, me));
                pos = me;
                // Mentions inside a comparison / base group are obliques; objects remember subjects.
                let oblique_group = matches!(
                    pat.rel,
                    Rel::ContrastedWith | Rel::SimilarTo | Rel::BasedOn | Rel::Outperforms | Rel::ImprovesOn
                );
                for (k, m) in mentions.iter().enumerate() {
                    if m.start >= ms && m.end <= me && tos.contains(&m.term) {
                        if oblique_group {
                            sent.oblique[k] = true;
                        } else if sent.subject_of_object[k].is_none() {
                            sent.subject_of_object[k] = Some(froms.clone());
                        }
                    }
                }
                if pat.rel == Rel::Uses || pat.rel == Rel::Replaces {
                    // The object right after the cue (outside the match for simple cues).
                    if let Some(k) = mentions.iter().position(|m| m.start >= me && tos.contains(&m.term))
                        && sent.subject_of_object[k].is_none()
                    {
                        sent.subject_of_object[k] = Some(froms.clone());
                    }
                }
                if pat.also_uses
                    && let Some((subj, sconf)) = resolve(&sent, Slot::BeforeExplicit, ms, me, &group, ctx)
                {
                    for &s in &subj {
                        for &f in &froms {
                            if s != f && !tos.contains(&s) {
                                out.push(Found {
                                    from: s,
                                    to: f,
                                    rel: Rel::Uses,
                                    confidence: 0.75 * sconf,
                                    cue: pat.name,
                                });
                            }
                        }
                    }
                }
            }
        }
    }
    distribute_over_examples(&mut out);
    out
}

/// `X 支持多种编程语言，包括 A、B 和 C`: what is said of the category is said of each listed
/// member (the members were found as `is_a` the category by the `Y，如X` pattern).
fn distribute_over_examples(out: &mut Vec<Found>) {
    let members: Vec<(u32, u32)> =
        out.iter().filter(|f| f.rel == Rel::IsA && f.cue == "Y，如X").map(|f| (f.from, f.to)).collect();
    if members.is_empty() {
        return;
    }
    let mut extra = Vec::new();
    let mut distributed = Vec::new();
    for (k, f) in out.iter().enumerate() {
        if !matches!(f.rel, Rel::UsedFor | Rel::Uses | Rel::PartOf) {
            continue;
        }
        let before = extra.len();
        for &(m, cat) in &members {
            if f.to == cat && f.from != m {
                extra.push(Found { from: f.from, to: m, rel: f.rel, confidence: f.confidence * 0.9, cue: f.cue });
            }
        }
        // Said of two or more listed members, the statement is about them, not the category word.
        if extra.len() - before >= 2 {
            distributed.push(k);
        }
    }
    for k in distributed.into_iter().rev() {
        out.remove(k);
    }
    out.extend(extra);
}

/// An attribute noun between the nearest mention and the cue (`X具体结构就是`, `X的作用是`).
fn attribute_before(s: &str, mentions: &[Span], pos: usize) -> bool {
    let from = mentions.iter().rev().find(|m| m.end <= pos).map_or(0, |m| m.end);
    let gap = &s[from..pos];
    [
        "结构", "作用", "目的", "思想", "原理", "核心", "本质", "优势", "问题", "缺点", "优点", "区别", "特点", "效果",
        "参数", "输出", "输入",
    ]
    .iter()
    .any(|w| gap.contains(w))
}

fn negated(s: &str, pos: usize) -> bool {
    // Within the clause: `…不变,只对 X 微调` is not negated.
    let before: Vec<char> = s[..pos].chars().rev().take(3).take_while(|&c| !is_clause_delim(c)).collect();
    let zh = before.iter().any(|c| matches!(c, '不' | '未' | '无' | '没'))
        && !(before.first() == Some(&'而') || before.starts_with(&['非', '而']));
    let l = s[..pos].to_ascii_lowercase();
    let l = l.trim_end();
    zh || l.ends_with(" not") || l.ends_with("n't") || l.ends_with(" never") || l.ends_with(" no")
}

type GroupFn<'a> = dyn Fn(&str) -> Option<(usize, usize)> + 'a;

/// The term ids a slot resolves to, with a confidence factor (< 1 for fallbacks).
fn resolve(
    sent: &Sentence<'_>,
    slot: Slot,
    ms: usize,
    me: usize,
    group: &GroupFn<'_>,
    ctx: Context,
) -> Option<(Vec<u32>, f32)> {
    let terms = |idx: Vec<usize>| idx.into_iter().map(|i| sent.mentions[i].term).collect::<Vec<u32>>();
    let (clo, chi) = sent.clause_of(ms);
    match slot {
        Slot::Before | Slot::BeforeExplicit | Slot::BeforeOrOmitted | Slot::BeforeOrNext => {
            if let Some(i) = sent.before(ms, clo, 14) {
                if let Some(subj) = sent.shared_subject(i, ms) {
                    return Some((subj, 1.0));
                }
                return Some((terms(sent.coordinated(i, false, clo, chi)), 1.0));
            }
            if slot == Slot::BeforeExplicit || slot == Slot::BeforeOrOmitted && !subjectless_prefix(&sent.s[clo..ms]) {
                return None;
            }
            if slot == Slot::BeforeOrNext {
                let ci = sent.clause_index(ms);
                if let Some(&(a, b)) = sent.clauses.get(ci + 1)
                    && let Some(i) = sent.mentions.iter().position(|m| m.start >= a && m.end <= b)
                    && subjectless_prefix(&sent.s[a..sent.mentions[i].start])
                {
                    return Some((terms(sent.coordinated(i, true, a, b)), 1.0));
                }
            }
            // Omitted subject: the topic of the sentence, else the section's concept when the clause
            // starts with the cue.
            if let Some(i) = sent.topic(sent.clause_index(ms)) {
                let (a, b) = sent.clause_of(sent.mentions[i].start);
                return Some((terms(sent.coordinated(i, true, a, b)), 0.85));
            }
            if subjectless_prefix(&sent.s[clo..ms])
                && let Some(s) = ctx.section_subject
            {
                return Some((vec![s], 0.85));
            }
            None
        }
        Slot::After => {
            let (_, chi) = sent.clause_of(me);
            let i = sent.after(me, chi, 8)?;
            let h = sent.head_of(i, chi);
            Some((terms(sent.coordinated(h, true, me, chi)), 1.0))
        }
        Slot::Head => {
            let (_, chi) = sent.clause_of(me);
            // The last mention of the clause after the cue, when only a short tail follows it and
            // the words before it are modifiers (`是一个 decoder only 的模型`).
            let cands: Vec<usize> = (0..sent.mentions.len())
                .filter(|&i| sent.mentions[i].start >= me && sent.mentions[i].end <= chi)
                .collect();
            let &last = cands.last()?;
            let tail = sent.s[sent.mentions[last].end..chi].trim().trim_end_matches(['.', '。']);
            let latin_tail = !super::text::has_cjk(tail) && tail.split_whitespace().count() <= 2;
            let tail_ok =
                tail.chars().count() <= 4 || tail.starts_with('的') && tail.chars().count() <= 5 || latin_tail;
            let between = &sent.s[me..sent.mentions[cands[0]].start];
            if !tail_ok || !light_gap(between, 12) {
                return None;
            }
            let first = *cands.first()?;
            // Coordinated heads: `是一种 A 或 B` is rare; take the last and its coordinated left.
            let idx = sent.coordinated(last, false, sent.mentions[first].start, chi);
            Some((terms(idx), 1.0))
        }
        Slot::Group(name) | Slot::GroupOrBefore(name) => {
            let found = group(name).and_then(|(a, b)| {
                let inside: Vec<usize> = (0..sent.mentions.len())
                    .filter(|&i| sent.mentions[i].start >= a && sent.mentions[i].end <= b)
                    .collect();
                let &last = inside.last()?;
                let mut chosen = sent.coordinated(last, false, a, b);
                chosen.reverse();
                // A compound around the name, with another name in its modifier (`FFN 层的并行 Adapter`):
                // the group names a variant, not the bare name.
                let glued = sent.s[a..sent.mentions[chosen[0]].start]
                    .chars()
                    .next_back()
                    .is_some_and(|c| super::text::has_cjk(&c.to_string()) && c != '的');
                if glued && inside.first().is_some_and(|f| !chosen.contains(f)) && slot_is_strict_group(slot) {
                    return None;
                }
                // Little text around the mentions: the group is a noun phrase, not a clause.
                let lead = sent.s[a..sent.mentions[chosen[0]].start].trim().chars().count();
                let trail = sent.s[sent.mentions[last].end..b].trim().chars().count();
                if lead > 8 || trail > 4 {
                    return None;
                }
                Some(chosen)
            });
            match (found, slot) {
                (Some(idx), _) => Some((terms(idx), 1.0)),
                (None, Slot::GroupOrBefore(_)) => {
                    let (a, _) = group(name).unwrap_or((me, me));
                    if sent.s[a..].split(is_clause_delim).next().is_some_and(|g| g.trim().chars().count() <= 3) {
                        resolve(sent, Slot::BeforeExplicit, ms, me, group, ctx)
                    } else {
                        None
                    }
                }
                _ => None,
            }
        }
        Slot::AfterGroup(name) => {
            // The object follows the cue closely (at most a short quantifier: `单个`, `一个`).
            let (_, ge) = group(name)?;
            let (_, chi) = sent.clause_of(ge);
            let i = sent.mentions.iter().position(|m| m.start >= ge && m.end <= chi)?;
            if sent.s[ge..sent.mentions[i].start].trim().chars().count() > 2 {
                return None;
            }
            resolve(sent, Slot::After, ms, ge, group, ctx)
        }
        Slot::BeforeOrClauseSubject => {
            if let Some(r) = resolve(sent, Slot::BeforeExplicit, ms, me, group, ctx) {
                return Some(r);
            }
            let ci = sent.clause_index(ms);
            let (a, _) = sent.clauses[ci];
            if let Some(i) = sent.mentions.iter().position(|m| m.start >= a && m.end <= ms)
                && subjectless_prefix(&sent.s[a..sent.mentions[i].start])
                && !sent.oblique[i]
                && !sent.is_locative(i, i)
            {
                return Some((terms(sent.coordinated(i, true, a, ms)), 1.0));
            }
            resolve(sent, Slot::Before, ms, me, group, ctx)
        }
        Slot::BeforeElseAfter => resolve(sent, Slot::BeforeExplicit, ms, me, group, ctx)
            .or_else(|| resolve(sent, Slot::After, ms, me, group, ctx)),
        Slot::Previous => {
            // The mention ending right before the cue (the cue starts with the comma).
            let i = sent.mentions.iter().rposition(|m| m.end <= ms)?;
            let gap = sent.s[sent.mentions[i].end..ms].trim();
            if !matches!(gap, "" | "等" | "等等") {
                return None;
            }
            Some((vec![sent.mentions[i].term], 1.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Marks mentions with brackets: "[LLaMA]使用[RMSNorm]" → skeleton + spans; ids in order of
    /// first appearance of each distinct name.
    fn parse(marked: &str) -> (String, Vec<Span>, Vec<String>) {
        let mut s = String::new();
        let mut spans = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let mut cur: Option<usize> = None;
        for c in marked.chars() {
            match c {
                '[' => cur = Some(s.len()),
                ']' => {
                    let st = cur.take().unwrap();
                    let name = s[st..].to_string();
                    let id = names.iter().position(|n| *n == name).unwrap_or_else(|| {
                        names.push(name.clone());
                        names.len() - 1
                    });
                    spans.push(Span { start: st, end: s.len(), term: id as u32 });
                }
                _ => s.push(c),
            }
        }
        (s, spans, names)
    }

    fn rels(marked: &str, section: Option<&str>) -> Vec<(String, Rel, String)> {
        let (s, spans, mut names) = parse(marked);
        let section_subject = section.map(|n| {
            names.push(n.to_string());
            (names.len() - 1) as u32
        });
        let mut v: Vec<(String, Rel, String)> =
            find_relations(&s, &SentenceCues::of(&s), &spans, Context { section_subject })
                .into_iter()
                .map(|f| (names[f.from as usize].clone(), f.rel, names[f.to as usize].clone()))
                .collect();
        v.sort_by(|a, b| (&a.0, a.1, &a.2).cmp(&(&b.0, b.1, &b.2)));
        v.dedup();
        v
    }

    fn has(v: &[(String, Rel, String)], a: &str, r: Rel, b: &str) -> bool {
        v.iter().any(|(x, rr, y)| x == a && *rr == r && y == b)
    }

    #[test]
    fn chinese_uses_and_replaces() {
        let v = rels("并且 使用[RMSNorm]而非[layernorm];", Some("LLaMA"));
        assert!(has(&v, "LLaMA", Rel::Uses, "RMSNorm"), "{v:?}");
        assert!(has(&v, "RMSNorm", Rel::Replaces, "layernorm"), "{v:?}");
        let v = rels("[Qwen]也用了[Pre-Norm] & [RMSNorm]。", None);
        assert!(has(&v, "Qwen", Rel::Uses, "Pre-Norm") && has(&v, "Qwen", Rel::Uses, "RMSNorm"), "{v:?}");
        let v = rels("此外,[Qwen]用[RMSNorm]取代了传统[层归一化]技术。", None);
        assert!(has(&v, "RMSNorm", Rel::Replaces, "层归一化"), "{v:?}");
        assert!(has(&v, "Qwen", Rel::Uses, "RMSNorm"), "{v:?}");
        assert!(!has(&v, "Qwen", Rel::Uses, "层归一化"), "{v:?}");
        let v = rels("[LLaMA]中直接将[FFN]中的[ReLU]替换为[SwiGLU]", None);
        assert!(has(&v, "SwiGLU", Rel::Replaces, "ReLU"), "{v:?}");
        let v = rels("在 HuggingFace 的 Transformer 库中 [Swish1] 函数使用 [silu] 函数代替。", None);
        assert!(has(&v, "silu", Rel::Replaces, "Swish1"), "{v:?}");
        assert!(!has(&v, "Swish1", Rel::Uses, "silu"), "{v:?}");
        let v = rels("[MHA]改成[GQA]:整体参数量会有减少", None);
        assert!(has(&v, "GQA", Rel::Replaces, "MHA"), "{v:?}");
        let v = rels("所以提出可以用部分数据的[RMSNorm]来代替全部的计算", None);
        assert!(v.is_empty(), "{v:?}");
        let v = rels("[LLaMA]基于[Transformer]", None);
        assert!(has(&v, "LLaMA", Rel::BasedOn, "Transformer"), "{v:?}");
        let v = rels("[Alpaca]是在[LLaMA]基础上精调的模型", None);
        assert!(has(&v, "Alpaca", Rel::BasedOn, "LLaMA"), "{v:?}");
    }

    #[test]
    fn an_object_of_an_earlier_verb_is_not_the_topic() {
        let v = rels("可以采用[余弦相似度]、[点积]、[欧式距离]等,通常情况下可以直接使用[余弦相似度]。", Some("检索"));
        assert!(!has(&v, "点积", Rel::Uses, "余弦相似度") && !has(&v, "欧式距离", Rel::Uses, "余弦相似度"), "{v:?}");
        assert!(has(&v, "检索", Rel::Uses, "点积"), "{v:?}");
        // A clause-opening subject still carries over.
        let v = rels("[Pre Norm]结构往往更容易训练,但最终效果通常不如[Post Norm]", None);
        assert!(has(&v, "Post Norm", Rel::Outperforms, "Pre Norm"), "{v:?}");
        // The chain's topic is its first clause's subject, not the nearest earlier mention.
        let v = rels("[BN]的目的在于进入[激活函数]之前,变成均值0,[方差]1的正态分布,避免[梯度消失]", None);
        assert!(has(&v, "BN", Rel::Mitigates, "梯度消失") && !has(&v, "方差", Rel::Mitigates, "梯度消失"), "{v:?}");
    }

    #[test]
    fn chinese_is_a_part_of_and_contrast() {
        let v = rels("[GQA]和[MQA]都是[注意力]的变体,其中多个查询头关注相同的键", None);
        assert!(has(&v, "GQA", Rel::IsA, "注意力") && has(&v, "MQA", Rel::IsA, "注意力"), "{v:?}");
        let v = rels("[LlaMa] 是一个[decoder only]的模型,训练语料主要以英文为主", None);
        assert!(has(&v, "LlaMa", Rel::IsA, "decoder only"), "{v:?}");
        // The topic carries over to a clause without a subject of its own, not to one with one.
        let v = rels("[LLaMA]发布于2023年,它是一个[decoder only]的模型", None);
        assert!(has(&v, "LLaMA", Rel::IsA, "decoder only"), "{v:?}");
        let v = rels("[MoE]包含:一些专家,每个专家都是一个简单的[前馈神经网络]。", None);
        assert!(!has(&v, "MoE", Rel::IsA, "前馈神经网络"), "{v:?}");
        let v = rels("[Causal LLM]属于[自回归模型]", None);
        assert!(has(&v, "Causal LLM", Rel::IsA, "自回归模型"), "{v:?}");
        let v = rels("[BN]适用于固定深度的[前向神经网络],如[CNN],不适用于[RNN];", None);
        assert!(has(&v, "CNN", Rel::IsA, "前向神经网络"), "{v:?}");
        assert!(has(&v, "BN", Rel::UsedFor, "前向神经网络"), "{v:?}");
        assert!(!has(&v, "BN", Rel::UsedFor, "RNN"), "negated: {v:?}");
        let v = rels("[MoE]包含[专家]和[门控网络]", None);
        assert!(has(&v, "专家", Rel::PartOf, "MoE") && has(&v, "门控网络", Rel::PartOf, "MoE"), "{v:?}");
        let v = rels("与[layerNorm]相比,[RMS Norm]的主要区别在于去掉了减去均值的部分", None);
        assert!(has(&v, "RMS Norm", Rel::ContrastedWith, "layerNorm"), "{v:?}");
        let v = rels("[GPT-2] 相较于 [GPT] 就引入了[前置层归一化方法]", None);
        assert!(has(&v, "GPT-2", Rel::ContrastedWith, "GPT"), "{v:?}");
        assert!(has(&v, "GPT-2", Rel::Uses, "前置层归一化方法"), "{v:?}");
        let v = rels("[Deep Norm]是对[Post-LN]的的改进,具体的:", None);
        assert!(has(&v, "Deep Norm", Rel::ImprovesOn, "Post-LN"), "{v:?}");
        let v = rels("[GQA]和[MQA]均比[MHA]有更好的吞吐量", None);
        assert!(has(&v, "GQA", Rel::Outperforms, "MHA") && has(&v, "MQA", Rel::Outperforms, "MHA"), "{v:?}");
        let v = rels("[LN]用于[RNN]效果比较明显,但是在[CNN]上,效果不如[BN]。", None);
        assert!(has(&v, "BN", Rel::Outperforms, "LN"), "{v:?}");
        // Exceeding a quantity compares with a number, not with the concept after it.
        let v = rels("选取累计[概率]超过0.9的集合进行[采样]", None);
        assert!(v.is_empty(), "{v:?}");
        let v = rels("[GQA]超过[MHA]", None);
        assert!(has(&v, "GQA", Rel::Outperforms, "MHA"), "{v:?}");
        let v = rels("2023年2月,[Meta]推出了[LLaMA]大模型", None);
        assert!(has(&v, "LLaMA", Rel::ProposedBy, "Meta"), "{v:?}");
        let v = rels("[AdapterFusion]解决了[灾难性遗忘]、[任务间干扰]和[训练不稳定]的问题", None);
        assert!(has(&v, "AdapterFusion", Rel::Mitigates, "任务间干扰"), "{v:?}");
        let v = rels("[GN]是为了解决[BN]对较小的mini-batch size效果差的问题。", None);
        assert!(has(&v, "GN", Rel::ImprovesOn, "BN"), "{v:?}");
    }

    #[test]
    fn a_category_with_listed_members_distributes() {
        let v = rels("支持多种[编程语言],包括[Python]、[Java]和[Bash]", Some("Code Llama"));
        for m in ["Python", "Java", "Bash"] {
            assert!(has(&v, m, Rel::IsA, "编程语言"), "{v:?}");
            assert!(has(&v, "Code Llama", Rel::UsedFor, m), "{v:?}");
        }
        let v = rels("[BERT]、[GPT]和[T5]都很有名", None);
        assert!(v.is_empty(), "{v:?}");
    }

    #[test]
    fn english_patterns() {
        let v = rels("[LLaMA] uses [RMSNorm] and [SwiGLU].", None);
        assert!(has(&v, "LLaMA", Rel::Uses, "RMSNorm") && has(&v, "LLaMA", Rel::Uses, "SwiGLU"), "{v:?}");
        let v = rels("[RMSNorm] replaces [LayerNorm] in the block.", None);
        assert!(has(&v, "RMSNorm", Rel::Replaces, "LayerNorm"), "{v:?}");
        let v = rels("[BERT] is an [encoder-only] model.", None);
        assert!(has(&v, "BERT", Rel::IsA, "encoder-only"), "{v:?}");
        let v = rels("[LlamaRMSNorm] is equivalent to [T5LayerNorm]", None);
        assert!(has(&v, "LlamaRMSNorm", Rel::SimilarTo, "T5LayerNorm"), "{v:?}");
        let v = rels("[LLaMA] was released by [Meta] in 2023.", None);
        assert!(has(&v, "LLaMA", Rel::ProposedBy, "Meta"), "{v:?}");
        let v = rels("[LoRA] is used for [fine-tuning].", None);
        assert!(has(&v, "LoRA", Rel::UsedFor, "fine-tuning"), "{v:?}");
    }

    #[test]
    fn case_insensitive_cues_are_found_in_any_case() {
        let v = rels("[LoRA] Is Used For [fine-tuning].", None);
        assert!(has(&v, "LoRA", Rel::UsedFor, "fine-tuning"), "{v:?}");
        let v = rels("[LoRA] is USED TOGETHER WITH [Prefix Tuning].", None);
        assert!(has(&v, "LoRA", Rel::UsedWith, "Prefix Tuning"), "{v:?}");
        let v = rels("[BERT] IS AN [encoder-only] model.", None);
        assert!(has(&v, "BERT", Rel::IsA, "encoder-only"), "{v:?}");
    }

    #[test]
    fn every_pattern_is_searched_only_where_its_prefix_occurs() {
        // A pattern without one would be searched in every sentence of every note.
        let unfiltered: Vec<&str> = prefilter().always.iter().map(|&i| patterns()[i].0.name).collect();
        assert!(unfiltered.is_empty(), "{unfiltered:?}");
    }

    #[test]
    fn applied_before_needs_a_placement_verb() {
        let v = rels("右边是改进之后的[Pre-LN],即把[LN]放在[FFN]和[MHA]之前。", None);
        assert!(has(&v, "LN", Rel::AppliedBefore, "FFN") && has(&v, "LN", Rel::AppliedBefore, "MHA"), "{v:?}");
        let v = rels("左边是原版的[Post-LN],即将[LN]放在[addition]之后;", None);
        assert!(has(&v, "addition", Rel::AppliedBefore, "LN"), "{v:?}");
        let v = rels("并在每个[FFN]层之后添加[Adapter]。", None);
        assert!(has(&v, "FFN", Rel::AppliedBefore, "Adapter"), "{v:?}");
        let v = rels("[LayerNorm] is placed before [attention].", None);
        assert!(has(&v, "LayerNorm", Rel::AppliedBefore, "attention"), "{v:?}");
        let v = rels("[Adapter] is applied after [FFN].", None);
        assert!(has(&v, "FFN", Rel::AppliedBefore, "Adapter"), "{v:?}");
        // A time clause, not a position in the computation.
        let v = rels("[DeepNorm]在进行[Layer Norm]之前会以 alpha 参数扩大[残差]连接", None);
        assert!(!v.iter().any(|r| r.1 == Rel::AppliedBefore), "{v:?}");
        let v = rels("[LLaMA] was released before [GPT-4].", None);
        assert!(v.is_empty(), "{v:?}");
    }

    #[test]
    fn implements_and_inserted_into() {
        let v = rels("[RMSNorm] 在 [HuggingFace Transformer] 库中代码实现如下所示:", None);
        assert!(has(&v, "HuggingFace Transformer", Rel::Implements, "RMSNorm"), "{v:?}");
        let v = rels("对于每个模块,[门控]被实现为[线性层]", None);
        assert!(has(&v, "线性层", Rel::Implements, "门控"), "{v:?}");
        let v = rels("[gating] is implemented as a [linear layer].", None);
        assert!(has(&v, "linear layer", Rel::Implements, "gating"), "{v:?}");
        // `实现了` a result is not an implementation.
        let v = rels("[LoRA]在[GLUE]中实现了更好的效果", None);
        assert!(!v.iter().any(|r| r.1 == Rel::Implements), "{v:?}");

        let v = rels("[Adapter Tuning],该方法设计了[Adapter]结构,并将其嵌入[Transformer]的结构里面", None);
        assert!(has(&v, "Adapter Tuning", Rel::InsertedInto, "Transformer"), "{v:?}");
        let v = rels("[Adapter] 在[预训练模型]每层中插入用于下游任务的参数", None);
        assert!(has(&v, "Adapter", Rel::InsertedInto, "预训练模型"), "{v:?}");
        let v = rels("[prefix] vectors are inserted into [attention].", None);
        assert!(has(&v, "prefix", Rel::InsertedInto, "attention"), "{v:?}");
        // `嵌入` as a noun.
        let v = rels("[BERT]的词嵌入维度是768", None);
        assert!(v.is_empty(), "{v:?}");
    }

    #[test]
    fn has_problem_used_with_updates() {
        let v = rels("[Post-LN]存在[梯度消失]的问题", None);
        assert!(has(&v, "Post-LN", Rel::HasProblem, "梯度消失"), "{v:?}");
        let v = rels("[Post-LN] suffers from [vanishing gradients].", None);
        assert!(has(&v, "Post-LN", Rel::HasProblem, "vanishing gradients"), "{v:?}");
        let v = rels("[Post-LN]不存在[梯度消失]的问题", None);
        assert!(v.is_empty(), "negated: {v:?}");
        let v = rels("[BN]的问题在于依赖[batch size]", None);
        assert!(!v.iter().any(|r| r.1 == Rel::HasProblem), "{v:?}");

        let v = rels("[LoRA]可以与[Prefix Tuning]结合使用", None);
        assert!(has(&v, "LoRA", Rel::UsedWith, "Prefix Tuning"), "{v:?}");
        let v = rels("[LoRA] is often used in combination with [quantization].", None);
        assert!(has(&v, "LoRA", Rel::UsedWith, "quantization"), "{v:?}");
        let v = rels("[LoRA]与[Adapter]相比参数更少", None);
        assert!(!v.iter().any(|r| r.1 == Rel::UsedWith), "{v:?}");

        let v = rels(
            "在训练时,固定住原来[预训练模型]的参数不变,只对新增的 [Adapter] 结构和 [Layer Norm] 层进行微调",
            Some("AT"),
        );
        assert!(has(&v, "AT", Rel::Updates, "Layer Norm") && has(&v, "AT", Rel::Updates, "Adapter"), "{v:?}");
        let v = rels("[BitFit] only updates the [bias] terms.", None);
        assert!(has(&v, "BitFit", Rel::Updates, "bias"), "{v:?}");
        // A relative clause (`只训练少量参数的 X 方法`) has no subject of its own.
        let v = rels("通过实验发现,只训练少量[参数]的[Adapter]方法的效果可以媲美[全量微调]", Some("AT"));
        assert!(!v.iter().any(|r| r.1 == Rel::Updates), "{v:?}");
    }

    #[test]
    fn combination_gain_variant_and_means() {
        let v = rels("[UniPELT]是 [LoRA]、[Prefix Tuning]和[Adapter]的[门控]组合。", None);
        for m in ["LoRA", "Prefix Tuning", "Adapter"] {
            assert!(has(&v, m, Rel::PartOf, "UniPELT"), "{v:?}");
        }
        // A modifier holding another name: the part is not the bare name.
        let v = rels("最终模型 [MAM Adapter] 是用 [FFN] 层的并行[Adapter]和[软提示]的组合。", None);
        assert!(!has(&v, "Adapter", Rel::PartOf, "MAM Adapter"), "{v:?}");
        let v = rels("作者提出了[UniPELT]方法,将不同的[PELT]方法作为子模块", Some("UniPELT"));
        assert!(has(&v, "PELT", Rel::PartOf, "UniPELT"), "{v:?}");

        let v = rels(
            "[UniPELT] 仅用 100 个示例就在低数据[场景]中展示了相对于单个 [LoRA]、[Adapter] 方法的显著改进。",
            None,
        );
        assert!(
            has(&v, "UniPELT", Rel::Outperforms, "LoRA") && has(&v, "UniPELT", Rel::Outperforms, "Adapter"),
            "{v:?}"
        );
        let v = rels("[SwiGLU]激活函数是相较于 [ReLU] 函数在大部分评测中都有不少提升。", None);
        assert!(has(&v, "SwiGLU", Rel::Outperforms, "ReLU"), "{v:?}");
        let v = rels("[GPT-2] 相较于 [GPT] 参数更多", None);
        assert!(!v.iter().any(|r| r.1 == Rel::Outperforms), "{v:?}");

        let v = rels("[Adapter Fusion],一种融合[多任务信息]的[Adapter]的变体,在 [Adapter] 的基础上进行优化", None);
        assert!(has(&v, "Adapter Fusion", Rel::IsA, "Adapter"), "{v:?}");
        assert!(has(&v, "Adapter Fusion", Rel::ImprovesOn, "Adapter"), "{v:?}");

        let v = rels("同时,通过一个[skip connection]来将[Adapter]的输入加到输出中", Some("AT"));
        assert!(has(&v, "AT", Rel::Uses, "skip connection"), "{v:?}");
        let v = rels("作者通过对[Adapter]的计算效率进行分析", Some("AT"));
        assert!(v.is_empty(), "{v:?}");
        let v = rels("[AdapterDrop] 通过从较低的 [Transformer] 层删除可变数量的 [Adapter] 来提升推理速度", None);
        assert!(!has(&v, "AdapterDrop", Rel::Uses, "Transformer"), "{v:?}");
        let v = rels("[LoRA] works by using [low-rank matrices].", None);
        assert!(has(&v, "LoRA", Rel::Uses, "low-rank matrices"), "{v:?}");

        let v = rels("[GN] 也是独立于 batch 的,它是 [LN] 和 [IN] 的折中。", None);
        assert!(has(&v, "GN", Rel::SimilarTo, "LN") && has(&v, "GN", Rel::SimilarTo, "IN"), "{v:?}");
        let v = rels("[LayerNorm]是大模型也是[transformer]结构中最常用的归一化操作", None);
        assert!(has(&v, "transformer", Rel::Uses, "LayerNorm"), "{v:?}");
        let v = rels("使用带有 [SwiGLU] 激活函数的 [FFN]", None);
        assert!(has(&v, "FFN", Rel::Uses, "SwiGLU"), "{v:?}");
        let v = rels("有轻微的[正则化]作用", Some("BN"));
        assert!(has(&v, "BN", Rel::UsedFor, "正则化"), "{v:?}");
        let v = rels("[Dropout]的作用是什么", None);
        assert!(v.is_empty(), "{v:?}");
    }

    #[test]
    fn no_relation_without_a_cue_or_in_questions() {
        assert!(rels("[BERT]、[GPT]、[T5]", None).is_empty());
        assert!(rels("为什么[LLaMA]使用[RMSNorm]?", None).is_empty());
        assert!(rels("[BN]的使用位置:全连接层或卷积操作之后", None).is_empty());
    }
}
#[cfg(test)]
mod prefilter_tests {
    #[test]
    fn almost_every_pattern_has_a_literal_cue_for_the_prefilter() {
        let p = super::prefilter();
        assert!(p.always.len() <= 2, "{:?}", p.always.iter().map(|&i| super::patterns()[i].0.name).collect::<Vec<_>>());
    }
}
