//! The client's side of a reply: finding ours in the inbox and decoding
//! it, for a `guest-info` reply (every command of our bindings, as a
//! Linux agent lists them) and a 4 MiB `guest-file-read` chunk.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use qga_client::schema;
use qga_client::wire::Inbox;

fn guest_info_line(id: u64) -> Vec<u8> {
    let commands: Vec<String> = schema::COMMANDS
        .iter()
        .map(|c| {
            format!(
                "{{\"enabled\": true, \"name\": \"{}\", \"success-response\": {}}}",
                c.name, c.success_response
            )
        })
        .collect();
    format!(
        "{{\"return\": {{\"version\": \"10.0.2\", \"supported_commands\": [{}]}}, \"id\": {id}}}\n",
        commands.join(", ")
    )
    .into_bytes()
}

fn read_chunk_line(id: u64) -> Vec<u8> {
    use base64::Engine as _;
    let bytes: Vec<u8> = (0..4u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
    format!(
        "{{\"return\": {{\"count\": {}, \"buf-b64\": \"{b64}\", \"eof\": false}}, \"id\": {id}}}\n",
        bytes.len()
    )
    .into_bytes()
}

fn replies(c: &mut Criterion) {
    let info = guest_info_line(7);
    c.bench_function("guest-info reply: find and decode", |b| {
        let mut inbox = Inbox::new();
        b.iter(|| {
            inbox.push(&info);
            let raw = inbox.reply(7).unwrap().unwrap().unwrap();
            let v: schema::GuestAgentInfo = serde_json::from_str(raw.get()).unwrap();
            black_box(v.supported_commands.len())
        })
    });
    // The same reply decoded by a derived Deserialize, as the `qapi-qga`
    // crate's types are: the price of our generated impls, which go
    // through a `serde_json::Value` to compile faster.
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Info {
        version: String,
        supported_commands: Vec<Cmd>,
    }
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Cmd {
        name: String,
        enabled: bool,
        #[serde(rename = "success-response")]
        success_response: bool,
    }
    c.bench_function("guest-info reply: find and decode (derived)", |b| {
        let mut inbox = Inbox::new();
        b.iter(|| {
            inbox.push(&info);
            let raw = inbox.reply(7).unwrap().unwrap().unwrap();
            let v: Info = serde_json::from_str(raw.get()).unwrap();
            black_box(v.supported_commands.len())
        })
    });
    let chunk = read_chunk_line(9);
    let mut g = c.benchmark_group("guest-file-read 4 MiB");
    g.sample_size(20);
    g.bench_function("find the reply", |b| {
        let mut inbox = Inbox::new();
        b.iter(|| {
            inbox.push(&chunk);
            black_box(inbox.reply(9).unwrap().unwrap().unwrap().get().len())
        })
    });
    g.finish();
}

criterion_group!(benches, replies);
criterion_main!(benches);
