//! Runs every scenario on the fake host and compares its trace with
//! tests/scenarios/NAME.trace, the file tests/integration/test_scenarios.c
//! compares the real host's trace with. `UVP_SCN_BLESS=1` rewrites the
//! files from the fake host's traces (then check them against the real
//! host before committing).

use std::path::PathBuf;
use std::time::Duration;

use scenarios::Scn;
use uvplug::testing::TestHost;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../tests/scenarios")
}

/// The driver: the same steps as run_scenario in test_scenarios.c.
fn run_on_fake(name: &str) -> Vec<String> {
    scenarios::reset();
    let mut h = TestHost::new();
    let loaded = h.load_as::<Scn>("scn", &format!("scenario={name}"));
    scenarios::rec(format!(
        "load {}",
        loaded.as_ref().map_or_else(|e| e.code(), |_| 0)
    ));
    if scenarios::has_peer(name) {
        let peer = h.load_as::<Scn>("scn-peer", &format!("scenario={name};peer"));
        scenarios::rec(format!(
            "load peer {}",
            peer.map_or_else(|e| e.code(), |_| 0)
        ));
    }
    // One turn at a time, as uv_run(UV_RUN_ONCE) in the C driver.
    let mut idle = 0;
    for _ in 0..50_000 {
        if scenarios::finished() || idle == 1000 {
            break;
        }
        if !h.run_once() && h.poll_io(Duration::from_millis(1)) == 0 {
            idle += 1;
        }
    }
    let id = loaded.ok().map(|p| p.id());
    let live = id.is_some_and(|id| h.is_loaded(id));
    scenarios::rec(format!("loaded {}", u8::from(live)));
    if let (true, Some(id)) = (live, id) {
        let st = h.stats(id);
        scenarios::rec(format!(
            "errors {} panics {} registrations {}",
            st.errors, st.panics, st.registrations
        ));
    }
    if let (true, false, Some(id)) = (live, scenarios::kept(), id) {
        scenarios::rec("unload");
        h.unload(id).expect("unload");
        h.run_until_idle();
    }
    scenarios::rec("close");
    drop(h);
    scenarios::rec("end");
    scenarios::trace()
}

/// Lines of `want` and `got` as a diff: " " both, "-" only expected,
/// "+" only got (longest common subsequence).
fn diff(want: &[String], got: &[String]) -> String {
    let (n, m) = (want.len(), got.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if want[i] == got[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < n || j < m {
        if i < n && j < m && want[i] == got[j] {
            out += &format!("  {}\n", want[i]);
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out += &format!("+ {}\n", got[j]);
            j += 1;
        } else {
            out += &format!("- {}\n", want[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn every_scenario_matches_its_golden_trace() {
    let bless = std::env::var_os("UVP_SCN_BLESS").is_some();
    let mut failed = Vec::new();
    for name in scenarios::names() {
        let got = run_on_fake(name);
        let path = golden_dir().join(format!("{name}.trace"));
        if bless {
            let text: String = got.iter().map(|l| format!("{l}\n")).collect();
            std::fs::write(&path, text).expect("writing a golden trace");
            continue;
        }
        let want: Vec<String> = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .lines()
            .map(str::to_owned)
            .collect();
        if want != got {
            eprintln!(
                "scenario {name}: fake host trace differs from {} (- expected, + got):\n{}",
                path.display(),
                diff(&want, &got)
            );
            failed.push(name);
        }
    }
    assert!(failed.is_empty(), "scenarios differing: {failed:?}");
}
