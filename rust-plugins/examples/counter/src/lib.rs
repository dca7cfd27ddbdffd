//! `counter`: counts the events on a topic and logs
//! `seen N events` when it stops.
//!
//! Config: `topic=ticks` (the default).

use uvplug::config::Config;
use uvplug::prelude::*;

/// The counter's state.
pub struct Counter {
    seen: u64,
    _sub: Subscription,
}

impl Plugin for Counter {
    fn init(ctx: &mut Ctx<Self>, config: &str) -> Result<Self> {
        let mut cfg = Config::parse(config)?;
        let topic: String = cfg.get_or("topic", "ticks".to_owned())?;
        cfg.finish()?;
        if topic.is_empty() {
            return Err(Config::invalid("topic", "must not be empty"));
        }
        let t = ctx.topic(&topic)?;
        let sub = ctx.subscribe(&t, |me: &mut Counter, _ctx, _ev: &Event| {
            me.seen += 1;
            Ok(())
        })?;
        Ok(Counter { seen: 0, _sub: sub })
    }

    fn stop(&mut self, ctx: &mut Ctx<Self>) {
        uvplug::info!(ctx, "seen {} events", self.seen);
    }
}

export_plugin!(
    Counter,
    name = "counter",
    version = env!("CARGO_PKG_VERSION")
);

#[cfg(test)]
mod tests {
    use super::*;
    use uvplug::testing::TestHost;

    #[test]
    fn counts_and_reports_at_stop() {
        let mut h = TestHost::new();
        let p = h.load::<Counter>("topic=ticks").unwrap();
        for _ in 0..7 {
            h.publish("ticks", b"x").unwrap();
        }
        h.publish("other", b"x").unwrap();
        h.run_until_idle();
        assert_eq!(h.state(&p).seen, 7);
        h.unload(p.id()).unwrap();
        assert!(h.logged("seen 7 events"));
        assert_eq!(h.destroy_calls(), 1);
    }

    #[test]
    fn counts_a_ticker_like_stream() {
        let mut h = TestHost::new();
        let p = h.load::<Counter>("").unwrap();
        h.publish("ticks", &1u64.to_le_bytes()).unwrap();
        h.run_until_idle();
        assert_eq!(h.state(&p).seen, 1);
        assert_eq!(h.load::<Counter>("nope").err(), Some(Error::Init));
        assert!(h.logged(r#"init failed: config: expected key=value at byte 0, got "nope""#));
        assert_eq!(h.load::<Counter>("topic=").err(), Some(Error::Init));
        assert!(h.logged("init failed: config: topic: must not be empty"));
    }
}
