//! Capabilities of the peer: its `query-qmp-schema`, fetched once, asked
//! with libvirt's queries, and used to refuse what it lacks before sending.
//!
//! The peer here is a scripted QMP endpoint that greets as QEMU 7.2.0 and
//! answers `query-qmp-schema` with what libvirt recorded from a real QEMU
//! 7.2.0 (x86_64; `../shared/corpus/libvirt-11.3.0`, read in place).  It
//! records every command it receives, so a test can prove a refused
//! command never reached it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use qmp_runtime::{Client, ClientError};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixListener;

fn shared() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if dir.join("corpus").is_dir() {
        return Some(dir);
    }
    if std::env::var_os("QAPI_REQUIRE_SHARED").is_some_and(|v| v == "1") {
        panic!("QAPI_REQUIRE_SHARED=1 but {} does not exist", dir.display());
    }
    eprintln!("skipping: {} not found", dir.display());
    None
}

fn recorded_schema(shared: &Path) -> Value {
    let replies = std::fs::read_to_string(
        shared.join("corpus/libvirt-11.3.0/caps/caps_7.2.0_x86_64.replies"),
    )
    .expect("replies");
    let mut values = serde_json::Deserializer::from_str(&replies).into_iter::<Value>();
    while let Some(Ok(v)) = values.next() {
        if v["execute"] == "query-qmp-schema" {
            return values.next().expect("reply").expect("JSON");
        }
    }
    panic!("no query-qmp-schema exchange");
}

/// Starts the scripted peer; returns its socket and the commands it saw.
async fn peer(schema: Value, tag: &str) -> (PathBuf, Arc<Mutex<Vec<String>>>) {
    let dir = std::env::temp_dir().join(format!("qmp-caps-{}-{tag}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("qmp.sock");
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).expect("bind");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let (r, mut w) = stream.into_split();
        let greeting = json!({"QMP": {"version": {"qemu": {"major": 7, "minor": 2, "micro": 0},
                                                  "package": "Debian 1:7.2+dfsg-7"},
                                      "capabilities": ["oob"]}});
        let _ = w.write_all(format!("{greeting}\r\n").as_bytes()).await;
        let mut lines = BufReader::new(r).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let Ok(req) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            let cmd = req["execute"].as_str().unwrap_or_default().to_string();
            log.lock().expect("log").push(cmd.clone());
            let ret = if cmd == "query-qmp-schema" {
                schema["return"].clone()
            } else {
                json!({})
            };
            let mut reply = json!({ "return": ret });
            if let Some(id) = req.get("id") {
                reply["id"] = id.clone();
            }
            let _ = w.write_all(format!("{reply}\r\n").as_bytes()).await;
        }
    });
    (path, seen)
}

#[tokio::test]
async fn queries_and_checks_against_a_recorded_qemu_7_2() {
    let Some(shared) = shared() else { return };
    let (path, seen) = peer(recorded_schema(&shared), "queries").await;
    let client = Client::connect_unix(&path).await.expect("connect");
    client.negotiate().await.expect("negotiate");
    let caps = client.capabilities().await.expect("schema");
    assert_eq!(caps.version(), "7.2.0");
    // Fetched once and kept.
    let again = client.capabilities().await.expect("schema");
    assert!(Arc::ptr_eq(&caps, &again));
    let fetched = |s: &Mutex<Vec<String>>| {
        s.lock()
            .expect("log")
            .iter()
            .filter(|c| *c == "query-qmp-schema")
            .count()
    };
    assert_eq!(fetched(&seen), 1);

    // libvirt's queries.
    assert_eq!(
        caps.query("blockdev-add/arg-type/+file/aio/^io_uring"),
        Ok(true)
    );
    assert_eq!(caps.query("query-machines/ret-type/acpi"), Ok(false));
    assert!(caps
        .query("query-status/ret-type/status/^debug/test")
        .is_err());
    // Typed questions.
    assert!(caps.has_command("query-cpu-model-expansion"));
    assert!(!caps.has_command("query-cpu-model-baseline"), "s390x only");
    assert!(caps.has_event("STOP"));

    // A value 7.2 lacks an enum value for: refused, naming it and 7.2.0.
    let err = caps
        .check_json("query-stats", &json!({"target": "cryptodev"}))
        .expect_err("cryptodev came in 8.0");
    let text = err.to_string();
    assert!(
        text.contains("cryptodev") && text.contains("QEMU 7.2.0"),
        "{text}"
    );
    assert!(caps
        .check_json("query-stats", &json!({"target": "vm"}))
        .is_ok());
    // An unknown member is named.
    let err = caps
        .check_json("query-machines", &json!({"compat-props": true}))
        .expect_err("compat-props came in 9.1");
    assert!(err.to_string().contains("compat-props"), "{err}");
    // libvirt's validation.
    assert!(caps
        .validate(
            "blockdev-add/arg-type",
            &json!({"driver": "file", "filename": "x"})
        )
        .is_ok());
}

#[tokio::test]
async fn a_command_the_peer_lacks_is_not_sent() {
    let Some(shared) = shared() else { return };
    let (path, seen) = peer(recorded_schema(&shared), "refuse").await;
    let client = Client::connect_unix(&path).await.expect("connect");
    client.negotiate().await.expect("negotiate");
    client.check_before_sending(true);
    let model = || qapi_types::CpuModelInfo::new("qemu64".into());
    let baseline = qapi_types::QueryCpuModelBaseline::new(model(), model());
    match client.execute(&baseline).await {
        Err(ClientError::Unsupported {
            command,
            error,
            peer_version,
        }) => {
            assert_eq!(command, "query-cpu-model-baseline");
            assert_eq!(peer_version, "7.2.0");
            assert!(error.contains("has no command"), "{error}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let log = seen.lock().expect("log").clone();
    assert!(
        !log.iter().any(|c| c == "query-cpu-model-baseline"),
        "{log:?}"
    );
    // What the peer has goes through, checked.
    client
        .execute(&qapi_types::QueryTarget::default())
        .await
        .expect_err("the scripted peer answers {} (not a TargetInfo)");
    let log = seen.lock().expect("log").clone();
    assert!(log.iter().any(|c| c == "query-target"), "{log:?}");
}
