//! The loopback listener's reading of one connection's request: head, request line, callback query and checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| careid_core::fuzzing::callback_request(data));
