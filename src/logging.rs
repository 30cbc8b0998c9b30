//! Logging: `RUST_LOG` picks what to see, per actor (`condor::feed=debug`), with caps on the
//! dependencies whose detailed levels print credentials.
//!
//! Owns the logger's set-up. Must never let a dependency print a frame or a header that
//! carries a secret, whatever `RUST_LOG` says: tungstenite's trace lines print every
//! websocket frame's payload, and LS's registration frames carry the access token (the log
//! of `RUST_LOG=trace condor run` held the bearer token four times in 25 s).

use log::LevelFilter;

/// Dependencies capped at `debug`: their `trace` prints payloads (websocket frames, HTTP
/// bodies and headers) that hold the access token.
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
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default));
    for target in CAPPED {
        // Later directives for the same target replace earlier ones; a lower level asked
        // for (info, off) is kept.
        let asked = requested_level(target);
        builder.filter_module(target, asked.min(LevelFilter::Debug));
    }
    builder.init();
}

/// The level `RUST_LOG` gives `target`: its own directive, else the global one, else
/// `error` (env_logger's default).
fn requested_level(target: &str) -> LevelFilter {
    let spec = std::env::var("RUST_LOG").unwrap_or_default();
    level_in(&spec, target)
}

fn level_in(spec: &str, target: &str) -> LevelFilter {
    let mut global = None;
    let mut own: Option<(usize, LevelFilter)> = None;
    for directive in spec.split('/').next().unwrap_or("").split(',') {
        let directive = directive.trim();
        if directive.is_empty() {
            continue;
        }
        match directive.split_once('=') {
            None => match directive.parse::<LevelFilter>() {
                Ok(level) => global = Some(level),
                // A bare module name means every level of it.
                Err(_) if covers(directive, target) => {
                    own = Some((directive.len(), LevelFilter::Trace));
                }
                Err(_) => {}
            },
            Some((module, level)) if covers(module, target) => {
                if let Ok(level) = level.parse::<LevelFilter>() {
                    if own.is_none_or(|(len, _)| module.len() >= len) {
                        own = Some((module.len(), level));
                    }
                }
            }
            Some(_) => {}
        }
    }
    own.map(|(_, l)| l).or(global).unwrap_or(LevelFilter::Error)
}

/// A directive for `module` applies to `target` (itself or one of its submodules).
fn covers(module: &str, target: &str) -> bool {
    module == target || (target.starts_with(module) && target[module.len()..].starts_with("::"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_asked_level_is_read_as_env_logger_reads_it() {
        assert_eq!(level_in("trace", "tungstenite"), LevelFilter::Trace);
        assert_eq!(
            level_in("info,condor::feed=debug", "tungstenite"),
            LevelFilter::Info
        );
        assert_eq!(
            level_in("warn,tungstenite=trace", "tungstenite"),
            LevelFilter::Trace
        );
        assert_eq!(
            level_in("tungstenite=off,trace", "tungstenite"),
            LevelFilter::Off
        );
        assert_eq!(level_in("tungstenite", "tungstenite"), LevelFilter::Trace);
        assert_eq!(
            level_in("tungstenite_x=trace", "tungstenite"),
            LevelFilter::Error
        );
        assert_eq!(level_in("", "tungstenite"), LevelFilter::Error);
        // Capped: never above debug, and a lower level asked for is kept.
        assert_eq!(
            level_in("trace", "hyper").min(LevelFilter::Debug),
            LevelFilter::Debug
        );
        assert_eq!(
            level_in("info", "hyper").min(LevelFilter::Debug),
            LevelFilter::Info
        );
    }
}
