//! A seeded random differential against a live QEMU 10.0.2: the same
//! `query-cpu-model-expansion` requests, byte for byte, to the real binary
//! and to our server, with random models, types and props — valid and
//! not, several bad ones in one request, links given paths that resolve
//! to nothing, keys in random order (QEMU reports the first bad property
//! in its QDict's order, which depends on the request's order within a
//! hash bucket).  Every reply must be equal (our two extension booleans
//! aside).  Bounded: a few hundred requests per target.
//!
//! A request that makes QEMU abort (10.0.2 asserts on a non-integer
//! `lbr-fmt`) cannot be compared: it is listed, QEMU is restarted, and our
//! server must still have answered it.

mod common;

use common::*;
use cpu_models::Target;
use qmp_runtime::Client;
use serde_json::{json, Value};

/// xorshift64: failures reproduce from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

/// The property names of `model`'s full expansion, split into booleans
/// and the rest.
async fn props_of(c: &Client, model: &str) -> (Vec<String>, Vec<String>) {
    let r = reply(
        c,
        "query-cpu-model-expansion",
        Some(json!({"type": "full", "model": {"name": model}})),
    )
    .await;
    let props = r["return"]["model"]["props"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let (b, o): (Vec<_>, Vec<_>) = props.iter().partition(|(_, v)| v.is_boolean());
    (
        b.into_iter()
            .map(|(k, _)| k.clone())
            .filter(|k| k != "realized")
            .collect(),
        o.into_iter().map(|(k, _)| k.clone()).collect(),
    )
}

/// One random props object: 1–6 entries in random order, each a valid
/// boolean, a boolean given a wrong type, an odd value for another
/// property, an unknown name, or a link path.
fn random_props(
    rng: &mut Rng,
    bools: &[String],
    others: &[String],
    links: &[&str],
) -> Vec<(String, Value)> {
    let odd = [
        json!(-1),
        json!(0),
        json!(15),
        json!(256),
        json!(4_294_967_296u64),
        json!(1.5),
        json!("x"),
        json!(""),
        json!(true),
        json!(null),
        json!([]),
    ];
    let paths = ["", "x", "/machine/nowhere", "/objects/none"];
    let mut p: Vec<(String, Value)> = Vec::new();
    for _ in 0..1 + rng.below(6) {
        let (k, v) = match rng.below(10) {
            0..=3 => (rng.pick(bools).clone(), Value::Bool(rng.next() & 1 == 0)),
            4 | 5 => (
                rng.pick(bools).clone(),
                rng.pick(&[json!("on"), json!(1), json!(null)]).clone(),
            ),
            6 | 7 if !others.is_empty() => (rng.pick(others).clone(), rng.pick(&odd).clone()),
            8 if !links.is_empty() => (rng.pick(links).to_string(), json!(*rng.pick(&paths))),
            _ => (format!("x-bogus-{}", rng.below(50)), json!(1)),
        };
        // A repeated key would be QEMU's "duplicate key" error each time.
        if !p.iter().any(|(have, _)| *have == k) {
            p.push((k, v));
        }
    }
    p
}

/// The request text with props in the order given: written by hand, so
/// the order on the wire is the one chosen, whatever a JSON map keeps.
fn request(ty: &str, model: &str, props: &[(String, Value)]) -> String {
    let props: Vec<String> = props
        .iter()
        .map(|(k, v)| format!("{}: {v}", Value::from(k.as_str())))
        .collect();
    format!(
        "{{\"execute\": \"query-cpu-model-expansion\", \"arguments\": {{\"type\": \"{ty}\", \"model\": {{\"name\": {}, \"props\": {{{}}}}}}}}}",
        Value::from(model),
        props.join(", ")
    )
}

/// A QMP connection at the byte level.
struct Raw {
    reader: tokio::io::BufReader<tokio::net::unix::OwnedReadHalf>,
    writer: tokio::net::unix::OwnedWriteHalf,
}

impl Raw {
    /// Connects (retrying: a QEMU just started creates its socket file a
    /// moment before it accepts) and negotiates.
    async fn connect(socket: &std::path::Path) -> Raw {
        for _ in 0..100 {
            if let Ok(s) = tokio::net::UnixStream::connect(socket).await {
                let (r, w) = s.into_split();
                let mut raw = Raw {
                    reader: tokio::io::BufReader::new(r),
                    writer: w,
                };
                // A QEMU still starting may close the connection at once.
                if raw.line().await.is_some() {
                    match raw.ask("{\"execute\": \"qmp_capabilities\"}").await {
                        Some(ok) if ok == json!({"return": {}}) => return raw,
                        Some(other) => panic!("negotiation answered {other}"),
                        None => {}
                    }
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("nothing accepts on {}", socket.display());
    }

    async fn line(&mut self) -> Option<Value> {
        use tokio::io::AsyncBufReadExt;
        loop {
            let mut l = String::new();
            if self.reader.read_line(&mut l).await.ok()? == 0 {
                return None;
            }
            let v: Value = serde_json::from_str(&l).expect("a JSON reply");
            if v.get("event").is_none() {
                return Some(v);
            }
        }
    }

    /// The reply to `request`, or `None` when the peer died on it.
    async fn ask(&mut self, request: &str) -> Option<Value> {
        use tokio::io::AsyncWriteExt;
        self.writer.write_all(request.as_bytes()).await.ok()?;
        self.writer.write_all(b"\n").await.ok()?;
        self.line().await
    }
}

async fn differential(target: Target, binary: &str, seed: u64, requests: usize, links: &[&str]) {
    let Some(bin) = qemu(binary) else { return };
    let mut qemu = LiveQemu::start(&bin).await;
    let (server, path) = start_server(target).await;
    let mut ours = Raw::connect(&path).await;
    let typed = client(&path).await;
    let defs = reply(&typed, "query-cpu-definitions", None).await;
    let models: Vec<String> = defs["return"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["name"].as_str().map(String::from))
        .collect();
    assert!(!models.is_empty());
    let (bools, others) = props_of(&typed, "max").await;
    drop(typed);
    let mut theirs = Raw::connect(&qemu.socket).await;

    let mut rng = Rng(seed);
    let mut failures = Vec::new();
    let mut crashes = Vec::new();
    // What the compared replies were: returns, and errors by class.
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for _ in 0..requests {
        let model = rng.pick(&models).clone();
        let ty = *rng.pick(&["static", "full"]);
        let props = random_props(&mut rng, &bools, &others, links);
        let req = request(ty, &model, &props);
        let a = without_extension(ours.ask(&req).await.expect("our server answers"));
        let Some(b) = theirs.ask(&req).await else {
            crashes.push(format!("{req}: ours {}", a.get("error").unwrap_or(&a)));
            drop(theirs);
            qemu = LiveQemu::start(&bin).await;
            theirs = Raw::connect(&qemu.socket).await;
            continue;
        };
        let kind = match b["error"]["class"].as_str() {
            Some(class) => class.to_string(),
            None => "return".into(),
        };
        *kinds.entry(kind).or_default() += 1;
        if a != b {
            let show = |v: &Value| {
                v.get("error")
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "a return value".into())
            };
            failures.push(format!("{req}\n  ours: {}\n  QEMU: {}", show(&a), show(&b)));
        }
    }
    let compared = requests - crashes.len();
    println!(
        "{}: {}/{compared} random expansions answered as QEMU 10.0.2 did ({kinds:?}); {} made QEMU abort{}",
        target.arch(),
        compared - failures.len(),
        crashes.len(),
        crashes.iter().map(|c| format!("\n  {c}")).collect::<String>()
    );
    // Most requests must be comparable, or the test proves nothing.
    assert!(
        compared * 10 >= requests * 9,
        "QEMU aborted on {} requests",
        crashes.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {compared} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    drop(ours);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x86_64_random_differential() {
    differential(
        Target::X86_64,
        "qemu-system-x86_64",
        0x5eed_0001,
        400,
        &["memory"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s390x_random_differential() {
    differential(Target::S390x, "qemu-system-s390x", 0x5eed_0002, 400, &[]).await;
}
