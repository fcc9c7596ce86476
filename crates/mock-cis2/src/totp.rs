//! Time-based one-time passwords for the authenticator app step: RFC 6238 (TOTP, SHA-1, 30 s
//! steps, six digits) over RFC 4226 §5.3 truncation, with secrets in RFC 4648 §6 base32.

use aws_lc_rs::hmac;

/// The step of RFC 6238 §4.1 that authenticator apps use.
const STEP_SECONDS: u64 = 30;

/// Decodes unpadded or padded base32 (RFC 4648 §6), ignoring case and spaces as apps do.
pub(crate) fn decode_base32(text: &str) -> Option<Vec<u8>> {
    let mut bits: u64 = 0;
    let mut count = 0;
    let mut bytes = Vec::new();
    for character in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let value = match character.to_ascii_uppercase() {
            letter @ 'A'..='Z' => letter as u64 - 'A' as u64,
            digit @ '2'..='7' => digit as u64 - '2' as u64 + 26,
            _ => return None,
        };
        bits = (bits << 5) | value;
        count += 5;
        if count >= 8 {
            count -= 8;
            bytes.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    (!bytes.is_empty()).then_some(bytes)
}

/// The six-digit code of `secret` for the step containing `unix_time` (RFC 6238 §4.2).
pub(crate) fn code_at(secret: &[u8], unix_time: u64) -> String {
    let counter = unix_time / STEP_SECONDS;
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let tag = hmac::sign(&key, &counter.to_be_bytes());
    let digest = tag.as_ref();
    // RFC 4226 §5.3: dynamic truncation.
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", binary % 1_000_000)
}

/// Whether `code` is right for now or the step either side: RFC 6238 §5.2 allows one step of
/// delay, and a tester typing a code at a step boundary should not be refused.
pub(crate) fn accepts(secret: &[u8], code: &str, unix_time: u64) -> bool {
    let code = code.trim();
    code.len() == 6
        && [
            unix_time.saturating_sub(STEP_SECONDS),
            unix_time,
            unix_time + STEP_SECONDS,
        ]
        .iter()
        .any(|time| code_at(secret, *time) == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_rfc_6238_sha1_test_vectors() {
        // RFC 6238 Appendix B, SHA-1 seed, last six of the eight digits.
        let secret = b"12345678901234567890";
        let cases = [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ];
        for (time, expected) in cases {
            assert_eq!(code_at(secret, time), expected, "at {time}");
        }
    }

    #[test]
    fn base32_decodes_the_rfc_4648_vectors() {
        assert_eq!(decode_base32("MZXW6YTBOI======").unwrap(), b"foobar");
        assert_eq!(decode_base32("mzxw6ytb").unwrap(), b"fooba");
        assert!(decode_base32("not base32!").is_none());
    }

    #[test]
    fn accepts_one_step_either_side_and_refuses_others() {
        let secret = b"12345678901234567890";
        assert!(accepts(secret, "287082", 59 + 30));
        assert!(!accepts(secret, "287082", 59 + 90));
        assert!(!accepts(secret, "28708", 59));
    }
}
