//! The client credential the broker holds for the organisation's registration: read once at
//! start from files only the broker's user can read, never sent anywhere but as client
//! authentication, never logged. For `private_key_jwt` its public half is the JWKS the broker
//! publishes (the "JWKS endpoint URI" CIS2 asks for), with a retiring key beside the current one
//! during a change.

use std::path::{Path, PathBuf};

use careid_oidc::IssuerKind;
use careid_oidc::{ClientAuth, ClientCredential, ClientSecret, PrivateKey, SecretString};
use serde_json::{json, Value};

use crate::config::ProviderConfig;

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("cannot read the credential file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the credential file {path} can be read by other users (mode {mode:o}): \
         make it readable by the broker's user only (chmod 600)"
    )]
    NotPrivate { path: PathBuf, mode: u32 },
    #[error("the credential file {path} holds no usable key: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("the credential file {path} is empty")]
    Empty { path: PathBuf },
}

/// The broker's credential, and the keys it publishes.
#[derive(Debug)]
pub struct BrokerCredential {
    credential: ClientCredential,
    /// The public JWKs to publish: the current key first, then the next and the retiring one.
    published: Vec<Value>,
}

impl BrokerCredential {
    pub fn load(config: &ProviderConfig) -> Result<Self, CredentialError> {
        let issuer = IssuerKind::of(&config.issuer);
        let key = |path: &Path| -> Result<PrivateKey, CredentialError> {
            let pem = read_private(path)?;
            PrivateKey::for_registration(
                pem.expose_secret(),
                issuer,
                None,
                config.signing_algorithm(),
            )
            .map_err(|error| CredentialError::Key {
                path: path.to_path_buf(),
                reason: error.to_string(),
            })
        };
        match config.client_auth {
            ClientAuth::PrivateKeyJwt => {
                let current = key(&config.credential_file)?;
                let mut published = vec![public_jwk(&current)];
                // The next key is published before it signs anything, so the provider has it by
                // the time it does; the previous one until the provider no longer needs it.
                for other in [
                    &config.next_credential_file,
                    &config.previous_credential_file,
                ]
                .into_iter()
                .flatten()
                {
                    published.push(public_jwk(&key(other)?));
                }
                Ok(Self {
                    credential: ClientCredential::PrivateKey(current),
                    published,
                })
            }
            _ => {
                let secret = read_private(&config.credential_file)?;
                let secret = ClientSecret::new(secret.expose_secret().trim().to_owned());
                if secret.expose_secret().is_empty() {
                    return Err(CredentialError::Empty {
                        path: config.credential_file.clone(),
                    });
                }
                Ok(Self {
                    credential: ClientCredential::Secret(secret),
                    published: Vec::new(),
                })
            }
        }
    }

    pub fn credential(&self) -> &ClientCredential {
        &self.credential
    }

    /// The JWK Set to publish (empty for a client secret): public members only.
    pub fn jwks(&self) -> Value {
        json!({ "keys": self.published })
    }
}

fn public_jwk(key: &PrivateKey) -> Value {
    serde_json::from_str(&key.public_jwk()).unwrap_or(Value::Null)
}

/// Reads `path`, refusing a file others can read (Unix): the credential is the one thing the
/// broker exists to keep.
pub(crate) fn read_private(path: &Path) -> Result<SecretString, CredentialError> {
    let read_error = |source| CredentialError::Read {
        path: path.to_path_buf(),
        source,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(read_error)?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(CredentialError::NotPrivate {
                path: path.to_path_buf(),
                mode: mode & 0o777,
            });
        }
    }
    std::fs::read_to_string(path)
        .map(SecretString::new)
        .map_err(read_error)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use base64::Engine as _;

    use super::*;

    const CIS2_INT: &str = "https://am.nhsint.auth-ptl.cis2.spineservices.nhs.uk:443/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare";
    const RSA_PEM: &str = include_str!("../../mock-cis2/data/test-keys/private-key-jwt-client.pem");

    fn file(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    fn config(client_auth: ClientAuth, credential_file: PathBuf) -> ProviderConfig {
        ProviderConfig {
            issuer: careid_oidc::IssuerUrl::new(CIS2_INT).expect("an issuer"),
            client_id: "123456789012.apps.national".into(),
            client_auth,
            credential_file,
            next_credential_file: None,
            previous_credential_file: None,
            assertion_algorithm: Some("RS512".parse().unwrap()),
        }
    }

    fn ec_pem() -> String {
        use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let der = key.to_pkcs8v1().unwrap();
        let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
        format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n")
    }

    #[test]
    fn a_key_publishes_its_public_half_and_a_retiring_key_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config(
            ClientAuth::PrivateKeyJwt,
            file(dir.path(), "key.pem", RSA_PEM, 0o600),
        );
        let one = BrokerCredential::load(&config).unwrap();
        let keys = one.jwks()["keys"].as_array().unwrap().clone();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0]["kty"], "RSA");
        assert_eq!(keys[0]["alg"], "RS512");
        assert_eq!(keys[0]["use"], "sig");
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(
                keys[0].get(private).is_none(),
                "{private} is never published"
            );
        }
        assert!(matches!(one.credential(), ClientCredential::PrivateKey(_)));

        config.previous_credential_file = Some(file(dir.path(), "old.pem", RSA_PEM, 0o400));
        let two = BrokerCredential::load(&config).unwrap();
        assert_eq!(two.jwks()["keys"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn a_credential_others_can_read_is_refused_naming_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        for mode in [0o644, 0o640, 0o604] {
            let path = file(dir.path(), "key.pem", RSA_PEM, mode);
            let error = BrokerCredential::load(&config(ClientAuth::PrivateKeyJwt, path))
                .unwrap_err()
                .to_string();
            assert!(error.contains("chmod 600"), "{mode:o}: {error}");
        }
    }

    #[test]
    fn an_ec_key_is_refused_for_cis2_and_a_secret_is_read_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let ec = file(dir.path(), "ec.pem", &ec_pem(), 0o600);
        let mut ec_config = config(ClientAuth::PrivateKeyJwt, ec);
        ec_config.assertion_algorithm = None;
        let error = BrokerCredential::load(&ec_config).unwrap_err().to_string();
        assert!(error.contains("RS256 or RS512"), "{error}");

        let secret = file(dir.path(), "secret", "  6b1f0e9d-2c4a\n", 0o600);
        let mut secret_config = config(ClientAuth::ClientSecretBasic, secret);
        secret_config.assertion_algorithm = None;
        let loaded = BrokerCredential::load(&secret_config).unwrap();
        match loaded.credential() {
            ClientCredential::Secret(secret) => assert_eq!(secret.expose_secret(), "6b1f0e9d-2c4a"),
            other => panic!("{other:?}"),
        }
        assert_eq!(loaded.jwks(), json!({"keys": []}));
        let empty = file(dir.path(), "empty", "\n", 0o600);
        let error =
            BrokerCredential::load(&config(ClientAuth::ClientSecretPost, empty)).unwrap_err();
        assert!(error.to_string().contains("empty"), "{error}");
    }
}
