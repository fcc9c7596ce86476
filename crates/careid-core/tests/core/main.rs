//! careid-core at its boundaries, over real sockets.

mod claims;
mod client_auth;
mod discovery;
mod doctor;
mod id_token;
mod loopback;
mod profiles;
mod redirect;
mod session;
mod signin;
