//! `kv-client`: a Rust plugin that imports the `kv` service with the typed
//! client of `kv-service` and runs a fixed exchange against it each time
//! an event arrives on `kv.client.rs.run`, publishing one report line per
//! step on `kv.client.rs.result` (the C integration test and the unit tests
//! below assert them). On a revoke it drops its reference and re-imports
//! on the next run (a reloaded `kv` is picked up, V7).

use kv_service::{KvClient, KV_VALUE_MAX};
use uvplug::prelude::*;

/// The plugin's state.
pub struct KvUser {
    kv: Option<KvClient>,
    out: Topic,
    revokes: u32,
}

impl KvUser {
    fn import(ctx: &Ctx<Self>) -> Result<KvClient> {
        ctx.import::<KvClient>(0, |me: &mut KvUser, _, _why| {
            me.revokes += 1;
            me.kv = None; // drops the reference (V5)
            Ok(())
        })
    }

    /// The exchange: each step's outcome as text.
    fn exchange(kv: &KvClient) -> Vec<String> {
        let st = |r: Result<()>| match r {
            Ok(()) => "ok".to_owned(),
            Err(e) => format!("{:?}", e.kind()),
        };
        let get = |k: &[u8]| match kv.get_vec(k) {
            Ok(v) => String::from_utf8_lossy(&v).into_owned(),
            Err(e) => format!("{:?}", e.kind()),
        };
        let mut out = vec![
            format!("put alpha: {:?}", kv.put_bytes(b"alpha", b"one")),
            format!("put alpha: {:?}", kv.put_bytes(b"alpha", b"first")),
            format!("get alpha: {}", get(b"alpha")),
        ];
        let mut small = [0u8; 2];
        let mut a = kv_service::KvGetArgs {
            key: b"alpha".as_ptr(),
            key_len: 5,
            buf: small.as_mut_ptr(),
            buf_cap: small.len(),
            val_len: 0,
        };
        let rc = st(kv.get(&mut a));
        out.push(format!("get alpha into 2 bytes: {rc} need {}", a.val_len));
        let huge = vec![0u8; KV_VALUE_MAX + 1];
        out.push(format!(
            "put huge: {}",
            st(kv.put_bytes(b"huge", &huge).map(drop))
        ));
        out.push(format!("usage: {:?}", kv.usage()));
        out.push(format!("delete alpha: {}", st(kv.remove(b"alpha"))));
        out.push(format!("get alpha: {}", get(b"alpha")));
        out.push(format!("delete alpha: {}", st(kv.remove(b"alpha"))));
        out
    }

    fn run(&mut self, ctx: &mut Ctx<Self>) -> Result<()> {
        if self.kv.is_none() {
            self.kv = Some(KvUser::import(ctx)?);
        }
        let lines = match &self.kv {
            Some(kv) => KvUser::exchange(kv),
            None => return Err(Error::NoEnt),
        };
        ctx.publish(&self.out, lines.join("\n").as_bytes())
    }
}

impl Plugin for KvUser {
    fn init(ctx: &mut Ctx<Self>, _config: &str) -> Result<Self> {
        let run = ctx.topic("kv.client.rs.run")?;
        ctx.subscribe(&run, |me: &mut KvUser, ctx, _| me.run(ctx))?
            .detach();
        Ok(KvUser {
            kv: None,
            out: ctx.topic("kv.client.rs.result")?,
            revokes: 0,
        })
    }
}

uvplug::export_plugin!(
    KvUser,
    name = "kv-client-rs",
    version = env!("CARGO_PKG_VERSION")
);

#[cfg(test)]
mod tests {
    use super::*;
    use kv_service::Store;
    use uvplug::testing::TestHost;

    /// What the exchange reports against a fresh store (the C test expects
    /// the same text from the real host).
    pub(crate) const EXPECTED: &str = "put alpha: Ok(false)\n\
        put alpha: Ok(true)\n\
        get alpha: first\n\
        get alpha into 2 bytes: MsgSize need 5\n\
        put huge: MsgSize\n\
        usage: Ok((1, 10, 1024))\n\
        delete alpha: ok\n\
        get alpha: NoEnt\n\
        delete alpha: NoEnt";

    fn results(h: &TestHost) -> Vec<String> {
        h.published("kv.client.rs.result")
            .into_iter()
            .map(|v| String::from_utf8(v).unwrap())
            .collect()
    }

    /// V2, V3 from Rust: typed results of every kv function.
    #[test]
    fn exchange_against_the_store() {
        let mut h = TestHost::new();
        let kv = h.load_as::<Store>("kv", "").unwrap();
        h.load::<KvUser>("").unwrap();
        h.publish("kv.client.rs.run", b"").unwrap();
        h.run_until_idle();
        assert_eq!(results(&h), vec![EXPECTED]);
        assert!(h.state(&kv).is_empty());
        assert_eq!(h.counter(kv.id(), "puts"), Some(2));
        // get_vec asks for the size first (a hit), then reads; + the small get
        assert_eq!(h.counter(kv.id(), "hits"), Some(3));
        assert_eq!(h.counter(kv.id(), "misses"), Some(1));
    }

    /// V5, V7: unloading kv revokes the client; after a new kv is loaded
    /// the next run imports it.
    #[test]
    fn revoke_then_reimport() {
        let mut h = TestHost::new();
        let kv = h.load_as::<Store>("kv", "").unwrap();
        let u = h.load::<KvUser>("").unwrap();
        h.publish("kv.client.rs.run", b"").unwrap();
        h.run_until_idle();
        h.unload(kv.id()).unwrap();
        assert_eq!(h.state(&u).revokes, 1);
        assert!(h.state(&u).kv.is_none());
        assert_eq!(h.service_refs(kv.id()), 0);
        h.publish("kv.client.rs.run", b"").unwrap();
        h.run_until_idle();
        assert_eq!(h.stats(u.id()).last_error, uvplug::sys::UVP_ENOENT);
        let kv2 = h.load_as::<Store>("kv", "max_entries=7").unwrap();
        h.clear_published();
        h.publish("kv.client.rs.run", b"").unwrap();
        h.run_until_idle();
        let want = EXPECTED.replace("(1, 10, 1024)", "(1, 10, 7)");
        assert_eq!(results(&h), vec![want]);
        assert_eq!(h.service_refs(kv2.id()), 1);
    }

    /// The store's own limits: a full store refuses a new key, not an
    /// update; a bad config fails init.
    #[test]
    fn full_store_and_bad_config() {
        struct P(Vec<String>);
        impl Plugin for P {
            fn init(ctx: &mut Ctx<Self>, _: &str) -> Result<Self> {
                let kv = ctx.import::<KvClient>(0, |_: &mut P, _, _| Ok(()))?;
                Ok(P(vec![
                    format!("{:?}", kv.put_bytes(b"a", b"1")),
                    format!("{:?}", kv.put_bytes(b"b", b"2")),
                    format!("{:?}", kv.put_bytes(b"a", b"3")),
                    format!("{:?}", kv.put_bytes(b"", b"3")),
                    format!("{:?}", kv.get_vec(b"a")),
                ]))
            }
        }
        let mut h = TestHost::new();
        assert!(h.load_as::<Store>("kv", "max_entries=x").is_err());
        assert!(h.logged("max_entries: invalid digit"));
        h.load_as::<Store>("kv", "max_entries=1").unwrap();
        let p = h.load::<P>("").unwrap();
        assert_eq!(
            h.state(&p).0,
            vec![
                "Ok(false)",
                "Err(NoSpace)",
                "Ok(true)",
                "Err(Invalid)",
                "Ok([51])"
            ]
        );
    }
}
