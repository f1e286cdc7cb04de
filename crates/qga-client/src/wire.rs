//! The guest agent's framing without I/O: requests out, reply lines and
//! the sync sentinel in.  Both clients (async and blocking) feed what they
//! read into an [`Inbox`] and ask it for the next thing they wait for.
//!
//! The agent writes one JSON reply per line (`\n`), echoing the request's
//! `id`; the reply to `guest-sync-delimited` is preceded by a `0xFF` byte,
//! which never occurs in UTF-8 text.  A line without our id is not ours:
//! the agent's answer to garbage in the channel, or a reply to a request
//! whose caller gave up.

use qapi_support::QmpError;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::GaError;
use qapi_support::error::quote;

/// The byte the agent writes before its `guest-sync-delimited` reply, and
/// that makes the agent drop a partial request when a client sends it.
pub const SENTINEL: u8 = 0xFF;

/// A reply line may not grow past this (a 48 MiB `guest-file-read`, the
/// agent's largest, is 64 MiB of base64).
pub const MAX_LINE: usize = 80 << 20;

/// One request line: `{"execute": NAME, "arguments": ARGS, "id": ID}\n`.
/// Empty arguments are left out, as QEMU's own clients do.  The
/// arguments come encoded already ([`RawValue`]), so a 4 MiB file chunk
/// is copied once here, not rebuilt as a `Value` and escaped again.
pub fn request_line(command: &str, arguments: Option<&RawValue>, id: Option<u64>) -> Vec<u8> {
    let args = arguments
        .map(RawValue::get)
        .filter(|a| *a != "{}" && *a != "null");
    let mut line = Vec::with_capacity(48 + command.len() + args.map_or(0, str::len));
    // Written member by member so that `execute` comes first, as people
    // reading a trace expect.
    line.extend_from_slice(b"{\"execute\":");
    // Writing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut line, command);
    if let Some(a) = args {
        line.extend_from_slice(b",\"arguments\":");
        line.extend_from_slice(a.as_bytes());
    }
    if let Some(id) = id {
        line.extend_from_slice(format!(",\"id\":{id}").as_bytes());
    }
    line.extend_from_slice(b"}\n");
    line
}

/// The synchronization request: a sentinel first (the agent drops any
/// partial request it holds), then `guest-sync-delimited` with `sync_id`.
pub fn sync_request(sync_id: u32) -> Vec<u8> {
    let mut out = vec![SENTINEL];
    let args = format!("{{\"id\":{sync_id}}}");
    let args = RawValue::from_string(args).ok();
    out.extend(request_line("guest-sync-delimited", args.as_deref(), None));
    out
}

/// A `return` value as the agent wrote it, decoded only once its type is
/// known (straight into the command's return type, with no `Value` in
/// between).
pub type Raw = Box<RawValue>;

/// A reply to one of our requests.
pub type Reply = Result<Raw, QmpError>;

/// The members of a reply line that tell whose it is and what it says;
/// the rest of the line is skipped unparsed.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(rename = "return", default)]
    ret: Option<Raw>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

/// What one line says, for a client waiting for the reply with `id`.
#[derive(Debug)]
pub enum Line {
    /// The reply.
    Ours(Reply),
    /// A line that is not the reply: another id, no id, or not JSON.
    Other,
}

/// Reads one line (without its `\n`) as seen by a client waiting for
/// `id`.
pub fn classify(line: &[u8], id: u64) -> Result<Line, GaError> {
    let Ok(env) = serde_json::from_slice::<Envelope<'_>>(line) else {
        return Ok(Line::Other);
    };
    // We send ids as plain decimal integers; the agent echoes them as sent.
    let ours = id.to_string();
    if env.id.map(RawValue::get) != Some(ours.as_str()) {
        return Ok(Line::Other);
    }
    if let Some(ret) = env.ret {
        return Ok(Line::Ours(Ok(ret)));
    }
    if let Some(err) = env.error {
        let error: QmpError = serde_json::from_str(err.get())
            .map_err(|e| GaError::Protocol(format!("malformed error {}: {e}", quote(err.get()))))?;
        return Ok(Line::Ours(Err(error)));
    }
    Err(GaError::Protocol(format!(
        "reply has neither 'return' nor 'error': {}",
        quote(&String::from_utf8_lossy(line))
    )))
}

/// What the end of a synchronization found.
#[derive(Debug)]
pub enum Synced {
    /// The agent echoed our sync id.
    Done,
    /// The reply to the watched request came before the sync reply (an
    /// error for a command that sends nothing on success).
    Watched(Reply),
}

/// The bytes read from the agent and not yet consumed.  Reads go
/// straight into its buffer ([`Inbox::space`], [`Inbox::filled`]), which
/// is kept between replies: a 5 MiB file chunk is neither copied from a
/// read buffer nor met with a fresh allocation.
#[derive(Debug, Default)]
pub struct Inbox {
    buf: Vec<u8>,
    /// `buf[start..end]` is unread.
    start: usize,
    end: usize,
    /// How many unread bytes from `start` hold no line end: a long reply
    /// arriving in many reads is scanned once, not once per read.
    no_newline: usize,
}

/// Storage above this is given back once the inbox is empty.
const KEEP: usize = 16 << 20;

impl Inbox {
    /// An empty inbox.
    pub fn new() -> Self {
        Inbox::default()
    }

    fn unread(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Room for at least `want` more bytes, to read into; then call
    /// [`Inbox::filled`] with how many were read.
    pub fn space(&mut self, want: usize) -> &mut [u8] {
        if self.buf.len() - self.end < want {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.buf.len() - self.end < want {
                self.buf.resize(self.end + want, 0);
            }
        }
        &mut self.buf[self.end..]
    }

    /// `n` bytes were read into [`Inbox::space`].
    pub fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.buf.len());
    }

    /// Adds bytes read from the channel.
    pub fn push(&mut self, bytes: &[u8]) {
        self.space(bytes.len())[..bytes.len()].copy_from_slice(bytes);
        self.filled(bytes.len());
    }

    /// Drops everything unread (the channel was replaced).
    pub fn clear(&mut self) {
        self.consume(self.end - self.start);
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.no_newline = 0;
        if self.start >= self.end {
            self.start = 0;
            self.end = 0;
            if self.buf.len() > KEEP {
                self.buf = Vec::new();
            }
        }
    }

    /// Whether the unread bytes are over the size limit without a
    /// complete line: the peer is not an agent, or misbehaves.
    pub fn overfull(&self) -> Result<(), GaError> {
        if self.end - self.start > MAX_LINE {
            return Err(GaError::Protocol(format!(
                "a reply line is longer than {} MiB",
                MAX_LINE >> 20
            )));
        }
        Ok(())
    }

    /// The reply to request `id`, once its line is complete; lines that
    /// are not the reply are dropped.
    pub fn reply(&mut self, id: u64) -> Result<Option<Reply>, GaError> {
        let mut start = 0;
        let mut skip = self.no_newline;
        while let Some(nl) = memchr(b'\n', &self.unread()[start + skip..]) {
            let end = start + skip + nl;
            skip = 0;
            let line = &self.unread()[start..end];
            start = end + 1;
            if let Line::Ours(r) = classify(line, id)? {
                self.consume(start);
                return Ok(Some(r));
            }
        }
        self.consume(start);
        self.no_newline = self.end - self.start;
        self.overfull()?;
        Ok(None)
    }

    /// The end of a synchronization with `sync_id`: everything up to a
    /// sentinel is skipped, then the line after it must echo `sync_id`
    /// (a sync reply with another id, left by an abandoned sync, is
    /// skipped too).  With `watch`, a reply to that request met on the way
    /// is returned instead.
    pub fn synced(&mut self, sync_id: u32, watch: Option<u64>) -> Result<Option<Synced>, GaError> {
        loop {
            let sentinel = memchr(SENTINEL, self.unread());
            let before = sentinel.unwrap_or(self.end - self.start);
            if let Some(id) = watch {
                // Complete lines before the sentinel may hold the reply.
                let mut start = 0;
                while let Some(nl) = memchr(b'\n', &self.unread()[start..before]) {
                    let line = &self.unread()[start..start + nl];
                    start += nl + 1;
                    if let Line::Ours(r) = classify(line, id)? {
                        self.consume(start);
                        return Ok(Some(Synced::Watched(r)));
                    }
                }
                if sentinel.is_none() {
                    self.consume(start);
                    self.overfull()?;
                    return Ok(None);
                }
            }
            let Some(at) = sentinel else {
                self.clear();
                return Ok(None);
            };
            let Some(nl) = memchr(b'\n', &self.unread()[at + 1..]) else {
                self.consume(at);
                self.overfull()?;
                return Ok(None);
            };
            let done = echoes(&self.unread()[at + 1..at + 1 + nl], sync_id);
            self.consume(at + 2 + nl);
            if done {
                return Ok(Some(Synced::Done));
            }
        }
    }
}

/// Whether `line` is `{"return": sync_id}`.
fn echoes(line: &[u8], sync_id: u32) -> bool {
    matches!(serde_json::from_slice::<serde_json::Value>(line), Ok(v)
        if v.get("return").and_then(serde_json::Value::as_u64) == Some(u64::from(sync_id)))
}

/// Where `b` first occurs in `hay` (the memchr crate's vectorized search:
/// a file chunk's reply line is megabytes long).
fn memchr(b: u8, hay: &[u8]) -> Option<usize> {
    memchr::memchr(b, hay)
}

/// A sync id that a stale reply in the channel is unlikely to carry:
/// 31 bits from the standard library's per-process random hasher keys,
/// the time and a counter.
pub fn random_id() -> u32 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    // Positive and small enough for any JSON reader.
    (h.finish() as u32) & 0x7FFF_FFFF
}

#[cfg(test)]
mod tests {
    use super::*;
    use qapi_support::ErrorClass;

    #[test]
    fn request_lines() {
        let cases: &[(&str, Option<serde_json::Value>, Option<u64>, &str)] = &[
            ("guest-ping", None, None, r#"{"execute":"guest-ping"}"#),
            (
                "guest-ping",
                Some(serde_json::json!({})),
                Some(3),
                r#"{"execute":"guest-ping","id":3}"#,
            ),
            (
                "guest-file-open",
                Some(serde_json::json!({"path": "/x"})),
                Some(9),
                r#"{"execute":"guest-file-open","arguments":{"path":"/x"},"id":9}"#,
            ),
        ];
        for (cmd, args, id, want) in cases {
            let args = args
                .as_ref()
                .map(|a| serde_json::value::to_raw_value(a).unwrap());
            let line = request_line(cmd, args.as_deref(), *id);
            assert_eq!(line, format!("{want}\n").into_bytes(), "{cmd}");
        }
        let sync = sync_request(42);
        assert_eq!(sync[0], SENTINEL);
        assert_eq!(
            &sync[1..],
            b"{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":42}}\n"
        );
    }

    #[test]
    fn lines_are_ours_only_with_our_id() {
        // (line, the id waited for, the reply's text or error if ours)
        type Case<'a> = (&'a str, u64, Option<Result<&'a str, QmpError>>);
        let cases: &[Case<'_>] = &[
            (r#"{"return": {}, "id": 5}"#, 5, Some(Ok("{}"))),
            (r#"{"id": 5, "return": [1, 2]}"#, 5, Some(Ok("[1, 2]"))),
            (r#"{"return": {}, "id": 6}"#, 5, None),
            (r#"{"return": 5}"#, 5, None),
            (r#"{"return": {}, "id": "5"}"#, 5, None),
            ("JSON parse error", 5, None),
            ("", 5, None),
            (
                r#"{"id": 7, "error": {"class": "CommandNotFound", "desc": "The command guest-x has not been found"}}"#,
                7,
                Some(Err(QmpError {
                    class: ErrorClass::CommandNotFound,
                    desc: "The command guest-x has not been found".into(),
                })),
            ),
        ];
        for (line, id, want) in cases {
            let got = match classify(line.as_bytes(), *id).expect(line) {
                Line::Ours(r) => Some(r.map(|raw| raw.get().to_string())),
                Line::Other => None,
            };
            let want = want.clone().map(|r| r.map(String::from));
            assert_eq!(got, want, "{line}");
        }
        assert!(classify(br#"{"id": 1}"#, 1).is_err());
        assert!(classify(br#"{"id": 1, "error": 3}"#, 1).is_err());
    }

    #[test]
    fn replies_skip_stale_lines_and_wait_for_whole_lines() {
        let mut inbox = Inbox::new();
        inbox.push(b"{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error\"}}\n");
        inbox.push(b"{\"return\": 1, \"id\": 1}\n{\"return\": 2, \"id\"");
        assert!(inbox.reply(2).unwrap().is_none());
        inbox.push(b": 2}\n{\"return\": 3, \"id\": 3}\n");
        let text = |r: Option<Reply>| r.map(|r| r.map(|raw| raw.get().to_string()));
        assert_eq!(text(inbox.reply(2).unwrap()), Some(Ok("2".into())));
        // What followed the reply is kept for the next request.
        assert_eq!(text(inbox.reply(3).unwrap()), Some(Ok("3".into())));
    }

    #[test]
    fn sync_skips_to_the_sentinel_and_our_id() {
        // (chunks, whether the sync completes)
        let cases: &[(&[&[u8]], bool)] = &[
            (&[b"\xff{\"return\": 42}\n"], true),
            // An error for the sentinel we sent, a stale reply, then ours.
            (
                &[b"{\"error\": {}}\n{\"return\": {}, \"id\": 1}\n\xff{\"return\": 42}\n"],
                true,
            ),
            // A stale sync reply with another id is skipped.
            (&[b"\xff{\"return\": 7}\n\xff{\"return\": 42}\n"], true),
            (&[b"\xff{\"return\": 7}\n"], false),
            // Split anywhere.
            (&[b"garbage \xff{\"ret", b"urn\": 42}", b"\n"], true),
            (&[b"no sentinel\n"], false),
        ];
        for (chunks, want) in cases {
            let mut inbox = Inbox::new();
            let mut got = None;
            for c in *chunks {
                inbox.push(c);
                got = inbox.synced(42, None).unwrap();
                if got.is_some() {
                    break;
                }
            }
            assert_eq!(matches!(got, Some(Synced::Done)), *want, "{chunks:?}");
        }
    }

    #[test]
    fn sync_returns_a_watched_reply_first() {
        let mut inbox = Inbox::new();
        inbox.push(
            b"{\"id\": 9, \"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}}\n\xff{\"return\": 42}\n",
        );
        let got = inbox.synced(42, Some(9)).unwrap();
        assert!(matches!(got, Some(Synced::Watched(Err(e))) if e.desc == "no"));
        // Without the watched reply, the sync completes.
        let mut inbox = Inbox::new();
        inbox.push(b"{\"return\": {}, \"id\": 8}\n\xff{\"return\": 42}\n");
        assert!(matches!(
            inbox.synced(42, Some(9)).unwrap(),
            Some(Synced::Done)
        ));
    }

    #[test]
    fn reads_go_into_the_buffer_which_compacts_and_grows() {
        let mut inbox = Inbox::new();
        inbox.push(b"{\"return\": 1, \"id\": 1}\n{\"ret");
        assert!(inbox.reply(1).unwrap().is_some());
        let s = inbox.space(16);
        s[..13].copy_from_slice(b"urn\": 2, \"id\"");
        inbox.filled(13);
        // Growing moves the unread bytes to the front first.
        let s = inbox.space(1 << 20);
        assert!(s.len() >= 1 << 20);
        s[..5].copy_from_slice(b": 2}\n");
        inbox.filled(5);
        let r = inbox.reply(2).unwrap().expect("the reply");
        assert_eq!(r.unwrap().get(), "2");
        assert_eq!(inbox.unread(), b"");
    }

    #[test]
    fn endless_lines_are_refused() {
        let mut inbox = Inbox::new();
        inbox.push(&vec![b'x'; MAX_LINE + 1]);
        assert!(inbox.reply(1).is_err());
        let mut inbox = Inbox::new();
        inbox.push(&[SENTINEL]);
        inbox.push(&vec![b'x'; MAX_LINE + 1]);
        assert!(inbox.synced(1, None).is_err());
    }

    #[test]
    fn random_ids_differ() {
        let ids: std::collections::HashSet<u32> = (0..100).map(|_| random_id()).collect();
        assert!(ids.len() > 95);
        assert!(ids.iter().all(|&i| i <= 0x7FFF_FFFF));
    }
}
