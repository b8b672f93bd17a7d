//! Helpers shared by the end-to-end tests that drive the real `notegraph` binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `notegraph --corpus CORPUS --index INDEX ARGS…`, with the user's corpus and index variables
/// cleared so the test sees only what it passes.
pub fn command(corpus: &Path, index: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_notegraph"));
    cmd.arg("--corpus")
        .arg(corpus)
        .arg("--index")
        .arg(index)
        .args(args)
        .env_remove("NOTEGRAPH_CORPUS")
        .env_remove("NOTEGRAPH_INDEX")
        .env_remove("NOTEGRAPH_MODEL_DIR");
    cmd
}

/// Runs notegraph on BM25 alone (no model needed).
pub fn run(corpus: &Path, index: &Path, args: &[&str]) -> Output {
    command(corpus, index, args).env("NOTEGRAPH_NO_DENSE", "1").output().expect("run notegraph")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}\n{}", stdout(o), stderr(o)))
}

/// Writes `text` to `root/rel`, creating folders.
pub fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("a parent folder")).expect("mkdir");
    std::fs::write(p, text).expect("write note");
}
