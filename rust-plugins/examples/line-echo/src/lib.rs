//! `line-echo`: a loopback TCP line echo server driven by fd watches.
//!
//! Binds `127.0.0.1:<port>` (config `port=N`, 0 = an ephemeral port; the
//! default), logs `listening on 127.0.0.1:<port>` at start,
//! accepts connections, echoes every complete line (`\n`-terminated) back
//! to its sender and publishes it (without the line ending) on `lines`.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};

use uvplug::config::Config;
use uvplug::prelude::*;

/// Longest line kept; a longer one closes the connection.
const MAX_LINE: usize = 64 * 1024;

/// A connection: its watch owns the stream (closed when the watch ends).
struct Conn {
    _watch: FdWatch,
    buf: Vec<u8>,
}

/// The echo server's state.
pub struct LineEcho {
    lines: Topic,
    conns: HashMap<u64, Conn>,
    next_id: u64,
    echoed: u64,
    port: u16,
    _accept: FdWatch,
}

impl LineEcho {
    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn accept(&mut self, ctx: &mut Ctx<Self>, listener: &mut TcpListener) -> Result<()> {
        loop {
            match listener.accept() {
                Ok((stream, peer)) => {
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    let id = self.next_id;
                    self.next_id += 1;
                    let watch = ctx.watch_fd(
                        stream,
                        Interest::READABLE,
                        move |me: &mut LineEcho, ctx, stream, r| me.readable(ctx, id, stream, r),
                    )?;
                    uvplug::debug!(ctx, "connection {id} from {peer}");
                    self.conns.insert(
                        id,
                        Conn {
                            _watch: watch,
                            buf: Vec::new(),
                        },
                    );
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    uvplug::warn!(ctx, "accept: {e}");
                    return Ok(());
                }
            }
        }
    }

    fn readable(
        &mut self,
        ctx: &mut Ctx<Self>,
        id: u64,
        stream: &mut TcpStream,
        r: Readiness,
    ) -> Result<()> {
        let Some(conn) = self.conns.get_mut(&id) else {
            return Ok(());
        };
        let mut close = r.error().is_some();
        let mut chunk = [0u8; 4096];
        while !close {
            match stream.read(&mut chunk) {
                Ok(0) => close = true,
                Ok(n) => conn.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => close = true,
            }
        }
        while let Some(pos) = conn.buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = conn.buf.drain(..=pos).collect();
            if write_all(stream, &line).is_err() {
                close = true;
                break;
            }
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            ctx.publish(&self.lines, text)?;
            self.echoed += 1;
        }
        if conn.buf.len() > MAX_LINE {
            close = true;
        }
        if close {
            // Drops the watch (cancel from inside its own callback, L2); its
            // destroy closes the socket once the callback returned.
            self.conns.remove(&id);
        }
        Ok(())
    }
}

/// Writes everything; waits for room on a full socket buffer (short for
/// the line sizes of a demo; a production server would watch WRITABLE).
fn write_all(stream: &mut TcpStream, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        match stream.write(data) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                stream.set_nonblocking(false)?;
                let r = stream.write_all(data);
                stream.set_nonblocking(true)?;
                return r;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl Plugin for LineEcho {
    fn init(ctx: &mut Ctx<Self>, config: &str) -> Result<Self> {
        let mut cfg = Config::parse(config)?;
        let port: u16 = cfg.get_or("port", 0)?;
        cfg.finish()?;
        let listener = TcpListener::bind(("127.0.0.1", port))
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|e| Error::msg(format!("bind 127.0.0.1:{port}: {e}")))?;
        let port = listener.local_addr()?.port();
        let accept = ctx.watch_fd(
            listener,
            Interest::READABLE,
            |me: &mut LineEcho, ctx, listener, _r| me.accept(ctx, listener),
        )?;
        Ok(LineEcho {
            lines: ctx.topic("lines")?,
            conns: HashMap::new(),
            next_id: 1,
            echoed: 0,
            port,
            _accept: accept,
        })
    }

    fn start(&mut self, ctx: &mut Ctx<Self>) -> Result<()> {
        uvplug::info!(ctx, "listening on 127.0.0.1:{}", self.port);
        Ok(())
    }

    fn stop(&mut self, ctx: &mut Ctx<Self>) {
        let open = self.conns.len();
        uvplug::info!(ctx, "echoed {} lines, {open} connections open", self.echoed);
    }
}

export_plugin!(
    LineEcho,
    name = "line-echo",
    version = env!("CARGO_PKG_VERSION")
);

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::time::Instant;
    use uvplug::testing::TestHost;

    fn pump_until(h: &mut TestHost, mut done: impl FnMut(&TestHost) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !done(h) {
            assert!(Instant::now() < deadline, "timed out");
            h.poll_io(Duration::from_millis(20));
        }
    }

    #[test]
    fn echoes_lines_and_publishes_them() {
        let mut h = TestHost::new();
        let p = h.load::<LineEcho>("port=0").unwrap();
        let port = h.state(&p).port();
        assert_ne!(port, 0);
        assert!(h.logged(&format!("listening on 127.0.0.1:{port}")));

        let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
        client.write_all(b"hello\nwor").unwrap();
        pump_until(&mut h, |h| h.published("lines").len() == 1);
        client.write_all(b"ld\r\n").unwrap();
        pump_until(&mut h, |h| h.published("lines").len() == 2);
        assert_eq!(
            h.published("lines"),
            vec![b"hello".to_vec(), b"world".to_vec()]
        );

        let mut reader = BufReader::new(client.try_clone().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert_eq!(line, "hello\n");
        line.clear();
        reader.read_line(&mut line).unwrap();
        assert_eq!(line, "world\r\n");

        assert_eq!(h.live_registrations(), 2);
        drop(reader);
        drop(client);
        pump_until(&mut h, |h| h.live_registrations() == 1);
        assert_eq!(h.destroy_calls(), 1);
        h.unload(p.id()).unwrap();
        assert!(h.logged("echoed 2 lines, 0 connections open"));
        assert_eq!(h.live_registrations(), 0);
    }

    #[test]
    fn bad_config_and_busy_port() {
        let mut h = TestHost::new();
        assert_eq!(h.load::<LineEcho>("port=x").err(), Some(Error::Init));
        assert!(h.logged(r#"init failed: config: port: expected u16, got "x""#));
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        assert_eq!(
            h.load::<LineEcho>(&format!("port={port}")).err(),
            Some(Error::Init)
        );
        assert!(h.logged("bind 127.0.0.1:"));
    }
}
