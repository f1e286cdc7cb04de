//! The blocking QMP client: against our server (greeting, negotiation,
//! typed replies and errors, events kept while a command waits, a
//! timed-out reply skipped) and against real QEMU 10.0.2 when installed.

mod common;

use std::path::Path;
use std::time::Duration;

use qapi_support::ErrorClass;
use qapi_types::{QueryTarget, QueryVersion, SysEmuTarget, VersionInfo};
use qmp_runtime::{blocking, ClientError};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_client_against_our_server() {
    let (server, path) = common::start("blocking").await;
    let events = server.events();
    tokio::task::spawn_blocking(move || {
        let mut c = blocking::Client::connect_unix(&path).expect("connect");
        let v: VersionInfo = c.greeting().version().expect("greeting version");
        assert_eq!((v.qemu.major, v.qemu.minor), (10, 0));
        assert_eq!(c.greeting().capabilities, ["oob"]);

        // Before negotiation, as QEMU answers.
        match c.execute(&QueryVersion {}) {
            Err(ClientError::Qmp { error, .. }) => {
                assert_eq!(error.class, ErrorClass::CommandNotFound);
                assert_eq!(
                    error.desc,
                    "Expecting capabilities negotiation with 'qmp_capabilities'"
                );
            }
            other => panic!("{other:?}"),
        }
        c.negotiate().expect("negotiate");
        let v = c.execute(&QueryVersion {}).expect("query-version");
        assert_eq!(v.package, common::PACKAGE);
        assert_eq!(
            c.execute(&QueryTarget {}).expect("query-target").arch,
            SysEmuTarget::X86_64
        );

        // An event sent while nothing waits is kept for the caller.
        assert_eq!(events.emit("X_TEST", Some(json!({"n": 1}))), 1);
        c.execute_json("x-ping", None).expect("x-ping");
        let got = c.take_events();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].name, "X_TEST");
        assert_eq!(got[0].data, Some(json!({"n": 1})));

        // A reply that comes too late is skipped by the next command.
        c.set_timeout(Some(Duration::from_millis(50)));
        match c.execute_json("x-sleep", Some(json!({"ms": 300}))) {
            Err(ClientError::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::TimedOut),
            other => panic!("{other:?}"),
        }
        c.set_timeout(Some(Duration::from_secs(20)));
        let echo = c
            .execute_json("x-echo", Some(json!({"after": "timeout"})))
            .expect("x-echo");
        assert_eq!(echo, json!({"after": "timeout"}));
    })
    .await
    .expect("the blocking client passes");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_client_against_real_qemu() {
    let bin = Path::new("/usr/bin/qemu-system-x86_64");
    if !bin.exists() {
        if std::env::var("QMP_REQUIRE_QEMU").as_deref() == Ok("1") {
            panic!("{} is absent and QMP_REQUIRE_QEMU=1", bin.display());
        }
        eprintln!(
            "skipped: {} is absent (.ci/install-qemu.sh installs it)",
            bin.display()
        );
        return;
    }
    let qemu = common::spawn_qemu(bin, None, "blocking").await;
    let path = qemu.path.clone();
    tokio::task::spawn_blocking(move || {
        let mut c = blocking::Client::connect_unix(&path).expect("connect");
        c.negotiate().expect("negotiate");
        let v = c.execute(&QueryVersion {}).expect("query-version");
        assert_eq!((v.qemu.major, v.qemu.minor), (10, 0));
        assert_eq!(
            c.execute(&QueryTarget {}).expect("query-target").arch,
            SysEmuTarget::X86_64
        );
        match c.execute_json("x-no-such-command", None) {
            Err(ClientError::Qmp { command, error }) => {
                assert_eq!(command, "x-no-such-command");
                assert_eq!(error.class, ErrorClass::CommandNotFound);
            }
            other => panic!("{other:?}"),
        }
    })
    .await
    .expect("the blocking client passes");
    drop(qemu);
}
