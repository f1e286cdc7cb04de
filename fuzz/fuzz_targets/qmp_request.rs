//! Any bytes as what a QMP client sends: the server's request path
//! (QEMU's JSON lexer, streamer and parser, the request checks,
//! negotiation, the generated argument checker and dispatcher, the reply
//! writer) must never panic or hang, and must answer the same whether the
//! bytes arrive at once or in pieces.
//!
//! The first byte chooses where the input is cut; the connection starts
//! negotiated when its low bit is set.  Every reply is a line ended by
//! `\r\n` that is JSON (QEMU, and so we, write `inf`/`nan` for such
//! numbers, which JSON lacks).

#![no_main]

use libfuzzer_sys::fuzz_target;
use qapi_support::QmpError;
use qapi_types::{CommandInfo, QmpHandler, SysEmuTarget, TargetInfo, VersionInfo, VersionTriple};
use qmp_runtime::{from_dispatch, ServerConfig, Session};

struct Handler;

impl QmpHandler for Handler {
    fn query_version(&self) -> Result<VersionInfo, QmpError> {
        Ok(VersionInfo::new(VersionTriple::new(10, 0, 2), String::new()))
    }
    fn query_commands(&self) -> Result<Vec<CommandInfo>, QmpError> {
        Ok(qapi_types::COMMANDS.iter().map(|c| CommandInfo::new(c.name.into())).collect())
    }
    fn query_target(&self) -> Result<TargetInfo, QmpError> {
        Ok(TargetInfo::new(SysEmuTarget::X86_64))
    }
}

fn session(negotiated: bool) -> Session {
    let mut s = Session::new(
        from_dispatch(qapi_types::COMMANDS, |c, a| qapi_types::dispatch(&Handler, c, a)),
        ServerConfig::default(),
    );
    if negotiated {
        let r = s.feed(b"{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[\"oob\"]}}");
        assert_eq!(r, b"{\"return\": {}}\r\n");
    }
    s
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, input)) = data.split_first() else {
        return;
    };
    let negotiated = first & 1 == 1;
    let whole = session(negotiated).feed(input);

    let mut pieces = session(negotiated);
    let step = usize::from(first >> 1) + 1;
    let mut split = Vec::new();
    for chunk in input.chunks(step) {
        split.extend_from_slice(&pieces.feed(chunk));
    }
    assert_eq!(whole, split, "framing changed the replies");

    let text = &whole[..];
    if !text.is_empty() {
        assert!(text.ends_with(b"\r\n"));
    }
    for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let line = line.strip_suffix(b"\r").expect("CRLF");
        if serde_json::from_slice::<serde_json::Value>(line).is_err() {
            let s = String::from_utf8_lossy(line);
            assert!(s.contains("inf") || s.contains("nan"), "not JSON: {s}");
        }
    }
});
