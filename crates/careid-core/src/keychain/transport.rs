//! Secret Service's transport encryption, `dh-ietf1024-sha256-aes128-cbc-pkcs7`: a Diffie-Hellman
//! exchange in the 1024-bit MODP group of RFC 2409 §6.2, HKDF-SHA256 (no salt, no info) of the
//! shared secret padded to 128 bytes into an AES-128 key, and each secret sent AES-128-CBC with
//! PKCS#7 padding under a fresh random IV. This is what libsecret and gnome-keyring do.
//!
//! The private exponent and the IVs come from the OS CSPRNG (`getrandom`; aws-lc-rs's own
//! generator costs 40 ms to seed on first use, in every short-lived `careid` process), the
//! exponentiation is constant time (crypto-bigint) and the peer's public value is range-checked
//! before use.

use aws_lc_rs::cipher::{
    DecryptionContext, EncryptionContext, PaddedBlockDecryptingKey, PaddedBlockEncryptingKey,
    UnboundCipherKey, AES_128,
};
use aws_lc_rs::hkdf::{Salt, HKDF_SHA256};
use aws_lc_rs::iv::FixedLength;
use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{Odd, U1024};
use zeroize::{Zeroize, Zeroizing};

/// The Secret Service name of this algorithm.
pub(super) const ALGORITHM: &str = "dh-ietf1024-sha256-aes128-cbc-pkcs7";

/// The 1024-bit MODP group's prime (RFC 2409 §6.2, "Second Oakley Group"); the generator is 2.
const PRIME: [u8; GROUP_BYTES] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC9, 0x0F, 0xDA, 0xA2, 0x21, 0x68, 0xC2, 0x34,
    0xC4, 0xC6, 0x62, 0x8B, 0x80, 0xDC, 0x1C, 0xD1, 0x29, 0x02, 0x4E, 0x08, 0x8A, 0x67, 0xCC, 0x74,
    0x02, 0x0B, 0xBE, 0xA6, 0x3B, 0x13, 0x9B, 0x22, 0x51, 0x4A, 0x08, 0x79, 0x8E, 0x34, 0x04, 0xDD,
    0xEF, 0x95, 0x19, 0xB3, 0xCD, 0x3A, 0x43, 0x1B, 0x30, 0x2B, 0x0A, 0x6D, 0xF2, 0x5F, 0x14, 0x37,
    0x4F, 0xE1, 0x35, 0x6D, 0x6D, 0x51, 0xC2, 0x45, 0xE4, 0x85, 0xB5, 0x76, 0x62, 0x5E, 0x7E, 0xC6,
    0xF4, 0x4C, 0x42, 0xE9, 0xA6, 0x37, 0xED, 0x6B, 0x0B, 0xFF, 0x5C, 0xB6, 0xF4, 0x06, 0xB7, 0xED,
    0xEE, 0x38, 0x6B, 0xFB, 0x5A, 0x89, 0x9F, 0xA5, 0xAE, 0x9F, 0x24, 0x11, 0x7C, 0x4B, 0x1F, 0xE6,
    0x49, 0x28, 0x66, 0x51, 0xEC, 0xE6, 0x53, 0x81, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
];
const GROUP_BYTES: usize = 128;
const KEY_BYTES: usize = 16;

/// Why the exchange or a secret's encryption failed. Never carries key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(super) enum TransportError {
    #[error("the Secret Service sent an invalid Diffie-Hellman public value")]
    BadPeerKey,
    #[error("the system random generator failed")]
    Random,
    #[error("a secret from the Secret Service could not be decrypted")]
    Undecryptable,
    #[error("the AES transport key could not be used")]
    Cipher,
}

fn params() -> FixedMontyParams<{ U1024::LIMBS }> {
    let prime = Odd::new(U1024::from_be_slice(&PRIME))
        .into_option()
        .expect("the RFC 2409 prime is odd");
    FixedMontyParams::new_vartime(prime)
}

/// `base ^ exponent mod p`, in constant time with respect to the exponent.
fn power(base: &U1024, exponent: &U1024) -> U1024 {
    FixedMontyForm::new(base, &params())
        .pow(exponent)
        .retrieve()
}

fn to_bytes(value: &U1024) -> [u8; GROUP_BYTES] {
    let mut bytes = [0; GROUP_BYTES];
    bytes.copy_from_slice(value.to_be_bytes().as_ref());
    bytes
}

/// Our half of one exchange: the private exponent (wiped on drop) and the public value sent.
pub(super) struct Keypair {
    private: U1024,
    public: [u8; GROUP_BYTES],
}

impl Keypair {
    pub(super) fn generate() -> Result<Self, TransportError> {
        let mut random = Zeroizing::new([0u8; GROUP_BYTES]);
        getrandom::fill(random.as_mut()).map_err(|_| TransportError::Random)?;
        Self::from_private(&random)
    }

    /// The keypair of a given private exponent (random in use; fixed in known-answer tests).
    fn from_private(private: &[u8; GROUP_BYTES]) -> Result<Self, TransportError> {
        // A 1024-bit exponent reduced by nothing: any value in [2, 2^1024) is a valid exponent
        // for a safe-prime group; 0 and 1 (probability 2^-1023) would reveal it, so refuse them.
        let private = U1024::from_be_slice(private);
        if private <= U1024::ONE {
            return Err(TransportError::Random);
        }
        let public = to_bytes(&power(&U1024::from_u8(2), &private));
        Ok(Self { private, public })
    }

    /// The public value, big-endian, as OpenSession takes it.
    pub(super) fn public(&self) -> &[u8] {
        &self.public
    }

    /// The session key agreed with the service's public value.
    pub(super) fn agree(&self, peer_public: &[u8]) -> Result<SessionKey, TransportError> {
        // The service may drop leading zero bytes; anything longer than the group is not ours.
        if peer_public.len() > GROUP_BYTES {
            return Err(TransportError::BadPeerKey);
        }
        let mut padded = [0u8; GROUP_BYTES];
        padded[GROUP_BYTES - peer_public.len()..].copy_from_slice(peer_public);
        let peer = U1024::from_be_slice(&padded);
        // 0, 1 and p-1 force the shared secret into a tiny set; p and above are not in the group.
        let prime_minus_one = U1024::from_be_slice(&PRIME).wrapping_sub(&U1024::ONE);
        if peer <= U1024::ONE || peer >= prime_minus_one {
            return Err(TransportError::BadPeerKey);
        }
        let mut shared = Zeroizing::new(to_bytes(&power(&peer, &self.private)));
        let mut key = [0u8; KEY_BYTES];
        Salt::new(HKDF_SHA256, &[])
            .extract(shared.as_ref())
            .expand(&[], KeyLength)
            .and_then(|okm| okm.fill(&mut key))
            .map_err(|_| TransportError::Cipher)?;
        shared.zeroize();
        Ok(SessionKey { aes: Some(key) })
    }
}

impl Drop for Keypair {
    fn drop(&mut self) {
        self.private.zeroize();
    }
}

impl std::fmt::Debug for Keypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keypair { private: [redacted], .. }")
    }
}

struct KeyLength;

impl aws_lc_rs::hkdf::KeyType for KeyLength {
    fn len(&self) -> usize {
        KEY_BYTES
    }
}

/// How secrets cross the bus in one Secret Service session: AES under the agreed key, or in the
/// clear when the service offers only the `plain` algorithm (as libsecret also accepts).
pub(super) struct SessionKey {
    aes: Option<[u8; KEY_BYTES]>,
}

impl SessionKey {
    pub(super) fn plain() -> Self {
        Self { aes: None }
    }

    pub(super) fn is_encrypted(&self) -> bool {
        self.aes.is_some()
    }

    /// `(parameters, value)` of a Secret Service secret: the IV and the ciphertext.
    pub(super) fn encrypt(&self, secret: &[u8]) -> Result<(Vec<u8>, Vec<u8>), TransportError> {
        if !self.is_encrypted() {
            return Ok((Vec::new(), secret.to_vec()));
        }
        let mut iv = [0u8; 16];
        getrandom::fill(&mut iv).map_err(|_| TransportError::Random)?;
        self.encrypt_with_iv(secret, iv)
    }

    /// [`Self::encrypt`] under a given IV: fresh and random in use, fixed in known-answer tests.
    fn encrypt_with_iv(
        &self,
        secret: &[u8],
        iv: [u8; 16],
    ) -> Result<(Vec<u8>, Vec<u8>), TransportError> {
        let mut value = secret.to_vec();
        let Some(key) = &self.aes else {
            return Ok((Vec::new(), value));
        };
        let cipher = UnboundCipherKey::new(&AES_128, key)
            .and_then(PaddedBlockEncryptingKey::cbc_pkcs7)
            .map_err(|_| TransportError::Cipher)?;
        cipher
            .less_safe_encrypt(&mut value, EncryptionContext::Iv128(FixedLength::from(iv)))
            .map_err(|_| TransportError::Cipher)?;
        Ok((iv.to_vec(), value))
    }

    pub(super) fn decrypt(
        &self,
        parameters: &[u8],
        value: Vec<u8>,
    ) -> Result<Zeroizing<Vec<u8>>, TransportError> {
        let mut value = Zeroizing::new(value);
        let Some(key) = &self.aes else {
            return Ok(value);
        };
        let iv: [u8; 16] = parameters
            .try_into()
            .map_err(|_| TransportError::Undecryptable)?;
        let cipher = UnboundCipherKey::new(&AES_128, key)
            .and_then(PaddedBlockDecryptingKey::cbc_pkcs7)
            .map_err(|_| TransportError::Cipher)?;
        let length = cipher
            .decrypt(
                value.as_mut(),
                DecryptionContext::Iv128(FixedLength::from(iv)),
            )
            .map_err(|_| TransportError::Undecryptable)?
            .len();
        value.truncate(length);
        Ok(value)
    }
}

impl Drop for SessionKey {
    fn drop(&mut self) {
        if let Some(key) = &mut self.aes {
            key.zeroize();
        }
    }
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionKey")
            .field("encrypted", &self.is_encrypted())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_agree_on_one_key_and_a_secret_round_trips() {
        let ours = Keypair::generate().expect("keypair");
        let theirs = Keypair::generate().expect("keypair");
        assert_ne!(ours.public(), theirs.public(), "fresh randomness each time");
        let our_key = ours.agree(theirs.public()).expect("agreed");
        let their_key = theirs.agree(ours.public()).expect("agreed");

        let secret = b"a refresh token, longer than one AES block";
        let (iv, ciphertext) = our_key.encrypt(secret).expect("encrypted");
        assert_eq!(iv.len(), 16);
        assert_ne!(
            &ciphertext[..secret.len().min(ciphertext.len())],
            &secret[..]
        );
        assert_eq!(ciphertext.len() % 16, 0, "PKCS#7 pads to whole blocks");
        let plain = their_key.decrypt(&iv, ciphertext).expect("decrypted");
        assert_eq!(plain.as_slice(), secret);

        // Two encryptions of one secret differ: the IV is fresh.
        assert_ne!(
            our_key.encrypt(secret).unwrap(),
            our_key.encrypt(secret).unwrap()
        );
    }

    /// Known answers computed independently of this code, with Python 3.11: the key by the
    /// `secretstorage` 3.5.0 package's `dhcrypto.Session` (the same algorithm, written apart
    /// from libsecret) and cross-checked with `cryptography` 48's HKDF (SHA-256, no salt, empty
    /// info, 16 bytes); the ciphertext by `cryptography`'s AES-128-CBC and PKCS7 padder:
    ///
    /// ```text
    /// ours = int.from_bytes(bytes(range(1, 129)), 'big'); peer = pow(2, theirs, P)
    /// s = dhcrypto.Session(); s.my_private_key = ours; s.set_server_public_key(peer)
    /// shared = pow(peer, ours, P).to_bytes(128, 'big')
    /// assert s.aes_key == HKDF(SHA256(), 16, None, b'').derive(shared)
    /// ct = Cipher(AES(s.aes_key), CBC(bytes(range(16)))).encryptor() of PKCS7(128)(PLAIN)
    /// ```
    ///
    /// `theirs` is `bytes(range(128, 0, -1))` in the first case; in the second it is 1032, the
    /// first exponent from 2 up whose shared secret starts with a zero byte, and its public
    /// value starts with seven: the service may send it shortened, and the secret must still be
    /// padded to 128 bytes before HKDF.
    #[test]
    fn known_answers_match_an_independent_implementation() {
        const PLAIN: &[u8] = b"a refresh token, longer than one AES block";
        const OUR_PUBLIC: &str = "52893c96a07492593d36d00328ba21101c0ab104717cf1928b3890e1ecbd76e8\
            27e7ba7d589a03ef64f8f5648cea2b077409319013d832c41a04a3793eb4b73ca2a36306241de180ec36f5\
            cfbef207ba2e04a39f1384dce12b8ebe27b54dbf049be0abc80ebd4849976974b2be955c2c87ba11712576\
            887f5b96427a1d8fb2fd";
        struct Case {
            name: &'static str,
            peer_public: &'static str,
            shared: &'static str,
            key: &'static str,
            ciphertext: &'static str,
        }
        let cases = [
            Case {
                name: "ordinary",
                peer_public: "8233e7f47db2d5a995c478b5602e68afc0973d7e5c2b6d51dc5dd8c054e2d66d6a\
                    e1165f0b28ea00d22712dbeaf69636ec4457522e87203bd82d7a13de3c18bb8d331e66ced1e98b\
                    8cd70af623af250eefbd620aa647c3a66e5881965c07657900caa6b62edacb5f0de50f8e5b707f\
                    abbec581231d6da2619972592c5ee9d47c",
                shared: "9fb8869e9d3e84a24d6d2ce7b252ad715eef524701fa92e587e50f6e9af66d874ad6b39b\
                    dfc9b3340f6f8d6e1d274251d3aa5399ee5ee52051ce4536bb6842f475c539fc30065214e4518a\
                    dc7c936cc4c1df258225049c9f770d04e9e602389438b7f473a3f10ff12b595017839a8f958ad7\
                    e90fb2fd7169702c6ed2f69c6502",
                key: "7f55b77e9f4709437c118b972e882586",
                ciphertext: "da9e0b10eede581bf39033baad595316033787e83f73aa51aef5010adb77887bf3f0\
                    f0e5d35b80b3fdc4d5b1167bcdf6",
            },
            Case {
                name: "leading zero bytes, peer value shortened",
                peer_public: "36f0255dde973dcb3b399d747f23e32ed6fdb1f77598338bfdf44159c4ec64ddae\
                    b5f78671cbfb22106ae64c32c5bce4cfd4f5920da0ebc8b01eca9292ae3dba1b7a4a899da18139\
                    0bb3bd1659c81294f400a3490bf9481211c79404a576605a5160dbee83b4e019b6d799ae1319ac\
                    7e000000000000000100",
                shared: "004ed28528148adbf9651fbb7eb94b8a4a9a4f6b95797f3bc2d4cf3b480aa2608b060611\
                    29a38624bbe8e947eff956d5734b58a67841b35a9a24f52e0ba957a0fd87c9a62589fd7d14762f\
                    3e302a4365924aebb5a53c15934c9779838183659b5c97c4111072eb05cf482317c1cb32fd65f9\
                    c6db07db027f5d6724a2138a972e",
                key: "fcbb94a4123da8e3a71024126f40f51c",
                ciphertext: "6a419989a2400614cf0d3d2f1f303d2ef1fee901faaa013ba457df2db6603b38bb93\
                    38f6c9bd7f71bd8497ff3aba79ec",
            },
        ];
        let hex = |text: &str| -> Vec<u8> {
            let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
            digits
                .chunks(2)
                .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
                .collect()
        };
        let private: [u8; GROUP_BYTES] = std::array::from_fn(|i| i as u8 + 1);
        let ours = Keypair::from_private(&private).expect("keypair");
        assert_eq!(ours.public(), hex(OUR_PUBLIC), "our public value");
        let iv: [u8; 16] = std::array::from_fn(|i| i as u8);
        for case in cases {
            let name = case.name;
            let peer = hex(case.peer_public);
            let shared = to_bytes(&power(
                &U1024::from_be_slice(&[vec![0; GROUP_BYTES - peer.len()], peer.clone()].concat()),
                &ours.private,
            ));
            assert_eq!(shared.to_vec(), hex(case.shared), "{name}: shared secret");
            let key = ours.agree(&peer).expect("agreed");
            assert_eq!(
                key.aes.map(|k| k.to_vec()),
                Some(hex(case.key)),
                "{name}: key"
            );
            // Encrypting: the same bytes as the independent implementation.
            let (parameters, ciphertext) = key.encrypt_with_iv(PLAIN, iv).expect("encrypted");
            assert_eq!(parameters, iv, "{name}: the IV is the parameters");
            assert_eq!(ciphertext, hex(case.ciphertext), "{name}: ciphertext");
            // Decrypting what the independent implementation encrypted.
            let plain = key.decrypt(&iv, hex(case.ciphertext)).expect("decrypted");
            assert_eq!(plain.as_slice(), PLAIN, "{name}: plaintext");
        }
    }

    #[test]
    fn the_public_value_is_two_to_the_private_exponent() {
        // g^1 would be 2: check the arithmetic on a known exponent.
        let two = U1024::from_u8(2);
        assert_eq!(power(&two, &U1024::from_u8(10)), U1024::from_u32(1024));
        // Fermat: 2^(p-1) = 1 mod p for the prime p.
        let prime_minus_one = U1024::from_be_slice(&PRIME).wrapping_sub(&U1024::ONE);
        assert_eq!(power(&two, &prime_minus_one), U1024::ONE);
    }

    #[test]
    fn degenerate_peer_values_are_refused() {
        let ours = Keypair::generate().expect("keypair");
        let prime_minus_one = to_bytes(&U1024::from_be_slice(&PRIME).wrapping_sub(&U1024::ONE));
        let cases: &[(&str, Vec<u8>)] = &[
            ("empty", Vec::new()),
            ("zero", vec![0]),
            ("one", vec![1]),
            ("p - 1", prime_minus_one.to_vec()),
            ("p", PRIME.to_vec()),
            ("all ones", vec![0xFF; GROUP_BYTES]),
            ("too long", vec![0x01; GROUP_BYTES + 1]),
        ];
        for (name, peer) in cases {
            assert_eq!(
                ours.agree(peer).err(),
                Some(TransportError::BadPeerKey),
                "{name}"
            );
        }
        // A short value (leading zeros dropped) is still a valid peer.
        assert!(ours.agree(&[0x02; 100]).is_ok());
    }

    #[test]
    fn tampered_or_foreign_ciphertext_is_refused_not_misread() {
        let ours = Keypair::generate().expect("keypair");
        let theirs = Keypair::generate().expect("keypair");
        let key = ours.agree(theirs.public()).expect("agreed");
        let (iv, ciphertext) = key.encrypt(b"secret").expect("encrypted");
        assert_eq!(
            key.decrypt(&iv[..8], ciphertext.clone()).err(),
            Some(TransportError::Undecryptable),
            "an IV of the wrong size"
        );
        let other = theirs
            .agree(Keypair::generate().expect("keypair").public())
            .expect("agreed");
        // A wrong key almost always breaks the padding; when it does not, the text differs.
        match other.decrypt(&iv, ciphertext) {
            Err(error) => assert_eq!(error, TransportError::Undecryptable),
            Ok(plain) => assert_ne!(plain.as_slice(), b"secret"),
        }
    }

    #[test]
    fn plain_sessions_pass_secrets_unchanged_and_debug_shows_no_key() {
        let plain = SessionKey::plain();
        let (parameters, value) = plain.encrypt(b"abc").expect("plain");
        assert!(parameters.is_empty());
        assert_eq!(value, b"abc");
        assert_eq!(plain.decrypt(&[], value).unwrap().as_slice(), b"abc");

        let keypair = Keypair::generate().expect("keypair");
        let key = keypair.agree(&[0x05; 64]).expect("agreed");
        assert_eq!(format!("{key:?}"), "SessionKey { encrypted: true }");
        assert!(format!("{keypair:?}").contains("redacted"));
    }
}
