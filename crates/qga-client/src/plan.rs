//! The helpers' command sequences without I/O: running a program and
//! waiting for it, reading and writing a whole file.  Each is a small
//! state machine ([`Plan`]) that says which command to send next, given
//! the reply to the last; both clients drive the same machines, so the
//! sequences, their typed requests and their errors exist once.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use qapi_support::Command;

use crate::wire::Raw;

use crate::channel::decode;
use crate::error::{GaError, Step};
use crate::schema::{
    GuestExecCaptureOutput, GuestExecCommand, GuestExecStatusCommand, GuestFileClose,
    GuestFileOpen, GuestFileReadCommand, GuestFileWriteCommand,
};

/// A request a plan wants sent.
#[derive(Debug, Clone)]
pub struct Request {
    /// The command.
    pub name: &'static str,
    /// Its arguments, encoded.
    pub args: Raw,
}

impl Request {
    fn of<C: Command>(command: &C) -> Result<Request, GaError> {
        Ok(Request {
            name: C::NAME,
            args: crate::channel::encode(command)?,
        })
    }
}

/// What a plan wants next.
#[derive(Debug)]
pub enum Want<T> {
    /// Send this and pass the reply to [`Plan::next`].
    Call(Request),
    /// Sleep this long, then call [`Plan::next`] with `None`.
    Wait(Duration),
    /// Finished.
    Done(Result<T, GaError>),
}

/// A sequence of commands.
pub trait Plan {
    /// What it produces.
    type Output;
    /// The next thing to do, given the reply to the last request (`None`
    /// at the start and after a wait).
    fn next(&mut self, reply: Option<Result<Raw, GaError>>) -> Want<Self::Output>;
}

/// `Want::Call` for `command`, or `Done` with its encoding error.
fn call<C: Command, T>(command: &C) -> Want<T> {
    match Request::of(command) {
        Ok(r) => Want::Call(r),
        Err(e) => Want::Done(Err(e)),
    }
}

fn step_error(step: Step, path: &str, source: GaError) -> GaError {
    GaError::Step {
        step,
        path: path.to_string(),
        source: Box::new(source),
    }
}

/// A program to run in the guest with [`crate::GaClient::exec`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exec {
    path: String,
    args: Vec<String>,
    env: Vec<String>,
    stdin: Option<Vec<u8>>,
    timeout: Option<Duration>,
}

impl Exec {
    /// Runs `path` (a path in the guest; the agent does not search
    /// `PATH` on every system, so give it whole).
    pub fn new(path: impl Into<String>) -> Self {
        Exec {
            path: path.into(),
            ..Default::default()
        }
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Adds an environment variable (the program gets only these).
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push(format!("{name}={value}"));
        self
    }

    /// What the program reads on standard input.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Gives up waiting after `timeout` (the program keeps running).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The program's path.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// How a program run by [`crate::GaClient::exec`] ended, and its output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    /// The exit status, when it exited.
    pub exit_code: Option<i64>,
    /// The signal that ended it, when one did.
    pub signal: Option<i64>,
    /// What it wrote on standard output.
    pub stdout: Vec<u8>,
    /// What it wrote on standard error.
    pub stderr: Vec<u8>,
    /// Whether the agent cut standard output at its limit.
    pub stdout_truncated: bool,
    /// Whether the agent cut standard error at its limit.
    pub stderr_truncated: bool,
}

impl ExecOutput {
    /// Whether it exited with status 0.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }
}

/// The first wait between two `guest-exec-status` polls; doubled after
/// each poll up to [`POLL_MAX`].
const POLL_FIRST: Duration = Duration::from_millis(1);
const POLL_MAX: Duration = Duration::from_millis(50);

/// `guest-exec`, then `guest-exec-status` until the process exited.
pub struct ExecPlan {
    exec: Exec,
    pid: Option<i64>,
    delay: Duration,
    waited: Duration,
}

impl ExecPlan {
    /// The plan for `exec`.
    pub fn new(exec: Exec) -> Self {
        ExecPlan {
            exec,
            pid: None,
            delay: POLL_FIRST,
            waited: Duration::ZERO,
        }
    }

    fn fail(&self, step: Step, e: GaError) -> Want<ExecOutput> {
        Want::Done(Err(step_error(step, &self.exec.path, e)))
    }

    fn status(&self, pid: i64) -> Want<ExecOutput> {
        call(&GuestExecStatusCommand { pid })
    }

    fn finished(&self, st: crate::schema::GuestExecStatus) -> Want<ExecOutput> {
        let data = |d: Option<String>| -> Result<Vec<u8>, GaError> {
            match d {
                None => Ok(Vec::new()),
                Some(s) => B64
                    .decode(s.as_bytes())
                    .map_err(|e| GaError::Protocol(format!("output is not base64: {e}"))),
            }
        };
        let (stdout, stderr) = match (data(st.out_data), data(st.err_data)) {
            (Ok(o), Ok(e)) => (o, e),
            (Err(e), _) | (_, Err(e)) => return self.fail(Step::DecodeData, e),
        };
        Want::Done(Ok(ExecOutput {
            exit_code: st.exitcode,
            signal: st.signal,
            stdout,
            stderr,
            stdout_truncated: st.out_truncated.unwrap_or(false),
            stderr_truncated: st.err_truncated.unwrap_or(false),
        }))
    }
}

impl Plan for ExecPlan {
    type Output = ExecOutput;

    fn next(&mut self, reply: Option<Result<Raw, GaError>>) -> Want<ExecOutput> {
        let Some(pid) = self.pid else {
            let Some(reply) = reply else {
                let e = &self.exec;
                return call(&GuestExecCommand {
                    path: e.path.clone(),
                    arg: (!e.args.is_empty()).then(|| e.args.clone()),
                    env: (!e.env.is_empty()).then(|| e.env.clone()),
                    input_data: e.stdin.as_ref().map(|b| B64.encode(b)),
                    capture_output: Some(GuestExecCaptureOutput::Flag(true)),
                });
            };
            return match reply.and_then(|r| decode::<GuestExecCommand>(&r)) {
                Ok(started) => {
                    self.pid = Some(started.pid);
                    self.status(started.pid)
                }
                Err(e) => self.fail(Step::Start, e),
            };
        };
        let Some(reply) = reply else {
            // After a wait.
            return self.status(pid);
        };
        match reply.and_then(|r| decode::<GuestExecStatusCommand>(&r)) {
            Ok(st) if st.exited => self.finished(st),
            Ok(_) => {
                if let Some(limit) = self.exec.timeout {
                    if self.waited >= limit {
                        return self.fail(
                            Step::Wait,
                            GaError::Timeout {
                                command: GuestExecStatusCommand::NAME.into(),
                                after: self.waited,
                            },
                        );
                    }
                }
                let d = self.delay;
                self.waited += d;
                self.delay = (d * 2).min(POLL_MAX);
                Want::Wait(d)
            }
            Err(e) => self.fail(Step::Wait, e),
        }
    }
}

/// How many bytes one `guest-file-read` or `guest-file-write` moves.  The
/// agent accepts reads of up to 48 MiB; a few MiB per request keeps each
/// message small while the per-request cost stays below the copying.
pub const FILE_CHUNK: usize = 4 << 20;

/// Where a file plan is.
enum FileState<T> {
    Opening,
    Moving {
        handle: i64,
    },
    /// Closing the handle, with what the plan will return afterwards.
    Closing {
        result: Result<T, GaError>,
    },
    Closed,
}

/// `guest-file-open`, reads until the end, `guest-file-close`.
pub struct ReadPlan {
    path: String,
    data: Vec<u8>,
    state: FileState<()>,
}

impl ReadPlan {
    /// The plan for reading `path`.
    pub fn new(path: &str) -> Self {
        ReadPlan {
            path: path.to_string(),
            data: Vec::new(),
            state: FileState::Opening,
        }
    }
}

/// `guest-file-open` (for writing, truncating), writes, `guest-file-close`.
pub struct WritePlan {
    path: String,
    data: Vec<u8>,
    written: usize,
    state: FileState<()>,
}

impl WritePlan {
    /// The plan for writing `data` to `path`.
    pub fn new(path: &str, data: Vec<u8>) -> Self {
        WritePlan {
            path: path.to_string(),
            data,
            written: 0,
            state: FileState::Opening,
        }
    }
}

/// The shared part of the two file plans: opening and closing, and
/// closing after a failure with the failure kept.
fn file_step<T>(
    state: &mut FileState<T>,
    path: &str,
    mode: &str,
    reply: Option<Result<Raw, GaError>>,
    step: Step,
    mut moved: impl FnMut(i64, Option<Result<Raw, GaError>>) -> Result<Option<Want<T>>, GaError>,
    done: impl FnOnce() -> T,
) -> Want<T> {
    match std::mem::replace(state, FileState::Closed) {
        FileState::Opening => match reply {
            None => {
                *state = FileState::Opening;
                call(&GuestFileOpen {
                    path: path.to_string(),
                    mode: Some(mode.into()),
                })
            }
            Some(r) => match r.and_then(|r| decode::<GuestFileOpen>(&r)) {
                Ok(handle) => {
                    *state = FileState::Moving { handle };
                    file_step(state, path, mode, None, step, moved, done)
                }
                Err(e) => Want::Done(Err(step_error(Step::Open, path, e))),
            },
        },
        FileState::Moving { handle } => {
            let result = match moved(handle, reply) {
                Ok(Some(want)) => {
                    *state = FileState::Moving { handle };
                    return want;
                }
                Ok(None) => Ok(done()),
                Err(e) if e.is_fatal() => return Want::Done(Err(step_error(step, path, e))),
                Err(e) => Err(step_error(step, path, e)),
            };
            *state = FileState::Closing { result };
            call(&GuestFileClose { handle })
        }
        FileState::Closing { result } => {
            let closed = reply.map_or(Ok(()), |r| r.map(drop));
            Want::Done(match (result, closed) {
                (Err(e), _) => Err(e),
                (Ok(_), Err(e)) => Err(step_error(Step::Close, path, e)),
                (Ok(t), Ok(())) => Ok(t),
            })
        }
        FileState::Closed => Want::Done(Err(GaError::Protocol("plan already finished".into()))),
    }
}

/// A `guest-file-read` reply read in place: the base64 text is borrowed
/// from the reply line and decoded straight into the file's bytes.  The
/// generated `GuestFileRead` would copy a 5 MiB string out of a `Value`
/// first; at 4 MiB per request that copy is a tenth of the read time.  A
/// test checks that both read the same replies alike.
#[derive(serde::Deserialize)]
struct ChunkView<'a> {
    #[serde(rename = "buf-b64", borrow)]
    buf_b64: std::borrow::Cow<'a, str>,
    eof: bool,
}

impl<'a> ChunkView<'a> {
    fn read(raw: &'a serde_json::value::RawValue) -> Result<ChunkView<'a>, GaError> {
        serde_json::from_str(raw.get()).map_err(|e| GaError::Decode {
            command: GuestFileReadCommand::NAME.into(),
            error: format!("GuestFileRead: {e}"),
            json: qapi_support::error::quote(raw.get()),
        })
    }
}

impl Plan for ReadPlan {
    type Output = Vec<u8>;

    fn next(&mut self, reply: Option<Result<Raw, GaError>>) -> Want<Vec<u8>> {
        let data = &mut self.data;
        let want = file_step(
            &mut self.state,
            &self.path,
            "r",
            reply,
            Step::Read,
            |handle, reply| {
                if let Some(r) = reply {
                    let r = r?;
                    let chunk = ChunkView::read(&r)?;
                    let before = data.len();
                    B64.decode_vec(chunk.buf_b64.as_bytes(), data)
                        .map_err(|e| {
                            GaError::Protocol(format!("guest-file-read data is not base64: {e}"))
                        })?;
                    if chunk.eof || data.len() == before {
                        return Ok(None);
                    }
                }
                Ok(Some(call(&GuestFileReadCommand {
                    handle,
                    count: Some(FILE_CHUNK as i64),
                })))
            },
            || (),
        );
        match want {
            Want::Done(Ok(())) => Want::Done(Ok(std::mem::take(&mut self.data))),
            Want::Done(Err(e)) => Want::Done(Err(e)),
            Want::Call(r) => Want::Call(r),
            Want::Wait(d) => Want::Wait(d),
        }
    }
}

impl Plan for WritePlan {
    type Output = ();

    fn next(&mut self, reply: Option<Result<Raw, GaError>>) -> Want<()> {
        let written = &mut self.written;
        let data = &self.data;
        file_step(
            &mut self.state,
            &self.path,
            "w",
            reply,
            Step::Write,
            |handle, reply| {
                if let Some(r) = reply {
                    let wrote = r.and_then(|r| decode::<GuestFileWriteCommand>(&r))?;
                    let n = usize::try_from(wrote.count).unwrap_or(0);
                    if n == 0 {
                        return Err(GaError::Protocol("the agent wrote nothing".into()));
                    }
                    *written = (*written + n).min(data.len());
                }
                if *written >= data.len() {
                    return Ok(None);
                }
                let end = (*written + FILE_CHUNK).min(data.len());
                Ok(Some(call(&GuestFileWriteCommand {
                    handle,
                    buf_b64: B64.encode(&data[*written..end]),
                    count: None,
                })))
            },
            || (),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qapi_support::{ErrorClass, QmpError};
    use serde_json::json;

    /// Runs `plan` against scripted replies; returns the requests it made
    /// (waits as `"wait"`) and its result.
    fn drive<P: Plan>(
        mut plan: P,
        mut replies: Vec<Result<serde_json::Value, GaError>>,
    ) -> (Vec<String>, Result<P::Output, GaError>) {
        replies.reverse();
        let mut replies: Vec<Result<Raw, GaError>> = replies
            .into_iter()
            .map(|r| r.map(|v| serde_json::value::to_raw_value(&v).expect("JSON")))
            .collect();
        let mut log = Vec::new();
        let mut reply = None;
        loop {
            match plan.next(reply.take()) {
                Want::Call(r) => {
                    log.push(format!("{} {}", r.name, r.args.get()));
                    reply = Some(replies.pop().expect("a reply for every request"));
                }
                Want::Wait(_) => log.push("wait".into()),
                Want::Done(out) => {
                    assert!(replies.is_empty(), "unused replies");
                    return (log, out);
                }
            }
        }
    }

    fn agent_error(desc: &str) -> GaError {
        GaError::Agent {
            command: "x".into(),
            error: QmpError {
                class: ErrorClass::GenericError,
                desc: desc.into(),
            },
        }
    }

    #[test]
    fn exec_polls_until_exited_and_decodes_output() {
        let (log, out) = drive(
            ExecPlan::new(Exec::new("/bin/sh").arg("-c").arg("echo hi").stdin(*b"in")),
            vec![
                Ok(json!({"pid": 7})),
                Ok(json!({"exited": false})),
                Ok(json!({"exited": true, "exitcode": 3, "out-data": "aGkK", "err-data": ""})),
            ],
        );
        assert_eq!(
            log,
            [
                r#"guest-exec {"path":"/bin/sh","arg":["-c","echo hi"],"input-data":"aW4=","capture-output":true}"#,
                r#"guest-exec-status {"pid":7}"#,
                "wait",
                r#"guest-exec-status {"pid":7}"#,
            ]
        );
        let out = out.unwrap();
        assert_eq!(out.exit_code, Some(3));
        assert_eq!(out.stdout, b"hi\n");
        assert!(!out.success());
    }

    #[test]
    fn exec_errors_name_the_step_and_program() {
        let (_, out) = drive(
            ExecPlan::new(Exec::new("/nope")),
            vec![Err(agent_error("Failed to execute child process"))],
        );
        let e = out.unwrap_err();
        assert!(matches!(&e, GaError::Step { step: Step::Start, path, .. } if path == "/nope"));
        assert!(
            e.to_string().starts_with("starting /nope in the guest: "),
            "{e}"
        );

        let (_, out) = drive(
            ExecPlan::new(Exec::new("/bin/true")),
            vec![
                Ok(json!({"pid": 1})),
                Ok(json!({"exited": true, "out-data": "***"})),
            ],
        );
        assert!(matches!(
            out,
            Err(GaError::Step {
                step: Step::DecodeData,
                ..
            })
        ));
    }

    #[test]
    fn exec_gives_up_after_its_timeout() {
        let mut replies = vec![Ok(json!({"pid": 1}))];
        // 1 + 2 + 4 + 8 ms of waiting reaches 10 ms after the fourth poll.
        replies.extend((0..5).map(|_| Ok(json!({"exited": false}))));
        let (log, out) = drive(
            ExecPlan::new(Exec::new("/bin/sleep").timeout(Duration::from_millis(10))),
            replies,
        );
        assert_eq!(log.iter().filter(|l| *l == "wait").count(), 4);
        assert!(
            matches!(out, Err(GaError::Step { step: Step::Wait, source, .. })
            if matches!(*source, GaError::Timeout { .. }))
        );
    }

    #[test]
    fn the_chunk_view_reads_what_the_generated_type_reads() {
        for json in [
            r#"{"count": 3, "buf-b64": "YWJj", "eof": false}"#,
            r#"{"eof": true, "buf-b64": "", "count": 0, "extra": 1}"#,
            r#"{"count": 1, "buf-b64": "Y\u0057Jj", "eof": true}"#,
        ] {
            let raw = serde_json::value::RawValue::from_string(json.into()).unwrap();
            let view = ChunkView::read(&raw).unwrap();
            let typed: crate::schema::GuestFileRead = serde_json::from_str(json).unwrap();
            assert_eq!(
                (view.buf_b64.as_ref(), view.eof),
                (typed.buf_b64.as_str(), typed.eof)
            );
        }
        for bad in [
            r#"{"count": 3, "eof": false}"#,
            r#"{"buf-b64": 1, "eof": false}"#,
        ] {
            let raw = serde_json::value::RawValue::from_string(bad.into()).unwrap();
            assert!(ChunkView::read(&raw).is_err());
            assert!(serde_json::from_str::<crate::schema::GuestFileRead>(bad).is_err());
        }
    }

    #[test]
    fn read_reads_until_eof_then_closes() {
        let (log, out) = drive(
            ReadPlan::new("/etc/x"),
            vec![
                Ok(json!(5)),
                Ok(json!({"count": 3, "buf-b64": "YWJj", "eof": false})),
                Ok(json!({"count": 1, "buf-b64": "ZA==", "eof": true})),
                Ok(json!({})),
            ],
        );
        assert_eq!(out.unwrap(), b"abcd");
        assert_eq!(log[0], r#"guest-file-open {"path":"/etc/x","mode":"r"}"#);
        assert_eq!(log[3], r#"guest-file-close {"handle":5}"#);
    }

    #[test]
    fn a_failed_read_still_closes_and_keeps_its_error() {
        let (log, out) = drive(
            ReadPlan::new("/etc/x"),
            vec![Ok(json!(5)), Err(agent_error("read failed")), Ok(json!({}))],
        );
        assert_eq!(log.last().unwrap(), r#"guest-file-close {"handle":5}"#);
        let e = out.unwrap_err();
        assert_eq!(
            e.to_string(),
            "reading /etc/x in the guest: x: GenericError: read failed"
        );
        assert_eq!(e.agent_error().unwrap().desc, "read failed");
    }

    #[test]
    fn open_errors_name_the_path() {
        let (log, out) = drive(
            ReadPlan::new("/missing"),
            vec![Err(agent_error("No such file or directory"))],
        );
        assert_eq!(log.len(), 1);
        assert!(
            matches!(out, Err(GaError::Step { step: Step::Open, path, .. }) if path == "/missing")
        );
    }

    #[test]
    fn write_writes_in_chunks_follows_short_writes_and_closes() {
        let data = vec![7u8; FILE_CHUNK + 10];
        let (log, out) = drive(
            WritePlan::new("/tmp/y", data),
            vec![
                Ok(json!(2)),
                Ok(json!({"count": FILE_CHUNK - 5, "eof": false})),
                Ok(json!({"count": 15, "eof": false})),
                Ok(json!({})),
            ],
        );
        out.unwrap();
        assert_eq!(log.len(), 4);
        assert!(log[0].contains(r#""mode":"w""#));
        assert!(log[3].starts_with("guest-file-close"));

        // An empty file: open and close only.
        let (log, out) = drive(
            WritePlan::new("/tmp/e", Vec::new()),
            vec![Ok(json!(2)), Ok(json!({}))],
        );
        out.unwrap();
        assert_eq!(log.len(), 2);

        // A close that fails is the error.
        let (_, out) = drive(
            WritePlan::new("/tmp/e", b"x".to_vec()),
            vec![
                Ok(json!(2)),
                Ok(json!({"count": 1, "eof": false})),
                Err(agent_error("EIO")),
            ],
        );
        assert!(matches!(
            out,
            Err(GaError::Step {
                step: Step::Close,
                ..
            })
        ));

        // An agent that writes nothing does not make the plan spin.
        let (_, out) = drive(
            WritePlan::new("/tmp/e", b"x".to_vec()),
            vec![
                Ok(json!(2)),
                Ok(json!({"count": 0, "eof": false})),
                Ok(json!({})),
            ],
        );
        assert!(matches!(
            out,
            Err(GaError::Step {
                step: Step::Write,
                ..
            })
        ));
    }
}
