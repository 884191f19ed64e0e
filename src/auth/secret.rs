//! The secret that signs tokens: taken from the settings, or generated once
//! and kept in the data folder so restarts keep tokens valid.

use std::{
    fmt,
    fs::{self, OpenOptions},
    io::{self, Write},
    path::Path,
};

use rand::RngCore;

use crate::error::StartError;

/// Shorter secrets make HS256 tokens guessable offline.
pub const MIN_SECRET_BYTES: usize = 32;

/// File name of the generated secret inside the data folder.
pub const SECRET_FILE: &str = "jwt-secret";

/// Key material for signing tokens. Neither `Debug` nor anything else prints
/// it, and it is deliberately not `Serialize`.
#[derive(Clone)]
pub struct JwtSecret(Vec<u8>);

impl JwtSecret {
    /// The configured secret if there is one, else the one kept in
    /// `data_dir`, generating and saving it (mode 0600) on first start.
    pub fn load(configured: Option<&str>, data_dir: &Path) -> Result<Self, StartError> {
        if let Some(secret) = configured {
            return Self::from_configured(secret);
        }
        let path = data_dir.join(SECRET_FILE);
        let data_dir_error = |source| StartError::DataDir {
            path: path.clone(),
            source,
        };
        match fs::read_to_string(&path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim()).map_err(|_| {
                    StartError::Config(format!(
                        "{} is damaged (not hex); delete it to generate a new secret",
                        path.display()
                    ))
                })?;
                if bytes.len() < MIN_SECRET_BYTES {
                    return Err(StartError::Config(format!(
                        "{} holds fewer than {MIN_SECRET_BYTES} bytes; delete it to generate a new secret",
                        path.display()
                    )));
                }
                Ok(Self(bytes))
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                let mut bytes = vec![0u8; 64];
                rand::rng().fill_bytes(&mut bytes);
                write_private(&path, hex::encode(&bytes).as_bytes()).map_err(data_dir_error)?;
                Ok(Self(bytes))
            }
            Err(err) => Err(data_dir_error(err)),
        }
    }

    fn from_configured(secret: &str) -> Result<Self, StartError> {
        let len = secret.len();
        if len < MIN_SECRET_BYTES {
            return Err(StartError::Config(format!(
                "GIFTLIST_JWT_SECRET is {len} bytes; it must be at least {MIN_SECRET_BYTES} \
                 (for example the output of `openssl rand -hex 32`)"
            )));
        }
        Ok(Self(secret.as_bytes().to_vec()))
    }

    /// The key bytes, for the signer only.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtSecret(<hidden>)")
    }
}

/// Creates `path` readable by its owner only, failing if it already exists
/// so two instances starting at once cannot overwrite each other's secret.
/// Whether an offered secret (a bearer token from a request) is the
/// expected one, in time that does not depend on where they differ: both
/// are hashed first, so even their lengths do not show.
pub fn same_secret(offered: &str, expected: &str) -> bool {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    let (offered, expected) = (Sha256::digest(offered), Sha256::digest(expected));
    offered.ct_eq(&expected).into()
}

fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_configured_secret_is_refused_without_echoing_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = JwtSecret::load(Some("too-short-secret"), dir.path()).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("at least 32"), "{message}");
        assert!(!message.contains("too-short-secret"), "{message}");
    }

    #[test]
    fn generated_secret_is_kept_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let first = JwtSecret::load(None, dir.path()).unwrap();
        let second = JwtSecret::load(None, dir.path()).unwrap();
        assert_eq!(first.expose(), second.expose());
        assert_eq!(first.expose().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(SECRET_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn configured_secret_wins_and_is_hidden_in_debug() {
        let dir = tempfile::tempdir().unwrap();
        let secret = "a".repeat(40);
        let loaded = JwtSecret::load(Some(&secret), dir.path()).unwrap();
        assert_eq!(loaded.expose(), secret.as_bytes());
        assert!(!format!("{loaded:?}").contains("aaaa"));
        assert!(!dir.path().join(SECRET_FILE).exists());
    }
}
