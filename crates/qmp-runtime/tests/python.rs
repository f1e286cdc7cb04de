//! QEMU's own Python QMP library (`qemu.qmp`) against our server: it must
//! not tell the difference.  Skips (saying why) when the module is not
//! installed; fails then if `QMP_REQUIRE_PYTHON=1`.

mod common;

use std::process::Command;

fn python_has_qemu_qmp() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import qemu.qmp"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("QMP_REQUIRE_PYTHON").as_deref() == Ok("1") {
            panic!("python3 with qemu.qmp is needed (QMP_REQUIRE_PYTHON=1)");
        }
        eprintln!("skipped: python3 cannot import qemu.qmp (pip install qemu.qmp; QMP_REQUIRE_PYTHON=1 makes this fail)");
    }
    ok
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_qemu_qmp_client() {
    if !python_has_qemu_qmp() {
        return;
    }
    let (server, path) = common::start("python").await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/qmp_client.py");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(script)
            .arg(&path)
            .output()
            .expect("run python3")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "qmp_client.py failed:\n{stdout}\n{stderr}"
    );
    println!("{}", stdout.trim());
    server.shutdown().await;
}
