//! Shared by the agent tests: a real `qemu-ga` in a temporary directory,
//! a fake agent (our server speaking the agent's protocol, with a handler
//! that acts on this host as qemu-ga does), and the scenario both must
//! pass.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use qapi_support::{Empty, ErrorClass, QmpError};
use qga_client::schema::{self, QmpHandler};
use qmp_runtime::{from_dispatch, Server, ServerConfig};

pub const QEMU_GA: &str = "/usr/sbin/qemu-ga";

/// Commands the tests keep the real agent from running on this host
/// (they would change the host), plus `guest-get-vcpus`, blocked to test
/// the error of a disabled command.
pub const BLOCKED: &[&str] = &[
    "guest-shutdown",
    "guest-suspend-disk",
    "guest-suspend-ram",
    "guest-suspend-hybrid",
    "guest-set-time",
    "guest-fsfreeze-freeze",
    "guest-fsfreeze-freeze-list",
    "guest-fsfreeze-thaw",
    "guest-fstrim",
    "guest-set-user-password",
    "guest-set-vcpus",
    "guest-set-memory-blocks",
    "guest-ssh-add-authorized-keys",
    "guest-ssh-remove-authorized-keys",
    "guest-get-vcpus",
];

/// A fresh private directory for one test.
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qga-client-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A `qemu-ga` process listening on a UNIX socket; killed on drop.
pub struct RealAgent {
    child: Child,
    pub socket: PathBuf,
    pub dir: PathBuf,
}

impl RealAgent {
    /// Starts the agent, or says why the test skips (`None`).  With
    /// `QMP_REQUIRE_QEMU=1` (as in CI), a missing agent fails instead.
    pub fn start(tag: &str) -> Option<RealAgent> {
        if !Path::new(QEMU_GA).exists() {
            if std::env::var("QMP_REQUIRE_QEMU").as_deref() == Ok("1") {
                panic!("{QEMU_GA} is missing and QMP_REQUIRE_QEMU=1 (install qemu-guest-agent)");
            }
            eprintln!("skipping: {QEMU_GA} is not installed (Debian's qemu-guest-agent)");
            return None;
        }
        let dir = temp_dir(tag);
        let state = dir.join("state");
        std::fs::create_dir_all(&state).expect("state dir");
        let socket = dir.join("qga.sock");
        let mut child = Command::new(QEMU_GA)
            .arg("-m")
            .arg("unix-listen")
            .arg("-p")
            .arg(&socket)
            .arg("-t")
            .arg(&state)
            .arg("-f")
            .arg(dir.join("qga.pid"))
            .arg("-b")
            .arg(BLOCKED.join(","))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("qemu-ga starts");
        for _ in 0..500 {
            if socket.exists() {
                return Some(RealAgent { child, socket, dir });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("qemu-ga did not create {} within 5 s", socket.display());
    }
}

impl Drop for RealAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A process started by the fake agent.
struct Process {
    child: Child,
    out: std::thread::JoinHandle<Vec<u8>>,
    err: std::thread::JoinHandle<Vec<u8>>,
}

/// A fake agent's handler that acts on this host as qemu-ga does: real
/// files, real processes, the host's name and kernel.  What a user writes
/// to test management code without a VM, here as thorough as the tests
/// need.
#[derive(Default)]
pub struct HostAgent {
    files: Mutex<HashMap<i64, std::fs::File>>,
    processes: Mutex<HashMap<i64, Process>>,
    next_handle: AtomicUsize,
    pub shutdowns: AtomicUsize,
}

fn generic(desc: impl Into<String>) -> QmpError {
    QmpError::generic(desc)
}

/// The error qemu-ga gives for a command it was told to block.
fn disabled(command: &str) -> QmpError {
    QmpError {
        class: ErrorClass::CommandNotFound,
        desc: format!("Command {command} has been disabled: the command is not allowed"),
    }
}

fn trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// The fake agent leaves out what a Linux qemu-ga lacks.
pub const LINUX_LACKS: &[&str] = &["guest-get-devices"];

impl QmpHandler for HostAgent {
    fn guest_ping(&self) -> Result<Empty, QmpError> {
        Ok(Empty {})
    }

    fn guest_info(&self) -> Result<schema::GuestAgentInfo, QmpError> {
        let commands = schema::COMMANDS
            .iter()
            .filter(|c| !LINUX_LACKS.contains(&c.name))
            .map(|c| {
                schema::GuestAgentCommandInfo::new(
                    c.name.into(),
                    c.name != "guest-get-vcpus",
                    c.success_response,
                )
            })
            .collect();
        Ok(schema::GuestAgentInfo::new("fake".into(), commands))
    }

    fn guest_get_vcpus(&self) -> Result<Vec<schema::GuestLogicalProcessor>, QmpError> {
        Err(disabled("guest-get-vcpus"))
    }

    fn guest_shutdown(&self, args: schema::GuestShutdown) -> Result<Empty, QmpError> {
        match args.mode.as_deref() {
            None | Some("powerdown" | "halt" | "reboot") => {
                self.shutdowns.fetch_add(1, Ordering::SeqCst);
                Ok(Empty {})
            }
            Some(_) => Err(generic(
                "mode is invalid (valid values are: halt|powerdown|reboot",
            )),
        }
    }

    fn guest_get_host_name(&self) -> Result<schema::GuestHostName, QmpError> {
        let name = trimmed("/proc/sys/kernel/hostname").ok_or_else(|| generic("no host name"))?;
        Ok(schema::GuestHostName::new(name))
    }

    fn guest_get_osinfo(&self) -> Result<schema::GuestOSInfo, QmpError> {
        let mut info = schema::GuestOSInfo::new();
        info.kernel_release = trimmed("/proc/sys/kernel/osrelease");
        info.kernel_version = trimmed("/proc/sys/kernel/version");
        info.machine = Some(std::env::consts::ARCH.into());
        let release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
        for line in release.lines() {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let v = Some(v.trim_matches('"').to_string());
            match k {
                "ID" => info.id = v,
                "NAME" => info.name = v,
                "PRETTY_NAME" => info.pretty_name = v,
                "VERSION" => info.version = v,
                "VERSION_ID" => info.version_id = v,
                _ => {}
            }
        }
        Ok(info)
    }

    fn guest_file_open(&self, args: schema::GuestFileOpen) -> Result<i64, QmpError> {
        let mode = args.mode.as_deref().unwrap_or("r");
        let mut o = std::fs::OpenOptions::new();
        match mode {
            "r" => o.read(true),
            "w" => o.write(true).create(true).truncate(true),
            _ => return Err(generic(format!("unsupported mode '{mode}'"))),
        };
        let f = o.open(&args.path).map_err(|e| {
            generic(format!(
                "failed to open file '{}' (mode: '{mode}'): {e}",
                args.path
            ))
        })?;
        let h = self.next_handle.fetch_add(1, Ordering::SeqCst) as i64 + 1000;
        lock(&self.files).insert(h, f);
        Ok(h)
    }

    fn guest_file_close(&self, args: schema::GuestFileClose) -> Result<Empty, QmpError> {
        lock(&self.files)
            .remove(&args.handle)
            .map(|_| Empty {})
            .ok_or_else(|| generic(format!("handle '{}' has not been found", args.handle)))
    }

    fn guest_file_read(
        &self,
        args: schema::GuestFileReadCommand,
    ) -> Result<schema::GuestFileRead, QmpError> {
        let count = args.count.unwrap_or(4096);
        if !(0..=48 << 20).contains(&count) {
            return Err(generic(format!(
                "value '{count}' is invalid for argument count"
            )));
        }
        let mut files = lock(&self.files);
        let f = files
            .get_mut(&args.handle)
            .ok_or_else(|| generic(format!("handle '{}' has not been found", args.handle)))?;
        let mut buf = Vec::with_capacity(count as usize);
        Read::by_ref(f)
            .take(count as u64)
            .read_to_end(&mut buf)
            .map_err(|e| generic(format!("failed to read file: {e}")))?;
        let eof = (buf.len() as i64) < count;
        Ok(schema::GuestFileRead::new(
            buf.len() as i64,
            B64.encode(&buf),
            eof,
        ))
    }

    fn guest_file_write(
        &self,
        args: schema::GuestFileWriteCommand,
    ) -> Result<schema::GuestFileWrite, QmpError> {
        let bytes = B64
            .decode(args.buf_b64.as_bytes())
            .map_err(|_| generic("Invalid parameter 'buf-b64'"))?;
        let mut files = lock(&self.files);
        let f = files
            .get_mut(&args.handle)
            .ok_or_else(|| generic(format!("handle '{}' has not been found", args.handle)))?;
        f.write_all(&bytes)
            .map_err(|e| generic(format!("failed to write to file: {e}")))?;
        Ok(schema::GuestFileWrite::new(bytes.len() as i64, false))
    }

    fn guest_exec(&self, args: schema::GuestExecCommand) -> Result<schema::GuestExec, QmpError> {
        let mut cmd = Command::new(&args.path);
        cmd.args(args.arg.unwrap_or_default())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(env) = args.env {
            cmd.env_clear();
            for kv in env {
                if let Some((k, v)) = kv.split_once('=') {
                    cmd.env(k, v);
                }
            }
        }
        let mut child = cmd.spawn().map_err(|e| {
            generic(format!(
                "Guest agent command failed, error was 'Failed to execute child process \u{201c}{}\u{201d} ({e})'",
                args.path
            ))
        })?;
        let input = match args.input_data {
            Some(b) => B64
                .decode(b.as_bytes())
                .map_err(|_| generic("Invalid parameter 'input-data'"))?,
            None => Vec::new(),
        };
        let mut stdin = child.stdin.take();
        std::thread::spawn(move || {
            if let Some(s) = stdin.as_mut() {
                let _ = s.write_all(&input);
            }
        });
        let drain = |r: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut v = Vec::new();
                if let Some(mut r) = r {
                    let _ = r.read_to_end(&mut v);
                }
                v
            })
        };
        let out = drain(
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        );
        let err = drain(
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        );
        let pid = i64::from(child.id());
        lock(&self.processes).insert(pid, Process { child, out, err });
        Ok(schema::GuestExec::new(pid))
    }

    fn guest_exec_status(
        &self,
        args: schema::GuestExecStatusCommand,
    ) -> Result<schema::GuestExecStatus, QmpError> {
        let mut procs = lock(&self.processes);
        let p = procs
            .get_mut(&args.pid)
            .ok_or_else(|| generic("Invalid parameter 'pid'"))?;
        let status = p
            .child
            .try_wait()
            .map_err(|e| generic(format!("waitpid: {e}")))?;
        let Some(status) = status else {
            return Ok(schema::GuestExecStatus::new(false));
        };
        let p = procs.remove(&args.pid).expect("present");
        use std::os::unix::process::ExitStatusExt;
        let mut st = schema::GuestExecStatus::new(true);
        st.exitcode = status.code().map(i64::from);
        st.signal = status.signal().map(i64::from);
        st.out_data = Some(B64.encode(p.out.join().unwrap_or_default()));
        st.err_data = Some(B64.encode(p.err.join().unwrap_or_default()));
        Ok(st)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A fake agent: our server in guest-agent mode, running `HostAgent`
/// through the generated dispatcher, on a fresh socket.
pub async fn fake_agent(tag: &str) -> (Server, PathBuf, PathBuf) {
    let dir = temp_dir(tag);
    let socket = dir.join("fake.sock");
    let handler = HostAgent::default();
    let service = from_dispatch(schema::COMMANDS, move |c, a| {
        schema::dispatch(&handler, c, a)
    });
    let server = Server::new(service, ServerConfig::guest_agent());
    server.listen_unix(&socket).await.expect("listen");
    (server, socket, dir)
}

/// `n` bytes that no compression or pattern would explain.
pub fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            // xorshift64*
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

/// What differs between the agents the scenario runs against.
pub struct Expect {
    /// `guest-shutdown` is blocked (the real agent on this host).
    pub shutdown_blocked: bool,
}

/// The scenario every agent and client must pass, written once for both
/// clients: `$($await)*` is `.await` for the async client and nothing for
/// the blocking one.
#[macro_export]
macro_rules! scenario {
    ($ga:expr, $dir:expr, $expect:expr, $($await:tt)*) => {{
        use qapi_support::ErrorClass;
        use qga_client::{schema, Exec, GaError, Step};
        use std::time::Duration;
        let ga = $ga;
        let dir: &std::path::Path = $dir;
        let expect: &$crate::common::Expect = $expect;

        ga.execute(&schema::GuestPing {}) $($await)* .expect("guest-ping");

        // Every command of the bindings is in the agent's list, with the
        // same success-response; the blocked one is disabled.
        let info = ga.execute(&schema::GuestInfo {}) $($await)* .expect("guest-info");
        assert!(!info.version.is_empty());
        for c in schema::COMMANDS {
            if $crate::common::LINUX_LACKS.contains(&c.name) {
                continue;
            }
            let Some(a) = info.supported_commands.iter().find(|a| a.name == c.name) else {
                panic!("the agent lacks {}", c.name);
            };
            assert_eq!(a.success_response, c.success_response, "{}", c.name);
        }
        let vcpus = info.supported_commands.iter().find(|a| a.name == "guest-get-vcpus");
        assert_eq!(vcpus.map(|a| a.enabled), Some(false));

        let os = ga.execute(&schema::GuestGetOsinfo {}) $($await)* .expect("guest-get-osinfo");
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").expect("osrelease");
        assert_eq!(os.kernel_release.as_deref(), Some(kernel.trim()));
        assert!(os.id.is_some(), "{os:?}");
        let host = ga.execute(&schema::GuestGetHostName {}) $($await)* .expect("host name");
        let name = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
        assert_eq!(host.host_name, name.trim());

        // A shell command: standard input, output, error and status.
        let out = ga
            .exec(
                &Exec::new("/bin/sh")
                    .arg("-c")
                    .arg("printf out; printf err >&2; read x; echo \"$x\"; exit 3")
                    .stdin(*b"line\n")
                    .timeout(Duration::from_secs(20)),
            )
            $($await)*
            .expect("guest-exec");
        assert_eq!((out.exit_code, out.signal), (Some(3), None));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "outline\n");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "err");
        let e = ga.exec(&Exec::new("/nonexistent/program")) $($await)* .unwrap_err();
        assert!(matches!(&e, GaError::Step { step: Step::Start, path, .. } if path == "/nonexistent/program"), "{e}");

        // 1 MiB of random bytes there and back.
        let data = $crate::common::random_bytes(1 << 20, 7);
        let file = dir.join("blob");
        let path = file.to_str().expect("utf-8 path");
        ga.write_file(path, &data) $($await)* .expect("write_file");
        assert!(std::fs::read(&file).expect("the file is on the host") == data);
        let back = ga.read_file(path) $($await)* .expect("read_file");
        assert!(back == data, "read back {} bytes, not the same", back.len());
        let e = ga.read_file("/nonexistent/file") $($await)* .unwrap_err();
        assert!(matches!(&e, GaError::Step { step: Step::Open, path, .. } if path == "/nonexistent/file"));
        assert_eq!(e.agent_error().map(|e| e.class), Some(ErrorClass::GenericError), "{e}");

        // A partial request left in the agent's parser: without the
        // sentinel of the sync, the next command would be swallowed.
        ga.send_raw(b"{\"execute\": \"guest-ping\", \"arguments\": {\"x\": [") $($await)* .expect("raw");
        let host2 = ga.execute(&schema::GuestGetHostName {}) $($await)* .expect("after garbage");
        assert_eq!(host2.host_name, host.host_name);

        // A reply left unread by a call that gave up at once: the next
        // command gets its own reply, not the stale one.
        let e = ga
            .execute_with_timeout(&schema::GuestInfo {}, Duration::ZERO)
            $($await)*
            .unwrap_err();
        assert!(matches!(&e, GaError::Timeout { command, .. } if command == "guest-info"), "{e}");
        let host3 = ga.execute(&schema::GuestGetHostName {}) $($await)* .expect("after a timeout");
        assert_eq!(host3.host_name, host.host_name);

        // Commands the agent lacks or refuses: its errors, typed.
        let e = ga.execute(&schema::GuestGetDevices {}) $($await)* .unwrap_err();
        let err = e.agent_error().expect("the agent's error");
        assert_eq!(err.class, ErrorClass::CommandNotFound);
        assert_eq!(err.desc, "The command guest-get-devices has not been found");
        let e = ga.execute(&schema::GuestGetVcpus {}) $($await)* .unwrap_err();
        assert_eq!(
            e.agent_error().map(|e| e.desc.as_str()),
            Some("Command guest-get-vcpus has been disabled: the command is not allowed")
        );

        // A command without a reply on success: an error still comes back,
        // and success returns without waiting for a reply that never comes.
        let mut bogus = schema::GuestShutdown::new();
        bogus.mode = Some("bogus".into());
        let e = ga.execute(&bogus) $($await)* .unwrap_err();
        assert!(e.agent_error().is_some(), "{e}");
        let r = ga.execute(&schema::GuestShutdown::new()) $($await)*;
        if expect.shutdown_blocked {
            assert_eq!(r.unwrap_err().agent_error().map(|e| e.class), Some(ErrorClass::CommandNotFound));
        } else {
            r.expect("guest-shutdown taken");
        }
        ga.execute(&schema::GuestPing {}) $($await)* .expect("the channel still works");
    }};
}
