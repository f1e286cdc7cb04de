//! One program, built once from the range bindings (QEMU 10.2.2's schema
//! compatible with 7.2.0 … 10.0.2, `qemu_conformance::range_x86_64`),
//! drives two real QEMUs through the same scenario: Debian 12's own QEMU
//! 7.2 (unpacked by `.ci/install-qemu-7.2.sh` into `target/qemu-7.2`, run
//! with `QEMU_MODULE_DIR`) and QEMU 10.0.2.  Every reply and event must
//! decode; what 7.2 lacks is refused client-side, with the peer's version,
//! and never sent.
//!
//! Skips (saying why) when a binary is absent; fails then if
//! `QMP_REQUIRE_QEMU=1`.

#![cfg(qemu_schema)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::time::Duration;

use qapi_support::Command;
use qemu_conformance::range_x86_64 as qmp;
use qmp_runtime::{Client, ClientError};
use serde_json::json;

/// A QEMU with its QMP socket; killed on drop.
struct Qemu {
    child: Child,
    socket: PathBuf,
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.socket);
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// (release, binary, module dir), or `None` (with the reason printed).
fn binaries() -> Option<Vec<(&'static str, PathBuf, Option<PathBuf>)>> {
    let q72 = workspace().join("target/qemu-7.2");
    let list = vec![
        (
            "7.2",
            q72.join("usr/bin/qemu-system-x86_64"),
            Some(q72.join("usr/lib/x86_64-linux-gnu/qemu")),
        ),
        ("10.0", PathBuf::from("/usr/bin/qemu-system-x86_64"), None),
    ];
    for (_, bin, _) in &list {
        if !bin.exists() {
            assert!(
                std::env::var("QMP_REQUIRE_QEMU").as_deref() != Ok("1"),
                "{} is absent and QMP_REQUIRE_QEMU=1",
                bin.display()
            );
            eprintln!(
                "skipped: {} is absent (.ci/install-qemu.sh and .ci/install-qemu-7.2.sh install them)",
                bin.display()
            );
            return None;
        }
    }
    Some(list)
}

async fn start(bin: &Path, modules: Option<&Path>, release: &str) -> (Qemu, Client) {
    let socket = std::env::temp_dir().join(format!(
        "qapi-live-range-{release}-{}.sock",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&socket);
    let mut cmd = Process::new(bin);
    if let Some(m) = modules {
        cmd.env("QEMU_MODULE_DIR", m);
    }
    let child = cmd
        .args(["-machine", "none", "-accel", "tcg", "-nodefaults"])
        .args(["-nographic", "-S", "-qmp"])
        .arg(format!("unix:{},server=on,wait=off", socket.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start qemu");
    let qemu = Qemu { child, socket };
    for _ in 0..200 {
        if let Ok(c) = Client::connect_unix(&qemu.socket).await {
            return (qemu, c);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("QEMU {release}'s QMP socket did not appear");
}

/// Waits for event `name` and decodes it with the range bindings.
async fn event(events: &mut qmp_runtime::EventStream, name: &str) -> qmp::Event {
    let e = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let e = events.next().await.expect("connection open");
            if e.name == name {
                return e;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {name} event"));
    e.decode::<qmp::Event>()
        .unwrap_or_else(|err| panic!("{name} does not decode: {err}"))
        .event
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_bindings_drive_7_2_and_10_0() {
    let Some(bins) = binaries() else { return };
    for (release, bin, modules) in &bins {
        let (_qemu, c) = start(bin, modules.as_deref(), release).await;
        c.negotiate().await.expect("negotiate");
        let is_72 = *release == "7.2";

        let v = c
            .execute(&qmp::QueryVersion {})
            .await
            .expect("query-version");
        assert_eq!(format!("{}.{}", v.qemu.major, v.qemu.minor), *release);
        let status = c.execute(&qmp::QueryStatus {}).await.expect("query-status");
        assert!(!status.running);

        let mut events = c.events();
        c.execute(&qmp::Cont {}).await.expect("cont");
        assert!(matches!(
            event(&mut events, "RESUME").await,
            qmp::Event::Resume
        ));
        let status = c.execute(&qmp::QueryStatus {}).await.expect("query-status");
        assert!(status.running);
        c.execute(&qmp::Stop {}).await.expect("stop");
        assert!(matches!(event(&mut events, "STOP").await, qmp::Event::Stop));

        // 10.0.2's bindings alone fail here on 7.2 (`acpi` is mandatory
        // from 8.0 on); the range's decode both.
        let machines = c
            .execute(&qmp::QueryMachines::default())
            .await
            .expect("query-machines decodes");
        assert!(machines.iter().any(|m| m.name == "none"));
        assert_eq!(machines.iter().any(|m| m.acpi.is_some()), !is_72);
        let cpus = c
            .execute(&qmp::QueryCpuDefinitions {})
            .await
            .expect("query-cpu-definitions decodes");
        assert!(cpus.iter().any(|d| d.name == "qemu64"));
        let types = c
            .execute(&qmp::QomListTypes::default())
            .await
            .expect("qom-list-types decodes");
        assert!(types.iter().any(|t| t.name == "none-machine"));

        let add: qmp::BlockdevAdd =
            serde_json::from_value(json!({"driver": "null-co", "node-name": "null0"}))
                .expect("a typed blockdev-add");
        c.execute(&add).await.expect("blockdev-add null-co");
        c.execute(&qmp::BlockdevDel::new("null0".into()))
            .await
            .expect("blockdev-del");

        // What 7.2 lacks: checked against the peer's schema first, refused
        // client-side on 7.2, sent to 10.0.  A command (query-cryptodev,
        // 8.0 on) and a member (query-machines' compat-props, 9.1 on).
        assert_eq!(
            <qmp::QueryCryptodev as Command>::RELEASES,
            ["8.0", "8.1", "9.1", "10.0", "10.2"]
        );
        c.check_before_sending(true);
        let with_props = qmp::QueryMachines {
            compat_props: Some(true),
        };
        let results = [
            c.execute(&qmp::QueryCryptodev {}).await.map(drop),
            c.execute(&with_props).await.map(drop),
        ];
        for r in results {
            match r {
                Err(ClientError::Unsupported {
                    command,
                    error,
                    peer_version,
                }) => {
                    assert!(is_72, "{release} refused {command}: {error}");
                    assert!(peer_version.starts_with("7.2."), "{peer_version}");
                    eprintln!("QEMU {peer_version}: {command} refused before sending: {error}");
                }
                Ok(()) => assert!(!is_72, "7.2 was sent what it lacks"),
                Err(other) => panic!("{release}: {other}"),
            }
        }
        eprintln!(
            "QEMU {}: negotiate, query-version, query-status, cont/RESUME, stop/STOP, \
             query-machines ({}), query-cpu-definitions ({}), qom-list-types ({}), \
             blockdev-add/del null-co: every reply decoded by the range bindings",
            c.capabilities().await.expect("schema").version(),
            machines.len(),
            cpus.len(),
            types.len()
        );
    }
}
