//! `ticker`: publishes an 8-byte little-endian counter (1..=count) on a
//! topic every `every_ms`, `count` times, then cancels its timer and logs
//! `ticker: done after N`.
//!
//! Config: `topic=ticks every_ms=50 count=40` (space-separated key=value;
//! those are the defaults).

use uvplug::prelude::*;

/// The ticker's state.
pub struct Ticker {
    topic: Topic,
    every_ms: u64,
    count: u64,
    sent: u64,
    timer: Option<Timer>,
}

struct Config {
    topic: String,
    every_ms: u64,
    count: u64,
}

fn parse(config: &str) -> std::result::Result<Config, String> {
    let mut c = Config {
        topic: "ticks".into(),
        every_ms: 50,
        count: 40,
    };
    for kv in config.split_whitespace() {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("expected key=value, got {kv:?}"))?;
        let num = || {
            v.parse::<u64>()
                .map_err(|_| format!("{k}: not a number: {v:?}"))
        };
        match k {
            "topic" => c.topic = v.to_owned(),
            "every_ms" => c.every_ms = num()?,
            "count" => c.count = num()?,
            _ => return Err(format!("unknown key {k:?}")),
        }
    }
    if c.every_ms == 0 {
        return Err("every_ms must be at least 1".into());
    }
    Ok(c)
}

impl Plugin for Ticker {
    fn init(ctx: &mut Ctx<Self>, config: &str) -> Result<Self> {
        let c = parse(config).map_err(|e| {
            ctx.log_error(format_args!("ticker: bad config: {e}"));
            Error::Invalid
        })?;
        Ok(Ticker {
            topic: ctx.topic(&c.topic)?,
            every_ms: c.every_ms,
            count: c.count,
            sent: 0,
            timer: None,
        })
    }

    fn start(&mut self, ctx: &mut Ctx<Self>) -> Result<()> {
        if self.count == 0 {
            ctx.log_info("ticker: done after 0");
            return Ok(());
        }
        let period = Duration::from_millis(self.every_ms);
        self.timer = Some(ctx.every(period, |me: &mut Ticker, ctx| {
            me.sent += 1;
            ctx.publish(&me.topic, &me.sent.to_le_bytes())?;
            if me.sent >= me.count {
                me.timer = None; // cancels from inside its own callback (L2)
                ctx.log_info(format_args!("ticker: done after {}", me.sent));
            }
            Ok(())
        })?);
        Ok(())
    }
}

export_plugin!(Ticker, name = "ticker", version = env!("CARGO_PKG_VERSION"));

#[cfg(test)]
mod tests {
    use super::*;
    use uvplug::testing::TestHost;

    #[test]
    fn publishes_count_ticks_then_stops() {
        let mut h = TestHost::new();
        let p = h
            .load::<Ticker>("topic=ticks every_ms=50 count=40")
            .unwrap();
        h.advance(Duration::from_millis(49));
        assert!(h.published("ticks").is_empty());
        h.advance(Duration::from_millis(1));
        assert_eq!(h.published("ticks").len(), 1);
        h.advance(Duration::from_secs(10));
        let ticks = h.published("ticks");
        let want: Vec<Vec<u8>> = (1..=40u64).map(|i| i.to_le_bytes().to_vec()).collect();
        assert_eq!(ticks, want);
        assert!(h.logged("ticker: done after 40"));
        assert_eq!(h.state(&p).sent, 40);
        assert_eq!(h.live_registrations(), 0);
        assert_eq!(h.destroy_calls(), 1);
    }

    #[test]
    fn bad_config_fails_init_with_a_message() {
        let mut h = TestHost::new();
        for bad in ["every_ms=abc", "count", "colour=red", "every_ms=0"] {
            assert_eq!(h.load::<Ticker>(bad).err(), Some(Error::Init), "{bad}");
        }
        assert!(h.logged("ticker: bad config: every_ms: not a number"));
        assert!(h.logged("ticker: bad config: unknown key \"colour\""));
        assert_eq!(h.live_registrations(), 0);
    }

    #[test]
    fn exported_descriptor_loads() {
        let mut h = TestHost::new();
        h.load_descriptor(&uvp_plugin_descriptor, b"count=2 every_ms=5")
            .unwrap();
        h.advance(Duration::from_millis(100));
        assert_eq!(h.published("ticks").len(), 2);
    }
}
