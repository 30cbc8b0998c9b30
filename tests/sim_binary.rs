//! `condor sim` as a user runs it: the binary prints where it listens and its key pair,
//! serves LS clients there, refuses bad flags with a message naming them, and stops
//! cleanly on SIGTERM.

mod common;

use std::process::Command;

use common::lives::{start_sim_env, Work};

#[tokio::test]
async fn condor_sim_prints_its_urls_serves_and_stops_on_sigterm() {
    let work = Work::new("sim-binary", 7);
    let mut sim = start_sim_env(&work, "warn", &["--seed", "7"], &[]);
    let (rest, ws) = (sim.rest.clone(), sim.ws.clone());
    assert!(rest.starts_with("http://127.0.0.1:"), "{rest}");
    assert!(
        ws.starts_with("ws://127.0.0.1:") && ws.ends_with("/websocket"),
        "{ws}"
    );
    assert_eq!(sim.appkey.len(), 36);
    assert_eq!(sim.appsecret.len(), 36);

    let r = reqwest::Client::new()
        .post(format!("{rest}/oauth2/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&appkey={}&appsecretkey={}&scope=oob",
            sim.appkey, sim.appsecret
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (_ws, _) = tokio_tungstenite::connect_async(&ws)
        .await
        .expect("websocket answers");

    let status = Command::new("kill")
        .args(["-TERM", &sim.proc.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = sim.proc.0.wait().unwrap();
    assert!(exit.success(), "exits 0 on SIGTERM: {exit:?}");
}

#[test]
fn a_bad_flag_value_is_refused_with_its_name() {
    let out = Command::new(env!("CARGO_BIN_EXE_condor"))
        .args(["sim", "--start-time", "9am"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--start-time"), "{err}");
}

#[test]
fn a_bad_scenario_is_refused_with_file_and_line() {
    let dir = std::env::temp_dir().join(format!("condor-scn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.scn");
    std::fs::write(&path, "condition S001 test\nat soon S001 enter 005930\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_condor"))
        .args(["sim", "--rest-port", "0", "--ws-port", "0", "--scenario"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.scn") && err.contains("line 2"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_documents_every_knob() {
    let out = Command::new(env!("CARGO_BIN_EXE_condor"))
        .args(["sim", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--rest-port",
        "--ws-port",
        "--seed",
        "--scenario",
        "--drop-after-secs",
        "--drop-after-frames",
        "--frame-delay-ms",
        "--malformed-share",
        "--firehose",
        "--appkey",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
    assert!(
        !help.contains(condor::sim::DEFAULT_APPSECRET),
        "--help shows no secret"
    );
}

#[test]
fn the_readme_lists_every_reject_code() {
    let readme = include_str!("../README.md");
    for c in condor::sim::exchange::REJECT_CODES {
        let row = format!("| {} | {} |", c.code, c.message);
        assert!(readme.contains(&row), "README lacks the reject row {row}");
    }
}
