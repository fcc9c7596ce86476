//! A keychain entry's head (inline value or header of parts) and the splitting of values into parts.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| careid_core::fuzzing::keychain_header(data));
