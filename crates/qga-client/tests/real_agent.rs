//! The clients against a real `qemu-ga` (Debian's qemu-guest-agent),
//! started on a UNIX socket in a temporary directory.  Skips, saying why,
//! where the agent is not installed (fails instead with
//! `QMP_REQUIRE_QEMU=1`, as in CI).

mod common;

use common::{Expect, RealAgent};

const EXPECT: Expect = Expect {
    shutdown_blocked: true,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_client_against_qemu_ga() {
    let Some(agent) = RealAgent::start("real-async") else {
        return;
    };
    let ga = qga_client::GaClient::connect_unix(&agent.socket)
        .await
        .expect("connect");
    scenario!(&ga, &agent.dir, &EXPECT, .await);
}

#[test]
fn blocking_client_against_qemu_ga() {
    let Some(agent) = RealAgent::start("real-blocking") else {
        return;
    };
    let mut ga = qga_client::blocking::GaClient::connect_unix(&agent.socket).expect("connect");
    scenario!(&mut ga, &agent.dir, &EXPECT,);
}

/// Stale bytes a previous client left in the agent's input are skipped
/// by the sync a new client does when it connects.
#[test]
fn a_new_client_synchronizes_past_a_previous_clients_leftovers() {
    use std::io::Write;
    let Some(agent) = RealAgent::start("real-leftovers") else {
        return;
    };
    let mut raw = std::os::unix::net::UnixStream::connect(&agent.socket).expect("connect");
    raw.write_all(b"{\"execute\": \"guest-info\"}\n{\"execute\": \"guest-ping\", \"arguments\": {")
        .expect("write");
    let mut ga = qga_client::blocking::GaClient::from_stream(raw).expect("sync");
    let name = ga
        .execute(&qga_client::schema::GuestGetHostName {})
        .expect("host name");
    assert!(!name.host_name.is_empty());
}

/// The agent closing the channel: the client reconnects for the next
/// command.
#[test]
fn the_client_reconnects_after_the_agent_restarts() {
    let Some(agent) = RealAgent::start("real-restart") else {
        return;
    };
    let mut ga = qga_client::blocking::GaClient::connect_unix(&agent.socket).expect("connect");
    ga.execute(&qga_client::schema::GuestPing {}).expect("ping");
    let socket = agent.socket.clone();
    drop(agent);
    let e = ga.execute(&qga_client::schema::GuestPing {}).unwrap_err();
    assert!(
        matches!(
            e,
            qga_client::GaError::Disconnected { .. } | qga_client::GaError::Io(_)
        ),
        "{e}"
    );
    let Some(again) = RealAgent::start("real-restart") else {
        return;
    };
    assert_eq!(again.socket, socket);
    ga.execute(&qga_client::schema::GuestPing {})
        .expect("ping after restart");
}
