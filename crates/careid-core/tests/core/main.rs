//! careid-core at its boundaries, over real sockets.

mod claims;
mod loopback;
mod profiles;
mod session;
