//! The journal: every state-changing event, durable before it is acted on.

pub mod store;
