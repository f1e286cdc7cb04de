//! A real third-party client: Python's `qemu.qmp` (from PyPI) connects to
//! the `qmp-cpu-server` binary, negotiates and runs
//! `query-cpu-model-expansion`.

use std::process::{Command, Stdio};

fn python_has_qemu_qmp() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import qemu.qmp"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var_os("QMP_REQUIRE_PYTHON").is_some_and(|v| v == "1") {
            panic!("QMP_REQUIRE_PYTHON=1 but Python's qemu.qmp is not installed");
        }
        eprintln!("skipping: Python's qemu.qmp is not installed (pip install qemu.qmp)");
    }
    ok
}

#[test]
fn qemu_qmp_client_talks_to_our_server() {
    if !python_has_qemu_qmp() {
        return;
    }
    let socket = std::env::temp_dir().join(format!("qmp-cpu-py-{}.sock", std::process::id()));
    let mut server = Command::new(env!("CARGO_BIN_EXE_qmp-cpu-server"))
        .args(["--target", "x86_64", "--socket"])
        .arg(&socket)
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    for _ in 0..500 {
        if socket.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python_client.py");
    let out = Command::new("python3").arg(script).arg(&socket).output();
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_file(&socket);
    let out = out.expect("python runs");
    assert!(
        out.status.success(),
        "qemu.qmp client failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("the script prints JSON");
    assert_eq!(seen["target"]["arch"], "x86_64");
    assert_eq!(seen["version"]["qemu"]["major"], 10);
    assert_eq!(seen["static_name"], "base");
    assert_eq!(seen["static"], true);
    assert_eq!(seen["static_migration_safe"], true);
    assert_eq!(seen["full_static"], false);
    assert_eq!(seen["full_migration_safe"], false);
}
