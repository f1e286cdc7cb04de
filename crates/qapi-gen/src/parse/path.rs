//! Path arithmetic as Python's `os.path` does it on POSIX, purely lexical.
//!
//! QEMU prints included files as `os.path.join(dirname(includer), name)`,
//! names modules by `os.path.relpath`, and compares files by
//! `os.path.abspath`; we reproduce those spellings exactly.

/// `os.path.dirname`.
pub fn dirname(p: &str) -> String {
    let i = p.rfind('/').map_or(0, |i| i + 1);
    let head = &p[..i];
    if !head.is_empty() && head.chars().any(|c| c != '/') {
        head.trim_end_matches('/').to_string()
    } else {
        head.to_string()
    }
}

/// `os.path.join(a, b)`.
pub fn join(a: &str, b: &str) -> String {
    if b.starts_with('/') || a.is_empty() {
        b.to_string()
    } else if a.ends_with('/') {
        format!("{a}{b}")
    } else {
        format!("{a}/{b}")
    }
}

/// `os.path.normpath`.
pub fn normpath(p: &str) -> String {
    if p.is_empty() {
        return ".".to_string();
    }
    let initial = if p.starts_with("//") && !p.starts_with("///") {
        2
    } else if p.starts_with('/') {
        1
    } else {
        0
    };
    let mut comps: Vec<&str> = Vec::new();
    for c in p.split('/') {
        if c.is_empty() || c == "." {
            continue;
        }
        if c != ".." || (initial == 0 && comps.is_empty()) || comps.last() == Some(&"..") {
            comps.push(c);
        } else if !comps.is_empty() {
            comps.pop();
        }
    }
    let mut out = "/".repeat(initial);
    out.push_str(&comps.join("/"));
    if out.is_empty() {
        ".".to_string()
    } else {
        out
    }
}

/// `os.path.abspath`, with the current directory given.
pub fn abspath_from(cwd: &str, p: &str) -> String {
    if p.starts_with('/') {
        normpath(p)
    } else {
        normpath(&join(cwd, p))
    }
}

/// The current directory as Python's `os.getcwd()` gives it.  Read per
/// call: a library user may change directory between two loads.
pub fn current_dir() -> String {
    std::env::current_dir()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "/".to_string())
}

/// `os.path.relpath(path, start)` (an empty `start` means the current
/// directory).
pub fn relpath(path: &str, start: &str) -> String {
    relpath_from(&current_dir(), path, start)
}

/// `os.path.relpath` with the current directory given.
pub fn relpath_from(cwd: &str, path: &str, start: &str) -> String {
    let start = if start.is_empty() { "." } else { start };
    let a = abspath_from(cwd, start);
    let b = abspath_from(cwd, path);
    let sa: Vec<&str> = a.split('/').filter(|s| !s.is_empty()).collect();
    let sb: Vec<&str> = b.split('/').filter(|s| !s.is_empty()).collect();
    let common = sa.iter().zip(&sb).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<&str> = vec![".."; sa.len() - common];
    parts.extend(&sb[common..]);
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirname_like_python() {
        let cases = [
            ("a.json", ""),
            ("dir/a.json", "dir"),
            ("/a.json", "/"),
            ("a/b/c.json", "a/b"),
            ("a//b", "a"),
            ("./x.json", "."),
        ];
        for (p, want) in cases {
            assert_eq!(dirname(p), want, "{p}");
        }
    }

    #[test]
    fn join_like_python() {
        let cases = [
            ("", "x.json", "x.json"),
            ("dir", "x.json", "dir/x.json"),
            ("dir/", "x.json", "dir/x.json"),
            ("dir", "/abs.json", "/abs.json"),
            (
                "storage-daemon/qapi",
                "../../qapi/common.json",
                "storage-daemon/qapi/../../qapi/common.json",
            ),
        ];
        for (a, b, want) in cases {
            assert_eq!(join(a, b), want);
        }
    }

    #[test]
    fn normpath_like_python() {
        let cases = [
            ("", "."),
            ("a/./b", "a/b"),
            ("a/../b", "b"),
            ("../a", "../a"),
            ("/../a", "/a"),
            ("a/b/../../..", ".."),
            ("//a", "//a"),
            ("///a", "/a"),
        ];
        for (p, want) in cases {
            assert_eq!(normpath(p), want, "{p}");
        }
    }

    #[test]
    fn relpath_like_python() {
        let cases = [
            ("qapi/common.json", "qapi", "common.json"),
            ("a.json", "", "a.json"),
            (
                "storage-daemon/qapi/../../qapi/common.json",
                "storage-daemon/qapi",
                "../../qapi/common.json",
            ),
            ("x", "x", "."),
        ];
        for (p, start, want) in cases {
            assert_eq!(relpath(p, start), want);
        }
    }
}
