//! The corpus: finding note files under a folder and reading them.
//!
//! Owns the rules for which files are notes (`*.md` / `*.markdown`, no hidden folders, `.gitignore`
//! and `.ignore` honoured) and how a note's bytes become text plus a content hash. It reports notes
//! it cannot read as [`Skipped`] instead of failing. It never parses Markdown and never writes.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A note file found in the corpus, read and hashed.
#[derive(Debug, Clone)]
pub struct NoteSource {
    /// Path relative to the corpus root, `/`-separated.
    pub rel_path: String,
    pub abs_path: PathBuf,
    pub text: String,
    /// Hex sha256 of the file's bytes.
    pub hash: String,
}

/// A note that was found but could not be used, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub rel_path: String,
    pub reason: String,
}

/// Everything read from the corpus in one pass.
#[derive(Debug, Default)]
pub struct CorpusScan {
    pub notes: Vec<NoteSource>,
    pub skipped: Vec<Skipped>,
    /// Site-navigation pages left out (relative paths).
    pub site_nav: Vec<String>,
}

fn is_note(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref(), Some("md" | "markdown"))
}

/// Site-generator navigation files (docsify, GitHub wikis, mdBook/GitBook): menus, not notes.
const SITE_NAV_FILES: &[&str] =
    &["_sidebar.md", "_navbar.md", "_coverpage.md", "_footer.md", "_Sidebar.md", "_Footer.md", "SUMMARY.md"];

/// Which folder to read and what to leave out.
#[derive(Debug, Clone)]
pub struct Corpus {
    pub root: PathBuf,
    /// Globs (gitignore syntax, relative to the root) of notes to leave out.
    pub exclude: Vec<String>,
    /// Keep site-navigation pages (see [`Corpus::scan`]).
    pub include_site_nav: bool,
}

impl Corpus {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Corpus { root: root.into(), exclude: Vec::new(), include_site_nav: false }
    }

    /// Lists and reads every note under the root, sorted by relative path.
    ///
    /// Left out: hidden files and folders, what `.gitignore`, `.ignore` and `.notegraphignore`
    /// exclude, the `exclude` globs, and (unless `include_site_nav`) site-navigation pages at the
    /// top level: docsify's `_sidebar.md` / `_navbar.md` / `_coverpage.md`, GitHub wiki
    /// `_Sidebar.md` / `_Footer.md`, mdBook's `SUMMARY.md`, and the top-level `README.md` when
    /// one of those is present (it is then the site's home page, not a note).
    pub fn scan(&self) -> Result<CorpusScan> {
        scan_with(self)
    }
}

/// Reads the corpus at `root` with default options.
pub fn scan(root: &Path) -> Result<CorpusScan> {
    Corpus::new(root).scan()
}

fn scan_with(corpus: &Corpus) -> Result<CorpusScan> {
    let root = corpus.root.as_path();
    let meta = std::fs::metadata(root).map_err(|e| Error::Corpus {
        path: root.to_path_buf(),
        msg: format!("{e}; pass --corpus DIR (or set NOTEGRAPH_CORPUS) to a folder of Markdown notes"),
    })?;
    if !meta.is_dir() {
        return Err(Error::Corpus {
            path: root.to_path_buf(),
            msg: "is not a folder; pass --corpus DIR with a folder of Markdown notes".into(),
        });
    }
    let mut overrides = ignore::overrides::OverrideBuilder::new(root);
    for glob in &corpus.exclude {
        overrides.add(&format!("!{glob}")).map_err(|e| Error::Usage(format!("--exclude {glob:?}: {e}")))?;
    }
    let mut site_nav: Vec<String> = Vec::new();
    if !corpus.include_site_nav {
        let present: Vec<&str> = SITE_NAV_FILES.iter().copied().filter(|f| root.join(f).is_file()).collect();
        site_nav.extend(present.iter().map(|s| s.to_string()));
        if !present.is_empty() && root.join("README.md").is_file() {
            site_nav.push("README.md".into());
        }
    }
    let overrides = overrides.build().map_err(|e| Error::Usage(format!("--exclude: {e}")))?;
    let mut scan = CorpusScan::default();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(true)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(false)
        .require_git(false)
        .ignore(true)
        .add_custom_ignore_filename(".notegraphignore")
        .overrides(overrides)
        .parents(false)
        .follow_links(true)
        .sort_by_file_name(|a, b| a.cmp(b))
        .build();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                scan.skipped.push(Skipped { rel_path: error_path(&e, root), reason: e.to_string() });
                continue;
            }
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) || !is_note(entry.path()) {
            continue;
        }
        let rel_path = relative(root, entry.path());
        if site_nav.contains(&rel_path) {
            scan.site_nav.push(rel_path);
            continue;
        }
        match read_note(entry.path()) {
            Ok((text, hash)) => {
                scan.notes.push(NoteSource { rel_path, abs_path: entry.path().to_path_buf(), text, hash })
            }
            Err(reason) => scan.skipped.push(Skipped { rel_path, reason }),
        }
    }
    scan.notes.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    Ok(scan)
}

fn error_path(e: &ignore::Error, root: &Path) -> String {
    fn find(e: &ignore::Error) -> Option<&Path> {
        match e {
            ignore::Error::WithPath { path, .. } => Some(path),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => find(err),
            _ => None,
        }
    }
    find(e).map(|p| relative(root, p)).unwrap_or_else(|| root.display().to_string())
}

/// `path` relative to `root`, with `/` separators.
pub fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// Reads a note as UTF-8 text. Binary files and invalid UTF-8 are refused with a reason.
fn read_note(path: &Path) -> std::result::Result<(String, String), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let hash = hex(&Sha256::digest(&bytes));
    if bytes.iter().take(8192).any(|&b| b == 0) {
        return Err("looks binary (contains NUL bytes), not a Markdown note".into());
    }
    let mut text = String::from_utf8(bytes).map_err(|e| {
        format!("is not valid UTF-8 (first bad byte at offset {}); re-save it as UTF-8", e.utf8_error().valid_up_to())
    })?;
    if text.starts_with('\u{feff}') {
        text.drain(..3);
    }
    Ok((text, hash))
}

/// Lower-case hex of a byte string.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_notes_skips_hidden_ignored_and_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("sub/深层")).unwrap();
        std::fs::create_dir_all(root.join(".hidden")).unwrap();
        std::fs::write(root.join("a.md"), "# A\n").unwrap();
        std::fs::write(root.join("sub/深层/笔记.markdown"), "# B\n").unwrap();
        std::fs::write(root.join(".hidden/h.md"), "# H\n").unwrap();
        std::fs::write(root.join("skip.md"), "# S\n").unwrap();
        std::fs::write(root.join("notes.txt"), "x").unwrap();
        std::fs::write(root.join(".ignore"), "skip.md\n").unwrap();
        std::fs::write(root.join("bad.md"), b"# bad \xff\xfe\n").unwrap();
        std::fs::write(root.join("bin.md"), b"\x00\x01\x02").unwrap();
        let scan = scan(root).unwrap();
        let paths: Vec<&str> = scan.notes.iter().map(|n| n.rel_path.as_str()).collect();
        assert_eq!(paths, ["a.md", "sub/深层/笔记.markdown"]);
        let skipped: Vec<&str> = scan.skipped.iter().map(|s| s.rel_path.as_str()).collect();
        assert_eq!(skipped, ["bad.md", "bin.md"]);
        assert!(scan.skipped[0].reason.contains("UTF-8"));
    }

    #[test]
    fn site_navigation_pages_and_excludes_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("sub")).unwrap();
        for f in ["README.md", "_sidebar.md", "_navbar.md", "note.md", "sub/README.md", "draft.md"] {
            std::fs::write(root.join(f), "# x\n").unwrap();
        }
        let corpus = Corpus { root: root.into(), exclude: vec!["draft.md".into()], include_site_nav: false };
        let scan = corpus.scan().unwrap();
        let paths: Vec<&str> = scan.notes.iter().map(|n| n.rel_path.as_str()).collect();
        assert_eq!(paths, ["note.md", "sub/README.md"]);
        assert_eq!(scan.site_nav, ["README.md", "_navbar.md", "_sidebar.md"]);
        let all = Corpus { include_site_nav: true, exclude: vec![], ..corpus }.scan().unwrap();
        assert_eq!(all.notes.len(), 6);
        // Without a site-navigation file, README.md is an ordinary note.
        std::fs::remove_file(root.join("_sidebar.md")).unwrap();
        std::fs::remove_file(root.join("_navbar.md")).unwrap();
        assert!(scan_with(&Corpus::new(root)).unwrap().notes.iter().any(|n| n.rel_path == "README.md"));
    }

    #[test]
    fn missing_corpus_is_an_error_naming_it() {
        let err = scan(Path::new("/no/such/folder")).unwrap_err().to_string();
        assert!(err.contains("/no/such/folder"), "{err}");
        assert!(err.contains("--corpus"), "{err}");
    }
}
