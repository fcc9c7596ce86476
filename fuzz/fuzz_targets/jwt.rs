//! Compact JWS decoding and verification, and the ID token and signed UserInfo checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| careid_core::fuzzing::jwt(data));
