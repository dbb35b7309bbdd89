//! A throw-away certificate authority for tests (rcgen, ECDSA P-256).
//!
//! Each [`TestPki`] has its own freshly generated root, so certificates from one test never
//! validate against another test's root. Nothing here touches the system trust store.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use time::{Duration, OffsetDateTime};

/// Common name of every test root.
pub const TEST_CA_NAME: &str = "starttls-monitor Test Root CA";

/// A test root CA (ECDSA P-256) valid from a year ago to ten years from now.
pub struct TestPki {
    ca: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate chain and its private key, ready for `rustls::ServerConfig::with_single_cert`.
#[derive(Debug)]
pub struct TestCert {
    /// Leaf first, then the issuing CA if there is one.
    pub chain_der: Vec<CertificateDer<'static>>,
    /// The leaf's private key (PKCS#8).
    pub key_der: PrivateKeyDer<'static>,
}

impl Clone for TestCert {
    fn clone(&self) -> Self {
        TestCert {
            chain_der: self.chain_der.clone(),
            key_der: self.key_der.clone_key(),
        }
    }
}

/// The validity window of a generated leaf certificate, relative to now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validity {
    /// now - 1 day .. now + 90 days
    Current,
    /// now - 60 days .. now - 30 days
    Expired,
    /// now + 30 days .. now + 60 days
    NotYetValid,
}

impl Validity {
    /// Returns `(not_before, not_after)`.
    fn window(self) -> (OffsetDateTime, OffsetDateTime) {
        let now = now_whole_seconds();
        match self {
            Validity::Current => (now - Duration::days(1), now + Duration::days(90)),
            Validity::Expired => (now - Duration::days(60), now - Duration::days(30)),
            Validity::NotYetValid => (now + Duration::days(30), now + Duration::days(60)),
        }
    }
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}

impl TestPki {
    /// Generates a new root CA named [`TEST_CA_NAME`], valid now - 1 year .. now + 10 years.
    pub fn new() -> TestPki {
        let now = now_whole_seconds();
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, TEST_CA_NAME);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = now - Duration::days(365);
        params.not_after = now + Duration::days(3650);
        let ca_key = KeyPair::generate().expect("generating an ECDSA P-256 key for the test CA");
        let ca = CertifiedIssuer::self_signed(params, ca_key).expect("self-signing the test CA");
        TestPki { ca }
    }

    /// The CA certificate in PEM.
    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// The CA certificate in DER.
    pub fn ca_der(&self) -> CertificateDer<'static> {
        self.ca.der().clone()
    }

    /// A rustls root store that trusts only this CA.
    pub fn root_store(&self) -> rustls::RootCertStore {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(self.ca_der())
            .expect("the test CA is a valid trust anchor");
        roots
    }

    /// Writes the CA certificate to `dir/ca.pem` and returns that path.
    pub fn write_ca_file(&self, dir: &Path) -> PathBuf {
        let path = dir.join("ca.pem");
        std::fs::write(&path, self.ca_pem())
            .unwrap_or_else(|error| panic!("writing {}: {error}", path.display()));
        path
    }

    /// A leaf for `sans` signed by this CA; the chain is `[leaf, ca]`.
    ///
    /// The subject CN is the first SAN. SANs are DNS names (wildcards like `*.mx.test` work);
    /// a SAN that parses as an IP address becomes an IP SAN. Key usage is digitalSignature,
    /// extended key usage serverAuth. Panics when `sans` is empty.
    pub fn leaf(&self, sans: &[&str], validity: Validity) -> TestCert {
        let params = leaf_params(sans, validity, true);
        let leaf_key = KeyPair::generate().expect("generating an ECDSA P-256 leaf key");
        let leaf = params
            .signed_by(&leaf_key, &self.ca)
            .expect("signing a test leaf with the test CA");
        TestCert {
            chain_der: vec![leaf.der().clone(), self.ca_der()],
            key_der: PrivateKeyDer::from(leaf_key),
        }
    }

    /// A self-signed leaf for `sans` that no [`TestPki`] trusts; the chain is `[cert]`.
    ///
    /// Same names, key usages and validity rules as [`TestPki::leaf`].
    pub fn self_signed(sans: &[&str], validity: Validity) -> TestCert {
        let params = leaf_params(sans, validity, false);
        let key = KeyPair::generate().expect("generating an ECDSA P-256 key");
        let cert = params
            .self_signed(&key)
            .expect("self-signing a test certificate");
        TestCert {
            chain_der: vec![cert.der().clone()],
            key_der: PrivateKeyDer::from(key),
        }
    }
}

/// Parameters shared by CA-signed and self-signed leaves.
fn leaf_params(sans: &[&str], validity: Validity, ca_signed: bool) -> CertificateParams {
    let Some(first_san) = sans.first() else {
        panic!("a test certificate needs at least one SAN");
    };
    let san_list: Vec<String> = sans.iter().map(|san| (*san).to_owned()).collect();
    let mut params = CertificateParams::new(san_list)
        .unwrap_or_else(|error| panic!("invalid SAN in {sans:?}: {error}"));
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, *first_san);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = ca_signed;
    (params.not_before, params.not_after) = validity.window();
    params
}

/// Now, truncated to whole seconds (X.509 times have no fractions).
fn now_whole_seconds() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    OffsetDateTime::from_unix_timestamp(now.unix_timestamp())
        .expect("the current time is a valid timestamp")
}
