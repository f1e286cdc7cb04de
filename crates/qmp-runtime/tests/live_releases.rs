//! Two real QEMUs side by side: Debian 12's own QEMU 7.2 (unpacked by
//! `.ci/install-qemu-7.2.sh` into `target/qemu-7.2`) and QEMU 10.0.2.  One
//! client program asks each for its capabilities and checks commands
//! against them before sending: what 7.2 lacks is refused client-side,
//! with the peer's version, and never sent.
//!
//! Skips (saying why) when either binary is absent; fails then if
//! `QMP_REQUIRE_QEMU=1`.

mod common;

use std::path::{Path, PathBuf};

use qapi_types::{CpuModelInfo, QueryCpuModelBaseline, QueryTarget, QueryVersion, SysEmuTarget};
use qmp_runtime::{Client, ClientError};
use serde_json::json;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The two binaries: (release, binary, module dir).
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
            if std::env::var("QMP_REQUIRE_QEMU").as_deref() == Ok("1") {
                panic!("{} is absent and QMP_REQUIRE_QEMU=1", bin.display());
            }
            eprintln!(
                "skipped: {} is absent (.ci/install-qemu.sh and .ci/install-qemu-7.2.sh install them)",
                bin.display()
            );
            return None;
        }
    }
    Some(list)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_two_releases() {
    let Some(bins) = binaries() else { return };
    for (release, bin, modules) in &bins {
        let qemu = common::spawn_qemu(bin, modules.as_deref(), &format!("live-{release}")).await;
        let c = Client::connect_unix(&qemu.path).await.expect("connect");
        c.negotiate().await.expect("negotiate");
        let v = c.execute(&QueryVersion {}).await.expect("query-version");
        assert_eq!(format!("{}.{}", v.qemu.major, v.qemu.minor), *release);
        let t = c.execute(&QueryTarget {}).await.expect("query-target");
        assert_eq!(t.arch, SysEmuTarget::X86_64);

        let caps = c.capabilities().await.expect("query-qmp-schema");
        assert!(caps.version().starts_with(&format!("{release}.")));
        let is_72 = *release == "7.2";
        // 'acpi' became a member of query-machines' reply in 8.0.
        assert_eq!(caps.query("query-machines/ret-type/acpi"), Ok(!is_72));
        assert_eq!(caps.query("blockdev-add/arg-type/+null-co"), Ok(true));

        // StatsTarget 'cryptodev' came in 8.0: refused on 7.2, sent to
        // 10.0 (which answers it).
        let args = json!({"target": "cryptodev"});
        match caps.check_json("query-stats", &args) {
            Err(ClientError::Unsupported {
                error,
                peer_version,
                ..
            }) => {
                assert!(is_72, "{release}: {error}");
                assert!(peer_version.starts_with("7.2."), "{peer_version}");
                assert!(error.contains("cryptodev"), "{error}");
            }
            Ok(()) => {
                assert!(!is_72, "7.2 has no cryptodev target");
                c.execute_json("query-stats", Some(args))
                    .await
                    .expect("10.0 answers query-stats for cryptodev");
            }
            Err(other) => panic!("{other}"),
        }

        // A command the x86 target lacks, typed, with checking on: refused
        // before sending on both.
        c.check_before_sending(true);
        let m = || CpuModelInfo::new("qemu64".into());
        match c.execute(&QueryCpuModelBaseline::new(m(), m())).await {
            Err(ClientError::Unsupported { command, .. }) => {
                assert_eq!(command, "query-cpu-model-baseline")
            }
            other => panic!("{release}: {other:?}"),
        }
        // What the peer has goes through the check and is answered.
        let v2 = c
            .execute(&QueryVersion {})
            .await
            .expect("checked query-version");
        assert_eq!(v2, v);
        eprintln!(
            "QEMU {}: capabilities read, query-stats cryptodev {}, baseline refused",
            caps.version(),
            if is_72 { "refused" } else { "sent" }
        );
    }
}
