//! Kiwoom's token endpoints (§2): `au10001` issues a token for the simulator's key pair
//! (a JSON body `grant_type`/`appkey`/`secretkey`; the reply's `token`, `token_type` and
//! `expires_dt` in KST, the token's lifetime on), `au10002` revokes one. A bad key pair is
//! refused as captured: HTTP 200, `return_code 3`, `인증에 실패했습니다[8001:…]`; posing as
//! the other server (`SimConfig::kiwoom_other_host`), the right key pair `[8030:…]`.
//!
//! Owns no state: tokens live in the engine's `Tokens`, shared with nothing else (one
//! protocol per simulator). Must never log a key, a secret or a token.

use condor_model::kiwoom::rest::{
    decode_request, Reply, MSG_AUTH_FAILED, MSG_RATE_LIMITED, RC_AUTH, RC_INPUT, RC_RATE_LIMIT,
    TEXT_BAD_KEYS, TEXT_KEY_WRONG_SERVER,
};
use condor_model::kiwoom::token::{
    Au10001, Au10002, KstDateTime, RevokeReply, TokenGrant, GRANT_TYPE,
};
use condor_model::kiwoom::Tr;

use super::http::KiwoomReply;
use super::refusal;
use crate::engine::SimState;

/// The limiter's key for token issues (5 a second, as every Kiwoom api-id here).
const TOKEN_KEY: &str = "au10001";

/// `POST /oauth2/token` (`revoke` false) or `/oauth2/revoke`.
pub(crate) fn handle(state: &mut SimState, body: &[u8], revoke: bool) -> KiwoomReply {
    let api_id = if revoke {
        Au10002::API_ID
    } else {
        Au10001::API_ID
    };
    let body = String::from_utf8_lossy(body);
    if revoke {
        return revoke_token(state, &body);
    }
    let now = state.now_ms();
    if state.limiter.check(TOKEN_KEY, now).is_err() {
        return rate_limited(api_id);
    }
    let req = match decode_request::<Au10001>(&body) {
        Ok(r) => r,
        Err(e) => {
            return KiwoomReply::ok(
                api_id,
                refusal(RC_INPUT, MSG_AUTH_FAILED, 8020, &e.to_string()),
            )
        }
    };
    if req.grant_type.trim() != GRANT_TYPE {
        return KiwoomReply::ok(
            api_id,
            refusal(
                RC_AUTH,
                MSG_AUTH_FAILED,
                8012,
                "grant_type이 올바르지 않습니다",
            ),
        );
    }
    if !state
        .tokens
        .keys_match(req.appkey.expose(), req.secretkey.expose())
    {
        return KiwoomReply::ok(
            api_id,
            refusal(RC_AUTH, MSG_AUTH_FAILED, 8001, TEXT_BAD_KEYS),
        );
    }
    if state.other_host {
        // The key pair is right but the other server's (§2.1's 8030 line, UNCONFIRMED).
        return KiwoomReply::ok(
            api_id,
            refusal(RC_AUTH, MSG_AUTH_FAILED, 8030, TEXT_KEY_WRONG_SERVER),
        );
    }
    let (token, expires_ms) = state.tokens.issue_opaque();
    let grant = TokenGrant::new(&token, KstDateTime::from_unix_ms(expires_ms));
    KiwoomReply::ok(api_id, Reply::ok(grant).to_json())
}

fn revoke_token(state: &mut SimState, body: &str) -> KiwoomReply {
    let api_id = Au10002::API_ID;
    let req = match decode_request::<Au10002>(body) {
        Ok(r) => r,
        Err(e) => {
            return KiwoomReply::ok(
                api_id,
                refusal(RC_INPUT, MSG_AUTH_FAILED, 8016, &e.to_string()),
            )
        }
    };
    if !state
        .tokens
        .keys_match(req.appkey.expose(), req.secretkey.expose())
    {
        return KiwoomReply::ok(
            api_id,
            refusal(RC_AUTH, MSG_AUTH_FAILED, 8001, TEXT_BAD_KEYS),
        );
    }
    if !state.tokens.forget(req.token.expose().trim()) {
        return KiwoomReply::ok(
            api_id,
            refusal(RC_AUTH, MSG_AUTH_FAILED, 8015, "토큰 폐기에 실패했습니다"),
        );
    }
    KiwoomReply::ok(api_id, Reply::ok(RevokeReply {}).to_json())
}

/// HTTP 429, `return_code 5`, `[1700:… API ID=<api-id>]` (§6.1, §7).
pub(crate) fn rate_limited(api_id: &str) -> KiwoomReply {
    let mut r = KiwoomReply::ok(
        api_id,
        refusal(
            RC_RATE_LIMIT,
            MSG_RATE_LIMITED,
            1700,
            &format!("{MSG_RATE_LIMITED}. API ID={api_id}"),
        ),
    );
    r.status = 429;
    r
}
