//! careid-core at its boundaries, over real sockets.

mod client_auth;
mod loopback;
mod profiles;
