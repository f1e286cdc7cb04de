//! The typed client against our server and against a real QEMU, and our
//! server compared byte for byte with QEMU on the same inputs.
//!
//! The QEMU tests skip (saying why) when qemu-system-x86_64 is absent, and
//! fail then if `QMP_REQUIRE_QEMU=1`.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{start, Raw};
use qapi_support::ErrorClass;
use qapi_types::{
    QueryCommands, QueryCpuModelExpansion, QueryTarget, QueryVersion, SysEmuTarget, VersionInfo,
};
use qmp_runtime::{Client, ClientError};

const QEMU: &str = "/usr/bin/qemu-system-x86_64";

fn qemu_binary() -> Option<PathBuf> {
    let p = std::env::var_os("QMP_QEMU")
        .map(PathBuf::from)
        .unwrap_or_else(|| QEMU.into());
    if p.exists() {
        return Some(p);
    }
    if std::env::var("QMP_REQUIRE_QEMU").as_deref() == Ok("1") {
        panic!("{} is absent and QMP_REQUIRE_QEMU=1", p.display());
    }
    eprintln!(
        "skipped: {} is absent (set QMP_REQUIRE_QEMU=1 to fail instead)",
        p.display()
    );
    None
}

async fn start_qemu(tag: &str) -> Option<common::Qemu> {
    let bin = qemu_binary()?;
    Some(common::spawn_qemu(&bin, None, tag).await)
}

async fn typed_session(path: &Path) -> Client {
    let c = Client::connect_unix(path).await.expect("connect");
    let v: VersionInfo = c.greeting().version().expect("greeting version");
    assert_eq!(v.qemu.major, 10);
    assert_eq!(c.greeting().capabilities, vec!["oob".to_string()]);
    // Before negotiation: QEMU's refusal, as a typed error.
    match c.execute(&QueryTarget {}).await {
        Err(ClientError::Qmp { command, error }) => {
            assert_eq!(command, "query-target");
            assert_eq!(error.class, ErrorClass::CommandNotFound);
            assert_eq!(
                error.desc,
                "Expecting capabilities negotiation with 'qmp_capabilities'"
            );
        }
        other => panic!("{other:?}"),
    }
    c.negotiate().await.expect("negotiate");
    match c.negotiate().await {
        Err(ClientError::Qmp { error, .. }) => {
            assert_eq!(
                error.desc,
                "Capabilities negotiation is already complete, command ignored"
            )
        }
        other => panic!("{other:?}"),
    }
    let v = c.execute(&QueryVersion {}).await.expect("query-version");
    assert_eq!((v.qemu.major, v.qemu.minor, v.qemu.micro), (10, 0, 2));
    let t = c.execute(&QueryTarget {}).await.expect("query-target");
    assert_eq!(t.arch, SysEmuTarget::X86_64);
    let cmds = c.execute(&QueryCommands {}).await.expect("query-commands");
    assert!(cmds.iter().any(|c| c.name == "query-target"));
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_client_against_our_server() {
    let (server, path) = start("client").await;
    let c = typed_session(&path).await;
    // Raw JSON.
    let v = c
        .execute_json("x-echo", Some(serde_json::json!({"a": [1]})))
        .await
        .unwrap();
    assert_eq!(v, serde_json::json!({"a": [1]}));
    // QMP errors name the command and carry class and text.
    let e = c.execute_json("nope", None).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "nope: CommandNotFound: The command nope has not been found"
    );
    let e = c
        .execute(&QueryCpuModelExpansion::new(
            qapi_types::CpuModelExpansionType::Static,
            qapi_types::CpuModelInfo::new("max".into()),
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ClientError::Qmp { ref error, .. } if error.class == ErrorClass::CommandNotFound),
        "{e}"
    );
    // A reply that does not decode says which command, which member and
    // what arrived: x-echo's reply read as a query-target reply.
    #[derive(serde::Serialize)]
    struct Fake {
        arch: u32,
    }
    impl qapi_support::Command for Fake {
        const META: qapi_support::CommandMeta = qapi_support::CommandMeta {
            name: "x-echo",
            allow_oob: false,
            allow_preconfig: true,
            success_response: true,
            deprecated: false,
        };
        type Returns = qapi_types::TargetInfo;
    }
    match c.execute(&Fake { arch: 7 }).await {
        Err(ClientError::Decode {
            command,
            error,
            json,
        }) => {
            assert_eq!(command, "x-echo");
            assert!(error.contains("TargetInfo.arch"), "{error}");
            assert_eq!(json, r#"{"arch":7}"#);
        }
        other => panic!("{other:?}"),
    }
    // Concurrent commands on one client.
    let c = std::sync::Arc::new(c);
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            c.execute(&QueryTarget {}).await.map(|t| t.arch)
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), SysEmuTarget::X86_64);
    }
    // Events.
    let mut events = c.events();
    server.events().emit("STOP", None);
    server
        .events()
        .emit("X_E", Some(serde_json::json!({"k": "v"})));
    let e = events.next().await.unwrap();
    assert_eq!(e.name, "STOP");
    assert!(e.timestamp.seconds > 1_600_000_000);
    let e = events.next().await.unwrap();
    assert_eq!(
        (e.name.as_str(), e.data),
        ("X_E", Some(serde_json::json!({"k": "v"})))
    );
    // The server goes away: waiting commands and the event stream end.
    server.shutdown().await;
    assert!(events.next().await.is_none());
    assert!(matches!(
        c.execute(&QueryTarget {}).await,
        Err(ClientError::Disconnected { .. } | ClientError::Io(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_client_oob() {
    let (server, path) = start("client-oob").await;
    let c = std::sync::Arc::new(Client::connect_unix(&path).await.unwrap());
    c.negotiate_oob().await.unwrap();
    let slow = {
        let c = c.clone();
        tokio::spawn(async move {
            c.execute_json("x-sleep", Some(serde_json::json!({"ms": 400})))
                .await
                .unwrap();
            std::time::Instant::now()
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let v = c.execute_oob_json("x-ping", None).await.unwrap();
    let fast_done = std::time::Instant::now();
    assert_eq!(v, serde_json::json!({"pong": true}));
    assert!(fast_done < slow.await.unwrap(), "OOB reply came first");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_client_against_qemu() {
    let Some(q) = start_qemu("typed").await else {
        return;
    };
    let c = typed_session(&q.path).await;
    let v = c.execute(&QueryVersion {}).await.unwrap();
    assert_eq!(
        v.package,
        common::PACKAGE.trim_start_matches(' '),
        "the installed QEMU"
    );
    // A command QEMU has that our schema does not, raw.
    let status = c.execute_json("query-status", None).await.unwrap();
    assert_eq!(status["status"], "prelaunch");
    let e = c.execute_json("nope", None).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "nope: CommandNotFound: The command nope has not been found"
    );
    // Events from QEMU: `cont` starts the machine and QEMU says RESUME.
    let mut events = c.events();
    c.execute_json("cont", None).await.unwrap();
    let e = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e.name, "RESUME");
}

/// Sends each case to both servers and compares every byte they write.
/// A case is followed by ESC (which ends whatever QEMU's lexer was in)
/// and a sentinel request, so each case's replies are delimited.
async fn compare(qemu: &Path, ours: &Path, negotiate: bool, cases: &[Vec<u8>]) {
    async fn open(path: &Path, negotiate: bool) -> Raw {
        let mut r = Raw::connect(path).await;
        r.line().await;
        if negotiate {
            assert_eq!(
                r.ask(r#"{"execute":"qmp_capabilities"}"#).await,
                r#"{"return": {}}"#
            );
        }
        r
    }
    let mut q = open(qemu, negotiate).await;
    let mut o = open(ours, negotiate).await;
    for (n, case) in cases.iter().enumerate() {
        let sentinel = format!("\x1b{{\"execute\":\"qmp_capabilities\",\"id\":\"sentinel-{n}\"}}");
        let mut replies = Vec::new();
        for r in [&mut q, &mut o] {
            r.send(case).await;
            r.send(&sentinel).await;
            let mut lines = Vec::new();
            loop {
                let l = r.line().await;
                if l.contains(&format!("\"sentinel-{n}\"")) {
                    break;
                }
                lines.push(l);
            }
            replies.push(lines);
        }
        assert_eq!(
            replies[1],
            replies[0],
            "case {n}: {:?} (right: QEMU, left: ours)",
            String::from_utf8_lossy(case)
        );
    }
}

fn fixed_cases() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = [
        &br#"{"execute":"query-target","id":{"z":1,"a":[true,false,null,1.5e300,-0.0,"\u0001\t"],"id":{}}}"#[..],
        br#"{"execute":"query-version"}"#,
        br#"{'execute':'query-target','id':'it\'s "q"'}"#,
        br#"{"execute":"qmp_capabilities","arguments":{"enable":"oob"}}"#,
        br#"{"execute":"qmp_capabilities","arguments":{"enable":[1]}}"#,
        br#"{"execute":"query-target","arguments":{"a":1}}"#,
        br#"{"execute":"query-target","arguments":null}"#,
        br#"{"execute":null}"#,
        br#"{"id":1,"execute":"query-target","exec-oob":"query-target"}"#,
        br#"{"exec-oob":"query-target"}"#,
        br#"{"execute":"nope","foo":1,"bar":2,"id":3}"#,
        b"[[[[[[[[[]]]]]]]]]",
        b"{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xed\xa0\x80\"}",
        b"{\"a\":\"\xc0\x80\"}",
        b"{\"a\":\"\xc1\xbf\"}",
        b"\"\\u0000\"",
        b"1e999 -1e999 123456789012345678901234567890 -9223372036854775808 0.1e-310 ",
        b"{\"execute\":\"query-target\"}]}]}",
        b"{\"execute\" \"query-target\"}",
        b"{\"execute\":\"query-target\" \"id\":1}",
        b"[1,]",
        b"[,1]",
        b"{\"a\":}",
        b"{:1}",
        b"truefalse null, nan inf",
        b"'\\u0041\\/\\b\\f\\n\\r\\t\\\\'",
        b"\"\\ud83d\\u0041\"",
        b"\"\\ud83d\"",
        b"\"\\uDC00\"",
        b"\"\\uZZZZ\"",
        b"\"\\u\"",
        b"\xff{\"execute\":\"query-target\"}",
        b"\xfe\x00\x1f\t {\"execute\":\"query-target\"}",
        b"%d %p",
        b"1.5.5",
        b"-",
        b"1e+",
        b"00",
    ]
    .iter()
    .map(|c| c.to_vec())
    .collect();
    v.push(format!("{}{}", "{\"a\":".repeat(1100), "}".repeat(1100)).into_bytes());
    v
}

/// Deterministic mutations of valid requests (xorshift).
fn mutated_cases(n: usize) -> Vec<Vec<u8>> {
    let seeds: [&[u8]; 4] = [
        br#"{"execute":"query-target","id":[1,"two",{"3":null}]}"#,
        br#"{"execute":"query-version","arguments":{},"id":-1.25e-3}"#,
        br#"{'execute':'qmp_capabilities','arguments':{'enable':['oob']}}"#,
        br#"{"exec-oob":"query-target","id":"\u00e9\ud83d\ude00"}"#,
    ];
    let alphabet = b"{}[]:,\"'\\ u0123456789abcdefxyz-+.eE\x00\x01\x7f\x80\xbf\xc3\xe9\xff\n\t";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|_| {
            let mut c = seeds[(rnd() % 4) as usize].to_vec();
            for _ in 0..1 + rnd() % 4 {
                let i = (rnd() as usize) % c.len();
                match rnd() % 3 {
                    0 => c[i] = alphabet[(rnd() as usize) % alphabet.len()],
                    1 => {
                        c.remove(i);
                    }
                    _ => c.insert(i, alphabet[(rnd() as usize) % alphabet.len()]),
                }
            }
            c
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differential_against_qemu() {
    let Some(q) = start_qemu("diff").await else {
        return;
    };
    let (server, path) = start("diff").await;
    let cases = fixed_cases();
    compare(&q.path, &path, false, &cases).await;
    compare(&q.path, &path, true, &cases).await;
    let mutated = mutated_cases(400);
    compare(&q.path, &path, true, &mutated).await;
    println!(
        "differential: {} fixed cases twice and {} mutated cases, identical bytes",
        cases.len(),
        mutated.len()
    );
    server.shutdown().await;
}
