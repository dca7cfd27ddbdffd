//! `stress-plugin` (`libstress_plugin.so`): the Rust twin of
//! `tests/plugins/stress_plugin.c`, built on the SDK's [`Remote`]. Both
//! follow the spec in that file's header to the letter, and
//! `tests/integration/test_remote.c` runs the same scenarios against both:
//!
//! - descriptor name `stress`, version `1.0.0`, not unload-safe (it stays
//!   mapped after unload, so the tests can read its counters then);
//! - config `producers=P` (1..=16, default 4) `count=N` (default 1000)
//!   `mode=post|publish` (default post) `block=0|1` (default 1), space
//!   separated; anything else fails init with `UVP_EINVAL`;
//! - init resets the process-wide counters, interns `stress.items` and
//!   `stress.done`, and in `mode=publish` subscribes to `stress.items`;
//! - start takes the plugin's own remote, then per producer `p` a clone
//!   (acquired on the loop thread) moved into a new thread;
//! - producer `p` posts items `i = 1..=N` (`attempted` += 1 each):
//!   `mode=post` posts a closure that checks the order; `mode=publish`
//!   publishes 16 bytes (`p`, `i` as u64 LE) on `stress.items`. With
//!   `block=0` an `Again` counts a retry (`retries_eagain`), yields and
//!   posts the same item again. `Closed` counts `refused_closed` and ends
//!   the thread. The thread then drops its clone (`remote_release`);
//! - on the loop, per item: `i != last[p] + 1` → `order_errors` += 1;
//!   `received` += 1; at `received == P*N` a 0 ms timer publishes once on
//!   `stress.done` the text `received=<R> order_errors=<E> destroyed=<D>`;
//! - a posted closure captures a [`Token`]: its drop is the post's destroy
//!   (`destroyed` += 1), and if the closure never ran (queued when the
//!   plugin stopped, R4) also `dropped` += 1;
//! - stop drops the plugin's own remote and does **not** join: the remote
//!   is closed only after stop returns (U1), so a blocked or retrying
//!   producer would never see `Closed`. Dropping the state (on_unload)
//!   joins every producer.
//!
//! Exports (read with `dlopen(RTLD_NOLOAD)` + `dlsym` after unload):
//! `void uvp_stress_report(uint64_t out[6])` — attempted, received,
//! destroyed, refused_closed, retries_eagain, order_errors — and `uint64_t
//! uvp_stress_dropped(void)`. For every finished run, `attempted ==
//! received + dropped + refused_closed`, and in mode=post `destroyed ==
//! received + dropped`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

use uvplug::prelude::*;

static ATTEMPTED: AtomicU64 = AtomicU64::new(0);
static RECEIVED: AtomicU64 = AtomicU64::new(0);
static DESTROYED: AtomicU64 = AtomicU64::new(0);
static REFUSED_CLOSED: AtomicU64 = AtomicU64::new(0);
static RETRIES_EAGAIN: AtomicU64 = AtomicU64::new(0);
static ORDER_ERRORS: AtomicU64 = AtomicU64::new(0);
static DROPPED: AtomicU64 = AtomicU64::new(0);

const MAX_PRODUCERS: u32 = 16;

/// Writes the six counters: attempted, received, destroyed,
/// refused_closed, retries_eagain, order_errors. NULL is ignored.
///
/// # Safety
///
/// `out` is NULL or points to 6 writable `u64`s.
#[no_mangle]
pub unsafe extern "C" fn uvp_stress_report(out: *mut u64) {
    if out.is_null() {
        return;
    }
    let all = [
        &ATTEMPTED,
        &RECEIVED,
        &DESTROYED,
        &REFUSED_CLOSED,
        &RETRIES_EAGAIN,
        &ORDER_ERRORS,
    ];
    for (k, c) in all.iter().enumerate() {
        // SAFETY: the caller gives 6 writable u64s at `out`; k < 6.
        unsafe { *out.add(k) = c.load(Ordering::SeqCst) };
    }
}

/// Post destroys whose closure never ran (R4), process-wide.
#[no_mangle]
pub extern "C" fn uvp_stress_dropped() -> u64 {
    DROPPED.load(Ordering::SeqCst)
}

/// Captured by every posted closure: its drop is the post's destroy.
pub struct Token {
    ran: bool,
}

impl Drop for Token {
    fn drop(&mut self) {
        DESTROYED.fetch_add(1, Ordering::SeqCst);
        if !self.ran {
            DROPPED.fetch_add(1, Ordering::SeqCst); // R4: queued at stop
        }
    }
}

/// The parsed config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Producer threads.
    pub producers: u32,
    /// Items per producer.
    pub count: u64,
    /// `mode=publish` (else post).
    pub publish: bool,
    /// `block=1` (the default).
    pub block: bool,
}

/// `strtoul(v, &end, 10)` followed by the C twin's `*end == '\0'` check:
/// an optional sign, digits; an empty string is 0; a negative number wraps
/// (so anything but `-0` ends up out of range). `None` if `end` would not
/// reach the end of `v`.
fn c_strtoul(v: &str) -> Option<u64> {
    let (neg, digits) = match v.as_bytes().first() {
        Some(b'+') => (false, &v[1..]),
        Some(b'-') => (true, &v[1..]),
        _ => (false, v),
    };
    if digits.is_empty() {
        // No conversion: end = v, so only "" passes (as 0).
        return if v.is_empty() { Some(0) } else { None };
    }
    if !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n = digits.parse::<u64>().unwrap_or(u64::MAX); // ERANGE: ULONG_MAX
    Some(if neg { n.wrapping_neg() } else { n })
}

/// Parses the config exactly as the C twin does.
pub fn parse(config: &str) -> Result<Config> {
    if config.len() >= 256 {
        return Err(Error::Invalid);
    }
    let mut c = Config {
        producers: 4,
        count: 1000,
        publish: false,
        block: true,
    };
    for tok in config.split(' ').filter(|t| !t.is_empty()) {
        let (key, v) = tok.split_once('=').ok_or(Error::Invalid)?;
        match (key, v) {
            ("producers", v) => {
                let n = c_strtoul(v).ok_or(Error::Invalid)?;
                if n < 1 || n > u64::from(MAX_PRODUCERS) {
                    return Err(Error::Invalid);
                }
                c.producers = n as u32;
            }
            ("count", v) => {
                let n = c_strtoul(v).ok_or(Error::Invalid)?;
                if n > u64::from(u32::MAX) {
                    return Err(Error::Invalid);
                }
                c.count = n;
            }
            ("mode", "post") => c.publish = false,
            ("mode", "publish") => c.publish = true,
            ("block", "1") => c.block = true,
            ("block", "0") => c.block = false,
            _ => return Err(Error::Invalid),
        }
    }
    Ok(c)
}

/// The plugin state.
pub struct Stress {
    cfg: Config,
    items: Topic,
    done: Topic,
    /// The plugin's own reference, dropped in stop.
    remote: Option<Remote<Stress>>,
    last_i: [u64; MAX_PRODUCERS as usize],
    received: u64,
    done_sent: bool,
    threads: Vec<JoinHandle<()>>,
    _sub: Option<Subscription>,
}

impl Stress {
    /// One delivered item, on the loop thread.
    fn got(&mut self, ctx: &mut Ctx<Self>, p: u64, i: u64) -> Result<()> {
        let known = p < u64::from(self.cfg.producers);
        if !known || i != self.last_i[p as usize] + 1 {
            ORDER_ERRORS.fetch_add(1, Ordering::SeqCst);
        }
        if known {
            self.last_i[p as usize] = i;
        }
        RECEIVED.fetch_add(1, Ordering::SeqCst);
        self.received += 1;
        if self.received == u64::from(self.cfg.producers) * self.cfg.count && !self.done_sent {
            self.done_sent = true;
            // 0 ms: the last post's destroy (its closure's drop) has run by
            // then, as in the C twin.
            ctx.after(Duration::ZERO, |me: &mut Stress, ctx| {
                let text = format!(
                    "received={} order_errors={} destroyed={}",
                    RECEIVED.load(Ordering::SeqCst),
                    ORDER_ERRORS.load(Ordering::SeqCst),
                    DESTROYED.load(Ordering::SeqCst)
                );
                ctx.publish(&me.done, text.as_bytes())
            })?
            .detach();
        }
        Ok(())
    }
}

fn u64le(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

/// Producer thread `p`: calls nothing but the remote (T5).
fn producer(remote: Remote<Stress>, cfg: Config, items: Topic, p: u32) {
    let mode = if cfg.block {
        PostMode::Block
    } else {
        PostMode::NonBlock
    };
    for i in 1..=cfg.count {
        ATTEMPTED.fetch_add(1, Ordering::SeqCst);
        let rc = if cfg.publish {
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&u64::from(p).to_le_bytes());
            b[8..].copy_from_slice(&i.to_le_bytes());
            loop {
                match remote.publish(&items, &b, mode) {
                    Err(Error::Again) if !cfg.block => {
                        RETRIES_EAGAIN.fetch_add(1, Ordering::SeqCst);
                        std::thread::yield_now();
                    }
                    r => break r,
                }
            }
        } else {
            let token = Token { ran: false };
            let mut item = move |me: &mut Stress, ctx: &mut Ctx<Stress>| {
                let mut token = token;
                token.ran = true;
                me.got(ctx, u64::from(p), i)
            };
            loop {
                match remote.try_post(item, mode) {
                    Ok(()) => break Ok(()),
                    Err(e) if e.error() == Error::Again && !cfg.block => {
                        RETRIES_EAGAIN.fetch_add(1, Ordering::SeqCst);
                        std::thread::yield_now();
                        item = e.into_inner(); // the same item again
                    }
                    Err(e) => {
                        let (err, item) = e.into_parts();
                        // Refused: the item stays the thread's and was never
                        // the host's, so it must not count as destroyed. It
                        // owns no memory (a bool and two integers): forgetting
                        // it frees nothing.
                        std::mem::forget(item);
                        break Err(err);
                    }
                }
            }
        };
        match rc {
            Ok(()) => {}
            Err(Error::Closed) => {
                REFUSED_CLOSED.fetch_add(1, Ordering::SeqCst);
                break;
            }
            Err(_) => std::process::abort(), // no other status is possible here
        }
    }
    drop(remote); // remote_release of the thread's reference
}

impl Plugin for Stress {
    fn init(ctx: &mut Ctx<Self>, config: &str) -> Result<Self> {
        for c in [
            &ATTEMPTED,
            &RECEIVED,
            &DESTROYED,
            &REFUSED_CLOSED,
            &RETRIES_EAGAIN,
            &ORDER_ERRORS,
            &DROPPED,
        ] {
            c.store(0, Ordering::SeqCst);
        }
        let cfg = parse(config)?;
        let items = ctx.topic("stress.items")?;
        let done = ctx.topic("stress.done")?;
        let sub = if cfg.publish {
            Some(ctx.subscribe(&items, |me: &mut Stress, ctx, ev: &Event| {
                let b = ev.data();
                if b.len() != 16 {
                    ORDER_ERRORS.fetch_add(1, Ordering::SeqCst);
                    return Ok(());
                }
                me.got(ctx, u64le(&b[..8]), u64le(&b[8..]))
            })?)
        } else {
            None
        };
        Ok(Stress {
            cfg,
            items,
            done,
            remote: None,
            last_i: [0; MAX_PRODUCERS as usize],
            received: 0,
            done_sent: false,
            threads: Vec::new(),
            _sub: sub,
        })
    }

    fn start(&mut self, ctx: &mut Ctx<Self>) -> Result<()> {
        let remote = ctx.remote()?;
        for p in 0..self.cfg.producers {
            // The thread's reference, acquired here on the loop thread.
            let r = remote.clone();
            let (cfg, items) = (self.cfg, self.items);
            let t = std::thread::Builder::new()
                .name(format!("stress-{p}"))
                .spawn(move || producer(r, cfg, items, p))
                .map_err(|_| Error::NoMem)?; // the state's drop joins the rest
            self.threads.push(t);
        }
        self.remote = Some(remote);
        Ok(())
    }

    fn stop(&mut self, _ctx: &mut Ctx<Self>) {
        // No join here: the remote closes only after stop returns (U1).
        self.remote = None;
    }
}

impl Drop for Stress {
    /// on_unload: the remote is closed by now, so every producer ends (at
    /// `Closed` or done); join them. The own remote, if start failed
    /// before storing it, is dropped after this, as in the C twin.
    fn drop(&mut self) {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

uvplug::export_plugin!(Stress, name = "stress", version = "1.0.0");

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use uvplug::testing::TestHost;

    /// The counters are process-wide: one test at a time.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn report() -> [u64; 6] {
        let mut out = [0u64; 6];
        // SAFETY: out is 6 writable u64s.
        unsafe { uvp_stress_report(out.as_mut_ptr()) };
        out
    }

    fn run(config: &str, limit: usize) -> (Vec<Vec<u8>>, [u64; 6], u64) {
        let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let mut h = TestHost::new();
        h.set_remote_limit(limit);
        let p = h.load::<Stress>(config).unwrap();
        let ok = h.run_until(Duration::from_secs(30), |h| {
            !h.published("stress.done").is_empty()
        });
        assert!(ok, "stress.done never came");
        h.unload(p.id()).unwrap();
        (h.published("stress.done"), report(), uvp_stress_dropped())
    }

    #[test]
    fn config_matches_the_c_twin() {
        let d = parse("").unwrap();
        assert_eq!(
            (d.producers, d.count, d.publish, d.block),
            (4, 1000, false, true)
        );
        let c = parse("producers=2  count=7 mode=publish block=0").unwrap();
        assert_eq!(
            (c.producers, c.count, c.publish, c.block),
            (2, 7, true, false)
        );
        assert_eq!(parse("count=").unwrap().count, 0);
        assert_eq!(parse("count=+5").unwrap().count, 5);
        for bad in [
            "producers=0",
            "producers=17",
            "producers=x",
            "count=4294967296",
            "count=-1",
            "count=1x",
            "mode=fast",
            "block=2",
            "nokey",
            "other=1",
            &"count=1 ".repeat(40),
        ] {
            assert_eq!(parse(bad), Err(Error::Invalid), "{bad}");
        }
    }

    #[test]
    fn post_nonblock_counts_everything() {
        let (done, r, dropped) = run("producers=3 count=2000 mode=post block=0", 16);
        assert_eq!(
            done,
            vec![b"received=6000 order_errors=0 destroyed=6000".to_vec()]
        );
        assert_eq!(&r[..3], &[6000, 6000, 6000]);
        assert_eq!((r[3], r[5], dropped), (0, 0, 0));
        assert!(r[4] > 0, "a 16-deep queue makes producers retry");
    }

    #[test]
    fn post_block_and_publish_modes() {
        let (done, r, _) = run("producers=2 count=500 mode=post block=1", 8);
        assert_eq!(
            done,
            vec![b"received=1000 order_errors=0 destroyed=1000".to_vec()]
        );
        assert_eq!(r[4], 0);
        let (done, r, _) = run("producers=4 count=300 mode=publish block=0", 8);
        assert_eq!(
            done,
            vec![b"received=1200 order_errors=0 destroyed=0".to_vec()]
        );
        assert_eq!((r[0], r[1], r[5]), (1200, 1200, 0));
    }

    #[test]
    fn unload_while_posting_accounts_for_every_item() {
        let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let mut h = TestHost::new();
        h.set_remote_limit(4);
        let p = h
            .load::<Stress>("producers=4 count=100000 mode=post block=1")
            .unwrap();
        h.run_until(Duration::from_secs(30), |_| {
            RECEIVED.load(Ordering::SeqCst) > 100
        });
        h.unload(p.id()).unwrap(); // joins the producers
        let r = report();
        let dropped = uvp_stress_dropped();
        assert!(r[3] > 0, "producers were refused with Closed");
        assert_eq!(
            r[0],
            r[1] + dropped + r[3],
            "attempted = received + dropped + refused"
        );
        assert_eq!(r[2], r[1] + dropped, "destroyed = received + dropped");
        assert_eq!(r[5], 0);
        assert_eq!(h.remote_refs(p.id()), 0, "every reference released");
    }
}
