//! The same scenario against our fake agent: `qmp-runtime`'s server in
//! guest-agent mode with a handler of the generated bindings.  Needs
//! nothing installed.

mod common;

use common::Expect;

const EXPECT: Expect = Expect {
    shutdown_blocked: false,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_client_against_the_fake_agent() {
    let (server, socket, dir) = common::fake_agent("fake-async").await;
    let ga = qga_client::GaClient::connect_unix(&socket)
        .await
        .expect("connect");
    scenario!(&ga, &dir, &EXPECT, .await);
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_client_against_the_fake_agent() {
    let (server, socket, dir) = common::fake_agent("fake-blocking").await;
    let d = dir.clone();
    tokio::task::spawn_blocking(move || {
        let mut ga = qga_client::blocking::GaClient::connect_unix(&socket).expect("connect");
        scenario!(&mut ga, &d, &EXPECT,);
    })
    .await
    .expect("the scenario passes");
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// The fake agent's framing, byte for byte as qemu-ga 10.0.2 writes it
/// (recorded by hand from the real agent): no greeting, `\n` line ends,
/// the sentinel before a `guest-sync-delimited` reply, the ids echoed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_agent_frames_as_qemu_ga_does() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (server, socket, dir) = common::fake_agent("fake-framing").await;
    let mut s = tokio::net::UnixStream::connect(&socket)
        .await
        .expect("connect");
    s.write_all(
        b"{\"execute\":\"guest-ping\",\"id\":\"x1\"}\n\
          {\"execute\":\"guest-nope\",\"id\":7}\n\
          \xff{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":123},\"id\":5}\n\
          {\"execute\":\"guest-sync\",\"arguments\":{\"id\":\"x\"}}\n",
    )
    .await
    .expect("write");
    let want: &[u8] = b"{\"return\": {}, \"id\": \"x1\"}\n\
        {\"id\": 7, \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command guest-nope has not been found\"}}\n\
        {\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, stray '\\uFFFD'\"}}\n\
        \xff{\"return\": 123, \"id\": 5}\n\
        {\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type for 'id', expected: integer\"}}\n";
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while got.len() < want.len() {
        let Ok(n) =
            tokio::time::timeout(std::time::Duration::from_secs(10), s.read(&mut buf)).await
        else {
            panic!("no more replies after {:?}", String::from_utf8_lossy(&got));
        };
        let n = n.expect("read");
        assert!(n > 0, "closed after {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(want));
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}
