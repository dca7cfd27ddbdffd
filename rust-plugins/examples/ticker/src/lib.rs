//! `ticker`: publishes an 8-byte little-endian counter (1..=count) on a
//! topic every `every_ms`, `count` times, then cancels its timer and logs
//! `done after N`.
//!
//! Config: `topic=ticks every_ms=50 count=40` (those are the defaults; read
//! with [`uvplug::config::Config`], so unknown keys fail the load).

use uvplug::config::Config;
use uvplug::prelude::*;

/// The ticker's state.
pub struct Ticker {
    topic: Topic,
    every: Duration,
    count: u64,
    sent: u64,
    timer: Option<Timer>,
}

impl Plugin for Ticker {
    fn init(ctx: &mut Ctx<Self>, config: &str) -> Result<Self> {
        let mut cfg = Config::parse(config)?;
        let topic: String = cfg.get_or("topic", "ticks".to_owned())?;
        let every = cfg.get_duration_ms("every_ms", Duration::from_millis(50))?;
        let count = cfg.get_or("count", 40)?;
        cfg.finish()?;
        if every.is_zero() {
            return Err(Config::invalid("every_ms", "must be at least 1"));
        }
        Ok(Ticker {
            topic: ctx.topic(&topic)?,
            every,
            count,
            sent: 0,
            timer: None,
        })
    }

    fn start(&mut self, ctx: &mut Ctx<Self>) -> Result<()> {
        if self.count == 0 {
            uvplug::info!(ctx, "done after 0");
            return Ok(());
        }
        self.timer = Some(ctx.every(self.every, |me: &mut Ticker, ctx| {
            me.sent += 1;
            ctx.publish(&me.topic, &me.sent.to_le_bytes())?;
            if me.sent >= me.count {
                me.timer = None; // cancels from inside its own callback (L2)
                uvplug::info!(ctx, "done after {}", me.sent);
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
        assert!(h.logged("done after 40"));
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
        assert!(
            h.logged(r#"init failed: config: every_ms: expected milliseconds (u64), got "abc""#)
        );
        assert!(h.logged(r#"init failed: config: expected key=value at byte 0, got "count""#));
        assert!(h.logged(
            r#"init failed: config: unknown key "colour" (known: topic, every_ms, count)"#
        ));
        assert!(h.logged("init failed: config: every_ms: must be at least 1"));
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
