//! Going live is configuration: LS's endpoints are https and wss, so both clients must
//! speak TLS. Nothing listens on these ports; the point is the kind of error: a refused
//! connection, not "TLS not supported".

use condor_actors::ls_rest::{install_tls_provider, LsError, LsRest};
use tokio_tungstenite::tungstenite::Error as WsError;

#[tokio::test]
async fn the_rest_client_speaks_https() {
    match LsRest::connect("https://127.0.0.1:1", "key", "secret").await {
        Err(LsError::Transport { url, reason }) => {
            assert!(url.starts_with("https://"), "{url}");
            assert!(
                !reason.to_lowercase().contains("scheme"),
                "https is supported: {reason}"
            );
        }
        other => panic!("a transport error expected, got {other:?}"),
    }
}

#[tokio::test]
async fn the_websocket_client_speaks_wss() {
    install_tls_provider();
    match tokio_tungstenite::connect_async("wss://127.0.0.1:1/websocket").await {
        Err(WsError::Io(_)) => {}
        Err(other) => panic!("wss is supported; expected a refused connection, got {other}"),
        Ok(_) => panic!("nothing listens on port 1"),
    }
}
