//! careid-broker at its boundaries, over real HTTP, real Redis and real processes: one test
//! binary, with the set-ups every part shares in `support`.

mod backchannel_logout;
mod dpop;
mod listeners;
mod logout_token;
mod redis_acl;
mod redis_store;
mod redis_tls;
mod relay;
mod serve;
mod support;
mod tls;
