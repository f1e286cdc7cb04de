//! Mutation testing: QEMU's schemas, mangled, must never make the front end
//! panic, and the two tokenizers must agree on every mutant.
//!
//! A deterministic xorshift generator mutates the corpus files (QEMU's
//! `tests/qapi-schema/*.json` and the real schemas) with byte flips,
//! deletions, insertions of bytes and strings that matter to the grammar,
//! duplicated line ranges and splices between files.  Each mutant goes
//! through [`qapi_gen::load_source`] under `catch_unwind`; a panic is a
//! failure, reported with the seed, the iteration and a file holding the
//! input.  A watchdog reports an input that runs for too long (a hang).
//!
//! Mutants are named after a file beside the one they come from (e.g.
//! `.../qapi-schema-tests/mutant.json`, which need not exist), so that their
//! include directives find the sibling files.
//!
//! Environment:
//! * `QAPI_MUTATE_ITERS`: number of mutants (default 4000);
//! * `QAPI_MUTATE_SECS`: stop after this many seconds instead (if set);
//! * `QAPI_MUTATE_SEED`: the run's seed (default fixed);
//! * `QAPI_MUTATE_START`: first iteration (to replay one: set it and
//!   `QAPI_MUTATE_ITERS=1`);
//! * `QAPI_MUTATE_TIMEOUT`: seconds one input may take (default 60).

mod common;

use common::Random;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use qapi_gen::parse::lexer::{tokenize, tokenize_pest, Token};

const DEFAULT_ITERS: u64 = 4000;
const DEFAULT_SEED: u64 = 0x5eed_0a91_c0de_2025;

/// xorshift64* seeded through splitmix64.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)) | 1)
    }
}

impl Random for Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Bytes and strings that matter to the lexer, the parser and the doc
/// parser.
const INTERESTING: &[&[u8]] = &[
    b"'",
    b"\\",
    b"\\\\",
    b"#",
    b"##",
    b"\n##\n",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b",",
    b"\n",
    b"\r",
    b"\r\n",
    b"\t",
    "\u{a0}".as_bytes(),
    "\u{2028}".as_bytes(),
    "\u{e9}".as_bytes(),
    b"\xff",
    b"\xc3",
    b"\x00",
    b"\x7f",
    b"'include'",
    b"'pragma'",
    b"'if'",
    b"'base'",
    b"'data'",
    b"'union'",
    b"'discriminator'",
    b"'features'",
    b"'boxed'",
    b"'*",
    b"true",
    b"false",
    b"trueish",
    b"@x:",
    b"@",
    b"# @x:",
    b"# Features:",
    b"Features:",
    b"# Since:",
    b"Since:",
    b"# Returns:",
    b"# Errors:",
    b"# TODO:",
    b"# .. note::",
    b"#     ",
    b"'q_'",
    b"'__'",
    b"{'not': ",
    b"{'all': [",
    b"'include': 'qapi-schema-test.json'",
    b"'include': '.'",
];

/// One corpus file.
struct Seed {
    /// Its path, for messages.
    path: PathBuf,
    /// The name mutants of it get: a sibling that need not exist.
    mutant_name: String,
    bytes: Vec<u8>,
}

fn corpus(shared: &Path) -> Vec<Seed> {
    let root = shared.join("corpus");
    let mut files = Vec::new();
    let mut dirs = vec![
        root.join("qapi-schema-tests"),
        root.join("qemu-10.0.2/qapi"),
        root.join("qemu-10.0.2/qga"),
        root.join("qemu-10.0.2/storage-daemon"),
    ];
    while let Some(dir) = dirs.pop() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).expect("read corpus file");
            let mutant_name = path
                .with_file_name("mutant.json")
                .to_str()
                .expect("UTF-8 corpus path")
                .to_string();
            Seed {
                path,
                mutant_name,
                bytes,
            }
        })
        .collect()
}

/// Start offsets of the lines of `b`.
fn line_starts(b: &[u8]) -> Vec<usize> {
    let mut v = vec![0];
    v.extend(
        b.iter()
            .enumerate()
            .filter(|(_, &c)| c == b'\n')
            .map(|(i, _)| i + 1),
    );
    v
}

/// A random short range of `b` (`len` bytes at most).
fn range(rng: &mut Rng, len: usize, max: usize) -> (usize, usize) {
    let start = rng.below(len + 1);
    let n = rng.below(max + 1).min(len - start);
    (start, start + n)
}

/// Applies one random mutation to `buf`.
fn mutate_once(rng: &mut Rng, buf: &mut Vec<u8>, seeds: &[Seed]) {
    let len = buf.len();
    match rng.below(10) {
        // Flip a bit.
        0 if len > 0 => {
            let i = rng.below(len);
            buf[i] ^= 1 << rng.below(8);
        }
        // Replace a byte with a random one.
        1 if len > 0 => {
            let i = rng.below(len);
            buf[i] = rng.next() as u8;
        }
        // Delete a short range.
        2 => {
            let (a, b) = range(rng, len, 16);
            buf.drain(a..b);
        }
        // Insert an interesting byte string (possibly a few times).
        3 | 4 => {
            let at = rng.below(len + 1);
            let what = *rng.pick(INTERESTING);
            let times = if rng.chance(10) { 1 + rng.below(8) } else { 1 };
            let ins: Vec<u8> = what.repeat(times);
            buf.splice(at..at, ins);
        }
        // Replace a short range with an interesting string.
        5 => {
            let (a, b) = range(rng, len, 8);
            let what = rng.pick(INTERESTING).to_vec();
            buf.splice(a..b, what);
        }
        // Duplicate a range of lines somewhere else.
        6 => {
            let starts = line_starts(buf);
            let i = rng.below(starts.len());
            let j = (i + 1 + rng.below(12)).min(starts.len());
            let (a, b) = (starts[i], starts.get(j).copied().unwrap_or(len));
            let chunk = buf[a..b].to_vec();
            let at = *rng.pick(&starts);
            buf.splice(at..at, chunk);
        }
        // Delete a range of lines.
        7 => {
            let starts = line_starts(buf);
            let i = rng.below(starts.len());
            let j = (i + 1 + rng.below(8)).min(starts.len());
            let (a, b) = (starts[i], starts.get(j).copied().unwrap_or(len));
            buf.drain(a..b);
        }
        // Splice in lines from another file.
        8 => {
            let other = &rng.pick(seeds).bytes;
            let starts = line_starts(other);
            let i = rng.below(starts.len());
            let j = (i + 1 + rng.below(20)).min(starts.len());
            let (a, b) = (starts[i], starts.get(j).copied().unwrap_or(other.len()));
            let chunk = other[a..b].to_vec();
            let at = *rng.pick(&line_starts(buf));
            buf.splice(at..at, chunk);
        }
        // Cross over: our head, another file's tail, at arbitrary bytes.
        _ => {
            let other = &rng.pick(seeds).bytes;
            let cut = rng.below(len + 1);
            let from = rng.below(other.len() + 1);
            buf.truncate(cut);
            buf.extend_from_slice(&other[from..]);
        }
    }
}

/// Builds mutant number `iter` of the run seeded `seed`: which file, and
/// its bytes.
fn make_mutant(seed: u64, iter: u64, seeds: &[Seed]) -> (usize, Vec<u8>) {
    let mut rng = Rng::new(seed ^ iter.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    // Mostly the small test schemas (they cover the grammar's corners); one
    // mutant in eight starts from a real schema.
    let real: Vec<usize> = (0..seeds.len())
        .filter(|&i| {
            !seeds[i]
                .path
                .to_string_lossy()
                .contains("qapi-schema-tests")
        })
        .collect();
    let idx = if !real.is_empty() && rng.chance(12) {
        *rng.pick(&real)
    } else {
        rng.below(seeds.len())
    };
    let mut buf = seeds[idx].bytes.clone();
    let n = 1 + match rng.below(10) {
        0..=5 => rng.below(3),
        6..=8 => rng.below(10),
        _ => rng.below(40),
    };
    for _ in 0..n {
        mutate_once(&mut rng, &mut buf, seeds);
    }
    (idx, buf)
}

fn token_fields(t: &Token) -> (qapi_gen::parse::lexer::TokKind, u32, u32, u32, u32) {
    (t.kind, t.start, t.end, t.line, t.line_start)
}

/// The text as the front end hands it to a tokenizer: universal newlines
/// and a final `\n`.
fn normalise(text: &str) -> String {
    let mut s = text.replace("\r\n", "\n").replace('\r', "\n");
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// `None` when both tokenizers give the same tokens, else a description of
/// the first difference.
fn lexers_disagree(src: &str) -> Option<String> {
    let fast = tokenize(src);
    let pest = tokenize_pest(src);
    let n = fast.len().max(pest.len());
    for i in 0..n {
        let (f, p) = (fast.get(i), pest.get(i));
        if f.map(token_fields) != p.map(token_fields) {
            return Some(format!(
                "token {i}: scanner {:?}, pest {:?}",
                f.map(token_fields),
                p.map(token_fields)
            ));
        }
    }
    None
}

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    let parsed = if let Some(hex) = v.strip_prefix("0x") {
        u64::from_str_radix(hex, 16)
    } else {
        v.parse()
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={v} is not a number")))
}

/// Writes a failing input where it can be found again.
fn save(seed: u64, iter: u64, what: &str, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("qapi-mutate-{what}-{seed:016x}-{iter}.json"));
    if let Err(e) = std::fs::write(&path, bytes) {
        eprintln!("could not write {}: {e}", path.display());
    }
    path
}

/// What the watchdog sees: the input being loaded and since when.
struct Current {
    iter: u64,
    name: String,
    bytes: Vec<u8>,
    since: Instant,
    done: bool,
}

#[test]
fn mutated_corpus_never_panics() {
    let Some(shared) = common::shared() else {
        return;
    };
    let seeds = corpus(&shared);
    assert!(seeds.len() > 200, "corpus has {} files", seeds.len());

    let seed = env_u64("QAPI_MUTATE_SEED").unwrap_or(DEFAULT_SEED);
    let start = env_u64("QAPI_MUTATE_START").unwrap_or(0);
    let secs = env_u64("QAPI_MUTATE_SECS");
    let iters = env_u64("QAPI_MUTATE_ITERS").unwrap_or(if secs.is_some() {
        u64::MAX
    } else {
        DEFAULT_ITERS
    });
    let timeout = Duration::from_secs(env_u64("QAPI_MUTATE_TIMEOUT").unwrap_or(60));
    let deadline = secs.map(|s| Instant::now() + Duration::from_secs(s));

    // The watchdog: an input that takes longer than `timeout` is saved and
    // the run aborted (a hang cannot be caught otherwise).
    let current = Arc::new(Mutex::new(Current {
        iter: 0,
        name: String::new(),
        bytes: Vec::new(),
        since: Instant::now(),
        done: false,
    }));
    let watch = Arc::clone(&current);
    let watchdog = std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(500));
        let cur = watch.lock().unwrap_or_else(|e| e.into_inner());
        if cur.done {
            return;
        }
        if cur.since.elapsed() > timeout {
            let path = save(seed, cur.iter, "hang", &cur.bytes);
            eprintln!(
                "HANG: seed {seed:#x} iteration {} ran over {timeout:?}\n  name: {}\n  input: {}\n  \
                 replay: QAPI_MUTATE_SEED={seed:#x} QAPI_MUTATE_START={} QAPI_MUTATE_ITERS=1",
                cur.iter,
                cur.name,
                path.display(),
                cur.iter
            );
            std::process::exit(101);
        }
    });

    let began = Instant::now();
    let (mut inputs, mut loaded_ok, mut utf8, mut crashes) = (0u64, 0u64, 0u64, 0u64);
    let mut failures = Vec::new();
    let mut slowest = (Duration::ZERO, 0u64);
    let mut iter = start;
    while iter < start.saturating_add(iters) {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let (idx, bytes) = make_mutant(seed, iter, &seeds);
        let name = seeds[idx].mutant_name.clone();
        {
            let mut cur = current.lock().unwrap_or_else(|e| e.into_inner());
            cur.iter = iter;
            cur.name.clone_from(&name);
            cur.bytes.clone_from(&bytes);
            cur.since = Instant::now();
        }
        let t0 = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| {
            qapi_gen::load_source(&name, bytes.clone()).map(|_| ())
        }));
        let took = t0.elapsed();
        if took > slowest.0 {
            slowest = (took, iter);
        }
        inputs += 1;
        match result {
            Ok(Ok(())) => loaded_ok += 1,
            Ok(Err(e)) => {
                // An error must render and name a place or a file.
                let text = e.to_string();
                assert!(!text.is_empty(), "empty error text, iteration {iter}");
            }
            Err(panic) => {
                crashes += 1;
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                let path = save(seed, iter, "crash", &bytes);
                failures.push(format!(
                    "PANIC: seed {seed:#x} iteration {iter} (from {}): {msg}\n  name: {name}\n  \
                     input: {}\n  replay: QAPI_MUTATE_SEED={seed:#x} QAPI_MUTATE_START={iter} \
                     QAPI_MUTATE_ITERS=1",
                    seeds[idx].path.display(),
                    path.display()
                ));
            }
        }
        if let Ok(text) = std::str::from_utf8(&bytes) {
            utf8 += 1;
            let src = normalise(text);
            let agree = catch_unwind(AssertUnwindSafe(|| lexers_disagree(&src)));
            let why = match agree {
                Ok(None) => None,
                Ok(Some(why)) => Some(why),
                Err(_) => Some("a tokenizer panicked".to_string()),
            };
            if let Some(why) = why {
                crashes += 1;
                let path = save(seed, iter, "lexers", &bytes);
                failures.push(format!(
                    "TOKENIZERS DISAGREE: seed {seed:#x} iteration {iter}: {why}\n  input: {}",
                    path.display()
                ));
            }
        }
        if failures.len() >= 20 {
            break;
        }
        iter += 1;
    }
    current.lock().unwrap_or_else(|e| e.into_inner()).done = true;
    watchdog.join().expect("watchdog");

    eprintln!(
        "mutation: seed {seed:#x}, iterations {start}..{iter}, {:.1?}: {inputs} inputs \
         ({loaded_ok} loaded, {utf8} UTF-8 checked by both tokenizers), slowest {:.1?} \
         (iteration {})",
        began.elapsed(),
        slowest.0,
        slowest.1
    );
    eprintln!("mutation: {inputs} inputs, {crashes} crashes");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The generator is deterministic: the same seed and iteration give the
/// same mutant (so that a reported failure can be replayed).
#[test]
fn mutants_are_reproducible() {
    let Some(shared) = common::shared() else {
        return;
    };
    let seeds = corpus(&shared);
    for iter in [0, 1, 77, 1_000_003] {
        assert_eq!(
            make_mutant(DEFAULT_SEED, iter, &seeds),
            make_mutant(DEFAULT_SEED, iter, &seeds)
        );
    }
    assert_ne!(
        make_mutant(DEFAULT_SEED, 5, &seeds).1,
        make_mutant(DEFAULT_SEED, 6, &seeds).1
    );
}
