//! Test PKIs built with rcgen: root and intermediate CAs, leaves they issue, self-signed
//! server certificates, and [`Pki`], the root -> intermediate -> leaf chain most tests serve.
//!
//! Every certificate gets a fresh key, so two leaves never share an SPKI pin by accident and
//! pin tests can tell them apart. Serial numbers are derived from that key by rcgen, which
//! keeps them unique as well.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SignatureAlgorithm,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

use super::LabError;

/// How long a lab CA is valid after its creation.
const CA_LIFETIME: Duration = Duration::days(3650);
/// How far back a lab CA's validity starts, so clock skew between processes does not matter.
const CA_BACKDATE: Duration = Duration::days(1);
/// Default leaf validity: [`LeafSpec::new`] starts it this far in the past.
const LEAF_BACKDATE: Duration = Duration::hours(1);
/// Default leaf validity: [`LeafSpec::new`] ends it this far in the future.
const LEAF_LIFETIME: Duration = Duration::days(90);

/// The key algorithm of a lab certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// ECDSA on P-256, signing with SHA-256.
    EcdsaP256,
    /// RSA with a 2048-bit modulus, signing with PKCS#1 v1.5 and SHA-256.
    Rsa2048,
}

impl KeyKind {
    fn algorithm(self) -> &'static SignatureAlgorithm {
        match self {
            KeyKind::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyKind::Rsa2048 => &rcgen::PKCS_RSA_SHA256,
        }
    }

    /// A fresh key pair of this kind (RSA generation needs the aws-lc-rs backend of rcgen).
    fn generate(self) -> Result<KeyPair, LabError> {
        Ok(KeyPair::generate_for(self.algorithm())?)
    }

    fn leaf_key_usages(self) -> Vec<KeyUsagePurpose> {
        match self {
            KeyKind::EcdsaP256 => vec![KeyUsagePurpose::DigitalSignature],
            // TLS 1.2 RSA key exchange encrypts to the leaf key.
            KeyKind::Rsa2048 => vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ],
        }
    }
}

/// A key pair made before the certificate it goes into. An RSA key takes tens of milliseconds
/// to generate (a prime search, so sometimes far more), against a fraction of one for ECDSA: a
/// caller in a hurry makes it on a thread of its own.
#[derive(Debug)]
pub struct LabKey(KeyPair);

impl LabKey {
    /// A fresh key of `kind`.
    pub fn generate(kind: KeyKind) -> Result<LabKey, LabError> {
        Ok(LabKey(kind.generate()?))
    }
}

/// A certificate authority of a lab PKI: its certificate, its key, and the intermediates
/// between it and its root.
#[derive(Debug)]
pub struct Ca {
    cert: CertificateDer<'static>,
    /// Kept to sign with: rcgen takes the issuer's name and key identifier from them.
    params: CertificateParams,
    key: KeyPair,
    /// The intermediates above this CA, leaf-side first, root excluded.
    parents: Vec<CertificateDer<'static>>,
    is_root: bool,
}

impl Ca {
    /// A self-signed root CA with the given CN and O: basic constraints CA, key usages
    /// keyCertSign and cRLSign, valid from one day ago to ten years from now.
    pub fn root(common_name: &str, organization: &str, key: KeyKind) -> Result<Ca, LabError> {
        let (not_before, not_after) = ca_validity();
        Ca::root_valid(common_name, organization, key, not_before, not_after)
    }

    /// A self-signed root CA as [`Ca::root`], valid from `not_before` to `not_after`: a chain
    /// whose CAs were made years ago looks like a public one (`pinprobe demo` uses it).
    pub fn root_valid(
        common_name: &str,
        organization: &str,
        key: KeyKind,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Ca, LabError> {
        Ca::root_with_key(
            common_name,
            organization,
            LabKey::generate(key)?,
            not_before,
            not_after,
        )
    }

    /// A self-signed root CA as [`Ca::root_valid`], with a key made beforehand.
    pub fn root_with_key(
        common_name: &str,
        organization: &str,
        key: LabKey,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Ca, LabError> {
        let params = ca_params(common_name, organization, not_before, not_after);
        let key = key.0;
        let cert = params.self_signed(&key)?.der().clone();
        Ok(Ca {
            cert,
            params,
            key,
            parents: Vec::new(),
            is_root: true,
        })
    }

    /// An intermediate CA signed by this CA, with the same extensions and validity as
    /// [`Ca::root`].
    pub fn intermediate(
        &self,
        common_name: &str,
        organization: &str,
        key: KeyKind,
    ) -> Result<Ca, LabError> {
        let (not_before, not_after) = ca_validity();
        self.intermediate_valid(common_name, organization, key, not_before, not_after)
    }

    /// An intermediate CA as [`Ca::intermediate`], valid from `not_before` to `not_after`.
    pub fn intermediate_valid(
        &self,
        common_name: &str,
        organization: &str,
        key: KeyKind,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Ca, LabError> {
        let mut params = ca_params(common_name, organization, not_before, not_after);
        params.use_authority_key_identifier_extension = true;
        let key = key.generate()?;
        let cert = params.signed_by(&key, &self.issuer())?.der().clone();
        Ok(Ca {
            cert,
            params,
            key,
            parents: self.issuing_chain(),
            is_root: false,
        })
    }

    /// This CA's certificate.
    pub fn der(&self) -> &CertificateDer<'static> {
        &self.cert
    }

    /// This CA's certificate as PEM, for `SSL_CERT_FILE` and friends.
    pub fn pem(&self) -> String {
        to_pem("CERTIFICATE", &self.cert)
    }

    /// This CA's private key as PKCS#8 PEM, for servers that sign with it (squid's ssl-bump).
    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    /// The certificates a server sends above a leaf this CA issued: this CA and the
    /// intermediates above it, leaf-side first, root excluded. Empty for a root CA.
    fn issuing_chain(&self) -> Vec<CertificateDer<'static>> {
        if self.is_root {
            return Vec::new();
        }
        let mut chain = Vec::with_capacity(1 + self.parents.len());
        chain.push(self.cert.clone());
        chain.extend(self.parents.iter().cloned());
        chain
    }

    /// Issues a server leaf: serverAuth EKU, SANs from `spec.names` (an IP literal becomes an
    /// IP SAN), CN `spec.common_name` or else the first name, O `spec.organization` if set,
    /// validity and key from `spec`.
    pub fn leaf(&self, spec: &LeafSpec) -> Result<Leaf, LabError> {
        let key = spec.key.generate()?;
        let mut params = leaf_params(spec)?;
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &self.issuer())?.der().clone();
        Ok(Leaf {
            cert,
            key: private_key(key),
            issuers: self.issuing_chain(),
        })
    }

    /// A self-signed server certificate that is not a CA, with the same contents as
    /// [`Ca::leaf`] would give it. Its chain is just the leaf.
    pub fn self_signed_leaf(spec: &LeafSpec) -> Result<Leaf, LabError> {
        let params = leaf_params(spec)?;
        let key = spec.key.generate()?;
        let cert = params.self_signed(&key)?.der().clone();
        Ok(Leaf {
            cert,
            key: private_key(key),
            issuers: Vec::new(),
        })
    }

    /// This CA (the same name and key) issued again by `parent`, valid from `not_before` to
    /// `not_after`: a CA certificate renewed while its key stays.
    pub fn reissued_by(
        &self,
        parent: &Ca,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Ca, LabError> {
        let mut params = self.params.clone();
        params.not_before = not_before;
        params.not_after = not_after;
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::try_from(self.key.serialize_der())?;
        let cert = params.signed_by(&key, &parent.issuer())?.der().clone();
        Ok(Ca {
            cert,
            params,
            key,
            parents: parent.issuing_chain(),
            is_root: false,
        })
    }

    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::from_params(&self.params, &self.key)
    }
}

/// What goes into a leaf certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeafSpec {
    /// Subject alternative names: DNS names, or IP literals which become IP SANs. The first
    /// one is also the CN, unless `common_name` is set.
    pub names: Vec<String>,
    /// The subject's CN when it is not the first name (any text: the hostile peers of the
    /// tests put control characters in it).
    pub common_name: Option<String>,
    /// The subject's O attribute, if any.
    pub organization: Option<String>,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// The key algorithm of the leaf.
    pub key: KeyKind,
    /// Carry a critical extension no client knows.
    pub unknown_critical_extension: bool,
}

impl LeafSpec {
    /// A spec for the given names, valid from an hour ago to 90 days from now, with an
    /// ECDSA P-256 key and no organization.
    pub fn new<S: Into<String>>(names: impl IntoIterator<Item = S>) -> LeafSpec {
        let now = OffsetDateTime::now_utc();
        LeafSpec {
            names: names.into_iter().map(Into::into).collect(),
            common_name: None,
            organization: None,
            not_before: now - LEAF_BACKDATE,
            not_after: now + LEAF_LIFETIME,
            key: KeyKind::EcdsaP256,
            unknown_critical_extension: false,
        }
    }
}

/// A server certificate, its private key, and the CA certificates that go above it.
#[derive(Debug)]
pub struct Leaf {
    /// The leaf certificate.
    pub cert: CertificateDer<'static>,
    /// The leaf's private key (PKCS#8).
    pub key: PrivateKeyDer<'static>,
    /// Issuing intermediates, leaf-side first, root excluded.
    issuers: Vec<CertificateDer<'static>>,
}

impl Leaf {
    /// The leaf followed by its issuing intermediates (root excluded), as a server sends it.
    pub fn chain(&self) -> Vec<CertificateDer<'static>> {
        let mut chain = Vec::with_capacity(1 + self.issuers.len());
        chain.push(self.cert.clone());
        chain.extend(self.issuers.iter().cloned());
        chain
    }

    /// The leaf certificate as PEM.
    pub fn pem(&self) -> String {
        to_pem("CERTIFICATE", &self.cert)
    }

    /// The leaf's private key as PKCS#8 PEM, for servers outside the process (nginx).
    pub fn key_pem(&self) -> String {
        to_pem("PRIVATE KEY", self.key.secret_der())
    }
}

impl Clone for Leaf {
    fn clone(&self) -> Leaf {
        Leaf {
            cert: self.cert.clone(),
            key: self.key.clone_key(),
            issuers: self.issuers.clone(),
        }
    }
}

/// CN of the root of every [`Pki`].
const PKI_ROOT_CN: &str = "Pinprobe Lab Root CA";
/// CN of the issuing intermediate of every [`Pki`].
const PKI_ISSUING_CN: &str = "Pinprobe Lab Issuing CA";
/// O of both CAs of every [`Pki`].
const PKI_ORG: &str = "Pinprobe Lab";

/// A private PKI as a well-configured server presents it: a root, an issuing intermediate,
/// and a leaf the intermediate signed. The root is what a client is given to trust; the
/// server sends [`Leaf::chain`] (leaf, intermediate).
#[derive(Debug)]
pub struct Pki {
    /// `Pinprobe Lab Root CA`, O `Pinprobe Lab`
    pub root: Ca,
    /// `Pinprobe Lab Issuing CA`, O `Pinprobe Lab`, signed by the root
    pub inter: Ca,
    /// the server's leaf, signed by the intermediate
    pub leaf: Leaf,
}

impl Pki {
    /// ECDSA P-256 CAs and a leaf for `names` as [`LeafSpec::new`] makes it.
    pub fn genuine(names: &[&str]) -> Result<Pki, LabError> {
        Pki::with_spec(KeyKind::EcdsaP256, &LeafSpec::new(names.iter().copied()))
    }

    /// CAs with keys of kind `ca_key` and a leaf made from `spec`.
    pub fn with_spec(ca_key: KeyKind, spec: &LeafSpec) -> Result<Pki, LabError> {
        let root = Ca::root(PKI_ROOT_CN, PKI_ORG, ca_key)?;
        let inter = root.intermediate(PKI_ISSUING_CN, PKI_ORG, ca_key)?;
        let leaf = inter.leaf(spec)?;
        Ok(Pki { root, inter, leaf })
    }
}

/// The default validity of a lab CA: from a day ago to ten years from now.
fn ca_validity() -> (OffsetDateTime, OffsetDateTime) {
    let now = OffsetDateTime::now_utc();
    (now - CA_BACKDATE, now + CA_LIFETIME)
}

fn ca_params(
    common_name: &str,
    organization: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = subject(Some(common_name), Some(organization));
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = not_before;
    params.not_after = not_after;
    params
}

fn leaf_params(spec: &LeafSpec) -> Result<CertificateParams, LabError> {
    // rcgen turns IP literals into IP SANs and everything else into DNS SANs.
    let mut params = CertificateParams::new(spec.names.clone())?;
    params.distinguished_name = subject(
        spec.common_name
            .as_deref()
            .or(spec.names.first().map(String::as_str)),
        spec.organization.as_deref(),
    );
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = spec.key.leaf_key_usages();
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = spec.not_before;
    params.not_after = spec.not_after;
    if spec.unknown_critical_extension {
        // a private arc nobody implements, marked critical: every client must reject it
        let mut extension =
            rcgen::CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 55555, 1], vec![5, 0]);
        extension.set_criticality(true);
        params.custom_extensions.push(extension);
    }
    Ok(params)
}

fn subject(common_name: Option<&str>, organization: Option<&str>) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    if let Some(cn) = common_name {
        name.push(DnType::CommonName, cn);
    }
    if let Some(o) = organization {
        name.push(DnType::OrganizationName, o);
    }
    name
}

fn private_key(key: KeyPair) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()))
}

/// RFC 7468 text with `\n` line ends, as the PEM files of OpenSSL, nginx and squid have them.
fn to_pem(label: &str, der: &[u8]) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new(label, der), config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::certificate::X509Certificate;
    use x509_parser::extensions::GeneralName;
    use x509_parser::oid_registry::{OID_KEY_TYPE_EC_PUBLIC_KEY, OID_PKCS1_RSAENCRYPTION};

    fn parse<'a>(der: &'a CertificateDer<'_>) -> X509Certificate<'a> {
        x509_parser::parse_x509_certificate(der.as_ref())
            .expect("lab certificate parses")
            .1
    }

    fn cn(cert: &X509Certificate<'_>) -> Option<String> {
        cert.subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_owned)
    }

    fn org(cert: &X509Certificate<'_>) -> Option<String> {
        cert.subject()
            .iter_organization()
            .next()
            .and_then(|o| o.as_str().ok())
            .map(str::to_owned)
    }

    #[test]
    fn root_is_a_self_signed_ca_valid_for_ten_years() {
        let root = Ca::root("Lab Root", "Lab Org", KeyKind::EcdsaP256).unwrap();
        let cert = parse(root.der());
        assert!(cert.is_ca());
        assert_eq!(cert.subject(), cert.issuer());
        assert_eq!(cn(&cert).as_deref(), Some("Lab Root"));
        assert_eq!(org(&cert).as_deref(), Some("Lab Org"));
        let usage = cert.key_usage().unwrap().unwrap().value;
        assert!(usage.key_cert_sign() && usage.crl_sign());
        let validity = cert.validity();
        let now = OffsetDateTime::now_utc().unix_timestamp();
        assert!(validity.not_before.timestamp() <= now - 86_000);
        assert!(validity.not_after.timestamp() >= now + 3649 * 86_400);
        assert!(root.issuing_chain().is_empty());
    }

    #[test]
    fn issuing_chain_lists_intermediates_leaf_side_first_without_root() {
        let root = Ca::root("Lab Root", "Lab", KeyKind::EcdsaP256).unwrap();
        let upper = root
            .intermediate("Lab Upper", "Lab", KeyKind::EcdsaP256)
            .unwrap();
        let lower = upper
            .intermediate("Lab Lower", "Lab", KeyKind::EcdsaP256)
            .unwrap();
        assert_eq!(upper.issuing_chain(), vec![upper.der().clone()]);
        assert_eq!(
            lower.issuing_chain(),
            vec![lower.der().clone(), upper.der().clone()]
        );
        assert_eq!(parse(lower.der()).issuer(), parse(upper.der()).subject());
        assert!(parse(lower.der()).is_ca());
    }

    #[test]
    fn intermediate_issued_leaf_chain_is_leaf_then_intermediate() {
        let root = Ca::root("Lab Root", "Lab", KeyKind::EcdsaP256).unwrap();
        let inter = root
            .intermediate("Lab Issuing", "Lab", KeyKind::EcdsaP256)
            .unwrap();
        let leaf = inter.leaf(&LeafSpec::new(["a.test"])).unwrap();
        assert_eq!(leaf.chain(), vec![leaf.cert.clone(), inter.der().clone()]);
        assert_eq!(parse(&leaf.cert).issuer(), parse(inter.der()).subject());
    }

    #[test]
    fn pki_is_root_intermediate_leaf_with_the_lab_names() {
        let pki = Pki::genuine(&["a.test", "127.0.0.1"]).unwrap();
        assert_eq!(cn(&parse(pki.root.der())).as_deref(), Some(PKI_ROOT_CN));
        assert_eq!(cn(&parse(pki.inter.der())).as_deref(), Some(PKI_ISSUING_CN));
        assert_eq!(org(&parse(pki.inter.der())).as_deref(), Some(PKI_ORG));
        assert_eq!(
            parse(pki.inter.der()).issuer(),
            parse(pki.root.der()).subject()
        );
        assert_eq!(
            pki.leaf.chain(),
            vec![pki.leaf.cert.clone(), pki.inter.der().clone()]
        );
        assert_eq!(cn(&parse(&pki.leaf.cert)).as_deref(), Some("a.test"));

        let mut spec = LeafSpec::new(["rsa.test"]);
        spec.key = KeyKind::Rsa2048;
        let rsa = Pki::with_spec(KeyKind::Rsa2048, &spec).unwrap();
        for der in [rsa.root.der(), rsa.inter.der(), &rsa.leaf.cert] {
            assert_eq!(
                parse(der).public_key().algorithm.algorithm,
                OID_PKCS1_RSAENCRYPTION
            );
        }
    }

    #[test]
    fn self_signed_leaf_is_not_a_ca_and_chains_alone() {
        let leaf = Ca::self_signed_leaf(&LeafSpec::new(["self.test"])).unwrap();
        assert_eq!(leaf.chain(), vec![leaf.cert.clone()]);
        let cert = parse(&leaf.cert);
        assert!(!cert.is_ca());
        assert_eq!(cert.subject(), cert.issuer());
    }

    #[test]
    fn leaf_carries_names_organization_usage_and_validity_from_spec() {
        let root = Ca::root("Lab Root", "Lab", KeyKind::EcdsaP256).unwrap();
        let mut spec = LeafSpec::new(["www.example.test", "127.0.0.1", "*.example.test"]);
        spec.organization = Some("Example Ltd".to_owned());
        spec.not_before = OffsetDateTime::from_unix_timestamp(1_600_000_000).unwrap();
        spec.not_after = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let leaf = root.leaf(&spec).unwrap();
        let cert = parse(&leaf.cert);
        assert_eq!(cn(&cert).as_deref(), Some("www.example.test"));
        assert_eq!(org(&cert).as_deref(), Some("Example Ltd"));
        assert!(!cert.is_ca());
        let sans = &cert.subject_alternative_name().unwrap().unwrap().value;
        assert_eq!(
            sans.general_names,
            vec![
                GeneralName::DNSName("www.example.test"),
                GeneralName::IPAddress(&[127, 0, 0, 1]),
                GeneralName::DNSName("*.example.test"),
            ]
        );
        assert!(
            cert.extended_key_usage()
                .unwrap()
                .unwrap()
                .value
                .server_auth
        );
        assert_eq!(cert.validity().not_before.timestamp(), 1_600_000_000);
        assert_eq!(cert.validity().not_after.timestamp(), 1_700_000_000);
    }

    #[test]
    fn cas_take_the_validity_they_are_given() {
        let from = OffsetDateTime::from_unix_timestamp(1_600_000_000).unwrap();
        let to = OffsetDateTime::from_unix_timestamp(2_000_000_000).unwrap();
        let root = Ca::root_valid("Old Root", "Lab", KeyKind::EcdsaP256, from, to).unwrap();
        let inter = root
            .intermediate_valid(
                "Old Issuing",
                "Lab",
                KeyKind::EcdsaP256,
                from + Duration::days(1),
                to - Duration::days(1),
            )
            .unwrap();
        let validity = |der| {
            let cert = parse(der);
            (
                cert.validity().not_before.timestamp(),
                cert.validity().not_after.timestamp(),
            )
        };
        assert_eq!(validity(root.der()), (1_600_000_000, 2_000_000_000));
        assert_eq!(
            validity(inter.der()),
            (1_600_000_000 + 86_400, 2_000_000_000 - 86_400)
        );
        assert_eq!(parse(inter.der()).issuer(), parse(root.der()).subject());
        assert_eq!(inter.issuing_chain(), vec![inter.der().clone()]);
    }

    #[test]
    fn default_spec_is_ecdsa_valid_now_for_ninety_days() {
        let spec = LeafSpec::new(["a.test"]);
        assert_eq!(spec.key, KeyKind::EcdsaP256);
        assert_eq!(spec.organization, None);
        assert_eq!(
            spec.not_after - spec.not_before,
            Duration::days(90) + Duration::hours(1)
        );
        let leaf = Ca::self_signed_leaf(&spec).unwrap();
        assert_eq!(
            parse(&leaf.cert).public_key().algorithm.algorithm,
            OID_KEY_TYPE_EC_PUBLIC_KEY
        );
    }

    #[test]
    fn rsa_keys_are_generated_for_cas_and_leaves() {
        let root = Ca::root("Lab RSA Root", "Lab", KeyKind::Rsa2048).unwrap();
        let mut spec = LeafSpec::new(["rsa.test"]);
        spec.key = KeyKind::Rsa2048;
        let leaf = root.leaf(&spec).unwrap();
        for der in [root.der(), &leaf.cert] {
            assert_eq!(
                parse(der).public_key().algorithm.algorithm,
                OID_PKCS1_RSAENCRYPTION
            );
        }
    }

    #[test]
    fn every_leaf_gets_a_fresh_key() {
        let root = Ca::root("Lab Root", "Lab", KeyKind::EcdsaP256).unwrap();
        let spec = LeafSpec::new(["same.test"]);
        let a = root.leaf(&spec).unwrap();
        let b = root.leaf(&spec).unwrap();
        assert_ne!(
            parse(&a.cert).public_key().raw,
            parse(&b.cert).public_key().raw
        );
        assert_ne!(a.key.secret_der(), b.key.secret_der());
    }

    #[test]
    fn pem_round_trips_to_the_same_der() {
        let root = Ca::root("Lab Root", "Lab", KeyKind::EcdsaP256).unwrap();
        let leaf = root.leaf(&LeafSpec::new(["a.test"])).unwrap();
        for (pem, der) in [(root.pem(), root.der()), (leaf.pem(), &leaf.cert)] {
            assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
            assert!(pem.lines().all(|line| line.len() <= 64));
            let (_, parsed) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
            assert_eq!(parsed.contents, der.as_ref());
        }
        let (_, key) = x509_parser::pem::parse_x509_pem(leaf.key_pem().as_bytes()).unwrap();
        assert_eq!(key.label, "PRIVATE KEY");
        assert_eq!(key.contents, leaf.key.secret_der());
    }

    #[test]
    fn invalid_name_is_an_error_not_a_panic() {
        let root = Ca::root("Lab Root", "Lab", KeyKind::EcdsaP256).unwrap();
        let err = root
            .leaf(&LeafSpec::new(["bad\u{e9}name.test"]))
            .unwrap_err();
        assert!(matches!(err, LabError::Certificate(_)));
    }
}
