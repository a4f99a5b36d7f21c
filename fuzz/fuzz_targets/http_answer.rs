#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pinprobe::fuzzing::http_answer(data));
