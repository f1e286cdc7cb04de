//! Architecture invariants that the source itself must keep, checked on
//! the files (in the manner of rust-analyzer's tidy tests).

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Only `backend/rust/` builds Rust syntax: the front end and the
/// language-neutral parts of the backend never import `syn`, `quote`,
/// `proc_macro2` or `prettyplease`.
#[test]
fn only_the_rust_backend_builds_syntax() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let rust_backend = src.join("backend").join("rust");
    let mut offenders = Vec::new();
    for f in files.iter().filter(|f| !f.starts_with(&rust_backend)) {
        let text = std::fs::read_to_string(f).expect("UTF-8 source");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for krate in [
                "syn::",
                "quote::",
                "quote!",
                "proc_macro2::",
                "prettyplease::",
            ] {
                if code.contains(krate) {
                    offenders.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        files.len() > 20 && offenders.is_empty(),
        "{}",
        offenders.join("\n")
    );
}

/// The stages depend forward only: `parse/` on none of the later stages,
/// `check/` not on `model/`, neither of them nor `model/` on `backend/`.
#[test]
fn stages_depend_forward_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rules: [(&str, &[&str]); 3] = [
        ("parse", &["crate::check", "crate::model", "crate::backend"]),
        ("check", &["crate::model", "crate::backend"]),
        ("model", &["crate::backend"]),
    ];
    let mut offenders = Vec::new();
    for (stage, forbidden) in rules {
        let mut files = Vec::new();
        rust_files(&src.join(stage), &mut files);
        for f in &files {
            let text = std::fs::read_to_string(f).expect("UTF-8 source");
            for (n, line) in text.lines().enumerate() {
                // Doc links may name a later stage; code may not.
                if line.trim_start().starts_with("//") {
                    continue;
                }
                for path in forbidden {
                    if line.contains(path) {
                        offenders.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(offenders.is_empty(), "{}", offenders.join("\n"));
}
