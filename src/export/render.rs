//! Rendering DOT to SVG or PNG by running Graphviz `dot`, and checking for a CJK font.
//!
//! Owns the `dot` child process (DOT on stdin, picture on stdout, stderr kept for the error) and
//! the install advice when `dot` is missing. It must not write DOT (that is [`super::dot`], which
//! names the font list) nor write files.

use std::ffi::OsStr;
use std::io::Write;
use std::process::{Command, Stdio};

use super::Format;

/// What to install for rendering, and the way around it.
pub const INSTALL_HINT: &str = "install Graphviz and a CJK font (Debian/Ubuntu: `apt-get install graphviz fonts-noto-cjk`, or \
     the smaller `fonts-wqy-microhei`; macOS: `brew install graphviz`), or write DOT with --format dot and render it \
     elsewhere";

/// PNG resolution: sharp enough for CJK strokes at the default font sizes.
pub const PNG_DPI: u32 = 144;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("--format {format} needs Graphviz `dot`, which is not on PATH: {INSTALL_HINT}")]
    DotMissing { format: Format },
    #[error("`dot -T{format}` failed ({status}): {stderr}")]
    DotFailed { format: Format, status: String, stderr: String },
    #[error("could not run `dot`: {0}")]
    Io(String),
    #[error("--format {0} is written directly, not rendered by `dot`")]
    NotRendered(Format),
}

/// Runs `dot -Tsvg` or `dot -Tpng` (at [`PNG_DPI`]) on `dot` and returns the picture.
pub fn run_dot(dot: &str, format: Format) -> Result<Vec<u8>, RenderError> {
    run_dot_with(OsStr::new("dot"), dot, format)
}

/// [`run_dot`] with the Graphviz program given (a path, or a name looked up on PATH).
pub fn run_dot_with(program: &OsStr, dot: &str, format: Format) -> Result<Vec<u8>, RenderError> {
    let mut cmd = Command::new(program);
    match format {
        Format::Svg => cmd.arg("-Tsvg"),
        Format::Png => cmd.arg("-Tpng").arg(format!("-Gdpi={PNG_DPI}")),
        other => return Err(RenderError::NotRendered(other)),
    };
    let mut child = match cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(RenderError::DotMissing { format }),
        Err(e) => return Err(RenderError::Io(e.to_string())),
    };
    // Feed stdin from a thread so that a large picture on stdout cannot deadlock the pipes.
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = dot.as_bytes().to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().map_err(|e| RenderError::Io(e.to_string()))?;
    let written = writer.join().map_err(|_| RenderError::Io("writing to dot panicked".into()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
        return Err(RenderError::DotFailed { format, status: output.status.to_string(), stderr });
    }
    if let Err(e) = written {
        return Err(RenderError::Io(format!("writing DOT to dot: {e}")));
    }
    Ok(output.stdout)
}

/// Whether fontconfig knows a font covering Chinese (`fc-list :lang=zh`); `None` when `fc-list`
/// cannot be run (no fontconfig: Graphviz then uses its own fonts). For a warning before
/// rendering a map with CJK labels: without such a font PNG shows Chinese as boxes.
pub fn cjk_font_available() -> Option<bool> {
    let out = Command::new("fc-list").args([":lang=zh", "family"]).stderr(Stdio::null()).output().ok()?;
    out.status.success().then(|| !String::from_utf8_lossy(&out.stdout).trim().is_empty())
}

/// Whether Graphviz `dot` can be run.
pub fn dot_available() -> bool {
    Command::new("dot").arg("-V").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_dot_names_the_install_and_the_way_around() {
        let e = run_dot_with(OsStr::new("/nonexistent/graphviz/dot"), "digraph{}", Format::Png).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, RenderError::DotMissing { .. }), "{e:?}");
        for needle in ["apt-get install graphviz", "fonts-noto-cjk", "fonts-wqy-microhei", "--format dot"] {
            assert!(msg.contains(needle), "{needle} not in {msg}");
        }
        assert!(matches!(run_dot("digraph{}", Format::Json), Err(RenderError::NotRendered(Format::Json))));
    }
}
