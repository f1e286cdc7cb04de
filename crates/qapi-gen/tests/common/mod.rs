//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// `../shared` beside the repository root, when present.
///
/// When it is absent the tests that need it print why and pass, so that a
/// fresh clone stays green; set `QAPI_REQUIRE_SHARED=1` (CI does) to make
/// its absence a failure instead.
pub fn shared() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if dir.join("corpus").is_dir() {
        return Some(dir.canonicalize().expect("shared dir resolves"));
    }
    if std::env::var_os("QAPI_REQUIRE_SHARED").is_some_and(|v| v == "1") {
        panic!("QAPI_REQUIRE_SHARED=1 but {} does not exist", dir.display());
    }
    eprintln!(
        "skipping: {} not found (the QEMU corpus lives beside the repository)",
        dir.display()
    );
    None
}

/// Output of one `qapi-gen` run.
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

/// Runs the `qapi-gen` binary with `args` in `dir`.
pub fn qapi_gen(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_qapi-gen"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("qapi-gen runs");
    Run {
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        code: out.status.code().unwrap_or(-1),
    }
}

/// A readable first difference between two texts.
pub fn first_diff(want: &str, got: &str) -> String {
    for (i, (w, g)) in want.lines().zip(got.lines()).enumerate() {
        if w != g {
            return format!("line {}:\n  want: {w:?}\n  got:  {g:?}", i + 1);
        }
    }
    format!(
        "lengths differ: want {} lines, got {} lines (trailing newline or extra lines)",
        want.lines().count(),
        got.lines().count()
    )
}

/// Compares one `dump` run against expected stdout and stderr; returns a
/// description of the mismatch.
pub fn compare(name: &str, run: &Run, want_out: &str, want_err: &str) -> Option<String> {
    let want_code = if want_err.is_empty() { 0 } else { 1 };
    if run.stdout == want_out && run.stderr == want_err && run.code == want_code {
        return None;
    }
    let mut why = format!("{name}: exit {} (want {want_code})", run.code);
    if run.stdout != want_out {
        why.push_str(&format!("\n stdout {}", first_diff(want_out, &run.stdout)));
    }
    if run.stderr != want_err {
        why.push_str(&format!("\n stderr {}", first_diff(want_err, &run.stderr)));
    }
    Some(why)
}

/// The `query-qmp-schema` reply in one of libvirt's recorded `.replies`
/// files (command objects each followed by their reply).
pub fn qmp_schema_reply(replies: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(replies).expect("replies");
    let mut values = serde_json::Deserializer::from_str(&text).into_iter::<serde_json::Value>();
    while let Some(Ok(v)) = values.next() {
        if v["execute"] == "query-qmp-schema" {
            return values.next().expect("a reply").expect("JSON");
        }
    }
    panic!("{}: no query-qmp-schema exchange", replies.display());
}

/// The choices the mutation tests make, over any 64-bit generator.
pub trait Random {
    /// The next 64 random bits.
    fn next(&mut self) -> u64;

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True `percent` times in a hundred.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    /// One of `items` (not empty).
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
