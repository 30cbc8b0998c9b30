//! Logging: `RUST_LOG` picks what to see, per actor (`condor::feed=debug`), with caps on the
//! dependencies whose detailed levels print credentials.
//!
//! Owns the logger's set-up. Must never let a dependency print a frame or a header that
//! carries a secret, whatever `RUST_LOG` says: tungstenite's trace lines print every
//! websocket frame's payload, and LS's registration frames (and Kiwoom's LOGIN) carry the
//! access token (the log of `RUST_LOG=trace condor run` held the bearer token four times in
//! 25 s).
//!
//! The cap is applied to each record, after `RUST_LOG`'s directives: a directive can name
//! a dependency's module more precisely than any directive condor adds
//! (`tungstenite::protocol=trace` outranks `tungstenite=debug` in env_logger), so capping
//! by directives alone let a user's filter print frames again.

use log::{Level, LevelFilter, Log, Metadata, Record};

/// Dependencies held at `debug` at most, with every module under them. What their `trace`
/// prints (checked against their sources): tungstenite every websocket frame and message
/// (payload as text and as hex) and the handshake request; tokio_tungstenite its polling;
/// reqwest, with a verbose connection, every byte read and written (headers and bodies);
/// rustls the handshake messages. hyper, hyper_util and h2 log through `tracing`, which
/// reaches no logger in this build; they are capped too, should a feature route them here.
/// At `debug` none of them prints a payload or a header: tungstenite names the URL it
/// contacts (which carries no secret for LS or Kiwoom) and close frames, reqwest the host.
pub const CAPPED: [&str; 7] = [
    "tungstenite",
    "tokio_tungstenite",
    "reqwest",
    "hyper",
    "hyper_util",
    "h2",
    "rustls",
];

/// Starts the logger: `RUST_LOG`, else `default`, with [`CAPPED`] held at `debug` at most.
pub fn init(default: &str) {
    let logger = Capped::new(
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default))
            .build(),
    );
    let max = logger.max_level();
    log::set_boxed_logger(Box::new(logger)).expect("the logger is set once");
    log::set_max_level(max);
}

/// A logger that passes a record to the one it wraps unless it is a [`CAPPED`]
/// dependency's above `debug`.
pub struct Capped<L> {
    inner: L,
}

impl Capped<env_logger::Logger> {
    /// The most detailed level any record can pass at (for `log::set_max_level`).
    pub fn max_level(&self) -> LevelFilter {
        self.inner.filter()
    }
}

impl<L: Log> Capped<L> {
    pub fn new(inner: L) -> Capped<L> {
        Capped { inner }
    }
}

impl<L: Log> Log for Capped<L> {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        allowed(metadata.target(), metadata.level()) && self.inner.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if allowed(record.target(), record.level()) {
            self.inner.log(record);
        }
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

/// Whether a record of `target` at `level` may be printed at all.
fn allowed(target: &str, level: Level) -> bool {
    level <= Level::Debug || !CAPPED.iter().any(|capped| covers(capped, target))
}

/// `target` is `module` itself or one of its submodules.
fn covers(module: &str, target: &str) -> bool {
    target
        .strip_prefix(module)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn capped_dependencies_stop_at_debug_in_every_module() {
        assert!(!allowed("tungstenite", Level::Trace));
        assert!(!allowed("tungstenite::protocol::frame", Level::Trace));
        assert!(!allowed("reqwest::connect::verbose", Level::Trace));
        assert!(allowed("tungstenite::protocol", Level::Debug));
        assert!(allowed("rustls::client", Level::Info));
        // Not a capped crate: a name that only starts like one, and condor's own.
        assert!(allowed("tungstenite_x", Level::Trace));
        assert!(allowed("condor::session", Level::Trace));
    }

    /// What env_logger writes, kept for the test.
    #[derive(Clone, Default)]
    struct Written(Arc<Mutex<Vec<u8>>>);

    impl Write for Written {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The directives a user may type, the precise ones included: a dependency's trace
    /// line never passes, its debug line and condor's own lines pass as asked.
    #[test]
    fn no_directive_lets_a_dependency_print_its_trace_lines() {
        for spec in [
            "trace",
            "tungstenite=trace",
            "info,tungstenite::protocol=trace,tungstenite::protocol::frame=trace",
            "trace,reqwest::connect::verbose=trace,rustls=trace",
        ] {
            let written = Written::default();
            let logger = Capped::new(
                env_logger::Builder::new()
                    .parse_filters(spec)
                    .target(env_logger::Target::Pipe(Box::new(written.clone())))
                    .build(),
            );
            let line = |target: &str, level: Level, text: &str| {
                logger.log(
                    &Record::builder()
                        .target(target)
                        .level(level)
                        .args(format_args!("{text}"))
                        .build(),
                );
            };
            line("tungstenite::protocol", Level::Trace, "frame-payload-1");
            line(
                "tungstenite::protocol::frame",
                Level::Trace,
                "frame-payload-2",
            );
            line("reqwest::connect::verbose", Level::Trace, "header-bytes");
            line("rustls::client::hs", Level::Trace, "hello");
            line(
                "tungstenite::handshake::client",
                Level::Debug,
                "handshake-done",
            );
            line("condor::feed", Level::Trace, "feed-trace");
            logger.flush();
            let out = String::from_utf8(written.0.lock().unwrap().clone()).unwrap();
            for hidden in ["frame-payload", "header-bytes", "hello"] {
                assert!(!out.contains(hidden), "{spec}: {out}");
            }
            // Every spec but the one at info for all but two modules shows it.
            assert_eq!(
                out.contains("handshake-done"),
                !spec.starts_with("info"),
                "{spec}: {out}"
            );
            assert_eq!(
                out.contains("feed-trace"),
                spec.starts_with("trace"),
                "{spec}: {out}"
            );
        }
    }

    /// A user's per-actor filter is read as env_logger reads it: one actor's debug lines,
    /// nothing below info elsewhere.
    #[test]
    fn a_per_actor_filter_still_picks_one_actor() {
        let written = Written::default();
        let logger = Capped::new(
            env_logger::Builder::new()
                .parse_filters("info,condor::feed=debug")
                .target(env_logger::Target::Pipe(Box::new(written.clone())))
                .build(),
        );
        for (target, text) in [
            ("condor::feed", "feed-debug"),
            ("condor::session", "session-debug"),
        ] {
            logger.log(
                &Record::builder()
                    .target(target)
                    .level(Level::Debug)
                    .args(format_args!("{text}"))
                    .build(),
            );
        }
        let out = String::from_utf8(written.0.lock().unwrap().clone()).unwrap();
        assert!(
            out.contains("feed-debug") && !out.contains("session-debug"),
            "{out}"
        );
    }
}
