//! `tap`: logs the events of one topic so an operator can see what flows,
//! at most `max_per_sec` lines a second. For each event it logs the topic,
//! the payload length and a preview of its first `preview` bytes (text, or
//! hex when they are not UTF-8); what the rate limit suppressed is counted
//! and reported once a second (`suppressed N events on TOPIC`), and in
//! total when it stops.
//!
//! Config: `topic=ticks max_per_sec=10 preview=32` (space-separated
//! key=value, read with `uvplug::config::Config`; those are the defaults;
//! an unknown key fails the load). `max_per_sec` is at least 1: counting
//! without logging is what `counter` is for; `preview` is capped at 4096.

use std::fmt::Write as _;
use uvplug::config::Config;
use uvplug::prelude::*;

/// The tap's state.
pub struct Tap {
    topic: String,
    max_per_sec: u64,
    preview: usize,
    /// Lines logged in the current one-second window.
    logged_in_window: u64,
    /// Events suppressed in the current window, reported when it ends.
    suppressed_in_window: u64,
    logged: u64,
    suppressed: u64,
    _sub: Option<Subscription>,
    _window: Option<Timer>,
}

/// What the config string asks for.
struct Settings {
    topic: String,
    max_per_sec: u64,
    preview: usize,
}

/// Reads `topic`, `max_per_sec` and `preview`; any other key is an error.
fn parse(config: &str) -> Result<Settings> {
    let mut cfg = Config::parse(config)?;
    let topic: String = cfg.get_or("topic", "ticks".to_owned())?;
    let max_per_sec: u64 = cfg.get_or("max_per_sec", 10)?;
    let preview: usize = cfg.get_or("preview", 32)?;
    cfg.finish()?;
    if topic.is_empty() {
        return Err(Config::invalid("topic", "must not be empty"));
    }
    if max_per_sec == 0 {
        return Err(Config::invalid("max_per_sec", "must be at least 1"));
    }
    Ok(Settings {
        topic,
        max_per_sec,
        preview: preview.min(4096),
    })
}

/// How the first `max` bytes of `data` appear in the log: quoted text when
/// they are UTF-8, else `hex=...`; `...` marks a cut. Control bytes and `\`
/// are left as they are: the host escapes them in every log line (`\n`,
/// `\xNN`, `\\`), so a payload can never forge a line or a terminal
/// sequence, and escaping here too would show them escaped twice.
pub fn preview(data: &[u8], max: usize) -> String {
    let cut = &data[..data.len().min(max)];
    let more = data.len() > cut.len();
    let text = match std::str::from_utf8(cut) {
        Ok(t) => Some(t),
        // Cut inside a multi-byte character: the characters before it.
        Err(e) if more && e.error_len().is_none() => {
            std::str::from_utf8(&cut[..e.valid_up_to()]).ok()
        }
        Err(_) => None,
    };
    let mut s = match text {
        Some(t) => format!("\"{t}\""),
        None => {
            let mut h = String::with_capacity(4 + 2 * cut.len());
            h.push_str("hex=");
            for b in cut {
                let _ = write!(h, "{b:02x}");
            }
            h
        }
    };
    if more {
        s.push_str("...");
    }
    s
}

impl Tap {
    /// One event: log it, or count it when the window's budget is spent.
    fn on_event(&mut self, ctx: &mut Ctx<Self>, ev: &Event<'_>) {
        if self.logged_in_window >= self.max_per_sec {
            self.suppressed_in_window += 1;
            self.suppressed += 1;
            return;
        }
        self.logged_in_window += 1;
        self.logged += 1;
        let data = ev.data();
        uvplug::info!(
            ctx,
            "{} len={} {}",
            ev.topic_name(),
            data.len(),
            preview(data, self.preview)
        );
    }

    /// The window ends: report what it suppressed, open the next one.
    fn on_window(&mut self, ctx: &mut Ctx<Self>) {
        if self.suppressed_in_window > 0 {
            uvplug::info!(
                ctx,
                "suppressed {} events on {}",
                self.suppressed_in_window,
                self.topic
            );
        }
        self.logged_in_window = 0;
        self.suppressed_in_window = 0;
    }
}

impl Plugin for Tap {
    fn init(ctx: &mut Ctx<Self>, config: &str) -> Result<Self> {
        let c = parse(config)?;
        let t = ctx.topic(&c.topic)?;
        let sub = ctx.subscribe(&t, |me: &mut Tap, ctx, ev: &Event| {
            me.on_event(ctx, ev);
            Ok(())
        })?;
        Ok(Tap {
            topic: c.topic,
            max_per_sec: c.max_per_sec,
            preview: c.preview,
            logged_in_window: 0,
            suppressed_in_window: 0,
            logged: 0,
            suppressed: 0,
            _sub: Some(sub),
            _window: None,
        })
    }

    fn start(&mut self, ctx: &mut Ctx<Self>) -> Result<()> {
        // A fixed window on the loop clock: cheaper than a token bucket and
        // the report lines come out at a steady pace.
        self._window = Some(ctx.every(Duration::from_secs(1), |me: &mut Tap, ctx| {
            me.on_window(ctx);
            Ok(())
        })?);
        Ok(())
    }

    fn stop(&mut self, ctx: &mut Ctx<Self>) {
        uvplug::info!(
            ctx,
            "{}: logged {}, suppressed {} events",
            self.topic,
            self.logged,
            self.suppressed
        );
    }
}

export_plugin!(Tap, name = "tap", version = env!("CARGO_PKG_VERSION"));

#[cfg(test)]
mod tests {
    use super::*;
    use uvplug::testing::TestHost;

    fn count_logged(h: &TestHost, prefix: &str) -> usize {
        h.logs()
            .iter()
            .filter(|l| l.msg.starts_with(prefix))
            .count()
    }

    #[test]
    fn logs_topic_length_and_preview() {
        let mut h = TestHost::new();
        h.load::<Tap>("topic=ticks").unwrap();
        h.publish("ticks", b"hello").unwrap();
        h.publish("other", b"nope").unwrap();
        h.publish("ticks", &[0x01, b'"', b'\\', b'\n', 0xff])
            .unwrap();
        h.run_until_idle();
        assert!(h.logged("ticks len=5 \"hello\""));
        assert!(h.logged("ticks len=5 hex=01225c0aff"));
        assert_eq!(count_logged(&h, "other"), 0);
        assert_eq!(count_logged(&h, "ticks len="), 2);
    }

    #[test]
    fn rate_limit_counts_and_reports_suppressed_once_a_second() {
        let mut h = TestHost::new();
        let p = h.load::<Tap>("topic=t max_per_sec=3").unwrap();
        for i in 0..10u8 {
            h.publish("t", &[b'a' + i]).unwrap();
        }
        h.run_until_idle();
        assert_eq!(count_logged(&h, "t len=1"), 3);
        assert_eq!(h.state(&p).suppressed, 7);
        assert!(!h.logged("suppressed"));

        h.advance(Duration::from_millis(1000));
        assert!(h.logged("suppressed 7 events on t"));
        // A new window: three more lines, then suppression again.
        for _ in 0..4 {
            h.publish("t", b"z").unwrap();
        }
        h.run_until_idle();
        assert_eq!(count_logged(&h, "t len=1"), 6);
        h.advance(Duration::from_millis(1000));
        assert!(h.logged("suppressed 1 events on t"));
        // A quiet window reports nothing.
        h.advance(Duration::from_millis(1000));
        assert_eq!(count_logged(&h, "suppressed"), 2);

        h.unload(p.id()).unwrap();
        assert!(h.logged("t: logged 6, suppressed 8 events"));
        assert_eq!(h.live_registrations(), 0);
        // Each registration's closure dropped once: subscription and timer.
        assert_eq!(h.destroy_calls(), 2);
    }

    #[test]
    fn preview_cuts_and_escapes() {
        assert_eq!(preview(b"abcdef", 3), "\"abc\"...");
        assert_eq!(preview(b"abc", 3), "\"abc\"");
        assert_eq!(preview(b"", 8), "\"\"");
        assert_eq!(preview(b"a\tb", 0), "\"\"...");
        // Control bytes stay raw: the host's log escapes them once.
        assert_eq!(preview(b"\x1b[31m\n", 8), "\"\x1b[31m\n\"");
        // A cut inside a character keeps the characters before it.
        assert_eq!(preview("xé".as_bytes(), 2), "\"x\"...");
        // Not UTF-8: hex.
        assert_eq!(preview(&[0xff, 0x00], 8), "hex=ff00");
        assert_eq!(preview(&[0xff, 0x01, 0x02], 2), "hex=ff01...");
    }

    #[test]
    fn bad_config_fails_init_with_a_message() {
        let mut h = TestHost::new();
        for bad in ["max_per_sec=0", "max_per_sec=x", "colour=red", "topic"] {
            assert_eq!(h.load::<Tap>(bad).err(), Some(Error::Init), "{bad}");
        }
        assert!(h.logged("init failed: config: max_per_sec: must be at least 1"));
        assert!(h.logged("init failed: config: unknown key \"colour\""));
        assert_eq!(h.live_registrations(), 0);
    }

    #[test]
    fn exported_descriptor_loads() {
        let mut h = TestHost::new();
        h.load_descriptor(&uvp_plugin_descriptor, b"topic=x max_per_sec=1")
            .unwrap();
        h.publish("x", b"1").unwrap();
        h.publish("x", b"2").unwrap();
        h.run_until_idle();
        assert!(h.logged("x len=1 \"1\""));
        assert!(!h.logged("x len=1 \"2\""));
    }
}
