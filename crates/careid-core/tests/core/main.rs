//! careid-core at its boundaries, over real sockets.

mod loopback;
mod profiles;
mod session;
