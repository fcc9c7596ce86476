//! The profiles file, read, validated and written back.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| careid_core::fuzzing::profiles_file(data));
