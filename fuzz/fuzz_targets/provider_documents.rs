//! The discovery document, the JWKS, and the cache files that keep them.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| careid_core::fuzzing::provider_documents(data));
