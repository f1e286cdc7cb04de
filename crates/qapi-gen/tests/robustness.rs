//! Robustness: hostile input gives an error value, never a panic, a hang or
//! a stack overflow.
//!
//! * values nested 10,000 deep (lists, objects, `if` conditions) are
//!   refused with a located error;
//! * very long chains of bases and of unions used as branches are checked
//!   or refused cleanly;
//! * bytes that are not UTF-8, a directory where a file should be, and
//!   includes that cannot be read give clear errors with the position.
//!
//! The deep cases run on a thread with a small stack (256 KiB optimised,
//! 2 MiB unoptimised: see [`SMALL_STACK`]), so that the bound is proven not
//! to depend on a big main-thread stack.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The stack the deep cases run on: far less than the 8 MiB of a main
/// thread.  Optimised, the parser needs under 1 KiB per nesting level, so
/// its bound of 256 levels fits in 256 KiB.  Unoptimised frames are about
/// eight times larger (`get_expr` alone takes 3 KiB): 256 levels of objects
/// need between 1.5 and 1.75 MiB, so debug builds get the 2 MiB Rust gives
/// any spawned thread.
const SMALL_STACK: usize = if cfg!(debug_assertions) {
    2 * 1024 * 1024
} else {
    256 * 1024
};

/// The stack of a process's main thread on Linux.
const MAIN_STACK: usize = 8 * 1024 * 1024;

/// Runs `f` on a thread with a [`SMALL_STACK`]; a panic (or a stack
/// overflow, which aborts the process) fails the test.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    on_stack(SMALL_STACK, f)
}

fn on_stack<T: Send + 'static>(size: usize, f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .name(format!("stack-{}k", size / 1024))
        .stack_size(size)
        .spawn(f)
        .expect("spawn thread")
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// A fresh, empty directory under the system temp dir.
fn temp_dir(tag: &str) -> PathBuf {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!(
        "qapi-gen-robust-{}-{tag}-{n}-{nanos}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Removes a temp dir when the test is done (also on failure).
struct Cleanup(PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    fs::write(&path, bytes).expect("write schema");
    path.to_str().expect("UTF-8 temp path").to_string()
}

/// Loads an in-memory schema and returns the error text (fails when the
/// schema loads).
fn load_err(name: &str, text: impl Into<Vec<u8>>) -> String {
    match load(name, text) {
        Ok(()) => panic!("{name}: expected an error, the schema loaded"),
        Err(e) => e,
    }
}

/// Loads an in-memory schema; the error text on failure (a `Schema` cannot
/// leave its thread, its text is shared with `Rc`).
fn load(name: &str, text: impl Into<Vec<u8>>) -> Result<(), String> {
    qapi_gen::load_source(name, text)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

const DEEP: usize = 10_000;

/// The message of a nesting error at `col` of line 1 of `deep.json`.
fn too_deep(col: usize) -> String {
    format!(
        "deep.json:1:{col}: expression nests too deeply (more than {} levels); flatten it",
        qapi_gen::parse::MAX_NESTING
    )
}

#[test]
fn ten_thousand_nested_lists() {
    let err = on_small_stack(|| {
        let prefix = "{ 'struct': 'Ax', 'data': { 'a': ";
        let src = format!(
            "{prefix}{}'int'{} }} }}\n",
            "[".repeat(DEEP),
            "]".repeat(DEEP)
        );
        // The top-level object is level 0, 'data' level 1, the first '['
        // level 2: the '[' at level MAX_NESTING is refused.
        let col = prefix.len() + (qapi_gen::parse::MAX_NESTING - 2) + 1;
        (load_err("deep.json", src), col)
    });
    assert_eq!(err.0, too_deep(err.1));
}

#[test]
fn ten_thousand_nested_objects() {
    let err = on_small_stack(|| {
        let prefix = "{ 'struct': 'Ax', 'data': ";
        let src = format!(
            "{prefix}{}'int'{} }}\n",
            "{'a': ".repeat(DEEP),
            "}".repeat(DEEP)
        );
        // 'data' is level 1; each `{'a': ` is 6 columns.
        let col = prefix.len() + 6 * (qapi_gen::parse::MAX_NESTING - 1) + 1;
        (load_err("deep.json", src), col)
    });
    assert_eq!(err.0, too_deep(err.1));
}

#[test]
fn ten_thousand_nested_if_conditions() {
    let err = on_small_stack(|| {
        let prefix = "{ 'struct': 'Ax', 'data': {}, 'if': ";
        let src = format!(
            "{prefix}{}'X'{} }}\n",
            "{'not': ".repeat(DEEP),
            "}".repeat(DEEP)
        );
        let col = prefix.len() + 8 * (qapi_gen::parse::MAX_NESTING - 1) + 1;
        (load_err("deep.json", src), col)
    });
    assert_eq!(err.0, too_deep(err.1));
}

/// Ten thousand lists spread over lines, so that line and column are both
/// checked; also a deep mix of lists and objects.
#[test]
fn deep_nesting_over_many_lines_and_mixed() {
    let (lines, mixed) = on_small_stack(|| {
        let src = format!(
            "# deep\n{{ 'struct': 'Ax',\n  'data': {{ 'a':\n{}'int'{} }} }}\n",
            "[\n".repeat(DEEP),
            "]".repeat(DEEP)
        );
        let lines = load_err("deep.json", src);
        let src = format!(
            "{{ 'command': 'c', 'data': {}'int'{} }}\n",
            "[{'a': ".repeat(DEEP / 2),
            "}]".repeat(DEEP / 2)
        );
        (lines, load_err("deep.json", src))
    });
    // The first '[' is on line 4 at level 2; the refused one is
    // MAX_NESTING - 2 lines further down, in column 1.
    let line = 4 + qapi_gen::parse::MAX_NESTING - 2;
    assert_eq!(
        lines,
        format!(
            "deep.json:{line}:1: expression nests too deeply (more than {} levels); flatten it",
            qapi_gen::parse::MAX_NESTING
        )
    );
    assert!(
        mixed.starts_with("deep.json:1:") && mixed.contains("nests too deeply"),
        "{mixed}"
    );
}

/// Nesting just inside the limit still parses (the limit is not hit by
/// anything reasonable): a 200-deep `not` chain is a valid condition.
#[test]
fn deep_but_allowed_condition_loads() {
    on_small_stack(|| {
        let src = format!(
            "{{ 'struct': 'Ax', 'data': {{}}, 'if': {}'X'{} }}\n",
            "{'not': ".repeat(200),
            "}".repeat(200)
        );
        if let Err(e) = load("deep.json", src) {
            panic!("{e}");
        }
    });
}

/// `Sx0` has base `Sx1`, ..., each struct's base defined after it, so that
/// checking the first one walks the whole chain.
fn base_chain(n: usize, members: bool) -> String {
    let mut src = String::new();
    for i in 0..n {
        let data = if members {
            format!("{{ 'm{i}': 'int' }}")
        } else {
            "{}".to_string()
        };
        if i + 1 < n {
            let _ = writeln!(
                src,
                "{{ 'struct': 'Sx{i}', 'base': 'Sx{}', 'data': {data} }}",
                i + 1
            );
        } else {
            let _ = writeln!(src, "{{ 'struct': 'Sx{i}', 'data': {data} }}");
        }
    }
    src
}

/// `Ok`, or the error a too-deep chain must give.
fn chain_ok_or_too_deep(r: Result<(), String>, file: &str, meta: &str) {
    if let Err(e) = r {
        assert!(
            e.starts_with(&format!("{file}: In {meta} '"))
                && e.contains(&format!("\n{file}:"))
                && e.contains("nests bases or branches more than"),
            "{e}"
        );
    }
}

/// Checking `Sx0` recurses through its bases; the checker stops at a fixed
/// depth (100) with an error.  The recursion takes ~450 B a level optimised
/// and ~3.9 KiB unoptimised, so the bound needs ~45 KiB and ~390 KiB of the
/// small stack.
#[test]
fn long_base_chain_defined_top_down() {
    let r = on_small_stack(|| load("chain.json", base_chain(5000, false)));
    chain_ok_or_too_deep(r, "chain.json", "struct");
}

#[test]
fn long_base_chain_defined_bottom_up() {
    // Each base is checked before the struct that uses it: no recursion,
    // the chain must load.
    let r = on_small_stack(|| {
        let src: String = base_chain(5000, true)
            .lines()
            .rev()
            .map(|l| format!("{l}\n"))
            .collect();
        load("chain.json", src)
    });
    if let Err(e) = r {
        panic!("{e}");
    }
}

/// `Ux0` is a union whose one branch is the union `Ux1`, and so on down to a
/// struct; each union's tag has its own name so that nothing clashes.
fn union_chain(n: usize, branches: &[&str]) -> String {
    let mut src = format!("{{ 'enum': 'Ex', 'data': {branches:?} }}\n").replace('"', "'");
    for i in 0..n {
        let data: Vec<String> = branches
            .iter()
            .map(|b| format!("'{b}': 'Ux{}'", i + 1))
            .collect();
        let _ = writeln!(
            src,
            "{{ 'union': 'Ux{i}', 'base': {{ 't{i}': 'Ex' }}, 'discriminator': 't{i}',\n  \
             'data': {{ {} }} }}",
            data.join(", ")
        );
    }
    let _ = writeln!(src, "{{ 'struct': 'Ux{n}', 'data': {{ 'leaf': 'int' }} }}");
    src
}

/// Checking `Ux0` recurses through its branch (and each union's implicit
/// base); the checker stops at a fixed depth with an error.
#[test]
fn deep_union_in_union_chain() {
    for n in [100, 499, 500, 2000, 5000] {
        let r = on_small_stack(move || load("unions.json", union_chain(n, &["a"])));
        chain_ok_or_too_deep(r, "unions.json", "union");
    }
}

/// What holds today: no overflow on a main thread's stack.
#[test]
fn deep_union_in_union_chain_on_main_stack() {
    for n in [100, 499, 500, 2000, 5000] {
        let r = on_stack(MAIN_STACK, move || {
            load("unions.json", union_chain(n, &["a"]))
        });
        chain_ok_or_too_deep(r, "unions.json", "union");
    }
}

/// The same chain defined leaf first: each union is checked when its branch
/// already is, so there is no deep recursion, but the clash check of each
/// union still walks the chain below it.
#[test]
fn deep_union_chain_defined_bottom_up() {
    let r = on_small_stack(|| {
        // Quadratic in the chain length (each union looks down its chain once):
        // 5,000 takes ~1 s optimised, a debug build gets a shorter chain.
        let n = if cfg!(debug_assertions) { 1500 } else { 5000 };
        let src = union_chain(n, &["a"]);
        let mut lines: Vec<&str> = src.lines().collect();
        // The enum first, then the leaf struct, then the unions upwards
        // (each union takes two lines).
        let enum_line = lines.remove(0);
        let leaf = lines.pop().expect("leaf struct");
        let mut out = format!("{enum_line}\n{leaf}\n");
        for pair in lines.chunks(2).rev() {
            out.push_str(&pair.join("\n"));
            out.push('\n');
        }
        load("unions.json", out)
    });
    chain_ok_or_too_deep(r, "unions.json", "union");
}

/// A union whose two branches are both the next union, 40 deep: QEMU's
/// clash check walks all 2^40 paths.
#[test]
fn wide_union_in_union_chain_is_not_exponential() {
    let r = on_small_stack(|| load("unions.json", union_chain(40, &["a", "b"])));
    if let Err(e) = r {
        panic!("{e}");
    }
}

/// Unions with 100 branches each, all the next union, 1,000 deep and
/// defined leaf first (a 1.7 MB file, nothing clashes): every union's clash
/// check must not look at the whole chain below it once per branch of every
/// union on the way.
#[test]
fn fan_out_union_chain_defined_bottom_up() {
    let r = on_small_stack(|| {
        // Each union's check visits every type below it once: quadratic in
        // the depth, linear in the width.  A debug build gets a shorter chain.
        let (n, width) = if cfg!(debug_assertions) {
            (300, 100)
        } else {
            (1000, 100)
        };
        let values: Vec<String> = (0..width).map(|i| format!("'v{i}'")).collect();
        let mut src = format!("{{ 'enum': 'Ex', 'data': [ {} ] }}\n", values.join(", "));
        let _ = writeln!(src, "{{ 'struct': 'Ux{n}', 'data': {{ 'leaf': 'int' }} }}");
        for i in (0..n).rev() {
            let data: Vec<String> = (0..width)
                .map(|v| format!("'v{v}': 'Ux{}'", i + 1))
                .collect();
            let _ = writeln!(
                src,
                "{{ 'union': 'Ux{i}', 'base': {{ 't{i}': 'Ex' }}, 'discriminator': 't{i}', \
                 'data': {{ {} }} }}",
                data.join(", ")
            );
        }
        load("unions.json", src)
    });
    chain_ok_or_too_deep(r, "unions.json", "union");
}

/// A smaller case of the same shape stays quick even with the exponential
/// walk (2^12 paths), and loads.
#[test]
fn wide_union_in_union_chain_small() {
    let r = on_small_stack(|| load("unions.json", union_chain(12, &["a", "b"])));
    if let Err(e) = r {
        panic!("{e}");
    }
}

#[test]
fn non_utf8_in_root() {
    // Line 3, after "{ 'x': '" (8 columns): column 9.
    let src = b"# a comment\n{ 'enum': 'E', 'data': [ 'a' ] }\n{ 'x': '\xff' }\n".to_vec();
    assert_eq!(
        load_err("bad.json", src),
        "bad.json:3:9: invalid UTF-8 (byte 0xff); schema files must be UTF-8 text"
    );
    // A truncated two-byte sequence at the start of a line, with CRLF line
    // ends before it.
    let src = b"{ 'enum': 'E',\r\n  'data': [ 'a' ] }\r\n\xc3".to_vec();
    assert_eq!(
        load_err("bad.json", src),
        "bad.json:3:1: invalid UTF-8 (byte 0xc3); schema files must be UTF-8 text"
    );
    // Valid multi-byte characters before the bad byte count one column each.
    let src = "# \u{e9}\u{e9}"
        .bytes()
        .chain([0xfe, b'\n'])
        .collect::<Vec<u8>>();
    assert_eq!(
        load_err("bad.json", src),
        "bad.json:1:5: invalid UTF-8 (byte 0xfe); schema files must be UTF-8 text"
    );
}

#[test]
fn non_utf8_in_root_on_disk() {
    let dir = temp_dir("utf8-root");
    let _c = Cleanup(dir.clone());
    let root = write(&dir, "root.json", b"\n\n  \x80\n");
    let err = qapi_gen::load(&root).expect_err("non-UTF-8 root");
    assert_eq!(
        err.to_string(),
        format!("{root}:3:3: invalid UTF-8 (byte 0x80); schema files must be UTF-8 text")
    );
}

#[test]
fn non_utf8_in_include() {
    let dir = temp_dir("utf8-incl");
    let _c = Cleanup(dir.clone());
    let sub = write(
        &dir,
        "sub.json",
        b"{ 'enum': 'E',\n\t'data': [ '\xe2\x82' ] }\n",
    );
    let root = write(
        &dir,
        "root.json",
        "# root\n{ 'include': 'sub.json' }\n{ 'struct': 'Sx', 'data': {} }\n",
    );
    let err = qapi_gen::load(&root).expect_err("non-UTF-8 include");
    // QEMU's TAB rule moves column 1 to (1 + 7) % 8 + 1 = 1; "'data': [ '"
    // is 11 more: column 12.
    assert_eq!(
        err.to_string(),
        format!(
            "In file included from {root}:2:\n\
             {sub}:2:12: invalid UTF-8 (byte 0xe2); schema files must be UTF-8 text"
        )
    );
}

#[test]
fn root_is_a_directory() {
    let dir = temp_dir("root-dir");
    let _c = Cleanup(dir.clone());
    let d = dir.to_str().unwrap();
    let err = qapi_gen::load(d).expect_err("directory as root");
    assert_eq!(
        err.to_string(),
        format!("can't read schema file '{d}': Is a directory")
    );
}

#[test]
fn root_is_missing() {
    let dir = temp_dir("root-missing");
    let _c = Cleanup(dir.clone());
    let root = dir.join("nope.json");
    let root = root.to_str().unwrap();
    let err = qapi_gen::load(root).expect_err("missing root");
    assert_eq!(
        err.to_string(),
        format!("can't read schema file '{root}': No such file or directory")
    );
}

/// Loads `root.json` that includes `target` on its line 3 and returns the
/// error text, which must point at that line.
fn include_err(dir: &Path, target: &str) -> String {
    let root = write(
        dir,
        "root.json",
        format!("# root\n{{ 'enum': 'Ex', 'data': [ 'a' ] }}\n{{ 'include': '{target}' }}\n"),
    );
    let err = qapi_gen::load(&root).expect_err("bad include");
    let text = err.to_string();
    let loc = err.location().expect("include errors are located");
    assert_eq!(
        (loc.file.as_str(), loc.line, loc.col),
        (root.as_str(), 3, None)
    );
    assert!(text.starts_with(&format!("{root}:3: ")), "{text}");
    text
}

#[test]
fn include_of_a_directory() {
    let dir = temp_dir("incl-dir");
    let _c = Cleanup(dir.clone());
    fs::create_dir(dir.join("sub")).unwrap();
    let root = dir.join("root.json");
    let inc = dir.join("sub");
    assert_eq!(
        include_err(&dir, "sub"),
        format!(
            "{}:3: can't read include file '{}': Is a directory",
            root.display(),
            inc.display()
        )
    );
}

#[test]
fn include_of_a_missing_file() {
    let dir = temp_dir("incl-missing");
    let _c = Cleanup(dir.clone());
    let root = dir.join("root.json");
    let inc = dir.join("missing.json");
    assert_eq!(
        include_err(&dir, "missing.json"),
        format!(
            "{}:3: can't read include file '{}': No such file or directory",
            root.display(),
            inc.display()
        )
    );
}

#[test]
fn include_through_a_file() {
    // 'file.json/x.json': a path through something that is not a directory.
    let dir = temp_dir("incl-notdir");
    let _c = Cleanup(dir.clone());
    write(&dir, "file.json", "{ 'enum': 'F', 'data': [ 'b' ] }\n");
    let root = dir.join("root.json");
    let inc = dir.join("file.json/x.json");
    assert_eq!(
        include_err(&dir, "file.json/x.json"),
        format!(
            "{}:3: can't read include file '{}': Not a directory",
            root.display(),
            inc.display()
        )
    );
}

#[cfg(unix)]
#[test]
fn include_of_a_dangling_symlink() {
    let dir = temp_dir("incl-dangling");
    let _c = Cleanup(dir.clone());
    std::os::unix::fs::symlink(dir.join("gone.json"), dir.join("link.json")).unwrap();
    let root = dir.join("root.json");
    let inc = dir.join("link.json");
    assert_eq!(
        include_err(&dir, "link.json"),
        format!(
            "{}:3: can't read include file '{}': No such file or directory",
            root.display(),
            inc.display()
        )
    );
}

#[cfg(unix)]
#[test]
fn include_of_a_symlink_loop() {
    let dir = temp_dir("incl-loop");
    let _c = Cleanup(dir.clone());
    std::os::unix::fs::symlink(dir.join("b.json"), dir.join("a.json")).unwrap();
    std::os::unix::fs::symlink(dir.join("a.json"), dir.join("b.json")).unwrap();
    let root = dir.join("root.json");
    let inc = dir.join("a.json");
    assert_eq!(
        include_err(&dir, "a.json"),
        format!(
            "{}:3: can't read include file '{}': Too many levels of symbolic links",
            root.display(),
            inc.display()
        )
    );
}

/// An include error inside an included file names the whole include chain.
#[test]
fn unreadable_include_in_an_included_file() {
    let dir = temp_dir("incl-nested");
    let _c = Cleanup(dir.clone());
    fs::create_dir(dir.join("d")).unwrap();
    let mid = write(&dir, "mid.json", "\n{ 'include': 'd' }\n");
    let root = write(&dir, "root.json", "{ 'include': 'mid.json' }\n");
    let err = qapi_gen::load(&root).expect_err("nested bad include");
    assert_eq!(
        err.to_string(),
        format!(
            "In file included from {root}:1:\n\
             {mid}:2: can't read include file '{}': Is a directory",
            dir.join("d").display()
        )
    );
}

/// The in-memory root resolves its includes next to its name, and the same
/// errors come out.
#[test]
fn in_memory_root_with_unreadable_include() {
    let dir = temp_dir("incl-mem");
    let _c = Cleanup(dir.clone());
    fs::create_dir(dir.join("sub")).unwrap();
    let root = dir.join("mem.json");
    let root = root.to_str().unwrap();
    let err = load_err(root, "{ 'include': 'sub' }");
    assert_eq!(
        err,
        format!(
            "{root}:1: can't read include file '{}': Is a directory",
            dir.join("sub").display()
        )
    );
}

/// The CLI reports the same errors and exits 1 (no panic, no abort).
#[test]
fn cli_reports_directory_and_bad_bytes() {
    let dir = temp_dir("cli");
    let _c = Cleanup(dir.clone());
    write(&dir, "bad.json", b"{ 'enum': 'E', 'data': [ '\xff' ] }\n");
    fs::create_dir(dir.join("d")).unwrap();
    for (arg, want) in [
        (
            "bad.json",
            "bad.json:1:27: invalid UTF-8 (byte 0xff); schema files must be UTF-8 text\n",
        ),
        ("d", "can't read schema file 'd': Is a directory\n"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_qapi-gen"))
            .args(["check", arg])
            .current_dir(&dir)
            .output()
            .expect("qapi-gen runs");
        assert_eq!(out.status.code(), Some(1), "{arg}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with(want), "{arg}: {stderr:?}");
    }
}

/// QEMU blocks forever opening a FIFO and reads `/dev/zero` until memory
/// runs out.  We refuse anything that is not a regular file (or a
/// directory, which fails as in QEMU) before opening it.
#[test]
fn include_of_a_fifo_or_device_is_refused() {
    let dir = temp_dir("incl-special");
    let _c = Cleanup(dir.clone());
    let root = dir.join("root.json");
    let fifo = dir.join("fifo.json");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        assert_eq!(
            include_err(&dir, "fifo.json"),
            format!(
                "{}:3: can't read include file '{}': not a regular file",
                root.display(),
                fifo.display()
            )
        );
    } else {
        eprintln!("skipping the FIFO case: mkfifo is not available");
    }
    assert_eq!(
        include_err(&dir, "/dev/zero"),
        format!(
            "{}:3: can't read include file '/dev/zero': not a regular file",
            root.display()
        )
    );
    let err = qapi_gen::load("/dev/zero").err().map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("can't read schema file '/dev/zero': not a regular file")
    );
}
