//! The server on the wire: every expected line below is what QEMU 10.0.2
//! sends for the same input (recorded from qemu-system-x86_64; the
//! `differential` test in `client.rs` re-checks many of them live).

mod common;

use std::time::Duration;

use common::{start, start_with, Raw};
use qmp_runtime::{Limits, ServerConfig};

const GREETING: &str = r#"{"QMP": {"version": {"qemu": {"micro": 2, "minor": 0, "major": 10}, "package": "Debian 1:10.0.2+ds-2+deb13u1~bpo12+1"}, "capabilities": ["oob"]}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn greeting_and_negotiation() {
    let (server, path) = start("negotiation").await;
    let mut c = Raw::connect(&path).await;
    assert_eq!(c.line().await, GREETING);
    for (req, want) in [
        (
            r#"{"execute":"query-version","id":[1,{"a":null}]}"#,
            r#"{"id": [1, {"a": null}], "error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}}"#,
        ),
        (
            r#"{"execute":"no-such-command"}"#,
            r#"{"error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}}"#,
        ),
        (
            r#"{"exec-oob":"qmp_capabilities"}"#,
            r#"{"error": {"class": "GenericError", "desc": "QMP input member 'exec-oob' is unexpected"}}"#,
        ),
        (
            r#"{"execute":"qmp_capabilities","arguments":{"enable":["bogus"]}}"#,
            r#"{"error": {"class": "GenericError", "desc": "Parameter 'null' does not accept value 'bogus'"}}"#,
        ),
        (
            r#"{"execute":"qmp_capabilities","arguments":{"x":1}}"#,
            r#"{"error": {"class": "GenericError", "desc": "Parameter 'x' is unexpected"}}"#,
        ),
        (
            r#"{"execute":"qmp_capabilities","id":"x"}"#,
            r#"{"return": {}, "id": "x"}"#,
        ),
        (
            r#"{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}"#,
            r#"{"error": {"class": "CommandNotFound", "desc": "Capabilities negotiation is already complete, command ignored"}}"#,
        ),
        (
            r#"{"exec-oob":"x-ping","id":2}"#,
            r#"{"id": 2, "error": {"class": "GenericError", "desc": "QMP input member 'exec-oob' is unexpected"}}"#,
        ),
        (
            r#"{"execute":"query-target"}"#,
            r#"{"return": {"arch": "x86_64"}}"#,
        ),
    ] {
        assert_eq!(c.ask(req).await, want, "{req}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oob_capability_not_offered() {
    let config = ServerConfig {
        offer_oob: false,
        ..common::config()
    };
    let (server, path) = start_with("no-oob", config).await;
    let mut c = Raw::connect(&path).await;
    assert!(c.line().await.ends_with(r#""capabilities": []}}"#));
    assert_eq!(
        c.ask(r#"{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}"#)
            .await,
        r#"{"error": {"class": "GenericError", "desc": "Capability oob not available"}}"#
    );
    assert_eq!(
        c.ask(r#"{"execute":"qmp_capabilities"}"#).await,
        r#"{"return": {}}"#
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_echo_and_request_shape() {
    let (server, path) = start("shape").await;
    let mut c = Raw::negotiated(&path).await;
    let t = r#"{"return": {"arch": "x86_64"}, "id": "#;
    for (req, want) in [
        (r#"{"execute":"query-target","id":"sq"}"#.to_string(), format!("{t}\"sq\"}}")),
        (r#"{"execute":"query-target","id":0.1}"#.into(), format!("{t}0.10000000000000001}}")),
        (r#"{"execute":"query-target","id":1e400}"#.into(), format!("{t}inf}}")),
        (r#"{"execute":"query-target","id":18446744073709551615}"#.into(), format!("{t}18446744073709551615}}")),
        (r#"{"execute":"query-target","id":-9223372036854775809}"#.into(), format!("{t}-9.2233720368547758e+18}}")),
        (r#"{"execute":"query-target","id":"\u00e9\ud83d\ude00/"}"#.into(), format!("{t}\"\\u00E9\\uD83D\\uDE00/\"}}")),
        ("{\"execute\":\"query-target\",\"id\":\"\u{e9}\"}".into(), format!("{t}\"\\u00E9\"}}")),
        (r#"{"execute":"query-target","id":{"z":1,"a":[true,false,null],"id":{}}}"#.into(), format!("{t}{{\"a\": [true, false, null], \"z\": 1, \"id\": {{}}}}}}")),
        (r#"{"execute":"query-target","id":null}"#.into(), format!("{t}null}}")),
        (r#"{"execute":"query-target","id":false}"#.into(), format!("{t}false}}")),
        (r#"{"execute":"query-target","id":[]}"#.into(), format!("{t}[]}}")),
        (r#"[1,2]"#.into(), r#"{"error": {"class": "GenericError", "desc": "QMP input must be a JSON object"}}"#.into()),
        (r#""str""#.into(), r#"{"error": {"class": "GenericError", "desc": "QMP input must be a JSON object"}}"#.into()),
        (r#"{"execute": 1, "foo": 2}"#.into(), r#"{"error": {"class": "GenericError", "desc": "QMP input member 'execute' must be a string"}}"#.into()),
        (r#"{"execute":"query-target","exec-oob":"x"}"#.into(), r#"{"error": {"class": "GenericError", "desc": "QMP input member 'exec-oob' is unexpected"}}"#.into()),
        (r#"{"execute":"query-target","arguments":[]}"#.into(), r#"{"error": {"class": "GenericError", "desc": "QMP input member 'arguments' must be an object"}}"#.into()),
        (r#"{"execute":"query-target","extra":1,"id":7}"#.into(), r#"{"id": 7, "error": {"class": "GenericError", "desc": "QMP input member 'extra' is unexpected"}}"#.into()),
        (r#"{"arguments":{}}"#.into(), r#"{"error": {"class": "GenericError", "desc": "QMP input lacks member 'execute'"}}"#.into()),
        (r#"{}"#.into(), r#"{"error": {"class": "GenericError", "desc": "QMP input lacks member 'execute'"}}"#.into()),
        (r#"{"execute":"nope","id":"n"}"#.into(), r#"{"id": "n", "error": {"class": "CommandNotFound", "desc": "The command nope has not been found"}}"#.into()),
        (r#"{"execute":"query-cpu-model-expansion","arguments":{"type":1}}"#.into(), r#"{"error": {"class": "GenericError", "desc": "Invalid parameter type for 'type', expected: string"}}"#.into()),
        (r#"{"execute":"query-version","arguments":{"x":1}}"#.into(), r#"{"error": {"class": "GenericError", "desc": "Parameter 'x' is unexpected"}}"#.into()),
        (r#"{"execute":"query-version"}"#.into(), r#"{"return": {"qemu": {"micro": 2, "minor": 0, "major": 10}, "package": "Debian 1:10.0.2+ds-2+deb13u1~bpo12+1"}}"#.into()),
        (r#"{"execute":"x-quiet","id":1}"#.into(), "".into()),
        (r#"{"execute":"x-echo","arguments":{"b":1,"a":"\u0000"}}"#.into(), r#"{"return": {"a": "\u0000", "b": 1}}"#.into()),
    ] {
        if want.is_empty() {
            c.send(&req).await;
            continue;
        }
        assert_eq!(c.ask(&req).await, want, "{req}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_quotes_and_quiet_commands() {
    let (server, path) = start("quotes").await;
    let mut c = Raw::negotiated(&path).await;
    // x-quiet has success-response false: nothing comes back, so the next
    // line is the reply to the request after it.
    c.send(r#"{"execute":"x-quiet","id":1}"#).await;
    assert_eq!(
        c.ask(r#"{'execute':'query-target','id':'it\'s'}"#).await,
        r#"{"return": {"arch": "x86_64"}, "id": "it's"}"#
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json() {
    let (server, path) = start("malformed").await;
    let mut c = Raw::negotiated(&path).await;
    let e = |d: &str| {
        format!(r#"{{"error": {{"class": "GenericError", "desc": "JSON parse error, {d}"}}}}"#)
    };
    for (input, want) in [
        (&b"@"[..], vec![e("stray '@'")]),
        (
            b"{\"a\":\"b\x01\"}",
            vec![e(r#"stray '\"b\u0001'"#), e("expecting value")],
        ),
        (
            b"{\"execute\":\"x\xff\"}",
            vec![e(r#"stray '\"x\uFFFD'"#), e("expecting value")],
        ),
        (
            br#"{"execute":"query-target","id":"\uD800"}"#,
            vec![e(r"\\uD800 is not a valid Unicode character")],
        ),
        (
            br#"{"execute":"query-target","id":"\u12"}"#,
            vec![e(r#"\\u12\" is not a valid Unicode character"#)],
        ),
        (
            br#"{"execute":"query-target","id":"\uFFFE"}"#,
            vec![e(r"\\uFFFE is not a valid Unicode character")],
        ),
        (
            br#"{"execute":"query-target","id":1,"id":2}"#,
            vec![e("duplicate key")],
        ),
        (b"nul ", vec![e("invalid keyword 'nul'")]),
        (br#"{"a" 1}"#, vec![e("missing : in object pair")]),
        (br#"{"a":1,}"#, vec![e("expecting value")]),
        (b"[1 2]", vec![e("expected separator in list")]),
        (b"{1:2}", vec![e("key is not a string in object")]),
        (b"]]", vec![e("expecting value"), e("expecting value")]),
        (b"-01 ", vec![e("stray '-01'")]),
        (b"\x00", vec![e("stray ''")]),
    ] {
        c.send(input).await;
        for w in want {
            assert_eq!(c.line().await, w, "{}", String::from_utf8_lossy(input));
        }
    }
    // After all that, the connection still works.
    assert_eq!(
        c.ask(r#"{"execute":"query-target","id":"after"}"#).await,
        r#"{"return": {"arch": "x86_64"}, "id": "after"}"#
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nesting_limit() {
    let (server, path) = start("nesting").await;
    let mut c = Raw::negotiated(&path).await;
    // 1024 levels are fine.
    c.send(format!("{}{}", "[".repeat(1024), "]".repeat(1024)))
        .await;
    assert_eq!(
        c.line().await,
        r#"{"error": {"class": "GenericError", "desc": "QMP input must be a JSON object"}}"#
    );
    // 1025 are not; as in QEMU each stray ']' after the error is a
    // message of its own.
    c.send(format!("{}{}", "[".repeat(1025), "]".repeat(1025)))
        .await;
    assert_eq!(
        c.line().await,
        r#"{"error": {"class": "GenericError", "desc": "JSON nesting depth limit exceeded"}}"#
    );
    for _ in 0..1025 {
        assert_eq!(
            c.line().await,
            r#"{"error": {"class": "GenericError", "desc": "JSON parse error, expecting value"}}"#
        );
    }
    assert_eq!(
        c.ask(r#"{"execute":"query-target","id":"after"}"#).await,
        r#"{"return": {"arch": "x86_64"}, "id": "after"}"#
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size_and_token_limits() {
    // QEMU's own limits: a 64 MiB string is one token too many bytes.
    let (server, path) = start("size").await;
    let mut c = Raw::negotiated(&path).await;
    let big = format!(
        r#"{{"execute":"x-echo","arguments":{{"s":"{}"}}}}"#,
        "a".repeat(64 << 20)
    );
    c.send(&big).await;
    assert_eq!(
        c.line().await,
        r#"{"error": {"class": "GenericError", "desc": "JSON token size limit exceeded"}}"#
    );
    // What follows the error is read afresh: the rest of the string's
    // letters, then the quote starts a string that the next request ends.
    // Resynchronise the way QEMU documents it: a control byte.
    let mut lines = 1;
    c.send("\n\u{1b}").await;
    c.send(r#"{"execute":"query-target","id":"after"}"#).await;
    loop {
        let l = c.line().await;
        if l == r#"{"return": {"arch": "x86_64"}, "id": "after"}"# {
            break;
        }
        lines += 1;
        assert!(lines < 10, "unexpected {l}");
    }
    server.shutdown().await;

    // Lower limits, configured.
    let config = ServerConfig {
        limits: Limits {
            max_token_size: 1000,
            max_token_count: 100,
            max_nesting: 8,
        },
        ..common::config()
    };
    let (server, path) = start_with("size-config", config).await;
    let mut c = Raw::negotiated(&path).await;
    c.send(format!(
        r#"{{"execute":"x-echo","arguments":{{"s":"{}"}}}}"#,
        "a".repeat(2000)
    ))
    .await;
    assert_eq!(
        c.line().await,
        r#"{"error": {"class": "GenericError", "desc": "JSON token size limit exceeded"}}"#
    );
    // Many small tokens add up too.
    let mut c = Raw::negotiated(&path).await;
    let list = vec!["123456789012345678901234567890"; 40].join(",");
    c.send(format!(
        r#"{{"execute":"x-echo","arguments":{{"l":[{list}]}}}}"#
    ))
    .await;
    assert_eq!(
        c.line().await,
        r#"{"error": {"class": "GenericError", "desc": "JSON token size limit exceeded"}}"#
    );
    // Nesting beyond the configured depth.
    let mut c = Raw::negotiated(&path).await;
    c.send(format!("{}{}", "[".repeat(9), "]".repeat(9))).await;
    assert_eq!(
        c.line().await,
        r#"{"error": {"class": "GenericError", "desc": "JSON nesting depth limit exceeded"}}"#
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_count_limit() {
    let config = ServerConfig {
        limits: Limits {
            max_token_count: 100,
            ..Limits::default()
        },
        ..common::config()
    };
    let (server, path) = start_with("count", config).await;
    let mut c = Raw::negotiated(&path).await;
    // {"execute":"x-echo","arguments":{"l":[  is 10 tokens; 1,1,... two
    // per element.
    let list = vec!["1"; 50].join(",");
    c.send(format!(
        "{{\"execute\":\"x-echo\",\"arguments\":{{\"l\":[{list}]}}}}\n\u{1b}"
    ))
    .await;
    assert_eq!(
        c.line().await,
        r#"{"error": {"class": "GenericError", "desc": "JSON token count limit exceeded"}}"#
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn framing() {
    let (server, path) = start("framing").await;
    let mut c = Raw::negotiated(&path).await;
    // Byte by byte.
    for b in br#"{"execute":"query-target","id":"split"}"# {
        c.send([*b]).await;
        tokio::task::yield_now().await;
    }
    assert_eq!(
        c.line().await,
        r#"{"return": {"arch": "x86_64"}, "id": "split"}"#
    );
    // Many in one write, with and without separators.
    let mut batch = String::new();
    for i in 0..500 {
        batch.push_str(&format!(r#"{{"execute":"query-target","id":{i}}}"#));
        if i % 3 == 0 {
            batch.push('\n');
        }
    }
    c.send(&batch).await;
    for i in 0..500 {
        assert_eq!(
            c.line().await,
            format!(r#"{{"return": {{"arch": "x86_64"}}, "id": {i}}}"#)
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_mid_request() {
    let (server, path) = start("disconnect").await;
    let mut other = Raw::negotiated(&path).await;
    {
        let mut c = Raw::negotiated(&path).await;
        c.send(r#"{"execute":"query-target","id":"half"#).await;
        // and a slow one whose reply cannot be delivered
        let mut d = Raw::negotiated(&path).await;
        d.send(r#"{"execute":"x-sleep","arguments":{"ms":100}}"#)
            .await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        other
            .ask(r#"{"execute":"query-target","id":"still"}"#)
            .await,
        r#"{"return": {"arch": "x86_64"}, "id": "still"}"#
    );
    let mut fresh = Raw::negotiated(&path).await;
    assert_eq!(
        fresh.ask(r#"{"execute":"query-target"}"#).await,
        r#"{"return": {"arch": "x86_64"}}"#
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_band() {
    let (server, path) = start("oob").await;
    let mut c = Raw::connect(&path).await;
    c.line().await;
    assert_eq!(
        c.ask(r#"{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}"#)
            .await,
        r#"{"return": {}}"#
    );
    // An OOB command overtakes a running in-band one.
    c.send(r#"{"execute":"x-sleep","arguments":{"ms":500},"id":"slow"}"#)
        .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    c.send(r#"{"exec-oob":"x-ping","id":"fast"}"#).await;
    assert_eq!(
        c.line().await,
        r#"{"return": {"pong": true}, "id": "fast"}"#
    );
    assert_eq!(c.line().await, r#"{"return": {}, "id": "slow"}"#);
    // Commands without allow-oob are refused out of band.
    for (req, want) in [
        (
            r#"{"exec-oob":"query-target","id":1}"#,
            r#"{"id": 1, "error": {"class": "GenericError", "desc": "The command query-target does not support OOB"}}"#,
        ),
        (
            r#"{"exec-oob":"qmp_capabilities"}"#,
            r#"{"error": {"class": "GenericError", "desc": "The command qmp_capabilities does not support OOB"}}"#,
        ),
        (
            r#"{"execute":"x-ping","exec-oob":"x-ping"}"#,
            r#"{"error": {"class": "GenericError", "desc": "QMP input member 'execute' clashes with 'exec-oob'"}}"#,
        ),
        (
            r#"{"exec-oob":1}"#,
            r#"{"error": {"class": "GenericError", "desc": "QMP input member 'exec-oob' must be a string"}}"#,
        ),
        (
            r#"{"exec-oob":"nope"}"#,
            r#"{"error": {"class": "CommandNotFound", "desc": "The command nope has not been found"}}"#,
        ),
    ] {
        assert_eq!(c.ask(req).await, want, "{req}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_oob_requests_run_in_order() {
    let (server, path) = start("no-oob-order").await;
    let mut c = Raw::negotiated(&path).await;
    c.send(r#"{"execute":"x-sleep","arguments":{"ms":200},"id":"slow"}{"execute":"x-ping","id":"fast"}"#)
        .await;
    assert_eq!(c.line().await, r#"{"return": {}, "id": "slow"}"#);
    assert_eq!(
        c.line().await,
        r#"{"return": {"pong": true}, "id": "fast"}"#
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_negotiated_clients() {
    let (server, path) = start("events").await;
    let events = server.events();
    let mut clients = Vec::new();
    for _ in 0..5 {
        clients.push(Raw::negotiated(&path).await);
    }
    let mut pending = Raw::connect(&path).await;
    pending.line().await;
    assert_eq!(events.receivers(), 5);
    let ts = qapi_support::Timestamp {
        seconds: 1700000000,
        microseconds: 42,
    };
    assert_eq!(events.emit_at("STOP", None, ts), 5);
    events.emit_at("X_DATA", Some(serde_json::json!({"n": 1, "s": "é"})), ts);
    for c in &mut clients {
        assert_eq!(
            c.line().await,
            r#"{"timestamp": {"seconds": 1700000000, "microseconds": 42}, "event": "STOP"}"#
        );
        assert_eq!(
            c.line().await,
            r#"{"timestamp": {"seconds": 1700000000, "microseconds": 42}, "event": "X_DATA", "data": {"n": 1, "s": "\u00E9"}}"#
        );
    }
    // Not negotiated: no events.
    assert_eq!(pending.try_line(Duration::from_millis(200)).await, None);
    // A closed client drops out.
    drop(clients.pop());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(events.emit("STOP", None), 4);
    server.shutdown().await;
    assert_eq!(events.emit("STOP", None), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_loopback_only() {
    let server = qmp_runtime::Server::new(common::TestService::new(), common::config());
    let addr = server
        .listen_tcp("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let c = qmp_runtime::Client::connect_tcp(addr).await.unwrap();
    c.negotiate().await.unwrap();
    let t = c.execute(&qapi_types::QueryTarget {}).await.unwrap();
    assert_eq!(t.arch, qapi_types::SysEmuTarget::X86_64);
    let err = server
        .listen_tcp("0.0.0.0:0".parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_shutdown() {
    let (server, path) = start("shutdown").await;
    let mut a = Raw::negotiated(&path).await;
    let mut b = Raw::connect(&path).await;
    b.line().await;
    let mut busy = Raw::negotiated(&path).await;
    busy.send(r#"{"execute":"x-sleep","arguments":{"ms":300}}"#)
        .await;
    assert!(path.exists());
    assert_eq!(server.connections(), 3);
    tokio::time::timeout(Duration::from_secs(10), server.shutdown())
        .await
        .expect("shutdown in time");
    assert!(!path.exists(), "socket file removed");
    assert_eq!(server.connections(), 0);
    assert_eq!(a.try_line(Duration::from_secs(2)).await, None, "closed");
    assert_eq!(b.try_line(Duration::from_secs(2)).await, None, "closed");
    assert!(tokio::net::UnixStream::connect(&path).await.is_err());
}
